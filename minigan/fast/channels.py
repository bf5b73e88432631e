"""BatchNorm and the piecewise-linear activations on every core: shares of channels.

Each of these works channel by channel (BatchNorm's statistics are per channel, the
activations per number), and in the batch-last memory of the conv layers' outputs
(ops/im2col.py) a range of channels is one contiguous block. So a large input is cut
into channel ranges, one per thread, each running the serial version's passes on its
block (threaded.py's workers; NumPy releases the GIL in them). The activations give the
same numbers bit for bit; BatchNorm's sums over a block may be added in another order
than over the whole array (NumPy's einsum), so it agrees to rounding
(tests/test_fast_paths_threaded.py). Inputs under MIN_ELEMENTS, and 2-D ones (the MLP's),
run the serial versions (fast/activation.py, fast/batchnorm.py, the ReLU definition).
"""
import numpy as np

from ..ops.activation import LeakyReLU, ReLU
from ..ops.batchnorm import BatchNorm, channel_sum
from ..tensor import Tensor
from . import backward, forward
from .activation import derivative, leaky_relu_backward_cpu, leaky_relu_cpu
from .batchnorm import batch_norm_backward
from .threaded import in_shares, ways

MIN_ELEMENTS = 2 ** 18  # smaller inputs run serially (handing out shares costs ~50 us)


def channel_ways(x):
    """How many channel shares an input x (N, C, H, W) is cut into (1: run serially): only
    inputs in batch-last memory, where a channel range is one block (in (N, C, H, W)
    memory BatchNorm's sums over a strided range measured 2-4x slower)."""
    if x.ndim != 4 or x.size < MIN_ELEMENTS or x.shape[1] < 2 or x.strides[0] != x.itemsize:
        return 1
    return ways(float("inf"))  # the thread count now (threads.ops_threads)


# ----------------------------------------------------------------------------- activations
@forward(LeakyReLU, "cpu")
def leaky_relu_forward_cpu(fn, x, negative_slope=0.01):
    """leaky_relu_cpu (activation.py) on channel shares."""
    n = channel_ways(x)
    if n == 1:
        return leaky_relu_cpu(fn, x, negative_slope)
    fn.slope = slope = x.dtype.type(negative_slope)
    positive, out = np.empty_like(x, dtype=bool), np.empty_like(x)
    fn.save_for_backward(positive)

    def share(c0, c1):
        xs, outs = x[:, c0:c1], out[:, c0:c1]
        np.greater(xs, 0, out=positive[:, c0:c1])
        if 0 < slope <= 1:  # leaky_relu_max
            np.maximum(np.multiply(xs, slope, out=outs), xs, out=outs)
        else:
            np.multiply(xs, derivative(positive[:, c0:c1], slope), out=outs)

    in_shares(n, x.shape[1], share)
    return out


@backward(LeakyReLU, "cpu")
def leaky_relu_backward_shares(fn, grad_out):
    """grad_out * derivative(positive), on channel shares."""
    g = grad_out._data
    n = channel_ways(g)
    if n == 1:
        return leaky_relu_backward_cpu(fn, grad_out)
    positive, = fn.saved
    grad_x = np.empty_like(g)

    def share(c0, c1):
        np.multiply(g[:, c0:c1], derivative(positive._data[:, c0:c1], fn.slope),
                    out=grad_x[:, c0:c1])

    in_shares(n, g.shape[1], share)
    return (Tensor(grad_x),)


@forward(ReLU, "cpu")
def relu_forward_cpu(fn, x):
    """The definition (ops/activation.py) on channel shares."""
    n = channel_ways(x)
    if n == 1:
        return ReLU.forward(fn, x)
    passes, out = np.empty_like(x, dtype=bool), np.empty_like(x)
    fn.save_for_backward(passes)

    def share(c0, c1):
        np.greater(x[:, c0:c1], 0, out=passes[:, c0:c1])  # = not (x <= 0), NaN aside
        np.logical_or(passes[:, c0:c1], np.isnan(x[:, c0:c1]), out=passes[:, c0:c1])
        np.maximum(x[:, c0:c1], 0, out=out[:, c0:c1])

    in_shares(n, x.shape[1], share)
    return out


