"""Activations: relu, leaky_relu, tanh, sigmoid.

Each saves the cheapest thing its derivative needs: a bool mask for the piecewise-linear
ones, the output itself for tanh (1 - out^2) and sigmoid (out (1 - out)).
"""
from .. import kernels
from ..autograd import Function, is_grad_enabled
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
        if kernels.fused(x):  # on the GPU: mask and product in one launch (kernels.py)
            out, positive = kernels.leaky_relu(x, self.slope)
        else:
            positive = x > 0
            fast = 0 < self.slope <= 1  # then leaky_relu_max: the same numbers, fewer passes
            out = leaky_relu_max(x, self.slope) if fast else x * self.derivative(positive)
        self.save_for_backward(positive)  # a bool mask is all backward needs
        return out

    def backward(self, grad_out):
        positive, = self.saved
        if kernels.fused(positive._data) and not is_grad_enabled():  # one launch (kernels.py)
            return (Tensor(kernels.leaky_relu_backward(grad_out._data, positive._data, self.slope)),)
        # the op itself: the derivative is a constant already in grad_out's dtype
        return (Mul.apply(grad_out, Tensor(self.derivative(positive._data))),)

    def derivative(self, positive):
        """d(out)/dx as a float array: 1 where x > 0, negative_slope elsewhere.

        Made by arithmetic on the mask, because NumPy's where(positive, x, slope * x)
        is 5-15x slower (measured). For 0 <= slope <= 1, (1 - slope) + slope rounds to
        exactly 1, so x * derivative is x itself where x > 0; other slopes take where.
        """
        slope = self.slope
        if not 0 <= slope <= 1:
            return xp_of(positive).where(positive, slope.dtype.type(1), slope)
        derivative = positive * (1 - slope)  # 1 - slope where x > 0, else 0
        derivative += slope
        return derivative


def leaky_relu_max(x, slope):
    """x * derivative for 0 < slope <= 1, as max(slope * x, x): two passes over x and one
    new array, where the mask arithmetic takes four passes and two (measured 0.46-0.55x
    the time: benchmarks/RESULTS.md). The same numbers bit for bit: slope * x <= x exactly
    where x > 0 (so the max is x), slope * x >= x where x < 0; zeros, infinities and NaN
    come out as x * slope does (tests/test_fast_paths.py). slope 0 would turn +inf into
    0 * inf = NaN, so it takes the mask arithmetic."""
    xp = xp_of(x)
    out = xp.multiply(x, slope, out=xp.empty_like(x))  # (an array even for a 0-d x)
    return xp.maximum(out, x, out=out)


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
