"""Optimizer: what every update rule shares (as torch.optim.Optimizer).

It holds parameter groups (each a dict of hyper-parameters and its "params"), the
per-parameter state (Adam's moments, SGD's momentum buffer), and state dicts in
PyTorch's layout: {"state": {index: {name: value}}, "param_groups": [{..., "params": [indices]}]},
the indices counting parameters across groups in order.
"""
import numbers

import numpy as np

from .. import backend
from ..tensor import Tensor
from .. import validators
from ..validators import is_finite_number


class Optimizer:
    # What one parameter's saved state holds (each update rule names its own), so that
    # load_state_dict refuses what step() could not use, as a careful loader should
    # (PyTorch's own accepts it, and its step() then fails or computes nonsense):
    state_arrays = ()  # required, each of the parameter's shape (Adam: exp_avg, exp_avg_sq)
    optional_arrays = ()  # may be absent or None: not made yet (SGD's momentum_buffer)
    state_counters = ()  # required, each an integer >= 0 (Adam: step)

    def __init__(self, params, defaults):
        name = type(self).__name__
        if isinstance(params, Tensor):  # iterating a tensor would give its rows
            raise TypeError(f"{name}: params must be an iterable of tensors (or of dicts), "
                            f"not a single Tensor; wrap it in a list")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be an iterable of tensors (or of dicts), "
                            f"got {type(params).__name__}") from None
        if not params:
            raise ValueError(f"{name}: got an empty list of parameters")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups = []
        seen = set()
        for group in groups:
            if not isinstance(group, dict):
                raise TypeError(f"{name}: give either tensors or dicts (parameter groups), "
                                f"not a mix; got {type(group).__name__} after a dict")
            if "params" not in group:
                raise ValueError(f"{name}: a parameter group needs a 'params' entry, got the "
                                 f"keys {sorted(map(str, group))}")
            group = {**defaults, **group, "params": self.group_params(group["params"])}
            for p in group["params"]:
                if not isinstance(p, Tensor) or not p.requires_grad:
                    raise TypeError(f"{name}: can only optimise tensors that require grad, "
                                    f"got {type(p).__name__}")
                if id(p) in seen:
                    raise ValueError(f"{name}: a parameter of shape {p.shape} is given more "
                                     f"than once")
                seen.add(id(p))
            self.check_hyperparameters(group)
            self.param_groups.append(group)
        self.state = {}  # Parameter -> dict of that parameter's running state

    def group_params(self, params):
        """A group's "params" as a list (a lone tensor is one parameter)."""
        if isinstance(params, Tensor):
            return [params]
        try:
            return list(params)
        except TypeError:
            raise TypeError(f"{type(self).__name__}: a group's 'params' must be an iterable "
                            f"of tensors, got {type(params).__name__}") from None

    def check_hyperparameters(self, group):
        """Raise ValueError for a hyper-parameter out of range (subclasses extend this)."""
        validators.nonnegative(type(self).__name__, "learning rate (lr)", group["lr"])

    def gradients(self, group):
        """(parameter, its gradient array) for each parameter of `group` that has a
        gradient, weight_decay * parameter added to it where the group has weight decay
        (L2, as PyTorch's Adam and RMSprop add it)."""
        wd = group.get("weight_decay", 0)
        for p in group["params"]:
            if p.grad is not None:
                yield p, (p.grad._data + wd * p._data if wd else p.grad._data)

    def params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none=True):
        """Forget every gradient: set to None, as PyTorch does by default, or to zeros in
        place with set_to_none=False."""
        for p in self.params():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad._data[...] = 0

    def step(self):
        raise NotImplementedError

    def state_dict(self):
        """Host copies of the state, with parameters named by their index."""
        index = {id(p): i for i, p in enumerate(self.params())}
        state = {index[id(p)]: {k: (backend.asnumpy(v).copy() if hasattr(v, "shape") else v)
                                for k, v in s.items()}
                 for p, s in self.state.items()}
        groups = [{**{k: v for k, v in g.items() if k != "params"},
                   "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore state saved by state_dict(). Everything is checked (structure, indices,
        shapes, hyper-parameters) before anything is set."""
        name = f"{type(self).__name__}.load_state_dict"
        params = self.params()
        if not isinstance(state_dict, dict):
            raise TypeError(f"{name}: expected a dict, as state_dict() returns, got "
                            f"{type(state_dict).__name__}")
        if not isinstance(state_dict.get("state"), dict) \
                or not isinstance(state_dict.get("param_groups"), list) \
                or not all(isinstance(g, dict) and isinstance(g.get("params"), (list, tuple))
                           for g in state_dict["param_groups"]):
            raise ValueError(f"{name}: expected a dict with 'state' (a dict) and 'param_groups' "
                             f"(a list of dicts, each with a 'params' list), as state_dict() "
                             f"returns")
        groups = state_dict["param_groups"]
        if [len(g["params"]) for g in groups] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError(f"{name}: the saved groups hold "
                             f"{[len(g['params']) for g in groups]} parameters, this optimizer's "
                             f"{[len(g['params']) for g in self.param_groups]}")
        new_state = {}
        for i, saved in state_dict["state"].items():
            index = int(i) if isinstance(i, (numbers.Integral, str)) and str(i).isdigit() else -1
            if not 0 <= index < len(params) or not isinstance(saved, dict):
                raise ValueError(f"{name}: state entry {i!r} must be a dict for one of the "
                                 f"{len(params)} parameters, numbered 0..{len(params) - 1}")
            p = params[index]
            new_state[p] = self.state_entry(name, i, saved, p)
        new_groups = []
        for group, saved in zip(self.param_groups, groups):
            new_group = dict(group)
            new_group.update({k: (tuple(v) if isinstance(v, list) else v)
                              for k, v in saved.items() if k != "params"})
            self.check_hyperparameters(new_group)  # a file's lr of NaN is refused, not used
            new_groups.append(new_group)
        self.param_groups = new_groups
        self.state = new_state

    def state_entry(self, name, i, saved, p):
        """One parameter's saved state, checked against what this update rule reads (see
        state_arrays) and converted: arrays to p's dtype and device, counters to ints.
        Other keys are kept as they are, as PyTorch does."""
        present = {k for k, v in saved.items() if v is not None or k not in self.optional_arrays}
        missing = [k for k in self.state_arrays + self.state_counters if k not in present]
        if missing:
            raise ValueError(f"{name}: state of parameter {i} lacks {missing} (it has "
                             f"{sorted(map(str, saved))})")
        entry = {}
        for k, v in saved.items():
            if k in self.state_counters:
                v = checked_counter(f"{name}: state {k!r} of parameter {i}", v)
            elif k in self.state_arrays or k in self.optional_arrays:
                if v is None:  # PyTorch's SGD stores a momentum_buffer of None
                    continue
                v = checked_array(f"{name}: state {k!r} of parameter {i}", v, p)
            elif hasattr(v, "shape") and np.ndim(v) > 0:
                v = backend.to_device(np.array(backend.asnumpy(v)), p.device)
            elif hasattr(v, "shape"):
                v = v.item()
            entry[k] = v
        return entry


def checked_counter(where, v):
    """A step count: an integer >= 0 (an int, a NumPy integer, or an integral float or 0-d
    array as PyTorch saves its step, tensor(3.))."""
    if hasattr(v, "shape") and np.ndim(v) == 0:
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not is_finite_number(v) \
            or v != int(v) or v < 0:
        raise ValueError(f"{where} must be an integer >= 0, got {v!r}")
    return int(v)


def checked_array(where, v, p):
    """A state array: numbers of the parameter's shape, as a copy on its device and dtype."""
    if not hasattr(v, "shape") or tuple(v.shape) != p.shape:
        got = f"shape {tuple(v.shape)}" if hasattr(v, "shape") else type(v).__name__
        raise ValueError(f"{where} has {got}, the parameter {p.shape}: it must be an "
                         f"array of the parameter's shape")
    a = np.asarray(backend.asnumpy(v))
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{where} holds {a.dtype}, not numbers")
    return backend.to_device(a.astype(p.dtype), p.device)  # (astype copies)
