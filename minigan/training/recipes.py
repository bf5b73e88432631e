"""Recipes: named, measured training configurations (`minigan train --recipe NAME`).

A recipe is data: the TrainConfig fields it sets (the rest keep their defaults), the papers
it follows, and what it measured on this project's scorer (`minigan eval`: 2,500 samples,
noise seed 0; real digits score IS 9.88, FD 12.5) with the CPU minutes of one core it
took. benchmarks/recipes.py reruns a recipe over seeds and writes the figures into
benchmarks/QUALITY.md and the README; `minigan recipes` lists them.

Flags given beside a recipe override its settings (TrainConfig.from_recipe). The run
records the recipe's name (TrainConfig.recipe, saved in every checkpoint) and its whole
resolved configuration, so `overrides(config)` tells later (resume, eval) which settings
differed from the recipe.
"""
import dataclasses

__all__ = ["Recipe", "RECIPES", "recipe_settings", "overrides", "listing"]


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    summary: str  # one line: what it trains
    papers: str
    settings: dict  # TrainConfig fields
    measured: str  # the figure, with its seeds and what scored it
    cpu: str  # CPU cost on one core of this project's machine (benchmarks/QUALITY.md)


WGAN_GP = dict(loss="wgan", gp=10.0, d_steps=5, lr=2e-4, beta1=0.5, beta2=0.9)

