"""Matrix products: the general `a @ b`, and `linear` (x @ w.T + b) as one op.

For out = a @ b the chain rule gives grad_a = grad_out @ b^T and grad_b = a^T @ grad_out,
with batch axes broadcast as in NumPy's matmul (so unbroadcast sums them back).
"""
from ..autograd import Function
from .elementwise import unbroadcast
from .reduce import Sum
from .shape import Permute, Reshape


class MatMul(Function):
    """out = a @ b (NumPy's matmul: 1-D operands are promoted, batch axes broadcast)."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, grad_out):
        a, b = self.saved
        # promote 1-D operands as matmul does: a (k,) -> (1, k), b (k,) -> (k, 1),
        # and give grad_out back the axes that the promotion then dropped
        a2 = a.reshape(1, -1) if a.ndim == 1 else a  # (..., m, k)
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b  # (..., k, n)
        g = grad_out.reshape(*grad_out.shape, 1) if b.ndim == 1 else grad_out
        g = g.reshape(*g.shape[:-1], 1, g.shape[-1]) if a.ndim == 1 else g  # (..., m, n)
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a2 = g @ b2.transpose(-1, -2)  # (..., m, n) @ (..., n, k) -> (..., m, k)
            grad_a = unbroadcast(grad_a2, a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            grad_b2 = a2.transpose(-1, -2) @ g  # (..., k, m) @ (..., m, n) -> (..., k, n)
            grad_b = unbroadcast(grad_b2, b2.shape).reshape(b.shape)
        return grad_a, grad_b


class Linear(Function):
    """out = x @ w^T + b, for x (..., in), w (out, in), b (out,)."""

    def forward(self, x, w, b=None):
        self.save_for_backward(x if self.needs_input_grad[1] else None,
                               w if self.needs_input_grad[0] else None)
        out = x @ w.T  # (..., in) @ (in, out) -> (..., out)
        if b is not None:
            out += b
        return out

    def backward(self, grad_out):
        x, w = self.saved
        needs = self.needs_input_grad
        # the ops themselves, not Tensor's methods: no argument checks on the training path
        g = as_matrix(grad_out)  # (M, out), M = all leading axes
        grad_x = MatMul.apply(grad_out, w) if needs[0] else None  # (..., out) @ (out, in)
        grad_w = MatMul.apply(Permute.apply(g, dims=(1, 0)), as_matrix(x)) if needs[1] else None
        # (out, M) @ (M, in)
        if len(needs) == 2:  # called without a bias
            return grad_x, grad_w
        return grad_x, grad_w, (Sum.apply(g, axes=(0,)) if needs[2] else None)


def as_matrix(t):
    """A Tensor (..., k) as the matrix (M, k), M all its leading axes (itself when 2-D)."""
    return t if t.ndim == 2 else Reshape.apply(t, shape=(-1, t.shape[-1]))
