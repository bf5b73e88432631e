"""Every differentiable op of the core against central finite differences (float64).

`minigan.gradcheck` perturbs every element of every input and compares the change of
<f(x), u> (u a random upstream gradient) with what backward gives. Hypothesis draws the
shapes (rank 0-4, sizes 1-5, broadcasting pairs) and a seed for the values; inputs are
kept away from kinks and poles (relu at 0, log and division near 0, ties of max), where
finite differences and the derivative legitimately disagree.
"""
import operator

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import minigan
import minigan.nn.functional as F
from minigan.gradcheck import gradcheck

# a bounded budget per test keeps the whole file fast on two cores
GRADCHECK = settings(max_examples=15, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5)
nonempty_shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)
broadcast_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                    min_side=1, max_side=5)


def leaf(values, device):
    """A float64 tensor on `device` that requires grad."""
    return minigan.tensor(np.asarray(values, dtype=np.float64), dtype="float64", device=device,
                          requires_grad=True)


def uniform(rng, shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, shape)


def away_from_zero(rng, shape, margin=0.1, high=2.0):
    """Values with |x| in [margin, high] and a random sign: no kink or pole within reach."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(margin, high, shape)


def distinct(rng, shape):
    """Values at least 0.1 apart, so that no eps-perturbation changes which one is the max."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.1 - 0.05 * size).reshape(shape) + rng.uniform(-0.02, 0.02)


def axes_for(ndim):
    """None, one axis (negative allowed) or a tuple of axes of a rank-`ndim` tensor."""
    one_axis = st.integers(-max(ndim, 1), max(ndim, 1) - 1)
    return st.one_of(st.none(), one_axis, hnp.valid_tuple_axes(ndim))


# --------------------------------------------------------------------------- arithmetic
@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv],
                         ids=["add", "sub", "mul", "truediv"])
@GRADCHECK
@given(pair=broadcast_pairs, seed=seeds)
def test_broadcasting_binary_op_gradients_match_finite_differences(device, op, pair, seed):
    rng = np.random.default_rng(seed)
    a_shape, b_shape = pair.input_shapes
    a = leaf(uniform(rng, a_shape), device)
    b = leaf(away_from_zero(rng, b_shape, margin=0.5), device)  # a divisor away from 0
    assert gradcheck(op, [a, b])


@GRADCHECK
@given(pair=broadcast_pairs, seed=seeds)
def test_tensor_power_gradients_match_finite_differences_for_base_and_exponent(device, pair,
                                                                             seed):
    rng = np.random.default_rng(seed)
    a_shape, b_shape = pair.input_shapes
    base = leaf(uniform(rng, a_shape, 0.5, 2.0), device)  # log(base) in d/d(exponent)
    exponent = leaf(uniform(rng, b_shape, -2.0, 2.0), device)
    assert gradcheck(lambda a, b: a ** b, [base, exponent])


SCALAR_EXPRESSIONS = {
    "x + 1.5": (lambda x: x + 1.5, "any"),
    "1.5 + x": (lambda x: 1.5 + x, "any"),
    "x - 2": (lambda x: x - 2, "any"),
    "2.5 - x": (lambda x: 2.5 - x, "any"),
    "x * 3.0": (lambda x: x * 3.0, "any"),
    "-0.5 * x": (lambda x: -0.5 * x, "any"),
    "x / 4.0": (lambda x: x / 4.0, "any"),
    "3.0 / x": (lambda x: 3.0 / x, "nonzero"),
    "x ** 2": (lambda x: x ** 2, "any"),
    "x ** 3": (lambda x: x ** 3, "any"),
    "x ** 0.5": (lambda x: x ** 0.5, "positive"),
    "x ** -1.5": (lambda x: x ** -1.5, "positive"),
    "2.0 ** x": (lambda x: 2.0 ** x, "any"),
    "3 ** x": (lambda x: 3 ** x, "any"),
    "0.5 ** x": (lambda x: 0.5 ** x, "any"),
    "-x": (lambda x: -x, "any"),
    "exp(x)": (lambda x: x.exp(), "any"),
    "log(x)": (lambda x: x.log(), "positive"),
}


