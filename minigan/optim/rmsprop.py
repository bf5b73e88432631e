"""RMSprop (Tieleman & Hinton, 2012), with PyTorch's exact update rule.

For each parameter p with gradient g (g += weight_decay p first, if weight_decay):
    v = alpha v + (1 - alpha) g^2              a running mean of g^2
    centered:  m = alpha m + (1 - alpha) g     a running mean of g
               denom = sqrt(v - m^2) + eps     (the variance of g instead of its square)
    otherwise: denom = sqrt(v) + eps
    momentum:  buf = momentum buf + g / denom;  p = p - lr buf
    otherwise: p = p - lr g / denom
eps is added after the square root, as PyTorch does. The state is PyTorch's: "step",
"square_avg", and "momentum_buffer" / "grad_avg" when momentum / centered are on. The WGAN
paper trains its critic with RMSprop (lr 5e-5): the WGAN scripts use it.
"""
from .. import backend, validators
from .optimizer import Optimizer


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def check_hyperparameters(self, group):
        super().check_hyperparameters(group)
        for name in ("alpha", "eps", "weight_decay", "momentum"):
            validators.nonnegative("RMSprop", name, group[name])
        if not isinstance(group["centered"], bool):
            raise TypeError(f"RMSprop: centered must be True or False, got {group['centered']!r}")

    def step(self):
        """One update of every parameter that has a gradient, in place."""
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            momentum, centered = group["momentum"], group["centered"]
            for p, g in self.gradients(group):  # (g: with weight decay added)
                xp = backend.xp_of(p._data)
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0, "square_avg": xp.zeros_like(p._data)}
                    if momentum > 0:
                        state["momentum_buffer"] = xp.zeros_like(p._data)
                    if centered:
                        state["grad_avg"] = xp.zeros_like(p._data)
                state["step"] += 1
                square_avg = state["square_avg"]
                square_avg *= alpha
                square_avg += (1 - alpha) * g * g  # v = alpha v + (1 - alpha) g^2
                if centered:
                    grad_avg = state["grad_avg"]
                    grad_avg += (1 - alpha) * (g - grad_avg)  # m = alpha m + (1 - alpha) g
                    denom = xp.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    denom = xp.sqrt(square_avg)
                denom += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += g / denom
                    p._data -= lr * buf
                else:
                    p._data += -lr * (g / denom)
                p._version += 1  # modified in place: a graph that saved p can no longer use it
