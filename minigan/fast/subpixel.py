"""The transposed convolution by sub-pixel phases: one matrix product, no col2im additions.

col2im (ops/im2col.py) computes a transposed convolution as W^T @ x, a matrix of columns
kh*kw times the output's channels, and then adds each of the kh*kw slabs of that matrix
onto the output: kh*kw passes that read and write the output image, single-threaded. When
the kernel is a multiple of the stride, k = m*s in each direction (DCGAN: k 4, s 2, m 2),
the same sum can be done by the matrix product itself. Write an output position (before
cropping the padding) as q = s*u + a, with its phase a < s. The kernel taps that reach q
from input pixel y satisfy s*y + i = s*u + a, so i = a + s*d and y = u - d for d < m:
    out[c, s*u + a] = sum_{d < m} sum_c' w[c', c, a + s*d] x[c', u - d]        (in 1-D)
For every phase a this is an ordinary stride-1 convolution of x with an m-tap kernel,
and all s*s phases read the same m x m windows of x. So, in 2-D:
    cols = im2col(x, (m, m), stride 1, padding m - 1)   (C', m, m, U, V, N), U = H + m - 1
    W_sub[(a, b, c), (c', e, f)] = w[c', c, a + s*(m-1-e), b + s*(m-1-f)]  (window e holds
                                   x[u - (m-1-e)]: the kernel is read flipped)
    R = W_sub @ cols                                    (s*s*C, U*V*N): every sum at once
    out[c, s*u + a, s*v + b] = R[(a, b, c), (u, v)]     (depth to space: one copy)
and the padding is cut away as col2im does. The price: the columns of x (m*m times x, 4x
for DCGAN) and a product over U*V rather than H*W windows ((17/16)^2 = 1.13x the FLOPs at
16 x 16). It pays where these columns are clearly smaller than col2im's (C' m^2 U V
against C k^2 H W: few input channels for many output channels, large images), which
`pays` decides from the measured break-even (benchmarks/RESULTS.md). A Conv2d's input
gradient is a transposed convolution, so this also serves the discriminators' backward.
Tested equal to the col2im path (tests/test_fast_paths.py).
"""
from math import prod

from ..backend import xp_of
from ..ops.im2col import conv_transpose_output_size, im2col
from .workspace import im2col_reused

# The columns must be at most this share of col2im's for the phases to pay. Measured on
# DCGAN's shapes (benchmarks.fastpaths, AMD EPYC with AVX-512, 1 and 2 threads): share
# 0.56 (16x16 -> 32x32) in 0.63-0.79 of col2im's time; 0.63-0.65 (8x8 and 7x7 inputs)
# 0.93-1.05, no gain; 0.78 in 1.9-2.3x, 5.7 (three output channels) 2.3-2.6x.
COLUMNS_SHARE = 0.6


def phases(kernel_size, stride, padding, output_padding):
    """m per direction when the sub-pixel form applies, else None: the kernel a multiple
    (at least twice) of the stride, and the output inside the phases' U*s rows (true
    unless output_padding exceeds padding)."""
    ms = []
    for k, s, p, op in zip(kernel_size, stride, padding, output_padding):
        if k % s or k // s < 2 or op > p:
            return None
        ms.append(k // s)
    return tuple(ms)


def pays(x_shape, w_shape, stride, padding, output_padding):
    """True where the sub-pixel form is expected to be faster than matmul + col2im."""
    _, c_in, h, wd = x_shape
    _, c_out, kh, kw = w_shape
    m = phases((kh, kw), stride, padding, output_padding)
    if m is None:
        return False
    if (h, wd) == (1, 1) and tuple(padding) == (0, 0) and tuple(output_padding) == (0, 0):
        return False  # one window, the whole output (DCGAN's first G and last D layer):
        # col2im is a free reshape there
    columns = c_in * m[0] * m[1] * (h + m[0] - 1) * (wd + m[1] - 1)  # this module's, per image
    col2im_columns = c_out * kh * kw * h * wd  # W^T @ x's, per image
    return columns <= COLUMNS_SHARE * col2im_columns


def carve(scratch, dtype, *shapes):
    """Consecutive pieces of the contiguous array `scratch`, one per shape, where they fit
    and scratch has this dtype; None for each piece that does not (all when no scratch)."""
    pieces, start = [], 0
    flat = None if scratch is None or scratch.dtype != dtype else scratch.reshape(-1)
    for shape in shapes:
        size = prod(shape)
        if flat is None or start + size > flat.size:
            pieces.append(None)
            continue
        pieces.append(flat[start:start + size].reshape(shape))
        start += size
    return pieces


def phase_weight(w, stride):
    """W_sub (sh*sw*C, C'*mh*mw) of the module docstring, from w (C', C, kh, kw)."""
    c_in, c_out, kh, kw = w.shape
    sh, sw = stride
    mh, mw = kh // sh, kw // sw
    # w's tap i = a + s*d is axis pair (d, a) of w.reshape(C', C, mh, sh, mw, sw); window
    # e = m-1-d reads it, so d runs backwards: the flip.
    w_sub = w.reshape(c_in, c_out, mh, sh, mw, sw)[:, :, ::-1, :, ::-1, :]  # [c', c, e, a, f, b]
    return w_sub.transpose(3, 5, 1, 0, 2, 4).reshape(sh * sw * c_out, c_in * mh * mw)


def conv_transpose_subpixel(x, w, stride, padding, output_padding, scratch=None):
    """The transposed convolution of x (N, C', H, W) with w (C', C, kh, kw), as a
    (N, C, OH, OW) view of (C, OH, OW, N) memory (the layout of im2col.py's ops).
    `scratch`: contiguous memory nobody else reads, for the columns and the product where
    they fit (in a Conv2d's backward, the columns of x: they fit in DCGAN's layers)."""
    xp = xp_of(x)
    c_in, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    (sh, sw), (ph, pw) = stride, padding
    mh, mw = phases((kh, kw), stride, padding, output_padding)
    oh, ow = (conv_transpose_output_size(*a) for a in
              zip((h, wd), (kh, kw), stride, padding, output_padding))
    u, v = h + mh - 1, wd + mw - 1  # windows of m taps, stride 1, m - 1 zeros each side
    cols_out, r_out = carve(scratch, xp.result_type(x, w), (c_in, mh, mw, u, v, n),
                            (sh * sw * c_out, u * v * n))
    window = (mh, mw), (1, 1), (mh - 1, mw - 1)  # m taps, stride 1, padding m - 1
    cols = im2col(x, *window, out=cols_out) if scratch is not None else \
        im2col_reused(x, *window)  # (C', mh, mw, U, V, N)
    w_sub = phase_weight(w, stride)  # (sh*sw*C, C'*mh*mw)
    r = xp.matmul(w_sub, cols.reshape(c_in * mh * mw, u * v * n), out=r_out)
    # (sh*sw*C, C'*mh*mw) @ (C'*mh*mw, U*V*N) -> (sh*sw*C, U*V*N)
    r = r.reshape(sh, sw, c_out, u, v, n).transpose(2, 3, 0, 4, 1, 5)  # (C, U, sh, V, sw, N)
    image = xp.empty((c_out, u, sh, v, sw, n), dtype=r.dtype)
    image[...] = r  # depth to space: phase (a, b) of pixel (u, v) lands on (s*u+a, s*v+b)
    image = image.reshape(c_out, u * sh, v * sw, n)  # (C, U*sh, V*sw, N)
    return image[:, ph:ph + oh, pw:pw + ow, :].transpose(3, 0, 1, 2)  # (N, C, OH, OW), a view
