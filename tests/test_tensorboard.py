"""minigan train --tensorboard: the event files hold the logged scalars, the evaluation
scores and the sample grids at the run's steps, and a resumed run continues the same
curves. Read back with TensorBoard's own EventAccumulator; without minigan[tensorboard]
these tests skip (CI, with MINIGAN_REQUIRE_EXTRAS=1, fails instead)."""
import json
import os
import shutil
import sys

import numpy as np
from PIL import Image

from conftest import require_extra
from minigan.cli import main as cli
from minigan.training import TrainConfig, config_for_resume, train


def ring8(out, **changes):
    """A few steps of the 2-D GAN (fast), logging every 2 steps, a grid every 3."""
    settings = dict(dataset="ring8", steps=6, batch_size=16, log_every=2, sample_every=3,
                    checkpoint_every=100, out=str(out), tensorboard=True)
    settings.update(changes)
    return TrainConfig(**settings)


def events(out):
    """TensorBoard's view of DIR/tensorboard: an EventAccumulator, loaded."""
    accumulator = require_extra("tensorboard.backend.event_processing.event_accumulator",
                                "tensorboard")
    acc = accumulator.EventAccumulator(os.path.join(out, "tensorboard"),
                                       size_guidance={"scalars": 0, "images": 0})
    return acc.Reload()


def scalar(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def metrics(out):
    with open(os.path.join(out, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_event_files_hold_the_logged_scalars_the_scores_and_the_sample_grids(tmp_path):
    require_extra("tensorboardX", "tensorboard")
    out = tmp_path / "run"
    train(ring8(out, eval_every=3), progress=False)
    acc = events(out)
    tags = acc.Tags()
    assert {"loss_d", "loss_g", "d_real", "d_fake"} <= set(tags["scalars"])
    lines = metrics(out)  # logged at 2, 3 (with the scores), 4 and 6
    assert [line["step"] for line in lines] == [2, 3, 4, 6]
    for key in ("loss_d", "loss_g", "d_real", "d_fake"):  # d_real = D(x), d_fake = D(G(z))
        steps, values = zip(*scalar(acc, key))
        assert list(steps) == [2, 3, 4, 6]
        np.testing.assert_allclose(values, [line[key] for line in lines], rtol=1e-6)
    scores = [k for k in lines[1] if k not in ("step", "loss_d", "loss_g", "d_real", "d_fake",
                                               "time")]
    assert "modes" in scores
    for key in scores:
        assert [s for s, _ in scalar(acc, f"eval/{key}")] == [3, 6]
    grids = acc.Images("samples")
    assert [g.step for g in grids] == [3, 6]
    with Image.open(os.path.join(out, "samples", "step_000006.png")) as png:
        assert (grids[-1].width, grids[-1].height) == png.size


def test_a_resumed_run_continues_the_same_curves(tmp_path):
    require_extra("tensorboardX", "tensorboard")
    out = tmp_path / "run"
    train(ring8(out, steps=4), progress=False)
    config, checkpoint = config_for_resume(str(out), steps=8)
    train(config, progress=False, resume=checkpoint)
    acc = events(out)
    assert [s for s, _ in scalar(acc, "loss_d")] == [2, 4, 6, 8]
    assert [g.step for g in acc.Images("samples")] == [3, 4, 6, 8]
    np.testing.assert_allclose([v for _, v in scalar(acc, "loss_g")],
                               [line["loss_g"] for line in metrics(out)], rtol=1e-6)


def test_steps_a_crashed_run_logged_after_its_checkpoint_are_shown_once(tmp_path):
    """Resuming from an older checkpoint redoes steps whose events the first attempt wrote:
    TensorBoard keeps only the new ones (the writer's purge at the resumed step)."""
    require_extra("tensorboardX", "tensorboard")
    out = tmp_path / "run"
    train(ring8(out, steps=4), progress=False)
    saved = tmp_path / "step4.npz"
    shutil.copy(out / "checkpoints" / "last.npz", saved)
    config, checkpoint = config_for_resume(str(out), steps=8)
    train(config, progress=False, resume=checkpoint)  # events at 6 and 8: then "a crash"
    shutil.copy(saved, out / "checkpoints" / "last.npz")
    config, checkpoint = config_for_resume(str(out), steps=8)
    train(config, progress=False, resume=checkpoint)  # steps 5-8 again
    acc = events(out)
    assert [s for s, _ in scalar(acc, "loss_d")] == [2, 4, 6, 8]
    assert [g.step for g in acc.Images("samples")] == [3, 4, 6, 8]


def test_without_the_extra_the_flag_fails_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import tensorboardX fails
    status = cli.main(["train", "--dataset", "ring8", "--steps", "2", "--tensorboard",
                       "--out", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("minigan: error: --tensorboard needs minigan[tensorboard]")
    assert not (tmp_path / "run").exists()  # refused before any work
