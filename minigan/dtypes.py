"""Type promotion: the dtype of an op on operands of different dtypes, as PyTorch decides it.

minigan's dtypes are NumPy's; the rule that combines them is PyTorch's (torch.result_type),
which is not NumPy's. Dtypes fall in three categories, bool < integer < floating point,
and operands in three ranks: tensors with dimensions, 0-d tensors, and Python numbers
(NumPy scalars count as numbers). Within a rank, dtypes promote pairwise
(`promote_types`: a float beats any integer, the wider float wins, integers widen as
NumPy's do). Across ranks, a lower rank changes the dtype only if its category is higher:
    float32 tensor + float64 0-d tensor -> float32,   int8 tensor + 1000 -> int8,
    int64 tensor + 0.5 -> float32 (a Python float counts as the default dtype, float32),
    int64 tensor + float64 0-d tensor -> float64,     bool tensor + 2 -> int64.
Ops that only make sense on floats (true division, exp, log, sigmoid, tanh) turn an
integer or bool result into the default dtype (`float_dtype`): int64 / int64 -> float32.
"""
import numbers

import numpy as np

DEFAULT_DTYPE = np.dtype(np.float32)  # what Python floats and float ops on integers become
INT64, BOOL = np.dtype(np.int64), np.dtype(np.bool_)
# the dtypes ops compute on; PyTorch, too, refuses to promote uint16/32/64
SUPPORTED = tuple(np.dtype(t) for t in (np.bool_, np.uint8, np.int8, np.int16, np.int32,
                                        np.int64, np.float16, np.float32, np.float64))
DIMENSIONED, ZERO_DIM, NUMBER = 0, 1, 2  # operand ranks, highest first
PYTHON_NUMBERS = {bool: BOOL, int: INT64, float: DEFAULT_DTYPE}


def promote_types(a, b):
    """The smallest dtype that holds both (as torch.promote_types): a float beats any
    integer (int64 with float16 is float16), the wider float wins, bool yields to anything,
    integers widen as in NumPy (uint8 with int8 is int16)."""
    if a == b:
        return a
    for dtype in (a, b):
        if dtype not in SUPPORTED:
            raise TypeError(f"cannot combine dtypes {a} and {b}: minigan (as PyTorch) promotes "
                            f"only {', '.join(d.name for d in SUPPORTED)}")
    if a.kind == "f" or b.kind == "f":
        floats = [d for d in (a, b) if d.kind == "f"]
        return max(floats, key=lambda d: d.itemsize)
    if a.kind == "b" or b.kind == "b":
        return b if a.kind == "b" else a
    return np.promote_types(a, b)  # two integer types: NumPy's rule is PyTorch's here


def number_dtype(value):
    """The dtype a Python (or NumPy) number stands for in promotion: bool, int64, or the
    default float dtype (float32). None for anything else."""
    dtype = PYTHON_NUMBERS.get(type(value))
    if dtype is not None:  # the common case, without the slower isinstance tests below
        return dtype
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, numbers.Integral):
        return INT64
    if isinstance(value, numbers.Real):
        return DEFAULT_DTYPE
    return None


def rank_and_dtype(operand):
    """(rank, dtype) of a Tensor, an array (ranked as a tensor of its shape) or a number."""
    dtype = number_dtype(operand)
    if dtype is not None:
        return NUMBER, dtype
    dtype = getattr(operand, "dtype", None)
    if dtype is None or not hasattr(operand, "ndim"):
        raise TypeError(f"cannot combine a tensor with {type(operand).__name__}: use numbers, "
                        f"arrays of numbers or tensors")
    return (DIMENSIONED if operand.ndim else ZERO_DIM), np.dtype(dtype)


def combine_categories(higher, lower):
    """The dtype of `higher`-ranked operands joined by `lower`-ranked ones (None: no such
    operand): the lower rank counts only where its category is higher."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher  # both integers: the lower rank's width does not matter


def result_type(*operands):
    """The dtype of an op on these operands (Tensors, arrays, numbers), as
    torch.result_type."""
    by_rank = [None, None, None]
    for operand in operands:
        rank, dtype = rank_and_dtype(operand)
        by_rank[rank] = dtype if by_rank[rank] is None else promote_types(by_rank[rank], dtype)
    dimensioned, zero_dim, number = by_rank
    return combine_categories(dimensioned, combine_categories(zero_dim, number))


def float_dtype(dtype):
    """The dtype of a float op (true division, exp, sigmoid, ...) whose operands promote to
    `dtype`: itself if floating point, else the default dtype, float32."""
    return dtype if dtype.kind == "f" else DEFAULT_DTYPE


def infer_dtype(data):
    """The dtype of minigan.tensor(data) for nested lists and tuples, as torch.tensor infers
    it: Python floats are the default dtype, ints int64, bools bool; NumPy scalars, arrays
    and tensors inside keep their own dtype; all of them promote together. None when
    nothing inside has a dtype (an empty list)."""
    if isinstance(data, (list, tuple)):
        dtype = None
        for item in data:
            item_dtype = infer_dtype(item)
            if item_dtype is not None:
                dtype = item_dtype if dtype is None else promote_types(dtype, item_dtype)
        return dtype
    if isinstance(data, np.generic) or hasattr(data, "ndim"):  # keeps its own dtype
        return np.dtype(data.dtype)
    return number_dtype(data)
