"""The CUDA path without a GPU: the CuPy stand-in (tests/fake_cupy) and what it holds.

Run with MINIGAN_FAKE_CUDA=1 (CI does, on the tests whose ids say "cuda"): the stand-in
takes CuPy's place, the `device` fixture yields "cuda" too, and the tests here check
(1) that the stand-in is as strict as CuPy where dispatch bugs show, so that a passing
"cuda" test means something, and (2) that `minigan train --device cuda` copies nothing
from the device to the host between log steps. Without the stand-in they skip.
"""
import copy
import pickle

import numpy as np
import pytest

import minigan
from minigan import backend
from minigan.fast import kernels
from minigan.cli import main as cli
from minigan.training.updater import GANUpdater


@pytest.fixture
def cp(transfers):
    """The stand-in's cupy module (skips without MINIGAN_FAKE_CUDA=1)."""
    return backend.cp


# ----------------------------------------------------------------------------- the wall
def test_the_stand_in_is_what_minigan_found_as_cupy(cp):
    assert getattr(cp, "__fake__", False) and minigan.cuda.is_available()
    assert backend.check_device("cuda:0") == "cuda"
    assert kernels.USE_FUSED is False  # the CUDA C kernels cannot run on NumPy
    assert type(minigan.zeros(2, device="cuda")._data) is cp.ndarray


def test_numpy_cannot_read_a_device_array_implicitly(cp):
    x = cp.arange(6.0)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array"):
        np.asarray(x)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.array([x, x])
    with pytest.raises(TypeError, match="numpy.sum was called on a cupy.ndarray"):
        np.sum(x)
    with pytest.raises(TypeError, match="numpy.where"):
        np.where(x > 1, x, 0.0)


def test_a_dispatch_bug_in_an_op_fails_on_cuda(cp):
    """The kind of bug the stand-in is for: np.* where xp_of(x).* was meant."""
    t = minigan.randn(3, device="cuda")
    with pytest.raises(TypeError):
        np.exp(t._data) + np.zeros(3)  # CuPy runs np.exp, but then meets a host array
    with pytest.raises(TypeError):
        np.tanh(t._data).sum(out=np.zeros(()))


def test_host_arrays_do_not_mix_with_device_arrays_but_scalars_do(cp):
    x = cp.ones(3, dtype=np.float32)
    for bad in (lambda: x + np.ones(3), lambda: np.ones(3) * x, lambda: cp.maximum(x, np.ones(3)),
                lambda: cp.concatenate([x, np.ones(3)]), lambda: x + [1.0, 2.0, 3.0]):
        with pytest.raises(TypeError, match="Unsupported type"):
            bad()
    for good in (x + 1, 2.0 * x, np.float32(2) * x, x - np.float64(1), cp.maximum(x, 0)):
        assert type(good) is cp.ndarray


def test_reductions_and_indexing_give_0d_device_arrays_not_scalars(cp):
    x = cp.arange(4.0)
    for value in (x.sum(), x.max(), cp.mean(x), x[1], cp.exp(x[0]), (x == 2).any()):
        assert type(value) is cp.ndarray and value.shape == ()


def test_every_way_to_the_host_is_counted_with_its_line(cp, transfers):
    x = cp.arange(4.0)
    host = [cp.asnumpy(x), x.get(), float(x[1]), int(x[2]), bool(x[3] > 0), x[0].item(),
            x.tolist(), repr(x), f"{x[1]:.1f}", pickle.dumps(x)]
    assert len(host) == transfers.device_to_host == 10
    assert all("test_fake_cuda.py" in site for site in transfers.sites())
    assert cp.asnumpy(np.ones(2)).shape == (2,)  # host data stays: nothing copied
    assert transfers.device_to_host == 10


def test_copies_to_the_device_are_counted_and_device_copies_are_not(cp, transfers):
    x = cp.asarray(np.zeros(3))
    x[:] = np.ones(3)
    y = cp.asarray([1.0, 2.0, 3.0])
    assert transfers.host_to_device == 3
    assert cp.asarray(x) is x and cp.asarray(y, dtype=y.dtype) is y  # no conversion, no copy
    z = copy.deepcopy(x) + cp.ascontiguousarray(y.T)
    assert transfers.host_to_device == 3 and transfers.device_to_host == 0
    np.testing.assert_array_equal(cp.asnumpy(z), [2.0, 3.0, 4.0])


def test_data_dependent_sizes_count_as_a_read_back(cp, transfers):
    x = cp.arange(5)
    x[x > 2]
    cp.nonzero(x)
    cp.unique(x)
    assert transfers.device_to_host == 3


def test_user_kernels_build_but_are_not_run_here(cp):
    kernel = cp.ElementwiseKernel("T x", "T y", "y = x", "copy")
    with pytest.raises(cp.KernelNotRunHere, match="'copy' is not run here"):
        kernel(cp.ones(2))
    with pytest.raises(cp.KernelNotRunHere):
        cp.RawKernel("extern \"C\" __global__ void f() {}", "f")()


