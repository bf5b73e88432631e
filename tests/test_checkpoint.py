"""Checkpoints: exact round trips, atomic writes, and refusal of every unusable file."""
import errno
import io
import os
import zipfile

import numpy as np
import pytest

import minigan
from minigan.store import checkpoint
from minigan.store.checkpoint import CheckpointError, read_checkpoint, save_checkpoint
from minigan.models import build_models
from minigan.training import TrainConfig, make_optimizers

SPEC = dict(model="mlp", data_kind="image", image_shape=[1, 8, 8], nz=4, num_classes=0,
            bn_eps=1e-5)
CONFIG = {k: v for k, v in TrainConfig(steps=3).to_dict().items() if k != "out"}


def trained_state(seed=0, spec=SPEC, device="cpu"):
    """G, D and their Adams after one update each, so every optimizer state is filled."""
    G, D = build_models(spec, device, seed)
    opt_g, opt_d = make_optimizers(G, D, TrainConfig())
    z = minigan.randn(4, G.nz, device=device,
                      generator=minigan.Generator(device, seed=[seed, 1]))
    for model, opt in ((D, opt_d), (G, opt_g)):
        opt.zero_grad()
        D(G(z)).mean().backward()
        opt.step()
    return G, D, opt_g, opt_d


def save(path, state, step=1, spec=SPEC):
    return save_checkpoint(path, *state, step=step, config=CONFIG, model_spec=spec)


@pytest.fixture
def saved(tmp_path):
    state = trained_state()
    return save(tmp_path / "last.npz", state), state


def test_round_trip_restores_weights_buffers_and_adam_state(saved):
    path, (G, D, opt_g, opt_d) = saved
    G2, D2, opt_g2, opt_d2 = trained_state(seed=1)  # different numbers everywhere
    ckpt = read_checkpoint(path)
    ckpt.load_into(G2, D2, opt_g2, opt_d2)
    for a, b in ((G, G2), (D, D2)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        assert all(np.array_equal(sa[k], sb[k]) for k in sa)
    for a, b in ((opt_g, opt_g2), (opt_d, opt_d2)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa["param_groups"] == sb["param_groups"]
        for i in sa["state"]:
            assert sa["state"][i]["step"] == sb["state"][i]["step"] == 1
            for name in ("exp_avg", "exp_avg_sq"):
                assert np.array_equal(sa["state"][i][name], sb["state"][i][name])
    assert (ckpt.step, ckpt.seed, ckpt.config, ckpt.model_spec) == (1, 0, CONFIG, SPEC)


def test_round_trip_on_the_device_it_was_saved_from(tmp_path, device):
    """A run on "cuda" saves host copies and loads them back onto the GPU."""
    state = trained_state(device=device)
    path = save(tmp_path / "last.npz", state)
    loaded = trained_state(seed=1, device=device)
    read_checkpoint(path).load_into(*loaded)
    for a, b in zip(state[:2], loaded[:2]):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)
        assert {p.device for p in b.parameters()} == {device}
    for a, b in zip(state[2:], loaded[2:]):
        sa, sb = a.state_dict()["state"], b.state_dict()["state"]
        assert all(np.array_equal(sa[i][k], sb[i][k]) for i in sa for k in ("exp_avg",
                                                                             "exp_avg_sq"))
        assert {minigan.backend.device_of(v) for s in b.state.values() for v in s.values()
                if hasattr(v, "shape")} == {device}


def test_key_layout_is_flat_and_pickle_free(saved):
    path, _ = saved
    with np.load(path, allow_pickle=False) as npz:
        keys = set(npz.files)
        assert all(npz[k].dtype != object for k in keys)
    assert {"G/model.0.weight", "G/model.3.running_mean", "D/model.0.weight",
            "optG/state/0/exp_avg", "optG/state/0/exp_avg_sq", "optG/state/0/step",
            "optG/param_groups", "optD/param_groups", "meta/config", "meta/model", "meta/step",
            "meta/seed", "meta/format_version"} <= keys


def test_run_directory_resolves_to_its_last_checkpoint(tmp_path):
    path = save(tmp_path / "checkpoints" / "last.npz", trained_state(), step=7)
    assert read_checkpoint(tmp_path).step == 7
    assert checkpoint.resolve_checkpoint_path(tmp_path) == str(path)


def test_failed_write_raises_oserror_and_keeps_previous_checkpoint(saved, monkeypatch):
    path, state = saved
    before = path.read_bytes()

    def disk_full(f, **arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint.np, "savez", disk_full)
    with pytest.raises(OSError, match="cannot write checkpoint .*No space left"):
        save(path, state, step=2)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["last.npz"]  # no temporary file left behind


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_folder_is_a_clear_oserror(saved):
    path, state = saved
    before = path.read_bytes()
    os.chmod(path.parent, 0o555)
    try:
        with pytest.raises(OSError, match="cannot write checkpoint"):
            save(path, state, step=2)
    finally:
        os.chmod(path.parent, 0o755)
    assert path.read_bytes() == before


def test_written_checkpoint_has_the_usual_file_mode(saved):
    path, _ = saved
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("damage", ["truncated", "empty", "random", "text", "bad_crc"])
def test_damaged_files_are_refused_with_a_clear_error(saved, damage):
    path, _ = saved
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "random":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif damage == "text":
        path.write_text("not a checkpoint\n")
    else:  # flip bytes inside the first stored array: the zip's CRC check fails
        with zipfile.ZipFile(path) as z:
            info = z.infolist()[0]
        at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
        path.write_bytes(data[:at] + bytes(b ^ 0xFF for b in data[at:at + 16]) + data[at + 16:])
    with pytest.raises(CheckpointError, match=str(path).replace("\\", "\\\\")) as info:
        read_checkpoint(path)
    assert "\n" not in str(info.value)


def test_an_array_claiming_more_bytes_than_the_file_holds_is_refused_before_loading(saved,
                                                                                    tmp_path):
    """A tiny file whose header promises a 100 TB array: np.load would try to allocate it
    (MemoryError) or a large part of it; the header check refuses it first."""
    path, _ = saved
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bomb, "w") as zout:
        first = zin.infolist()[0].filename
        for info in zin.infolist():
            payload = zin.read(info)
            if info.filename == first:
                header = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    header, {"descr": "<f4", "fortran_order": False, "shape": (25 * 10 ** 12,)})
                payload = header.getvalue() + bytes(64)
            zout.writestr(info, payload)
    with pytest.raises(CheckpointError, match=f"{first} declares 100000000000000 bytes of data, "
                                              f"beyond what a"):
        read_checkpoint(bomb)


