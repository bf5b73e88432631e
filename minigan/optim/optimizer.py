"""Optimizer: what every update rule shares (as torch.optim.Optimizer).

It holds parameter groups (each a dict of hyper-parameters and its "params"), the
per-parameter state (Adam's moments, SGD's momentum buffer), and state dicts in
PyTorch's layout: {"state": {index: {name: value}}, "param_groups": [{..., "params": [indices]}]},
the indices counting parameters across groups in order.
"""
import math
import numbers

import numpy as np

from .. import backend
from ..nn.module import Parameter
from ..tensor import Tensor


class Optimizer:
    def __init__(self, params, defaults):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty list of parameters")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups = []
        for group in groups:
            group = {**defaults, **group, "params": list(group["params"])}
            for p in group["params"]:
                if not isinstance(p, Tensor) or not p.requires_grad:
                    raise TypeError(f"{type(self).__name__}: can only optimise tensors that "
                                    f"require grad, got {type(p).__name__}")
            self.check_hyperparameters(group)
            self.param_groups.append(group)
        self.state = {}  # Parameter -> dict of that parameter's running state

    def check_hyperparameters(self, group):
        """Raise ValueError for a hyper-parameter out of range (subclasses extend this)."""
        lr = group["lr"]
        if not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr < 0:  # np.float32 too
            raise ValueError(f"{type(self).__name__}: invalid learning rate {lr!r}: "
                             f"expected a finite number >= 0")

    def params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self):
        """Forget every gradient (set to None, as PyTorch does by default)."""
        for p in self.params():
            p.grad = None

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
        """Restore state saved by state_dict(); shapes are checked before anything is set."""
        params = self.params()
        groups = state_dict["param_groups"]
        if [len(g["params"]) for g in groups] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved groups hold "
                             f"{[len(g['params']) for g in groups]} parameters, this optimizer's "
                             f"{[len(g['params']) for g in self.param_groups]}")
        new_state = {}
        for i, saved in state_dict["state"].items():
            p = params[int(i)]
            entry = {}
            for k, v in saved.items():
                if hasattr(v, "shape") and np.ndim(v) > 0:
                    if tuple(v.shape) != p.shape:
                        raise ValueError(f"{type(self).__name__}.load_state_dict: state {k!r} of "
                                         f"parameter {i} has shape {tuple(v.shape)}, the parameter "
                                         f"{p.shape}")
                    v = backend.to_device(np.asarray(v, dtype=p.dtype), p.device).copy()
                elif hasattr(v, "shape"):
                    v = v.item()
                entry[k] = v
            new_state[p] = entry
        for group, saved in zip(self.param_groups, groups):
            group.update({k: (tuple(v) if isinstance(v, list) else v)
                          for k, v in saved.items() if k != "params"})
        self.state = new_state
