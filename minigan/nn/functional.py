"""minigan.nn.functional (imported as F): the ops as functions of Tensors, as torch.nn.functional.

Each function is a thin wrapper: check its arguments with a message that names the
function, the shapes received and what was expected, then apply the op's Function.
"""
import numpy as np

from .. import validators
from ..ops import activation as act
from ..ops import loss
from ..ops.matmul import Linear
from ..tensor import Tensor


def check_tensor(name, x, arg="input"):
    """`x` must be a floating-point Tensor."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: {arg} must be a minigan.Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: {arg} must be a floating-point tensor (float32 or float64), "
                        f"got dtype {x.dtype}")


def check_numeric(name, x, kinds):
    """`x` must be a Tensor of a dtype kind in `kinds` (f float, iu integer, b bool)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a minigan.Tensor, got {type(x).__name__}")
    if x.dtype.kind not in kinds:
        raise TypeError(f"{name}: not supported for dtype {x.dtype}, as in PyTorch")


def check_same_dtype(name, x, t, arg):
    """Ops that PyTorch runs in one dtype refuse a second one, naming both."""
    if t.dtype != x.dtype:
        raise TypeError(f"{name}: input is {x.dtype} but {arg} is {t.dtype}; they must have "
                        f"the same dtype (convert one with .to(dtype))")


def check_unit_interval(name, p, target):
    """Every element of p and target in [0, 1], NaN refused, as PyTorch's BCE checks.

    One pass of min and max over each (NaN propagates through both, so it fails the test);
    the answer is read back once, which on a GPU waits for the device (PyTorch's CUDA
    kernel asserts on the device instead, without waiting)."""
    if not bool(in_unit_interval(p._data) & in_unit_interval(target._data)):
        arg = "target" if bool(in_unit_interval(p._data)) else "input"
        raise ValueError(f"{name}: all elements of {arg} should be between 0 and 1 (and none "
                         f"NaN), as for PyTorch: {arg} holds probabilities")


def in_unit_interval(a):
    """0 <= a <= 1 everywhere (True for an empty array), as a 0-d array or a bool."""
    return a.size == 0 or (a.min() >= 0) & (a.max() <= 1)


def check_same_shape(name, a, b, a_name="input", b_name="target"):
    if a.shape != b.shape:
        raise ValueError(f"{name}: {a_name} has shape {a.shape} but {b_name} has shape {b.shape}; "
                         f"they must match")


def linear(x, weight, bias=None):
    """x (*, in) @ weight (out, in)^T + bias (out,) -> (*, out), as F.linear."""
    check_tensor("linear", x)
    check_tensor("linear", weight, "weight")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must have shape (out_features, in_features), "
                         f"got {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape "
                         f"{weight.shape}: expected input (*, {weight.shape[1]})")
    if weight.numel() == 0:
        raise ValueError(f"linear: weight of shape {weight.shape} is empty; minigan needs at "
                         f"least one input and one output feature")
    check_same_dtype("linear", x, weight, "weight")
    if bias is None:
        return Linear.apply(x, weight)
    check_tensor("linear", bias, "bias")
    check_same_dtype("linear", x, bias, "bias")
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    return Linear.apply(x, weight, bias)


