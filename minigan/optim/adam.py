"""Adam (Kingma & Ba, 2015), with PyTorch's exact update rule.

For each parameter p with gradient g, at step t:
    m = b1 m + (1 - b1) g            first moment (a running mean of g)
    v = b2 v + (1 - b2) g^2          second moment (a running mean of g^2)
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
The (1 - b^t) factors undo the bias of m and v towards their zero start. PyTorch (and so
minigan) adds eps after the bias correction of sqrt(v), which the paper writes as
m_hat / (sqrt(v_hat) + eps). weight_decay adds wd * p to g (L2, not AdamW).

`adam_update` does one parameter in whole-array passes. On the CPU, `adam_update_blocked`
runs that same function over slices of CHUNK numbers, so that the ~13 passes over each
slice's five arrays hit the cache instead of memory (measured: see benchmarks/RESULTS.md).
First read minigan/textbook/adam.py: the paper's five lines, tested equal to this.
"""
import math

from .. import backend, kernels
from ..tensor import is_finite_number
from .optimizer import Optimizer

# numbers per slice of adam_update_blocked: its five float32 arrays (param, grad, m, v,
# scratch) of 64 K numbers take 1.25 MiB, which stays in a core's L2 or the shared L3
# between passes; 32 K, 64 K and 256 K measured alike (benchmarks/RESULTS.md)
CHUNK = 1 << 16


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
            value = group[name]
            if not (is_finite_number(value) and value >= 0):
                raise ValueError(f"Adam: {name} must be a finite number >= 0, got {value!r}")

    def step(self):
        """One update of every parameter that has a gradient, in place."""
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = backend.xp_of(p._data)
                g = p.grad._data
                if wd:
                    g = g + wd * p._data
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0, "exp_avg": xp.zeros_like(p._data),
                                             "exp_avg_sq": xp.zeros_like(p._data)}
                state["step"] += 1
                t = state["step"]
                update = kernels.adam_update if kernels.fused(p._data) else adam_update_blocked
                update(p._data, g, state["exp_avg"], state["exp_avg_sq"], b1, b2,
                       bias2_sqrt=math.sqrt(1 - b2 ** t), eps=eps, step_size=lr / (1 - b1 ** t))
                p._version += 1  # modified in place: a graph that saved p can no longer use it


def adam_update(param, grad, exp_avg, exp_avg_sq, b1, b2, bias2_sqrt, eps, step_size):
    """One parameter's update, in place: the formulas above, through one scratch array
    (written out, their temporaries would hold up to three more parameter-sized arrays
    at once). On the GPU, kernels.adam_update does the same in one launch."""
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


def adam_update_blocked(param, grad, exp_avg, exp_avg_sq, b1, b2, bias2_sqrt, eps, step_size,
                        chunk=None):
    """adam_update, slice by slice: the same formulas on CHUNK numbers at a time, each slice
    done while it is in the cache. The arrays must be C-contiguous (each flat view is then
    the array's own memory); anything else, and CuPy arrays, take adam_update whole."""
    chunk = chunk or CHUNK
    arrays = (param, grad, exp_avg, exp_avg_sq)
    if (param.size <= chunk or backend.is_cupy(param) or
            not all(a.flags.c_contiguous and a.shape == param.shape for a in arrays)):
        return adam_update(*arrays, b1, b2, bias2_sqrt, eps, step_size)
    flat = [a.reshape(-1) for a in arrays]  # views: every array is C-contiguous
    for start in range(0, param.size, chunk):
        adam_update(*(a[start:start + chunk] for a in flat), b1, b2, bias2_sqrt, eps, step_size)
