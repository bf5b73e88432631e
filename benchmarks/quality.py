"""Measured quality: the same GAN run trained by minigan and by its PyTorch twin, scored alike.

    python -m benchmarks.quality --config mlp [--config dcgan ...] [--json runs.jsonl]
    python -m benchmarks.quality --model mlp --dataset mnist-sample --steps 4000 --seed 0
    python -m benchmarks.quality --report runs.jsonl        (the markdown table of a file)

Both engines start from minigan's initialisation for the seed (copied into the twin,
twins.py) and use the same Adam (lr, betas, eps; one per network), the same method (the
loss pair, penalty, clipping and EMA of --loss/--gp/...: twins.TorchGAN mirrors
minigan.methods), the same k D-steps per G step, the same real batches in the same order
and the same noise: step s's inputs are drawn once, by minigan's own pipeline exactly as
minigan train draws them (GANUpdater.draw: RealBatches, Generator seeded [seed, s],
draw_noise, WGAN-GP's interpolation weights), and handed to both engines as numpy arrays.
The engine is the only difference. Each G (its EMA copy with --ema) is then scored as
`minigan eval` scores a checkpoint: 2,500 samples from noise seeded 0, G in eval mode,
minigan.evaluation.metrics.evaluate_samples; the twin's weights are loaded back into a minigan G for
that, so the scoring code is one and the same.

Float32 training is chaotic: rounding differences of 1e-7 grow until the two runs' weights
are unrelated, which is why the runs are compared by their metrics; the relative distance
||theta_minigan - theta_torch|| / ||theta_minigan|| is reported along the way. `exactness`
runs a few steps in float64 first, where both must agree to ~1e-10: the twin computes the
same thing. Times are each engine's training loop alone, one thread each (no sample grids,
checkpoints or scoring inside), including the shared input drawing both loops do.
"""
import argparse
import dataclasses
import json
import os
import sys
import time

from .machine import set_thread_env

if __name__ == "__main__":  # OpenBLAS reads its thread count when numpy is imported: first
    set_thread_env(1)

import numpy as np  # noqa: E402

