"""The fully connected GAN of Goodfellow et al. 2014 ("Generative Adversarial Nets",
arXiv:1406.2661), built as PyTorch-GAN builds it (eriklindernoren/PyTorch-GAN,
implementations/gan/gan.py), and its conditional twin (Mirza & Osindero 2014).

    G: z (N, nz) -> 128 -> 256 -> 512 -> 1024 -> C*H*W, tanh, viewed as (N, C, H, W)
       (LeakyReLU(0.2) after each hidden layer, BatchNorm1d before it from 256 on)
    D: x (N, C, H, W) flattened -> 512 -> 256 -> 1, LeakyReLU(0.2) between: a logit

The layers sit in a Sequential named `model` as in gan.py, so the state_dict keys are
gan.py's ("model.0.weight", "model.3.running_mean", ...). Weights keep PyTorch's default
initialisation. D returns logits (gan.py ends with a Sigmoid); train it with
binary_cross_entropy_with_logits, which is the same loss computed stably.
"""
import math

from .. import nn
from ..tensor import cat
from ..validators import integer
from .checks import check_image_shape
from .conditional import check_labels, one_hot


class MLPGenerator(nn.Module):
    """z (N, nz) [+ labels (N,)] -> images (N, C, H, W) in [-1, 1].

    bn_eps: BatchNorm1d's eps, 1e-5 as in PyTorch. gan.py writes nn.BatchNorm1d(out_feat, 0.8),
    which sets eps = 0.8 (the second positional argument is eps, not momentum, probably
    a slip); pass bn_eps=0.8 to reproduce gan.py exactly.
    num_classes: 0 for the unconditional GAN; K > 0 feeds [z, onehot(labels)] (nz + K
    features) to the first layer (the conditional GAN, "cmlp").
    """

    def __init__(self, image_shape, nz=100, bn_eps=1e-5, num_classes=0):
        super().__init__()
        self.output_shape = check_image_shape("MLPGenerator", image_shape)
        self.nz = integer("MLPGenerator", "nz", nz, minimum=1)
        self.num_classes = integer("MLPGenerator", "num_classes", num_classes, minimum=0)
        self.conditional = num_classes > 0

        def block(in_features, out_features, normalize=True):
            layers = [nn.Linear(in_features, out_features)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_features, eps=bn_eps))
            layers.append(nn.LeakyReLU(0.2))
            return layers

        self.model = nn.Sequential(
            *block(nz + num_classes, 128, normalize=False),  # model.0, model.1
            *block(128, 256),  # model.2 Linear, model.3 BatchNorm1d, model.4 LeakyReLU
            *block(256, 512),
            *block(512, 1024),
            nn.Linear(1024, math.prod(self.output_shape)),  # model.11
            nn.Tanh(),
        )

    def forward(self, z, labels=None):
        if z.ndim != 2 or z.shape[1] != self.nz:
            raise ValueError(f"MLPGenerator: expected noise z of shape (N, {self.nz}), "
                             f"got {z.shape}")
        labels = check_labels(self, labels, z)
        if self.conditional:
            z = cat([z, one_hot(labels, self.num_classes, like=z)], dim=1)  # (N, nz + K)
        x = self.model(z)  # (N, C*H*W)
        return x.reshape(z.shape[0], *self.output_shape)  # (N, C, H, W)


class MLPDiscriminator(nn.Module):
    """images (N, C, H, W) [+ labels (N,)] -> logits (N,): large means "real".

    num_classes: 0, or K > 0 to judge [flattened image, onehot(labels)] (C*H*W + K
    features; the conditional discriminator of "cmlp").
    """

    def __init__(self, image_shape, num_classes=0):
        super().__init__()
        self.input_shape = check_image_shape("MLPDiscriminator", image_shape)
        self.num_classes = integer("MLPDiscriminator", "num_classes", num_classes, minimum=0)
        self.conditional = num_classes > 0
        # gan.py flattens in forward, so its Sequential (and the keys) start at the Linear
        self.model = nn.Sequential(
            nn.Linear(math.prod(self.input_shape) + num_classes, 512),  # model.0
            nn.LeakyReLU(0.2),
            nn.Linear(512, 256),  # model.2
            nn.LeakyReLU(0.2),
            nn.Linear(256, 1),  # model.4; gan.py's Sigmoid is left to the loss
        )

    def forward(self, x, labels=None):
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"MLPDiscriminator: expected images of shape (N, "
                             f"{', '.join(map(str, self.input_shape))}), got {x.shape}")
        labels = check_labels(self, labels, x)
        x = x.reshape(x.shape[0], -1)  # (N, C*H*W)
        if self.conditional:
            x = cat([x, one_hot(labels, self.num_classes, like=x)], dim=1)  # (N, C*H*W + K)
        return self.model(x).reshape(-1)  # (N, 1) -> (N,)
