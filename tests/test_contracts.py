"""The argument contracts of minigan.nn.functional (nn/contracts.py): every F function
declares one, each violation gives its message (function, argument, what was wrong, what
was expected), valid calls pass, and a wrong contract would be caught."""
import numpy as np
import pytest

import minigan
import minigan.nn.functional as F
from minigan.nn.contracts import Pattern, contract, indices, number, tensor
from minigan import validators

r = minigan.randn

PUBLIC = ["linear", "relu", "leaky_relu", "tanh", "sigmoid", "binary_cross_entropy",
          "binary_cross_entropy_with_logits", "mse_loss", "cross_entropy", "conv2d",
          "conv_transpose2d", "batch_norm", "embedding", "dropout", "dropout2d", "softmax",
          "log_softmax", "interpolate"]


@pytest.mark.parametrize("name", PUBLIC)
def test_every_function_of_F_declares_its_contract(name):
    fn = getattr(F, name)
    assert fn.contract.name == name and fn.contract.specs
    assert fn.__name__ == name and "as" in fn.__doc__  # functools.wraps kept the docstring


VIOLATIONS = [  # (call, error, message): one per kind of fault the checker finds
    (lambda: F.linear(np.ones((2, 3)), r(4, 3)), TypeError,
     "linear: input must be a minigan.Tensor, got ndarray"),
    (lambda: F.linear(r(2, 3), minigan.tensor([[1, 2, 3]])), TypeError,
     r"linear: weight must be a floating-point tensor \(float32 or float64\), got dtype int64"),
    (lambda: F.relu(minigan.tensor([True])), TypeError,
     "relu: input must be a floating-point or integer tensor, got dtype bool"),
    (lambda: F.linear(r(2, 3), r(3)), ValueError,
     r"linear: weight must have shape \(out_features, in_features\), got \(3,\)$"),
    (lambda: F.linear(r(2, 3), r(4, 5)), ValueError,
     r"linear: input must have shape \(\*, 5\), got \(2, 3\), to match weight of shape "
     r"\(4, 5\) \(in_features = 5\)$"),
    (lambda: F.linear(r(2, 3), r(4, 3), r(3)), ValueError,
     r"linear: bias must have shape \(4,\), got \(3,\), to match weight of shape \(4, 3\) "
     r"\(out_features = 4\)$"),
    (lambda: F.linear(r(2, 0), r(3, 0)), ValueError,
     r"linear: weight of shape \(3, 0\) is empty: every dimension must be at least 1$"),
    (lambda: F.conv2d(r(2, 3, 0, 5), r(4, 3, 1, 1)), ValueError,
     r"conv2d: input of shape \(2, 3, 0, 5\) is empty: every dimension but the batch N must "
     r"be at least 1$"),
    (lambda: F.conv_transpose2d(r(2, 3, 8, 8), r(16, 4, 3, 3)), ValueError,
     r"conv_transpose2d: input must have shape \(N, 16, H, W\), got \(2, 3, 8, 8\), to match "
     r"weight of shape \(16, 4, 3, 3\) \(C_in = 16\)$"),
    (lambda: F.conv2d(r(1, 2, 5, 5), r(3, 2, 3, 3), r(3, dtype="float64")), TypeError,
     r"conv2d: input is float32 but bias is float64; they must have the same dtype"),
    (lambda: F.conv2d(r(1, 2, 5, 5), r(3, 2, 3, 3), stride=(1, 0)), ValueError,
     r"conv2d: stride must be >= 1, got \(1, 0\)$"),
    (lambda: F.conv_transpose2d(r(1, 2, 3, 3), r(2, 2, 3, 3), stride=2, output_padding=2),
     ValueError, r"conv_transpose2d: output_padding \(2, 2\) must be >= 0 and smaller than "
                 r"stride \(2, 2\)"),
    (lambda: F.conv2d(r(1, 1, 2, 2), r(1, 1, 5, 5)), ValueError,
     r"conv2d: no output: the 5x5 kernel is larger than the input of 2x2 pixels"),
    (lambda: F.batch_norm(r(4, 3), r(3), None), ValueError,
     "batch_norm: give both running_mean and running_var, or neither"),
    (lambda: F.batch_norm(r(4, 3), None, None, r(3), training=True, momentum=2), ValueError,
     r"batch_norm: momentum must be a number in \[0, 1\], got 2$"),
    (lambda: F.leaky_relu(r(2), "a"), TypeError,
     "leaky_relu: negative_slope must be a number, got 'a'"),
    (lambda: F.mse_loss(r(3), r(4)), ValueError,
     r"mse_loss: target must have shape \(3,\), got \(4,\), to match input of shape \(3,\)$"),
    (lambda: F.binary_cross_entropy(minigan.tensor([0.5, 2.0]), minigan.ones(2)), ValueError,
     "binary_cross_entropy: all elements of input should be between 0 and 1"),
    (lambda: F.binary_cross_entropy(minigan.ones(2), minigan.tensor([0.5, np.nan])),
     ValueError, "binary_cross_entropy: all elements of target should be between 0 and 1"),
    (lambda: F.cross_entropy(r(3, 4), minigan.tensor([0, 1, 4])), IndexError,
     r"cross_entropy: target indices must be in \[0, 4\), got values from 0 to 4$"),
    (lambda: F.cross_entropy(r(4), minigan.tensor([0, 1])), ValueError,
     r"cross_entropy: target must have shape \(\), got \(2,\), to match input of shape "
     r"\(4,\) \(no N\)$"),
    (lambda: F.cross_entropy(r(3, 4), minigan.tensor([0, 1, 2], dtype="int32")), TypeError,
     r"cross_entropy: target must be an integer array or Tensor of indices \(int64 or "
     r"uint8\), got int32$"),
    (lambda: F.dropout2d(r(3, 4)), ValueError,
     r"dropout2d: input must have shape \(N, C, H, W\) or \(C, H, W\), got \(3, 4\)$"),
    (lambda: F.interpolate(r(1, 1, 2, 2), scale_factor=2, mode="bicubic"),
     NotImplementedError, "interpolate: mode 'bicubic' is not in minigan; it has nearest"),
    (lambda: F.interpolate(r(1, 1, 2, 2)), ValueError,
     "interpolate: give exactly one of size and scale_factor"),
    (lambda: F.linear(r(2, 3)), TypeError, "linear.. missing required argument 'weight'"),
    (lambda: F.linear(r(2, 3), r(4, 3), weight=r(4, 3)), TypeError,
     "linear.. got an unexpected or repeated argument 'weight'"),
]


