"""The training loop's parts, each alone: the periodic actions' schedules, an extra action
plugged into the Trainer (as a TensorBoard writer would be), and the updater's hooks."""
import numpy as np

from minigan.training.extensions import Evaluate, LogMetrics, PeriodicAction
from minigan.training.train import GANUpdater, TrainConfig, Trainer, periodic_actions, setup


def test_an_action_is_due_on_its_period_and_at_the_last_step():
    every3 = PeriodicAction(3)
    assert [s for s in range(1, 11) if every3.due(s, s == 10)] == [3, 6, 9, 10]
    assert not any(PeriodicAction(0).due(s, s == 5) for s in range(1, 6))  # 0: never


def test_the_log_is_also_written_when_evaluation_reports():
    evaluate = Evaluate(4)
    log = LogMetrics(5, also=[evaluate])
    assert [s for s in range(1, 13) if log.due(s, s == 12)] == [4, 5, 8, 10, 12]


class Recorder(PeriodicAction):
    """A stand-in for a TensorBoard writer: reads the line LogMetrics left."""

    def __init__(self, every):
        super().__init__(every)
        self.lines = []

    def __call__(self, trainer, step):
        self.lines.append(dict(trainer.observation["line"]))


def test_an_extra_action_sees_each_logged_line(tmp_path):
    run = setup(TrainConfig(dataset="ring8", steps=4, log_every=2, sample_every=10,
                            out=str(tmp_path)))
    updater = GANUpdater(run.G, run.D, run.opt_g, run.opt_d, run.real, run.config, run.method)
    recorder = Recorder(2)
    Trainer(run, updater, periodic_actions(run.config) + [recorder], progress=False).train()
    assert [line["step"] for line in recorder.lines] == [2, 4]
    assert {"loss_d", "loss_g", "d_real", "d_fake"} <= set(recorder.lines[0])


def test_before_step_hooks_run_between_backward_and_the_optimizer_step(tmp_path):
    run = setup(TrainConfig(dataset="ring8", steps=1, d_steps=2, out=str(tmp_path)))
    updater = GANUpdater(run.G, run.D, run.opt_g, run.opt_d, run.real, run.config, run.method)
    seen = []

    def hook(module):  # as a data-parallel all-reduce would: gradients exist, weights not moved
        first = next(module.parameters())
        seen.append((module is run.D, first.grad is not None,
                     np.array_equal(first.numpy(), before[id(module)])))

    before = {id(m): next(m.parameters()).numpy().copy() for m in (run.G, run.D)}
    updater.before_step.append(hook)
    updater.update(1)
    assert seen[0] == (True, True, True)  # D's first step
    assert seen[-1] == (False, True, True)  # G's step
    assert len(seen) == 3  # two D steps, one G step


def test_draw_is_the_whole_randomness_of_a_step(tmp_path):
    """Two updaters fed the same drawn inputs make the same step (nothing else is random)."""
    config = TrainConfig(dataset="ring8", steps=1, loss="wgan", gp=0.1, d_steps=2,
                         out=str(tmp_path))
    run = setup(config)
    updater = GANUpdater(run.G, run.D, run.opt_g, run.opt_d, run.real, run.config, run.method)
    a, b = updater.draw(3), updater.draw(3)
    for batch_a, batch_b in zip(a.d_batches, b.d_batches):
        for name in ("x", "z", "eps"):
            assert np.array_equal(getattr(batch_a, name).numpy(), getattr(batch_b, name).numpy())
    assert a.d_batches[0].eps.shape == (run.config.batch_size,)
    assert np.array_equal(a.z.numpy(), b.z.numpy())


def test_wgan_gp_draws_its_interpolation_weights_after_the_original_stream(tmp_path):
    """--gp adds eps draws after every other draw: z and labels stay the original GAN's."""
    draws = []
    for fields in (dict(), dict(loss="wgan", gp=0.1)):
        run = setup(TrainConfig(dataset="ring8", steps=1, d_steps=2, out=str(tmp_path),
                                **fields))
        updater = GANUpdater(run.G, run.D, run.opt_g, run.opt_d, run.real, run.config,
                             run.method)
        draws.append(updater.draw(5))
    plain, gp = draws
    assert all(b.eps is None for b in plain.d_batches)
    for p, g in zip(plain.d_batches, gp.d_batches):
        assert np.array_equal(p.z.numpy(), g.z.numpy()) and np.array_equal(p.x.numpy(),
                                                                           g.x.numpy())
    assert np.array_equal(plain.z.numpy(), gp.z.numpy())
