"""The trainer's parts, each alone (training/): triggers, priorities, the reporter, the
extensions, and the writer that writes nothing on a data-parallel run's other ranks."""
import os

import numpy as np

from minigan.training import GANUpdater, StepSettings, TrainConfig, Trainer, setup
from minigan.training import standard_extensions
from minigan.training.extensions import (PRIORITY_EDITOR, PRIORITY_READER, PRIORITY_WRITER,
                                         Evaluate, Extension, LogMetrics, ProgressBar,
                                         SampleGrid, Snapshot)
from minigan.training.triggers import AnyOf, IntervalTrigger
from minigan.training.writer import MutedWriter, RunWriter


def due_steps(trigger, last):
    return [s for s in range(1, last + 1) if trigger(s, s == last)]


def test_an_interval_trigger_is_due_on_its_period_and_at_the_last_step():
    assert due_steps(IntervalTrigger(3), 10) == [3, 6, 9, 10]
    assert due_steps(IntervalTrigger(0), 5) == []  # 0: never
    assert due_steps(AnyOf(IntervalTrigger(4), IntervalTrigger(6)), 13) == [4, 6, 8, 12, 13]


def test_the_log_is_also_written_when_evaluation_reports():
    evaluate = Evaluate(4)
    log = LogMetrics(5, also=[evaluate])
    assert due_steps(log.trigger, 12) == [4, 5, 8, 10, 12]
    evaluate.trigger.every = 0  # Evaluate turns itself off after a failure: the log follows
    assert due_steps(log.trigger, 12) == [5, 10, 12]


class Recorder(Extension):
    """An extra extension, as a user would write one: reads what the others reported."""

    def __init__(self, every, priority=PRIORITY_READER, name="recorder", order=None):
        self.trigger = IntervalTrigger(every)
        self.priority, self.name = priority, name
        self.lines, self.order = [], order

    def __call__(self, trainer):
        if self.order is not None:
            self.order.append(self.name)
        self.lines.append(dict(trainer.reporter.observation.get("line", {})))


def make_trainer(tmp_path, extensions=None, writer=None, **fields):
    config = TrainConfig(**{"dataset": "ring8", "steps": 4, "log_every": 2, "sample_every": 10,
                            "out": str(tmp_path / "run"), **fields})
    run = setup(config)
    if writer is not None:
        run.writer = writer(run.paths)
    updater = GANUpdater(run.G, run.D, run.opt_g, run.opt_d, run.real,
                         StepSettings.of(run.config), run.method)
    return run, Trainer(run, updater, standard_extensions(run.config) + (extensions or []))


def test_an_extra_extension_sees_each_logged_line_through_the_reporter(tmp_path):
    recorder = Recorder(2)
    make_trainer(tmp_path, [recorder])[1].train()
    assert [line["step"] for line in recorder.lines] == [2, 4]
    assert {"loss_d", "loss_g", "d_real", "d_fake"} <= set(recorder.lines[0])


def test_observations_last_one_step(tmp_path):
    recorder = Recorder(1)
    make_trainer(tmp_path, [recorder])[1].train()
    assert [line.get("step") for line in recorder.lines] == [None, 2, None, 4]


def test_higher_priorities_run_first_and_equals_in_the_order_added(tmp_path):
    order = []
    late = Recorder(1, PRIORITY_READER, "reader-added-first", order)
    early = Recorder(1, PRIORITY_WRITER, "writer", order)
    middle = Recorder(1, PRIORITY_EDITOR, "editor", order)
    last = Recorder(1, PRIORITY_READER, "reader-added-last", order)
    _, trainer = make_trainer(tmp_path, [late, early, middle, last], steps=1)
    trainer.train()
    assert order == ["writer", "editor", "reader-added-first", "reader-added-last"]
    kinds = [type(e) for e in trainer.extensions]
    assert kinds.index(Evaluate) < kinds.index(LogMetrics) < kinds.index(Snapshot)


def test_the_standard_extensions_follow_the_config():
    kinds = [type(e).__name__ for e in standard_extensions(TrainConfig(tensorboard=True))]
    assert kinds == ["Evaluate", "BestSnapshot", "LogMetrics", "SampleGrid", "TensorBoard",
                     "Snapshot"]
    assert "TensorBoard" not in [type(e).__name__ for e in standard_extensions(TrainConfig())]


def test_a_muted_writer_writes_nothing_and_draws_nothing(tmp_path):
    """What the other ranks of a data-parallel run do: the same extensions, no files."""
    recorder = Recorder(2)
    run, trainer = make_trainer(tmp_path, [recorder], writer=MutedWriter, sample_every=2)
    os.makedirs(run.paths.out, exist_ok=True)
    before = sorted(os.listdir(run.paths.out))
    summary = trainer.train()
    assert summary["step"] == 4 and [line["step"] for line in recorder.lines] == [2, 4]
    assert sorted(os.listdir(run.paths.out)) == before  # no line, grid or checkpoint added
    assert not os.path.exists(run.paths.checkpoint)
    drawn = []
    assert MutedWriter(run.paths).sample_grid(2, lambda: drawn.append(1), "points", "ring8",
                                              8) is None
    assert drawn == []


def test_the_run_writer_writes_the_line_the_grid_and_the_checkpoint(tmp_path):
    run, trainer = make_trainer(tmp_path, sample_every=2)
    assert isinstance(run.writer, RunWriter) and not isinstance(run.writer, MutedWriter)
    trainer.train()
    assert [int(line.split('"step": ')[1].split(",")[0])
            for line in open(run.paths.metrics)] == [2, 4]
    assert os.path.exists(run.paths.sample(2)) and os.path.exists(run.paths.sample(4))
    assert os.path.exists(run.paths.checkpoint)


def test_sample_grid_reports_the_picture_it_wrote(tmp_path):
    seen = []

    class Reader(Extension):
        trigger = IntervalTrigger(2)

        def __call__(self, trainer):
            seen.append(trainer.reporter.observation.get("sample_grid"))

    run, trainer = make_trainer(tmp_path, [Reader()], sample_every=2)
    trainer.train()
    assert seen == [run.paths.sample(2), run.paths.sample(4)]


def test_the_progress_bar_is_an_extension_that_reads_no_device_state(tmp_path, capsys):
    bar = ProgressBar()
    assert not bar.reads_state and bar.trigger(7, False)  # every step, no GPU sync
    run, trainer = make_trainer(tmp_path, [bar])
    trainer.train()
    assert bar.bar.n == 4 and "D=" in str(bar.bar)
    assert capsys.readouterr().out.startswith("minigan train: mlp on ring8")


def test_evaluate_reports_scores_into_the_log_line(tmp_path):
    recorder = Recorder(2)
    make_trainer(tmp_path, [recorder], eval_every=2)[1].train()
    assert all(0 <= line["high_quality"] <= 1 for line in recorder.lines)


def test_snapshot_is_due_on_its_period_and_at_the_end():
    assert due_steps(Snapshot(3).trigger, 7) == [3, 6, 7]
    assert due_steps(SampleGrid(0).trigger, 7) == []
    assert np.isfinite(PRIORITY_WRITER) and PRIORITY_WRITER > PRIORITY_EDITOR > PRIORITY_READER