def test_scatter_add_through_cupyx_and_ufunc_at_agree(cp, monkeypatch):
    index = cp.asarray(np.array([0, 2, 2, 1, 2]))
    values = cp.asarray(np.arange(5.0))
    with_at = cp.zeros(3)
    backend.scatter_add(with_at, index, values)  # CuPy 13: xp.add.at

    class AddWithoutAt:  # CuPy before 13: only cupyx.scatter_add
        def __call__(self, *args, **kwargs):
            return cp.UFUNCS["add"](*args, **kwargs)
    monkeypatch.setattr(cp, "add", AddWithoutAt())
    with_cupyx = cp.zeros(3)
    backend.scatter_add(with_cupyx, index, values)
    np.testing.assert_array_equal(cp.asnumpy(with_at), [0.0, 3.0, 7.0])
    np.testing.assert_array_equal(cp.asnumpy(with_cupyx), [0.0, 3.0, 7.0])


def test_cuda_runtime_names_are_cupys(cp):
    assert cp.cuda.runtime.getDeviceCount() == 1
    assert cp.get_array_module(cp.ones(1), np.ones(1)) is cp
    assert cp.get_array_module(np.ones(1)) is np
    pool = cp.get_default_memory_pool()
    pool.free_all_blocks()
    assert pool.used_bytes() >= 0 and pool.total_bytes() >= 0
    with cp.cuda.Device(0), cp.cuda.Stream(non_blocking=True) as stream:
        assert cp.cuda.get_current_stream() is stream
    cp.cuda.Device().synchronize()
    minigan.cuda.synchronize()
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError):
        cp.cuda.Device(1)


# ----------------------------------------------------------------------------- host round-trips
RUNS = {  # name: flags of `minigan train`; every method and conditioning scheme
    "gan": [],
    "wgan-gp-d2": ["--loss", "wgan", "--gp", "10", "--d-steps", "2"],
    "hinge-sn-ema-ttur": ["--loss", "hinge", "--spectral-norm", "--ema", "0.9", "--lr-d",
                          "4e-4"],
    "lsgan-r1": ["--loss", "lsgan", "--r1", "1"],
    "wgan-clip": ["--loss", "wgan", "--clip", "0.01"],
    "dcgan-saturating": ["--model", "dcgan", "--image-size", "8", "--g-loss", "saturating"],
    "cmlp-acgan": ["--model", "cmlp", "--conditioning", "acgan"],
    "cdcgan-projection": ["--model", "cdcgan", "--conditioning", "projection",
                          "--image-size", "8"],
}


def copies_per_step(transfers, monkeypatch, argv):
    """Run `minigan train` in this process; {step: device-to-host copies made from the
    start of that step to the start of the next (its update and its periodic actions)}."""
    copies, update = {}, GANUpdater.update

    def counted(self, step):
        copies[step - 1] = transfers.sites()
        transfers.reset()
        return update(self, step)
    monkeypatch.setattr(GANUpdater, "update", counted)
    assert cli.main(argv) in (0, None)
    copies[max(copies) + 1] = transfers.sites()
    return copies


@pytest.mark.parametrize("name", sorted(RUNS))
def test_training_on_cuda_copies_to_the_host_only_at_log_steps(tmp_path, transfers,
                                                                monkeypatch, name):
    copies = copies_per_step(transfers, monkeypatch, [
        "train", "--device", "cuda", "--steps", "6", "--log-every", "3", "--batch-size", "8",
        "--sample-every", "100", "--checkpoint-every", "100", "--out", str(tmp_path),
        "--no-progress", *RUNS[name]])
    for step in (1, 2, 4, 5):
        assert copies[step] == [], f"step {step} copied to the host: {copies[step]}"
    # step 3 logs: the NaN watch's first bad step, then the four logged values in one copy
    assert len(copies[3]) == 2, copies[3]
    assert copies[6]  # the last step also samples and saves: it must read back


def test_skip_nonfinite_reads_one_flag_per_update(tmp_path, transfers, monkeypatch):
    """--skip-nonfinite decides on the host whether to apply each update (its help says
    it costs a host read per step): one read for D's update and one for G's."""
    copies = copies_per_step(transfers, monkeypatch, [
        "train", "--device", "cuda", "--steps", "3", "--log-every", "3", "--batch-size", "8",
        "--sample-every", "100", "--out", str(tmp_path), "--no-progress", "--skip-nonfinite"])
    for step in (1, 2):
        assert len(copies[step]) == 2 and all("is_finite" in s for s in copies[step]), \
            copies[step]


def test_sample_and_eval_run_on_cuda(tmp_path, transfers, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "--device", "cuda", "--steps", "2", "--batch-size", "8",
                     "--out", str(run), "--no-progress"]) in (0, None)
    assert cli.main(["sample", "--checkpoint", str(run), "--device", "cuda", "--out",
                     str(tmp_path / "grid.png")]) in (0, None)
    assert (tmp_path / "grid.png").is_file()
    capsys.readouterr()
    assert cli.main(["eval", "--checkpoint", str(run), "--device", "cuda", "--n", "64"]) in \
        (0, None)
    assert "pixel_mean" in capsys.readouterr().out
