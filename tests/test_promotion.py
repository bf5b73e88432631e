"""Type promotion, dtype rules and value checks, each against PyTorch.

One rule (minigan/dtypes.py, PyTorch's torch.result_type) decides the dtype of every op on
mixed operands: a table over every supported dtype pair and every kind of operand (a tensor
with dimensions, a 0-d tensor, a Python number) is compared with torch.result_type and with
the dtype torch's operators actually return. Then the consequences: values computed in the
promoted dtype, gradients carried back through the casts, float ops on integers, the ops
PyTorch refuses to mix (matmul, linear, batch_norm), BCE's value checks, a tensor's truth
value, and the legacy `Tensor([...])` constructor.
"""
import itertools
import math
import warnings

import numpy as np
import pytest

import minigan
import minigan.nn.functional as F
from minigan import dtypes

DTYPES = [np.dtype(t) for t in (np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
                                np.float16, np.float32, np.float64)]
NUMBERS = [True, 3, 2.5]  # a Python bool, int and float


def torch_dtype(torch, dtype):
    return torch.from_numpy(np.zeros(1, dtype)).dtype


def numpy_dtype(torch, dtype):
    return torch.zeros(1, dtype=dtype).numpy().dtype


def operands(dtype, dims):
    """A minigan tensor and its NumPy values: shape (2,) with dimensions, else 0-d."""
    values = np.array([1, 0] if dims else 1).astype(dtype)
    return minigan.tensor(values), values


def assert_same(mine, theirs, what, rtol=0):
    """The same dtype, and the same values (within rtol where libm's exp may differ)."""
    assert mine.dtype == theirs.numpy().dtype, f"{what}: {mine.dtype}, torch {theirs.dtype}"
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=rtol, err_msg=what)


# ------------------------------------------------------------------------------- the table
def test_result_type_is_torchs_for_every_dtype_pair_and_operand_kind(torch):
    wrong = []
    for a, b in itertools.product(DTYPES, DTYPES):
        for a_dims, b_dims in itertools.product((True, False), repeat=2):
            x, x_values = operands(a, a_dims)
            y, y_values = operands(b, b_dims)
            theirs = numpy_dtype(torch, torch.result_type(torch.from_numpy(x_values),
                                                          torch.from_numpy(y_values)))
            if dtypes.result_type(x, y) != theirs:
                wrong.append((a, a_dims, b, b_dims, dtypes.result_type(x, y), theirs))
    assert not wrong, f"(dtype, has dims) pairs whose result type is not torch's: {wrong}"


def test_result_type_with_a_python_number_is_torchs(torch):
    wrong = []
    for a, number, dims in itertools.product(DTYPES, NUMBERS, (True, False)):
        x, x_values = operands(a, dims)
        theirs = numpy_dtype(torch, torch.result_type(torch.from_numpy(x_values), number))
        if dtypes.result_type(x, number) != theirs:
            wrong.append((a, dims, number, dtypes.result_type(x, number), theirs))
    assert not wrong, f"(dtype, has dims, number) whose result type is not torch's: {wrong}"


def test_promote_types_is_torchs(torch):
    for a, b in itertools.product(DTYPES, DTYPES):
        theirs = torch.promote_types(torch_dtype(torch, a), torch_dtype(torch, b))
        assert dtypes.promote_types(a, b) == numpy_dtype(torch, theirs), (a, b)


@pytest.mark.parametrize("op", ["+", "*", "<", "=="])
def test_operators_give_torchs_dtype_and_values_for_every_pair(torch, op):
    for a, b in itertools.product(DTYPES, DTYPES):
        for a_dims, b_dims in ((True, True), (True, False), (False, True)):
            x, x_values = operands(a, a_dims)
            y, y_values = operands(b, b_dims)
            mine = eval(f"x {op} y")
            theirs = eval(f"tx {op} ty", {"tx": torch.from_numpy(x_values),
                                          "ty": torch.from_numpy(y_values)})
            assert_same(mine, theirs, f"{a}{'[]' if a_dims else ''} {op} {b}")
        for number in NUMBERS:  # a Python number on either side
            x, x_values = operands(a, True)
            tx = torch.from_numpy(x_values)
            assert_same(eval(f"x {op} number"), eval(f"tx {op} number"), f"{a} {op} {number}")
            assert_same(eval(f"number {op} x"), eval(f"number {op} tx"), f"{number} {op} {a}")


