"""BatchNorm, faster: backward's closed form on arrays in four passes, in place; on the
GPU, the training forward in 4 fused launches and that backward in 3 (kernels.py).

The definition (ops/batchnorm.py) writes backward in Tensor ops, with x_hat recomputed
as a function of x so that create_graph can differentiate it. When nothing is recorded
the same closed form runs here on the saved arrays:
    grad_x = gamma * inv_std * (g - mean(g) - x_hat * mean(g * x_hat))
"""
from ..backend import xp_of
from ..ops.batchnorm import BatchNorm, channel_sum
from ..tensor import Tensor
from . import backward, forward, kernels


@forward(BatchNorm, "cuda")
def batch_norm_cuda(fn, x, weight, bias, running_mean=None, running_var=None, training=True,
                    momentum=0.1, eps=1e-5):
    fn.fused = training and fused_training_ok(x, weight, bias, running_mean, running_var)
    if not fn.fused:
        return BatchNorm.forward(fn, x, weight, bias, running_mean, running_var, training,
                                 momentum, eps)
    c = x.shape[1]  # what the definition's forward sets on fn, for backward
    fn.shape = (1, c) + (1,) * (x.ndim - 2)
    fn.axes = (0,) + tuple(range(2, x.ndim))
    fn.count = x.size // c
    fn.training, fn.eps = training, eps
    out, x_hat, mean, inv_std = kernels.batch_norm_training(
        x, weight, bias, running_mean, running_var, momentum, eps)
    fn.save_for_backward(x_hat if fn.keeps_x_hat() else None, weight, mean, inv_std)
    return out


def fused_training_ok(x, weight, bias, running_mean, running_var):
    """Whether kernels.batch_norm_training can stand in for the plain training forward: on
    the GPU, with running statistics, everything in x's dtype, and a non-empty batch."""
    arrays = (weight, bias, running_mean, running_var)
    return kernels.fused(x) and x.size > 0 and all(
        a is not None and a.dtype == x.dtype for a in arrays)


@backward(BatchNorm, "cuda")  # the CPU's: channels.py, which falls back to this
def batch_norm_backward(fn, grad_out):
    """The definition's formulas on arrays, in as few passes as possible."""
    x_hat, weight, _, inv_std = (None if t is None else t._data for t in fn.saved)
    g = grad_out._data
    needs_x, needs_weight, needs_bias = fn.needs_input_grad
    scale = weight * inv_std  # gamma * inv_std, (C,)
    if getattr(fn, "fused", False) and needs_x:  # the lines below in 3 launches
        grad_x, grad_weight, grad_bias = kernels.batch_norm_training_backward(g, x_hat, scale)
    else:
        grad_x = grad_weight = grad_bias = None
        if needs_bias or (needs_x and fn.training):
            grad_bias = channel_sum(g)  # sum(g), (C,)
        if needs_weight or (needs_x and fn.training):
            grad_weight = channel_sum(g, x_hat)  # sum(g * x_hat), (C,)
        if needs_x and fn.training:
            # (g - mean(g) - x_hat * mean(g * x_hat)) * gamma * inv_std, in four passes
            grad_x = x_hat * (grad_weight / fn.count).reshape(fn.shape)
            grad_x += (grad_bias / fn.count).reshape(fn.shape)
            xp_of(g).subtract(g, grad_x, out=grad_x)
            grad_x *= scale.reshape(fn.shape)
        elif needs_x:  # eval: out is affine in x, with slope gamma * inv_std
            grad_x = g * scale.reshape(fn.shape)
    return tuple(Tensor(a) if a is not None and needs else None for a, needs in
                 zip((grad_x, grad_weight, grad_bias), fn.needs_input_grad))
