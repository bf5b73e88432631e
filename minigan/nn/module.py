"""Module and Parameter: the containers that hold a model's weights (as torch.nn.Module).

Assigning a Parameter or a Module to an attribute registers it, so `named_parameters()`
can walk the tree and name each weight by its path ("main.3.weight"). Buffers
(BatchNorm's running statistics) are registered with `register_buffer`: they are saved
in `state_dict()` but are not trained. State dicts hold host numpy arrays under
PyTorch's keys, so weights move between minigan and PyTorch unchanged.
"""
from collections import namedtuple
from collections.abc import Mapping

import numpy as np

from .. import backend
from ..tensor import Tensor

# PyTorch's BatchNorm counter: minigan keeps one only for momentum=None (a cumulative average)
IGNORED_KEYS = ("num_batches_tracked",)
# what load_state_dict returns, as PyTorch's _IncompatibleKeys
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A Tensor that is a model weight: it requires grad and Modules register it."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data._data if isinstance(data, Tensor) else data)
        self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model: write `__init__` (call super().__init__()
    first) to create sub-modules and parameters, and `forward` to compute."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_pre_hooks", [])

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() in __init__ "
                                 f"before assigning attributes such as {name!r}")
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
        elif name in self._buffers:
            self._buffers[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(f"{type(self).__name__}.{name} is a parameter: assign a "
                                f"minigan.nn.Parameter or None, not {type(value).__name__}")
            self._parameters[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):  # called only when ordinary lookup fails
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def register_buffer(self, name, tensor):
        """Keep `tensor` with the module and in its state_dict, without training it."""
        self._buffers[name] = tensor

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def register_forward_pre_hook(self, hook):
        """Call hook(module, args) before every forward, as PyTorch's (spectral_norm uses it
        to recompute the weight); a hook that returns a value replaces the args. Returns hook."""
        self._forward_pre_hooks.append(hook)
        return hook

    def __call__(self, *args, **kwargs):
        for hook in self._forward_pre_hooks:
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        try:
            return self.forward(*args, **kwargs)
        except Exception as err:
            name_the_layer(err, self)
            raise

    # -- walking the tree ----------------------------------------------------------------
    def named_modules(self, prefix=""):
        """(path, module) for this module and every module below it, depth first."""
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        """(name, module) for each module directly below this one."""
        return ((name, m) for name, m in self._modules.items() if m is not None)

    def children(self):
        return (m for _, m in self.named_children())

    def named_parameters(self):
        """(path, parameter) pairs, each parameter once even when shared."""
        seen = set()
        for path, module in self.named_modules():
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{path}.{name}" if path else name), p

    def parameters(self):
        return (p for _, p in self.named_parameters())

    def named_buffers(self):
        for path, module in self.named_modules():
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{path}.{name}" if path else name), b

    def buffers(self):
        return (b for _, b in self.named_buffers())

    # -- modes, gradients, devices, dtypes ---------------------------------------------------
    def train(self, mode=True):
        """Training mode (BatchNorm uses batch statistics); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        """Evaluation mode (BatchNorm uses its running statistics); returns self."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Forget accumulated gradients: set them to None, as PyTorch does by default, or to
        zeros in place with set_to_none=False."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad._data[...] = 0

    def _apply(self, convert):
        """Replace every parameter's and buffer's array by convert(array), in place."""
        for t in list(self.parameters()) + list(self.buffers()):
            t._data = convert(t._data)
            t._version += 1
            if t.grad is not None:
                t.grad = Tensor(convert(t.grad._data))
        return self

    def to(self, device=None, dtype=None):
        """Move every parameter and buffer to `device` ("cpu", "cuda" or a minigan.device)
        and cast the floating-point ones to `dtype` (as torch.nn.Module.to; either may come
        first); returns self."""
        from ..tensor import is_device_name  # noqa: PLC0415

        if dtype is None and device is not None and not is_device_name(device):
            device, dtype = None, device  # model.to(minigan.float64)
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"Module.to: only floating-point dtypes, got {dtype}")
            self._apply(lambda a: a.astype(dtype) if a.dtype.kind == "f" else a)
        if device is not None:
            device = backend.check_device(device)
            self._apply(lambda a: backend.to_device(a, device))
        return self

    def cuda(self, device=None):
        """Move every parameter and buffer to the GPU (as torch.nn.Module.cuda)."""
        return self.to("cuda" if device is None else device)

    def cpu(self):
        return self.to("cpu")

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad of every parameter (as torch.nn.Module.requires_grad_)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn):
        """Call fn(module) on every sub-module, children first, then on this one; returns
        self (as torch.nn.Module.apply: how weights_init functions reach every layer)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def double(self):
        """Cast floating-point parameters and buffers to float64 (gradient checks use it)."""
        return self._apply(lambda a: a.astype(np.float64) if a.dtype.kind == "f" else a)

    def float(self):
        """Cast floating-point parameters and buffers to float32."""
        return self._apply(lambda a: a.astype(np.float32) if a.dtype.kind == "f" else a)

    # -- state dicts -----------------------------------------------------------------------
    def state_dict(self):
        """{key: host numpy array} for every parameter and buffer, keyed as PyTorch does."""
        state = {}
        for path, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, t in registry.items():
                    if t is not None:
                        state[f"{path}.{name}" if path else name] = backend.asnumpy(t._data).copy()
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from `state_dict` into this module's parameters and buffers, in place
        (each one's version counter bumped, as PyTorch's copy_ does: a graph built before
        the load refuses to backward through the old values).

        Every key, shape and dtype is checked before anything is assigned, so a
        mismatching file leaves the module unchanged. PyTorch's num_batches_tracked is
        accepted and ignored, except by a BatchNorm with momentum=None, which counts on it.
        strict=False loads the keys both sides have and tolerates
        missing and unexpected ones; either way the result names them, as PyTorch's
        (missing_keys, unexpected_keys).
        """
        where = f"load_state_dict into {type(self).__name__}"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{where}: expected a dict of arrays keyed by name, got "
                            f"{type(state_dict).__name__}")
        own = dict(self.named_parameters())
        own.update(self.named_buffers())
        given = {k: v for k, v in state_dict.items()  # (kept where a layer has one)
                 if not (isinstance(k, str) and k.rsplit(".", 1)[-1] in IGNORED_KEYS
                         and k not in own)}
        missing = [k for k in own if k not in given]
        unexpected = [k for k in given if k not in own]
        problems = []
        if missing and strict:
            problems.append(f"missing keys {missing}")
        if unexpected and strict:
            problems.append(f"unexpected keys {unexpected}")
        arrays = {}
        for key, t in own.items():
            if key not in given:
                continue
            value = given[key]
            try:
                value = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            except ValueError as err:  # e.g. ragged nested lists
                problems.append(f"{key}: not an array ({err})")
                continue
            if value.dtype.kind not in "fiu":
                problems.append(f"{key}: dtype {value.dtype} is not numeric")
            elif value.shape != t.shape:
                problems.append(f"{key}: shape {value.shape} in the state dict, "
                                f"{t.shape} in the model")
            arrays[key] = value
        if problems:
            raise ValueError(f"{where}: " + "; ".join(problems))
        for key, array in arrays.items():
            t = own[key]
            t._data[...] = backend.to_device(array.astype(t.dtype, copy=False), t.device)
            t._version += 1
        return IncompatibleKeys(missing, unexpected)

    # -- printing --------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def name_the_layer(err, module):
    """An F function's contract refused the arguments a layer's forward passed it: the
    innermost layer puts its own repr in front of the message ("Linear(in_features=3, ...):
    linear: input must have shape (*, 3), got (4, 5) ..."), so the layers need no checks
    of their own that repeat F's."""
    if getattr(err, "broken_contract", None) and not getattr(err, "layer_named", False) \
            and err.args and isinstance(err.args[0], str):
        err.args = (f"{module!r}: {err.args[0]}", *err.args[1:])
        err.layer_named = True
