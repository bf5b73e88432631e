"""minigan.save / minigan.load: nested state dicts round-trip exactly as safetensors, a flat
state dict moves to PyTorch and back through safetensors.torch, and pickles and damaged
files are refused before anything is unpickled or allocated."""
import io
import pickle
import struct
import sys

import numpy as np
import pytest

import minigan
from conftest import require_extra
from minigan import nn


@pytest.fixture(autouse=True)
def safetensors():
    return require_extra("safetensors", "safetensors")


def _generator():
    minigan.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def test_nested_structures_round_trip_with_their_types(tmp_path, device):
    obj = {"epoch": 3, "lr": 2.5e-4, "name": "dcgan", "done": False, "none": None,
           "G": {"w": minigan.randn(2, 3, dtype="float64", device=device),
                 "labels": minigan.tensor([1, 2, 3], device=device)},
           "history": [1.5, minigan.ones(2, device=device)],
           "pair": (np.arange(3, dtype=np.int16), 7),
           0: {"step": 10, "exp_avg": minigan.zeros(2, device=device)}}
    minigan.save(obj, tmp_path / "x.safetensors")
    back = minigan.load(tmp_path / "x.safetensors", map_location=device)
    assert back.keys() == obj.keys()
    assert (back["epoch"], back["lr"], back["name"], back["done"], back["none"]) == \
        (3, 2.5e-4, "dcgan", False, None)
    for key in ("w", "labels"):
        a, b = obj["G"][key], back["G"][key]
        assert isinstance(b, minigan.Tensor) and b.dtype == a.dtype and b.device == device
        np.testing.assert_array_equal(b.numpy(), a.numpy())
    assert isinstance(back["history"], list) and back["history"][0] == 1.5
    assert isinstance(back["pair"], tuple) and back["pair"][1] == 7
    assert isinstance(back["pair"][0], np.ndarray) and back["pair"][0].dtype == np.int16
    assert back[0]["step"] == 10  # int keys stay ints (optimizer state dicts use them)


def test_a_state_dict_reloads_into_a_fresh_model_exactly(tmp_path):
    g = _generator()
    minigan.save(g.state_dict(), tmp_path / "g.pth")
    minigan.manual_seed(1)
    fresh = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    fresh.load_state_dict(minigan.load(tmp_path / "g.pth"))
    x = minigan.randn(5, 4)
    g.eval(), fresh.eval()
    np.testing.assert_array_equal(fresh(x).numpy(), g(x).numpy())


def test_save_and_load_through_file_objects():
    buffer = io.BytesIO()
    minigan.save({"a": minigan.ones(3)}, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(minigan.load(buffer)["a"].numpy(), np.ones(3, np.float32))


def test_a_flat_state_dict_loads_into_pytorch_and_back(tmp_path, torch, safetensors):
    import safetensors.torch
    g = _generator()
    g[1].running_mean._data[...] = np.arange(8) / 10  # buffers travel too
    minigan.save(g.state_dict(), tmp_path / "g.safetensors")
    twin = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                               torch.nn.Linear(8, 3))
    state = safetensors.torch.load_file(str(tmp_path / "g.safetensors"))
    assert set(state) == set(g.state_dict())  # the same keys, no extra entries
    twin.load_state_dict(state, strict=False)  # PyTorch's num_batches_tracked is not saved
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    g.eval(), twin.eval()
    np.testing.assert_allclose(twin(torch.from_numpy(x)).detach().numpy(),
                               g(minigan.tensor(x)).numpy(), rtol=1e-6, atol=1e-6)
    # and back: a file PyTorch wrote loads as a dict of tensors
    safetensors.torch.save_file(twin.state_dict(), str(tmp_path / "twin.safetensors"))
    back = minigan.load(tmp_path / "twin.safetensors")
    assert all(isinstance(v, minigan.Tensor) for v in back.values())
    fresh = _generator()
    fresh.load_state_dict(back)
    fresh.eval()
    np.testing.assert_array_equal(fresh(minigan.tensor(x)).numpy(), g(minigan.tensor(x)).numpy())


@pytest.mark.parametrize("zipped", [True, False])
def test_a_pickled_pth_from_torch_save_is_refused_naming_safetensors(tmp_path, torch, zipped):
    path = tmp_path / "g.pth"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path, _use_new_zipfile_serialization=zipped)
    with pytest.raises(ValueError, match="pickled PyTorch file.*safetensors") as info:
        minigan.load(path)
    assert "\n" not in str(info.value)