RECIPES = {r.name: r for r in [
    Recipe("default", "the original GAN on the MLP GAN, digits (the run with no flags)",
           "Goodfellow et al. 2014; DCGAN's Adam settings, Radford et al. 2015",
           dict(model="mlp", dataset="mnist-sample", steps=4000),
           "last.npz, seeds 0-2: FD 660 (589-739), IS 6.68 (6.42-6.91) at 4,000 steps "
           "(FD 180 at 12,000, seed 0)", "1.9 min (1.8-1.9)"),
    Recipe("wgan-gp", "WGAN-GP on the MLP GAN, digits, 12,000 G steps",
           "Gulrajani et al. 2017 (lambda 10, 5 critic steps, Adam betas (0.5, 0.9))",
           dict(model="mlp", dataset="mnist-sample", steps=12000, **WGAN_GP),
           "last.npz, seeds 0-2: FD 62.0 (59.2-67.5), IS 8.66 (8.63-8.70) at 12,000 steps",
           "20.6 min (20.0-21.0)"),
    Recipe("wgan-gp-dcgan", "WGAN-GP on DCGAN-28 (a critic without BatchNorm), digits",
           "Gulrajani et al. 2017; Radford et al. 2015",
           dict(model="dcgan", dataset="mnist-sample", steps=2000, **WGAN_GP),
           "last.npz, seeds 0-2: FD 243 (213-270), IS 7.74 (7.63-7.85) at 2,000 steps",
           "31.2 min (30.4-32.2)"),
    Recipe("r1", "the original GAN with the R1 penalty on the MLP GAN, digits: the cheapest "
           "strong method", "Mescheder et al. 2018 (gamma 10)",
           dict(model="mlp", dataset="mnist-sample", steps=2000, r1=10.0),
           "FD 540 (525-559), IS 6.41 at 2,000 steps (seeds 0-2, 2026-12-05; seed 0 had FD "
           "430 on 2026-12-02's code and machine)", "1.2 min"),
    Recipe("projection", "the conditional MLP GAN with the projection discriminator",
           "Miyato & Koyama 2018 (G with conditional BatchNorm)",
           dict(model="cmlp", dataset="mnist-sample", conditioning="projection", steps=8000),
           "last.npz, seeds 0-2: label accuracy 0.975 (0.970-0.979), worst digit 0.919 "
           "(0.884-0.948), FD 65.3 (63.5-68.5), IS 9.57", "4.5 min (4.4-4.6)"),
    Recipe("acgan", "the conditional MLP GAN with an auxiliary classifier in D",
           "Odena et al. 2017", dict(model="cmlp", dataset="mnist-sample",
                                     conditioning="acgan", steps=12000),
           "last.npz, seeds 0-2: label accuracy 0.970 (0.965-0.973), worst digit 0.936 "
           "(0.932-0.940), FD 70.9 (66.0-75.3), IS 9.51", "6.0 min (6.0-6.1)"),
    Recipe("ring8", "the 2-D toy: 8 Gaussians on a ring, toy MLPs, batch 256, lr 1e-3",
           "Metz et al. 2017 (the ring); Goodfellow et al. 2014",
           dict(model="mlp", dataset="ring8", steps=4000, batch_size=256, lr=1e-3,
                eval_every=1000),
           "best.npz, seeds 0-2: 8 of 8 modes, 94.5% (93.5-95.5%) of samples near a mode",
           "0.9 min (0.9-1.0)"),
    Recipe("grid25", "the 2-D toy: a 5 x 5 grid of Gaussians, toy MLPs, batch 256, lr 1e-3",
           "Srivastava et al. 2017 (the grid); Goodfellow et al. 2014",
           dict(model="mlp", dataset="grid25", steps=4000, batch_size=256, lr=1e-3,
                eval_every=1000),
           "best.npz, seeds 0-2: 22.7 (18-25) of 25 modes, 80.8% (77.4-84.1%) of samples "
           "near a mode", "0.9 min (0.9-0.9)"),
    Recipe("digits", "the best unconditional digits measured: the original GAN with the R1 "
           "penalty and an EMA of G on the MLP GAN, 30,000 steps, the best checkpoint kept",
           "Mescheder et al. 2018 (R1, gamma 10); Yazici et al. 2019 (EMA)",
           dict(model="mlp", dataset="mnist-sample", steps=30000, r1=10.0, ema=0.999,
                eval_every=2000),
           "best.npz, seeds 0-2: FD 26.2 (22.2-28.7), IS 9.03 (9.01-9.07)",
           "18.0 min (17.2-18.5)"),
    Recipe("digits-conditional", "the best conditional digits: the projection discriminator "
           "with the hinge loss, the R1 penalty and an EMA of G, 14,000 steps, the best "
           "checkpoint kept",
           "Miyato & Koyama 2018 (projection); Lim & Ye 2017, Miyato et al. 2018 (hinge); "
           "Mescheder et al. 2018 (R1, gamma 10); Yazici et al. 2019 (EMA)",
           dict(model="cmlp", dataset="mnist-sample", conditioning="projection", steps=14000,
                loss="hinge", r1=10.0, ema=0.999, eval_every=1000),
           "best.npz, seeds 0-2: FD 29.1 (28.0-30.3), IS 9.71, label accuracy 0.982 "
           "(0.980-0.986), worst digit 0.949 (0.928-0.964)", "9.9 min (9.6-10.3)"),
]}


def recipe_settings(name, **flags):
    """The TrainConfig fields of recipe `name` with `flags` (fields) overriding it, and the
    recipe's name recorded (TrainConfig.from_recipe makes the config)."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}: choose one of {', '.join(RECIPES)}")
    return {**RECIPES[name].settings, **flags, "recipe": name}


def overrides(config):
    """{field: (the recipe's value, the run's)} where a run (a TrainConfig, or a config dict
    as checkpoints store it) differs from its recipe; {} without a recipe or without
    differences."""
    values = config if isinstance(config, dict) else dataclasses.asdict(config)
    recipe = RECIPES.get(values.get("recipe"))
    if recipe is None:
        return {}
    return {k: (v, values.get(k)) for k, v in recipe.settings.items() if values.get(k) != v}


def listing():
    """`minigan recipes`: each recipe with its command, settings, papers and figures."""
    lines = []
    for r in RECIPES.values():
        flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in r.settings.items())
        lines += [f"{r.name}: {r.summary}", f"    settings: {flags}", f"    papers: {r.papers}",
                  f"    measured: {r.measured}", f"    CPU (one core): {r.cpu}", ""]
    return "\n".join(lines).rstrip() + "\n"
