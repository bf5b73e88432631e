"""A checkpoint is a file users download: its contents are data, never instructions.

Issue 12's reproductions, each refused with a CheckpointError naming the entry (or, for
a harmless variation, loaded): metadata fields outside the allow-list, sizes beyond what
the file's arrays hold, zip members whose sizes lie, zip bombs, malformed optimizer
state, and a path in the saved config.
"""
import io
import json
import struct
import zipfile

import numpy as np
import pytest

from minigan.evaluation.sampling import generator_from_checkpoint
from minigan.store import checkpoint
from minigan.store.checkpoint import CheckpointError, read_checkpoint
from test_checkpoint import SPEC, save, trained_state


@pytest.fixture
def good(tmp_path):
    return save(tmp_path / "last.npz", trained_state())


def arrays_of(path):
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def resave(arrays, path, compressed=False):
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def edited(good, tmp_path, **changes):
    """The good checkpoint with some arrays replaced (None: removed)."""
    arrays = arrays_of(good)
    for key, value in changes.items():
        key = key.replace("__", "/")
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    return resave(arrays, tmp_path / "edited.npz")


def json_entry(value):
    return np.array(json.dumps(value))


# ----------------------------------------------------------------------------- metadata
def test_a_huge_nz_in_a_small_file_is_refused_before_anything_is_built(good, tmp_path):
    """Was: 3 GB and 15 s for Linear(3,000,000, 128) before load_into refused it."""
    bad = edited(good, tmp_path, meta__model=json_entry(dict(SPEC, nz=3_000_000)))
    with pytest.raises(CheckpointError, match=r"make models far larger than the \d+ weights "
                                              r"the file stores"):
        generator_from_checkpoint(bad)


@pytest.mark.parametrize("field, value", [
    ("nz", "3"), ("nz", 0), ("nz", 2.5), ("nz", True), ("num_classes", -1),
    ("bn_eps", float("nan")), ("bn_eps", "1e-5"), ("model", "vae"), ("data_kind", "audio"),
    ("image_shape", [3, 10 ** 6, 1]), ("image_shape", [2, 8, 8]), ("image_shape", "1x8x8"),
    ("exec", "import os"),
])
def test_model_description_fields_are_type_and_range_checked(good, tmp_path, field, value):
    bad = edited(good, tmp_path, meta__model=json_entry(dict(SPEC, **{field: value})))
    with pytest.raises(CheckpointError, match=f"meta/model.*{field}"):
        read_checkpoint(bad)


def test_deeply_nested_json_is_refused_not_a_recursion_error(good, tmp_path):
    bad = edited(good, tmp_path, meta__config=np.array("[" * 100_000 + "]" * 100_000))
    with pytest.raises(CheckpointError, match="meta/config is not valid JSON"):
        read_checkpoint(bad)


def test_an_out_folder_in_the_saved_config_is_never_read(good, tmp_path):
    config = json.loads(str(arrays_of(good)["meta/config"]))
    bad = edited(good, tmp_path, meta__config=json_entry(dict(config, out=str(tmp_path / "x"))))
    assert "out" not in read_checkpoint(bad).config


@pytest.mark.parametrize("key", ["meta/evil", "E/model.0.weight", "notes"])
def test_entries_minigan_does_not_write_are_refused_by_name(good, tmp_path, key):
    arrays = arrays_of(good)
    arrays[key] = np.zeros(2, np.float32)
    with pytest.raises(CheckpointError, match=f"an entry '{key}.npy' that minigan does not "
                                              f"write"):
        read_checkpoint(resave(arrays, tmp_path / "extra.npz"))


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_an_entry_given_twice_is_refused(good, tmp_path):
    twice = tmp_path / "twice.npz"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(twice, "w") as zout:
        step = zin.read("meta/step.npy")
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        zout.writestr("meta/step.npy", step)
    with pytest.raises(CheckpointError, match="meta/step.npy' twice"):
        read_checkpoint(twice)


