"""The command line, as API.md fixes it: `python -m minigan` and `cli.main` alike."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import minigan
from minigan.cli import main as cli
from minigan.store.checkpoint import read_checkpoint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_minigan(*args, cwd=None):
    """`python -m minigan ARGS` in a fresh interpreter that imports this checkout."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "minigan", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def assert_one_line_error(stderr, *words):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("minigan: error: "), stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


TRAIN = ["train", "--steps", "2", "--batch-size", "4", "--sample-every", "1", "--log-every",
         "1", "--image-size", "8", "--no-progress"]  # digits at 8 x 8: small and quick


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    """A 2-step mlp run on the digits, trained through cli.main."""
    out = tmp_path_factory.mktemp("mlp-run")
    assert cli.main(TRAIN + ["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def cmlp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmlp-run")
    assert cli.main(TRAIN + ["--model", "cmlp", "--out", str(out)]) == 0
    return out


def test_train_writes_the_run_files_and_says_where(mlp_run, capsys, tmp_path):
    assert cli.main(TRAIN + ["--out", str(tmp_path), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "trained steps 1-2" in out and str(tmp_path) in out
    for name in ("metrics.jsonl", "samples.gif", "losses.png", "checkpoints/last.npz",
                 "samples/step_000001.png", "samples/step_000002.png"):
        assert (tmp_path / name).is_file(), name
    assert read_checkpoint(tmp_path).config["seed"] == 3


def test_beta2_flag_sets_the_runs_beta2(tmp_path):
    assert cli.main(TRAIN + ["--out", str(tmp_path), "--beta2", "0.9"]) == 0
    ckpt = read_checkpoint(tmp_path)
    assert ckpt.config["beta2"] == 0.9 and ckpt.config["beta1"] == 0.5


def test_default_out_folder_is_runs_model_dataset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--steps", "1", "--batch-size", "2", "--dataset", "ring8",
                     "--no-progress"]) == 0
    assert (tmp_path / "runs" / "mlp-ring8" / "checkpoints" / "last.npz").is_file()


def test_sample_to_npy_through_python_dash_m(mlp_run, tmp_path):
    result = run_minigan("sample", "--checkpoint", mlp_run, "--n", 5, "--seed", 1,
                         "--out", tmp_path / "x.npy")
    assert result.returncode == 0, result.stderr
    x = np.load(tmp_path / "x.npy")
    assert x.shape == (5, 1, 8, 8) and x.dtype == np.float32
    assert -1 <= x.min() and x.max() <= 1
    assert cli.main(["sample", "--checkpoint", str(mlp_run / "checkpoints" / "last.npz"),
                     "--n", "5", "--seed", "1", "--out", str(tmp_path / "y.npy")]) == 0
    assert np.array_equal(x, np.load(tmp_path / "y.npy"))  # the seed fixes the samples


def test_sample_to_png_is_a_grid(mlp_run, tmp_path):
    assert cli.main(["sample", "--checkpoint", str(mlp_run), "--n", "16",
                     "--out", str(tmp_path / "grid.png")]) == 0
    with Image.open(tmp_path / "grid.png") as img:
        assert img.size == (4 * 10 + 2, 4 * 10 + 2)  # 4x4 tiles of 8 px, 2 px padding


def test_sample_with_a_label_asks_a_conditional_model_for_that_class(cmlp_run, tmp_path):
    assert cli.main(["sample", "--checkpoint", str(cmlp_run), "--n", "3", "--label", "7",
                     "--out", str(tmp_path / "sevens.npy")]) == 0
    assert np.load(tmp_path / "sevens.npy").shape == (3, 1, 8, 8)


def test_sample_of_points_writes_an_n_by_2_array(tmp_path):
    assert cli.main(["train", "--dataset", "ring8", "--steps", "1", "--batch-size", "8",
                     "--out", str(tmp_path), "--no-progress"]) == 0
    assert cli.main(["sample", "--checkpoint", str(tmp_path), "--n", "7",
                     "--out", str(tmp_path / "p.npy")]) == 0
    assert np.load(tmp_path / "p.npy").shape == (7, 2)
    assert cli.main(["sample", "--checkpoint", str(tmp_path), "--out",
                     str(tmp_path / "p.png")]) == 0


def test_eval_prints_one_json_line_through_python_dash_m(tmp_path):
    assert cli.main(["train", "--dataset", "ring8", "--steps", "1", "--batch-size", "8",
                     "--out", str(tmp_path), "--no-progress"]) == 0
    result = run_minigan("eval", "--checkpoint", tmp_path, "--n", 100)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    scores = json.loads(lines[0])
    assert 0 <= scores["modes"] <= 8 and 0 <= scores["high_quality"] <= 1


def test_eval_of_digits_includes_the_classifier_scores(mlp_run, capsys):
    assert cli.main(["eval", "--checkpoint", str(mlp_run), "--n", "20"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert {"pixel_mean", "class_entropy", "inception_score"} <= scores.keys()


def test_resume_continues_the_run_to_more_steps(tmp_path, capsys):
    ring8 = [a for a in TRAIN if a not in ("--image-size", "8")]
    assert cli.main(ring8 + ["--dataset", "ring8", "--out", str(tmp_path)]) == 0
    assert cli.main(["train", "--resume", str(tmp_path), "--steps", "3", "--no-progress"]) == 0
    assert "trained steps 3-3" in capsys.readouterr().out
    assert read_checkpoint(tmp_path).step == 3


def test_no_verb_prints_help():
    result = run_minigan()
    assert result.returncode == 0
    assert "usage: minigan" in result.stdout and "train" in result.stdout


# ---------------------------------------------------------------- user errors
def test_errors_through_python_dash_m_are_one_line(mlp_run, tmp_path):
    """A few errors in a fresh interpreter (the rest through cli.main, faster)."""
    result = run_minigan("train", "--model", "vae")
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "vae")
    result = run_minigan("sample", "--checkpoint", tmp_path / "missing.npz", "--out",
                         tmp_path / "x.npy")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "checkpoint not found", "missing.npz")
    result = run_minigan("sample", "--checkpoint", mlp_run, "--label", "3", "--out",
                         tmp_path / "x.npy")
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "--label is only for conditional models")


