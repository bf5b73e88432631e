"""The engine API tried as a careless user would (issue 27): each case behaves as PyTorch.

- a custom Function's backward returning too few, too many or wrong-shaped gradients raises
  PyTorch's RuntimeError (it was accepted silently, or an AssertionError that `python -O`
  dropped);
- nn.Embedding's backward costs the table and the rows picked, not a (K, K) identity matrix;
- Optimizer.load_state_dict refuses state its step() cannot use, and loads what PyTorch saves;
- empty batches through Flatten, BatchNorm (training) and cross_entropy give PyTorch's empty
  or NaN results; BatchNorm's momentum=None, set_num_threads(np.int64(1)), an unbatched
  cross_entropy and sum(()) are accepted as PyTorch; set_num_threads is bounded as torch's.
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


# ------------------------------------------------- empty batches (item 18)
def test_flatten_of_an_empty_batch_is_empty_as_pytorch(torch):
    x = np.zeros((0, 3, 4, 5), dtype=np.float32)
    ours = nn.Flatten()(minigan.tensor(x))
    assert ours.shape == tuple(torch.nn.Flatten()(torch.tensor(x)).shape) == (0, 60)
    assert nn.Flatten(0, 1)(minigan.tensor(x)).shape == (0, 4, 5)


@pytest.mark.parametrize("layer, shape", [("BatchNorm1d", (0, 3)), ("BatchNorm2d", (0, 3, 4, 4)),
                                          ("BatchNorm2d", (2, 3, 0, 4))])
def test_batch_norm_of_an_empty_batch_in_training_is_empty_as_pytorch(torch, layer, shape):
    ours, theirs = getattr(nn, layer)(3), getattr(torch.nn, layer)(3)
    ours.running_mean._data[...] = theirs.running_mean.data[...] = 0.5
    x = minigan.zeros(*shape, requires_grad=True)
    tx = torch.zeros(*shape, requires_grad=True)
    out, tout = ours(x), theirs(tx)
    assert out.shape == tuple(tout.shape) == shape
    out.sum().backward()
    tout.sum().backward()
    assert x.grad.shape == shape
    np.testing.assert_array_equal(ours.weight.grad.numpy(), theirs.weight.grad.numpy())
    np.testing.assert_array_equal(ours.bias.grad.numpy(), theirs.bias.grad.numpy())
    for name in ("running_mean", "running_var"):  # untouched, no NaN
        np.testing.assert_array_equal(getattr(ours, name).numpy(),
                                      getattr(theirs, name).numpy())


def test_one_value_per_channel_in_training_is_still_refused_as_pytorch():
    with pytest.raises(ValueError, match="expected more than 1 value per channel"):
        nn.BatchNorm2d(3)(minigan.zeros(1, 3, 1, 1))


def test_cross_entropy_of_an_empty_batch_is_nan_with_an_empty_gradient(torch):
    import warnings
    x = minigan.zeros(0, 3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's "Mean of empty slice" was printed
        loss = minigan.nn.functional.cross_entropy(x, minigan.tensor(np.zeros(0, np.int64)))
        loss.backward()
    tloss = torch.nn.functional.cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    assert np.isnan(loss.item()) and np.isnan(tloss.item())
    assert x.grad.shape == (0, 3)


# ------------------------------------------------- PyTorch accepts, so does minigan (item 23)
def test_unbatched_cross_entropy_on_k_logits_as_pytorch(torch):
    logits = np.array([1.0, 2.0, 0.5])
    x = minigan.tensor(logits, requires_grad=True)
    loss = minigan.nn.functional.cross_entropy(x, minigan.tensor(np.int64(1)))
    loss.backward()
    tx = torch.tensor(logits, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tx, torch.tensor(1))
    tloss.backward()
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("empty", [(), []])
def test_sum_and_mean_over_no_dimensions_reduce_all_as_pytorch(torch, empty):
    values = np.arange(6.0).reshape(2, 3)
    t, tt = minigan.tensor(values), torch.tensor(values)
    assert t.sum(empty).item() == tt.sum(dim=empty).item() == 15
    assert t.mean(empty).item() == tt.mean(dim=empty).item() == 2.5


def test_batch_norm_with_momentum_none_keeps_the_cumulative_average_as_pytorch(torch):
    rng = np.random.default_rng(0)
    ours, theirs = nn.BatchNorm2d(3, momentum=None).double(), \
        torch.nn.BatchNorm2d(3, momentum=None).double()
    for scale in (1.0, 3.0, 0.5):
        x = rng.normal(size=(4, 3, 2, 2)) * scale + scale
        ours(minigan.tensor(x))
        theirs(torch.tensor(x))
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, name).numpy(),
                                   getattr(theirs, name).numpy(), rtol=1e-13)
    assert int(ours.num_batches_tracked.item()) == 3
    state = {k: v.numpy() for k, v in theirs.state_dict().items()}  # its count is kept
    fresh = nn.BatchNorm2d(3, momentum=None).double()
    fresh.load_state_dict(state)
    assert int(fresh.num_batches_tracked.item()) == 3
    ours.eval()  # eval uses the running statistics and counts nothing
    ours(minigan.tensor(rng.normal(size=(4, 3, 2, 2))))
    assert int(ours.num_batches_tracked.item()) == 3
    with pytest.raises(ValueError, match="momentum must be a number in \\[0, 1\\] or None"):
        nn.BatchNorm2d(3, momentum="0.1")


def test_set_num_threads_takes_numpy_ints_and_is_bounded_as_torch():
    before = minigan.get_num_threads()
    try:
        minigan.set_num_threads(np.int64(1))
        assert minigan.get_num_threads() == 1 and type(minigan.get_num_threads()) is int
        for n in (2 ** 31, 2 ** 63, 2 ** 64, 0, -1):
            with pytest.raises(ValueError, match=r"set_num_threads: n must be a positive number "
                                                 r"of threads, got -?\d+ \(at most 2147483647"):
                minigan.set_num_threads(n)
        for n in (1.0, True, "2", np.float64(2)):
            with pytest.raises(TypeError, match="set_num_threads: n must be an int"):
                minigan.set_num_threads(n)
        assert minigan.get_num_threads() == 1  # a refused value changes nothing
    finally:
        minigan.set_num_threads(before)
