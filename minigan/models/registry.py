"""The models by name: one ModelEntry each, read by every layer that names a model.

The command line's --model choices and help, TrainConfig's checks (which data a model
takes, whether it needs labels, which image sizes it builds), the run setup and the
checkpoint reader all read MODELS. Adding a model is one entry here, beside its module:

    def build_tiny(data_kind, image_shape, nz, num_classes, bn_eps, d_batch_norm):
        return TinyGenerator(image_shape, nz), TinyDiscriminator(image_shape)

    MODELS["tiny"] = ModelEntry("tiny", "a one-layer GAN", build_tiny)

`build` makes the unconditional pair, or the label-taking one when num_classes > 0 (G
first, then D: the order of the seeded draws). build_gan (models/__init__.py) wraps it for
a conditioning scheme and spectral normalisation; an entry never needs to.
"""
import dataclasses
from collections.abc import Callable

from .dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_stages
from .mlp_gan import MLPDiscriminator, MLPGenerator
from .toy import ToyDiscriminator, ToyGenerator

DATA_KINDS = ("image", "points")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """What every layer needs to know of one model."""

    name: str
    help: str  # one line, for --help
    build: Callable  # (data_kind, image_shape, nz, num_classes, bn_eps, d_batch_norm) -> (G, D)
    conditional: bool = False  # takes class labels: trains only on a labelled dataset
    data_kinds: tuple = ("image",)  # "image" (C, H, W) and/or "points" (2-D)
    check_image_size: Callable | None = None  # (size) -> None, or ValueError for a size it
    #                                           cannot build


def build_mlp(data_kind, image_shape, nz, num_classes, bn_eps, d_batch_norm):
    """Goodfellow et al. 2014's fully connected pair; on 2-D points the toy MLPs."""
    if data_kind == "points":
        return ToyGenerator(nz=nz), ToyDiscriminator()
    G = MLPGenerator(image_shape, nz=nz, bn_eps=bn_eps, num_classes=num_classes)  # G first:
    D = MLPDiscriminator(image_shape, num_classes=num_classes)  # the order of seeded draws
    return G, D


def build_dcgan(data_kind, image_shape, nz, num_classes, bn_eps, d_batch_norm):
    """Radford et al. 2015's convolutional pair (d_batch_norm False: the critic without
    BatchNorm that the gradient penalties use)."""
    G = DCGANGenerator(image_shape, nz=nz, bn_eps=bn_eps, num_classes=num_classes)
    D = DCGANDiscriminator(image_shape, bn_eps=bn_eps, num_classes=num_classes,
                           batch_norm=d_batch_norm)
    return G, D


def check_dcgan_size(name):
    def check(size):
        dcgan_stages(f"model {name}", (1, size, size))
    return check


MODELS = {entry.name: entry for entry in (
    ModelEntry("mlp", "Goodfellow et al. 2014, fully connected; on 2-D points the toy MLPs",
               build_mlp, data_kinds=DATA_KINDS),
    ModelEntry("dcgan", "Radford et al. 2015, convolutional", build_dcgan,
               check_image_size=check_dcgan_size("dcgan")),
    ModelEntry("cmlp", "mlp conditioned on class labels, Mirza & Osindero 2014", build_mlp,
               conditional=True),
    ModelEntry("cdcgan", "dcgan conditioned on class labels", build_dcgan, conditional=True,
               check_image_size=check_dcgan_size("cdcgan")),
)}


def model_entry(name):
    """The ModelEntry of `name`, or a ValueError listing the models."""
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}")
    return MODELS[name]


def conditional_models():
    """The names of the models that take labels, for messages."""
    return [name for name, entry in MODELS.items() if entry.conditional]
