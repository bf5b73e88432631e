"""The GAN methods of 2017-2019, each a small unit beside its paper (see each file):

    losses.py     a loss is a pair (D's loss, G's loss): gan, lsgan, hinge, wgan
    penalties.py  a penalty is a function of D and a batch, added to D's loss: WGAN-GP, R1
    hooks.py      a hook runs after an optimizer step: weight clipping (after D's), EMA of
                  G's weights (after G's)
    conditioning.py  how a conditional GAN uses its label: concat, acgan (D's auxiliary
                  classifier and its losses), projection
Spectral normalisation (Miyato et al. 2018) is part of D itself (minigan.nn.utils.
spectral_norm on every conv/linear layer, built by minigan.models.build_gan), and TTUR
(Heusel et al. 2017) is one learning rate per optimizer (train.make_optimizers).

`Method` gathers what one run uses; the training loop (minigan.training.updater) calls its pieces
and knows none of the methods by name.
"""
import dataclasses

from ..validators import finite_real
from .conditioning import CONDITIONINGS, LabelInInputs, make_conditioning
from .hooks import EMA, WeightClipping
from .losses import LOSSES, make_loss
from .penalties import PENALTIES, GradientPenalty, R1Penalty, gradient_penalty, r1_penalty

__all__ = ["Method", "build_method", "check_method_settings", "LOSSES", "make_loss",
           "PENALTIES", "GradientPenalty", "R1Penalty", "gradient_penalty", "r1_penalty", "EMA",
           "WeightClipping", "uses_penalty", "CONDITIONINGS", "make_conditioning"]


@dataclasses.dataclass
class Method:
    """The pieces of one run's method: a loss pair, an optional penalty, and hooks."""

    loss: object
    penalty: object = None  # penalty(D, batch, fake) -> a scalar Tensor, or None
    after_d_step: list = dataclasses.field(default_factory=list)  # hook() after opt_d.step()
    after_g_step: list = dataclasses.field(default_factory=list)  # hook() after opt_g.step()
    conditioning: object = dataclasses.field(default_factory=LabelInInputs)  # conditioning.py


def uses_penalty(config):
    """Whether D's loss has a gradient penalty (then D is built without BatchNorm)."""
    return any(getattr(config, name) for name in PENALTIES)


def build_method(config, G, D, G_ema=None):
    """The Method a TrainConfig asks for, its hooks bound to this run's G, D and G_ema."""
    method = Method(make_loss(config.loss, config.g_loss))
    method.conditioning = make_conditioning(config.conditioning)
    for name, penalty in PENALTIES.items():  # at most one is on (check_method_settings)
        if getattr(config, name):
            method.penalty = penalty(getattr(config, name))
    if config.clip is not None:
        method.after_d_step.append(WeightClipping(D, config.clip))
    if config.ema is not None:
        method.after_g_step.append(EMA(G, G_ema, config.ema))
    return method


def check_method_settings(config):
    """ValueError (TypeError for a value that is no number) naming the flag for a setting
    no method accepts."""
    if not isinstance(config.loss, str) or config.loss not in LOSSES:
        raise ValueError(f"unknown loss {config.loss!r}: choose one of {', '.join(LOSSES)}")
    if config.loss != "gan" and config.g_loss != "non-saturating":
        raise ValueError(f"--g-loss {config.g_loss} applies to --loss gan only (--loss "
                         f"{config.loss} has its own generator loss)")
    for name in PENALTIES:  # a penalty's weight; 0 is off
        finite_real(None, f"--{name}", getattr(config, name), minimum=0)
    on = [name for name in PENALTIES if getattr(config, name)]
    if len(on) > 1:
        raise ValueError(f"give {' or '.join('--' + name for name in on)}, not both (one "
                         f"gradient penalty per run)")
    for name, above, below in (("clip", 0, None), ("ema", 0, 1), ("lr_d", 0, None),
                               ("lr_g", 0, None)):  # (--ema: a decay, such as 0.999)
        if getattr(config, name) is not None:
            finite_real(None, "--" + name.replace("_", "-"), getattr(config, name),
                        above=above, below=below)
    if not isinstance(config.conditioning, str) or config.conditioning not in CONDITIONINGS:
        raise ValueError(f"unknown conditioning {config.conditioning!r}: choose one of "
                         f"{', '.join(CONDITIONINGS)}")
    if not isinstance(config.spectral_norm, bool):
        raise ValueError(f"spectral_norm must be True or False, got {config.spectral_norm!r}")
