"""conv2d and conv_transpose2d: finite differences, naive loops, adjointness, errors, layers.

Gradients are checked element by element on tiny shapes that Hypothesis draws (batch
1-3, channels 1-4, kernels 1-5 including non-square ones, stride 1-3, padding 0-2,
every valid output_padding, with or without bias), and along random directions on
DCGAN-sized layers. Independent oracles: the definitions written as nested loops, and
the identity <conv2d(x, w), u> = <x, conv_transpose2d(u, w)> that makes each op the
other's backward.
"""
import math

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

import minigan
import minigan.nn.functional as F
from minigan import nn
from minigan.backend import asnumpy, to_device
from minigan.gradcheck import directional_gradcheck, gradcheck
from minigan.ops.im2col import col2im, im2col

GRADCHECK = settings(max_examples=20, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
ORACLE = settings(max_examples=30, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])


def leaf(array, device, requires_grad=True):
    return minigan.tensor(array, dtype="float64", device=device, requires_grad=requires_grad)


@st.composite
def conv_cases(draw, transposed=False):
    """Sizes, stride, padding (and output_padding) of a small valid (transposed) conv."""
    case = dict(n=draw(st.integers(1, 3)), c_in=draw(st.integers(1, 4)),
                c_out=draw(st.integers(1, 4)),
                kernel=(draw(st.integers(1, 5)), draw(st.integers(1, 5))),
                stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                padding=(draw(st.integers(0, 2)), draw(st.integers(0, 2))),
                bias=draw(st.booleans()), seed=draw(st.integers(0, 2**32 - 1)))
    if transposed:
        case["output_padding"] = tuple(draw(st.integers(0, s - 1)) for s in case["stride"])
        case["size"] = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
        for h, k, s, p, op in zip(case["size"], case["kernel"], case["stride"],
                                  case["padding"], case["output_padding"]):
            assume((h - 1) * s - 2 * p + k + op > 0)
    else:  # at least one window: size + 2 padding >= kernel
        case["size"] = tuple(max(1, k - 2 * p) + draw(st.integers(0, 3))
                             for k, p in zip(case["kernel"], case["padding"]))
    return case


def conv_inputs(case, device, transposed=False):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c_in"], *case["size"]))
    w_shape = (case["c_in"], case["c_out"]) if transposed else (case["c_out"], case["c_in"])
    w = rng.standard_normal(w_shape + case["kernel"])
    b = rng.standard_normal(case["c_out"]) if case["bias"] else None
    return (leaf(x, device), leaf(w, device), None if b is None else leaf(b, device))


# ----------------------------------------------------------------- finite differences
@GRADCHECK
@given(case=conv_cases())
def test_conv2d_gradients_match_finite_differences(device, case):
    x, w, b = conv_inputs(case, device)
    inputs = [x, w] + ([b] if b is not None else [])
    assert gradcheck(lambda x, w, b=None: F.conv2d(x, w, b, case["stride"], case["padding"]),
                     inputs)


@GRADCHECK
@given(case=conv_cases(transposed=True))
def test_conv_transpose2d_gradients_match_finite_differences(device, case):
    x, w, b = conv_inputs(case, device, transposed=True)
    inputs = [x, w] + ([b] if b is not None else [])

    def fn(x, w, b=None):
        return F.conv_transpose2d(x, w, b, case["stride"], case["padding"],
                                  case["output_padding"])
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("transposed", [False, True])
def test_gradients_along_random_directions_on_dcgan_sized_layers(device, transposed):
    """64 <-> 128 channels, 4x4 kernels, stride 2, padding 1, at 16x16 (8x8) and batch 2."""
    rng = np.random.default_rng(0)
    if transposed:
        x, w = rng.standard_normal((2, 128, 8, 8)), 0.05 * rng.standard_normal((128, 64, 4, 4))
        fn = lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1)  # noqa: E731
    else:
        x, w = rng.standard_normal((2, 64, 16, 16)), 0.05 * rng.standard_normal((128, 64, 4, 4))
        fn = lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1)  # noqa: E731
    b = rng.standard_normal(64 if transposed else 128)
    assert directional_gradcheck(fn, [leaf(x, device), leaf(w, device), leaf(b, device)])