ERRORS = [  # (arguments, exit status, words of the message)
    (["train", "--model", "vae"], 2, ["invalid choice: 'vae'"]),
    (["train", "--dataset", "cifar10"], 2, ["unknown dataset 'cifar10'"]),
    (["train", "--dataset", "folder:/no/such/folder", "--steps", "1"], 1,
     ["/no/such/folder does not exist"]),
    (["train", "--steps", "0"], 2, ["steps must be an integer >= 1"]),
    (["train", "--steps", "ten"], 2, ["invalid int value: 'ten'"]),
    (["train", "--lr", "nan"], 2, ["lr must be a finite number > 0"]),
    (["train", "--batch-size", "-3"], 2, ["batch-size must be an integer >= 1"]),
    (["train", "--beta1", "1.5"], 2, ["beta1 must be a finite number >= 0 and < 1"]),
    (["train", "--beta2", "1.0"], 2, ["beta2 must be a finite number >= 0 and < 1"]),
    (["train", "--steps", "3", "--epochs", "1"], 2, ["not allowed with argument"]),
    (["train", "--model", "dcgan", "--image-size", "30"], 2, ["30x30 is not supported"]),
    (["train", "--resume", "{run}", "--lr", "0.1"], 2,
     ["--lr 0.1 (the run has 0.0002) cannot be changed when resuming"]),
    (["train", "--resume", "{tmp}/nothing"], 1, ["checkpoint not found"]),
    (["sample", "--checkpoint", "{tmp}/missing.npz", "--out", "{tmp}/x.npy"], 1,
     ["checkpoint not found"]),
    (["sample", "--checkpoint", "{tmp}", "--out", "{tmp}/x.npy"], 1,
     ["no checkpoint in run directory"]),
    (["sample", "--checkpoint", "{run}", "--out", "{tmp}/x.jpg"], 2,
     ["must end in .npy", ".png"]),
    (["sample", "--checkpoint", "{run}", "--label", "3", "--out", "{tmp}/x.npy"], 2,
     ["--label is only for conditional models"]),
    (["sample", "--checkpoint", "{run}", "--n", "0", "--out", "{tmp}/x.npy"], 2,
     ["--n must be at least 1"]),
    (["sample", "--checkpoint", "{run}"], 2, ["--out"]),
    (["sample", "--checkpoint", "{tmp}/corrupt.npz", "--out", "{tmp}/x.npy"], 1,
     ["corrupt.npz", "is not a usable minigan checkpoint"]),
    (["eval", "--checkpoint", "{tmp}/corrupt.npz"], 1, ["is not a usable minigan checkpoint"]),
    (["eval"], 2, ["--checkpoint"]),
    (["fit"], 2, ["invalid choice: 'fit'"]),
    (["train", "--image-size", "100000"], 2, ["image-size must be an integer <= 1024"]),
    (["train", "--seed", "99999999999999999999999"], 2, ["seed must be an integer <="]),
    (["sample", "--checkpoint", "", "--out", "{tmp}/x.npy"], 1,
     ["checkpoint not found: the path given is empty"]),
    (["sample", "--checkpoint", "{run}", "--out", "{tmp}/corrupt.npz/x.npy"], 1,
     ["cannot write", "corrupt.npz is a file, not a folder"]),
    (["sample", "--checkpoint", "{run}", "--n", "99999999999999", "--out", "{tmp}/x.npy"], 1,
     ["--n 99999999999999 makes a file of", "free where"]),  # (streamed: the disk is the bound)
    (["eval", "--checkpoint", "{run}", "--n", "99999999999999"], 1,
     ["--n 99999999999999 needs", "more than this machine can spare"]),
    (["eval", "--checkpoint", "{run}", "--n", "1"], 2, ["--n must be at least 2 for eval"]),
    (["train", "--epochs", "0"], 2, ["epochs must be a finite number > 0"]),
    (["train", "--epochs", "nan"], 2, ["epochs must be a finite number > 0"]),
    (["train", "--channels", "2"], 2, ["channels must be 1 (grey) or 3 (RGB)"]),
    (["train", "--dataset", "folder:", "--steps", "1"], 1, ["needs a path"]),
    (["train", "--resume", "{run}", "--steps", "2"], 1, ["already reaches --steps 2"]),
    (["train", "--steps"], 2, ["expected one argument"]),
    (["train", "--no-such-flag"], 2, ["unrecognized arguments: --no-such-flag"]),
]