@backward(ReLU, "cpu")
def relu_backward_cpu(fn, grad_out):
    """grad_out * passes, as the definition's Mul, on channel shares."""
    passes, = fn.saved
    g = grad_out._data
    n = channel_ways(g)
    if n == 1:
        return (Tensor(g * passes._data),)
    grad_x = np.empty_like(g)

    def share(c0, c1):
        np.multiply(g[:, c0:c1], passes._data[:, c0:c1], out=grad_x[:, c0:c1])

    in_shares(n, g.shape[1], share)
    return (Tensor(grad_x),)


# ----------------------------------------------------------------------------- BatchNorm
@forward(BatchNorm, "cpu")
def batch_norm_forward_cpu(fn, x, weight, bias, running_mean=None, running_var=None,
                           training=True, momentum=0.1, eps=1e-5):
    """The definition's training forward, each share the statistics, x_hat and the output
    of its channels; the running statistics (C numbers) after, as the definition does."""
    n = channel_ways(x) if training else 1
    if n == 1:
        return BatchNorm.forward(fn, x, weight, bias, running_mean, running_var, training,
                                 momentum, eps)
    c = x.shape[1]
    fn.shape, fn.axes, fn.count = (1, c, 1, 1), (0, 2, 3), x.size // c  # as the definition
    fn.training, fn.eps = training, eps
    x_hat, out = np.empty_like(x), np.empty_like(x)
    mean, var, inv_std = (np.empty(c, x.dtype) for _ in range(3))

    def share(c0, c1):
        xs, xh, shape = x[:, c0:c1], x_hat[:, c0:c1], (1, c1 - c0, 1, 1)
        mean[c0:c1] = channel_sum(xs) / fn.count
        np.subtract(xs, mean[c0:c1].reshape(shape), out=xh)  # centred
        var[c0:c1] = channel_sum(xh, xh) / fn.count  # biased
        inv_std[c0:c1] = 1 / np.sqrt(var[c0:c1] + eps)
        xh *= inv_std[c0:c1].reshape(shape)
        np.multiply(xh, weight[c0:c1].reshape(shape), out=out[:, c0:c1])
        out[:, c0:c1] += bias[c0:c1].reshape(shape)

    in_shares(n, c, share)
    if running_mean is not None:  # the definition's update, on (C,) arrays
        unbiased = var * (fn.count / max(fn.count - 1, 1))
        running_mean *= 1 - momentum
        running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
        running_var *= 1 - momentum
        running_var += momentum * unbiased.astype(running_var.dtype, copy=False)
    fn.save_for_backward(x_hat if fn.keeps_x_hat() else None, weight, mean, inv_std)
    return out


@backward(BatchNorm, "cpu")
def batch_norm_backward_cpu(fn, grad_out):
    """batch_norm_backward (batchnorm.py) in training, each share its channels' sums and
    grad_x: gamma * inv_std * (g - mean(g) - x_hat * mean(g * x_hat))."""
    g = grad_out._data
    n = channel_ways(g) if fn.training and fn.needs_input_grad[0] else 1
    if n == 1:
        return batch_norm_backward(fn, grad_out)
    x_hat, weight, _, inv_std = (None if t is None else t._data for t in fn.saved)
    c = g.shape[1]
    grad_x = np.empty_like(g)
    grad_weight, grad_bias = np.empty(c, g.dtype), np.empty(c, g.dtype)

    def share(c0, c1):
        gs, xh, gx, shape = g[:, c0:c1], x_hat[:, c0:c1], grad_x[:, c0:c1], (1, c1 - c0, 1, 1)
        grad_bias[c0:c1] = channel_sum(gs)  # sum(g)
        grad_weight[c0:c1] = channel_sum(gs, xh)  # sum(g * x_hat)
        np.multiply(xh, (grad_weight[c0:c1] / fn.count).reshape(shape), out=gx)
        gx += (grad_bias[c0:c1] / fn.count).reshape(shape)
        np.subtract(gs, gx, out=gx)
        gx *= (weight[c0:c1] * inv_std[c0:c1]).reshape(shape)

    in_shares(n, c, share)
    return tuple(Tensor(a) if needs else None for a, needs in
                 zip((grad_x, grad_weight, grad_bias), fn.needs_input_grad))