@pytest.mark.parametrize("dtype", ["complex64", "datetime64[s]", "V8", "S4"])
def test_array_kinds_minigan_never_writes_are_refused(good, tmp_path, dtype):
    bad = edited(good, tmp_path, G__model_0_bias=np.zeros(2, dtype))
    with pytest.raises(CheckpointError, match="which minigan does not write"):
        read_checkpoint(bad)


# ----------------------------------------------------------------------------- the zip
def member_bytes(path, name):
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def rewrite(good, path, name, payload, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = payload if info.filename == name else zin.read(info)
            zout.writestr(info.filename, data, compress_type=compress)
    return path


def npy_header(shape, descr="<f4"):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False,
                                                  "shape": shape})
    return header.getvalue()


def test_a_member_whose_data_is_shorter_than_its_header_says_is_refused(good, tmp_path):
    bad = rewrite(good, tmp_path / "short.npz", "G/model.0.bias.npy",
                  npy_header((1000,)) + bytes(40))
    with pytest.raises(CheckpointError, match=r"G/model.0.bias.npy declares 4000 bytes of data "
                                              r"but the archive holds only 40"):
        read_checkpoint(bad)


def test_a_member_with_more_data_than_its_header_says_is_refused(good, tmp_path):
    bad = rewrite(good, tmp_path / "long.npz", "G/model.0.bias.npy",
                  npy_header((2,)) + bytes(4000))
    with pytest.raises(CheckpointError, match="holds more data than its header declares"):
        read_checkpoint(bad)


def test_a_zip_directory_that_lies_about_sizes_is_refused_without_a_memory_error(good,
                                                                                 tmp_path):
    """The central directory's sizes of the first member set to 4 GB: was a MemoryError
    ("90.9 TiB") once the header check trusted them."""
    data = bytearray(good.read_bytes())
    central = data.find(b"PK\x01\x02")  # the first member's directory entry
    struct.pack_into("<II", data, central + 20, 0xFFFFFFF0, 0xFFFFFFF0)  # compressed, size
    (tmp_path / "lying.npz").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="is not a usable minigan checkpoint"):
        read_checkpoint(tmp_path / "lying.npz")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    """64 MB of zeros deflate to about 64 KB: beyond what a file of that size may unpack to
    (was: a 1.9 MB member grew the process to 1.77 GB)."""
    arrays = {"G/model.0.bias": np.zeros(16 * 2 ** 20, np.float32)}
    bomb = resave(arrays, tmp_path / "bomb.npz", compressed=True)
    assert bomb.stat().st_size < 2 ** 20
    with pytest.raises(CheckpointError, match="beyond what a .*-byte archive can hold"):
        read_checkpoint(bomb)


def test_a_checkpoint_resaved_with_savez_compressed_loads_the_same(good, tmp_path):
    """Was refused with a confusing "declares N bytes but the archive stores M"."""
    again = resave(arrays_of(good), tmp_path / "compressed.npz", compressed=True)
    a, b = read_checkpoint(good), read_checkpoint(again)
    assert a.arrays.keys() == b.arrays.keys()
    assert all(np.array_equal(a.arrays[k], b.arrays[k]) for k in a.arrays)
    G2, D2, opt_g2, opt_d2 = trained_state(seed=2)
    b.load_into(G2, D2, opt_g2, opt_d2)


def test_big_endian_arrays_load_as_native(good, tmp_path):
    original = arrays_of(good)
    arrays = {k: (v.astype(v.dtype.newbyteorder(">")) if v.dtype.kind == "f" else v)
              for k, v in original.items()}
    assert any(not v.dtype.isnative for v in arrays.values())  # the file really is big-endian
    ckpt = read_checkpoint(resave(arrays, tmp_path / "big.npz"))
    G2, D2, opt_g2, opt_d2 = trained_state(seed=2)
    ckpt.load_into(G2, D2, opt_g2, opt_d2)
    for prefix, module in (("G/", G2), ("D/", D2)):
        for name, t in list(module.named_parameters()) + list(module.named_buffers()):
            assert t._data.dtype.isnative, name  # native order: BLAS and the ops expect it
            np.testing.assert_array_equal(t.numpy(), original[prefix + name], err_msg=name)
    for prefix, opt in (("optG/", opt_g2), ("optD/", opt_d2)):
        for i, state in opt.state_dict()["state"].items():
            for key in ("exp_avg", "exp_avg_sq"):
                np.testing.assert_array_equal(state[key], original[f"{prefix}state/{i}/{key}"])


