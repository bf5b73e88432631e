"""The best checkpoint (checkpoints/best.npz): its triggers, that it follows the best
evaluation score of the run, and that a resumed run only ever replaces it with a better one."""
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from minigan.cli import main as cli
from minigan.evaluation.sampling import generator_from_checkpoint
from minigan.store.checkpoint import read_checkpoint, save_checkpoint
from minigan.training import TrainConfig, setup, train
from minigan.training.extensions.best_snapshot import best_value_trigger
from minigan.training.extensions.evaluate import evaluate
from minigan.training.triggers import MaxValueTrigger, MinValueTrigger


# ---------------------------------------------------------------- the triggers alone
def fired(trigger, values):
    return [trigger({"score": v} if v is not None else {}, step)
            for step, v in enumerate(values, 1)]


def test_min_value_trigger_fires_on_each_new_lowest_value():
    trigger = MinValueTrigger("score")
    assert fired(trigger, [5.0, 7.0, 3.0, 3.0, None, math.nan, 4.0, 1.0]) == \
        [True, False, True, False, False, False, False, True]
    assert (trigger.best, trigger.step) == (1.0, 8)


def test_max_value_trigger_fires_on_each_new_highest_value():
    trigger = MaxValueTrigger("score")
    assert fired(trigger, [0.1, 0.05, 0.3, 0.3, 0.2]) == [True, False, True, False, False]
    assert (trigger.best, trigger.step) == (0.3, 3)  # a tie keeps the earlier step


def test_a_restored_trigger_fires_only_beyond_the_restored_best():
    trigger = MinValueTrigger("score")
    trigger.restore({"key": "score", "mode": "min", "value": 2.0, "step": 40})
    assert fired(trigger, [3.0, 2.5, 1.5]) == [False, False, True]
    other = MinValueTrigger("score")
    other.restore({"key": "score", "mode": "max", "value": 2.0, "step": 40})  # not its state
    assert other.best is None


def test_the_metric_followed_is_fd_on_images_and_the_near_mode_share_on_points():
    assert isinstance(best_value_trigger("image"), MinValueTrigger)
    assert best_value_trigger("image").key == "frechet_distance"
    assert isinstance(best_value_trigger("points"), MaxValueTrigger)
    assert best_value_trigger("points").key == "high_quality"


# ---------------------------------------------------------------- in a run
POINTS = dict(dataset="ring8", batch_size=32, eval_every=10, sample_every=1000,
              checkpoint_every=1000)


def scores_logged(out, key):
    lines = [json.loads(line) for line in open(out / "metrics.jsonl")]
    return {line["step"]: line[key] for line in lines if key in line}


def rescored(path, key):
    """The score of the generator stored at `path`, on its run's evaluation stream."""
    G, ckpt = generator_from_checkpoint(str(path), "cpu")
    config = TrainConfig.from_dict({**ckpt.config, "out": None})
    run = SimpleNamespace(sampler=G, config=config,
                          dataset=SimpleNamespace(kind=ckpt.model_spec["data_kind"]))
    return evaluate(run, 2500)[key]


@pytest.fixture(scope="module")
def points_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ring8")
    train(TrainConfig(steps=60, out=str(out), **POINTS), progress=False)
    return out


def test_best_checkpoint_holds_the_highest_near_mode_share_on_ring8(points_run):
    logged = scores_logged(points_run, "high_quality")
    assert sorted(logged) == [10, 20, 30, 40, 50, 60]
    best = read_checkpoint(points_run / "checkpoints" / "best.npz")
    top = max(logged.values())
    first_top = min(s for s, v in logged.items() if v == top)
    assert best.best == {"key": "high_quality", "mode": "max", "value": top, "step": first_top}
    assert best.step == first_top
    assert best.best["value"] >= logged[60]  # never worse than last.npz's
    assert len(set(logged.values())) > 1  # the run did move, so the choice was a real one


def test_best_checkpoint_holds_the_generator_it_was_scored_for(points_run, tmp_path):
    best = read_checkpoint(points_run / "checkpoints" / "best.npz")
    assert rescored(points_run / "checkpoints" / "best.npz", "high_quality") == \
        pytest.approx(best.best["value"], abs=1e-12)
    lines = [json.loads(line) for line in open(points_run / "metrics.jsonl")]
    assert lines[-1]["best_high_quality"] == best.best["value"]
    assert lines[-1]["best_step"] == best.best["step"]