EVAL_SEED = 0  # `minigan eval`'s default --seed
SNAPSHOT_STEPS = (1, 10, 100, 1000)  # where the parameter distance is measured (and the end)
CONFIGS = {  # name: the TrainConfig fields that differ from the defaults
    "mlp": dict(model="mlp", dataset="mnist-sample", steps=4000),
    "cmlp": dict(model="cmlp", dataset="mnist-sample", steps=4000),
    "dcgan": dict(model="dcgan", dataset="mnist-sample", steps=1000),
    "cdcgan": dict(model="cdcgan", dataset="mnist-sample", steps=1000),
    "ring8-s0": dict(model="mlp", dataset="ring8", steps=4000, seed=0),
    "ring8-s1": dict(model="mlp", dataset="ring8", steps=4000, seed=1),
    "ring8-s2": dict(model="mlp", dataset="ring8", steps=4000, seed=2),
    "grid25": dict(model="mlp", dataset="grid25", steps=4000),
    "mlp-long": dict(model="mlp", dataset="mnist-sample", steps=12000),
    "dcgan-long": dict(model="dcgan", dataset="mnist-sample", steps=3000),
    # GAN methods (minigan/methods). WGAN-GP on the toys with the paper's settings
    # (Gulrajani et al. 2017, gan_toy.py: lambda 0.1, 5 critic steps, Adam betas (0.5, 0.9));
    # its lr 1e-4 over 100,000 steps does not fit here: minigan's ring8 lr 1e-3 instead.
    "ring8-wgan-gp": dict(model="mlp", dataset="ring8", steps=4000, loss="wgan", gp=0.1,
                          d_steps=5, beta2=0.9),
    "grid25-wgan-gp": dict(model="mlp", dataset="grid25", steps=4000, loss="wgan", gp=0.1,
                           d_steps=5, beta2=0.9),
    "ring8-hinge-sn": dict(model="mlp", dataset="ring8", steps=4000, loss="hinge",
                           spectral_norm=True),
    "mlp-lsgan": dict(model="mlp", dataset="mnist-sample", steps=4000, loss="lsgan"),
    "mlp-hinge-sn": dict(model="mlp", dataset="mnist-sample", steps=4000, loss="hinge",
                         spectral_norm=True),
    "mlp-ema": dict(model="mlp", dataset="mnist-sample", steps=4000, ema=0.999),
    "mlp-wgan-gp": dict(model="mlp", dataset="mnist-sample", steps=4000, loss="wgan", gp=10.0,
                        d_steps=5, beta2=0.9),
    "dcgan-hinge-sn": dict(model="dcgan", dataset="mnist-sample", steps=1000, loss="hinge",
                           spectral_norm=True),
    "dcgan-lsgan": dict(model="dcgan", dataset="mnist-sample", steps=1000, loss="lsgan"),
    # a stress case: DCGAN-28 at lr 1e-3 (5x DCGAN's), where the original GAN is fragile
    "dcgan-lr1e-3": dict(model="dcgan", dataset="mnist-sample", steps=1000, lr=1e-3),
    "dcgan-lr1e-3-hinge-sn": dict(model="dcgan", dataset="mnist-sample", steps=1000, lr=1e-3,
                                  loss="hinge", spectral_norm=True),
    "dcgan-lr1e-3-lsgan": dict(model="dcgan", dataset="mnist-sample", steps=1000, lr=1e-3,
                               loss="lsgan"),
    "dcgan-lr1e-3-ttur": dict(model="dcgan", dataset="mnist-sample", steps=1000, lr_d=1e-3,
                              lr_g=2.5e-4, loss="hinge", spectral_norm=True),
    # conditioning schemes (minigan/methods/conditioning.py), at cmlp's and cdcgan's steps
    "cmlp-acgan": dict(model="cmlp", dataset="mnist-sample", steps=4000, conditioning="acgan"),
    "cmlp-projection": dict(model="cmlp", dataset="mnist-sample", steps=4000,
                            conditioning="projection"),
    "cdcgan-acgan": dict(model="cdcgan", dataset="mnist-sample", steps=1000,
                         conditioning="acgan"),
    "cdcgan-projection": dict(model="cdcgan", dataset="mnist-sample", steps=1000,
                              conditioning="projection"),
}
# The metrics shown in the table, by data kind (evaluate_samples returns a few more).
SHOWN = {"image": ("inception_score", "class_entropy", "frechet_distance", "label_accuracy",
                   "label_accuracy_worst"),
         "points": ("modes", "high_quality", "mode_entropy", "label_accuracy")}
SHORT = {"inception_score": "IS", "class_entropy": "class entropy", "frechet_distance": "FD",
         "label_accuracy": "label accuracy", "label_accuracy_worst": "worst class", "modes": "modes", "high_quality": "high quality",
         "mode_entropy": "mode entropy"}


# ----------------------------------------------------------------------------- one run's data
@dataclasses.dataclass
class Setup:
    """A validated TrainConfig and what both engines share: data, batches, model spec."""

    config: object
    dataset: object
    real: object  # minigan.data.batches.RealBatches on the CPU
    spec: dict  # the build_gan arguments (training.setup.model_spec_for)


def prepare(config):
    """The Setup of a run, as minigan.training.setup prepares it (CPU, default dtype)."""
    from minigan.data import datasets as data
    from minigan.data.batches import RealBatches
    from minigan.models import model_entry
    from minigan.training.setup import model_spec_for, resolve_steps

    config = dataclasses.replace(config, device="cpu").validate()
    dataset = data.load_dataset(config.dataset, image_size=config.image_size,
                                channels=config.channels)
    real = RealBatches(dataset, config.batch_size, config.seed, "cpu",
                       with_labels=model_entry(config.model).conditional)
    config = dataclasses.replace(config, steps=resolve_steps(config, real.per_epoch), epochs=None)
    return Setup(config, dataset, real, model_spec_for(config, dataset))


