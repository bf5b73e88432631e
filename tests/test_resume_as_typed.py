"""Resume as users type it (issue 17): the command line repeated with --resume added.

A flag repeated with its saved value is accepted; one with another value is refused in
one line naming the flag, the saved and the given value; RESUME_OVERRIDES may change."""
import pytest

from minigan.cli import main as cli
from minigan.store.checkpoint import read_checkpoint
from minigan.training import RESUME_OVERRIDES

FIRST = ["train", "--dataset", "ring8", "--steps", "2", "--batch-size", "32", "--seed", "5",
         "--log-every", "1", "--no-progress"]


@pytest.fixture
def out(tmp_path):
    out = tmp_path / "R"
    assert cli.main(FIRST + ["--out", str(out)]) == 0
    return out


def with_steps(args, steps):
    args = list(args)
    args[args.index("--steps") + 1] = str(steps)
    return args


def test_the_same_command_with_resume_continues_the_run(out, capsys):
    """Was: "--batch-size, --seed cannot be changed when resuming" although nothing did."""
    assert cli.main(with_steps(FIRST, 4) + ["--out", str(out), "--resume", str(out)]) == 0
    assert read_checkpoint(out).step == 4


@pytest.mark.parametrize("typed", [
    ["--model", "mlp"], ["--lr", "1e-3"], ["--lr", "0.001"], ["--beta1", "0.5"],
    ["--nz", "2"], ["--d-steps", "1"], ["--g-loss", "non-saturating"], ["--bn-eps", "1e-05"],
    ["--device", "cpu"],
])
def test_flags_repeated_with_their_saved_or_default_values_are_accepted(out, typed):
    assert cli.main(["train", "--resume", str(out), "--steps", "3", "--no-progress"]
                    + typed) == 0


def test_a_relative_folder_dataset_typed_again_is_the_same_dataset(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    (tmp_path / "imgs").mkdir()
    for i in range(4):
        Image.new("RGB", (8, 8), (50 * i, 0, 0)).save(tmp_path / "imgs" / f"{i}.png")
    first = ["train", "--dataset", "folder:imgs", "--image-size", "8", "--batch-size", "2",
             "--steps", "1", "--no-progress", "--out", "R"]
    assert cli.main(first) == 0
    assert cli.main(with_steps(first, 2) + ["--resume", "R"]) == 0


@pytest.mark.parametrize("typed, shown", [
    (["--batch-size", "16"], "--batch-size 16 (the run has 32)"),
    (["--seed", "6"], "--seed 6 (the run has 5)"),
    (["--nz", "3"], "--nz 3 (the run has 2)"),
    (["--skip-nonfinite"], "--skip-nonfinite on (the run has False)"),
    (["--dataset", "grid25"], "--dataset grid25 (the run has ring8)"),
])
def test_a_conflicting_value_is_refused_naming_both(out, capsys, typed, shown):
    assert cli.main(["train", "--resume", str(out), "--steps", "3"] + typed) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert f"{shown} cannot be changed when resuming" in err
    assert read_checkpoint(out).step == 2  # nothing ran


def test_every_conflict_is_named_in_the_one_line(out, capsys):
    assert cli.main(["train", "--resume", str(out), "--steps", "3", "--batch-size", "16",
                     "--lr", "0.5", "--seed", "5"]) == 2
    err = capsys.readouterr().err
    assert "--batch-size 16 (the run has 32), --lr 0.5 (the run has 0.001)" in err
    assert "--seed" not in err.split("cannot")[0]


def test_the_flags_that_may_change_still_may(out):
    assert set(RESUME_OVERRIDES) >= {"steps", "epochs", "out", "sample_every",
                                     "checkpoint_every", "log_every", "eval_every", "device"}
    assert cli.main(["train", "--resume", str(out), "--steps", "3", "--sample-every", "7",
                     "--log-every", "2", "--checkpoint-every", "9", "--no-progress"]) == 0
