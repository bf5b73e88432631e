"""In-place methods (fill_, zero_, mul_, add_, clamp_, copy_, normal_, ...), as torch.Tensor's.

An in-place method writes its result into the tensor's own storage, so every view of that
storage (a reshape, a slice, `.data`) sees it, and bumps the version counter that the views
share: a graph that saved one of them for backward then refuses the stale values
(autograd.SavedInput), as PyTorch does. The rules, as PyTorch's:
- a leaf that requires grad is refused (its .grad would belong to values it no longer
  holds), except inside no_grad(), which is how optimizers, clipping and init write;
- the result keeps the tensor's dtype: an op whose result would not fit it (a float into
  an integer tensor) is refused, and so is a result that does not have the tensor's shape;
- on a tensor that is part of a recorded graph, the change is recorded: the op runs out of
  place on a copy of the old values, standing where the tensor stood in the graph, and the
  tensor takes the op's place. (PyTorch keeps the old values only where the op's gradient
  reads them; minigan always copies: one more array, one rule.) minigan does not record a
  change made through a view (PyTorch rewrites the base's graph); that is refused.
"""
import numbers

import numpy as np

from .. import autograd, backend
from .. import tensor as core  # (tensor.py builds Tensor on this file: core.Tensor at call time)
from ..ops.elementwise import where

# PyTorch's names for dtypes in its messages ("result type Float can't be cast to ... Long")
TORCH_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integers < floats: no cast downwards


def torch_name(dtype):
    return TORCH_NAMES.get(np.dtype(dtype).name, str(dtype))


def check_writable(name, t):
    """A broadcast view (expand) holds one value for many positions: writing it is refused."""
    a = t._data
    if any(stride == 0 and n > 1 for stride, n in zip(a.strides, a.shape)):
        raise RuntimeError(f"{name}: unsupported operation: more than one element of the "
                           f"written-to tensor refers to a single memory location. Please "
                           f"clone() the tensor before performing the operation.")


