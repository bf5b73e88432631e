"""The engine API tried as a careless user would (issue 27): each case behaves as PyTorch.

- a custom Function's backward returning too few, too many or wrong-shaped gradients raises
  PyTorch's RuntimeError (it was accepted silently, or an AssertionError that `python -O`
  dropped);
- nn.Embedding's backward costs the table and the rows picked, not a (K, K) identity matrix;
"""
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import minigan
from minigan import nn
from minigan.autograd import Function


# ------------------------------------------------- a custom Function's backward (item 9)
def custom(backward, n_inputs=1):
    """A Function x*2 (or x*y) whose backward is `backward(self, grad_out)`."""
    class Custom(Function):
        def forward(self, *arrays):
            return arrays[0] * 2 if n_inputs == 1 else arrays[0] * arrays[1]

    Custom.backward = backward
    return Custom


def torch_custom(torch, backward, n_inputs=1):
    class Custom(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *xs):
            return xs[0] * 2 if n_inputs == 1 else xs[0] * xs[1]

    Custom.backward = staticmethod(lambda ctx, g: backward(None, g))
    return Custom


@pytest.mark.parametrize("backward, n_inputs, words", [
    (lambda self, g: (g,), 2, "returned an incorrect number of gradients (expected 2, got 1)"),
    (lambda self, g: (g, g), 1, "returned an incorrect number of gradients (expected 1, got 2)"),
    (lambda self, g: (g[0],), 1, "returned an invalid gradient at index 0 - got [3] but "
                                 "expected shape"),
])
def test_a_backward_with_the_wrong_gradients_raises_as_pytorch(torch, backward, n_inputs,
                                                                words):
    x = minigan.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError) as ours:
        custom(backward, n_inputs).apply(*[x] * n_inputs).sum().backward()
    assert words in str(ours.value)
    tx = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError) as theirs:
        torch_custom(torch, backward, n_inputs).apply(*[tx] * n_inputs).sum().backward()
    assert words in str(theirs.value)


def test_extra_trailing_nones_and_a_bare_tensor_are_accepted_as_pytorch():
    x = minigan.ones(2, 3, requires_grad=True)
    custom(lambda self, g: (g * 2, None, None)).apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))
    x.grad = None
    custom(lambda self, g: g * 2).apply(x).sum().backward()  # not a tuple: one gradient
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))


def test_the_shape_check_holds_under_python_dash_o():
    code = ("import minigan\nfrom minigan.autograd import Function\n"
            "class C(Function):\n"
            "    def forward(self, x): return x * 2\n"
            "    def backward(self, g): return (g[0],)\n"
            "x = minigan.ones(2, 3, requires_grad=True)\n"
            "try:\n    C.apply(x).sum().backward()\n"
            "except RuntimeError as e:\n    print('refused:', e)\n")
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert "refused: Function C.backward returned an invalid gradient" in out.stdout, out.stderr


# ------------------------------------------------- Embedding's backward (item 12)
def test_embedding_backward_memory_is_the_table_not_an_identity_matrix():
    """3 indices into 5,000 rows: the gradient is one (K, D) table (80 KB); an identity
    matrix of the table size would be 100 MB (10 GB at 50,000 rows)."""
    emb = nn.Embedding(5000, 4)
    out = emb(minigan.tensor(np.array([3, 4999, 3])))
    tracemalloc.start()
    try:
        out.sum().backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 5000 * 4 * 4, peak  # a few tables' worth at most
    expected = np.zeros((5000, 4), dtype=np.float32)
    expected[3], expected[4999] = 2, 1  # a repeated index adds up
    np.testing.assert_array_equal(emb.weight.grad.numpy(), expected)


def test_embedding_of_two_million_rows_differentiates():
    emb = nn.Embedding(2_000_000, 4)
    emb(minigan.tensor(np.array([0, 1_999_999]))).sum().backward()
    assert emb.weight.grad.numpy().sum() == 8


# ------------------------------------------------- Optimizer.load_state_dict (item 17)
def stepped(opt_class, **kwargs):
    p = minigan.ones(2, 3, requires_grad=True)
    opt = opt_class([p], lr=0.1, **kwargs)
    p.grad = minigan.ones(2, 3)
    opt.step()
    return p, opt


