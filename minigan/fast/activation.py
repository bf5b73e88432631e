"""LeakyReLU, faster: on the CPU by arithmetic on the mask, on the GPU in one fused kernel.

The definition (ops/activation.py) computes where(x > 0, x, slope * x); NumPy's where
measured 5-15x slower than the arithmetic below, which gives the same numbers bit for
bit (tests/test_fast_paths.py). On the CPU, channels.py registers these, on channel
shares for large inputs.
"""
from ..backend import xp_of
from ..ops.activation import LeakyReLU
from ..tensor import Tensor
from . import backward, forward, kernels


def leaky_relu_cpu(fn, x, negative_slope=0.01):
    fn.slope = x.dtype.type(negative_slope)
    positive = x > 0
    fn.save_for_backward(positive)
    if 0 < fn.slope <= 1:  # then max(slope * x, x): the same numbers, fewer passes
        return leaky_relu_max(x, fn.slope)
    return x * derivative(positive, fn.slope)


def leaky_relu_backward_cpu(fn, grad_out):
    positive, = fn.saved
    return (Tensor(grad_out._data * derivative(positive._data, fn.slope)),)


@forward(LeakyReLU, "cuda")
def leaky_relu_cuda(fn, x, negative_slope=0.01):
    if not kernels.USE_FUSED:
        return LeakyReLU.forward(fn, x, negative_slope)
    fn.slope = x.dtype.type(negative_slope)
    out, positive = kernels.leaky_relu(x, fn.slope)  # mask and product in one launch
    fn.save_for_backward(positive)
    return out


@backward(LeakyReLU, "cuda")
def leaky_relu_backward_cuda(fn, grad_out):
    if not kernels.USE_FUSED:
        return LeakyReLU.backward(fn, grad_out)
    positive, = fn.saved
    return (Tensor(kernels.leaky_relu_backward(grad_out._data, positive._data, fn.slope)),)


def derivative(positive, slope):
    """d(out)/dx as a float array: 1 where x > 0, slope elsewhere.

    For 0 <= slope <= 1, (1 - slope) + slope rounds to exactly 1, so x * derivative is x
    itself where x > 0; other slopes take where.
    """
    if not 0 <= slope <= 1:
        return xp_of(positive).where(positive, slope.dtype.type(1), slope)
    d = positive * (1 - slope)  # 1 - slope where x > 0, else 0
    d += slope
    return d


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
