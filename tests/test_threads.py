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


def test_the_default_is_what_the_blas_runs_with():
    threads._num_threads = None
    assert minigan.get_num_threads() == max(blas_threads())
    assert 1 <= minigan.get_num_threads()


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
