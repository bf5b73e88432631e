"""The argument checks that several places share, each written once, for every layer.

Where a check runs: a function of F checks the tensors and numbers it receives (its
contract, nn/contracts.py, calls the helpers here), a layer only its constructor's
arguments, an optimizer its hyperparameters, a model its sizes, the config its flags, a
checkpoint reader its fields; internal callers pass checked values on and are not checked
again. Each helper returns the value normalised (an int, a float, a pair) or raises one
clear error that names the function (`where`) and the argument, as PyTorch's TypeError for
a wrong type and ValueError for a wrong value. This module imports nothing of minigan's: any
layer may use it. A first reading can skip this file.
"""
import math
import numbers

import numpy as np


def is_int(value):
    """A Python or NumPy integer, but not a bool."""
    return type(value) is int or (isinstance(value, numbers.Integral)  # (the common case
                                   and not isinstance(value, bool))  # first: ABCs are slow)


def int_in(value, low, high):
    """An integer (is_int) in [low, high]."""
    return is_int(value) and low <= value <= high


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


def integer(where, arg, value, minimum=None, maximum=None):
    """`value` as an int (a Python or NumPy integer, not a bool) in [minimum, maximum]:
    sizes, counts, seeds. `where` may be None where the argument names itself (a flag)."""
    prefix = f"{where}: " if where else ""
    if not is_int(value) or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{prefix}{arg} must be an integer{bound}, got {summary(value)}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{prefix}{arg} must be an integer <= {maximum}, got {summary(value)}")
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


def finite_real(where, arg, value, minimum=None, above=None, below=None):
    """`value` as a float: a real number (not a bool), finite, >= minimum, > above and
    < below where given. `where` may be None where the argument names itself (a flag)."""
    prefix = f"{where}: " if where else ""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{prefix}{arg} must be a number, got {summary(value)}")
    if not is_finite_number(value) or (minimum is not None and value < minimum) or \
            (above is not None and value <= above) or (below is not None and value >= below):
        bounds = [f"{sign} {bound}" for sign, bound in ((">=", minimum), (">", above),
                                                         ("<", below)) if bound is not None]
        raise ValueError(f"{prefix}{arg} must be a finite number{' ' if bounds else ''}"
                         f"{' and '.join(bounds)}, got {summary(value)}")
    return float(value)


def output_padding(where, arg, value, stride):
    """A transposed convolution's output_padding as a pair, each >= 0 and below its stride
    (the extra rows it adds must be ones that a stride-th pixel could have reached)."""
    value = pair(where, arg, value)
    if any(not 0 <= op < s for op, s in zip(value, stride)):
        raise ValueError(f"{where}: {arg} {value} must be >= 0 and smaller "
                         f"than stride {stride} (or than dilation, which is 1 here)")
    return value


def fraction(where, arg, value):
    """`value` as a number in [0, 1] (BatchNorm's momentum, Dropout's p), NaN refused."""
    if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= value <= 1):
        raise ValueError(f"{where}: {arg} must be a number in [0, 1], got {value!r}")
    return value


def nonnegative(where, arg, value):
    """`value`, a finite number >= 0 (a hyper-parameter: eps, weight_decay, momentum)."""
    if not (is_finite_number(value) and value >= 0):
        raise ValueError(f"{where}: {arg} must be a finite number >= 0, got {value!r}")
    return value


def supported(where, arg, value, choices):
    """`value`, one of `choices` (a mode minigan implements): NotImplementedError otherwise,
    as PyTorch raises for a mode it lacks."""
    if value not in choices:
        raise NotImplementedError(f"{where}: {arg} {value!r} is not in minigan; it has "
                                  f"{', '.join(choices)}")
    return value


# ------------------------------------------------------------------- a @ b (tensor.py)
def check_not_bool(name, dtype, hint=""):
    """PyTorch has no bool arithmetic beyond +, * and comparisons."""
    if dtype == np.bool_:
        raise TypeError(f"{name}: not supported on bool tensors{hint}")


def check_matmul_dtypes(a_dtype, b_dtype):
    """PyTorch multiplies matrices of one dtype only (not bool): it refuses to mix them."""
    if a_dtype != b_dtype:
        raise TypeError(f"matmul: expected both operands to have the same dtype, got "
                        f"{a_dtype} and {b_dtype}; convert one with .to(dtype)")
    check_not_bool("matmul", a_dtype)


def check_matmul_shapes(name, a_shape, b_shape):
    """A clear error for a @ b whose inner dimensions differ (instead of numpy's message)."""
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"{name}: both operands need at least 1 dimension, "
                         f"got shapes {a_shape} and {b_shape}")
    k_a = a_shape[-1]
    k_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if k_a != k_b:
        raise ValueError(f"{name}: shapes {a_shape} and {b_shape} do not match: the last "
                         f"dimension of the first ({k_a}) must equal the "
                         f"{'only' if len(b_shape) == 1 else 'second-to-last'} "
                         f"dimension of the second ({k_b})")
    try:
        np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise ValueError(f"{name}: the batch dimensions of shapes {a_shape} and {b_shape} "
                         f"do not broadcast") from None
