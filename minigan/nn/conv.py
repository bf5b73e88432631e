"""Conv2d and ConvTranspose2d layers (as torch.nn): a weight, an optional bias, F.conv*.

Conv2d's weight is (C_out, C_in, kH, kW) and maps (N, C_in, H, W) to (N, C_out, OH, OW);
ConvTranspose2d's is (C_in, C_out, kH, kW), the layout of the conv whose input gradient
it computes. Both start as PyTorch's do: kaiming_uniform(a=sqrt(5)), that is
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1] * kH * kW (C_out*kH*kW
for the transposed conv, as PyTorch computes it), and the bias from the same uniform.
"""
from .. import creation, validators
from . import functional as F
from . import init
from .module import Module, Parameter


class _ConvNd(Module):
    """What both layers share: arguments, parameters, the input check and the repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding,
                 output_padding, bias, weight_shape):
        super().__init__()
        layer = type(self).__name__
        self.in_channels = validators.integer(layer, "in_channels", in_channels, minimum=1)
        self.out_channels = validators.integer(layer, "out_channels", out_channels, minimum=1)
        self.kernel_size = validators.pair(layer, "kernel_size", kernel_size, minimum=1)
        self.stride = validators.pair(layer, "stride", stride, minimum=1)
        self.padding = validators.pair(layer, "padding", padding, minimum=0)
        self.output_padding = validators.output_padding(layer, "output_padding", output_padding,
                                                         self.stride)
        self.weight = Parameter(creation.zeros(*weight_shape, *self.kernel_size))
        self.bias = Parameter(creation.zeros(out_channels)) if bias else None
        init.default_weight_and_bias_(self.weight, self.bias)

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

    def forward(self, x):  # (F.conv2d's contract checks x against the weight)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)


class ConvTranspose2d(_ConvNd):
    """(N, C_in, H, W) -> (N, C_out, (H - 1) stride - 2 padding + kH + output_padding, ...),
    as torch.nn.ConvTranspose2d."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         output_padding, bias, weight_shape=(in_channels, out_channels))

    def forward(self, x):  # (F.conv_transpose2d's contract checks x against the weight)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding)
