"""minigan.set_num_threads / get_num_threads (API.md) and `minigan train --threads N`."""
import pytest
from threadpoolctl import threadpool_info

import minigan
from minigan.cli import main as cli
from minigan import threads
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


def test_matrix_products_agree_at_one_thread_and_at_every_core():
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((300, 200)), rng.standard_normal((200, 250))
    minigan.set_num_threads(1)
    one = a @ b
    minigan.set_num_threads(threads.available_cores())
    np.testing.assert_allclose(a @ b, one, rtol=1e-12, atol=1e-12)


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
    assert cli.main(["train", "--resume", str(tmp_path), "--steps", "3", "--threads", "2",
                     "--no-progress"]) == 0
    assert minigan.get_num_threads() == 2
    assert read_checkpoint(tmp_path).step == 3


def test_train_threads_zero_is_a_one_line_usage_error(tmp_path, capsys):
    assert cli.main(TRAIN + ["--threads", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minigan: error: --threads must be at least 1")