# ----------------------------------------------------------------------------- optimizer state
@pytest.mark.parametrize("groups, named", [
    ([1], r"optG/param_groups must be a list of 1 JSON object"),
    ([{"params": 5}], r"optG/param_groups\[0\]\.params must be a list of \d+ parameter"),
    ({"params": []}, r"optG/param_groups must be a list"),
    ([{"params": None, "lr": "fast"}], r"optG/param_groups\[0\]: Adam: learning rate \(lr\) must be"),
    ([{"evil": 1}], r"optG/param_groups\[0\] has unknown keys \['evil'\]"),
])
def test_malformed_param_groups_are_refused_naming_the_field(good, tmp_path, groups, named):
    G, D, opt_g, opt_d = trained_state(seed=2)
    if isinstance(groups, list) and isinstance(groups[0], dict) and "lr" in groups[0]:
        groups[0]["params"] = list(range(len(opt_g.params())))
    bad = edited(good, tmp_path, optG__param_groups=json_entry(groups))
    with pytest.raises(CheckpointError, match=named):
        read_checkpoint(bad).load_into(G, D, opt_g, opt_d)


def test_a_negative_adam_step_is_refused_naming_the_entry(good, tmp_path):
    """Was "math domain error" at the first optimizer step."""
    G, D, opt_g, opt_d = trained_state(seed=2)
    bad = edited(good, tmp_path, optD__state__0__step=np.array(-5))
    with pytest.raises(CheckpointError, match=r"optD/state/0/step must be an integer step >= 0"):
        read_checkpoint(bad).load_into(G, D, opt_g, opt_d)


def test_a_refused_optimizer_state_changes_nothing(good, tmp_path):
    G, D, opt_g, opt_d = trained_state(seed=2)
    before = {k: v.copy() for k, v in G.state_dict().items()}
    bad = edited(good, tmp_path, optG__param_groups=json_entry([1]))
    with pytest.raises(CheckpointError):
        read_checkpoint(bad).load_into(G, D, opt_g, opt_d)
    assert all(np.array_equal(v, G.state_dict()[k]) for k, v in before.items())


def test_a_checkpoint_fingerprint_record_of_the_wrong_shape_is_refused(good, tmp_path):
    bad = edited(good, tmp_path, meta__data=json_entry({"fingerprint": "x"}))
    with pytest.raises(CheckpointError, match="meta/data is not a dataset fingerprint"):
        read_checkpoint(bad)


def test_the_limits_are_what_the_module_says():
    assert checkpoint.MAX_EXPANSION >= 8 and checkpoint.MAX_TOTAL_BYTES >= 2 ** 34


def test_a_huge_nz_in_the_saved_config_is_refused_before_a_resumed_run_builds(tmp_path):
    """The resumed run builds from the saved config: bounded the same way."""
    from minigan import training

    out = tmp_path / "R"
    training.train(training.TrainConfig(dataset="ring8", steps=1, batch_size=8, out=str(out)),
                   progress=False)
    path = out / "checkpoints" / "last.npz"
    arrays = arrays_of(path)
    config = json.loads(str(arrays["meta/config"]))
    arrays["meta/config"] = json_entry(dict(config, nz=3_000_000))
    bad = resave(arrays, tmp_path / "bad.npz")
    config, resume = training.config_for_resume(bad, steps=2, out=str(tmp_path / "B"))
    with pytest.raises(CheckpointError, match="far larger than the"):
        training.train(config, progress=False, resume=resume)
