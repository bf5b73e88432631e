"""The convolutions on every core: a layer's whole work cut into shares, one per thread.

NumPy runs its copies (im2col, padding, col2im's additions, depth to space) on one core;
only the matrix products use more, through the BLAS's own threads, which spin between
products. Here a layer's work, copies and products alike, is cut into shares along an
axis where the shares are independent, and each share runs in a worker thread, the BLAS
at one thread meanwhile (NumPy releases the GIL in both). No share splits a sum: every
output number is the same sum of the same products as in the serial code (conv.py), made
by a product of fewer rows or columns. OpenBLAS picks its kernels by a product's size, and
some add the terms in another order, so the results agree with the serial code to
rounding, as OpenBLAS's own results at 1 and at 2 threads do: bit for bit on DCGAN's
layers with its SkylakeX kernels, to about 1e-14 relative (float64) elsewhere
(tests/test_fast_paths_threaded.py).
    op, pass                       shares over (phase 1; phase 2)
    Conv2d forward                 input channels: im2col; output channels: W @ cols
    Conv2d backward                input channels: im2col, grad_w's columns, W^T @ g, col2im
    ConvTranspose2d forward        output channels: W^T @ x, col2im (sub-pixel: input
                                   channels: im2col; output channels: product, depth to space)
    ConvTranspose2d backward       output channels: im2col, grad_w's columns; input
                                   channels: grad_x = W @ grad's columns
Layers under MIN_FLOPS and a convolution whose one window covers the whole image run the
serial code (handing a share to a thread costs tens of microseconds), with the BLAS at one
thread too: a product at two would wake OpenBLAS's own thread, which then spins for a
while (about 0.1 s) waiting for more and takes a core from the next layer's shares (measured:
a layer's shares 1.4x slower right after a 2-thread product). At one thread
(threads.ops_threads) everything runs serially, as before.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from .. import threads
from ..ops.conv import (Conv2d, ConvTranspose2d, batch_last_matrix, from_batch_last_matrix)
from ..ops.im2col import (add_windows, columns_shape, conv_transpose_output_size, im2col,
                          whole_image, windows_tile)
from ..tensor import Tensor
from . import backward, forward, subpixel
from .conv import conv2d_backward, conv2d_forward, conv_transpose2d_backward, conv_transpose_cpu
from .workspace import columns, im2col_reused

MIN_FLOPS = 20e6  # a layer's products below this run serially: handing out the shares of a
# phase costs about 50 us, under 2% of a 20 MFLOP layer's time (not tuned further)
_pool = None  # the worker threads, made at first use


def ways(flops):
    """How many shares a layer of `flops` is cut into: the threads the ops may use now."""
    n = threads.ops_threads()
    return 1 if n < 2 or flops < MIN_FLOPS else n


def serially(serial, *args):
    """serial(*args), a layer too small for shares, with the BLAS at one thread when the
    ops may use more (see the module docstring)."""
    if threads.ops_threads() < 2:
        return serial(*args)
    with one_blas_thread():
        return serial(*args)


def in_shares(n, total, task):
    """task(start, stop) for n consecutive parts of range(total) at once, each in a worker
    thread; returns when all are done (re-raising a share's error)."""
    global _pool
    if _pool is None or _pool._max_workers < n:
        if _pool is not None:
            _pool.shutdown(wait=False)  # its threads end when their queue is empty
        _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="minigan-share")
    bounds = [total * i // n for i in range(n + 1)]
    futures = [_pool.submit(task, a, b) for a, b in zip(bounds, bounds[1:]) if b > a]
    wait(futures)
    for f in futures:
        f.result()


def _forget_pool():
    global _pool
    _pool = None  # a forked child has none of its parent's threads


os.register_at_fork(after_in_child=_forget_pool)


class one_blas_thread:
    """The BLAS at one thread inside the block (the shares are the threads), as before after;
    blocks of several threads of the user's overlap safely (the last to leave restores)."""
    _lock, _inside, _before = threading.Lock(), 0, None

    def __enter__(self):
        cls = one_blas_thread
        with cls._lock:
            if cls._inside == 0:
                cls._before = threads.blas().get()
                if cls._before != 1:
                    threads.blas().set(1)
            cls._inside += 1

    def __exit__(self, *exc):
        cls = one_blas_thread
        with cls._lock:
            cls._inside -= 1
            if cls._inside == 0 and cls._before != 1:
                threads.blas().set(cls._before)


# ----------------------------------------------------------------------------- convolution
@forward(Conv2d, "cpu")
def conv2d_forward_cpu(fn, x, w, stride=(1, 1), padding=(0, 0)):
    """Conv2d's forward: im2col by input channels, then W @ cols by output channels."""
    c_out, c_in, kh, kw = w.shape
    shape = columns_shape(x.shape, (kh, kw), stride, padding)  # (C_in, kh, kw, OH, OW, N)
    _, _, _, oh, ow, n = shape
    n_ways = 1 if whole_image(x.shape, (kh, kw), padding) else ways(2 * c_out * np.prod(shape))
    if n_ways == 1:
        return serially(conv2d_forward, fn, x, w, stride, padding)
    fn.x_shape, fn.w_shape, fn.stride, fn.padding = x.shape, w.shape, stride, padding
    fn.output_padding = tuple(size + 2 * p - k - (o - 1) * s for size, p, k, o, s in
                              zip(x.shape[2:], padding, (kh, kw), (oh, ow), stride))
    fn.save_for_backward(x if fn.needs_input_grad[1] else None,
                         w if fn.needs_input_grad[0] else None)  # as the definition
    cols = columns(x, shape, x.dtype)  # this thread's block; the shares run in others
    cols2 = cols.reshape(c_in * kh * kw, oh * ow * n)  # (K, OH*OW*N)
    w2 = w.reshape(c_out, -1)  # (C_out, K)
    out = np.empty((c_out, oh * ow * n), np.result_type(w, x))

    def copy(c0, c1):
        im2col(x[:, c0:c1], (kh, kw), stride, padding, out=cols[c0:c1])

    def product(m0, m1):
        np.matmul(w2[m0:m1], cols2, out=out[m0:m1])  # (M, K) @ (K, OH*OW*N)

    with one_blas_thread():
        in_shares(n_ways, c_in, copy)
        in_shares(n_ways, c_out, product)
    return from_batch_last_matrix(out, n, oh, ow)  # (N, C_out, OH, OW)


serial_conv2d_backward = conv2d_backward(conv_transpose_cpu)


@backward(Conv2d, "cpu")
def conv2d_backward_cpu(fn, grad_out):
    """Conv2d's backward, each share a range of input channels, start to end: their
    columns, grad_w's columns for them, their columns of W^T @ g, col2im onto them."""
    x, w = (None if t is None else t._data for t in fn.saved)
    c_out, c_in, kh, kw = fn.w_shape
    n, _, oh, ow = grad_out.shape
    needs_x, needs_w = fn.needs_input_grad
    one_window = whole_image(fn.x_shape, (kh, kw), fn.padding)
    flops = 2 * c_out * c_in * kh * kw * oh * ow * n * (needs_x + needs_w)
    n_ways = 1 if one_window else ways(flops)
    if n_ways == 1:
        return serially(serial_conv2d_backward, fn, grad_out)
    g = batch_last_matrix(grad_out._data)  # (C_out, OH*OW*N)
    kk = kh * kw
    _, _, h, wd = fn.x_shape
    ph, pw = fn.padding
    # conv's input gradient is a transposed convolution: by sub-pixel phases where that
    # pays (then split as ConvTranspose2d's forward below), else col2im in the shares
    phases = needs_x and subpixel.pays(grad_out.shape, (c_out, c_in, kh, kw), fn.stride,
                                       fn.padding, fn.output_padding)
    grad_w = np.empty((c_out, c_in * kk), g.dtype) if needs_w else None  # (C_out, K)
    image = None
    if needs_x and not phases:
        image = np.zeros((c_in, h + 2 * ph, wd + 2 * pw, n), g.dtype)  # (C_in, Hp, Wp, N)
    w2 = w.reshape(c_out, -1) if needs_x else None  # (C_out, K)

    def share(c0, c1):
        k0, k1 = c0 * kk, c1 * kk
        cols = None
        if needs_w:
            cols = im2col_reused(x[:, c0:c1], (kh, kw), fn.stride, fn.padding)
            cols = cols.reshape(k1 - k0, -1)  # (K share, OH*OW*N)
            np.matmul(g, cols.T, out=grad_w[:, k0:k1])  # (C_out, OHOWN) @ (OHOWN, K share)
        if image is not None:
            reuse = cols is not None and not np.may_share_memory(cols, x)
            grad_cols = np.matmul(w2[:, k0:k1].T, g, out=cols if reuse else None)
            # (K share, C_out) @ (C_out, OH*OW*N): this share's columns of grad_x
            add_windows(image[c0:c1], grad_cols.reshape(c1 - c0, kh, kw, oh, ow, n), fn.stride)

    with one_blas_thread():
        in_shares(n_ways, c_in, share)
        grad_x = None
        if phases:
            grad_x = subpixel_in_shares(n_ways, grad_out._data, w, fn.stride, fn.padding,
                                        fn.output_padding)
        elif needs_x:
            grad_x = image[:, ph:ph + h, pw:pw + wd, :].transpose(3, 0, 1, 2)  # (N, C_in, H, W)
    if needs_w:
        grad_w = grad_w.reshape(fn.w_shape)
    return tuple(None if a is None else Tensor(a) for a in (grad_x, grad_w))


# ----------------------------------------------------------------------------- transposed
def conv_transpose_in_shares(n_ways, x, w, stride, padding, output_padding):
    """conv_transpose_arrays, each share a range of output channels: its rows of
    W^T @ x, then col2im onto its channels (the sub-pixel form where that pays)."""
    if subpixel.pays(x.shape, w.shape, stride, padding, output_padding):
        return subpixel_in_shares(n_ways, x, w, stride, padding, output_padding)
    c_in, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    kk = kh * kw
    oh, ow = (conv_transpose_output_size(*a) for a in
              zip((h, wd), (kh, kw), stride, padding, output_padding))
    (ph, pw), dtype = padding, np.result_type(w, x)
    x2 = batch_last_matrix(x)  # (C_in, H*W*N)
    w_t = w.reshape(c_in, -1).T  # (K, C_in), K = C_out*kh*kw
    tile = windows_tile((c_out, kh, kw, h, wd, n), (n, c_out, oh, ow), stride, padding)
    cols = np.empty((c_out * kk, h * wd * n), dtype) if tile else None  # (K, H*W*N)
    image = None if tile else np.zeros((c_out, oh + 2 * ph, ow + 2 * pw, n), dtype)

    def share(c0, c1):
        k0, k1 = c0 * kk, c1 * kk
        if tile:  # col2im is a reshape of all the columns, below
            np.matmul(w_t[k0:k1], x2, out=cols[k0:k1])
            return
        part = np.matmul(w_t[k0:k1], x2, out=columns(x, (k1 - k0, h * wd * n), dtype))
        # (K share, C_in) @ (C_in, H*W*N), in this worker's block
        add_windows(image[c0:c1], part.reshape(c1 - c0, kh, kw, h, wd, n), stride)

    in_shares(n_ways, c_out, share)
    if tile:
        from ..ops.im2col import col2im  # noqa: PLC0415 - a reshape here
        return col2im(cols.reshape(c_out, kh, kw, h, wd, n), (n, c_out, oh, ow), stride, padding)
    return image[:, ph:ph + oh, pw:pw + ow, :].transpose(3, 0, 1, 2)  # (N, C_out, OH, OW)


def subpixel_in_shares(n_ways, x, w, stride, padding, output_padding):
    """subpixel.conv_transpose_subpixel in shares: x's columns by input channels, then the
    product and the depth-to-space copy by output channels (rows (a, b, c) of W_sub)."""
    c_in, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    (sh, sw), (ph, pw) = stride, padding
    mh, mw = subpixel.phases((kh, kw), stride, padding, output_padding)
    oh, ow = (conv_transpose_output_size(*a) for a in
              zip((h, wd), (kh, kw), stride, padding, output_padding))
    u, v = h + mh - 1, wd + mw - 1
    dtype = np.result_type(x, w)
    cols = columns(x, (c_in, mh, mw, u, v, n), dtype)  # this thread's block
    cols2 = cols.reshape(c_in * mh * mw, u * v * n)
    w_sub = subpixel.phase_weight(w, stride).reshape(sh * sw, c_out, c_in * mh * mw)
    image = np.empty((c_out, u, sh, v, sw, n), dtype)  # (C, U, sh, V, sw, N)

    def copy(c0, c1):
        im2col(x[:, c0:c1], (mh, mw), (1, 1), (mh - 1, mw - 1), out=cols[c0:c1])

    def product(c0, c1):
        rows = np.ascontiguousarray(w_sub[:, c0:c1]).reshape(-1, c_in * mh * mw)
        r = np.matmul(rows, cols2, out=columns(x, (len(rows), u * v * n), dtype))
        # (sh*sw*C share, C'*mh*mw) @ (C'*mh*mw, U*V*N)
        image[c0:c1] = r.reshape(sh, sw, c1 - c0, u, v, n).transpose(2, 3, 0, 4, 1, 5)

    in_shares(n_ways, c_in, copy)
    in_shares(n_ways, c_out, product)
    image = image.reshape(c_out, u * sh, v * sw, n)  # (C, U*sh, V*sw, N)
    return image[:, ph:ph + oh, pw:pw + ow, :].transpose(3, 0, 1, 2)  # (N, C, OH, OW), a view


@forward(ConvTranspose2d, "cpu")
def conv_transpose2d_forward_cpu(fn, x, w, stride=(1, 1), padding=(0, 0), output_padding=(0, 0)):
    """ConvTranspose2d's forward in shares of output channels (serial when small)."""
    fn.w_shape, fn.stride, fn.padding = w.shape, stride, padding  # as the definition
    fn.save_for_backward(x if fn.needs_input_grad[1] else None,
                         w if fn.needs_input_grad[0] else None)
    n_ways = ways(2 * w.size * x.shape[0] * x.shape[2] * x.shape[3]) if w.shape[1] > 1 else 1
    if n_ways == 1:  # (one output channel: nothing to share out)
        return serially(conv_transpose_cpu, x, w, stride, padding, output_padding)
    with one_blas_thread():
        return conv_transpose_in_shares(n_ways, x, w, stride, padding, output_padding)


@backward(ConvTranspose2d, "cpu")
def conv_transpose2d_backward_cpu(fn, grad_out):
    """ConvTranspose2d's backward: grad_out's columns and grad_w's by output channels,
    then grad_x = W @ those columns by input channels."""
    x, w = (None if t is None else t._data for t in fn.saved)
    c_in, c_out, kh, kw = fn.w_shape
    go = grad_out._data
    needs_x, needs_w = fn.needs_input_grad
    shape = columns_shape(go.shape, (kh, kw), fn.stride, fn.padding)  # (C_out, kh, kw, H, W, N)
    _, _, _, h, wd, n = shape
    flops = 2 * c_in * np.prod(shape) * (needs_x + needs_w)
    n_ways = ways(flops)
    if n_ways == 1:
        return serially(conv_transpose2d_backward, fn, grad_out)
    kk = kh * kw
    one_window = whole_image(go.shape, (kh, kw), fn.padding)  # then a view of grad_out
    grad_cols = (im2col(go, (kh, kw), fn.stride, fn.padding) if one_window else
                 columns(go, shape, go.dtype))  # (this thread's block)
    grad_cols2 = grad_cols.reshape(c_out * kk, h * wd * n)  # (K, H*W*N)
    x2 = batch_last_matrix(x) if needs_w else None  # (C_in, H*W*N)
    grad_w = np.empty((c_in, c_out * kk), go.dtype) if needs_w else None  # (C_in, K)
    grad_x = np.empty((c_in, h * wd * n), go.dtype) if needs_x else None  # (C_in, H*W*N)
    w2 = w.reshape(c_in, -1) if needs_x else None  # (C_in, K)

    def columns_and_grad_w(c0, c1):
        k0, k1 = c0 * kk, c1 * kk
        if not one_window:
            im2col(go[:, c0:c1], (kh, kw), fn.stride, fn.padding, out=grad_cols[c0:c1])
        if needs_w:
            np.matmul(x2, grad_cols2[k0:k1].T, out=grad_w[:, k0:k1])  # (C_in, HWN) @ (HWN, K')

    def input_grad(m0, m1):
        np.matmul(w2[m0:m1], grad_cols2, out=grad_x[m0:m1])  # (M, K) @ (K, H*W*N)

    with one_blas_thread():
        in_shares(n_ways, c_out, columns_and_grad_w)
        if needs_x:
            in_shares(n_ways, c_in, input_grad)
    grads = (None if grad_x is None else from_batch_last_matrix(grad_x, n, h, wd),
             None if grad_w is None else grad_w.reshape(fn.w_shape))
    return tuple(None if a is None else Tensor(a) for a in grads)
