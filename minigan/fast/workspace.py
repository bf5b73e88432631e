"""One reused block of CPU memory for the convolutions' columns.

im2col's columns are the largest temporary arrays of a training step (kh*kw/(sh*sw)
times a layer's input: 67 MB for DCGAN-64's second discriminator layer at batch 64),
made and dropped several times per step. An array that large is fresh memory from the
operating system every time (malloc maps it, free unmaps it), and the kernel must map
and zero each of its pages when the copy first writes it: filling 67 MB took 9.5 ms
fresh against 5.6 ms already mapped (benchmarks/RESULTS.md). So the conv ops take their
columns from here: one block per thread, grown to the largest request and then kept,
which turns those page faults into one-time costs (DCGAN-64's step: 0.91 of its time at
2 threads, 0.92 at 1). The block lives between steps; a step's peak memory grew 4%.

Only columns of MIN_BYTES or more make (or grow) the block; smaller ones use it when it
is there, and are otherwise a plain new array: glibc's malloc maps afresh only blocks
above its mmap threshold, which rises to the largest block freed so far up to 32 MiB, so
smaller columns are reused memory already. (DCGAN-28, whose largest columns take 12 MiB,
measured no faster with a block, and 4.5% more peak memory.)

The rule for callers: an array from `columns` is valid until the next call of `columns`
in the same thread. Each conv op takes one, uses it and is done with it before it
returns, and never calls another op that takes one meanwhile. On the GPU, CuPy's memory
pool already reuses device memory: there this is a plain xp.empty.
"""
import threading
from math import prod

from ..backend import is_cupy, xp_of
from ..ops.im2col import columns_shape, im2col, whole_image

MIN_BYTES = 32 * 2 ** 20  # glibc's largest mmap threshold on 64-bit systems
_local = threading.local()  # .block: this thread's bytes


def columns(like, shape, dtype):
    """An uninitialised array of `shape` and `dtype` (on the device of the array `like`),
    in this thread's block when it is large; its contents last until the next call."""
    xp = xp_of(like)
    if is_cupy(like):
        return xp.empty(shape, dtype=dtype)
    nbytes = prod(shape) * xp.dtype(dtype).itemsize
    block = getattr(_local, "block", None)
    if block is None or block.nbytes < nbytes:
        if nbytes < MIN_BYTES:  # malloc reuses memory of this size: no block for it
            return xp.empty(shape, dtype=dtype)
        _local.block = block = None  # the old block goes before the larger one is made
        _local.block = block = xp.empty(nbytes, dtype=xp.uint8)
    return block[:nbytes].view(dtype).reshape(shape)


def release():
    """Give this thread's block back (the next `columns` call makes a new one)."""
    _local.block = None


def im2col_reused(x, kernel_size, stride, padding):
    """im2col's columns of x, copied into this thread's block (see `columns` for how long
    they last); a view of x, as im2col gives, where one window is the whole image."""
    if whole_image(x.shape, kernel_size, padding):
        return im2col(x, kernel_size, stride, padding)
    shape = columns_shape(x.shape, kernel_size, stride, padding)  # (C, kh, kw, OH, OW, N)
    return im2col(x, kernel_size, stride, padding, out=columns(x, shape, x.dtype))
