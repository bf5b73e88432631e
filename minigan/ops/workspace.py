"""One reused block of CPU memory for the convolutions' columns.

im2col's columns are the largest temporary arrays of a training step (kh*kw/(sh*sw)
times a layer's input: 67 MB for DCGAN-64's second discriminator layer at batch 64),
made and dropped several times per step. An array that large is fresh memory from the
operating system every time (malloc maps it, free unmaps it), and the kernel must map
and zero each of its pages when the copy first writes it: filling 67 MB took 9.5 ms
fresh against 5.6 ms already mapped (benchmarks/RESULTS.md). So the conv ops take their
columns from here: one block per thread, grown to the largest request and then kept,
which turns those page faults into one-time costs (a DCGAN step: 0.90 of its time at 2
threads, 0.92-0.96 at 1). Peak memory is unchanged: the block is the size of the one
set of columns that was alive at the step's peak anyway.

The rule for callers: an array from `columns` is valid until the next call of `columns`
in the same thread. Each conv op takes one, uses it and is done with it before it
returns, and never calls another op that takes one meanwhile. On the GPU, CuPy's memory
pool already reuses device memory: there this is a plain xp.empty.
"""
import threading
from math import prod

from ..backend import is_cupy, xp_of

_local = threading.local()  # .block: this thread's bytes


def columns(like, shape, dtype):
    """An uninitialised array of `shape` and `dtype` in this thread's block (the device of
    the array `like`); its contents last until the next call."""
    xp = xp_of(like)
    if is_cupy(like):
        return xp.empty(shape, dtype=dtype)
    nbytes = prod(shape) * xp.dtype(dtype).itemsize
    block = getattr(_local, "block", None)
    if block is None or block.nbytes < nbytes:
        _local.block = block = None  # the old block goes before the larger one is made
        _local.block = block = xp.empty(nbytes, dtype=xp.uint8)
    return block[:nbytes].view(dtype).reshape(shape)


def release():
    """Give this thread's block back (the next `columns` call makes a new one)."""
    _local.block = None