# --------------------------------------------------------------------- naive oracles
def naive_conv2d(x, w, stride, padding):
    """out[n, o, y, x] = sum over c, i, j of x_pad[n, c, y*sh + i, x*sw + j] w[o, c, i, j]."""
    (sh, sw), (ph, pw) = stride, padding
    n, _, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    out = np.zeros((n, c_out, oh, ow))
    for b in range(n):
        for o in range(c_out):
            for y in range(oh):
                for x_ in range(ow):
                    window = x_pad[b, :, y * sh:y * sh + kh, x_ * sw:x_ * sw + kw]
                    out[b, o, y, x_] = (window * w[o]).sum()
    return out


def naive_conv_transpose2d(x, w, stride, padding, output_padding):
    """Every input pixel spreads x[n, c, y, x] * w[c] onto the output window at (y*sh, x*sw)."""
    (sh, sw), (ph, pw), (oph, opw) = stride, padding, output_padding
    n, c_in, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    oh, ow = (h - 1) * sh - 2 * ph + kh + oph, (wd - 1) * sw - 2 * pw + kw + opw
    full = np.zeros((n, c_out, ph + oh + kh, pw + ow + kw))  # room for padding and the edges
    for b in range(n):
        for c in range(c_in):
            for y in range(h):
                for x_ in range(wd):
                    full[b, :, y * sh:y * sh + kh, x_ * sw:x_ * sw + kw] += x[b, c, y, x_] * w[c]
    return full[:, :, ph:ph + oh, pw:pw + ow]


@ORACLE
@given(case=conv_cases())
def test_conv2d_equals_the_nested_loop_definition(device, case):
    x, w, b = conv_inputs(case, device)
    out = F.conv2d(x, w, b, case["stride"], case["padding"])
    expected = naive_conv2d(x.numpy(), w.numpy(), case["stride"], case["padding"])
    if b is not None:
        expected = expected + b.numpy()[:, None, None]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@ORACLE
@given(case=conv_cases(transposed=True))
def test_conv_transpose2d_equals_the_nested_loop_definition(device, case):
    x, w, b = conv_inputs(case, device, transposed=True)
    out = F.conv_transpose2d(x, w, b, case["stride"], case["padding"], case["output_padding"])
    expected = naive_conv_transpose2d(x.numpy(), w.numpy(), case["stride"], case["padding"],
                                      case["output_padding"])
    if b is not None:
        expected = expected + b.numpy()[:, None, None]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@ORACLE