def relu(x, inplace=False):
    """max(x, 0), as F.relu; integer tensors too (their dtype kept), as in PyTorch.
    inplace=True writes the result into x (Tensor._write's rules) and returns x."""
    check_numeric("relu", x, "fiu")
    return x._write("relu_", act.ReLU.apply) if inplace else act.ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x, as F.leaky_relu (inplace=True: as relu's)."""
    check_tensor("leaky_relu", x)
    negative_slope = validators.finite_real("leaky_relu", "negative_slope", negative_slope)
    if inplace:
        return x._write("leaky_relu_",
                        lambda s: act.LeakyReLU.apply(s, negative_slope=negative_slope))
    return act.LeakyReLU.apply(x, negative_slope=negative_slope)


def tanh(x):
    """tanh(x), as F.tanh; integer and bool tensors give float32, as in PyTorch."""
    check_numeric("tanh", x, "fiub")
    return act.Tanh.apply(x._as_float())


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow, as F.sigmoid; integer and bool tensors
    give float32, as in PyTorch."""
    check_numeric("sigmoid", x, "fiub")
    return act.Sigmoid.apply(x._as_float())


def _loss_target(name, x, target):
    """The target as a Tensor of x's shape (a number given as target takes x's dtype, an
    array keeps its own)."""
    if not isinstance(target, Tensor):
        target = x._operand(target, x.dtype)
    check_tensor(name, target, "target")
    check_same_shape(name, x, target)
    return target


def binary_cross_entropy(p, target):
    """mean(-[t log p + (1 - t) log(1 - p)]) over all elements, logs clamped at -100,
    as F.binary_cross_entropy. p and target hold probabilities in [0, 1], in one dtype."""
    name = "binary_cross_entropy"
    check_tensor(name, p)
    target = _loss_target(name, p, target)
    check_same_dtype(name, p, target, "target")
    check_unit_interval(name, p, target)
    return loss.BinaryCrossEntropy.apply(p, target)


def binary_cross_entropy_with_logits(logits, target):
    """binary_cross_entropy(sigmoid(logits), target) in the stable softplus form, as
    F.binary_cross_entropy_with_logits. Targets outside [0, 1] are allowed, as in PyTorch.
    Of two float dtypes the target's is computed in and returned, as PyTorch 2.13 does
    (float64 logits with a float32 target give a float32 loss)."""
    check_tensor("binary_cross_entropy_with_logits", logits)
    target = _loss_target("binary_cross_entropy_with_logits", logits, target)
    return loss.BinaryCrossEntropyWithLogits.apply(logits.to(target.dtype), target)


def mse_loss(input, target):
    """mean((input - target)^2) over all elements, as F.mse_loss (reduction='mean').

    Written with Tensor ops (a difference, a product, a mean), so it is differentiable to
    any order, with respect to input and target alike."""
    check_tensor("mse_loss", input)
    target = _loss_target("mse_loss", input, target)
    diff = input - target
    return (diff * diff).mean()


def cross_entropy(logits, target):
    """mean over rows of -log softmax(logits)[target], logits (N, K), target int (N,),
    as F.cross_entropy."""
    check_tensor("cross_entropy", logits)
    target = target._data if isinstance(target, Tensor) else target
    if logits.ndim != 2 or getattr(target, "shape", None) != (logits.shape[0],):
        raise ValueError(f"cross_entropy: expected logits (N, K) and integer target (N,), got "
                         f"{logits.shape} and {getattr(target, 'shape', type(target).__name__)}")
    if target.dtype not in (np.int64, np.uint8):  # PyTorch: "Long or Byte"
        raise TypeError(f"cross_entropy: target must hold integer class indices, as int64 "
                        f"(or uint8), "
                        f"got {target.dtype}")
    if target.size and (int(target.min()) < 0 or int(target.max()) >= logits.shape[1]):
        raise ValueError(f"cross_entropy: target classes must be in [0, {logits.shape[1]})")
    return loss.CrossEntropy.apply(logits, target=target)


# --- convolution and batch normalisation (ops/conv.py, ops/batchnorm.py) -----------------
from ..backend import DeviceError, xp_of  # noqa: E402
from ..ops import batchnorm as bn_ops  # noqa: E402
from ..ops import conv as conv_ops  # noqa: E402
from ..ops.im2col import conv_output_size, conv_transpose_output_size  # noqa: E402

# The ops take stride, padding and output_padding as (height, width) pairs; these
# wrappers accept an int for both, check shapes against the formulas, and add the
# bias through ordinary autograd (an Add that broadcasts a (1, C_out, 1, 1) view).


def _check_conv_args(name, x, weight, bias, stride, padding):
    """The checks conv2d and conv_transpose2d share; returns stride, padding as pairs."""
    check_tensor(name, x)
    check_tensor(name, weight, "weight")
    stride = validators.pair(name, "stride", stride, minimum=1)
    padding = validators.pair(name, "padding", padding, minimum=0)
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if weight.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D weight, got shape {weight.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"{name}: input is {x.dtype} but weight is {weight.dtype}; "
                        f"they must have the same dtype")
    if weight.numel() == 0 or (x.numel() == 0 and x.shape[0] > 0):
        # a batch of zero images is fine (an empty output, as in PyTorch); an empty image,
        # channel axis or kernel is not
        raise ValueError(f"{name}: input of shape {x.shape} or weight of shape {weight.shape} "
                         f"is empty; minigan's convolutions need one channel in and out, "
                         f"images and a kernel of at least 1x1 (a batch of zero images is "
                         f"fine, as in PyTorch)")
    if bias is not None:
        check_tensor(name, bias, "bias")
        c_out = weight.shape[0] if name == "conv2d" else weight.shape[1]
        if bias.shape != (c_out,):
            raise ValueError(f"{name}: bias must have shape ({c_out},) for weight of shape "
                             f"{weight.shape}, got {bias.shape}")
        if bias.dtype != x.dtype:
            raise TypeError(f"{name}: input is {x.dtype} but bias is {bias.dtype}; "
                            f"they must have the same dtype")
    return stride, padding


def _add_channel_bias(out, bias):
    """out (N, C, H, W) + bias (C,), broadcast over batch and pixels (autograd sums it back)."""
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """x (N, C_in, H, W) cross-correlated with weight (C_out, C_in, kH, kW), plus bias
    (C_out,): (N, C_out, OH, OW) with OH = (H + 2 padding - kH) // stride + 1 (and OW
    likewise), as torch.nn.functional.conv2d."""
    stride, padding = _check_conv_args("conv2d", x, weight, bias, stride, padding)
    n, c_in, h, w = x.shape
    _, c_w, kh, kw = weight.shape
    if c_in != c_w:
        raise ValueError(f"conv2d: input of shape {x.shape} has {c_in} channels, but weight of "
                         f"shape {weight.shape} (C_out, C_in, kH, kW) expects C_in = {c_w}")
    oh = conv_output_size(h, kh, stride[0], padding[0])
    ow = conv_output_size(w, kw, stride[1], padding[1])
    if oh <= 0 or ow <= 0:
        raise ValueError(f"conv2d: no output: the {kh}x{kw} kernel is larger than the input of "
                         f"{h}x{w} pixels with padding {padding} "
                         f"({h + 2 * padding[0]}x{w + 2 * padding[1]} padded)")
    out = conv_ops.Conv2d.apply(x, weight, stride=stride, padding=padding)
    return _add_channel_bias(out, bias)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    """The adjoint of conv2d (the gradient of conv2d with respect to its input): x
    (N, C_in, H, W), weight (C_in, C_out, kH, kW), bias (C_out,) -> (N, C_out, OH, OW) with
    OH = (H - 1) stride - 2 padding + kH + output_padding (and OW likewise), as
    torch.nn.functional.conv_transpose2d."""
    name = "conv_transpose2d"
    stride, padding = _check_conv_args(name, x, weight, bias, stride, padding)
    output_padding = validators.output_padding(name, output_padding, stride)
    n, c_in, h, w = x.shape
    c_w, _, kh, kw = weight.shape
    if c_in != c_w:
        raise ValueError(f"{name}: input of shape {x.shape} has {c_in} channels, but weight of "
                         f"shape {weight.shape} (C_in, C_out, kH, kW) expects C_in = {c_w}")
    oh, ow = (conv_transpose_output_size(*a) for a in
              zip((h, w), (kh, kw), stride, padding, output_padding))
    if oh <= 0 or ow <= 0:
        raise ValueError(f"{name}: the output, (H - 1) stride - 2 padding + kernel + "
                         f"output_padding, would be {oh}x{ow} for an input of {h}x{w} pixels, "
                         f"a {kh}x{kw} kernel, stride {stride}, padding {padding} and "
                         f"output_padding {output_padding}")
    out = conv_ops.ConvTranspose2d.apply(x, weight, stride=stride, padding=padding,
                                         output_padding=output_padding)
    return _add_channel_bias(out, bias)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel of x (N, C) or (N, C, H, W), then scale by weight (C,) and
    shift by bias (C,), as torch.nn.functional.batch_norm. In training (or without running
    statistics) the batch's mean and biased variance are used, and running_mean and
    running_var (buffers of shape (C,), or None) are updated in place with momentum and
    the unbiased variance; in eval the running statistics are used."""
    name = "batch_norm"
    check_tensor(name, x)
    if x.ndim < 2:
        raise ValueError(f"{name}: expected input (N, C) or (N, C, H, W), got shape {x.shape}")
    c = x.shape[1]
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{name}: give both running_mean and running_var, or neither")
    for arg, t in (("running_mean", running_mean), ("running_var", running_var),
                   ("weight", weight), ("bias", bias)):
        if t is None:
            continue
        check_tensor(name, t, arg)
        if t.shape != (c,):
            raise ValueError(f"{name}: {arg} must have shape ({c},) for input of shape "
                             f"{x.shape} with {c} channels, got {t.shape}")
        if t.device != x.device:
            raise DeviceError(f"{name}: input is on '{x.device}' but {arg} is on '{t.device}'")
        check_same_dtype(name, x, t, arg)  # running statistics too, as PyTorch on the CPU
    validators.fraction(name, "momentum", momentum)
    eps = validators.finite_real(name, "eps", eps, minimum=0)
    use_batch_stats = training or running_mean is None  # as PyTorch without running stats
    if use_batch_stats and x.numel() // max(c, 1) <= 1:
        raise ValueError(f"{name}: expected more than 1 value per channel when training, "
                         f"got input of shape {x.shape}")
    # A missing weight or bias is a constant 1 or 0: exact in float, and no gradient is
    # computed for a tensor that does not require grad.
    xp = xp_of(x._data)
    weight = weight if weight is not None else Tensor(xp.ones(c, dtype=x.dtype))
    bias = bias if bias is not None else Tensor(xp.zeros(c, dtype=x.dtype))
    return bn_ops.BatchNorm.apply(
        x, weight, bias,
        running_mean=None if running_mean is None else running_mean._data,
        running_var=None if running_var is None else running_var._data,
        training=use_batch_stats, momentum=float(momentum), eps=eps)


# --- embedding lookup (nn/embedding.py, ops/embedding.py) --------------------------------
from .embedding import embedding  # noqa: E402, F401

# --- dropout, softmax, resizing: each with its Module, in its own file ---------------------
from .dropout import dropout, dropout2d  # noqa: E402, F401
from .softmax import log_softmax, softmax  # noqa: E402, F401
from .upsampling import interpolate  # noqa: E402, F401