class InPlaceMethods:
    """The in-place methods of Tensor (a base class of it: tensor.py stays readable)."""

    def _write(self, name, compute, *operands, cast=False):
        """self = compute(self) in place, by the rules in the module docstring; compute gets
        a Tensor and returns one. cast=True: the result is converted to self's dtype whatever
        it is; such an op overwrites (fill_, copy_, the random fills): recorded, its result
        stays in the graph with a zero gradient for the old values, as PyTorch's."""
        check_writable(name, self)
        recording = autograd.is_grad_enabled() and (
            self.requires_grad or any(isinstance(t, core.Tensor) and t.requires_grad
                                      for t in operands))
        if recording:
            if self.requires_grad and self._ctx is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
            if self._base is not None:
                raise RuntimeError(f"{name}: minigan does not record in-place changes made "
                                   f"through a view (a slice, reshape or permute) of a tensor "
                                   f"in a graph; compute the result out of place instead")
            old = core.Tensor(self._data.copy())  # the values the graph saw, for the op to save
            old.requires_grad, old._ctx = self.requires_grad, self._ctx
            out = compute(old)
            if cast and old.requires_grad:  # overwritten: the old values get gradient 0
                out = where(backend.xp_of(old._data).zeros(old.shape, dtype=bool),
                            old, out.to(old.dtype))
        else:
            with autograd.no_grad():
                out = compute(self)
        if out.shape != self.shape:
            raise RuntimeError(f"{name}: output with shape {list(self.shape)} doesn't match "
                               f"the broadcast shape {list(out.shape)}")
        if not cast and KIND_RANK[out.dtype.kind] > KIND_RANK[self.dtype.kind]:
            raise RuntimeError(f"{name}: result type {torch_name(out.dtype)} can't be cast to "
                               f"the desired output type {torch_name(self.dtype)}")
        if recording:
            out = out.to(self.dtype)  # (a recorded cast: the gradient comes back in out's)
            self._ctx, self.requires_grad = out._ctx, out.requires_grad
        self._data[...] = out._data  # into the storage itself: views see it
        self._version += 1
        return self

    def _value(self, name, value):
        """A number or a Tensor operand as a Tensor beside self."""
        if isinstance(value, core.Tensor):
            return value
        if isinstance(value, numbers.Number) or isinstance(value, np.generic):
            return self._operand(value)
        raise TypeError(f"{name}: expected a number or a Tensor, got {type(value).__name__}")

    # -- arithmetic --------------------------------------------------------------------
    def add_(self, other, alpha=1):
        """self += alpha * other (as torch.Tensor.add_)."""
        other = self._value("add_", other)
        return self._write("add_", lambda s: s + (other if alpha == 1 else other * alpha), other)

    def sub_(self, other, alpha=1):
        """self -= alpha * other (as torch.Tensor.sub_)."""
        other = self._value("sub_", other)
        return self._write("sub_", lambda s: s - (other if alpha == 1 else other * alpha), other)

    def mul_(self, other):
        other = self._value("mul_", other)
        return self._write("mul_", lambda s: s * other, other)

    def div_(self, other):
        """self /= other, true division (an integer tensor is refused: its result is float)."""
        other = self._value("div_", other)
        return self._write("div_", lambda s: s / other, other)

    # `t += x` is t.add_(x), as PyTorch's (Python's fallback, t = t + x, would rebind the
    # name to a new tensor: a view, `.data` or a list holding t would not see the change)
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def clamp_(self, min=None, max=None):
        """Each element limited to [min, max] (as torch.Tensor.clamp_; WGAN's weight clipping
        is `p.data.clamp_(-c, c)`)."""
        return self._write("clamp_", lambda s: s.clamp(min, max))

    # -- overwriting -------------------------------------------------------------------
    def fill_(self, value):
        """Every element set to `value` (a number or a one-element tensor)."""
        value = self._value("fill_", value)
        if value.numel() != 1:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions")
        return self._write("fill_", lambda s: value.reshape(()).expand(*s.shape), value,
                           cast=True)

    def zero_(self):
        return self.fill_(0)

    def copy_(self, src):
        """self's elements set to src's (broadcast to self's shape, converted to its dtype)."""
        if not isinstance(src, core.Tensor):
            raise TypeError(f"copy_: src must be a Tensor, got {type(src).__name__}")
        if src.device != self.device:
            src = src.to(self.device)
        return self._write("copy_", lambda s: src.expand(*s.shape), src, cast=True)

    def normal_(self, mean=0.0, std=1.0, generator=None):
        """Fill with draws from N(mean, std^2), from `generator` or minigan's default
        (host) generator, then moved: the same seed gives the same values on every device."""
        self._check_random("normal_", std, "std")
        draws = (generator or backend.default_generator("cpu")).normal(self.shape, self.dtype)
        return self._fill_array("normal_", draws * std + mean)

    def uniform_(self, low=0.0, high=1.0, generator=None, **bounds):
        """Fill with draws from U(low, high) (PyTorch's names `from` and `to` are accepted)."""
        low, high = bounds.pop("from", low), bounds.pop("to", high)
        if bounds:
            raise TypeError(f"uniform_: unexpected arguments {sorted(bounds)}")
        self._check_random("uniform_", high - low, "to - from")
        draws = (generator or backend.default_generator("cpu")).uniform(
            self.shape, self.dtype, low, high)
        return self._fill_array("uniform_", draws)

    def _check_random(self, name, spread, what):
        if self.dtype.kind != "f":
            raise TypeError(f"{name}: expects a floating-point tensor, got dtype {self.dtype}")
        if not (isinstance(spread, numbers.Real) and spread >= 0):
            raise RuntimeError(f"{name}: expects {what} >= 0.0, got {spread!r}")

    def _fill_array(self, name, host_array):
        """Write a host array of self's shape into self (the random fills)."""
        array = backend.to_device(np.asarray(host_array).astype(self.dtype, copy=False),
                                  self.device)
        return self._write(name, lambda s: core.Tensor(array), cast=True)

    def __setitem__(self, index, value):
        """t[index] = value, in place (outside a recorded graph only)."""
        if isinstance(index, tuple):
            index = tuple(i._data if isinstance(i, core.Tensor) else i for i in index)
        elif isinstance(index, core.Tensor):
            index = index._data
        check_writable("__setitem__", self)
        value_requires_grad = isinstance(value, core.Tensor) and value.requires_grad
        if autograd.is_grad_enabled() and (self.requires_grad or value_requires_grad):
            if self.requires_grad and self._ctx is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
            raise RuntimeError("index assignment (t[index] = value) is not recorded by "
                               "minigan's autograd; build the tensor with minigan.where or "
                               "minigan.cat, or assign under minigan.no_grad()")
        # the value (a number, a list, an array, a Tensor) converted to self's dtype, as
        # PyTorch's t[i] = v (a copy_) converts
        array = value._data if isinstance(value, core.Tensor) else np.asarray(value)
        if array.dtype.kind not in core.NUMERIC_KINDS:
            raise TypeError(f"index assignment: cannot write {type(value).__name__} "
                            f"{core.summary(value)} into a tensor")
        self._data[index] = backend.to_device(array, self.device)
        self._version += 1