def build_minigan(setup):
    """Fresh G and D with minigan's initialisation for the run's seed (models.build_models)."""
    from minigan.models import build_models

    spec = dict(setup.spec)
    if spec.get("image_shape") is not None:
        spec["image_shape"] = tuple(spec["image_shape"])
    return build_models(spec, "cpu", setup.config.seed)


def step_inputs(setup, G, step):
    """Every array that step `step` of minigan train draws (GANUpdater.draw, the one place
    it does), as numpy arrays: ([(x, real_labels, z, fake_labels, eps)] * d_steps,
    (z, fake_labels)); labels and eps may be None."""
    from minigan.methods import build_method
    from minigan.training import GANUpdater, StepSettings

    def raw(t):
        return None if t is None else t._data

    method = build_method(setup.config, G, None, G)  # only its penalty's needs are read
    inputs = GANUpdater(G, None, None, None, setup.real, StepSettings.of(setup.config),
                        method).draw(step)
    d_inputs = [(raw(b.x), raw(b.real_labels), raw(b.z), raw(b.fake_labels), raw(b.eps))
                for b in inputs.d_batches]
    return d_inputs, (raw(inputs.z), raw(inputs.fake_labels))


# ----------------------------------------------------------------------------- the two steps
def minigan_step(updater, inputs, dtype):
    """One step of minigan train on given inputs: the GANUpdater's own D and G steps."""
    from minigan.tensor import Tensor
    from minigan.training.updater import DBatch

    def x_(a):
        return None if a is None else Tensor(a.astype(dtype, copy=False))

    def y_(labels):
        return None if labels is None else Tensor(labels)

    d_inputs, (z, fake_labels) = inputs
    for x, real_labels, d_z, d_fake_labels, eps in d_inputs:
        loss_d, *_ = updater.discriminator_step(
            DBatch(x_(x), y_(real_labels), x_(d_z), y_(d_fake_labels), x_(eps)))
    loss_g, _ = updater.generator_step(x_(z), y_(fake_labels))
    return loss_d.item(), loss_g.item()


# ----------------------------------------------------------------------------- training
def parameter_vector(model):
    """Every parameter, flattened in name order, as one float64 host vector."""
    arrays = {}
    for name, p in model.named_parameters():
        arrays[name] = p.detach().numpy()  # the same call on both engines' tensors
    return np.concatenate([arrays[k].ravel().astype(np.float64) for k in sorted(arrays)])


