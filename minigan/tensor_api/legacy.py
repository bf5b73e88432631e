"""PyTorch's legacy names that tutorials still use: FloatTensor and its kin, and Variable.

`minigan.FloatTensor(2, 3)` makes a float32 tensor of that shape (zeros: PyTorch leaves it
uninitialised), `minigan.FloatTensor([1, 2])` or `(array)` one from data; each type is also
a target of `t.type(minigan.FloatTensor)` and answers `isinstance(t, minigan.FloatTensor)`.
The `minigan.cuda.*Tensor` types make tensors on the GPU, and fail with one clear line on
a machine without one. `Variable(t, requires_grad=False)` is, as in PyTorch since 0.4, a
tensor: t cut from its graph (sharing storage), requiring grad if asked.
"""
import numpy as np

from .. import backend
from ..tensor import Size, Tensor, resolve_dtype
from ..validators import is_int

# name -> dtype, as PyTorch's legacy types
TYPES = {"FloatTensor": np.float32, "DoubleTensor": np.float64, "LongTensor": np.int64,
         "IntTensor": np.int32, "ShortTensor": np.int16, "CharTensor": np.int8,
         "ByteTensor": np.uint8, "BoolTensor": np.bool_}


class LegacyType(type):
    """The metaclass of FloatTensor & co: calling one makes a tensor, isinstance checks the
    dtype and device (as PyTorch's)."""

    def __call__(cls, *args, device=None):
        device = backend.check_device(cls.device if device is None else device)
        if not args:
            return Tensor(backend.xp_for(device).zeros((0,), dtype=cls.dtype))
        if isinstance(args[0], Size) or all(is_int(a) for a in args):
            shape = tuple(args[0]) if isinstance(args[0], Size) else args
            if min(shape, default=0) < 0:
                raise RuntimeError(f"{cls.__name__}: negative dimension in {shape}")
            return Tensor(backend.xp_for(device).zeros(shape, dtype=cls.dtype))
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}: expected sizes (ints) or one sequence of data, "
                            f"got {len(args)} arguments")
        from ..creation import tensor  # noqa: PLC0415 - creation.py imports tensor.py too

        data = args[0]
        if isinstance(data, Tensor):  # as PyTorch: a new tensor of that type, detached
            return data.detach().to(device, cls.dtype)
        return tensor(data, dtype=cls.dtype, device=device)

    def __instancecheck__(cls, instance):
        return (isinstance(instance, Tensor) and instance.dtype == cls.dtype and
                instance.device == cls.device)

    def __repr__(cls):
        return f"<class '{cls.__module__}.{cls.__name__}'>"


def make_types(device, module):
    """The legacy types for one device, as {name: class}."""
    return {name: LegacyType(name, (), {"dtype": np.dtype(dtype), "device": device,
                                        "__module__": module})
            for name, dtype in TYPES.items()}


CPU_TYPES = make_types("cpu", "minigan")
CUDA_TYPES = make_types("cuda", "minigan.cuda")
FloatTensor, DoubleTensor, LongTensor = (CPU_TYPES[n] for n in
                                         ("FloatTensor", "DoubleTensor", "LongTensor"))
IntTensor, ByteTensor, BoolTensor = (CPU_TYPES[n] for n in
                                     ("IntTensor", "ByteTensor", "BoolTensor"))


def type_name(t):
    """t's legacy type name, as torch.Tensor.type() gives it ("minigan.FloatTensor")."""
    for name, dtype in TYPES.items():
        if t.dtype == dtype:
            return f"minigan.{'cuda.' if t.device == 'cuda' else ''}{name}"
    return f"minigan.{t.dtype}"


def dtype_and_device(target, device):
    """The (dtype, device) a .type(target) call asks for: a legacy type (class or name such
    as "torch.cuda.FloatTensor"), or a dtype, which keeps `device`."""
    if isinstance(target, LegacyType):
        return target.dtype, target.device
    if isinstance(target, str) and target.endswith("Tensor"):
        parts = target.split(".")  # "torch.FloatTensor", "minigan.cuda.LongTensor"
        if parts[-1] in TYPES and parts[0] in ("torch", "minigan") and \
                parts[1:-1] in ([], ["cuda"]):
            return np.dtype(TYPES[parts[-1]]), "cuda" if "cuda" in parts else "cpu"
        raise ValueError(f"type: invalid type {target!r}: expected e.g. 'torch.FloatTensor' "
                         f"or minigan.FloatTensor")
    return resolve_dtype(target), device


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802 - PyTorch's name
    """As torch.autograd.Variable: `data` cut from its graph (sharing its storage and
    version counter), requiring grad if asked. volatile is accepted and ignored, as
    PyTorch has done since 0.4."""
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable: data must be a minigan.Tensor, got {type(data).__name__}")
    out = data.detach()
    return out.requires_grad_() if requires_grad else out
