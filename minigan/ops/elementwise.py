"""Elementwise arithmetic with NumPy broadcasting, and broadcasting's adjoint `unbroadcast`.

Broadcasting copies a value along new or size-1 axes; so in backward, the gradient
of each copy flows back to the one original and is summed over those axes. Each
broadcasting op calls `unbroadcast` visibly in its backward.
"""
from ..autograd import Function
from ..backend import xp_of


def unbroadcast(grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, giving `shape`."""
    if grad.shape == shape:
        return grad
    added = grad.ndim - len(shape)  # leading axes that broadcasting prepended
    stretched = tuple(added + i for i, n in enumerate(shape) if n == 1 and grad.shape[added + i] != 1)
    return grad.sum(axis=tuple(range(added)) + stretched, keepdims=True).reshape(shape)


class Add(Function):
    """out = a + b."""

    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        return a + b

    def backward(self, grad_out):
        return unbroadcast(grad_out, self.a_shape), unbroadcast(grad_out, self.b_shape)


class Sub(Function):
    """out = a - b."""

    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        return a - b

    def backward(self, grad_out):
        grad_b = unbroadcast(-grad_out, self.b_shape) if self.needs_input_grad[1] else None
        return unbroadcast(grad_out, self.a_shape), grad_b


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
    """out = a / b; d/da = 1/b, d/db = -a/b^2."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, grad_out):
        a, b = self.saved
        grad_a = unbroadcast(grad_out / b, a.shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(-grad_out * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    """out = -a."""

    def forward(self, a):
        return -a

    def backward(self, grad_out):
        return (-grad_out,)


class Pow(Function):
    """out = a ** b; d/da = b a^(b-1), d/db = out log(a)."""

    def forward(self, a, b):
        out = a ** b
        self.save_for_backward(a, b, out if self.needs_input_grad[1] else None)
        return out

    def backward(self, grad_out):
        a, b, out = self.saved
        xp = xp_of(grad_out)
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = unbroadcast(grad_out * b * a ** (b - 1), a.shape)
        if self.needs_input_grad[1]:
            grad_b = unbroadcast(grad_out * out * xp.log(a), b.shape)
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
