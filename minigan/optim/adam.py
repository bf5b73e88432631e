"""Adam (Kingma & Ba, 2015), with PyTorch's exact update rule.

For each parameter p with gradient g, at step t:
    m = b1 m + (1 - b1) g            first moment (a running mean of g)
    v = b2 v + (1 - b2) g^2          second moment (a running mean of g^2)
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
The (1 - b^t) factors undo the bias of m and v towards their zero start. PyTorch (and so
minigan) adds eps after the bias correction of sqrt(v), which the paper writes as
m_hat / (sqrt(v_hat) + eps). weight_decay adds wd * p to g (L2, not AdamW).

`adam_update` does one parameter in whole-array passes; minigan/fast/adam.py registers
faster versions of it in FAST_UPDATES (by device), and `step` takes one where there is.
First read minigan/textbook/adam.py: the paper's five lines, tested equal to this.
"""
import math

from .. import backend
from .. import validators
from ..validators import is_finite_number
from .optimizer import Optimizer

FAST_UPDATES = {}  # "cpu" or "cuda" -> a faster adam_update (minigan/fast/adam.py)


class Adam(Optimizer):
    state_arrays, state_counters = ("exp_avg", "exp_avg_sq"), ("step",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def check_hyperparameters(self, group):
        super().check_hyperparameters(group)
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2 and
                all(is_finite_number(b) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"Adam: betas must be in [0, 1), two numbers, got {betas!r}")
        group["betas"] = tuple(betas)
        for name in ("eps", "weight_decay"):
            validators.nonnegative("Adam", name, group[name])

    def step(self):
        """One update of every parameter that has a gradient, in place."""
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            for p, g in self.gradients(group):  # (g: with weight decay added)
                xp = backend.xp_of(p._data)
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0, "exp_avg": xp.zeros_like(p._data),
                                             "exp_avg_sq": xp.zeros_like(p._data)}
                state["step"] += 1
                t = state["step"]
                update = FAST_UPDATES.get(backend.device_kind(p._data), adam_update)
                update(p._data, g, state["exp_avg"], state["exp_avg_sq"], b1, b2,
                       bias2_sqrt=math.sqrt(1 - b2 ** t), eps=eps, step_size=lr / (1 - b1 ** t))
                p._version += 1  # modified in place: a graph that saved p can no longer use it


def adam_update(param, grad, exp_avg, exp_avg_sq, b1, b2, bias2_sqrt, eps, step_size):
    """One parameter's update, in place: the formulas above, through one scratch array
    (written out, their temporaries would hold up to three more parameter-sized arrays
    at once)."""
    xp = backend.xp_of(param)
    scratch = xp.subtract(grad, exp_avg, out=xp.empty_like(exp_avg))
    scratch *= 1 - b1
    exp_avg += scratch  # m = b1 m + (1 - b1) g, written as PyTorch's lerp
    exp_avg_sq *= b2
    scratch = xp.multiply(grad, grad, out=scratch)
    scratch *= 1 - b2
    exp_avg_sq += scratch  # v = b2 v + (1 - b2) g^2
    denom = xp.sqrt(exp_avg_sq, out=scratch)
    denom /= bias2_sqrt
    denom += eps  # sqrt(v) / sqrt(1 - b2^t) + eps
    update = xp.divide(exp_avg, denom, out=denom)
    update *= step_size  # lr / (1 - b1^t)
    param -= update
