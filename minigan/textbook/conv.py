"""conv2d and conv_transpose2d as a textbook writes them (twins of minigan/ops/conv.py).

    conv2d:            out[n, o, y, x] = sum_{c, i, j} w[o, c, i, j] x_pad[n, c, s*y + i, s*x + j]
    conv_transpose2d:  the adjoint map: x[n, c, y, x] * w[c, o, i, j] is added onto
                       out_pad[n, o, s*y + i, s*x + j], then the padding is cut away
Both loop over the kernel offsets (i, j): each step is one matrix product over the
channels of a strided slice of the image. conv2d_im2col shows the other way to read the
same sum: copy every window into a column (im2col), then one matrix product for all
offsets at once. minigan/ops/conv.py does that, in a memory layout tuned for speed. Its
backward reuses the pair for the input gradients (conv's input gradient is
conv_transpose2d, and vice versa); the weight gradients take one new op, Conv2dGradW
(grad_out as a matrix times the columns, transposed), whose own backward is the pair again.
"""
from ..backend import xp_of
from .im2col import im2col_simple, output_size


def conv2d_simple(x, w, stride=(1, 1), padding=(0, 0)):
    """x (N, C_in, H, W), w (C_out, C_in, kh, kw) -> (N, C_out, OH, OW), no bias."""
    xp = xp_of(x)
    (sh, sw), (ph, pw) = stride, padding
    n, _, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    oh, ow = output_size(h, kh, sh, ph), output_size(wd, kw, sw, pw)
    x_pad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # (N, C_in, H + 2ph, W + 2pw)
    out = xp.zeros((n, oh, ow, c_out), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            patch = x_pad[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]  # (N, C_in, OH, OW)
            out += xp.tensordot(patch, w[:, :, i, j], axes=([1], [1]))  # (N, OH, OW, C_out)
    return out.transpose(0, 3, 1, 2)  # (N, C_out, OH, OW)


def conv_transpose2d_simple(x, w, stride=(1, 1), padding=(0, 0), output_padding=(0, 0)):
    """x (N, C_in, H, W), w (C_in, C_out, kh, kw) -> (N, C_out, OH, OW), no bias, with
    OH = (H - 1) * s - 2p + kh + output_padding (and the same for OW)."""
    xp = xp_of(x)
    (sh, sw), (ph, pw) = stride, padding
    n, _, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    oh = (h - 1) * sh - 2 * ph + kh + output_padding[0]
    ow = (wd - 1) * sw - 2 * pw + kw + output_padding[1]
    out_pad = xp.zeros((n, c_out, oh + 2 * ph, ow + 2 * pw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            spread = xp.tensordot(x, w[:, :, i, j], axes=([1], [0]))  # (N, H, W, C_out)
            out_pad[:, :, i:i + sh * h:sh, j:j + sw * wd:sw] += spread.transpose(0, 3, 1, 2)
    return out_pad[:, :, ph:ph + oh, pw:pw + ow]  # (N, C_out, OH, OW)


def conv2d_im2col(x, w, stride=(1, 1), padding=(0, 0)):
    """conv2d_simple as one matrix product: w (C_out, C_in*kh*kw) @ the columns of x."""
    c_out, c_in, kh, kw = w.shape
    cols = im2col_simple(x, (kh, kw), stride, padding)  # (N, C_in, kh, kw, OH, OW)
    n, _, _, _, oh, ow = cols.shape
    cols = cols.transpose(1, 2, 3, 0, 4, 5).reshape(c_in * kh * kw, n * oh * ow)  # (K, N*OH*OW)
    out = w.reshape(c_out, c_in * kh * kw) @ cols  # (C_out, K) @ (K, N*OH*OW)
    return out.reshape(c_out, n, oh, ow).transpose(1, 0, 2, 3)  # (N, C_out, OH, OW)
