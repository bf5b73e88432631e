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
        return (Reshape.apply(grad_out, shape=self.a_shape),)


class Permute(Function):
    """out = a with its axes reordered: out.shape[i] = a.shape[dims[i]]."""

    def forward(self, a, dims=()):
        self.dims = dims
        return a.transpose(dims)

    def backward(self, grad_out):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return (Permute.apply(grad_out, dims=tuple(inverse)),)


class BroadcastTo(Function):
    """out = a repeated along new or size-1 axes to `shape` (a read-only view); backward
    sums the copies back (unbroadcast)."""

    def forward(self, a, shape=()):
        self.a_shape = a.shape
        return xp_of(a).broadcast_to(a, shape)

    def backward(self, grad_out):
        from .elementwise import unbroadcast

        return (unbroadcast(grad_out, self.a_shape),)


def is_basic_index(index):
    """True when `index` holds only ints, slices, None and Ellipsis: each position of the
    array is then picked at most once (advanced indexing, with arrays, lists or tuples of
    indices or masks, may pick one twice)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


class GetItem(Function):
    """out = a[index]; the gradient is zero except at the indexed positions."""

    def forward(self, a, index=None):
        self.a_shape, self.index = a.shape, index
        return a[index]

    def backward(self, grad_out):
        return (IndexAdd.apply(grad_out, shape=self.a_shape, index=self.index),)


class IndexAdd(Function):
    """out = zeros(shape) with out[index] += a, a repeated index adding up (GetItem's
    backward; its own backward is GetItem)."""

    def forward(self, a, shape=(), index=None):
        self.index = index
        out = xp_of(a).zeros(shape, dtype=a.dtype)
        if is_basic_index(index):
            out[index] = a  # slices, ints: each position at most once
        else:
            scatter_add(out, index, a)  # an index may repeat: its gradients add up
        return out

    def backward(self, grad_out):
        return (GetItem.apply(grad_out, index=self.index),)


class Cat(Function):
    """out = the inputs joined along `axis`; backward splits the gradient at the seams."""

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return xp_of(*arrays).concatenate(arrays, axis=axis)

    def backward(self, grad_out):
        grads, start = [], 0
        for size, needs in zip(self.sizes, self.needs_input_grad):
            index = [slice(None)] * grad_out.ndim
            index[self.axis] = slice(start, start + size)
            grads.append(GetItem.apply(grad_out, index=tuple(index)) if needs else None)
            start += size
        return tuple(grads)


class ToDevice(Function):
    """out = a copied to another device; the gradient is copied back."""

    def forward(self, a, device="cpu"):
        self.source = device_of(a)
        return to_device(a, device)

    def backward(self, grad_out):
        return (ToDevice.apply(grad_out, device=self.source),)

