"""Conditioning a GAN on class labels (Mirza & Osindero 2014, "Conditional Generative
Adversarial Nets", arXiv:1411.1784).

Both players see the label y as a one-hot vector: the generator models p(x | y) from
[z, onehot(y)], the discriminator judges the pair [x, onehot(y)]. For a flat input
(an MLP) the one-hot joins the features; for an image it is spread into K constant
maps, map k all ones where y == k, that join the image's channels:
    onehot(y)      (N, K)          row n is row y[n] of the K x K identity
    label_maps(y)  (N, K, H, W)    onehot(y) repeated over every pixel
The models in mlp_gan.py and dcgan.py take num_classes=K > 0 to become conditional
("cmlp", "cdcgan"); the helpers here turn the labels into those arrays.
"""
import numpy as np

from .. import backend, nn
from ..ops.embedding import Gather
from ..ops.shape import BroadcastTo
from ..tensor import Tensor


def check_labels(model, labels, x):
    """The labels as a raw int array on x's device, checked against the model and batch;
    None for an unconditional model, which ignores them.

    `labels` may be a numpy or cupy int array or an int Tensor, shaped (N,) with N the
    batch size of x and values in [0, model.num_classes).
    """
    name = type(model).__name__
    if not model.conditional:  # ignored, so a training loop may pass a dataset's labels
        return None            # to any model
    if labels is None:
        raise ValueError(f"{name} is conditional on {model.num_classes} classes: call it as "
                         f"model(x, labels) with integer labels of shape ({x.shape[0]},)")
    labels = labels._data if isinstance(labels, Tensor) else labels
    if not hasattr(labels, "dtype"):  # a list or tuple of ints
        labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels must be integers (class indices), got dtype "
                        f"{labels.dtype}")
    if labels.shape != (x.shape[0],):
        raise ValueError(f"{name}: labels must have shape ({x.shape[0]},) to match the batch, "
                         f"got {labels.shape}")
    # Host labels (a data loader's) are range-checked here. Labels already on the GPU are
    # trusted: reading their min and max would wait for the GPU at every step.
    if backend.device_of(labels) == "cpu" and labels.size and \
            (int(labels.min()) < 0 or int(labels.max()) >= model.num_classes):
        raise ValueError(f"{name}: labels must be in [0, {model.num_classes}), got values from "
                         f"{int(labels.min())} to {int(labels.max())}")
    return backend.to_device(labels, x.device)  # a small copy when the batch is on the GPU


def one_hot(labels, num_classes, like):
    """(N,) int labels -> (N, K) Tensor of 0/1, with like's device and dtype (no grad).

    The lookup is the op Gather (an embedding lookup in a fixed table), not raw indexing,
    so that a traced forward sees the labels flow into the model (minigan/onnx)."""
    xp = backend.xp_of(like._data)
    eye = Tensor(xp.eye(num_classes, dtype=like.dtype))  # row k: the one-hot vector of class k
    return Gather.apply(eye, indices=labels)  # (N, K)


def label_maps(labels, num_classes, like):
    """(N,) int labels -> (N, K, H, W) Tensor: one constant map per class, for an image like
    `like` (N, C, H, W); map k is ones where labels == k and zeros elsewhere."""
    n, _, h, w = like.shape
    codes = one_hot(labels, num_classes, like).reshape(n, num_classes, 1, 1)  # (N, K, 1, 1)
    return BroadcastTo.apply(codes, shape=(n, num_classes, h, w))  # a view, no copy


def layers_of(model):
    """The Sequential that holds an MLP or DCGAN model's layers ("model" or "main")."""
    return model.model if "model" in model._modules else model.main


class ConditionalDiscriminator(nn.Module):
    """What AC-GAN's and the projection discriminator share: an unconditional D0 (an
    MLPDiscriminator or DCGANDiscriminator) whose features before its last layer they read."""

    def __init__(self, D0, num_classes):
        super().__init__()
        self.net = D0
        self.input_shape = D0.input_shape
        self.num_classes, self.conditional = num_classes, True
        self.flatten = type(D0).__name__ == "MLPDiscriminator"  # the MLP judges flat images

    def features(self, x):
        """h: the output of D0's layers but its last, (N, 256) or (N, C, base, base)."""
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"{type(self).__name__}: expected images of shape (N, "
                             f"{', '.join(map(str, self.input_shape))}), got {x.shape}")
        if self.flatten:
            x = x.reshape(x.shape[0], -1)  # (N, C*H*W)
        return layers_of(self.net)[:-1](x)