@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_mixed_dtype_arithmetic_gives_torchs_values(torch, op):
    rng = np.random.default_rng(0)
    for a, b in itertools.product(DTYPES, DTYPES):
        if op == "-" and np.bool_ in (a, b):
            continue  # refused by both (test_bool_arithmetic_torch_refuses_is_refused)
        x_values = rng.uniform(-40, 40, 6).astype(a)  # uint8 wraps, as in torch
        y_values = np.asarray(rng.uniform(1, 9, ()) if b.kind == "f" else 3).astype(b)
        for y in (y_values, np.full(6, y_values)):  # a 0-d operand, then a dimensioned one
            mine = eval(f"x {op} y", {"x": minigan.tensor(x_values), "y": minigan.tensor(y)})
            theirs = eval(f"x {op} y", {"x": torch.from_numpy(x_values),
                                        "y": torch.from_numpy(y)})
            # a float16 result of * or /: PyTorch's kernels read a float32 0-d operand at
            # float32 precision, minigan rounds it to float16 first (docs/errors.md)
            rtol = 2e-3 if op in "*/" and np.float16 in (a, b) else 0
            assert_same(mine, theirs, f"{a} {op} {b}{'[]' if y.ndim else ''}", rtol=rtol)


def test_true_division_of_integers_and_bools_gives_float32_as_torch(torch):
    for a, b in itertools.product(DTYPES, DTYPES):
        x, x_values = operands(a, True)
        y, y_values = operands(b, False)
        y_values = np.asarray(y_values + np.ones((), b))  # not 0 (bool: True)
        mine = x / minigan.tensor(y_values)
        assert_same(mine, torch.from_numpy(x_values) / torch.from_numpy(y_values), f"{a} / {b}")
    assert_same(minigan.tensor([1, 2]) / 2, torch.tensor([1, 2]) / 2, "int64 / 2")
    assert_same(3 / minigan.tensor([1, 2]), 3 / torch.tensor([1, 2]), "3 / int64")


# ------------------------------------------------------------ the cases of issue 20, values
def test_a_0d_float64_tensor_does_not_promote_a_float32_tensor(torch):
    x = np.array([0.1, 1 / 3, 2.7], np.float32)
    s = np.array(0.1, np.float64)
    for op in ("+", "-", "*", "/", "**"):
        mine = eval(f"a {op} b", {"a": minigan.tensor(x), "b": minigan.tensor(s)})
        theirs = eval(f"a {op} b", {"a": torch.from_numpy(x), "b": torch.from_numpy(s)})
        assert_same(mine, theirs, f"float32 {op} float64 0-d")  # float32, bit for bit


def test_integer_tensors_with_floats_give_float32_as_torch(torch):
    i = np.array([1, 2, 3])
    for mine, theirs in [(minigan.tensor(i) + 0.5, torch.tensor(i) + 0.5),
                         (minigan.tensor(i) * minigan.tensor([0.1, 0.2, 0.3]),
                          torch.tensor(i) * torch.tensor([0.1, 0.2, 0.3])),
                         (minigan.tensor(i) / minigan.tensor(i), torch.tensor(i) / torch.tensor(i)),
                         (minigan.tensor(i) ** 0.5, torch.tensor(i) ** 0.5),
                         (2.0 ** minigan.tensor(i), 2.0 ** torch.tensor(i)),
                         (minigan.tensor(i) + minigan.tensor(0.5, dtype="float64"),
                          torch.tensor(i) + torch.tensor(0.5, dtype=torch.float64))]:
        assert_same(mine, theirs, "int with float")


