"""Stochastic gradient descent with momentum, with PyTorch's update rule.

    buf = g                 at the first step
    buf = momentum buf + g  after it
    p = p - lr buf          (plain SGD, p = p - lr g, when momentum is 0)
"""
from .. import validators
from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def check_hyperparameters(self, group):
        super().check_hyperparameters(group)
        validators.nonnegative("SGD", "momentum", group["momentum"])

    def step(self):
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._data
                if momentum:
                    state = self.state.setdefault(p, {})
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.copy()
                    else:
                        buf = state["momentum_buffer"]
                        buf *= momentum
                        buf += g
                    g = state["momentum_buffer"]
                p._data -= lr * g
                p._version += 1  # modified in place: a graph that saved p can no longer use it
