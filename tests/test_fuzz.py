"""Fuzzing the public API: random shapes, dtypes, values and arguments, and only two outcomes.

Every call below must either return a result or raise one of the exceptions docs/errors.md
documents for it (ValueError, TypeError, IndexError for an index or dimension out of range,
DeviceError, CheckpointError), with a message of minigan's own: never a KeyError,
AttributeError, ZeroDivisionError or AssertionError, never a NumPy-internal exception
class, and never the bare words of a Python or NumPy internal failure ("'float' object is
not iterable"), which tell the user nothing about what they passed. Where a result comes
back from a differentiable call, its backward pass must work too. Example counts are
bounded so the file runs in well under a minute on two cores.
"""
import contextlib
import io
import math
import os
import re
import string
from unittest import mock

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import minigan
from minigan.store import checkpoint
from minigan.cli import main as cli
from minigan import nn, optim
from minigan import training
from minigan.models import build_models
from minigan.nn import functional as F

# The same examples on every run, bounded; MINIGAN_FUZZ_EXAMPLES=2000 explores further
# (new random examples each time) for a deeper look before a release.
DEEP = int(os.environ.get("MINIGAN_FUZZ_EXAMPLES", 0))
FUZZ = settings(max_examples=DEEP or 60, deadline=None, derandomize=not DEEP, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])
FEW = settings(FUZZ, max_examples=DEEP or 30)

# Words of failures that escaped from inside Python or NumPy instead of a check.
INTERNAL_WORDS = (
    "object is not iterable", "not supported between instances", "has no attribute",
    "is not subscriptable", "values to unpack", "invalid literal for int()",
    "cannot be interpreted as an integer", "unsupported operand type",
    "not all arguments converted", "index out of range", "could not convert string",
    "ufunc", "argument must be", "cannot reshape array", "zero-size array",
    "object is not callable", "missing 1 required",
)
BASIC = (ValueError, TypeError)
WITH_INDEX = (ValueError, TypeError, IndexError)


def outcome(call, allowed=BASIC):
    """call() or the documented exception it raised; anything else fails the test."""
    try:
        return call()
    except allowed as err:
        message = str(err)
        assert message.strip(), f"{type(err).__name__} without a message"
        assert not type(err).__module__.startswith("numpy"), \
            f"NumPy's own {type(err).__name__} leaked: {message}"
        assert says_what_failed(message), \
            f"an internal failure leaked as {type(err).__name__}: {message}"
        return err


def says_what_failed(message):
    """minigan's messages name the function ("reshape: ...") or avoid internal words; an
    internal reason is fine after such a name ("tensor: ...: could not convert ...")."""
    named = re.match(r"[\w.]+( into \w+)?: ", message)
    python_names_the_tensor = "'Tensor'" in message  # "'<' not supported ... 'Tensor' and"
    return bool(named) or python_names_the_tensor or \
        not any(w in message for w in INTERNAL_WORDS)


def failed(result):
    return isinstance(result, Exception)


def backward_works(out, *inputs):
    """For a float result with a graph: backward runs and every input gets a gradient of
    its own shape."""
    if failed(out) or not isinstance(out, minigan.Tensor) or not out.requires_grad:
        return
    out.backward(minigan.ones(*out.shape, dtype=out.dtype))
    for t in inputs:
        if isinstance(t, minigan.Tensor) and t.requires_grad:
            assert t.grad is not None and t.grad.shape == t.shape


# ----------------------------------------------------------------------------- strategies
NUMBER_DTYPES = ["float32", "float64", "int32", "int64", "bool"]
ANY_DTYPES = NUMBER_DTYPES + ["float16", "uint8", "complex64", "U3", "object", "bogus", None]
odd_floats = st.floats(allow_nan=True, allow_infinity=True, width=32)
special_floats = st.sampled_from([math.nan, math.inf, -math.inf, 1e30, -1e30, 1e-30, 0.0])


