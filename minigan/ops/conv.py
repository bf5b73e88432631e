"""Conv2d and ConvTranspose2d: each one is the other's backward.

A convolution is a linear map of x: out = W @ im2col(x), with W the weight as a
(C_out, C_in*kh*kw) matrix. Its input gradient is the transposed map,
grad_x = col2im(W^T @ grad_out), and that is exactly what a transposed convolution
computes in its forward pass. So the two ops are built from the same two pieces in
opposite orders:
    conv:            forward = im2col, then matmul     backward(x) = matmul, then col2im
    transposed conv: forward = matmul, then col2im     backward(x) = im2col, then matmul
Both weight gradients are one matrix product of the gradient with the columns.
First read minigan/textbook/conv.py: both convolutions as loops over the kernel window.
Faster versions (the columns in a reused block, the transposed convolution by sub-pixel
phases, backward in place on arrays) are in minigan/fast/conv.py, tested equal to these.
"""
from ..autograd import Function
from ..backend import xp_of
from .im2col import batch_last, col2im, conv_transpose_output_size, im2col


def batch_last_matrix(a):
    """a (N, C, H, W) as the matrix (C, H*W*N); free when its memory is (C, H, W, N),
    as the outputs of these ops are (see im2col.py), a transposition copy otherwise."""
    n, c, h, w = a.shape
    return batch_last(a).transpose(1, 2, 3, 0).reshape(c, h * w * n)  # (C, H*W*N)


def from_batch_last_matrix(m, n, h, w):
    """The inverse of batch_last_matrix: m (C, H*W*N) as a (N, C, H, W) view, no copy."""
    return m.reshape(m.shape[0], h, w, n).transpose(3, 0, 1, 2)  # (C, H, W, N) -> (N, C, H, W)


def conv_transpose_arrays(x, w, stride, padding, output_padding):
    """The transposed convolution of the array x (N, C_in, H, W) with w (C_in, C_out, kh, kw):
    col2im(w^T @ x), (N, C_out, OH, OW)."""
    return col2im(*transposed_columns(x, w, stride, padding, output_padding))


def transposed_columns(x, w, stride, padding, output_padding, out=None):
    """w^T @ x as columns (C_out, kh, kw, H, W, N), with the image shape and the stride and
    padding that col2im needs to sum them onto (N, C_out, OH, OW). `out`, a contiguous
    array of the columns' size, takes the product when given."""
    c_in, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    oh, ow = (conv_transpose_output_size(*a) for a in
              zip((h, wd), (kh, kw), stride, padding, output_padding))
    cols = xp_of(x).matmul(w.reshape(c_in, -1).T, batch_last_matrix(x), out=out)
    # (K, C_in) @ (C_in, H*W*N) -> (K, H*W*N), K = C_out*kh*kw
    cols = cols.reshape(c_out, kh, kw, h, wd, n)  # (C_out, kh, kw, H, W, N)
    return cols, (n, c_out, oh, ow), stride, padding


class Conv2d(Function):
    """out = w (C_out, C_in*kh*kw) @ im2col(x) for x (N, C_in, H, W), w (C_out, C_in, kh, kw).

    Forward is im2col + one matrix product; backward's grad_x is col2im(w^T @ grad_out),
    the transposed convolution (ConvTranspose2d) of grad_out, and grad_w is one more op,
    Conv2dGradW, whose own backward is a convolution and a transposed convolution.
    """

    def forward(self, x, w, stride=(1, 1), padding=(0, 0), columns=im2col):
        # (columns: how im2col's copy is made; minigan/fast/ passes one into reused memory)
        c_out, c_in, kh, kw = w.shape
        self.x_shape, self.w_shape = x.shape, w.shape
        self.stride, self.padding = stride, padding
        cols = columns(x, (kh, kw), stride, padding)  # (C_in, kh, kw, OH, OW, N)
        _, _, _, oh, ow, n = cols.shape
        # what a transposed convolution of an (OH, OW) image must add to give back x's size
        self.output_padding = tuple(size + 2 * p - k - (o - 1) * s for size, p, k, o, s in
                                    zip(x.shape[2:], padding, (kh, kw), (oh, ow), stride))
        cols = cols.reshape(c_in * kh * kw, oh * ow * n)  # (K, OH*OW*N), K = C_in*kh*kw
        # Backward needs the columns for grad_w and the weight for grad_x. It rebuilds the
        # columns from x, which the graph keeps alive anyway, rather than keeping them:
        # they are kh*kw/(sh*sw) times the size of x (4x in DCGAN's 4x4 stride-2 layers).
        # Measured on a DCGAN-64 training step: peak memory 324 -> 216 MB (PyTorch: 160),
        # for one more im2col per layer (about 5% of its time).
        self.save_for_backward(x if self.needs_input_grad[1] else None,
                               w if self.needs_input_grad[0] else None)
        out = w.reshape(c_out, -1) @ cols  # (C_out, K) @ (K, OH*OW*N) -> (C_out, OH*OW*N)
        return from_batch_last_matrix(out, n, oh, ow)  # (N, C_out, OH, OW)

    def backward(self, grad_out):
        x, w = self.saved
        grad_x = grad_w = None
        if self.needs_input_grad[0]:
            grad_x = ConvTranspose2d.apply(grad_out, w, stride=self.stride, padding=self.padding,
                                           output_padding=self.output_padding)
        if self.needs_input_grad[1]:
            grad_w = Conv2dGradW.apply(x, grad_out, kernel_size=self.w_shape[2:],
                                       stride=self.stride, padding=self.padding)
        return grad_x, grad_w


