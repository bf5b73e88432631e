"""minigan.set_num_threads / get_num_threads (API.md) and `minigan train --threads N`."""
import pytest
from threadpoolctl import threadpool_info

import minigan
from minigan import threads
from minigan.cli import main as cli
from minigan.store.checkpoint import read_checkpoint


def blas_threads():
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.fixture(autouse=True)
def restore_threads():
    """Every test here leaves the process's thread count as it found it."""
    before, asked = minigan.get_num_threads(), threads._num_threads
    yield
    minigan.set_num_threads(before)
    threads._num_threads = asked
    threads._state.clear()  # the load's bookkeeping starts afresh


def test_the_default_is_what_the_blas_runs_with(monkeypatch):
    monkeypatch.setattr(threads, "ADAPT_TO_LOAD", False)
    threads.use_default()
    assert minigan.get_num_threads() == max(blas_threads())
    assert threads.ops_threads() == max(blas_threads())
    assert 1 <= minigan.get_num_threads()


def fake_load(monkeypatch, others_per_second, cores=2):
    """_cpu_sample's readings, one a second, with other processes keeping
    others_per_second[i] cores busy in second i; this process's own time is 1 s a second."""
    samples = [(0.0, 0.0, 0.0)]
    for others in others_per_second:
        t, busy, own = samples[-1]
        samples.append((t + 1, busy + 1 + others, own + 1))
    readings = iter(samples)
    monkeypatch.setattr(threads, "_cpu_sample", lambda: next(readings))
    monkeypatch.setattr(threads, "LOAD_INTERVAL_S", 0.0)  # look every time
    monkeypatch.setattr(threads, "available_cores", lambda: cores)


def test_the_default_leaves_the_cores_other_processes_keep_busy(monkeypatch):
    minigan.set_num_threads(2)
    threads.use_default()  # every core (2) by default, adapted to the load
    fake_load(monkeypatch, [0.1, 0.9, 1.4, 0.3, 0.6])
    seen = [threads.ops_threads() for _ in range(6)]
    # first look: no interval yet; then one core taken from 0.5 of it on, none below
    assert seen == [2, 2, 1, 1, 2, 1]
    assert blas_threads() == [1] * len(blas_threads())  # the BLAS runs what the ops use
    assert minigan.get_num_threads() == 2  # the count asked for is still every core


def test_a_count_set_is_honoured_exactly_whatever_the_load(monkeypatch):
    fake_load(monkeypatch, [1.9, 1.9, 1.9])
    minigan.set_num_threads(2)
    assert [threads.ops_threads() for _ in range(3)] == [2, 2, 2]
    assert all(count == 2 for count in blas_threads())


def test_the_default_takes_up_a_count_set_on_the_blas_from_outside(monkeypatch):
    from threadpoolctl import threadpool_limits

    minigan.set_num_threads(2)
    threads.use_default()
    fake_load(monkeypatch, [0.0, 0.0, 0.0])
    assert threads.ops_threads() == 2
    threadpool_limits(1, user_api="blas")  # as benchmarks/ and other libraries do
    assert threads.ops_threads() == 1 and minigan.get_num_threads() == 1


def test_without_a_reading_of_the_load_the_default_stays(monkeypatch):
    minigan.set_num_threads(2)
    threads.use_default()
    monkeypatch.setattr(threads, "_cpu_sample", lambda: None)  # no /proc/stat
    monkeypatch.setattr(threads, "LOAD_INTERVAL_S", 0.0)
    assert [threads.ops_threads() for _ in range(3)] == [2, 2, 2]


def test_the_load_is_read_from_proc_stat_and_this_process_s_own_time():
    import os
    import time

    sample = threads._cpu_sample()
    if sample is None:
        pytest.skip("no /proc/stat here")
    time.sleep(0.05)
    later = threads._cpu_sample()
    assert later[0] > sample[0] and later[1] >= sample[1] and later[2] >= sample[2]
    assert 0 <= threads._others_busy(sample, later) <= len(os.sched_getaffinity(0)) + 1
    assert threads._others_busy(later, later) == 0.0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_set_num_threads_sets_numpys_blas_pool_and_reads_back(n):
    minigan.set_num_threads(n)
    assert minigan.get_num_threads() == n
    assert blas_threads() and all(count == n for count in blas_threads())


def test_minigans_ops_agree_at_one_thread_and_at_every_core():
    """minigan's BLAS-backed ops (linear, conv2d and their gradients, float64) give the same
    numbers at 1 thread and at every core, and the count set is the one they run under."""
    import numpy as np

    import minigan.nn.functional as F

    def run(n):
        minigan.set_num_threads(n)
        assert all(count == n for count in blas_threads())  # the pool minigan's GEMMs use
        gen = minigan.Generator("cpu", seed=0)
        x = minigan.randn(300, 200, dtype="float64", generator=gen, requires_grad=True)
        w = minigan.randn(250, 200, dtype="float64", generator=gen, requires_grad=True)
        img = minigan.randn(4, 3, 16, 16, dtype="float64", generator=gen, requires_grad=True)
        k = minigan.randn(8, 3, 3, 3, dtype="float64", generator=gen, requires_grad=True)
        loss = (F.linear(x, w) ** 2).sum() + (F.conv2d(img, k, padding=1) ** 2).sum()
        loss.backward()
        return [t.numpy() for t in (loss, x.grad, w.grad, img.grad, k.grad)]

    one, every = run(1), run(threads.available_cores())
    for a, b in zip(one, every):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n,error,words", [
    (0, ValueError, "positive number of threads, got 0"),
    (-2, ValueError, "got -2"),
    (1.5, TypeError, "must be an int, got float 1.5"),
    ("2", TypeError, "got str '2'"),
    (True, TypeError, "got bool True"),
])
def test_a_bad_count_is_refused_and_changes_nothing(n, error, words):
    minigan.set_num_threads(1)
    with pytest.raises(error, match=words):
        minigan.set_num_threads(n)
    assert minigan.get_num_threads() == 1


TRAIN = ["train", "--dataset", "ring8", "--steps", "2", "--batch-size", "8", "--no-progress"]


def test_train_threads_sets_the_count_and_is_not_saved_with_the_run(tmp_path):
    assert cli.main(TRAIN + ["--threads", "1", "--out", str(tmp_path)]) == 0
    assert minigan.get_num_threads() == 1
    assert "threads" not in read_checkpoint(tmp_path).config
    # a resumed run may use another count: it is no setting of the run
    other = min(2, threads.available_cores())  # (--threads above the cores is refused)
    assert cli.main(["train", "--resume", str(tmp_path), "--steps", "3", "--threads",
                     str(other), "--no-progress"]) == 0
    assert minigan.get_num_threads() == other
    assert read_checkpoint(tmp_path).step == 3


def test_train_threads_zero_is_a_one_line_usage_error(tmp_path, capsys):
    assert cli.main(TRAIN + ["--threads", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minigan: error: --threads must be at least 1")