def test_comparisons_run_in_the_promoted_dtype_as_torch(torch):
    mine = minigan.tensor([0.1]) == minigan.tensor(0.1, dtype="float64")
    assert_same(mine, torch.tensor([0.1]) == torch.tensor(0.1, dtype=torch.float64), "==")
    assert bool(mine)  # float32(0.1) equals 0.1 rounded to float32, as in torch


def test_integers_wrap_into_a_narrow_dtype_as_torch(torch):
    assert_same(minigan.tensor([1], dtype="uint8") + 300,
                torch.tensor([1], dtype=torch.uint8) + 300, "uint8 + 300")
    assert_same(minigan.tensor([1], dtype="int8") + 200,
                torch.tensor([1], dtype=torch.int8) + 200, "int8 + 200")
    with pytest.raises(OverflowError, match="does not fit in 64 bits"):
        minigan.tensor([1.0]) + 2 ** 70
    with pytest.raises(OverflowError):
        torch.tensor([1.0]) + 2 ** 70


def test_float_ops_on_integers_give_float32_as_torch(torch):
    for dtype in DTYPES[:6]:  # bool and the integers
        x = np.array([1, 0]).astype(dtype)
        mt, tt = minigan.tensor(x), torch.from_numpy(x)
        assert_same(mt.exp(), tt.exp(), f"exp {dtype}", rtol=1e-6)
        assert_same(F.sigmoid(mt), torch.sigmoid(tt), f"sigmoid {dtype}", rtol=1e-6)
        assert_same(F.tanh(mt), torch.tanh(tt), f"tanh {dtype}", rtol=1e-6)
        if dtype != np.bool_:
            assert_same(F.relu(mt), torch.relu(tt), f"relu {dtype}")  # keeps the integer dtype
    with pytest.raises(TypeError, match="relu: input must be a floating-point or integer "
                                        "tensor, got dtype bool"):
        F.relu(minigan.tensor([True]))
    with pytest.raises(RuntimeError):
        torch.relu(torch.tensor([True]))


def test_mean_of_an_integer_tensor_raises_and_sum_gives_int64_as_torch(torch):
    for dtype in DTYPES[:6]:
        x = np.array([1, 0]).astype(dtype)
        with pytest.raises(TypeError, match=f"mean\\(\\).*floating-point.*{dtype}"):
            minigan.tensor(x).mean()
        with pytest.raises(RuntimeError, match="mean"):
            torch.from_numpy(x).mean()
        assert_same(minigan.tensor(x).sum(), torch.from_numpy(x).sum(), f"sum {dtype}")
        assert_same(minigan.tensor(x).sum(axis=0, keepdims=True),
                    torch.from_numpy(x).sum(dim=0, keepdim=True), f"sum {dtype}")


def test_bool_arithmetic_torch_refuses_is_refused(torch):
    t, mt = torch.tensor([True]), minigan.tensor([True])
    for fn in (lambda a: -a, lambda a: a - a, lambda a: a ** a):
        with pytest.raises((RuntimeError, NotImplementedError)):
            fn(t)
        with pytest.raises(TypeError):
            fn(mt)
    assert_same(mt + mt, t + t, "bool + bool")
    assert_same(mt * mt, t * t, "bool * bool")


# ------------------------------------------------------------------ gradients through casts
@pytest.mark.parametrize("x_dtype, s_dtype", [("float32", "float64"), ("float64", "float32"),
                                              ("float16", "float32")])