@pytest.mark.parametrize("expression", list(SCALAR_EXPRESSIONS))
@GRADCHECK
@given(shape=shapes, seed=seeds)
def test_unary_and_scalar_operand_gradients_match_finite_differences(device, expression, shape,
                                                                     seed):
    fn, domain = SCALAR_EXPRESSIONS[expression]
    rng = np.random.default_rng(seed)
    values = {"any": uniform(rng, shape), "nonzero": away_from_zero(rng, shape, margin=0.5),
              "positive": uniform(rng, shape, 0.2, 2.0)}[domain]
    assert gradcheck(fn, [leaf(values, device)])


# --------------------------------------------------------------------------- matmul
@st.composite
def matmul_shapes(draw):
    """(a_shape, b_shape) for a @ b: each operand 1-D, 2-D or batched, batches broadcasting."""
    m, k, n = (draw(st.integers(1, 5)) for _ in range(3))
    batches = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                     min_side=1, max_side=3))
    batch_a, batch_b = batches.input_shapes
    a_shape = (k,) if draw(st.booleans()) else batch_a + (m, k)
    b_shape = (k,) if draw(st.booleans()) else batch_b + (k, n)
    return a_shape, b_shape


@GRADCHECK
@given(shapes=matmul_shapes(), seed=seeds)
def test_matmul_gradients_match_finite_differences_for_1d_2d_and_batched(device, shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (leaf(uniform(rng, s), device) for s in shapes)
    assert gradcheck(operator.matmul, [a, b])


# --------------------------------------------------------------------------- reductions
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@GRADCHECK
@given(shape=shapes, keepdims=st.booleans(), seed=seeds, data=st.data())
def test_sum_and_mean_gradients_match_finite_differences(device, reduction, shape, keepdims,
                                                         seed, data):
    axis = data.draw(axes_for(len(shape)), label="axis")
    x = leaf(uniform(np.random.default_rng(seed), shape), device)
    assert gradcheck(lambda t: getattr(t, reduction)(axis=axis, keepdims=keepdims), [x])


@GRADCHECK
@given(shape=shapes, keepdims=st.booleans(), seed=seeds, data=st.data())
def test_max_gradient_matches_finite_differences_on_distinct_values(device, shape, keepdims,
                                                                    seed, data):
    axis = data.draw(axes_for(len(shape)), label="axis")
    x = leaf(distinct(np.random.default_rng(seed), shape), device)
    assert gradcheck(lambda t: t.max(axis=axis, keepdims=keepdims), [x])


# --------------------------------------------------------------------------- shape ops
@st.composite
def reshape_targets(draw):
    """A shape and another arrangement of its sizes, sometimes with one -1."""
    shape = draw(shapes)
    target = list(draw(st.permutations(shape))) if shape else []
    if draw(st.booleans()):
        target = target + [1]  # a new axis of size 1
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return shape, tuple(target)


@GRADCHECK
@given(shapes=reshape_targets(), seed=seeds)
def test_reshape_gradient_matches_finite_differences(device, shapes, seed):
    shape, target = shapes
    x = leaf(uniform(np.random.default_rng(seed), shape), device)
    assert gradcheck(lambda t: t.reshape(*target), [x])


@GRADCHECK
@given(shape=nonempty_shapes, seed=seeds, data=st.data())
def test_transpose_and_permute_gradients_match_finite_differences(device, shape, seed, data):
    ndim = len(shape)
    dim0, dim1 = (data.draw(st.integers(-ndim, ndim - 1)) for _ in range(2))
    dims = data.draw(st.permutations(range(ndim)), label="dims")
    x = leaf(uniform(np.random.default_rng(seed), shape), device)
    assert gradcheck(lambda t: t.transpose(dim0, dim1), [x])
    assert gradcheck(lambda t: t.permute(*dims), [x])


@GRADCHECK
@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5), seed=seeds,
       data=st.data())