@given(case=conv_cases())
def test_conv_transpose_is_adjoint_of_conv(device, case):
    """<conv2d(x, w), u> == <x, conv_transpose2d(u, w)>, with the output_padding that gives
    back x's size (the rows and columns that conv2d's last window did not reach)."""
    x, w, _ = conv_inputs(case, device)
    out = F.conv2d(x, w, None, case["stride"], case["padding"])
    u = leaf(np.random.default_rng(case["seed"] + 1).standard_normal(out.shape), device)
    output_padding = tuple((size + 2 * p - k) % s for size, k, s, p in
                           zip(case["size"], case["kernel"], case["stride"], case["padding"]))
    back = F.conv_transpose2d(u, w, None, case["stride"], case["padding"], output_padding)
    assert back.shape == x.shape
    lhs, rhs = float((out * u).sum()), float((x * back).sum())
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_conv2d_input_gradient_is_conv_transpose2d_of_the_upstream_gradient(device):
    rng = np.random.default_rng(3)
    x = leaf(rng.standard_normal((2, 3, 9, 8)), device)
    w = leaf(rng.standard_normal((4, 3, 3, 3)), device)
    out = F.conv2d(x, w, stride=2, padding=1)
    g = rng.standard_normal(out.shape)
    out.backward(minigan.tensor(g, dtype="float64", device=device))
    # 9 + 2 - 3 = 8 is divisible by 2 in height; 8 + 2 - 3 = 7 leaves one column in width
    expected = F.conv_transpose2d(leaf(g, device, False), w.detach(), stride=2, padding=1,
                                  output_padding=(0, 1))
    np.testing.assert_allclose(x.grad.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


# ------------------------------------------------- im2col and col2im: the plain versions
def plain_im2col(x, kernel, stride, padding):
    """cols[c, i, j, oh, ow, n] = x_pad[n, c, sh*oh + i, sw*ow + j], one slab per (i, j)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (x_pad.shape[2] - kh) // sh + 1, (x_pad.shape[3] - kw) // sw + 1
    cols = np.empty((x.shape[1], kh, kw, oh, ow, x.shape[0]))
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = x_pad[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw].transpose(1, 2, 3, 0)
    return cols


def plain_col2im(cols, x_shape, stride, padding):
    """The reference col2im, which the fast paths must equal: a zero padded image, kh*kw
    slab additions, the padding cut away."""
    n, c, h, w = x_shape
    _, kh, kw, oh, ow, _ = cols.shape
    (sh, sw), (ph, pw) = stride, padding
    image = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    for i in range(kh):
        for j in range(kw):
            image[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += cols[:, i, j].transpose(3, 0, 1, 2)
    return image[:, :, ph:ph + h, pw:pw + w]


def check_im2col_and_col2im(device, x_shape, kernel, stride, padding, seed=0):
    """im2col of x in both memory orders, and col2im of random columns, equal the plain
    versions number for number (float64)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape)
    expected = plain_im2col(x, kernel, stride, padding)
    batch_last = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    for layout in (x, batch_last):
        cols = im2col(to_device(layout, device), kernel, stride, padding)
        np.testing.assert_array_equal(asnumpy(cols), expected)
    cols = rng.standard_normal(expected.shape)
    image = col2im(to_device(cols, device), x_shape, stride, padding)
    np.testing.assert_array_equal(asnumpy(image), plain_col2im(cols, x_shape, stride, padding))


@ORACLE
@given(case=conv_cases())
def test_im2col_and_col2im_equal_their_plain_versions(device, case):
    x_shape = (case["n"], case["c_in"], *case["size"])
    check_im2col_and_col2im(device, x_shape, case["kernel"], case["stride"], case["padding"],
                            case["seed"])


@pytest.mark.parametrize("x_shape, kernel, stride", [
    ((3, 4, 7, 7), (7, 7), (1, 1)),  # one window, the whole image (DCGAN-28's last layer)
    ((2, 5, 4, 3), (4, 3), (2, 5)),  # the same, any stride
    ((2, 3, 6, 8), (3, 2), (3, 2)),  # windows that tile the image
    ((2, 3, 6, 4), (6, 2), (1, 2)),  # one window high, tiles in width
])
def test_im2col_and_col2im_of_windows_that_tile_the_image(device, x_shape, kernel, stride):
    check_im2col_and_col2im(device, x_shape, kernel, stride, (0, 0))


def test_whole_image_window_moves_no_numbers():
    """im2col and col2im are free reshapes when the one window is the whole image."""
    x = np.random.default_rng(0).standard_normal((3, 4, 5, 5))
    assert np.shares_memory(im2col(x, (5, 5), (1, 1), (0, 0)), x)
    cols = np.random.default_rng(1).standard_normal((4, 5, 5, 1, 1, 3))
    assert np.shares_memory(col2im(cols, (3, 4, 5, 5), (1, 1), (0, 0)), cols)