def test_gradients_flow_back_through_promotion_in_each_inputs_dtype(torch, x_dtype, s_dtype):
    x = np.array([0.5, -1.5, 2.0], x_dtype)
    s = np.array(0.3, s_dtype)
    w = np.array([0.1, 0.2, 0.3], s_dtype)  # a dimensioned tensor of the other dtype
    mx, ms, mw = (minigan.tensor(a, requires_grad=True) for a in (x, s, w))
    tx, ts, tw = (torch.tensor(a, requires_grad=True) for a in (x, s, w))
    mine = ((mx * ms + 1) / ms * mw).sum()
    theirs = ((tx * ts + 1) / ts * tw).sum()
    assert mine.dtype == theirs.detach().numpy().dtype
    mine.backward()
    theirs.backward()
    for m, t, name in ((mx, tx, "x"), (ms, ts, "s"), (mw, tw, "w")):
        assert m.grad.dtype == m.dtype, name  # each gradient in its input's dtype
        np.testing.assert_allclose(m.grad.numpy().astype(np.float64), t.grad.double().numpy(),
                                   rtol=2e-3 if "float16" in (x_dtype, s_dtype) else 1e-6,
                                   err_msg=name)


def test_to_a_dtype_is_differentiable_and_float_and_double_convert(torch):
    x = minigan.tensor([1.5, 2.5], requires_grad=True)
    y = x.to(minigan.float64)
    assert y.dtype == np.float64 and x.double().dtype == np.float64
    assert x.to("float64").dtype == np.float64 and y.float().dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 5.0])
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        x.to("gpu")


# ------------------------------------------------- ops PyTorch runs in one float dtype only
def mixed_dtype_cases(torch, lib):
    """(name, function) pairs that mix float32 and float64 where PyTorch refuses to."""
    fn = F if lib is minigan else torch.nn.functional
    tensor = minigan.tensor if lib is minigan else torch.tensor
    f32 = lambda *shape: (minigan if lib is minigan else torch).ones(*shape)  # noqa: E731
    f64 = lambda *shape: f32(*shape).double()  # noqa: E731
    x2 = tensor([[1.0], [2.0]])
    return [
        ("matmul", lambda: f32(2, 2) @ f64(2, 2)),
        ("matmul", lambda: f64(2, 2) @ f32(2, 2)),
        ("matmul", lambda: tensor([[1, 2]]) @ f32(2, 1)),
        ("linear", lambda: fn.linear(f32(1, 2), f64(3, 2))),
        ("linear", lambda: fn.linear(f32(1, 2), f32(3, 2), f64(3))),
        ("batch_norm", lambda: fn.batch_norm(x2, f64(1), f64(1), training=True)),
        ("batch_norm", lambda: fn.batch_norm(x2, f64(1), f64(1), training=False)),
        ("batch_norm", lambda: fn.batch_norm(x2, None, None, f64(1), training=True)),
        ("conv2d", lambda: fn.conv2d(f32(1, 1, 2, 2), f64(1, 1, 1, 1))),
        ("conv_transpose2d", lambda: fn.conv_transpose2d(f32(1, 1, 2, 2), f64(1, 1, 1, 1))),
        ("binary_cross_entropy", lambda: fn.binary_cross_entropy(f32(2) / 2, f64(2))),
    ]


def test_ops_pytorch_refuses_on_mixed_dtypes_refuse_naming_both(torch):
    for (name, mine), (_, theirs) in zip(mixed_dtype_cases(torch, minigan),
                                         mixed_dtype_cases(torch, torch)):
        with pytest.raises(RuntimeError):
            theirs()
        both = f"{name}: .*(float32|float64|int64).*(float32|float64)"
        with pytest.raises(TypeError, match=both):
            mine()


def test_cat_promotes_mixed_dtypes_as_torch(torch):
    parts = [np.array([1, 2], np.int8), np.array([True]), np.array([0.5], np.float16)]
    for chosen in ([0, 1], [1, 0, 2], [0, 2]):
        mine = minigan.cat([minigan.tensor(parts[i]) for i in chosen])
        theirs = torch.cat([torch.from_numpy(parts[i]) for i in chosen])
        assert_same(mine, theirs, f"cat {chosen}")
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    out = minigan.cat([x, minigan.tensor([3.0], dtype="float64")])
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_matmul_of_one_integer_dtype_works_as_torch(torch):
    a = np.array([[1, 2], [3, 4]])
    assert_same(minigan.tensor(a) @ minigan.tensor(a), torch.tensor(a) @ torch.tensor(a), "@")


