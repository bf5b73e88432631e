"""The version counter shared as PyTorch's (issue 27 items 6-8): views (reshape, view, slices,
permute, transpose, squeeze, unsqueeze, expand) and detach() share their base's counter,
Module.load_state_dict counts as an in-place change, and an output saved for backward is
checked like an input. Each case runs in minigan and in PyTorch: both raise, or both agree."""
import numpy as np
import pytest

import minigan
from minigan import nn, optim

INPLACE = "modified by an inplace operation"


def both(torch, device, build):
    """build(lib, leaf) in minigan and in PyTorch; returns the two exceptions (or None)."""
    outcomes = []
    for lib, make in ((minigan, lambda a: minigan.tensor(a, device=device, requires_grad=True)),
                      (torch, lambda a: torch.tensor(a, requires_grad=True))):
        try:
            build(lib, make)
            outcomes.append(None)
        except RuntimeError as error:
            outcomes.append(error)
    return outcomes


VIEWS = {
    "reshape": lambda w: w.reshape(2, 3),
    "view": lambda w: w.view(3, 2),
    "slice": lambda w: w[1:4],
    "int index": lambda w: w[2],
    "unsqueeze": lambda w: w.unsqueeze(0),
    "squeeze": lambda w: w.unsqueeze(1).squeeze(1),
    "permute": lambda w: w.reshape(2, 3).permute(1, 0),
    "transpose": lambda w: w.reshape(2, 3).transpose(0, 1),
    "expand": lambda w: w.expand(2, 6),
    "detach": lambda w: w.detach(),
}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_a_loss_from_a_view_then_a_step_then_backward_raises_as_in_pytorch(torch, device, view):
    """Issue 27 item 6: v = w.reshape(...) (or w[1:4], ...), a loss from v, opt.step(), then
    loss.backward() used the stepped values silently; PyTorch raises."""
    def run(lib, make):
        w = make(np.arange(1.0, 7.0))
        v = VIEWS[view](w)
        other = make(np.ones(v.shape)) if view != "detach" else None
        loss = (v * v).sum() if other is None else (v * other).sum()  # v saved for backward
        if view == "detach":  # d gets no gradient: change w and backward through d's graph
            loss = (v * make(np.ones(6))).sum()
        opt = (optim if lib is minigan else lib.optim).SGD([w], lr=0.1)
        w.grad = lib.ones(6, dtype=w.dtype) if lib is minigan else lib.ones(6, dtype=w.dtype)
        opt.step()
        loss.backward()

    ours, theirs = both(torch, device, run)
    assert theirs is not None and INPLACE in str(theirs)
    assert ours is not None and INPLACE in str(ours)


def test_views_share_the_counter_and_copies_do_not(device):
    w = minigan.arange(6.0, device=device)
    for name, make in VIEWS.items():
        v = make(w)
        before = v._version
        with minigan.no_grad():
            w.mul_(1.0)
        assert v._version == before + 1, name
        if name == "expand":  # one memory location for many elements: refused, as PyTorch
            with pytest.raises(RuntimeError, match="single memory location"):
                v.add_(0.0)
            continue
        v.add_(0.0)  # a write through the view is seen by the base
        assert w._version == before + 2, name
    copy = w[[0, 2]]  # advanced indexing copies, as in PyTorch
    before = copy._version
    w.add_(1.0)
    assert copy._version == before and copy._base is None


def test_a_write_through_a_view_reaches_the_base_and_its_graph_check(torch, device):
    """A slice's in-place change is a change of the base: a graph that saved the base
    refuses to backward, in both engines."""
    def run(lib, make):
        w = make(np.arange(1.0, 7.0))
        loss = (w * w).sum()
        with lib.no_grad():
            w[1:3].mul_(2.0)
        loss.backward()

    ours, theirs = both(torch, device, run)
    assert INPLACE in str(theirs) and INPLACE in str(ours)
    w = minigan.arange(6.0, device=device)
    w[1:3].mul_(10.0)
    np.testing.assert_array_equal(w.numpy(), [0, 10, 20, 3, 4, 5])


def test_detach_shares_the_version_counter(torch, device):
    """Issue 27 item 7: an in-place change through detach() reaches a graph that saved the
    source, as in PyTorch."""
    def run(lib, make):
        x = make([1.0, 2.0, 3.0])
        y = x * 2
        z = y.sigmoid()  # sigmoid saves its output; y itself is saved by nothing
        w = (y * y).sum()  # y saved
        y.detach().zero_()
        (w + z.sum()).backward()

    ours, theirs = both(torch, device, run)
    assert INPLACE in str(theirs) and INPLACE in str(ours)


def test_data_has_its_own_counter_so_clipping_through_it_is_not_seen(torch, device):
    """p.data, unlike detach(), is not tracked: WGAN's p.data.clamp_(-c, c) between a forward
    and its backward is accepted by PyTorch, which then uses the clipped values."""
    results = []
    for lib in (minigan, torch):
        w = lib.tensor([0.5, -2.0, 3.0], requires_grad=True, dtype=lib.float64)
        loss = (w * w).sum()
        w.data.clamp_(-1.0, 1.0)
        loss.backward()
        results.append((np.asarray(w.detach().cpu().numpy()), w.grad.cpu().numpy(), w._version))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert results[0][2] == results[1][2] == 0


def test_load_state_dict_between_forward_and_backward_raises(torch, device):
    """Issue 27 item 8: load_state_dict writes parameters in place; PyTorch bumps their
    versions, so the pending backward refuses the old graph."""
    layer, twin = nn.Linear(3, 2).double().to(device), torch.nn.Linear(3, 2).double()
    state = {k: v * 0.5 for k, v in layer.state_dict().items()}
    x = minigan.ones(4, 3, dtype="float64", device=device, requires_grad=True)
    loss = layer(x).sum()  # Linear saved its weight for x's gradient
    before = [p._version for p in layer.parameters()]
    layer.load_state_dict(state)
    assert [p._version for p in layer.parameters()] == [v + 1 for v in before]
    with pytest.raises(RuntimeError, match=INPLACE):
        loss.backward()
    t_loss = twin(torch.ones(4, 3, dtype=torch.float64, requires_grad=True)).sum()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    with pytest.raises(RuntimeError, match=INPLACE):
        t_loss.backward()


def test_a_saved_output_changed_in_place_is_refused(torch, device):
    """exp and sigmoid save their output: changing it in place before backward raises in
    both engines, naming the op's output."""
    def run(lib, make):
        x = make([0.5, 1.0])
        y = x.exp()
        y.mul_(2.0)
        y.sum().backward()

    ours, theirs = both(torch, device, run)
    assert INPLACE in str(theirs) and INPLACE in str(ours)
    assert "output 0 of Exp" in str(ours)


def test_the_ordinary_training_step_with_views_does_not_trip(device):
    """The guard is not a false alarm: forward from views, backward, then step, repeatedly."""
    w = nn.Parameter(minigan.ones(6, dtype="float64", device=device))
    opt = optim.Adam([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (w.reshape(2, 3)[0] * w[3:]).sum().backward()
        opt.step()
    assert w._version == 3