# ------------------------------------------------------------------------ dtypes, layout
@pytest.mark.parametrize("transposed", [False, True])
def test_float32_stays_float32_in_forward_and_backward(device, transposed):
    x = minigan.randn(2, 4, 6, 6, device=device, requires_grad=True)
    w = minigan.randn(4, 3, 3, 3, device=device, requires_grad=True)
    b = minigan.randn(3, device=device, requires_grad=True)
    fn = F.conv_transpose2d if transposed else F.conv2d
    if not transposed:
        w = minigan.randn(3, 4, 3, 3, device=device, requires_grad=True)
    out = fn(x, w, b, stride=2, padding=1)
    out.sum().backward()
    assert out.dtype == np.float32
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_result_does_not_depend_on_the_memory_layout_of_the_input(device):
    """The ops hand out batch-innermost views; a C-ordered copy must give the same result."""
    rng = np.random.default_rng(5)
    w = leaf(rng.standard_normal((5, 4, 3, 3)), device, False)
    x = F.conv_transpose2d(leaf(rng.standard_normal((3, 5, 4, 4)), device), w, stride=2)
    contiguous = minigan.tensor(np.ascontiguousarray(x.numpy()), dtype="float64", device=device)
    w2 = leaf(rng.standard_normal((2, 4, 3, 3)), device, False)
    for padding in (0, 1):
        np.testing.assert_allclose(F.conv2d(x, w2, padding=padding).numpy(),
                                   F.conv2d(contiguous, w2, padding=padding).numpy(),
                                   rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("kernel, padding", [(1, 0), (3, 1)])
def test_conv2d_backward_leaves_its_input_and_saved_arrays_untouched(device, kernel, padding):
    """Backward writes the input gradient's columns into memory of its own, never into x
    (a 1x1 kernel's columns are a view of a batch-last x) nor into what forward saved:
    a second backward through the retained graph gives the same gradients."""
    rng = np.random.default_rng(7)
    w0 = leaf(rng.standard_normal((4, 3, 2, 2)), device, False)
    x = F.conv_transpose2d(leaf(rng.standard_normal((2, 4, 3, 3)), device), w0)  # batch-last
    before = x.numpy().copy()
    w = leaf(rng.standard_normal((5, 3, kernel, kernel)), device)
    out = F.conv2d(x, w, padding=padding)
    g = minigan.tensor(rng.standard_normal(out.shape), dtype="float64", device=device)
    out.backward(g, retain_graph=True)
    first = w.grad.numpy().copy()
    np.testing.assert_array_equal(x.numpy(), before)
    w.grad = None
    out.backward(g)
    np.testing.assert_array_equal(w.grad.numpy(), first)


# ------------------------------------------------------------------------ clear errors
def test_channel_mismatch_names_the_function_and_the_shapes():
    x, w = minigan.randn(2, 3, 8, 8), minigan.randn(16, 4, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d: input must have shape \(N, 4, H, W\), got "
                                         r"\(2, 3, 8, 8\), to match weight of shape "
                                         r"\(16, 4, 3, 3\) \(C_in = 4\)"):
        F.conv2d(x, w)
    with pytest.raises(ValueError, match=r"conv_transpose2d: input .*got \(2, 3, 8, 8\).*"
                                         r"C_in = 16"):
        F.conv_transpose2d(x, minigan.randn(16, 4, 3, 3))


def test_impossible_output_size_is_reported_with_the_sizes():
    with pytest.raises(ValueError, match=r"conv2d: no output: the 5x5 kernel is larger than "
                                         r"the input of 2x2 pixels with padding \(1, 0\) "
                                         r"\(4x2 padded\)"):
        F.conv2d(minigan.randn(1, 1, 2, 2), minigan.randn(1, 1, 5, 5), padding=(1, 0))
    with pytest.raises(ValueError, match=r"conv_transpose2d: the output, .* would be -1x-1 "
                                         r"for an input of 1x1 pixels"):
        F.conv_transpose2d(minigan.randn(1, 1, 1, 1), minigan.randn(1, 1, 1, 1), padding=1)


def test_wrong_rank_is_rejected():
    with pytest.raises(ValueError, match=r"conv2d: input must have shape \(N, 3, H, W\), "
                                         r"got \(3, 8, 8\)"):
        F.conv2d(minigan.randn(3, 8, 8), minigan.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv_transpose2d: weight must have shape "
                                         r"\(C_in, C_out, kH, kW\), got \(3, 4, 3\)"):
        F.conv_transpose2d(minigan.randn(1, 3, 8, 8), minigan.randn(3, 4, 3))


def test_integer_tensors_are_rejected():
    ints = minigan.tensor(np.ones((1, 1, 4, 4), dtype=np.int64))
    with pytest.raises(TypeError, match="conv2d: input must be a floating-point tensor"):
        F.conv2d(ints, minigan.randn(1, 1, 3, 3))
    with pytest.raises(TypeError, match="conv_transpose2d: weight must be a floating-point"):
        F.conv_transpose2d(minigan.randn(1, 1, 4, 4), minigan.tensor(np.ones((1, 1, 3, 3),
                                                                            dtype=np.int32)))


def test_output_padding_must_be_smaller_than_stride():
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be >= 0 and smaller "
                                         r"than stride \(2, 2\)"):
        F.conv_transpose2d(minigan.randn(1, 2, 3, 3), minigan.randn(2, 2, 3, 3), stride=2,
                           output_padding=2)
    with pytest.raises(ValueError, match="ConvTranspose2d: output_padding"):
        nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)