def test_bce_with_logits_on_two_float_dtypes_computes_in_the_targets_as_torch(torch):
    x = np.array([0.3, -2.0, 4.0])
    t = np.array([1.0, 0.0, 0.25])
    for x_dtype, t_dtype in (("float32", "float64"), ("float64", "float32")):
        mx = minigan.tensor(x.astype(x_dtype), requires_grad=True)
        tx = torch.tensor(x.astype(x_dtype), requires_grad=True)
        mine = F.binary_cross_entropy_with_logits(mx, minigan.tensor(t.astype(t_dtype)))
        theirs = torch.nn.functional.binary_cross_entropy_with_logits(
            tx, torch.tensor(t.astype(t_dtype)))
        assert mine.dtype == theirs.detach().numpy().dtype == t_dtype
        np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-6)
        mine.backward()
        theirs.backward()
        assert mx.grad.dtype == x_dtype
        np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


# ------------------------------------------------------------------- value checks: BCE
@pytest.mark.parametrize("p, t, bad", [([1.5], [1.0], "input"), ([-0.1], [0.0], "input"),
                                        ([math.nan], [1.0], "input"),
                                        ([math.inf], [1.0], "input"),
                                        ([0.5], [1.5], "target"), ([0.5], [-0.5], "target"),
                                        ([0.5], [math.nan], "target")])
def test_bce_refuses_values_outside_the_unit_interval_as_torch(torch, device, p, t, bad):
    with pytest.raises(RuntimeError, match=f"all elements of {bad} should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t))
    with pytest.raises(ValueError, match=f"all elements of {bad} should be between 0 and 1"):
        F.binary_cross_entropy(minigan.tensor(p, device=device),
                               minigan.tensor(t, device=device))


def test_bce_accepts_the_closed_unit_interval_and_matches_torch(torch, device):
    p, t = [0.0, 1.0, -0.0, 0.25, 1.0], [1.0, 0.0, 0.0, 1.0, 1.0]
    mine = F.binary_cross_entropy(minigan.tensor(p, device=device),
                                  minigan.tensor(t, device=device))
    theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t))
    np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-6)
    with warnings.catch_warnings():  # NumPy warns about the mean of an empty array
        warnings.simplefilter("ignore", RuntimeWarning)
        empty = F.binary_cross_entropy(minigan.zeros(0, device=device),
                                       minigan.zeros(0, device=device))
    assert math.isnan(empty.item())  # nothing to check; the mean of nothing, as in torch


def test_bce_with_logits_accepts_targets_outside_the_unit_interval_as_torch(torch):
    mine = F.binary_cross_entropy_with_logits(minigan.tensor([0.5]), minigan.tensor([1.5]))
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor([0.5]),
                                                                  torch.tensor([1.5]))
    np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-6)


def test_cross_entropy_refuses_targets_that_are_not_int64_or_uint8_as_torch(torch):
    logits = [[0.5, 1.0]]
    with pytest.raises(RuntimeError, match="Long or Byte"):
        torch.nn.functional.cross_entropy(torch.tensor(logits),
                                          torch.tensor([1], dtype=torch.int32))
    with pytest.raises(TypeError, match="\\(int64 or uint8\\), got int32"):
        F.cross_entropy(minigan.tensor(logits), minigan.tensor([1], dtype="int32"))
    mine = F.cross_entropy(minigan.tensor(logits), minigan.tensor([1], dtype="uint8"))
    theirs = torch.nn.functional.cross_entropy(torch.tensor(logits),
                                               torch.tensor([1], dtype=torch.uint8))
    np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-6)


