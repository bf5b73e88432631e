"""The updater (training/updater.py) alone: one step's draws and its hooks."""
import numpy as np
import pytest

from minigan.training import GANUpdater, StepSettings, TrainConfig, setup


def updater_for(run):
    return GANUpdater(run.G, run.D, run.opt_g, run.opt_d, run.real, StepSettings.of(run.config),
                      run.method)


def test_before_step_hooks_run_between_backward_and_the_optimizer_step(tmp_path):
    run = setup(TrainConfig(dataset="ring8", steps=1, d_steps=2, out=str(tmp_path)))
    updater = updater_for(run)
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
    updater = updater_for(run)
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
        updater = updater_for(run)
        draws.append(updater.draw(5))
    plain, gp = draws
    assert all(b.eps is None for b in plain.d_batches)
    for p, g in zip(plain.d_batches, gp.d_batches):
        assert np.array_equal(p.z.numpy(), g.z.numpy()) and np.array_equal(p.x.numpy(),
                                                                           g.x.numpy())
    assert np.array_equal(plain.z.numpy(), gp.z.numpy())


def test_the_updater_reads_only_its_five_settings(tmp_path):
    """StepSettings is what a step reads of the run's config; the rest never reaches it."""
    run = setup(TrainConfig(dataset="ring8", steps=1, d_steps=2, seed=3, out=str(tmp_path)))
    settings = StepSettings.of(run.config)
    assert settings == StepSettings(seed=3, device="cpu", batch_size=256, d_steps=2,
                                    skip_nonfinite=False)
    updater = updater_for(run)
    assert updater.settings is not run.config and not hasattr(updater, "config")
    with pytest.raises(AttributeError):
        settings.seed = 4  # frozen: a run's step settings never change under it
