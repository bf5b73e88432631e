"""Adam as the paper writes it (twin of minigan/optim/adam.py).

Algorithm 1 of Kingma & Ba (2015), for each parameter p with gradient g at step t:
    m = b1 m + (1 - b1) g               a running mean of g
    v = b2 v + (1 - b2) g^2             a running mean of g^2
    m_hat = m / (1 - b1^t)              undo the pull of m's zero start towards 0
    v_hat = v / (1 - b2^t)              the same for v
    p = p - lr m_hat / (sqrt(v_hat) + eps)
minigan.optim.Adam computes exactly this (PyTorch's arrangement of the same formula:
sqrt(v_hat) = sqrt(v) / sqrt(1 - b2^t)) in place through one scratch array, so that no
parameter-sized temporaries pile up; on a GPU as one fused kernel. Results agree to
rounding.
"""
from ..backend import xp_of


class AdamSimple:
    """Adam over a list of parameters (Tensors with .grad), the paper's five lines."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.m = [xp_of(p._data).zeros_like(p._data) for p in self.params]
        self.v = [xp_of(p._data).zeros_like(p._data) for p in self.params]
        self.t = 0  # one step count for all (Adam keeps one per parameter: the same
        # unless a parameter misses steps without a gradient)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        self.t += 1
        b1, b2, t = self.b1, self.b2, self.t
        for k, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad._data
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g ** 2
            m_hat = self.m[k] / (1 - b1 ** t)
            v_hat = self.v[k] / (1 - b2 ** t)
            p._data -= self.lr * m_hat / (xp_of(g).sqrt(v_hat) + self.eps)
            p._version += 1  # modified in place: a graph that saved p can no longer use it
