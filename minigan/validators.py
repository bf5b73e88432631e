"""The argument checks that several places share, each written once.

Where a check runs: a function of F checks the tensors and numbers it receives, a layer
only its constructor's arguments, an optimizer its hyperparameters, the command line its
flags; internal callers pass checked values on and are not checked again. Each helper
returns the value normalised (an int, a float, a pair) or raises one clear error that
names the function (`where`) and the argument, as PyTorch's TypeError for a wrong type
and ValueError for a wrong value. A first reading can skip this file.
"""
import math
import numbers


def is_int(value):
    """A Python or NumPy integer, but not a bool."""
    return type(value) is int or (isinstance(value, numbers.Integral)  # (the common case
                                   and not isinstance(value, bool))  # first: ABCs are slow)


def is_finite_number(value):
    """A real number (np.float32 too), not a bool, neither NaN nor infinite (nor an int too
    large to be a float)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # math.isfinite(10 ** 400)
        return False


def check_dim(name, dim, shape):
    """A dimension of a tensor of `shape` (negatives count from the end) as an int >= 0.

    IndexError when out of range, as PyTorch's "Dimension out of range"; a 0-d tensor
    accepts 0 and -1, as in PyTorch."""
    if not is_int(dim):
        raise TypeError(f"{name}: a dimension must be an int, got {dim!r}")
    if not -max(len(shape), 1) <= dim < max(len(shape), 1):
        raise IndexError(f"{name}: dimension {dim} is out of range for a tensor of shape {shape}")
    return int(dim) % max(len(shape), 1)


def summary(value, width=40):
    """repr(value), cut to `width` characters for an error message."""
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def positive_int(where, arg, value):
    """`value` as an int > 0: a layer's sizes (in_features, num_features, channels)."""
    if not is_int(value) or value <= 0:
        raise ValueError(f"{where}: {arg} must be a positive integer, got {value!r}")
    return int(value)


def pair(where, arg, value, minimum=None):
    """An int, or a pair of ints for (height, width), as a pair; each >= minimum if given.
    (kernel_size, stride, padding, output_padding of the convolutions.)"""
    both = tuple(value) if isinstance(value, (tuple, list)) and len(value) == 2 else (value,) * 2
    if not all(is_int(v) for v in both):
        raise TypeError(f"{where}: {arg} must be an int or a pair of ints, got {value!r}")
    if minimum is not None and min(both) < minimum:
        raise ValueError(f"{where}: {arg} must be >= {minimum}, got {value!r}")
    return int(both[0]), int(both[1])


def finite_real(where, arg, value, minimum=None):
    """`value` as a float: a real number (not a bool), finite, and >= minimum if given."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{where}: {arg} must be a number, got {value!r}")
    if not is_finite_number(value) or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{where}: {arg} must be a finite number{bound}, got {value!r}")
    return float(value)


def output_padding(where, value, stride):
    """A transposed convolution's output_padding as a pair, each >= 0 and below its stride
    (the extra rows it adds must be ones that a stride-th pixel could have reached)."""
    value = pair(where, "output_padding", value)
    if any(not 0 <= op < s for op, s in zip(value, stride)):
        raise ValueError(f"{where}: output_padding {value} must be >= 0 and smaller "
                         f"than stride {stride} (or than dilation, which is 1 here)")
    return value


def fraction(where, arg, value):
    """`value` as a number in [0, 1] (BatchNorm's momentum), NaN refused."""
    if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= value <= 1):
        raise ValueError(f"{where}: {arg} must be a number in [0, 1], got {value!r}")
    return value


def nonnegative(where, arg, value):
    """`value`, a finite number >= 0 (a hyper-parameter: eps, weight_decay, momentum)."""
    if not (is_finite_number(value) and value >= 0):
        raise ValueError(f"{where}: {arg} must be a finite number >= 0, got {value!r}")
    return value
