"""benchmarks/quality.py trains minigan and its PyTorch twin on identical inputs: the inputs
are the ones minigan train draws, and in float64 the twin is the same computation."""
import dataclasses
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo root

from benchmarks import quality  # noqa: E402
from minigan.methods import build_method  # noqa: E402
from minigan.training import GANUpdater, StepSettings, TrainConfig, make_optimizers  # noqa: E402


@pytest.mark.parametrize("fields", [dict(model="cmlp", d_steps=2), dict(dataset="ring8")])
def test_step_inputs_are_what_the_updater_draws(fields):
    """The same 3 float32 steps, once by GANUpdater.update (minigan train's step) and once
    fed by step_inputs: every loss and weight bit for bit the same, so the twin sees minigan
    train's batches and noise."""
    setup = quality.prepare(TrainConfig(steps=3, **fields))
    config = setup.config
    runs = []
    for feed in ("update", "step_inputs"):
        G, D = quality.build_minigan(setup)
        opt_g, opt_d = make_optimizers(G, D, config)
        updater = GANUpdater(G, D, opt_g, opt_d, setup.real, StepSettings.of(config),
                             build_method(config, G, D))
        losses = []
        for step in range(1, 4):
            if feed == "update":
                out = updater.update(step)
                losses.append((out.loss_d.item(), out.loss_g.item()))
            else:
                inputs = quality.step_inputs(setup, G, step)
                losses.append(quality.minigan_step(updater, inputs, np.float32))
        runs.append((losses, quality.parameter_vector(G), quality.parameter_vector(D)))
    assert runs[0][0] == runs[1][0]
    assert np.array_equal(runs[0][1], runs[1][1]) and np.array_equal(runs[0][2], runs[1][2])


@pytest.mark.parametrize("fields", [dict(model="cdcgan", batch_size=8),
                                    dict(model="cmlp", d_steps=2), dict(dataset="grid25")])
def test_twin_trains_exactly_as_minigan_in_float64(torch, fields):
    check = quality.exactness(TrainConfig(**fields), steps=2)
    assert check["max_loss_diff"] < 1e-10, check
    assert check["max_param_diff"] < 1e-10, check


def test_twin_is_scored_through_a_minigan_copy_of_its_weights(torch):
    torch.set_num_threads(1)
    record = quality.compare(TrainConfig(dataset="ring8", steps=4), check_steps=0)
    assert record["twin_sample_max_diff"] < 1e-5  # the copy draws what the twin draws
    assert set(record["torch_metrics"]) >= {"modes", "high_quality", "mode_entropy"}
    assert record["parameter_distance"]["1"]["G"] < 1e-2  # float32: close after one step
    assert "PyTorch twin" in quality.table([dict(record, command="x")])
    hinge = dict(record, config=dict(record["config"], loss="hinge", spectral_norm=True))
    lines = quality.matrix([record, hinge]).splitlines()
    assert lines[0] == "| method | mlp, ring8, 4 steps |"
    assert lines[2].startswith("| GAN | modes ") and lines[3].startswith("| hinge + SN | ")


def test_named_configurations_are_valid_train_configs():
    for name, fields in quality.CONFIGS.items():
        config = dataclasses.replace(TrainConfig(**fields)).validate()
        assert config.steps == fields["steps"], name