def test_best_checkpoint_follows_the_lowest_fd_on_digits(tmp_path):
    config = dict(model="mlp", image_size=8, batch_size=8, steps=6, eval_every=2,
                  sample_every=1000, out=str(tmp_path))
    train(TrainConfig(**config), progress=False)
    logged = scores_logged(tmp_path, "frechet_distance")
    best = read_checkpoint(tmp_path / "checkpoints" / "best.npz").best
    assert best["key"] == "frechet_distance" and best["mode"] == "min"
    assert best["value"] == min(logged.values()) <= logged[6]
    assert len(set(logged.values())) == 3


def test_no_best_checkpoint_without_evaluation(tmp_path):
    train(TrainConfig(steps=3, out=str(tmp_path), **{**POINTS, "eval_every": 0}),
          progress=False)
    assert not (tmp_path / "checkpoints" / "best.npz").exists()


def test_a_resumed_run_keeps_the_best_of_the_uninterrupted_run(points_run, tmp_path):
    train(TrainConfig(steps=30, out=str(tmp_path), **POINTS), progress=False)
    train(TrainConfig(steps=60, out=str(tmp_path), **POINTS), progress=False,
          resume=str(tmp_path))
    whole = read_checkpoint(points_run / "checkpoints" / "best.npz")
    resumed = read_checkpoint(tmp_path / "checkpoints" / "best.npz")
    assert resumed.best == whole.best
    for key in whole.arrays:
        if key.startswith(("G/", "D/")):
            np.testing.assert_array_equal(resumed.arrays[key], whole.arrays[key])


def test_a_resumed_run_never_replaces_the_best_with_a_worse_one(tmp_path):
    """best.npz of the first part, marked as unbeatable, survives the resumed part."""
    train(TrainConfig(steps=20, out=str(tmp_path), **POINTS), progress=False)
    path = tmp_path / "checkpoints" / "best.npz"
    run = setup(TrainConfig(steps=20, out=str(tmp_path / "x"), **POINTS))
    kept = {"key": "high_quality", "mode": "max", "value": 1.0, "step": 20}
    save_checkpoint(str(path), run.G, run.D, run.opt_g, run.opt_d, step=20,
                    config={**run.config.to_dict(), "out": None}, model_spec=run.model_spec,
                    best=kept)
    train(TrainConfig(steps=40, out=str(tmp_path), **POINTS), progress=False,
          resume=str(tmp_path))
    assert read_checkpoint(path).best == kept
    lines = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    assert lines[-1]["best_high_quality"] == 1.0 and lines[-1]["best_step"] == 20


def test_sample_and_eval_take_the_best_checkpoint(points_run, tmp_path, capsys):
    best = str(points_run / "checkpoints" / "best.npz")
    assert cli.main(["sample", "--checkpoint", best, "--n", "4", "--out",
                     str(tmp_path / "x.npy")]) == 0
    assert np.load(tmp_path / "x.npy").shape == (4, 2)
    capsys.readouterr()
    assert cli.main(["eval", "--checkpoint", best]) == 0
    assert "high_quality" in json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_malformed_best_record_is_refused(points_run, tmp_path):
    run = setup(TrainConfig(steps=1, out=str(tmp_path / "x"), **POINTS))
    bad = {"key": "high_quality", "mode": "sideways", "value": 1.0, "step": 1}
    save_checkpoint(str(tmp_path / "b.npz"), run.G, run.D, run.opt_g, run.opt_d, step=1,
                    config=run.config.to_dict(), model_spec=run.model_spec, best=bad)
    with pytest.raises(ValueError, match="meta/best is not a best-value record"):
        read_checkpoint(tmp_path / "b.npz")


def test_evaluation_and_the_best_checkpoint_change_no_step_of_training(tmp_path):
    """A run with --eval-every trains bit for bit as the same run without it (the recipes'
    figures from runs without evaluation hold for the recipes that evaluate)."""
    config = {**POINTS, "steps": 20}
    train(TrainConfig(out=str(tmp_path / "with"), **config), progress=False)
    train(TrainConfig(out=str(tmp_path / "without"), **{**config, "eval_every": 0}),
          progress=False)
    with_eval = read_checkpoint(tmp_path / "with").arrays
    without = read_checkpoint(tmp_path / "without").arrays
    for key in with_eval:
        if key.startswith(("G/", "D/", "optG/state", "optD/state")):
            np.testing.assert_array_equal(with_eval[key], without[key], err_msg=key)
