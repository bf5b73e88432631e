"""im2col and col2im: a convolution as one matrix product, and that product's adjoint.

A convolution reads, for every output pixel (oh, ow), the window of the zero-padded
input at rows s_h*oh + i and columns s_w*ow + j, for i < kh and j < kw. im2col copies
every window into one column of a matrix,
    cols[c, i, j, oh, ow, n] = x_pad[n, c, s_h*oh + i, s_w*ow + j],
so that conv(x, w) = w (C_out, C*kh*kw) @ cols (C*kh*kw, OH*OW*N): one matrix product.
col2im is the adjoint (transpose) of that copy: every column entry is added back onto
the pixel it was read from, so a pixel that several windows read receives their sum.
When the one window is the whole unpadded image both are mere reshapes (no copy); when
the windows tile the image, col2im only rearranges (nothing to add). Plain array code,
the same for NumPy and CuPy (minigan/fast/ puts the columns in a reused block, and on the
GPU runs col2im as one fused kernel, tested equal).
First read minigan/textbook/im2col.py: the same two functions as plain loops, tested equal.
"""
from ..backend import copy_reordered, xp_of

# Memory layout. The arrays here keep their logical (N, C, H, W) shape, but the batch
# axis is innermost in memory: (C, H, W, N). Then one (c, i, j) slab of the columns is
# a run of N contiguous numbers per pixel, both in the image and in the columns, so the
# kh*kw slab copies and additions move long runs rather than rows of OW numbers
# (2-10x faster for DCGAN's deeper layers, where OW is 4 or 8 and N is 64). The matrix
# product then yields its output in the same (C_out, OH, OW, N) memory order.


def conv_output_size(size, kernel, stride, padding):
    """How many windows of `kernel` fit, `stride` apart, in `size` + 2 * `padding` pixels."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_transpose_output_size(size, kernel, stride, padding, output_padding):
    """The image a transposed convolution spreads `size` windows onto: the windows span
    (size - 1) * stride + kernel pixels, less the padding cut from each side."""
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def batch_last(x, padding=(0, 0)):
    """x (N, C, H, W) zero-padded, as a (N, C, H+2ph, W+2pw) view of a (C, H', W', N) array.

    Returns x itself (no copy) when there is no padding and the batch axis is already
    innermost in its memory, as in the outputs of this module's ops and of elementwise
    ops on them (a strided view reads any other order correctly, only more slowly).
    """
    ph, pw = padding
    if ph == 0 and pw == 0 and x.strides[0] == x.itemsize:
        return x
    xp = xp_of(x)
    n, c, h, w = x.shape
    shape = (c, h + 2 * ph, w + 2 * pw, n)  # (C, Hp, Wp, N)
    padded = (xp.zeros(shape, x.dtype) if ph or pw else xp.empty(shape, x.dtype))
    padded = padded.transpose(3, 0, 1, 2)  # (N, C, Hp, Wp), a view
    if x.strides[0] == x.itemsize:  # already batch-last: one copy of runs of N numbers
        padded[:, :, ph:ph + h, pw:pw + w] = x
        return padded
    # a transposing copy when x is (N, C, H, W) in memory (in chunks of images on the CPU:
    # backend.py; a batch-last x took the one copy above, as chunks would cut its runs)
    copy_reordered(padded[:, :, ph:ph + h, pw:pw + w], x)
    return padded


def whole_image(x_shape, kernel_size, padding):
    """Whether the one window of a convolution is the whole unpadded image."""
    return tuple(padding) == (0, 0) and tuple(kernel_size) == tuple(x_shape[2:])


def columns_shape(x_shape, kernel_size, stride, padding):
    """The shape of im2col's columns of an x of x_shape: (C, kh, kw, OH, OW, N)."""
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    return c, kh, kw, conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw), n