@pytest.mark.parametrize("call, error, message", VIOLATIONS,
                         ids=[m[:40] for _, _, m in VIOLATIONS])
def test_each_contract_violation_gives_its_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_valid_calls_pass_and_receive_normalised_arguments():
    """The contracts accept what the ops compute with, in every accepted form."""
    assert F.linear(r(5, 2, 3), r(4, 3), r(4)).shape == (5, 2, 4)
    assert F.conv2d(r(0, 3, 6, 6), r(4, 3, 3, 3)).shape == (0, 4, 4, 4)  # a batch of none
    assert F.conv2d(r(1, 3, 6, 6), r(4, 3, 3, 3), stride=np.int64(2)).shape == (1, 4, 2, 2)
    assert F.conv_transpose2d(r(1, 3, 4, 4), r(3, 5, 4, 4), r(5), 2, 1, 1).shape == \
        (1, 5, 9, 9)
    assert F.batch_norm(r(4, 3, 2), None, None, training=True).shape == (4, 3, 2)
    assert F.cross_entropy(r(4), minigan.tensor(2)).shape == ()  # unbatched
    assert F.cross_entropy(r(3, 4), np.array([0, 1, 3], np.uint8)).shape == ()
    assert F.mse_loss(minigan.tensor(0.5), 0.25).item() == 0.0625  # a number target
    assert F.mse_loss(r(2, dtype="float64"), np.zeros(2, np.float32)).dtype == np.float64
    assert F.dropout2d(r(3, 4, 4), 0.5).shape == (3, 4, 4)
    assert F.embedding(np.array([[0, 3]]), r(4, 2)).shape == (1, 2, 2)