def train_engine(engine, setup, dtype=np.float32, snapshot_steps=SNAPSHOT_STEPS, log=None):
    """Train `engine` ("minigan" or "torch") for setup.config.steps steps.

    Returns a dict: G and D (minigan modules, or the torch twins), G_sample (the EMA copy
    of G with --ema, else G: what minigan eval scores), seconds (the loop alone, wall
    clock) and cpu_seconds (its process CPU time: on a shared machine the steadier of the
    two), losses [(loss_d, loss_g)] per step, snapshots {step: (G vector, D vector)}."""
    from minigan.methods import build_method
    from minigan.optim import Adam
    from minigan.training import GANUpdater, StepSettings, make_optimizers

    from .twins import TorchGAN, torch_twin

    config = setup.config
    G, D = build_minigan(setup)
    noise_model = G  # GANUpdater.draw reads G.nz and G.conditional only
    G_ema = build_minigan(setup)[0] if config.ema is not None else None  # a copy of G
    if engine == "torch":
        G, D = torch_twin(G), torch_twin(D)
        G_ema = None if G_ema is None else torch_twin(G_ema)
        if dtype == np.float64:
            G, D = G.double(), D.double()
            G_ema = None if G_ema is None else G_ema.double()
        twin = TorchGAN(G, D, config, G_ema)

        def step_fn(inputs):
            return twin.step(inputs, dtype)
    else:
        if dtype == np.float64:
            G, D = G.double(), D.double()
            G_ema = None if G_ema is None else G_ema.double()
        opt_g, opt_d = make_optimizers(G, D, config)
        assert isinstance(opt_g, Adam)
        updater = GANUpdater(G, D, opt_g, opt_d, setup.real, StepSettings.of(config),
                             build_method(config, G, D, G_ema))

        def step_fn(inputs):
            return minigan_step(updater, inputs, dtype)
    losses, snapshots, seconds, cpu_seconds = [], {}, 0.0, 0.0
    for step in range(1, config.steps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        inputs = step_inputs(setup, noise_model, step)
        losses.append(step_fn(inputs))
        seconds += time.perf_counter() - t0
        cpu_seconds += time.process_time() - c0
        if step in snapshot_steps or step == config.steps:
            snapshots[step] = (parameter_vector(G), parameter_vector(D))
        if log and (step % 500 == 0 or step == config.steps):
            log(f"  {engine} step {step}/{config.steps}: loss_d {losses[-1][0]:.4f}, "
                f"loss_g {losses[-1][1]:.4f}, {seconds:.1f} s")
    return {"G": G, "D": D, "G_sample": G if G_ema is None else G_ema, "seconds": seconds,
            "cpu_seconds": cpu_seconds, "losses": np.array(losses), "snapshots": snapshots}


# ----------------------------------------------------------------------------- scoring
def score(G, setup):
    """minigan eval's numbers for G: 2,500 samples from noise seeded 0, G in eval mode."""
    from minigan.evaluation import metrics
    from minigan.cli.main import DEFAULT_EVAL_SAMPLES
    from minigan.evaluation.sampling import draw_samples

    samples, labels = draw_samples(G, DEFAULT_EVAL_SAMPLES, EVAL_SEED, "cpu")
    scores = metrics.evaluate_samples(samples, setup.dataset.kind, setup.config.dataset,
                                      labels=labels)
    return {k: float(v) for k, v in scores.items()}, samples, labels


def minigan_copy(twin_g, setup):
    """A minigan G holding the twin's weights and running statistics."""
    G, _ = build_minigan(setup)
    G.load_state_dict({k: v.detach().numpy() for k, v in twin_g.state_dict().items()})
    return G


def twin_samples(twin_g, nz, labels):
    """The twin's own samples from draw_samples' noise (eval mode), to check the copy."""
    import torch

    from minigan.backend import Generator
    from minigan.cli.main import DEFAULT_EVAL_SAMPLES
    from minigan.creation import randn

    z = randn(DEFAULT_EVAL_SAMPLES, nz, generator=Generator("cpu", EVAL_SEED))  # as draw_samples
    twin_g.eval()
    with torch.no_grad():
        y = None if labels is None else torch.from_numpy(labels)
        out = twin_g(torch.from_numpy(z.numpy()), y).numpy()
    twin_g.train()
    return out


# ----------------------------------------------------------------------------- the checks
def exactness(config, steps=3):
    """Both engines for `steps` steps in float64 from the same start: the largest
    difference of their losses (every step), and of their parameters at the end."""
    setup = prepare(dataclasses.replace(config, steps=steps))
    runs = {e: train_engine(e, setup, np.float64, snapshot_steps=()) for e in ("minigan", "torch")}
    m, t = runs["minigan"], runs["torch"]
    loss_diff = float(np.abs(m["losses"] - t["losses"]).max())
    (mg, md), (tg, td) = m["snapshots"][steps], t["snapshots"][steps]
    param_diff = float(max(np.abs(mg - tg).max(), np.abs(md - td).max()))
    return {"steps": steps, "max_loss_diff": loss_diff, "max_param_diff": param_diff,
            "losses_minigan": m["losses"].tolist(), "losses_torch": t["losses"].tolist()}


def relative_distance(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(a))


def first_loss_split(m_losses, t_losses, rtol=1e-2):
    """The first step whose losses differ by more than rtol (relative), or None."""
    far = np.abs(m_losses - t_losses) > rtol * np.abs(m_losses)
    rows = np.nonzero(far.any(axis=1))[0]
    return int(rows[0]) + 1 if len(rows) else None


def compare(config, check_steps=3, log=None):
    """One configuration on both engines: a JSON-able record of every measured number."""
    record = {"config": {k: v for k, v in dataclasses.asdict(config).items()
                         if k in ("model", "dataset", "steps", "seed", "batch_size", "lr",
                                  "beta1", "beta2", "d_steps", "g_loss", "nz", "loss", "gp",
                                  "r1", "clip", "spectral_norm", "ema", "lr_d", "lr_g",
                                  "conditioning")}}
    if check_steps:
        record["float64_check"] = {k: v for k, v in exactness(config, check_steps).items()
                                   if not k.startswith("losses")}
        if log:
            log(f"  float64 check: {record['float64_check']}")
    setup = prepare(config)
    record["config"].update(steps=setup.config.steps, batch_size=setup.config.batch_size,
                            lr=setup.config.lr)
    runs = {}
    for engine in ("minigan", "torch"):
        runs[engine] = train_engine(engine, setup, log=log)
        record[f"{engine}_seconds"] = runs[engine]["seconds"]
        record[f"{engine}_cpu_seconds"] = runs[engine]["cpu_seconds"]
    m, t = runs["minigan"], runs["torch"]
    record["minigan_metrics"], _, labels = score(m["G_sample"], setup)
    copy = minigan_copy(t["G_sample"], setup)
    record["torch_metrics"], copied, _ = score(copy, setup)
    record["twin_sample_max_diff"] = float(np.abs(twin_samples(t["G_sample"], copy.nz, labels) -
                                                  copied).max())
    record["parameter_distance"] = {
        str(step): {"G": relative_distance(m["snapshots"][step][0], t["snapshots"][step][0]),
                    "D": relative_distance(m["snapshots"][step][1], t["snapshots"][step][1])}
        for step in sorted(m["snapshots"])}
    record["losses_split_at_step"] = first_loss_split(m["losses"], t["losses"])
    record["final_losses"] = {"minigan": m["losses"][-1].tolist(),
                              "torch": t["losses"][-1].tolist()}
    return record


# ----------------------------------------------------------------------------- the report
def command_for(name, fields):
    """The command line that reproduces one configuration."""
    if name is not None:
        return f"python -m benchmarks.quality --config {name}"
    return "python -m benchmarks.quality " + " ".join(
        f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in fields.items())


def format_metrics(scores, kind):
    parts = []
    for key in SHOWN[kind]:
        if key not in scores:
            continue
        v = scores[key]
        text = f"{v:.0f}" if key in ("frechet_distance", "modes") else \
            f"{v:.2f}" if key == "inception_score" else f"{v:.3f}"
        parts.append(f"{SHORT[key]} {text}")
    return ", ".join(parts)


def minutes(seconds):
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s" if seconds >= 60 else f"{seconds:.0f} s"


def method_label(c):
    """The method of a record's config in a few words: "wgan + gp 0.1, 5 D steps"."""
    parts = [c.get("loss", "gan")]
    for key, name in (("gp", "gp"), ("r1", "r1"), ("clip", "clip"), ("ema", "ema"),
                      ("lr_d", "lr D"), ("lr_g", "lr G")):
        if c.get(key):
            parts.append(f"{name} {c[key]:g}")
    if c.get("spectral_norm"):
        parts.append("SN")
    if c.get("lr") and not (c.get("lr_d") or c.get("lr_g")):
        parts.append(f"lr {c['lr']:g}")
    if c.get("d_steps", 1) > 1:
        parts.append(f"{c['d_steps']} D steps")
    if c.get("conditioning", "concat") != "concat":
        parts.append(c["conditioning"])
    return " + ".join(parts)


def table(records):
    """The markdown table of a list of records: two rows (minigan, PyTorch twin) each."""
    lines = ["| configuration | steps | engine | wall (CPU) | metrics | parameter distance "
             "G / D at the end |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in records:
        c = r["config"]
        kind = "points" if c["dataset"] in ("ring8", "grid25") else "image"
        end = r["parameter_distance"][str(c["steps"])]
        label = f"{c['model']}, {c['dataset']}, {method_label(c)}, seed {c['seed']}: " \
                f"`{r['command']}`"
        distance = f"{end['G']:.2f} / {end['D']:.2f}"
        for engine, name, first, last in (("minigan", "minigan", label, ""),
                                          ("torch", "PyTorch twin", "", distance)):
            lines.append(
                f"| {first} | {c['steps']:,} | {name} | {minutes(r[engine + '_seconds'])} "
                f"({minutes(r[engine + '_cpu_seconds'])}) | "
                f"{format_metrics(r[engine + '_metrics'], kind)} | {last} |")
    return "\n".join(lines)


def setting_label(c):
    """What a record trains, without its method: "dcgan, mnist-sample, 500 steps"."""
    label = f"{c['model']}, {c['dataset']}"
    if c["dataset"] in ("ring8", "grid25") and c.get("batch_size") == 64:
        label += f" at batch 64, lr {c['lr']:g}"  # the image defaults: the stress case
    return f"{label}, {c['steps']:,} steps"


def method_family(c):
    """The method of a record by name, its settings aside: the matrix's row label."""
    loss = c.get("loss", "gan")
    if loss == "wgan":
        return "WGAN-GP" if c.get("gp") else "WGAN, clipping" if c.get("clip") else "WGAN"
    name = {"gan": "GAN", "lsgan": "LSGAN", "hinge": "hinge"}[loss]
    extras = [label for key, label in (("spectral_norm", "SN"), ("r1", "R1"), ("ema", "EMA"))
              if c.get(key)] + (["TTUR"] if c.get("lr_d") or c.get("lr_g") else [])
    if extras and loss == "gan":
        return " + ".join(extras)
    return " + ".join([name] + extras)


def matrix(records):
    """Method x setting: each cell "minigan / twin" in the setting's two main metrics, and
    both engines' CPU minutes. One record per (method, setting)."""
    settings, methods, cells = [], [], {}
    for r in records:
        c = r["config"]
        setting, method = setting_label(c), method_family(c)
        settings += [setting] if setting not in settings else []
        methods += [method] if method not in methods else []
        kind = "points" if c["dataset"] in ("ring8", "grid25") else "image"
        keys = (("frechet_distance", "FD", "{:.0f}"), ("inception_score", "IS", "{:.2f}")) \
            if kind == "image" else (("modes", "modes", "{:.0f}"),
                                     ("high_quality", "HQ", "{:.2f}"))
        figures = "; ".join(
            f"{short} {fmt.format(r['minigan_metrics'][k])} / "
            f"{fmt.format(r['torch_metrics'][k])}" for k, short, fmt in keys)
        cpu = f"{r['minigan_cpu_seconds'] / 60:.1f} / {r['torch_cpu_seconds'] / 60:.1f} min"
        cells[method, setting] = f"{figures} ({cpu})"
    order = ("GAN", "WGAN, clipping", "WGAN-GP", "LSGAN", "hinge + SN", "R1", "EMA", "TTUR")
    methods.sort(key=lambda m: order.index(m) if m in order else len(order))
    lines = ["| method | " + " | ".join(settings) + " |",
             "| --- |" + " --- |" * len(settings)]
    for method in methods:
        lines.append(f"| {method} | " + " | ".join(cells.get((method, s), "not run")
                                                  for s in settings) + " |")
    return "\n".join(lines)


def details(records):
    """The checks behind each pair of rows: float64 exactness, then the float32 runs' drift."""
    steps = [str(s) for s in SNAPSHOT_STEPS]
    lines = ["| configuration | float64 check (steps: max loss / parameter difference) | "
             "losses differ by > 1% from step | parameter distance G / D after steps "
             f"{', '.join(steps)}, end | twin's samples vs its minigan copy |",
             "| --- | --- | --- | --- | --- |"]
    for r in records:
        c, check = r["config"], r.get("float64_check")
        exact = "not run" if check is None else \
            f"{check['steps']}: {check['max_loss_diff']:.0e} / {check['max_param_diff']:.0e}"
        drift = "; ".join(f"{d['G']:.1e} / {d['D']:.1e}" if d["G"] < 0.01 else
                          f"{d['G']:.2f} / {d['D']:.2f}"
                          for _, d in sorted(r["parameter_distance"].items(),
                                             key=lambda item: int(item[0])))
        lines.append(f"| {c['model']}, {c['dataset']}, {method_label(c)}, seed {c['seed']}, "
                     f"{c['steps']:,} steps | "
                     f"{exact} | {r['losses_split_at_step']} | {drift} | "
                     f"{r['twin_sample_max_diff']:.0e} |")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=(
        "Train one GAN configuration with minigan and with its PyTorch twin (same weights, "
        "batches, noise and hyper-parameters) and score both as `minigan eval` does."))
    parser.add_argument("--config", action="append", choices=sorted(CONFIGS),
                        help="a named configuration (repeatable)")
    parser.add_argument("--model", help="instead of --config: the TrainConfig fields")
    parser.add_argument("--dataset")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--d-steps", type=int)
    parser.add_argument("--loss", choices=("gan", "lsgan", "hinge", "wgan"))
    parser.add_argument("--gp", type=float)
    parser.add_argument("--r1", type=float)
    parser.add_argument("--clip", type=float)
    parser.add_argument("--spectral-norm", action="store_true", default=None)
    parser.add_argument("--ema", type=float)
    parser.add_argument("--lr-d", type=float)
    parser.add_argument("--lr-g", type=float)
    parser.add_argument("--beta2", type=float)
    parser.add_argument("--conditioning", choices=("concat", "acgan", "projection"))
    parser.add_argument("--check-steps", type=int, default=3, help="steps of the float64 "
                        "exactness check first (default 3; 0 skips it)")
    parser.add_argument("--json", metavar="PATH", help="append each record as a JSON line")
    parser.add_argument("--report", metavar="PATH", help="print the table of a JSON-lines "
                        "file and stop")
    parser.add_argument("--matrix", action="store_true", help="with --report: one table, "
                        "method x setting, each cell minigan / twin")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.report:
        with open(args.report) as f:
            records = [json.loads(line) for line in f if line.strip()]
        print(matrix(records) if args.matrix else table(records) + "\n\n" + details(records))
        return 0
    import torch

    from minigan.training import TrainConfig

    from .machine import machine_info, set_threads

    set_threads(1)
    torch.set_num_threads(1)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    given = {k: getattr(args, k) for k in ("model", "dataset", "steps", "seed", "batch_size",
                                             "lr", "d_steps", "loss", "gp", "r1", "clip",
                                             "spectral_norm", "ema", "lr_d", "lr_g", "beta2",
                                             "conditioning")
             if getattr(args, k) is not None}
    if args.config:  # --config mlp --steps 100: a named configuration, changed
        configs = [(None if given else name, {**CONFIGS[name], **given}) for name in args.config]
    else:
        configs = [(None, given)]
    for name, fields in configs:
        config = TrainConfig(**fields)
        log(f"quality: {fields}")
        load_at_start = os.getloadavg()  # other jobs on the machine slow the wall times
        record = compare(config, args.check_steps, log)
        info = machine_info("cpu", threads=1, command="python -m benchmarks.quality " +
                            " ".join(sys.argv[1:] if argv is None else argv))
        record["machine"] = {k: info[k] for k in ("date", "cpu", "numpy", "git", "python")}
        record["machine"].update(torch=info["torch"]["version"], load_at_start=load_at_start,
                                 load_at_end=os.getloadavg())
        record["command"] = command_for(name, fields)
        print(table([record]), flush=True)
        print(json.dumps({k: record[k] for k in ("float64_check", "parameter_distance",
                                                 "losses_split_at_step",
                                                 "twin_sample_max_diff") if k in record}))
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