class CreatesFileWhenUnpickled:
    """Unpickling calls open(path, "w"): if a loader ever unpickles, the file appears."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickled_payload_is_never_executed(saved, tmp_path):
    path, _ = saved
    marker = tmp_path / "pwned"
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    payload = np.empty(1, dtype=object)
    payload[0] = CreatesFileWhenUnpickled(marker)
    arrays["G/model.0.weight"] = payload
    evil = tmp_path / "evil.npz"
    np.savez(evil, **arrays)  # savez pickles object arrays
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="pickled"):
        read_checkpoint(evil)
    assert not marker.exists()


def test_other_models_checkpoint_is_refused_naming_the_difference(tmp_path):
    dcgan_spec = dict(SPEC, model="dcgan")
    other = save(tmp_path / "dcgan.npz", trained_state(spec=dcgan_spec), spec=dcgan_spec)
    G, D, opt_g, opt_d = trained_state(seed=3)
    before = G.state_dict()
    with pytest.raises(CheckpointError, match=r"is not a usable minigan checkpoint: it does not "
                                              r"fit this model \(G lacks model\.0"):
        read_checkpoint(other).load_into(G, D, opt_g, opt_d)
    assert all(np.array_equal(v, G.state_dict()[k]) for k, v in before.items())


def test_shape_mismatch_is_named_and_nothing_is_assigned(tmp_path):
    wide = dict(SPEC, image_shape=[1, 8, 9])  # D's first layer 72 -> 512 instead of 64 -> 512
    other = save(tmp_path / "wide.npz", trained_state(spec=wide), spec=wide)
    G, D, opt_g, opt_d = trained_state(seed=3)
    before = G.state_dict()
    with pytest.raises(CheckpointError, match=r"D/model\.0\.weight has shape \(512, 72\), "
                                              r"the model \(512, 64\)"):
        read_checkpoint(other).load_into(G, D, opt_g, opt_d)
    assert all(np.array_equal(v, G.state_dict()[k]) for k, v in before.items())  # G untouched


@pytest.mark.parametrize("edit", ["version", "no_version", "config", "step"])
def test_bad_metadata_is_refused(saved, tmp_path, edit):
    path, _ = saved
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    if edit == "version":
        arrays["meta/format_version"] = np.array(99)
    elif edit == "no_version":
        del arrays["meta/format_version"]
    elif edit == "config":
        arrays["meta/config"] = np.array("{not json")
    else:
        arrays["meta/step"] = np.array(-1)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(CheckpointError, match="bad.npz"):
        read_checkpoint(bad)


def test_missing_file_and_empty_run_folder_are_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        read_checkpoint(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError, match="no checkpoint in run directory"):
        read_checkpoint(tmp_path)