def test_basic_indexing_gradient_matches_finite_differences(device, shape, seed, data):
    """Ints (negative too), slices with any step (negative too), ..., and None."""
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True), label="index")
    x = leaf(uniform(np.random.default_rng(seed), shape), device)
    assert gradcheck(lambda t: t[index], [x])


@GRADCHECK
@given(size=st.integers(1, 5), seed=seeds, data=st.data())
def test_slicing_a_vector_gradient_matches_finite_differences(device, size, seed, data):
    index = data.draw(st.one_of(st.slices(size), st.integers(-size, size - 1)), label="index")
    x = leaf(uniform(np.random.default_rng(seed), (size,)), device)
    assert gradcheck(lambda t: t[index], [x])


@pytest.mark.parametrize("index", [np.s_[::-1], np.s_[::-2, 1], np.s_[3:0:-1, ::-2],
                                   np.s_[-1, ::-3], np.s_[..., ::-1]],
                         ids=["reversed", "step-2-then-int", "both-axes", "negative-int",
                              "ellipsis"])
def test_negative_step_slicing_gradient_matches_finite_differences(device, index):
    x = leaf(uniform(np.random.default_rng(0), (4, 5)), device)
    assert gradcheck(lambda t: t[index], [x])


@GRADCHECK
@given(shape=nonempty_shapes, seed=seeds, data=st.data())
def test_integer_array_indexing_gradient_matches_finite_differences(device, shape, seed, data):
    """Integer arrays may repeat an index: the gradients of the copies must add up."""
    index = data.draw(hnp.integer_array_indices(
        shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=6)), label="index")
    x = leaf(uniform(np.random.default_rng(seed), shape), device)
    assert gradcheck(lambda t: t[index], [x])


@pytest.mark.parametrize("index", [[0, 2, 0, 0], (np.array([1, 1, 3]), np.array([0, 0, 2])),
                                   (slice(None), [2, 2, 0]), (np.array([[0, 0], [3, 0]]),)],
                         ids=["list-rows", "pairs-repeated", "slice-then-list", "2d-array"])
def test_repeated_integer_index_accumulates_gradient(device, index):
    x = leaf(uniform(np.random.default_rng(1), (4, 3)), device)
    assert gradcheck(lambda t: t[index], [x])
    x.grad = None
    x[index].sum().backward()
    counts = np.zeros((4, 3))
    np.add.at(counts, index, 1.0)  # how often each element was picked
    np.testing.assert_array_equal(x.grad.numpy(), counts)


@GRADCHECK
@given(shape=nonempty_shapes, seed=seeds, whole=st.booleans())
def test_boolean_mask_indexing_gradient_matches_finite_differences(device, shape, seed, whole):
    rng = np.random.default_rng(seed)
    mask = rng.random(shape if whole else shape[:1]) < 0.5  # over all axes, or the first
    x = leaf(uniform(rng, shape), device)
    assert gradcheck(lambda t: t[mask], [x])
    mask_tensor = minigan.tensor(mask, device=device)  # a bool Tensor works as a mask too
    assert gradcheck(lambda t: t[mask_tensor], [x])


@GRADCHECK
@given(shape=nonempty_shapes, count=st.integers(1, 3), seed=seeds, data=st.data())
def test_cat_gradient_matches_finite_differences(device, shape, count, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    rng = np.random.default_rng(seed)
    inputs = []
    for _ in range(count):
        part = list(shape)
        part[dim] = data.draw(st.integers(1, 4))
        inputs.append(leaf(uniform(rng, part), device))
    assert gradcheck(lambda *ts: minigan.cat(ts, dim=dim), inputs)


# --------------------------------------------------------------------------- nn.functional
@GRADCHECK
@given(lead=hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4),
       sizes=st.tuples(st.integers(1, 5), st.integers(1, 5)), with_bias=st.booleans(),
       seed=seeds)
