"""Binary cross-entropy on logits on the GPU: forward in 2 fused launches, backward in one.

The definition (ops/loss.py) is a handful of array expressions, each one kernel launch
on the GPU, where a launch costs more than the arithmetic at a GAN's batch sizes
(kernels.py). Taken for logits and targets of one shape and dtype; tested equal to the
definition (tests/test_kernel_wrappers.py, tests/test_kernels.py on a GPU).
"""
from ..ops.loss import BinaryCrossEntropyWithLogits as BCEWithLogits
from ..tensor import Tensor
from . import backward, forward, kernels


def fusable(x, t):
    return kernels.USE_FUSED and t.shape == x.shape and t.dtype == x.dtype


@forward(BCEWithLogits, "cuda")
def bce_with_logits_cuda(fn, x, t):
    if not fusable(x, t):
        return BCEWithLogits.forward(fn, x, t)
    fn.save_for_backward(x, t)
    return kernels.bce_with_logits(x, t)


@backward(BCEWithLogits, "cuda")
def bce_with_logits_backward_cuda(fn, grad_out):
    x, t = fn.saved
    if not fusable(x._data, t._data):
        return BCEWithLogits.backward(fn, grad_out)
    scale = grad_out._data / x._data.size
    grad_x = None
    if fn.needs_input_grad[0]:  # one launch
        grad_x = Tensor(kernels.bce_with_logits_backward(x._data, t._data, scale))
    grad_t = Tensor(-scale * x._data) if fn.needs_input_grad[1] else None
    return grad_x, grad_t