@pytest.mark.parametrize("change, words", [
    (lambda s: s.pop("exp_avg"), "lacks ['exp_avg']"),
    (lambda s: s.pop("step"), "lacks ['step']"),
    (lambda s: s.update(step=-5), "'step' of parameter 0 must be an integer >= 0, got -5"),
    (lambda s: s.update(step="x"), "'step' of parameter 0 must be an integer >= 0, got 'x'"),
    (lambda s: s.update(step=2.5), "'step' of parameter 0 must be an integer >= 0, got 2.5"),
    (lambda s: s.update(step=True), "'step' of parameter 0 must be an integer >= 0, got True"),
    (lambda s: s.update(step=float("nan")), "'step' of parameter 0 must be an integer >= 0, got nan"),
    (lambda s: s.update(exp_avg=np.array(0.5, dtype=np.float32)),
     "'exp_avg' of parameter 0 has shape (), the parameter (2, 3): it must be an array"),
    (lambda s: s.update(exp_avg_sq=0.5), "'exp_avg_sq' of parameter 0 has float"),
    (lambda s: s.update(exp_avg=np.full((2, 3), "a")), "'exp_avg' of parameter 0 holds <U1, not numbers"),
])
def test_adam_state_that_step_could_not_use_is_refused_and_changes_nothing(change, words):
    p, opt = stepped(minigan.optim.Adam)
    saved, before = opt.state_dict(), opt.state_dict()
    change(saved["state"][0])
    with pytest.raises(ValueError, match="Adam.load_state_dict: state ") as err:
        opt.load_state_dict(saved)
    assert words in str(err.value)
    after = opt.state_dict()
    assert after["state"][0]["step"] == before["state"][0]["step"]
    np.testing.assert_array_equal(after["state"][0]["exp_avg"], before["state"][0]["exp_avg"])


def test_adam_state_as_pytorch_saves_it_loads_and_steps_as_pytorch(torch):
    """PyTorch keeps Adam's step as a float tensor, tensor(1.): as a 0-d array it loads."""
    tp = torch.nn.Parameter(torch.ones(2, 3, dtype=torch.float64))
    topt = torch.optim.Adam([tp], lr=0.1)
    tp.grad = torch.full((2, 3), 0.5, dtype=torch.float64)
    topt.step()
    saved = {"state": {0: {k: v.numpy() for k, v in topt.state_dict()["state"][0].items()}},
             "param_groups": [{"lr": 0.1, "params": [0]}]}
    p = minigan.tensor(tp.detach().numpy(), requires_grad=True)
    opt = minigan.optim.Adam([p], lr=0.1)
    opt.load_state_dict(saved)
    assert opt.state_dict()["state"][0]["step"] == 1
    for _ in range(2):
        p.grad = minigan.tensor(np.full((2, 3), 0.25))
        tp.grad = torch.full((2, 3), 0.25, dtype=torch.float64)
        opt.step()
        topt.step()
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-14)


def test_sgd_momentum_buffer_of_none_as_pytorch_stores_it_starts_a_fresh_buffer(torch):
    p, opt = stepped(minigan.optim.SGD, momentum=0.9)
    opt.load_state_dict({"state": {0: {"momentum_buffer": None}},
                         "param_groups": [{"lr": 0.1, "momentum": 0.9, "params": [0]}]})
    tp = torch.nn.Parameter(torch.tensor(p.numpy()))
    topt = torch.optim.SGD([tp], lr=0.1, momentum=0.9)
    topt.load_state_dict({"state": {0: {"momentum_buffer": None}},
                          "param_groups": [{**topt.state_dict()["param_groups"][0]}]})
    p.grad = minigan.ones(2, 3)
    tp.grad = torch.ones(2, 3)
    opt.step()
    topt.step()
    np.testing.assert_array_equal(p.numpy(), tp.detach().numpy())
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["momentum_buffer"],
                                  np.ones((2, 3)))
    bad = {"state": {0: {"momentum_buffer": np.zeros(3)}},
           "param_groups": [{"lr": 0.1, "momentum": 0.9, "params": [0]}]}
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 has shape \(3,\)"):
        opt.load_state_dict(bad)
