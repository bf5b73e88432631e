"""Weight initialisation, as torch.nn.init: in-place draws from the seeded host generator.

Draws are made on the host and then copied to the tensor's device, so a model built
with the same seed starts from identical weights on "cpu" and "cuda". PyTorch's default
for Linear and Conv layers is kaiming_uniform_ with a = sqrt(5): gain = sqrt(2 / (1 + a^2))
= sqrt(1/3), bound = gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in).
"""
import math

from .. import backend


def calculate_fan_in_and_fan_out(shape):
    """fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive field.

    For a ConvTranspose2d weight (C_in, C_out, kh, kw) this makes fan_in = C_out * kh * kw,
    exactly as PyTorch computes it.
    """
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, got {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fill(tensor, host_array):
    """Write into the tensor's storage (a Parameter, or its .data: the same storage), as
    torch.nn.init does under no_grad; its version counter counts the change."""
    tensor._data[...] = backend.to_device(host_array.astype(tensor.dtype, copy=False), tensor.device)
    tensor._version += 1
    return tensor


def uniform_(tensor, low=0.0, high=1.0):
    """Fill with draws from U(low, high)."""
    generator = backend.default_generator("cpu")
    return _fill(tensor, generator.uniform(tensor.shape, tensor.dtype, low, high))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with draws from N(mean, std^2)."""
    generator = backend.default_generator("cpu")
    return _fill(tensor, generator.normal(tensor.shape, tensor.dtype) * std + mean)


def constant_(tensor, value):
    tensor._data[...] = value
    tensor._version += 1
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def kaiming_uniform_(tensor, a=0.0):
    """U(-bound, bound) with bound = sqrt(2 / (1 + a^2)) * sqrt(3 / fan_in) (leaky_relu gain)."""
    fan_in, _ = calculate_fan_in_and_fan_out(tensor.shape)
    gain = math.sqrt(2.0 / (1 + a * a))
    bound = gain * math.sqrt(3.0 / fan_in) if fan_in else 0.0
    return uniform_(tensor, -bound, bound)


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation, as torch.nn.init.calculate_gain."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def xavier_uniform_(tensor, gain=1.0):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std^2) with std = gain / sqrt(fan) (He et al., 2015)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor.shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out}.get(mode)
    if fan is None:
        raise ValueError(f"kaiming_normal_: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(fan) if fan else 0.0)


def default_weight_and_bias_(weight, bias):
    """PyTorch's reset_parameters for Linear and Conv layers (the default initialisation)."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = calculate_fan_in_and_fan_out(weight.shape)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)