def test_a_planted_wrong_contract_is_caught():
    """The checker enforces exactly what is declared: conv_transpose2d's weight declared in
    conv2d's layout (C_out, C_in, ...) refuses a valid call; put back, it passes."""
    specs = F.conv_transpose2d.contract.specs
    right = specs["weight"]
    x, w = r(1, 3, 4, 4), r(3, 5, 4, 4)
    try:
        specs["weight"] = tensor("C_out C_in kH kW", nonempty=True)
        with pytest.raises(ValueError, match=r"input must have shape \(N, 5, H, W\)"):
            F.conv_transpose2d(x, w)
    finally:
        specs["weight"] = right
    assert F.conv_transpose2d(x, w).shape == (1, 5, 7, 7)


def test_a_contract_naming_no_argument_is_refused_when_declared():
    with pytest.raises(AssertionError, match="names no argument"):
        @contract(y=tensor())
        def f(x):
            return x


def test_rules_numbers_and_indices_compose_in_a_new_function():
    """A contract for a function of one's own: what a reader writing an op would declare."""
    def same_length(args):
        if len(args["x"]) != len(args["labels"]):
            return "x and labels must have one row each"

    @contract(x=tensor("N D"), labels=indices("N", below="D"),
              scale=number(validators.finite_real, minimum=0), rules=[same_length])
    def pick(x, labels, scale=1.0):
        return x[np.arange(len(labels)), labels] * scale

    assert pick(r(3, 4), minigan.tensor([0, 3, 1]), 2).shape == (3,)
    with pytest.raises(ValueError, match=r"pick: labels must have shape \(3,\), got \(2,\), to "
                                         r"match input of shape \(3, 4\) \(N = 3\)"):
        pick(r(3, 4), np.array([0, 1]))
    with pytest.raises(IndexError, match=r"pick: labels indices must be in \[0, 4\)"):
        pick(r(3, 4), np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="pick: scale must be a finite number >= 0, got -1"):
        pick(r(3, 4), np.array([0, 1, 2]), -1)


@pytest.mark.parametrize("text, shape, ok", [
    ("N C H W", (2, 3, 4, 5), True), ("N C H W", (3, 4, 5), False),
    ("* K", (7,), True), ("* K", (2, 3, 7), True), ("* K", (), False),
    ("N C *", (2, 3), True), ("N C *", (2,), False),
    ("[N] K", (4,), True), ("[N] K", (3, 4), True), ("[N] K", (2, 3, 4), False),
    ("3 D", (3, 5), True), ("3 D", (4, 5), False), ("", (), True), ("", (1,), False)])
def test_shape_patterns_match_as_documented(text, shape, ok):
    assert (Pattern(text).bind(shape, {}) is not None) == ok


def test_a_name_fixed_by_one_argument_binds_the_next():
    sizes = {}
    # N absent from the first shape: absent for every later one
    Pattern("[N] K").match(F.cross_entropy.contract, "logits", (4,), sizes)
    assert Pattern("[N]").bind((), sizes) == {} and Pattern("[N]").bind((4,), sizes) is None
    assert Pattern("K").bind((4,), sizes) == {} and Pattern("K").bind((5,), sizes) is None
    assert Pattern("* D").text({"D": (8, ("x", (2, 8)))}) == "(*, 8)"
    assert Pattern("[N] C H W").text({}) == "(N, C, H, W) or (C, H, W)"