def test_bad_bias_stride_padding_and_dtype_mix_are_rejected():
    x, w = minigan.randn(1, 2, 5, 5), minigan.randn(3, 2, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(3,\)"):
        F.conv2d(x, w, minigan.randn(2))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(TypeError, match="padding must be an int or a pair of ints"):
        F.conv2d(x, w, padding=1.5)
    with pytest.raises(TypeError, match="input is float32 but weight is float64"):
        F.conv2d(x, minigan.randn(3, 2, 3, 3, dtype="float64"))
    with pytest.raises(TypeError, match="conv_transpose2d: input is float32 but bias is float64"):
        F.conv_transpose2d(x, minigan.randn(2, 3, 3, 3), minigan.randn(3, dtype="float64"))


def test_numpy_integers_are_accepted_as_stride_and_padding():
    x, w = minigan.randn(1, 2, 6, 6), minigan.randn(3, 2, 3, 3)
    out = F.conv2d(x, w, stride=np.int64(2), padding=(np.int32(1), 1))
    np.testing.assert_array_equal(out.numpy(), F.conv2d(x, w, stride=2, padding=1).numpy())
    assert nn.Conv2d(2, 3, np.int64(3), stride=np.int64(2)).stride == (2, 2)


# ------------------------------------------------------------------------------ layers
def test_conv_layer_channel_mismatch_names_the_layer():
    layer = nn.Conv2d(3, 64, 4, stride=2, padding=1)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 64, kernel_size=\(4, 4\), stride=\(2, 2\), "
                                         r"padding=\(1, 1\)\): conv2d: input must have shape "
                                         r"\(N, 3, H, W\), got \(2, 1, 8, 8\)"):
        layer(minigan.randn(2, 1, 8, 8))


@pytest.mark.parametrize("layer, weight_shape, fan_in", [
    (nn.Conv2d(6, 5, (3, 2)), (5, 6, 3, 2), 6 * 3 * 2),
    (nn.ConvTranspose2d(6, 5, (3, 2)), (6, 5, 3, 2), 5 * 3 * 2),  # fan_in from dim 1
])
def test_default_init_is_uniform_within_one_over_sqrt_fan_in(layer, weight_shape, fan_in):
    bound = 1 / math.sqrt(fan_in)
    assert layer.weight.shape == weight_shape and layer.bias.shape == (5,)
    for p in (layer.weight, layer.bias):
        values = p.numpy()
        assert np.all(np.abs(values) <= bound) and np.abs(values).max() > 0.5 * bound


def test_layers_compute_their_functional_form_and_register_parameters(device):
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1).to(device)
    convt = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1, bias=False)
    convt.to(device)
    x = minigan.randn(2, 3, 8, 8, device=device)
    y = conv(x)
    assert y.shape == (2, 4, 4, 4)
    np.testing.assert_array_equal(y.numpy(), F.conv2d(x, conv.weight, conv.bias, 2, 1).numpy())
    assert convt(y).shape == (2, 3, 8, 8)
    assert list(conv.state_dict()) == ["weight", "bias"]
    assert list(convt.state_dict()) == ["weight"]