# ------------------------------------------------------------------------- truth values
def test_a_one_element_tensor_has_a_truth_value_as_torch(torch, device):
    for values in ([0.0], [[2.0]], 0.0, 0.3, math.nan, [True], [0]):
        mine = minigan.tensor(values, device=device)
        assert bool(mine) == bool(torch.tensor(values)), values
    assert not bool(minigan.tensor([0.0], device=device) == 1)
    assert minigan.tensor([1.0], device=device) not in [minigan.tensor([2.0], device=device)]
    loss = minigan.tensor(0.3, device=device)
    assert (loss < 0.5) and not (loss > 0.5)


@pytest.mark.parametrize("values, what", [([], "no values"), ([1.0, 2.0], "more than one")])
def test_truth_of_other_sizes_is_ambiguous_as_torch(torch, values, what):
    with pytest.raises(RuntimeError, match=f"Tensor with {what}"):
        bool(torch.tensor(values))
    with pytest.raises(RuntimeError, match=f"Tensor with {what}.*use .any\\(\\) or .all\\(\\)"):
        bool(minigan.tensor(values))
    with pytest.raises(RuntimeError, match="ambiguous"):
        assert minigan.tensor(values) == minigan.tensor(values)


def test_any_and_all_reduce_as_torch(torch):
    x = np.array([[0.0, 1.0], [0.0, 0.0]])
    for name in ("any", "all"):
        assert_same(getattr(minigan.tensor(x), name)(), getattr(torch.tensor(x), name)(), name)
        assert_same(getattr(minigan.tensor(x), name)(axis=1),
                    getattr(torch.tensor(x), name)(dim=1), name)
        assert_same(getattr(minigan.tensor(x), name)(axis=0, keepdims=True),
                    getattr(torch.tensor(x), name)(dim=0, keepdim=True), name)


def test_repr_names_the_dtype_unless_it_is_a_default_as_torch(torch):
    for dtype in DTYPES:
        values = np.array([1, 0]).astype(dtype)
        named = "dtype=" in repr(torch.from_numpy(values))
        assert (f", dtype={dtype}" in repr(minigan.tensor(values))) == named, dtype


def test_len_of_a_0d_tensor_raises_as_torch(torch):
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(torch.tensor(1.0))
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(minigan.tensor(1.0))


# ---------------------------------------------------------------------- making tensors
@pytest.mark.parametrize("data", [[1.0, 2.0], [1, 2], (1, 2), [[True, False]], []])
def test_the_tensor_class_accepts_a_list_as_torchs_legacy_constructor(torch, data):
    assert_same(minigan.Tensor(data), torch.Tensor(data), f"Tensor({data})")


def test_the_tensor_class_refuses_a_number_pointing_to_minigan_tensor(torch):
    with pytest.raises(TypeError):
        torch.Tensor(3.5)
    with pytest.raises(TypeError, match="use minigan.tensor"):
        minigan.Tensor(3.5)


@pytest.mark.parametrize("data", [[np.float64(1.0), 2.0], [np.float32(1.0), 2], [True, 1],
                                  [np.int32(1), 2], [np.float16(1.0), 1.0], [np.int32(1)],
                                  [[np.int8(1)], [np.int16(2)]], np.float64(1.0), [1, 2.5]])
def test_tensor_infers_the_dtype_of_mixed_lists_as_torch(torch, data):
    assert_same(minigan.tensor(data), torch.tensor(data), f"tensor({data})")


def test_mse_loss_of_two_float_dtypes_promotes_as_torch(torch):
    x, t = np.array([0.5, 1.5], np.float32), np.array([1.0, 0.1], np.float64)
    mine = F.mse_loss(minigan.tensor(x), minigan.tensor(t))
    theirs = torch.nn.functional.mse_loss(torch.from_numpy(x), torch.from_numpy(t))
    assert_same(mine, theirs, "mse_loss float32, float64", rtol=1e-12)


def test_the_value_check_benchmark_runs(capsys):
    from benchmarks import value_checks
    value_checks.main(["--rounds", "1", "--steps", "1"])
    assert "one check of 64 probabilities" in capsys.readouterr().out
    assert "check_values" not in vars(F.binary_cross_entropy.contract)  # put back afterwards
