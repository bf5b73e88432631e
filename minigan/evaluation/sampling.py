"""Drawing from a generator: the sample grids of a run, `minigan sample` and `minigan eval`.

Samples are always drawn with G in eval mode (BatchNorm normalises with its running
statistics) under no_grad: then each sample depends on its own noise vector only, so
the same z gives the same image whatever batch it is drawn in. Noise comes from a
Generator seeded for the purpose, never from the training streams, so drawing samples
never changes what training does next.
"""
import numpy as np

from .. import backend
from ..autograd import no_grad
from ..backend import Generator
from ..creation import randn
from ..data import datasets as data
from ..models import build_models
from ..store import checkpoint, images
from ..tensor import Tensor

GRID_SAMPLES = 64  # an 8 x 8 grid
GRID_COLUMNS = 8
FIXED_POINTS = 1000  # points in the 2-D "grid" (a scatter plot)
# Training step s draws from the stream seeded [seed, s], s >= 1; these differ from all:
FIXED_NOISE_STREAM = (0,)  # [seed, 0]: the noise of every sample grid
EVAL_STREAM = (0, 1)  # [seed, 0, 1]: the samples that --eval-every scores


def generator_from_checkpoint(path, device="cpu"):
    """(G in eval mode, the Checkpoint), from a checkpoint file or run folder. A run with
    --ema gives its EMA generator (ckpt.has_ema says so), the one its sample grids show.

    The file's model description was checked field by field when it was read; G is built
    within what the file's arrays hold (Checkpoint.bounding_allocations)."""
    ckpt = checkpoint.read_checkpoint(path)
    device = backend.check_device(device)
    spec = dict(ckpt.model_spec)
    if spec.get("image_shape") is not None:
        spec["image_shape"] = tuple(spec["image_shape"])
    with ckpt.bounding_allocations():
        try:
            G, _ = build_models(spec, device, ckpt.seed)
        except (TypeError, ValueError, KeyError) as err:
            raise checkpoint.refuse(ckpt.path, f"its model description {ckpt.model_spec} "
                                               f"cannot be built ({err})") from None
    if ckpt.has_ema:
        ckpt.load_into(G_ema=G)
    else:
        ckpt.load_into(G=G)
    return G.eval(), ckpt


def generate(G, z, labels=None, batch=500):
    """G(z) as a host float32 array, in eval mode and without a graph, `batch` at a time
    (eval mode makes the batching invisible); G's mode is restored afterwards."""
    was_training = G.training
    G.eval()
    out = []
    with no_grad():
        for start in range(0, len(z), batch):
            chunk_labels = None if labels is None else labels[start:start + batch]
            out.append(G(z[start:start + batch], chunk_labels).numpy())
    G.train(was_training)
    return np.concatenate(out).astype(np.float32, copy=False)


def fixed_batch(G, kind, seed, device):
    """The noise (and labels) every sample grid of a run is drawn from, made from the seed.

    Images: 64 noise vectors (an 8 x 8 grid). Conditional models: 8 noise vectors
    repeated for each class, so row c of the grid is class c and each column keeps its
    noise (its "style"). Points: FIXED_POINTS vectors for a scatter plot."""
    gen = Generator(device, seed=[seed, *FIXED_NOISE_STREAM])
    if kind != "image":
        return randn(FIXED_POINTS, G.nz, device=device, generator=gen), None
    if not G.conditional:
        return randn(GRID_SAMPLES, G.nz, device=device, generator=gen), None
    z = randn(GRID_COLUMNS, G.nz, device=device, generator=gen).numpy()
    z = np.tile(z, (G.num_classes, 1))  # (K * 8, nz): row c repeats the 8 vectors
    labels = np.repeat(np.arange(G.num_classes, dtype=np.int64), GRID_COLUMNS)  # 0..0 1..1 ...
    return Tensor(backend.to_device(z, device)), Tensor(backend.to_device(labels, device))


def draw_samples(G, n, seed, device, label=None):
    """n samples (a host array) from noise seeded by `seed` (an int or a sequence).

    A conditional G is asked for `label`, or for the classes in turn (0, 1, ..., K-1, 0,
    ...), a balanced set. Returns (samples, the labels as a host int64 array or None)."""
    gen = Generator(device, seed=seed)
    z = randn(n, G.nz, device=device, generator=gen)
    labels = None
    if G.conditional:
        labels = np.full(n, label, np.int64) if label is not None else \
            np.arange(n, dtype=np.int64) % G.num_classes
    device_labels = None if labels is None else Tensor(backend.to_device(labels, device))
    return generate(G, z, device_labels), labels


def save_picture(samples, path, kind, dataset_name, nrow=None):
    """Images as a grid PNG; 2-D points as a scatter plot with the mixture's modes."""
    if kind == "image":
        return images.save_image_grid(samples, path, nrow=nrow)
    return images.save_points_plot(samples, path, reference=data.mixture_modes(dataset_name))
