"""im2col and col2im as a textbook writes them (twins of minigan/ops/im2col.py).

A convolution reads, for every output pixel (oh, ow), the window of the zero-padded input
at rows s_h*oh + i and columns s_w*ow + j (i < kh, j < kw). im2col copies the windows out:
    cols[n, c, i, j, oh, ow] = x_pad[n, c, s_h*oh + i, s_w*ow + j]
one loop step per kernel offset (i, j), each a strided slice of the whole image. col2im
is its adjoint: the same loop, adding each slice back where it was read, so a pixel that
k windows read receives the sum of their k entries. minigan/ops/im2col.py computes the
same numbers with the batch axis innermost in memory, (C, kh, kw, OH, OW, N), and without
copies where the windows tile the image; read it after this file.
"""
from ..backend import xp_of


def output_size(size, kernel, stride, padding):
    """How many windows of `kernel` fit, `stride` apart, in `size` + 2 * `padding` pixels."""
    return (size + 2 * padding - kernel) // stride + 1


def im2col_simple(x, kernel_size, stride=(1, 1), padding=(0, 0)):
    """Every kernel window of x (N, C, H, W) as a (N, C, kh, kw, OH, OW) array."""
    xp = xp_of(x)
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
    x_pad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # (N, C, H + 2ph, W + 2pw)
    cols = xp.zeros((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            # the pixel at offset (i, j) of every window: rows i, i + sh, ..., oh of them
            cols[:, :, i, j] = x_pad[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]  # (N, C, OH, OW)
    return cols


def col2im_simple(cols, x_shape, stride=(1, 1), padding=(0, 0)):
    """The adjoint of im2col_simple: add cols (N, C, kh, kw, OH, OW) back onto an image."""
    xp = xp_of(cols)
    (sh, sw), (ph, pw) = stride, padding
    n, c, h, w = x_shape
    _, _, kh, kw, oh, ow = cols.shape
    x_pad = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            x_pad[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += cols[:, :, i, j]  # (N, C, OH, OW)
    return x_pad[:, :, ph:ph + h, pw:pw + w]  # cut the padding away: (N, C, H, W)