class _Planted:
    def __reduce__(self):
        return (print, ("UNPICKLED",))


def test_a_pickle_is_never_unpickled(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps(_Planted()))
    with pytest.raises(ValueError, match="never unpickles"):
        minigan.load(path)
    assert "UNPICKLED" not in capsys.readouterr().out


@pytest.mark.parametrize("key", ["w", "w" * 90])
def test_a_header_length_that_starts_like_a_pickle_still_loads(tmp_path, key):
    """A header of 128 + 256k bytes begins the file with 0x80, pickle's first byte."""
    for pad in range(256):
        obj = {key: minigan.ones(1), "pad": "x" * pad}
        buffer = io.BytesIO()
        minigan.save(obj, buffer)
        if buffer.getvalue()[:1] == b"\x80":
            break
    assert buffer.getvalue()[:1] == b"\x80"
    buffer.seek(0)
    assert minigan.load(buffer)["pad"] == obj["pad"]


def _file(header, body=b""):
    raw = header if isinstance(header, bytes) else __import__("json").dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


@pytest.mark.parametrize("data, why", [
    (b"abc", "only 3 bytes"),
    (struct.pack("<Q", 2 ** 60) + b"{}", "header says"),
    (_file(b"not json"), "not JSON"),
    (_file([1, 2]), "not a JSON object"),
    (_file({"w": {"dtype": "F32", "shape": [2 ** 40, 2 ** 20], "data_offsets": [0, 8]}},
           b"\0" * 8), "does not match"),
    (_file({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8),
     "does not match"),
    (_file({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 0]}}), "does not match"),
    (_file({"w": {"dtype": "OBJ", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8),
     "does not match"),
])
def test_damaged_files_are_refused_before_allocating(tmp_path, data, why):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=f"not a safetensors file .*{why}"):
        minigan.load(path)


def test_a_damaged_structure_is_one_clear_error(tmp_path, safetensors):
    import safetensors.numpy
    data = safetensors.numpy.save({"w": np.zeros(2, np.float32)},
                                  metadata={"minigan": '{"tensor": "missing"}'})
    (tmp_path / "x.safetensors").write_bytes(data)
    with pytest.raises(ValueError, match="structure is damaged"):
        minigan.load(tmp_path / "x.safetensors")


@pytest.mark.parametrize("obj, match", [
    ({"m": object()}, "cannot save a object"),
    ({("a", 1): 1}, "dict keys must be str or int"),
    ({"a.b": minigan.ones(1), "a": {"b": minigan.ones(1)}}, "both named 'a.b'"),
])
def test_what_cannot_be_saved_safely_is_refused(tmp_path, obj, match):
    with pytest.raises((TypeError, ValueError), match=match):
        minigan.save(obj, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_without_safetensors_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"minigan\[safetensors\]"):
        minigan.save({"a": minigan.ones(1)}, tmp_path / "x.safetensors")


def test_a_training_checkpoint_with_optimizer_state_resumes_exactly(tmp_path):
    """torch.save({"epoch", "model", "optimizer"}) as tutorials write it: the resumed step
    equals the uninterrupted one."""
    def setup():
        minigan.manual_seed(0)
        model = nn.Linear(3, 2)
        return model, minigan.optim.Adam(model.parameters(), lr=0.1)

    def step(model, optimizer, seed):
        minigan.manual_seed(seed)
        optimizer.zero_grad()
        model(minigan.randn(4, 3)).pow(2).sum().backward()
        optimizer.step()

    model, optimizer = setup()
    step(model, optimizer, 1)
    minigan.save({"epoch": 1, "model_state_dict": model.state_dict(),
                  "optimizer_state_dict": optimizer.state_dict()}, tmp_path / "ckpt.pth")
    step(model, optimizer, 2)
    resumed, resumed_optimizer = setup()
    checkpoint = minigan.load(tmp_path / "ckpt.pth")
    resumed.load_state_dict(checkpoint["model_state_dict"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    assert checkpoint["epoch"] == 1
    step(resumed, resumed_optimizer, 2)
    for a, b in zip(resumed.parameters(), model.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