class Conv2dGradW(Function):
    """out = grad_out (C_out, OH*OW*N) @ im2col(x)^T: the weight gradient of a convolution
    of x, shaped (C_out, C_in, kh, kw). It is linear in each input: its backward is a
    transposed convolution of grad_out (for x) and a convolution of x (for grad_out), each
    with the incoming weight-shaped gradient as the weight."""

    def forward(self, x, grad_out, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0),
                columns=im2col):
        kh, kw = kernel_size
        self.stride, self.padding = stride, padding
        c_in, c_out = x.shape[1], grad_out.shape[1]
        _, _, oh, ow = grad_out.shape
        self.output_padding = tuple(size + 2 * p - k - (o - 1) * s for size, p, k, o, s in
                                    zip(x.shape[2:], padding, kernel_size, (oh, ow), stride))
        self.save_for_backward(x if self.needs_input_grad[1] else None,
                               grad_out if self.needs_input_grad[0] else None)
        cols = columns(x, (kh, kw), stride, padding)  # (C_in, kh, kw, OH, OW, N)
        cols = cols.reshape(c_in * kh * kw, -1)  # (K, OH*OW*N)
        g = batch_last_matrix(grad_out)  # (C_out, OH*OW*N)
        return (g @ cols.T).reshape(c_out, c_in, kh, kw)  # (C_out, OH*OW*N) @ (OH*OW*N, K)

    def backward(self, grad_w):
        x, grad_out = self.saved
        grad_x = grad_g = None
        if self.needs_input_grad[0]:
            grad_x = ConvTranspose2d.apply(grad_out, grad_w, stride=self.stride,
                                           padding=self.padding,
                                           output_padding=self.output_padding)
        if self.needs_input_grad[1]:
            grad_g = Conv2d.apply(x, grad_w, stride=self.stride, padding=self.padding)
        return grad_x, grad_g


class ConvTranspose2d(Function):
    """out = col2im(w (C_in, C_out*kh*kw)^T @ x) for x (N, C_in, H, W), w (C_in, C_out, kh, kw).

    The input gradient of a Conv2d with the same weight: forward is one matrix product
    + col2im; backward's grad_x = w @ im2col(grad_out) is a convolution (Conv2d) of
    grad_out, and grad_w the weight gradient of that convolution, Conv2dGradW(grad_out, x).
    Output size: (H - 1)*s - 2p + kh + output_padding, and the same in W.
    """

    def forward(self, x, w, stride=(1, 1), padding=(0, 0), output_padding=(0, 0)):
        self.w_shape, self.stride, self.padding = w.shape, stride, padding
        # backward reads x for grad_w (one input-sized array) and w for grad_x
        self.save_for_backward(x if self.needs_input_grad[1] else None,
                               w if self.needs_input_grad[0] else None)
        return conv_transpose_arrays(x, w, stride, padding, output_padding)  # (N, C_out, OH, OW)

    def backward(self, grad_out):
        x, w = self.saved
        grad_x = grad_w = None
        if self.needs_input_grad[0]:
            grad_x = Conv2d.apply(grad_out, w, stride=self.stride, padding=self.padding)
        if self.needs_input_grad[1]:
            grad_w = Conv2dGradW.apply(grad_out, x, kernel_size=self.w_shape[2:],
                                       stride=self.stride, padding=self.padding)
        return grad_x, grad_w
