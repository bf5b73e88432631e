"""minigan.nn.functional (imported as F): the ops as functions of Tensors, as torch.nn.functional.

Each function is a thin wrapper over its op's Function. What it accepts is its contract,
declared above it (nn/contracts.py: tensor shapes as patterns of named dimensions, dtypes,
numbers), and checked before the body runs; the body is the algorithm alone.
"""
from .. import validators
from ..backend import xp_of
from ..ops import activation as act
from ..ops import batchnorm as bn_ops
from ..ops import conv as conv_ops
from ..ops import loss
from ..ops.im2col import conv_output_size, conv_transpose_output_size
from ..ops.matmul import Linear
from ..tensor import Tensor
from .contracts import contract, indices, number, tensor


# weight first in the contracts of linear and the convolutions: the layer's parameters fix
# the sizes, and an input that does not fit them is the one named in the error
@contract(weight=tensor("out_features in_features", nonempty=True), x=tensor("* in_features"),
          bias=tensor("out_features", optional=True), same_dtype=True)
def linear(x, weight, bias=None):
    """x (*, in) @ weight (out, in)^T + bias (out,) -> (*, out), as F.linear."""
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)


@contract(x=tensor(kinds="fiu"))
def relu(x, inplace=False):
    """max(x, 0), as F.relu; integer tensors too (their dtype kept), as in PyTorch.
    inplace=True writes the result into x (Tensor._write's rules) and returns x."""
    return x._write("relu_", act.ReLU.apply) if inplace else act.ReLU.apply(x)


