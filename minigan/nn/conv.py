"""Conv2d and ConvTranspose2d layers (as torch.nn): a weight, an optional bias, F.conv*.

Conv2d's weight is (C_out, C_in, kH, kW) and maps (N, C_in, H, W) to (N, C_out, OH, OW);
ConvTranspose2d's is (C_in, C_out, kH, kW), the layout of the conv whose input gradient
it computes. Both start as PyTorch's do: kaiming_uniform(a=sqrt(5)), that is
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1] * kH * kW (C_out*kH*kW
for the transposed conv, as PyTorch computes it), and the bias from the same uniform.
"""
import numbers

from .. import creation
from . import functional as F
from . import init
from .module import Module, Parameter


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _positive_int(layer, arg, value):
    if not _is_int(value) or value <= 0:
        raise ValueError(f"{layer}: {arg} must be a positive integer, got {value!r}")
    return int(value)


def _pair(layer, arg, value, minimum):
    """An int or a (height, width) pair of ints >= minimum, as a pair."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(_is_int(v) and v >= minimum for v in pair):
        raise ValueError(f"{layer}: {arg} must be an int >= {minimum} or a pair of them, "
                         f"got {value!r}")
    return int(pair[0]), int(pair[1])


class _ConvNd(Module):
    """What both layers share: arguments, parameters, the input check and the repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding,
                 output_padding, bias, weight_shape):
        super().__init__()
        layer = type(self).__name__
        self.in_channels = _positive_int(layer, "in_channels", in_channels)
        self.out_channels = _positive_int(layer, "out_channels", out_channels)
        self.kernel_size = _pair(layer, "kernel_size", kernel_size, 1)
        self.stride = _pair(layer, "stride", stride, 1)
        self.padding = _pair(layer, "padding", padding, 0)
        self.output_padding = _pair(layer, "output_padding", output_padding, 0)
        self.weight = Parameter(creation.zeros(*weight_shape, *self.kernel_size))
        self.bias = Parameter(creation.zeros(out_channels)) if bias else None
        init.default_weight_and_bias_(self.weight, self.bias)

    def check_input(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r}: expected input (N, {self.in_channels}, H, W) with "
                             f"{self.in_channels} channels, got shape {x.shape}")

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """(N, C_in, H, W) -> (N, C_out, (H + 2 padding - kH) // stride + 1, ...), as
    torch.nn.Conv2d."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, 0, bias,
                         weight_shape=(out_channels, in_channels))

    def forward(self, x):
        self.check_input(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)


class ConvTranspose2d(_ConvNd):
    """(N, C_in, H, W) -> (N, C_out, (H - 1) stride - 2 padding + kH + output_padding, ...),
    as torch.nn.ConvTranspose2d."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         output_padding, bias, weight_shape=(in_channels, out_channels))
        if any(op >= s for op, s in zip(self.output_padding, self.stride)):
            raise ValueError(f"ConvTranspose2d: output_padding {self.output_padding} must be "
                             f"smaller than stride {self.stride}")

    def forward(self, x):
        self.check_input(x)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding)