def test_linear_gradients_match_finite_differences_with_and_without_bias(device, lead, sizes,
                                                                         with_bias, seed):
    rng = np.random.default_rng(seed)
    n_in, n_out = sizes
    x = leaf(uniform(rng, lead + (n_in,)), device)
    w = leaf(uniform(rng, (n_out, n_in)), device)
    if with_bias:
        b = leaf(uniform(rng, (n_out,)), device)
        assert gradcheck(F.linear, [x, w, b])
    else:
        assert gradcheck(F.linear, [x, w])


ACTIVATIONS = {
    "relu": (F.relu, 0.1),
    "leaky_relu": (F.leaky_relu, 0.1),
    "leaky_relu(0.2)": (lambda x: F.leaky_relu(x, 0.2), 0.1),
    "leaky_relu(negative_slope=1.5)": (lambda x: F.leaky_relu(x, negative_slope=1.5), 0.1),
    "tanh": (F.tanh, 0.0),
    "sigmoid": (F.sigmoid, 0.0),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@GRADCHECK
@given(shape=shapes, seed=seeds)
def test_activation_gradients_match_finite_differences_away_from_kinks(device, name, shape,
                                                                       seed):
    fn, margin = ACTIVATIONS[name]
    x = leaf(away_from_zero(np.random.default_rng(seed), shape, margin=margin, high=3.0), device)
    assert gradcheck(fn, [x])


@GRADCHECK
@given(shape=shapes, seed=seeds)
def test_binary_cross_entropy_gradients_match_for_input_and_target(device, shape, seed):
    rng = np.random.default_rng(seed)
    p = leaf(uniform(rng, shape, 0.05, 0.95), device)
    target = leaf(uniform(rng, shape, 0.0, 1.0), device)
    assert gradcheck(F.binary_cross_entropy, [p, target])


@GRADCHECK
@given(shape=shapes, seed=seeds)
def test_binary_cross_entropy_with_logits_gradients_match_for_input_and_target(device, shape,
                                                                               seed):
    rng = np.random.default_rng(seed)
    logits = leaf(uniform(rng, shape, -4.0, 4.0), device)
    target = leaf(uniform(rng, shape, 0.0, 1.0), device)
    assert gradcheck(F.binary_cross_entropy_with_logits, [logits, target])


@GRADCHECK
@given(shape=shapes, seed=seeds)
def test_mse_loss_gradients_match_for_input_and_target(device, shape, seed):
    rng = np.random.default_rng(seed)
    x = leaf(uniform(rng, shape, -3.0, 3.0), device)
    target = leaf(uniform(rng, shape, -3.0, 3.0), device)
    assert gradcheck(F.mse_loss, [x, target])


@GRADCHECK
@given(n=st.integers(1, 5), k=st.integers(1, 5), seed=seeds)
def test_cross_entropy_gradient_matches_finite_differences(device, n, k, seed):
    rng = np.random.default_rng(seed)
    logits = leaf(uniform(rng, (n, k), -3.0, 3.0), device)
    target = minigan.tensor(rng.integers(0, k, n), device=device)
    assert gradcheck(lambda x: F.cross_entropy(x, target), [logits])


def test_small_mlp_gradient_matches_finite_differences_for_every_parameter(device):
    """Ops composed through Modules: a float64 MLP with a BCE loss, every weight checked."""
    minigan.manual_seed(3)
    model = minigan.nn.Sequential(minigan.nn.Flatten(), minigan.nn.Linear(6, 5),
                                  minigan.nn.LeakyReLU(0.2), minigan.nn.Linear(5, 3),
                                  minigan.nn.Tanh(), minigan.nn.Linear(3, 1),
                                  minigan.nn.Sigmoid()).double().to(device)
    rng = np.random.default_rng(0)
    x = leaf(uniform(rng, (4, 2, 3)), device)
    target = minigan.tensor(rng.uniform(0, 1, (4, 1)), dtype="float64", device=device)
    params = list(model.parameters())

    def loss(x, *weights):  # the weights are the model's own Parameters, perturbed in place
        return F.binary_cross_entropy(model(x), target)

    assert gradcheck(loss, [x] + params)
