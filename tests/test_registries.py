"""One registry per vocabulary (models, losses, penalties, conditionings, datasets): an entry
added in one place reaches the command line, the checks, the run and the checkpoint."""
import numpy as np
import pytest

from minigan import nn
from minigan.cli import main as cli
from minigan.data import datasets as data
from minigan.methods import CONDITIONINGS, LOSSES, PENALTIES, losses
from minigan.models import MODELS, ModelEntry, build_gan
from minigan.nn import functional as F
from minigan.store.checkpoint import read_checkpoint
from minigan.training import TrainConfig


class TinyGenerator(nn.Module):
    """A one-layer generator: z -> tanh(W z + b), reshaped to the images."""

    def __init__(self, image_shape, nz):
        super().__init__()
        self.nz, self.num_classes, self.conditional = nz, 0, False
        self.output_shape = tuple(image_shape)
        self.fc = nn.Linear(nz, int(np.prod(image_shape)))

    def forward(self, z, labels=None):
        return F.tanh(self.fc(z)).reshape(len(z), *self.output_shape)


class TinyDiscriminator(nn.Module):
    def __init__(self, image_shape):
        super().__init__()
        self.num_classes, self.conditional, self.input_shape = 0, False, tuple(image_shape)
        self.fc = nn.Linear(int(np.prod(image_shape)), 1)

    def forward(self, x, labels=None):
        return self.fc(x.reshape(len(x), -1)).reshape(-1)


def build_tiny(data_kind, image_shape, nz, num_classes, bn_eps, d_batch_norm):
    return TinyGenerator(image_shape, nz), TinyDiscriminator(image_shape)


@pytest.fixture
def tiny_model(monkeypatch):
    """The README's example: a new model is one entry in models/registry.py."""
    monkeypatch.setitem(MODELS, "tiny", ModelEntry("tiny", "a one-layer GAN", build_tiny))


def test_a_registered_model_trains_samples_and_resumes_from_the_command_line(
        tiny_model, tmp_path, capsys):
    out = str(tmp_path / "run")
    args = ["train", "--model", "tiny", "--steps", "2", "--batch-size", "16", "--nz", "8",
            "--no-progress", "--out", out]
    assert cli.main(args) == 0
    ckpt = read_checkpoint(out)
    assert ckpt.model_spec["model"] == "tiny" and ckpt.step == 2
    assert cli.main(["sample", "--checkpoint", out, "--n", "4",
                     "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (4, 1, 28, 28)
    assert cli.main(["train", "--resume", out, "--steps", "3", "--no-progress"]) == 0
    assert read_checkpoint(out).step == 3
    cli.main(["train", "--help"])
    assert "tiny (a one-layer GAN)" in capsys.readouterr().out


def test_a_registered_model_is_checked_by_its_entry(tiny_model):
    with pytest.raises(ValueError, match="model tiny works on images"):
        TrainConfig(model="tiny", dataset="ring8").validate()
    with pytest.raises(ValueError, match="works on images only"):
        build_gan("tiny", "points")
    assert cli.main(["train", "--model", "tiny", "--dataset", "ring8"]) == cli.EXIT_USAGE


def test_an_unregistered_model_is_refused_everywhere(tmp_path):
    with pytest.raises(ValueError, match="unknown model 'tiny': choose one of mlp"):
        TrainConfig(model="tiny").validate()
    assert cli.main(["train", "--model", "tiny", "--out", str(tmp_path)]) == cli.EXIT_USAGE


def test_a_registered_loss_is_a_choice_and_trains(monkeypatch, tmp_path):
    class OneSidedHinge:
        paper = "a one-sided hinge, for this test"

        def d_loss(self, real, fake):
            return F.relu(1.0 - real).mean() + F.relu(fake).mean()

        def g_loss(self, fake):
            return -fake.mean()

    monkeypatch.setitem(LOSSES, "one-sided", OneSidedHinge)
    out = str(tmp_path / "run")
    assert cli.main(["train", "--dataset", "ring8", "--loss", "one-sided", "--steps", "2",
                     "--no-progress", "--out", out]) == 0
    assert isinstance(losses.make_loss("one-sided"), OneSidedHinge)
    assert read_checkpoint(out).config["loss"] == "one-sided"


def test_each_vocabulary_is_one_mapping():
    assert list(MODELS) == ["mlp", "dcgan", "cmlp", "cdcgan"]
    assert [name for name, entry in MODELS.items() if entry.conditional] == ["cmlp", "cdcgan"]
    assert list(LOSSES) == ["gan", "lsgan", "hinge", "wgan"]
    assert list(PENALTIES) == ["gp", "r1"]
    assert list(CONDITIONINGS) == ["concat", "acgan", "projection"]
    assert list(data.DATASETS) == ["mnist-sample", "mnist", "fashion-mnist", "folder:PATH",
                                   "ring8", "grid25"]
    assert [n for n, e in data.DATASETS.items() if e.kind == "points"] == ["ring8", "grid25"]
    assert [n for n, e in data.DATASETS.items() if not e.labelled] == ["folder:PATH"]


def test_the_dataset_registry_decides_the_defaults_and_the_checks():
    assert TrainConfig(dataset="grid25").batch_size == 256
    with pytest.raises(ValueError, match="has no labels"):
        TrainConfig(model="cmlp", dataset="folder:/nowhere").validate()
    with pytest.raises(data.DatasetError, match="unknown dataset 'nope'"):
        data.load_dataset("nope")