@pytest.mark.parametrize("args,status,words", ERRORS, ids=[" ".join(a) for a, _, _ in ERRORS])
def test_user_errors_end_with_one_line_and_an_exit_status(mlp_run, tmp_path, capsys, args,
                                                          status, words):
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 and then nothing useful")
    args = [a.format(run=mlp_run, tmp=tmp_path) for a in args]
    assert cli.main(args) == status
    assert_one_line_error(capsys.readouterr().err, *words)


def test_label_outside_the_classes_is_one_line(cmlp_run, tmp_path, capsys):
    assert cli.main(["sample", "--checkpoint", str(cmlp_run), "--label", "10",
                     "--out", str(tmp_path / "x.npy")]) == 2
    assert_one_line_error(capsys.readouterr().err, "--label must be in 0..9, got 10")


@pytest.mark.skipif(minigan.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("verb", ["train", "sample"])
def test_cuda_without_a_gpu_is_one_line(mlp_run, tmp_path, capsys, verb):
    args = ["train", "--device", "cuda", "--out", str(tmp_path)] if verb == "train" else \
        ["sample", "--checkpoint", str(mlp_run), "--device", "cuda", "--out",
         str(tmp_path / "x.npy")]
    assert cli.main(args) == 1
    assert_one_line_error(capsys.readouterr().err, "cuda")


@pytest.mark.skipif(os.name != "posix", reason="SIGINT as Ctrl-C sends it")
def test_ctrl_c_writes_a_checkpoint_and_exits_130(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.Popen([sys.executable, "-m", "minigan", "train", "--dataset", "ring8",
                             "--steps", "100000", "--batch-size", "8", "--log-every", "1",
                             "--out", str(tmp_path), "--no-progress"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = tmp_path / "metrics.jsonl"
    deadline = time.monotonic() + 60
    while not (metrics.exists() and metrics.read_text().count("\n") >= 3):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "checkpoint written to" in err
    assert read_checkpoint(tmp_path).step >= 3