@st.composite
def tensors(draw, dtypes=NUMBER_DTYPES, max_dims=4, max_side=4, min_dims=0):
    """A Tensor of a random dtype and shape (sides may be 0) holding odd values too."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0,
                                  max_side=max_side))
    if dtype.kind == "f":
        elements = st.one_of(st.floats(-10, 10, width=32), special_floats)
    elif dtype.kind == "b":
        elements = st.booleans()
    else:
        elements = st.integers(-100, 100)
    array = draw(hnp.arrays(dtype, shape, elements=elements))
    requires_grad = dtype.kind == "f" and draw(st.booleans())
    return minigan.tensor(array, requires_grad=requires_grad)


float_tensors = tensors(dtypes=["float32", "float64"])
# "Sizes" a user might pass: ints (negative and zero too), near-ints of other types, junk.
sizes = st.one_of(st.integers(-3, 6), st.integers(-3, 6).map(np.int64),
                  st.sampled_from([2.0, 1.5, True, None, "3", (2,), [2, 2], 10 ** 30]))
dims = st.one_of(st.integers(-6, 6), st.sampled_from([1.0, None, "0", True, np.int64(0)]))
reals = st.one_of(odd_floats, special_floats, st.integers(-3, 3),
                  st.sampled_from([None, "0.1", True, (0.5,), [0.9, 0.999], 10 ** 400]))


# ----------------------------------------------------------------------------- making tensors
@FUZZ
@given(fn=st.sampled_from([minigan.zeros, minigan.ones, minigan.randn, minigan.rand]),
       shape=st.lists(sizes, max_size=4), as_tuple=st.booleans(),
       dtype=st.sampled_from(ANY_DTYPES), requires_grad=st.booleans())
def test_zeros_ones_randn_rand_with_random_shapes_and_dtypes(fn, shape, as_tuple, dtype,
                                                             requires_grad):
    args = (tuple(shape),) if as_tuple else tuple(shape)
    t = outcome(lambda: fn(*args, dtype=dtype, requires_grad=requires_grad))
    if not failed(t):
        one_sequence = len(args) == 1 and isinstance(args[0], (tuple, list))
        assert t.shape == tuple(args[0] if one_sequence else args) and t.dtype.kind in "biuf"


leaf_values = st.one_of(st.integers(-2 ** 70, 2 ** 70), odd_floats, st.booleans(), st.none(),
                        st.text(max_size=3), st.complex_numbers(max_magnitude=1e3))
nested = st.recursive(leaf_values, lambda inner: st.lists(inner, max_size=3), max_leaves=12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::numpy.exceptions.ComplexWarning")
@FUZZ
@given(data=st.one_of(nested, hnp.arrays(st.sampled_from(ANY_DTYPES[:-2]),
                                         hnp.array_shapes(min_dims=0, max_side=3))),
       dtype=st.sampled_from(ANY_DTYPES))
def test_tensor_from_random_data(data, dtype):
    t = outcome(lambda: minigan.tensor(data, dtype=dtype))
    if not failed(t):
        assert isinstance(t, minigan.Tensor) and t.dtype.kind in "biuf"


@FEW
@given(seed=st.one_of(st.integers(-5, 2 ** 70), st.sampled_from([1.5, "7", None, True, [1, -2]])))
def test_manual_seed_with_random_seeds_changes_nothing_when_refused(seed):
    minigan.manual_seed(0)
    if failed(outcome(lambda: minigan.manual_seed(seed))):
        first = minigan.randn(3).numpy()
        minigan.manual_seed(0)
        assert np.array_equal(first, minigan.randn(3).numpy())  # still seeded with 0
    minigan.manual_seed(0)


# ----------------------------------------------------------------------------- Tensor methods
@FUZZ
@given(t=tensors(), shape=st.lists(st.one_of(st.integers(-3, 8), st.sampled_from([2.0, None])),
                                   max_size=4))
def test_reshape_to_random_shapes(t, shape):
    out = outcome(lambda: t.reshape(*shape))
    if not failed(out):
        assert out.numel() == t.numel()
    backward_works(out, t)


@FUZZ
@given(t=tensors(), order=st.lists(dims, max_size=5), pair=st.tuples(dims, dims))
def test_permute_and_transpose_with_random_dimensions(t, order, pair):
    backward_works(outcome(lambda: t.permute(*order), WITH_INDEX), t)
    t.grad = None
    backward_works(outcome(lambda: t.transpose(*pair), WITH_INDEX), t)


@FUZZ
@given(t=tensors(), method=st.sampled_from(["sum", "mean", "max"]),
       axis=st.one_of(st.none(), dims, st.lists(dims, max_size=3).map(tuple)),
       keepdims=st.sampled_from([False, True, "yes", 1]))
def test_reductions_with_random_axes(t, method, axis, keepdims):
    with np.errstate(all="ignore"):  # the mean of nothing is NaN, as in PyTorch
        out = outcome(lambda: getattr(t, method)(axis=axis, keepdims=keepdims))
        backward_works(out, t)


indices = st.one_of(
    st.integers(-6, 6), st.none(), st.just(Ellipsis),
    st.builds(slice, st.one_of(st.none(), st.integers(-5, 5)),
              st.one_of(st.none(), st.integers(-5, 5)), st.one_of(st.none(), st.integers(-2, 3))),
    st.lists(st.integers(-5, 5), max_size=3), st.sampled_from([1.5, "a", {}, [1.5], [True]]))


@FUZZ
@given(t=tensors(min_dims=1), index=st.one_of(indices, st.lists(indices, max_size=4).map(tuple)))
def test_indexing_with_random_indices(t, index):
    backward_works(outcome(lambda: t[index], WITH_INDEX), t)


@FUZZ
@given(a=tensors(max_dims=3), b=st.one_of(tensors(max_dims=3), st.sampled_from(
    [2, 1.5, None, "x", [1.0, 2.0], [[1.0], [2.0]], np.ones((2, 2)), 1j])))
def test_matmul_and_arithmetic_with_random_operands(a, b):
    for op in (lambda: a @ b, lambda: a + b, lambda: a * b, lambda: b - a, lambda: a < b):
        with np.errstate(all="ignore"):
            out = outcome(op)
        if not failed(out) and out.dtype.kind == "f":
            backward_works(out, a, b)
        a.grad = None
        if isinstance(b, minigan.Tensor):
            b.grad = None


@FEW
@given(parts=st.lists(st.one_of(tensors(max_dims=3), st.sampled_from([1, None])), max_size=3),
       dim=dims)
def test_cat_of_random_tensors(parts, dim):
    backward_works(outcome(lambda: minigan.cat(parts, dim=dim), WITH_INDEX), *parts)


# ----------------------------------------------------------------------------- nn.functional
@FUZZ
@given(x=float_tensors, weight=float_tensors, bias=st.one_of(st.none(), float_tensors))
def test_linear_with_random_shapes(x, weight, bias):
    with np.errstate(all="ignore"):
        backward_works(outcome(lambda: F.linear(x, weight, bias)), x, weight, bias)


conv_args = st.one_of(st.integers(-1, 3), st.tuples(st.integers(-1, 3), st.integers(-1, 3)),
                      st.sampled_from([1.5, None, "1", (1, 1, 1), True]))


@st.composite
def conv_operands(draw, transposed):
    """x and weight whose sizes are mostly compatible, sometimes not, sometimes empty."""
    n, c_in, c_out = (draw(st.integers(0, 3)) for _ in range(3))
    h, w, kh, kw = (draw(st.integers(0, 6)) for _ in range(4))
    dtype = draw(st.sampled_from(["float32", "float64", "int64"]))
    x_shape = draw(st.sampled_from([(n, c_in, h, w), (c_in, h, w), (n, c_in + 1, h, w)]))
    w_shape = (c_in, c_out, kh, kw) if transposed else (c_out, c_in, kh, kw)
    x = minigan.tensor(draw(hnp.arrays(dtype, x_shape, elements=st.integers(-3, 3))),
                       requires_grad=dtype != "int64")
    weight = minigan.randn(*w_shape, dtype=draw(st.sampled_from(["float32", "float64"])),
                           requires_grad=True)
    bias = draw(st.sampled_from([None, c_out, c_in]))
    bias = None if bias is None else minigan.randn(bias, dtype=weight.dtype)
    return x, weight, bias


@FUZZ
@given(operands=conv_operands(transposed=False), stride=conv_args, padding=conv_args)
def test_conv2d_with_random_shapes_strides_and_paddings(operands, stride, padding):
    x, weight, bias = operands
    out = outcome(lambda: F.conv2d(x, weight, bias, stride=stride, padding=padding))
    backward_works(out, x, weight)


@FUZZ
@given(operands=conv_operands(transposed=True), stride=conv_args, padding=conv_args,
       output_padding=conv_args)
def test_conv_transpose2d_with_random_shapes_strides_and_paddings(operands, stride, padding,
                                                                  output_padding):
    x, weight, bias = operands
    out = outcome(lambda: F.conv_transpose2d(x, weight, bias, stride=stride, padding=padding,
                                             output_padding=output_padding))
    backward_works(out, x, weight)


@FUZZ
@given(x=tensors(dtypes=["float32", "float64", "int64"], max_dims=5, min_dims=0),
       stats=st.sampled_from(["none", "right", "wrong_size", "int"]), training=st.booleans(),
       momentum=reals, eps=reals, affine=st.booleans())
def test_batch_norm_with_random_inputs_and_settings(x, stats, training, momentum, eps, affine):
    c = x.shape[1] if x.ndim >= 2 else 1
    c = c + 1 if stats == "wrong_size" else c
    dtype = "int64" if stats == "int" else "float32"
    running = (None, None) if stats == "none" else (minigan.zeros(c, dtype=dtype),
                                                    minigan.ones(c, dtype=dtype))
    weight = minigan.ones(c, dtype=x.dtype if x.dtype.kind == "f" else "float32",
                          requires_grad=True) if affine else None
    with np.errstate(all="ignore"):
        out = outcome(lambda: F.batch_norm(x, *running, weight=weight, training=training,
                                           momentum=momentum, eps=eps))
        backward_works(out, x, weight)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the mean of nothing is NaN
@FUZZ
@given(p=tensors(), target=st.one_of(tensors(), st.sampled_from([1.0, 0, None, "1", [0.5]])),
       with_logits=st.booleans())
def test_binary_cross_entropy_with_random_inputs_and_targets(p, target, with_logits):
    loss = F.binary_cross_entropy_with_logits if with_logits else F.binary_cross_entropy
    with np.errstate(all="ignore"):  # p outside [0, 1] or NaN gives NaN, as in PyTorch
        backward_works(outcome(lambda: loss(p, target)), p, target)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the mean of nothing is NaN
@FUZZ
@given(x=tensors(), target=st.one_of(tensors(), st.sampled_from([1.0, 0, None, "1", [0.5]])))
def test_mse_loss_with_random_inputs_and_targets(x, target):
    with np.errstate(all="ignore"):  # inf - inf is NaN, as in PyTorch
        backward_works(outcome(lambda: F.mse_loss(x, target)), x, target)


@FEW
@given(x=tensors(), slope=reals)
def test_leaky_relu_with_random_slopes(x, slope):
    with np.errstate(all="ignore"):
        backward_works(outcome(lambda: F.leaky_relu(x, slope)), x)


# ----------------------------------------------------------------------------- layers, optimizers
@FUZZ
@given(layer=st.sampled_from(["Linear", "Conv2d", "ConvTranspose2d", "BatchNorm1d",
                              "BatchNorm2d", "LeakyReLU", "Flatten"]),
       a=sizes, b=sizes, kernel=conv_args, stride=conv_args, padding=conv_args,
       output_padding=conv_args, eps=reals, momentum=reals)
def test_layer_constructors_with_bad_sizes(layer, a, b, kernel, stride, padding,
                                           output_padding, eps, momentum):
    make = {
        "Linear": lambda: nn.Linear(a, b),
        "Conv2d": lambda: nn.Conv2d(a, b, kernel, stride=stride, padding=padding),
        "ConvTranspose2d": lambda: nn.ConvTranspose2d(a, b, kernel, stride=stride,
                                                      padding=padding,
                                                      output_padding=output_padding),
        "BatchNorm1d": lambda: nn.BatchNorm1d(a, eps=eps, momentum=momentum),
        "BatchNorm2d": lambda: nn.BatchNorm2d(a, eps=eps, momentum=momentum),
        "LeakyReLU": lambda: nn.LeakyReLU(eps),
        "Flatten": lambda: nn.Flatten(a, b),
    }[layer]
    outcome(make)


@FUZZ
@given(layer=st.sampled_from(["Linear", "Conv2d", "ConvTranspose2d"]),
       name=st.sampled_from(["weight", "bias", "kernel", None, 3]),
       n_power_iterations=st.one_of(st.integers(-2, 3),
                                    st.sampled_from([1.0, True, None, "2", np.int64(2)])),
       eps=reals, dim=st.one_of(st.none(), dims))
def test_spectral_norm_with_random_arguments(layer, name, n_power_iterations, eps, dim):
    module = {"Linear": lambda: nn.Linear(3, 2), "Conv2d": lambda: nn.Conv2d(2, 3, 2),
              "ConvTranspose2d": lambda: nn.ConvTranspose2d(2, 3, 2)}[layer]()
    keys = list(module.state_dict())
    result = outcome(lambda: nn.utils.spectral_norm(module, name, n_power_iterations, eps, dim),
                     WITH_INDEX)
    if failed(result):
        assert list(module.state_dict()) == keys  # a refused call changes nothing
        return
    x = minigan.randn(2, 3) if layer == "Linear" else minigan.randn(1, 2, 3, 3)
    with np.errstate(all="ignore"):  # eps 1e-30 and friends may overflow, as in PyTorch
        backward_works(module(x), x)


@FEW
@given(x=tensors(max_dims=5), start=st.integers(-6, 6), end=st.integers(-6, 6))
def test_flatten_of_random_inputs(x, start, end):
    backward_works(outcome(lambda: nn.Flatten(start, end)(x), WITH_INDEX), x)


@FUZZ
@given(kind=st.sampled_from(["Adam", "SGD"]), lr=reals, betas=st.one_of(
    st.tuples(reals, reals), reals, st.lists(reals, max_size=3)), eps=reals,
       weight_decay=reals, momentum=reals,
       params=st.sampled_from(["list", "tensor", "int", "none", "empty", "dup", "groups",
                               "group_without_params", "mixed", "no_grad"]))
def test_optimizer_constructors_with_bad_hyperparameters(kind, lr, betas, eps, weight_decay,
                                                         momentum, params):
    p, q = nn.Parameter(minigan.zeros(2)), nn.Parameter(minigan.zeros(3))
    given_params = {"list": [p, q], "tensor": p, "int": 3, "none": None, "empty": [],
                    "dup": [p, p], "groups": [{"params": [p]}, {"params": q, "lr": 0.5}],
                    "group_without_params": [{"lr": 0.1}], "mixed": [{"params": [p]}, q],
                    "no_grad": [minigan.zeros(2)]}[params]
    if kind == "Adam":
        outcome(lambda: optim.Adam(given_params, lr=lr, betas=betas, eps=eps,
                                   weight_decay=weight_decay))
    else:
        outcome(lambda: optim.SGD(given_params, lr=lr, momentum=momentum))


state_values = st.one_of(
    hnp.arrays(st.sampled_from(["float32", "float64", "int64", "bool", "complex64", "U2"]),
               hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)),
    nested, st.builds(lambda n: minigan.zeros(n), st.integers(0, 4)))


@FUZZ
@given(entries=st.dictionaries(
    st.one_of(st.sampled_from(["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                               "1.running_var", "1.num_batches_tracked"]),
              st.text(string.ascii_letters + ".", max_size=8), st.integers(0, 3)),
    state_values, max_size=8), not_a_dict=st.sampled_from([None, False, True]))
def test_load_state_dict_with_random_dicts_changes_nothing_when_refused(entries, not_a_dict):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    before = model.state_dict()
    given_dict = entries if not_a_dict is False else (list(entries) if not_a_dict else None)
    with np.errstate(all="ignore"):
        if failed(outcome(lambda: model.load_state_dict(given_dict))):
            after = model.state_dict()
            assert all(np.array_equal(before[k], after[k]) for k in before)


@FEW
@given(state=st.one_of(st.none(), st.dictionaries(
    st.sampled_from(["state", "param_groups", "x"]),
    st.one_of(st.none(), st.lists(st.dictionaries(st.sampled_from(["params", "lr", "betas"]),
                                                  st.one_of(reals, st.lists(st.integers(-1, 3),
                                                                            max_size=3)))),
              st.dictionaries(st.one_of(st.integers(-2, 3), st.text(max_size=2)),
                              st.dictionaries(st.sampled_from(["step", "exp_avg"]),
                                              state_values, max_size=2), max_size=2)))))
def test_optimizer_load_state_dict_with_random_dicts(state):
    opt = optim.Adam([nn.Parameter(minigan.zeros(2)), nn.Parameter(minigan.zeros(3))])
    outcome(lambda: opt.load_state_dict(state))


# ----------------------------------------------------------------------------- untrusted files
@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("fuzz-run")
    training.train(training.TrainConfig(dataset="ring8", steps=1, batch_size=4, out=str(out)),
                   progress=False)
    return (out / "checkpoints" / "last.npz").read_bytes()


@FUZZ
@given(data=st.one_of(st.binary(max_size=600), st.binary(max_size=600).map(
    lambda b: checkpoint.ZIP_SIGNATURE + b)))
def test_random_bytes_are_refused_as_checkpoints(tmp_path, data):
    path = tmp_path / "random.npz"
    path.write_bytes(data)
    assert failed(outcome(lambda: checkpoint.read_checkpoint(path), checkpoint.CheckpointError))


@FUZZ
@given(cuts=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=8)),
                     min_size=1, max_size=4), truncate=st.one_of(st.none(), st.floats(0, 1)))
def test_damaged_checkpoints_are_refused_or_load_whole(tmp_path, real_checkpoint, cuts,
                                                        truncate):
    """Overwrite a few spots of a real checkpoint (headers, zip records, data) or cut it."""
    data = bytearray(real_checkpoint)
    for where, junk in cuts:
        at = int(where * (len(data) - len(junk)))
        data[at:at + len(junk)] = junk
    if truncate is not None:
        data = data[:int(truncate * len(data))]
    path = tmp_path / "damaged.npz"
    path.write_bytes(bytes(data))
    ckpt = outcome(lambda: checkpoint.read_checkpoint(path), checkpoint.CheckpointError)
    if not failed(ckpt):  # the damage missed everything checked: it must still fit, or say so
        config, _ = training.config_for_resume(path)
        G, D = build_models(ckpt.model_spec, "cpu", config.seed)
        outcome(lambda: ckpt.load_into(G, D, *training.make_optimizers(G, D, config)),
                checkpoint.CheckpointError)


# ----------------------------------------------------------------------------- the command line
FLAGS = ["--model", "--dataset", "--image-size", "--channels", "--steps", "--epochs",
         "--batch-size", "--lr", "--beta1", "--nz", "--d-steps", "--g-loss", "--bn-eps",
         "--device", "--seed", "--out", "--resume", "--sample-every", "--checkpoint-every",
         "--log-every", "--eval-every", "--skip-nonfinite", "--no-progress", "--checkpoint",
         "--n", "--label", "--help", "-h", "--nonsense"]
VALUES = ["mlp", "dcgan", "cmlp", "cdcgan", "vae", "mnist-sample", "ring8", "grid25", "cifar",
          "folder:/no/such", "0", "1", "-1", "3", "28", "30", "64", "1e-3", "nan", "inf", "-inf",
          "1e400", "99999999999999999999", "0.5", "cpu", "cuda", "tpu", "saturating", "",
          "x.npy", "x.png", "x.jpg", "{tmp}", "{tmp}/missing.npz", "{tmp}/corrupt.npz", "é"]


@FUZZ
@given(argv=st.tuples(st.sampled_from(["train", "sample", "eval", "fit", "--help", "-x"]),
                      st.lists(st.one_of(st.sampled_from(FLAGS), st.sampled_from(VALUES)),
                               max_size=8)))
def test_random_command_lines_end_with_one_line_or_success(tmp_path, argv):
    """Through cli.main, with train() itself replaced: the parser and every check before
    training, never a real run."""
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 not really")
    args = [argv[0]] + [a.format(tmp=tmp_path) for a in argv[1]]
    stdout, stderr = io.StringIO(), io.StringIO()
    summary = dict(start_step=0, step=1, seconds=1.0, steps_per_second=1.0, loss_d=0.0,
                   loss_g=0.0, d_real=0.5, d_fake=0.5, samples="s", gif="g", losses_plot="l",
                   metrics="m", checkpoint="c")
    with mock.patch.object(cli, "train", lambda config, **_: summary), \
            contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = cli.main(args)
    err = stderr.getvalue()
    assert isinstance(status, int) and "Traceback" not in err
    if status != 0:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("minigan: error: "), (args, err)
        assert says_what_failed(lines[0][len("minigan: error: "):]), (args, err)


@FUZZ
@given(changes=st.dictionaries(
    st.sampled_from(["model", "dataset", "image_size", "channels", "steps", "epochs",
                     "batch_size", "lr", "beta1", "beta2", "nz", "d_steps", "g_loss",
                     "bn_eps", "device", "seed", "sample_every", "checkpoint_every",
                     "log_every", "eval_every"]),
    st.one_of(st.integers(-2, 40), odd_floats, st.none(), st.booleans(),
              st.sampled_from(["mlp", "dcgan", "ring8", "cpu", "cuda", "x", "folder:x"])),
    max_size=4))
def test_train_config_validate_with_random_settings(changes):
    outcome(lambda: training.TrainConfig(**changes).validate(),
            (ValueError, TypeError, minigan.DeviceError))

