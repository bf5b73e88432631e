"""Ops that move values without changing them: reshape, permute, indexing, cat, device moves.

Their backward moves the gradient back the same way: reshape it back, apply the
inverse permutation, scatter it into the indexed positions, split it at the
concatenation boundaries, copy it back to the input's device.
"""
from ..autograd import Function
from ..backend import scatter_add, to_device, xp_of, device_of


class Reshape(Function):
    """out = a viewed with another shape of the same size."""

    def forward(self, a, shape=()):
        self.a_shape = a.shape
        return a.reshape(shape)

    def backward(self, grad_out):
        return (grad_out.reshape(self.a_shape),)


class Permute(Function):
    """out = a with its axes reordered: out.shape[i] = a.shape[dims[i]]."""

    def forward(self, a, dims=()):
        self.dims = dims
        return a.transpose(dims)

    def backward(self, grad_out):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return (grad_out.transpose(inverse),)


def is_integer_array_index(index):
    """True when `index` holds an integer array or list (advanced indexing, may repeat)."""
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, list) or (hasattr(i, "dtype") and i.dtype.kind in "iu")
               for i in items)


class GetItem(Function):
    """out = a[index]; the gradient is zero except at the indexed positions."""

    def forward(self, a, index=None):
        self.a_shape, self.a_dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, grad_out):
        xp = xp_of(grad_out)
        grad = xp.zeros(self.a_shape, dtype=grad_out.dtype)
        if is_integer_array_index(self.index):
            scatter_add(grad, self.index, grad_out)  # an index may repeat: its gradients add up
        else:
            grad[self.index] = grad_out  # slices, ints, masks: each position at most once
        return (grad,)


class Cat(Function):
    """out = the inputs joined along `axis`; backward splits the gradient at the seams."""

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return xp_of(*arrays).concatenate(arrays, axis=axis)

    def backward(self, grad_out):
        grads, start = [], 0
        for size in self.sizes:
            index = [slice(None)] * grad_out.ndim
            index[self.axis] = slice(start, start + size)
            grads.append(grad_out[tuple(index)])
            start += size
        return tuple(grads)


class ToDevice(Function):
    """out = a copied to another device; the gradient is copied back."""

    def forward(self, a, device="cpu"):
        self.source = device_of(a)
        return to_device(a, device)

    def backward(self, grad_out):
        return (to_device(grad_out, self.source),)
