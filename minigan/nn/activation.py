"""Activations as Modules (as torch.nn.ReLU, LeakyReLU, Tanh, Sigmoid): no weights."""
from .. import validators
from . import functional as F
from .module import Module


class ReLU(Module):
    """max(x, 0); inplace=True (PyTorch's flag, ReLU(True) too) writes into x."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.relu(x, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = validators.finite_real("LeakyReLU", "negative_slope",
                                                     negative_slope)
        self.inplace = bool(inplace)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)
