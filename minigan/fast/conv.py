"""The convolutions, faster: columns in a reused block, the transposed convolution by
sub-pixel phases (CPU) or with one fused col2im kernel (GPU), and backward in place.

The definitions are in ops/conv.py; each version here computes the same sums:
- forward of Conv2d and Conv2dGradW: the definition, with im2col's columns in this
  thread's workspace block (workspace.py) instead of a fresh array;
- forward of ConvTranspose2d, `conv_transpose_cpu`: where it pays, by sub-pixel phases,
  one matrix product and no col2im additions (subpixel.py); `conv_transpose_cuda`: the
  col2im additions in one kernel launch (kernels.py);
- backward, when nothing is recorded: the definition's formulas on arrays, the columns
  made once, the largest array of the step not allocated twice.
On the CPU these run through threaded.py, which cuts a large layer into shares, one per
thread, and calls these for the rest. Tested equal to the definitions
(tests/test_fast_paths.py).
"""
from ..backend import xp_of
from ..ops.conv import (Conv2d, Conv2dGradW, ConvTranspose2d, batch_last_matrix,
                        conv_transpose_arrays, from_batch_last_matrix, transposed_columns)
from ..ops.im2col import col2im, windows_tile
from ..tensor import Tensor
from . import backward, forward, kernels, subpixel
from .workspace import im2col_reused


# ----------------------------------------------------------------------------- transposed
def conv_transpose_cpu(x, w, stride, padding, output_padding, scratch=None):
    """conv_transpose_arrays, by sub-pixel phases where that pays (subpixel.py). `scratch`,
    an array of the columns' size that nobody else reads, takes the product."""
    if subpixel.pays(x.shape, w.shape, stride, padding, output_padding):
        return subpixel.conv_transpose_subpixel(x, w, stride, padding, output_padding, scratch)
    return col2im(*transposed_columns(x, w, stride, padding, output_padding, out=scratch))


def conv_transpose_cuda(x, w, stride, padding, output_padding, scratch=None):
    """conv_transpose_arrays with col2im's kh*kw slab additions in one launch (kernels.py)."""
    if not kernels.USE_FUSED:
        return conv_transpose_arrays(x, w, stride, padding, output_padding)
    cols, x_shape, stride, padding = transposed_columns(x, w, stride, padding, output_padding,
                                                        out=scratch)
    if windows_tile(cols.shape, x_shape, stride, padding):  # a reshape: nothing to add
        return col2im(cols, x_shape, stride, padding)
    return kernels.col2im(cols, x_shape, stride, padding)


def conv_transpose2d_forward(conv_transpose):
    """ConvTranspose2d's forward, with `conv_transpose` for conv_transpose_arrays."""
    def fast(fn, x, w, stride=(1, 1), padding=(0, 0), output_padding=(0, 0)):
        fn.w_shape, fn.stride, fn.padding = w.shape, stride, padding  # as the definition
        fn.save_for_backward(x if fn.needs_input_grad[1] else None,
                             w if fn.needs_input_grad[0] else None)
        return conv_transpose(x, w, stride, padding, output_padding)  # (N, C_out, OH, OW)
    return fast


forward(ConvTranspose2d, "cuda")(conv_transpose2d_forward(conv_transpose_cuda))


@backward(ConvTranspose2d, "cuda")  # the CPU's: threaded.py, which falls back to this
def conv_transpose2d_backward(fn, grad_out):
    """The definition's formulas on arrays, the columns of grad_out made once for both."""
    x, w = (None if t is None else t._data for t in fn.saved)
    c_in, c_out, kh, kw = fn.w_shape
    # the window of grad_out that each input pixel was spread onto, as one column
    grad_cols = im2col_reused(grad_out._data, (kh, kw), fn.stride, fn.padding)
    # (C_out, kh, kw, H, W, N): H, W are the input's sizes again
    _, _, _, h, wd, n = grad_cols.shape
    grad_cols = grad_cols.reshape(c_out * kh * kw, h * wd * n)  # (K, H*W*N)
    grad_x = grad_w = None
    if fn.needs_input_grad[0]:
        grad_x = w.reshape(c_in, -1) @ grad_cols  # (C_in, K) @ (K, H*W*N) -> (C_in, H*W*N)
        grad_x = from_batch_last_matrix(grad_x, n, h, wd)  # (N, C_in, H, W)
    if fn.needs_input_grad[1]:
        x2 = batch_last_matrix(x)  # (C_in, H*W*N)
        grad_w = (x2 @ grad_cols.T).reshape(fn.w_shape)  # (C_in, HWN) @ (HWN, K)
    return tuple(None if a is None else Tensor(a) for a in (grad_x, grad_w))


# ----------------------------------------------------------------------------- convolution
@forward(Conv2d, "cuda")  # the CPU's: threaded.py, which falls back to this
def conv2d_forward(fn, x, w, stride=(1, 1), padding=(0, 0)):
    """The definition, with the columns in the workspace."""
    return Conv2d.forward(fn, x, w, stride, padding, columns=im2col_reused)


def conv2d_backward(conv_transpose):
    """Conv2d's backward on arrays, with `conv_transpose` for conv_transpose_arrays."""
    def fast(fn, grad_out):
        x, w = (None if t is None else t._data for t in fn.saved)
        c_out, c_in, kh, kw = fn.w_shape
        g = batch_last_matrix(grad_out._data)  # (C_out, OH*OW*N)
        grad_x = grad_w = cols = None
        if fn.needs_input_grad[1]:
            cols = im2col_reused(x, (kh, kw), fn.stride, fn.padding)
            cols = cols.reshape(c_in * kh * kw, -1)  # (K, OH*OW*N)
            grad_w = (g @ cols.T).reshape(fn.w_shape)  # (C_out, OH*OW*N) @ (OH*OW*N, K)
        if fn.needs_input_grad[0]:
            # grad_x = conv_transpose(grad_out, w). Its columns, w^T @ grad_out, have the
            # shape of x's, which grad_w is done with: they go into their memory (unless
            # they are a view of x), the largest array of a training step not allocated
            # twice. They were made here, so no saved array is touched.
            reuse = cols is not None and not xp_of(g).may_share_memory(cols, x)
            grad_x = conv_transpose(grad_out._data, w, fn.stride, fn.padding,
                                    fn.output_padding,
                                    scratch=cols if reuse else None)  # (N, C_in, H, W)
        return tuple(None if a is None else Tensor(a) for a in (grad_x, grad_w))
    return fast


backward(Conv2d, "cuda")(conv2d_backward(conv_transpose_cuda))


@forward(Conv2dGradW, "cpu", "cuda")
def conv2d_grad_w_forward(fn, x, grad_out, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0)):
    """The definition, with the columns in the workspace."""
    return Conv2dGradW.forward(fn, x, grad_out, kernel_size, stride, padding,
                               columns=im2col_reused)
