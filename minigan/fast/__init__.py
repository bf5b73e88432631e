"""Faster versions of some ops, each registered beside the definition it must equal.

An op in minigan/ops/ is its definition: a forward on arrays and one backward in Tensor
ops, the formula that create_graph records and double backward differentiates. The files
here hold other ways to compute the same numbers, faster: in place and in fewer passes
(the backwards of conv and BatchNorm), by another order of the same sums (the sub-pixel
transposed convolution), into reused memory (the columns' workspace), or as one fused
CUDA kernel (kernels.py). Each is registered for one op, one device ("cpu" or
"cuda") and recording or not, as tinygrad's 2020 engine chose device code when an op was
registered; Function.apply and the graph walk (autograd.py) are the only places that
choose. A fast forward saves for backward what the definition saves, so the one backward
serves both; a fast backward runs only when nothing is recorded.

    file            registered for                              what it does instead
    activation.py   LeakyReLU forward, backward: cuda (the      mask arithmetic; one kernel
                    CPU's fall back to these)
    batchnorm.py    BatchNorm backward: cuda (the CPU's falls   the closed form in place;
                    back to it); forward (training): cuda       4 + 3 fused launches
    conv.py         Conv2d, ConvTranspose2d forward, backward:  columns in the workspace;
                    cuda (the CPU's fall back to these);        sub-pixel (cpu), fused col2im
                    Conv2dGradW forward: cpu, cuda              (cuda); backward in place
    threaded.py     Conv2d, ConvTranspose2d forward, backward:  a large layer in shares, one
                    cpu                                         per thread (threads.py's count)
    channels.py     BatchNorm, LeakyReLU, ReLU forward,         a large input in channel
                    backward: cpu                               shares, one per thread
    loss.py         BCE with logits forward, backward: cuda     two fused kernels
    adam.py         optim.adam.adam_update: cpu, cuda           blocked slices; one kernel

Every version is tested equal to its definition (tests/test_fast_paths.py). `disabled()`
runs the definitions alone, as a learner reads them. A first reading skips this folder.
"""
import contextlib

from .. import autograd


def forward(op, *devices, recording=(False, True)):
    """Register the decorated fast(fn, *arrays, **params) as op's forward on `devices`."""
    def register(fast):
        for device in devices:
            for r in recording:
                autograd.FAST_FORWARD[op, device, r] = fast
        autograd.FAST_OPS.add(op)
        return fast
    return register


def backward(op, *devices):
    """Register the decorated fast(fn, grad_out) as op's backward on `devices`, for when
    nothing is recorded (with create_graph the definition runs, as its graph is wanted)."""
    def register(fast):
        for device in devices:
            autograd.FAST_BACKWARD[op, device, False] = fast
        return fast
    return register


@contextlib.contextmanager
def disabled():
    """Inside this block every op runs its definition, and Adam its plain update."""
    from ..optim import adam

    tables = (autograd.FAST_FORWARD, autograd.FAST_BACKWARD, adam.FAST_UPDATES)
    saved = [dict(t) for t in tables]
    ops = set(autograd.FAST_OPS)
    for t in tables:
        t.clear()
    autograd.FAST_OPS.clear()
    try:
        yield
    finally:
        for t, s in zip(tables, saved):
            t.update(s)
        autograd.FAST_OPS.update(ops)


from . import activation, adam, batchnorm, channels, conv, loss, threaded  # noqa: E402
