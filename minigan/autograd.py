"""Function: one differentiable op, its forward and backward side by side; and no_grad.

Reverse-mode autograd in one sentence: every op records the Function that made its
output, and `Tensor.backward` walks those records from the loss back to the leaves,
calling each Function's `backward` with dL/d(output) to get dL/d(input) (the chain
rule, one vector-Jacobian product per op). Functions work on raw arrays (numpy or
cupy); `Function.apply` is the one place that wraps them into Tensors.
"""
import contextlib

from .backend import DeviceError, as_array, xp_of

_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


@contextlib.contextmanager
def no_grad():
    """Inside this block no graph is recorded (as torch.no_grad): outputs never require grad."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


class Function:
    """Base class of every op.

    Subclasses write `forward(*arrays, **params) -> array` and
    `backward(grad_out) -> tuple` (one gradient per array input, None where not needed).
    Arrays that backward reads go through `save_for_backward`; plain numbers (shapes,
    strides, slopes) live on `self`. `needs_input_grad[i]` tells whether input i wants
    a gradient, so forward can skip saving, and backward skip computing, what is unused.
    """

    def __init__(self):
        self.saved = ()
        self.needs_input_grad = ()
        self.parents = ()  # per input, where its gradient goes next (see apply)
        self.input_specs = ()  # per input, (shape, dtype): what its gradient must match

    def save_for_backward(self, *arrays):
        self.saved = arrays

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors: check devices, call forward on raw arrays, record the graph."""
        from .tensor import Tensor  # tensor.py imports the ops, which import this file

        device = inputs[0].device
        for t in inputs[1:]:
            if t.device != device:
                raise DeviceError(f"{cls.__name__}: inputs are on different devices, "
                                  f"'{device}' and '{t.device}'; move them with .to(device)")
        fn = cls()
        fn.needs_input_grad = tuple(t.requires_grad for t in inputs)
        out = fn.forward(*(t.data for t in inputs), **params)
        out = Tensor(as_array(out, xp_of(out)))
        if _grad_enabled and any(fn.needs_input_grad):
            out.requires_grad = True
            out._ctx = fn  # the output remembers the op that made it ...
            # ... and the op remembers where each input's gradient goes next: to the op
            # that computed that input, or to the input itself if it is a leaf. That is the
            # graph. It holds no input arrays: an intermediate result outlives forward only
            # if an op saved it for backward, as in PyTorch.
            fn.parents = tuple(None if not t.requires_grad else t if t._ctx is None else t._ctx
                               for t in inputs)
            fn.input_specs = tuple((t.shape, t.dtype) for t in inputs)
        return out
