"""TrainConfig (training/config.py) and the flags made from it (cli/flags.py): every setting
has a flag with help, none can drift, and a run's settings are frozen once resolved."""
import dataclasses
import os
import subprocess
import sys

import pytest

import minigan
from minigan.cli import main as cli
from minigan.cli.flags import flag
from minigan.store.checkpoint import read_checkpoint
from minigan.training import RESUME_OVERRIDES, TrainConfig, make_optimizers, setup

FIELDS = dataclasses.fields(TrainConfig)


def train_parser():
    parser = cli.build_parser()
    verbs = next(a for a in parser._actions if a.dest == "command")
    return verbs.choices["train"]


def test_every_setting_has_a_flag_with_help():
    options = {a.dest: a for a in train_parser()._actions}
    for field in FIELDS:
        assert field.name in options, field.name
        action = options[field.name]
        # a switch that --resume may change also has its --no- form (--no-tensorboard)
        negation = [f"--no-{flag(field.name)[2:]}"] if field.type in (bool, "bool") and \
            field.metadata.get("resume") else []
        assert action.option_strings == [flag(field.name)] + negation, field.name
        assert action.help and action.default is None, field.name  # None: "not given"


def test_the_flags_are_the_fields_and_the_run_options_only():
    dests = {a.dest for a in train_parser()._actions} - {"help"}
    assert dests == {f.name for f in FIELDS} | {"resume", "threads", "no_progress"}


def test_the_readme_best_digits_command_parses_into_the_config():
    args = cli.build_parser().parse_args(
        "train --loss wgan --gp 10 --d-steps 5 --beta1 0.5 --beta2 0.9 --lr 2e-4".split())
    config = TrainConfig(**cli.given_settings(args, TrainConfig))
    assert (config.loss, config.gp, config.d_steps, config.beta1, config.beta2, config.lr) == \
        ("wgan", 10.0, 5, 0.5, 0.9, 2e-4)


def test_beta2_reaches_both_optimizers_and_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", "--dataset", "ring8", "--steps", "1", "--beta2", "0.9",
                     "--no-progress", "--out", str(out)]) == 0
    ckpt = read_checkpoint(str(out))
    assert ckpt.config["beta2"] == 0.9
    run = setup(TrainConfig(dataset="ring8", steps=1, beta2=0.9, out=str(tmp_path / "b")))
    opt_g, opt_d = make_optimizers(run.G, run.D, run.config)
    assert opt_g.param_groups[0]["betas"] == opt_d.param_groups[0]["betas"] == (0.5, 0.9)


def test_a_config_is_frozen():
    config = TrainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.steps = 10
    assert dataclasses.replace(config, steps=10).steps == 10 and config.steps is None


def test_validate_returns_the_checked_config_and_leaves_the_given_one():
    config = TrainConfig(device=None)  # a device as backend.check_device accepts it
    checked = config.validate()
    assert checked.device == "cpu" and config.device is None


def test_setup_resolves_the_config_once(tmp_path):
    run = setup(TrainConfig(dataset="ring8", epochs=1, out=None))
    try:
        assert run.config.steps == 50000 // 256 and run.config.epochs is None
        assert run.config.out == os.path.join("runs", "mlp-ring8")
    finally:
        run.paths.release()
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.config.steps = 1


def test_resume_overrides_come_from_the_fields():
    assert set(RESUME_OVERRIDES) == {"steps", "epochs", "out", "sample_every",
                                     "checkpoint_every", "log_every", "eval_every", "device",
                                     "tensorboard"}


def test_help_lists_each_registry_entry():
    text = train_parser().format_help()
    for name in ("mlp", "dcgan", "cmlp", "cdcgan", "lsgan", "hinge", "wgan", "acgan",
                 "projection", "ring8", "--beta2", "--d-steps"):
        assert name in text, name


def test_version_is_printed_by_the_command_line(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"minigan {minigan.__version__}"
    done = subprocess.run([sys.executable, "-m", "minigan", "--version"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"minigan {minigan.__version__}"


def test_the_license_and_the_digits_attribution_ship_with_the_package():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert open(os.path.join(root, "LICENSE")).read().startswith("MIT License")
    pyproject = open(os.path.join(root, "pyproject.toml")).read()
    assert 'license-files = ["LICENSE", "minigan/assets/README.md"]' in pyproject
    assert '"minigan.assets" = ["*.npz", "*.md"]' in pyproject  # beside the digits
    attribution = open(os.path.join(root, "minigan", "assets", "README.md")).read()
    assert "Creative Commons" in attribution and "Share Alike 3.0" in attribution


@pytest.mark.parametrize("changes,message", [
    (dict(batch_size=0), "batch-size must be an integer >= 1"),
    (dict(steps=0), "steps must be an integer >= 1"),
    (dict(lr=float("nan")), "lr must be a finite number > 0"),
    (dict(lr=-1.0), "lr must be a finite number > 0"),
    (dict(lr=float("inf")), "lr must be a finite number > 0"),
    (dict(beta1=1.0), "beta1 must be a finite number >= 0 and < 1"),
    (dict(d_steps=0), "d-steps must be an integer >= 1"),
    (dict(model="vae"), "unknown model 'vae'"),
    (dict(dataset="cifar"), "unknown dataset 'cifar'"),
    (dict(g_loss="wasserstein"), "unknown g_loss"),
    (dict(model="dcgan", image_size=20), "image size 20x20 is not supported"),
    (dict(model="dcgan", dataset="ring8"), "for the 2-D dataset ring8 use --model mlp"),
    (dict(model="cmlp", dataset="folder:x"), "conditional, but folder:x has no labels"),
    (dict(dataset="ring8", image_size=28), "2-D points"),
    (dict(channels=2), "channels must be 1"),
    (dict(steps=3, epochs=1), "not both"),
    (dict(seed=-1), "seed must be an integer >= 0"),
])
def test_bad_settings_are_clear_value_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes).validate()


@pytest.mark.skipif(minigan.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_device_error():
    with pytest.raises(minigan.DeviceError):
        TrainConfig(device="cuda").validate()


def test_batch_size_and_lr_defaults_depend_on_the_data_kind():
    """2-D points get the settings tuned on ring8; images keep DCGAN's; given values stay."""
    assert (TrainConfig().batch_size, TrainConfig().lr) == (64, 2e-4)
    for name in ("ring8", "grid25"):
        config = TrainConfig(dataset=name)
        assert (config.batch_size, config.lr) == (256, 1e-3)
    config = TrainConfig(dataset="ring8", batch_size=32, lr=5e-4)
    assert (config.batch_size, config.lr) == (32, 5e-4)
    saved = TrainConfig.from_dict(TrainConfig(dataset="ring8").to_dict())
    assert (saved.batch_size, saved.lr) == (256, 1e-3)