@contract(x=tensor(), negative_slope=number(validators.finite_real))
def leaky_relu(x, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x, as F.leaky_relu (inplace=True: as relu's)."""
    if inplace:
        return x._write("leaky_relu_",
                        lambda s: act.LeakyReLU.apply(s, negative_slope=negative_slope))
    return act.LeakyReLU.apply(x, negative_slope=negative_slope)


@contract(x=tensor(kinds="fiub"))
def tanh(x):
    """tanh(x), as F.tanh; integer and bool tensors give float32, as in PyTorch."""
    return act.Tanh.apply(x._as_float())


@contract(x=tensor(kinds="fiub"))
def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow, as F.sigmoid; integer and bool tensors
    give float32, as in PyTorch."""
    return act.Sigmoid.apply(x._as_float())


# A loss's target has the input's shape; a number or array given as target becomes a
# Tensor (a number in the input's dtype, an array in its own).
@contract(p=tensor("*", within=(0, 1)), target=tensor("*", within=(0, 1), from_data=True),
          same_dtype=True)
def binary_cross_entropy(p, target):
    """mean(-[t log p + (1 - t) log(1 - p)]) over all elements, logs clamped at -100,
    as F.binary_cross_entropy. p and target hold probabilities in [0, 1], in one dtype."""
    return loss.BinaryCrossEntropy.apply(p, target)


@contract(logits=tensor("*"), target=tensor("*", from_data=True))
def binary_cross_entropy_with_logits(logits, target):
    """binary_cross_entropy(sigmoid(logits), target) in the stable softplus form, as
    F.binary_cross_entropy_with_logits. Targets outside [0, 1] are allowed, as in PyTorch.
    Of two float dtypes the target's is computed in and returned, as PyTorch 2.13 does
    (float64 logits with a float32 target give a float32 loss)."""
    return loss.BinaryCrossEntropyWithLogits.apply(logits.to(target.dtype), target)


@contract(input=tensor("*"), target=tensor("*", from_data=True))
def mse_loss(input, target):
    """mean((input - target)^2) over all elements, as F.mse_loss (reduction='mean').

    Written with Tensor ops (a difference, a product, a mean), so it is differentiable to
    any order, with respect to input and target alike."""
    diff = input - target
    return (diff * diff).mean()


@contract(logits=tensor("[N] K"),  # PyTorch: class indices as "Long or Byte"
          target=indices("[N]", below="K", dtypes=("int64", "uint8")))
def cross_entropy(logits, target):
    """mean over rows of -log softmax(logits)[target], logits (N, K), target int (N,),
    as F.cross_entropy; one unbatched example, logits (K,) and target (), as one row."""
    if logits.ndim == 1:  # unbatched, as PyTorch
        logits, target = logits.reshape(1, -1), target.reshape(1)  # (1, K), (1,)
    return loss.CrossEntropy.apply(logits, target=target)


# --- convolution and batch normalisation (ops/conv.py, ops/batchnorm.py) -----------------
# The ops take stride, padding and output_padding as (height, width) pairs (the contracts
# make them pairs); the wrappers add the bias through ordinary autograd (an Add that
# broadcasts a (1, C_out, 1, 1) view).

def conv2d_has_output(args):
    """The rule that a pattern cannot say: the padded image holds at least one window."""
    (h, w), (kh, kw) = args["x"].shape[2:], args["weight"].shape[2:]
    (ph, pw), (sh, sw) = args["padding"], args["stride"]
    if conv_output_size(h, kh, sh, ph) <= 0 or conv_output_size(w, kw, sw, pw) <= 0:
        return (f"no output: the {kh}x{kw} kernel is larger than the input of {h}x{w} pixels "
                f"with padding {(ph, pw)} ({h + 2 * ph}x{w + 2 * pw} padded)")


def conv_transpose2d_has_output(args):
    """(H - 1) stride - 2 padding + kernel + output_padding must be at least 1."""
    (h, w), (kh, kw) = args["x"].shape[2:], args["weight"].shape[2:]
    stride, padding, output_padding = args["stride"], args["padding"], args["output_padding"]
    oh, ow = (conv_transpose_output_size(*a) for a in
              zip((h, w), (kh, kw), stride, padding, output_padding))
    if oh <= 0 or ow <= 0:
        return (f"the output, (H - 1) stride - 2 padding + kernel + output_padding, would be "
                f"{oh}x{ow} for an input of {h}x{w} pixels, a {kh}x{kw} kernel, stride "
                f"{stride}, padding {padding} and output_padding {output_padding}")


def _add_channel_bias(out, bias):
    """out (N, C, H, W) + bias (C,), broadcast over batch and pixels (autograd sums it back)."""
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


@contract(weight=tensor("C_out C_in kH kW", nonempty=True), x=tensor("N C_in H W", nonempty=True),
          bias=tensor("C_out", optional=True), stride=number(validators.pair, minimum=1),
          padding=number(validators.pair, minimum=0), same_dtype=True,
          rules=[conv2d_has_output])
def conv2d(x, weight, bias=None, stride=1, padding=0):
    """x (N, C_in, H, W) cross-correlated with weight (C_out, C_in, kH, kW), plus bias
    (C_out,): (N, C_out, OH, OW) with OH = (H + 2 padding - kH) // stride + 1 (and OW
    likewise), as torch.nn.functional.conv2d."""
    out = conv_ops.Conv2d.apply(x, weight, stride=stride, padding=padding)
    return _add_channel_bias(out, bias)


@contract(weight=tensor("C_in C_out kH kW", nonempty=True), x=tensor("N C_in H W", nonempty=True),
          bias=tensor("C_out", optional=True), stride=number(validators.pair, minimum=1),
          padding=number(validators.pair, minimum=0),
          output_padding=number(validators.output_padding, "stride"), same_dtype=True,
          rules=[conv_transpose2d_has_output])
def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    """The adjoint of conv2d (the gradient of conv2d with respect to its input): x
    (N, C_in, H, W), weight (C_in, C_out, kH, kW), bias (C_out,) -> (N, C_out, OH, OW) with
    OH = (H - 1) stride - 2 padding + kH + output_padding (and OW likewise), as
    torch.nn.functional.conv_transpose2d."""
    out = conv_ops.ConvTranspose2d.apply(x, weight, stride=stride, padding=padding,
                                         output_padding=output_padding)
    return _add_channel_bias(out, bias)


def both_running_statistics_or_neither(args):
    if (args["running_mean"] is None) != (args["running_var"] is None):
        return "give both running_mean and running_var, or neither"


def more_than_one_value_per_channel(args):
    """Batch statistics (training, or no running ones, as PyTorch) of one value are none."""
    x = args["x"]
    if (args["training"] or args["running_mean"] is None) and x.ndim > 1 and x.shape[1] \
            and x.numel() // x.shape[1] == 1:  # (N * H * W == 1, as PyTorch)
        return (f"expected more than 1 value per channel when training, got input of shape "
                f"{x.shape}")


@contract(x=tensor("N C *"), running_mean=tensor("C", optional=True),
          running_var=tensor("C", optional=True), weight=tensor("C", optional=True),
          bias=tensor("C", optional=True), momentum=number(validators.fraction),
          eps=number(validators.finite_real, minimum=0), same_dtype=True,  # running stats
          rules=[both_running_statistics_or_neither, more_than_one_value_per_channel])
def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel of x (N, C) or (N, C, H, W), then scale by weight (C,) and
    shift by bias (C,), as torch.nn.functional.batch_norm. In training (or without running
    statistics) the batch's mean and biased variance are used, and running_mean and
    running_var (buffers of shape (C,), or None) are updated in place with momentum and
    the unbiased variance; in eval the running statistics are used."""
    # A missing weight or bias is a constant 1 or 0: exact in float, and no gradient is
    # computed for a tensor that does not require grad.
    c, xp = x.shape[1], xp_of(x._data)
    weight = weight if weight is not None else Tensor(xp.ones(c, dtype=x.dtype))
    bias = bias if bias is not None else Tensor(xp.zeros(c, dtype=x.dtype))
    if x.numel() == 0:  # no statistics to take or use: an empty output, running stats kept
        view = (1, c) + (1,) * (x.ndim - 2)  # as PyTorch; weight and bias get zero gradients
        return x * weight.reshape(*view) + bias.reshape(*view)
    return bn_ops.BatchNorm.apply(
        x, weight, bias,
        running_mean=None if running_mean is None else running_mean._data,
        running_var=None if running_var is None else running_var._data,
        training=training or running_mean is None,  # as PyTorch without running stats
        momentum=float(momentum), eps=eps)


# --- embedding lookup (nn/embedding.py, ops/embedding.py) --------------------------------
from .embedding import embedding  # noqa: E402, F401

# --- dropout, softmax, resizing: each with its Module, in its own file ---------------------
from .dropout import dropout, dropout2d  # noqa: E402, F401
from .softmax import log_softmax, softmax  # noqa: E402, F401
from .upsampling import interpolate  # noqa: E402, F401