def im2col(x, kernel_size, stride, padding, out=None):
    """Every kernel window of x (N, C, H, W) as a column: (C, kh, kw, OH, OW, N).

    The row index (c, i, j) matches the weight's (C_out, C, kh, kw) layout, so the
    caller's matrix product needs no transposition of either operand. A copy, except for
    a window as large as the unpadded image, where the columns are a view of x. The copy
    goes into `out` (a contiguous array of that shape) when given.
    """
    xp = xp_of(x)
    kh, kw = kernel_size
    sh, sw = stride
    n, c, h, w = x.shape
    if whole_image(x.shape, kernel_size, padding):
        # One window, the whole image (DCGAN's last layer): the columns are x itself, read
        # in place in either memory order, no copy; (N, C, H, W) memory is the (K, N)
        # matrix in Fortran order, which the matrix product takes as it is.
        return x.transpose(1, 2, 3, 0).reshape(c, kh, kw, 1, 1, n)  # (C, kh, kw, 1, 1, N)
    _, _, _, oh, ow, _ = columns_shape(x.shape, kernel_size, stride, padding)
    x_pad = batch_last(x, padding)  # (N, C, Hp, Wp), memory (C, Hp, Wp, N)
    stride_n, stride_c, stride_h, stride_w = x_pad.strides  # in bytes
    # a strided view that reads window (oh, ow) at offset (i, j): no data is moved yet
    windows = xp.lib.stride_tricks.as_strided(
        x_pad, shape=(c, kh, kw, oh, ow, n),  # (C, kh, kw, OH, OW, N)
        strides=(stride_c, stride_h, stride_w, sh * stride_h, sw * stride_w, stride_n))
    if out is None:
        return xp.ascontiguousarray(windows)  # the one copy: kh*kw/(sh*sw) times x's size
    out[...] = windows
    return out


def col2im(cols, x_shape, stride, padding):
    """The adjoint of im2col: sum cols (C, kh, kw, OH, OW, N) back onto an image of x_shape.

    Loops over the kh*kw kernel offsets (never over pixels): offset (i, j) adds one
    (C, OH, OW, N) slab onto every stride-th pixel from (i, j) on of a zero-padded
    buffer; then the padding is cut away. Returns a (N, C, H, W) view of (C, H, W, N)
    memory, the order the slabs arrive in. Windows that tile the image are only
    rearranged (a view of cols when there is one window).
    """
    n, c, h, w = x_shape
    ph, pw = padding
    if windows_tile(cols.shape, x_shape, stride, padding):
        # The windows tile the image, each pixel in exactly one: nothing to add, only
        # numbers to move, and none at all when the one window is the whole image
        # (DCGAN's first and last layers), where this is a free reshape.
        image = cols.transpose(0, 3, 1, 4, 2, 5)  # (C, OH, kh, OW, kw, N)
        image = image.reshape(c, h, w, n)  # (C, H, W, N), as OH*kh = H and OW*kw = W
        return image.transpose(3, 0, 1, 2)  # (N, C, H, W)
    image = xp_of(cols).zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=cols.dtype)  # (C, Hp, Wp, N)
    add_windows(image, cols, stride)
    return image[:, ph:ph + h, pw:pw + w, :].transpose(3, 0, 1, 2)  # (N, C, H, W), a view


def add_windows(image, cols, stride):
    """col2im's sum in place: image (C, Hp, Wp, N), zero-padded, += every window's column
    of cols (C, kh, kw, OH, OW, N), one (C, OH, OW, N) slab per kernel offset (i, j)."""
    _, kh, kw, oh, ow, _ = cols.shape
    sh, sw = stride
    for i in range(kh):
        for j in range(kw):
            image[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :] += cols[:, i, j]  # (C, OH, OW, N)


def windows_tile(cols_shape, x_shape, stride, padding):
    """Whether the windows of these columns tile the image, each pixel in exactly one."""
    _, kh, kw, oh, ow, _ = cols_shape
    sh, sw = stride
    return tuple(padding) == (0, 0) and (oh * kh, ow * kw) == tuple(x_shape[2:]) and (
        oh == 1 or sh == kh) and (ow == 1 or sw == kw)
