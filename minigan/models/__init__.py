"""The GANs: a generator and a discriminator for each model name (registry.py), built by
`build_gan`.

    mlp     Goodfellow et al. 2014, fully connected (mlp_gan.py); on 2-D points, the
            small toy MLPs (toy.py)
    dcgan   Radford et al. 2015, convolutional (dcgan.py)
    cmlp    mlp conditioned on class labels (Mirza & Osindero 2014; conditional.py)
    cdcgan  dcgan conditioned on class labels
The conditional models take one of CONDITIONINGS: "concat" (the one-hot label joined to
the inputs, Mirza & Osindero 2014; mlp_gan.py, dcgan.py), "acgan" (D also classifies,
Odena et al. 2017; acgan.py) or "projection" (a class embedding projected onto D's
features, G with conditional BatchNorm, Miyato & Koyama 2018; projection.py).

Every generator has `nz`, `num_classes` (0 when unconditional), `conditional` and
`output_shape` ((C, H, W), or (2,) for points) and is called as G(z) or G(z, labels)
with z (N, nz); every discriminator has `num_classes`, `conditional` and `input_shape`,
is called as D(x) or D(x, labels) and returns logits of shape (N,) (no sigmoid: train
with binary_cross_entropy_with_logits). Unconditional models ignore labels, so a training
loop may pass its dataset's labels to any model. Models are built with float32 weights on the
CPU from minigan's seeded generator; move them with `.to(device)`.
"""
from ..backend import manual_seed
from ..methods.conditioning import CONDITIONINGS
from ..nn.utils import apply_spectral_norm, spectral_norm as spectral_norm_
from .acgan import ACGANDiscriminator, ACGANGenerator
from .conditional import label_maps, one_hot
from .dcgan import DCGANDiscriminator, DCGANGenerator, weights_init
from .mlp_gan import MLPDiscriminator, MLPGenerator
from .projection import ProjectionDiscriminator, ProjectionGenerator
from .registry import DATA_KINDS, MODELS, ModelEntry, model_entry
from .toy import ToyDiscriminator, ToyGenerator

DEFAULT_NZ = {"image": 100, "points": 2}


def build_gan(model, data_kind, image_shape=None, nz=None, num_classes=0, bn_eps=1e-5,
              d_batch_norm=True, spectral_norm=False, conditioning="concat"):
    """(generator, discriminator) for `model` on data of `data_kind`.

    model: one of MODELS (registry.py). data_kind: "image" (needs image_shape = (C, H, W))
    or "points" (2-D points: only the models whose entry lists "points", e.g. "mlp", which
    gives ToyGenerator/ToyDiscriminator; image_shape is ignored). nz: the noise size,
    default 100 for images (as in both papers' code) and 2 for points. num_classes: the
    number of classes of the conditional models (required there, at least 1); ignored by
    the unconditional models, so a caller may always pass its dataset's. bn_eps:
    BatchNorm's eps (1e-5, PyTorch's default).
    d_batch_norm: False builds DCGAN's D without BatchNorm (the critic of the gradient
    penalties; the other Ds have none). spectral_norm: True wraps every Linear, Conv2d
    and ConvTranspose2d of D in minigan.nn.utils.spectral_norm (Miyato et al. 2018).
    conditioning: how a conditional model sees the label, one of CONDITIONINGS (only
    "concat" for the unconditional models, which have no label to see).
    """
    entry = model_entry(model)
    if data_kind not in DATA_KINDS:
        raise ValueError(f"unknown data kind {data_kind!r}: expected one of "
                         f"{', '.join(DATA_KINDS)}")
    nz = DEFAULT_NZ[data_kind] if nz is None else nz
    if entry.conditional and (not isinstance(num_classes, int) or num_classes < 1):
        raise ValueError(f"model {model!r} is conditional: it needs num_classes >= 1 (the "
                         f"dataset's number of labels), got {num_classes!r}")
    if conditioning not in CONDITIONINGS:
        raise ValueError(f"unknown conditioning {conditioning!r}: expected one of "
                         f"{', '.join(CONDITIONINGS)}")
    if conditioning != "concat" and not entry.conditional:
        raise ValueError(f"conditioning {conditioning!r} needs a conditional model, not "
                         f"{model!r}")
    if data_kind not in entry.data_kinds:
        kinds = " and ".join("images" if k == "image" else "2-D points" for k in entry.data_kinds)
        raise ValueError(f"model {model!r} works on {kinds} only; for 2-D points use 'mlp' "
                         f"(the toy MLPs)")
    if data_kind == "image" and image_shape is None:
        raise ValueError(f"model {model!r} on images needs image_shape=(C, H, W)")
    # concat: the one-hot label joins the inputs; the other schemes wrap an unconditional pair
    k = num_classes if entry.conditional and conditioning == "concat" else 0
    G, D = entry.build(data_kind, image_shape, nz, k, bn_eps, d_batch_norm)
    if conditioning == "acgan":  # G's embedding drawn after D0's weights, then D's head
        G, D = ACGANGenerator(G, num_classes), ACGANDiscriminator(D, num_classes)
    elif conditioning == "projection":
        G, D = ProjectionGenerator(G, num_classes), ProjectionDiscriminator(D, num_classes)
        if spectral_norm:  # the class embedding too, as the paper's SNEmbedID
            spectral_norm_(D.embed)
    return G, with_spectral_norm(D, spectral_norm)


def build_models(model_spec, device, seed):
    """G and D as build_gan(**model_spec) makes them, initialised after manual_seed(seed)
    on the host (so every device starts from the same weights), then moved to `device`."""
    manual_seed(seed)
    G, D = build_gan(**model_spec)
    return G.to(device), D.to(device)


def with_spectral_norm(D, on):
    """D with spectral_norm on every Linear, Conv2d and ConvTranspose2d layer (when on)."""
    return apply_spectral_norm(D) if on else D


__all__ = ["MODELS", "ModelEntry", "model_entry", "CONDITIONINGS", "build_gan", "build_models",
           "MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator", "ACGANGenerator", "ACGANDiscriminator",
           "ProjectionGenerator", "ProjectionDiscriminator", "ToyGenerator",
           "ToyDiscriminator", "weights_init", "one_hot", "label_maps"]
