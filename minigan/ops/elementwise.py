"""Elementwise arithmetic with NumPy broadcasting, and broadcasting's adjoint `unbroadcast`.

Broadcasting copies a value along new or size-1 axes; so in backward, the gradient
of each copy flows back to the one original and is summed over those axes. Each
broadcasting op calls `unbroadcast` visibly in its backward.
"""
import numpy as np

from ..autograd import Function
from ..backend import xp_of
from .reduce import Sum
from .shape import Reshape


def unbroadcast(grad, shape):
    """Sum the Tensor `grad` over the axes that broadcasting added or stretched, giving
    `shape`."""
    if grad.shape == shape:
        return grad
    added = grad.ndim - len(shape)  # leading axes that broadcasting prepended
    stretched = tuple(added + i for i, n in enumerate(shape)
                      if n == 1 and grad.shape[added + i] != 1)
    summed = Sum.apply(grad, axes=tuple(range(added)) + stretched, keepdims=True)
    return Reshape.apply(summed, shape=shape)


class Add(Function):
    """out = a + b."""

    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        return a + b

    def backward(self, grad_out):
        needs_a, needs_b = self.needs_input_grad
        return (unbroadcast(grad_out, self.a_shape) if needs_a else None,
                unbroadcast(grad_out, self.b_shape) if needs_b else None)


class Sub(Function):
    """out = a - b."""

    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        return a - b

    def backward(self, grad_out):
        needs_a, needs_b = self.needs_input_grad
        return (unbroadcast(grad_out, self.a_shape) if needs_a else None,
                unbroadcast(-grad_out, self.b_shape) if needs_b else None)


class Mul(Function):
    """out = a * b; d/da = b, d/db = a."""

    def forward(self, a, b):
        # each factor is the other's gradient: keep only the ones that will be read
        self.save_for_backward(b if self.needs_input_grad[0] else None,
                               a if self.needs_input_grad[1] else None)
        self.a_shape, self.b_shape = a.shape, b.shape
        return a * b

    def backward(self, grad_out):
        b, a = self.saved
        grad_a = unbroadcast(grad_out * b, self.a_shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(grad_out * a, self.b_shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    """out = a / b; d/da = 1/b, d/db = -(a/b)/b (as PyTorch: a/b^2 underflows for tiny b)."""

    def forward(self, a, b):
        self.a_shape = a.shape
        self.save_for_backward(a if self.needs_input_grad[1] else None, b)
        return a / b

    def backward(self, grad_out):
        a, b = self.saved
        grad_a = unbroadcast(grad_out / b, self.a_shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(-grad_out * ((a / b) / b), b.shape) \
            if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    """out = -a."""

    def forward(self, a):
        return -a

    def backward(self, grad_out):
        return (-grad_out,)


class Pow(Function):
    """out = a ** b; d/da = b a^(b-1), d/db = out log(a).

    As PyTorch: d/da is 0 where b = 0 (also at a = 0, where b a^(b-1) is 0 * inf), and
    d/db is 0 where a = 0 and b >= 0 (where out log(a) is 0 * -inf)."""

    def forward(self, a, b):
        out = a ** b
        self.save_for_backward(a, b, out if self.needs_input_grad[1] else None)
        return out

    def backward(self, grad_out):
        a, b, out = self.saved
        grad_a = grad_b = None
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1 and log(0), masked out
            if self.needs_input_grad[0]:
                zero = b._data == 0
                grad_a = unbroadcast(where(zero, 0, grad_out * (b * a ** (b - 1))), a.shape)
            if self.needs_input_grad[1]:
                zero = (a._data == 0) & (b._data >= 0)
                grad_b = unbroadcast(where(zero, 0, grad_out * (out * a.log())), b.shape)
        return grad_a, grad_b


class Exp(Function):
    """out = exp(a); d/da = out."""

    def forward(self, a):
        out = xp_of(a).exp(a)
        self.save_for_backward(out)  # the output is its own derivative
        return out

    def backward(self, grad_out):
        out, = self.saved
        return (grad_out * out,)


class Log(Function):
    """out = log(a); d/da = 1/a."""

    def forward(self, a):
        self.save_for_backward(a)
        return xp_of(a).log(a)

    def backward(self, grad_out):
        a, = self.saved
        return (grad_out / a,)


class Log1p(Function):
    """out = log(1 + a), exact for small a; d/da = 1/(1 + a)."""

    def forward(self, a):
        self.save_for_backward(a)
        return xp_of(a).log1p(a)

    def backward(self, grad_out):
        a, = self.saved
        return (grad_out / (1 + a),)


class Where(Function):
    """out = a where condition else b; condition is a constant bool array (no gradient)."""

    def forward(self, a, b, condition=None):
        self.condition = condition
        self.a_shape, self.b_shape = a.shape, b.shape
        return xp_of(a).where(condition, a, b)

    def backward(self, grad_out):
        needs_a, needs_b = self.needs_input_grad
        return (unbroadcast(where(self.condition, grad_out, 0), self.a_shape) if needs_a else None,
                unbroadcast(where(self.condition, 0, grad_out), self.b_shape) if needs_b else None)


def where(condition, a, b):
    """The Tensor a where `condition` (a bool array) holds, else b; a or b may be a number."""
    from ..tensor import Tensor

    like = a if isinstance(a, Tensor) else b
    a, b = like._operand(a), like._operand(b)
    condition = condition._data if isinstance(condition, Tensor) else condition
    return Where.apply(a, b, condition=condition)
