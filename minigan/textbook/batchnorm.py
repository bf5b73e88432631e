"""BatchNorm in training mode as a textbook writes it (twin of minigan/ops/batchnorm.py).

batch_norm_simple builds the layer from primitive Tensor ops (mean, subtract, power,
divide, multiply, add), so autograd derives its backward by itself, through about ten
recorded ops. minigan/ops/batchnorm.py is one op whose backward is the closed form below,
written in Tensor ops (minigan/fast/batchnorm.py runs it on arrays in four passes over x);
batch_norm_backward_simple writes that formula plainly.

The closed form, for one channel with M values x_i (M = N, or N*H*W for images),
g_i = dL/dout_i, sigma = sqrt(var + eps), x_hat_i = (x_i - mean) / sigma:
  1. out_i = gamma x_hat_i + beta, so dL/dx_hat_i = gamma g_i, dL/dgamma = sum(g x_hat),
     dL/dbeta = sum(g).
  2. d mean / d x_i = 1/M, and d var / d x_i = 2 (x_i - mean) / M (the mean's own change
     drops out, as sum_k (x_k - mean) = 0), so d sigma / d x_i = x_hat_i / M.
  3. d x_hat_k / d x_i = (delta_ki - 1/M) / sigma - (x_k - mean) / sigma^2 * x_hat_i / M
                       = (delta_ki - 1/M - x_hat_k x_hat_i / M) / sigma.
  4. dL/dx_i = sum_k gamma g_k d x_hat_k / d x_i
             = gamma / sigma * (g_i - mean(g) - x_hat_i mean(g x_hat)).
Read: the gradient of a normalised layer is g with its mean removed and with its
component along x_hat removed, scaled by gamma / sigma. The mean goes because
normalisation forgets shifts of x: sum_i dL/dx_i = 0 exactly. The x_hat part is removed
exactly only at eps = 0, where normalisation also forgets scalings of x; with eps > 0,
sum(x_hat^2) = M var / (var + eps) falls short of M, so sum_i x_hat_i dL/dx_i =
gamma / sigma * sum(g x_hat) * eps / (var + eps): a scaling of x still moves the output a
little, most for channels whose variance is near eps.
"""
from ..backend import xp_of


def channel_shape(x):
    """(1, C, 1, 1) for x (N, C, H, W), (1, C) for x (N, C): a (C,) vector broadcast over x."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm_simple(x, weight, bias, eps=1e-5):
    """Training-mode BatchNorm of the Tensor x (N, C) or (N, C, H, W) with Tensors
    weight (gamma) and bias (beta) of shape (C,), from primitive ops (biased variance)."""
    axes = (0,) + tuple(range(2, x.ndim))  # every axis but the channels
    mean = x.mean(axis=axes, keepdims=True)  # (1, C, 1, 1)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)  # (1, C, 1, 1), biased
    x_hat = (x - mean) / (var + eps) ** 0.5
    return x_hat * weight.reshape(channel_shape(x)) + bias.reshape(channel_shape(x))


def batch_norm_backward_simple(grad_out, x, weight, eps=1e-5):
    """The closed-form backward above, on arrays: (grad_x, grad_weight, grad_bias)."""
    xp = xp_of(x)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = channel_shape(x)
    mean = x.mean(axis=axes, keepdims=True)
    sigma = xp.sqrt(x.var(axis=axes, keepdims=True) + eps)  # numpy's var is the biased one
    x_hat = (x - mean) / sigma
    g = grad_out
    grad_x = weight.reshape(shape) / sigma * (
        g - g.mean(axis=axes, keepdims=True)
        - x_hat * (g * x_hat).mean(axis=axes, keepdims=True))
    return grad_x, (g * x_hat).sum(axis=axes), g.sum(axis=axes)
