"""Cast: the same values in another dtype, the op that type promotion inserts.

When operands of different dtypes meet (float32 activations times a float64 0-d scale,
an int tensor plus a float one), minigan/dtypes.py picks the common dtype and the
operands are cast to it before the op runs, so every op computes in one dtype, as in
PyTorch. The gradient of a cast is the incoming gradient cast back to the input's dtype.
"""
from ..autograd import Function


class Cast(Function):
    """out = a in `dtype`; d/da = 1, the gradient returned in a's dtype."""

    def forward(self, a, dtype=None):
        self.a_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, grad_out):
        return (Cast.apply(grad_out, dtype=self.a_dtype),)
