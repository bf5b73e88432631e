"""Activations: relu, leaky_relu, tanh, sigmoid.

Each saves the cheapest thing its derivative needs: a bool mask for the piecewise-linear
ones, the output itself for tanh (1 - out^2) and sigmoid (out (1 - out)).
"""
from ..autograd import Function
from ..backend import xp_of
from ..tensor import Tensor
from .elementwise import Mul


class ReLU(Function):
    """out = max(x, 0)."""

    def forward(self, x):
        # a bool mask (a quarter of a float32 copy) of where the gradient passes: where
        # x <= 0 fails, so x > 0 and also NaN, whose gradient PyTorch passes on too
        xp = xp_of(x)
        passes = xp.asarray(x <= 0)  # (an array even for a 0-d x)
        self.save_for_backward(xp.logical_not(passes, out=passes))
        return xp.maximum(x, 0)

    def backward(self, grad_out):
        passes, = self.saved
        return (Mul.apply(grad_out, passes),)  # the op itself: a bool mask is not cast first


class LeakyReLU(Function):
    """out = x if x > 0 else negative_slope * x."""

    def forward(self, x, negative_slope=0.01):
        self.slope = x.dtype.type(negative_slope)  # in x's dtype, so products stay float32
        positive = x > 0
        self.save_for_backward(positive)  # a bool mask is all backward needs
        return xp_of(x).where(positive, x, self.slope * x)

    def backward(self, grad_out):
        positive, = self.saved
        # d(out)/dx: 1 where x > 0, else negative_slope; a constant in grad_out's dtype
        derivative = xp_of(positive._data).where(positive._data, self.slope.dtype.type(1),
                                                  self.slope)
        return (Mul.apply(grad_out, Tensor(derivative)),)


class Tanh(Function):
    """out = tanh(x); d/dx = 1 - out^2."""

    def forward(self, x):
        out = xp_of(x).tanh(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad_out):
        out, = self.saved
        return (grad_out * (1 - out * out),)


def stable_sigmoid(x):
    """1 / (1 + exp(-x)) without overflow: exp is only ever taken of -|x|."""
    xp = xp_of(x)
    e = xp.exp(-abs(x))  # in (0, 1]
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """out = 1 / (1 + exp(-x)); d/dx = out (1 - out)."""

    def forward(self, x):
        out = stable_sigmoid(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad_out):
        out, = self.saved
        return (grad_out * out * (1 - out),)
