"""Small MLPs for 2-D toy data (ring8: 8 Gaussians on a circle; grid25: a 5x5 grid).

In the spirit of the mode-collapse experiments (Metz et al. 2016, "Unrolled Generative
Adversarial Networks", arXiv:1611.02163; Srivastava et al. 2017, VEEGAN,
arXiv:1705.07761): fully connected players with a few ReLU layers of 128-256 units.
    G: z (N, nz) -> hidden -> ... -> hidden -> 2, ReLU between, linear output
       (no tanh: the mixtures reach beyond [-1, 1])
    D: x (N, 2) -> hidden -> ... -> hidden -> 1, LeakyReLU(0.2) between: a logit (N,)
Defaults: nz 2, three hidden layers of 256 units in each player. With the image
settings (batch 64, Adam lr 2e-4, beta1 0.5, 4,000 steps) ring8 seeds 0/1/2 reached only
1/7/8 of the 8 modes; minigan train's defaults for 2-D points (batch 256, lr 1e-3; see
DEFAULT_BATCH_SIZE in minigan/training/config.py) reach all 8 with >= 90% high-quality samples.
Widths and depths are constructor arguments, for tuning. Both ignore labels (unconditional).
"""
from .. import nn
from ..validators import integer


def mlp(in_features, hidden, depth, out_features, activation):
    """Linear(in, hidden), act, [Linear(hidden, hidden), act] * (depth - 1), Linear(hidden, out)."""
    layers, width = [], in_features
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), activation()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, out_features))


class ToyGenerator(nn.Module):
    """z (N, nz) -> points (N, dim), `depth` ReLU layers of `hidden` units."""

    def __init__(self, nz=2, hidden=256, depth=3, dim=2):
        super().__init__()
        self.nz = integer("ToyGenerator", "nz", nz, minimum=1)
        integer("ToyGenerator", "hidden", hidden, minimum=1)
        integer("ToyGenerator", "depth", depth, minimum=1)
        self.output_shape = (integer("ToyGenerator", "dim", dim, minimum=1),)
        self.num_classes, self.conditional = 0, False
        self.net = mlp(nz, hidden, depth, dim, nn.ReLU)

    def forward(self, z, labels=None):
        if z.ndim != 2 or z.shape[1] != self.nz:
            raise ValueError(f"ToyGenerator: expected noise z of shape (N, {self.nz}), "
                             f"got {z.shape}")
        return self.net(z)  # (N, dim)


class ToyDiscriminator(nn.Module):
    """points (N, dim) -> logits (N,), `depth` LeakyReLU(0.2) layers of `hidden` units."""

    def __init__(self, hidden=256, depth=3, dim=2):
        super().__init__()
        integer("ToyDiscriminator", "hidden", hidden, minimum=1)
        integer("ToyDiscriminator", "depth", depth, minimum=1)
        self.input_shape = (integer("ToyDiscriminator", "dim", dim, minimum=1),)
        self.num_classes, self.conditional = 0, False
        self.net = mlp(dim, hidden, depth, 1, lambda: nn.LeakyReLU(0.2))

    def forward(self, x, labels=None):
        if x.ndim != 2 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"ToyDiscriminator: expected points of shape (N, "
                             f"{self.input_shape[0]}), got {x.shape}")
        return self.net(x).reshape(-1)  # (N, 1) -> (N,)
