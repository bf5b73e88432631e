"""`minigan export` and the safetensors weights: outside minigan, the same numbers.

The safetensors file of every built-in model loads, strictly, into its PyTorch twin
(benchmarks/twins.py, built from the architecture only, with PyTorch's own random
initialisation) with load_state_dict(safetensors.torch.load_file(PATH)), and the twin
then computes minigan's outputs to 1e-5 (float32). `minigan export` is run on real
(2-step) runs: the ONNX file of the EMA generator of a conditional run samples as
minigan does, --no-ema and --net D pick the other weights, and user errors are one line.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import minigan
from minigan.cli import main as cli
from minigan.cli.export import save_safetensors
from minigan.creation import randn
from minigan.evaluation.sampling import build_models, generate, generator_from_checkpoint
from minigan.store.checkpoint import read_checkpoint
from minigan.tensor import Tensor

from conftest import require_extra, require_torch
from test_onnx_export import MODELS, NUM_CLASSES, inputs_for, minigan_output, network

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOL = 1e-5
TRAIN = ["train", "--steps", "2", "--batch-size", "4", "--log-every", "1", "--sample-every",
         "1", "--image-size", "8", "--no-progress"]  # digits at 8 x 8: small and quick


@pytest.fixture
def safetensors_torch():
    require_torch()
    return require_extra("safetensors.torch", "safetensors")


@pytest.fixture
def ort():
    require_extra("onnx", "onnx")
    return require_extra("onnxruntime", "onnx")


def twin_architecture(module):
    """The PyTorch twin of a minigan model, with PyTorch's random weights (none copied)."""
    sys.path.insert(0, REPO)  # benchmarks/ lives at the repository root
    from benchmarks.conditioning_twins import CONDITIONING_TWINS
    from benchmarks.twins import TWINS

    return {**TWINS, **CONDITIONING_TWINS}[type(module).__name__](module)


def twin_output(torch, twin, inputs):
    with torch.no_grad():
        return twin.eval()(*(torch.from_numpy(np.ascontiguousarray(a)) for a in inputs)).numpy()


def assert_close(out, expected):
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(out, expected, rtol=0, atol=TOL * scale)


@pytest.mark.parametrize("net", ["G", "D"])
@pytest.mark.parametrize("model,kind,shape,conditioning", MODELS)
def test_safetensors_of_every_built_in_model_loads_into_its_pytorch_twin(
        safetensors_torch, tmp_path, model, kind, shape, conditioning, net):
    import torch

    module = network(model, kind, shape, conditioning, net)
    path = tmp_path / "weights.safetensors"
    save_safetensors(module, path)
    twin = twin_architecture(module)
    twin.load_state_dict(safetensors_torch.load_file(str(path)))  # strict
    for seed, n in enumerate((1, 5)):
        inputs = inputs_for(module, net, n, seed)
        assert_close(twin_output(torch, twin, inputs), minigan_output(module, inputs))


@pytest.mark.parametrize("model,conditioning", [("dcgan", "concat"), ("cmlp", "projection")])
def test_safetensors_of_a_spectral_normed_discriminator_loads_into_pytorchs_spectral_norm(
        safetensors_torch, tmp_path, model, conditioning):
    """weight_orig, weight_u and weight_v, as torch.nn.utils.spectral_norm keys them."""
    import torch

    module = network(model, "image", (1, 28, 28), conditioning, "D", spectral_norm=True)
    save_safetensors(module, tmp_path / "d.safetensors")
    twin = twin_architecture(module)
    twin.load_state_dict(safetensors_torch.load_file(str(tmp_path / "d.safetensors")))
    inputs = inputs_for(module, "D", 3, seed=0)
    assert_close(twin_output(torch, twin, inputs), minigan_output(module, inputs))


def test_safetensors_holds_the_state_dict_under_pytorchs_keys(tmp_path):
    safetensors_numpy = require_extra("safetensors.numpy", "safetensors")
    module = network("cdcgan", "image", (1, 28, 28), "projection", "G")
    save_safetensors(module, tmp_path / "g.safetensors", metadata={"producer": "minigan"})
    stored = safetensors_numpy.load_file(str(tmp_path / "g.safetensors"))
    state = module.state_dict()
    assert stored.keys() == state.keys()
    for key, value in state.items():
        np.testing.assert_array_equal(stored[key], value)


# ----------------------------------------------------------------------------- the verb
@pytest.fixture(scope="module")
def ema_run(tmp_path_factory):
    """A 2-step conditional DCGAN run with an EMA generator, trained through cli.main."""
    out = tmp_path_factory.mktemp("cdcgan-ema-run")
    assert cli.main(TRAIN + ["--model", "cdcgan", "--ema", "0.5", "--out", str(out)]) == 0
    return out


def run_export(capsys, run, *args):
    status = cli.main(["export", "--checkpoint", str(run), *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def trained_networks(run):
    """(G with its trained weights, G's EMA, D) of a run."""
    ckpt = read_checkpoint(run)
    spec = dict(ckpt.model_spec, image_shape=tuple(ckpt.model_spec["image_shape"]))
    G, D = build_models(spec, "cpu", ckpt.seed)
    ckpt.load_into(G=G, D=D)
    G_ema, _ = generator_from_checkpoint(run)
    return G.eval(), G_ema, D.eval()


def noise_and_labels(n, nz, seed=0):
    z = randn(n, nz, generator=minigan.Generator("cpu", seed=seed)).numpy()
    return z, np.arange(n, dtype=np.int64) % NUM_CLASSES


def test_onnx_of_the_ema_generator_samples_as_minigan_does(ort, ema_run, tmp_path, capsys):
    path = tmp_path / "G.onnx"
    status, out, err = run_export(capsys, ema_run, "--format", "onnx", "--out", path)
    assert status == 0, err
    assert "the EMA generator (decay 0.5)" in out and "labels (batch,) int64" in out
    _, G_ema, _ = trained_networks(ema_run)
    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in s.get_inputs()] == ["z", "labels"]
    assert [o.name for o in s.get_outputs()] == ["images"]
    for n in (3, 10):
        z, labels = noise_and_labels(n, G_ema.nz, seed=n)
        images, = s.run(None, {"z": z, "labels": labels})
        assert images.shape == (n, 1, 8, 8)
        assert_close(images, generate(G_ema, Tensor(z), Tensor(labels)))


def test_no_ema_and_net_d_export_the_other_weights(ort, ema_run, tmp_path, capsys):
    G, G_ema, D = trained_networks(ema_run)
    z, labels = noise_and_labels(4, G.nz)
    assert run_export(capsys, ema_run, "--format", "onnx", "--no-ema", "--out",
                      tmp_path / "G.onnx")[0] == 0
    images, = ort.InferenceSession(str(tmp_path / "G.onnx")).run(None, {"z": z,
                                                                         "labels": labels})
    assert_close(images, generate(G, Tensor(z), Tensor(labels)))
    assert np.abs(images - generate(G_ema, Tensor(z), Tensor(labels))).max() > 1e-3

    status, out, _ = run_export(capsys, ema_run, "--format", "onnx", "--net", "D", "--out",
                                tmp_path / "D.onnx")
    assert status == 0 and "the discriminator" in out and "output logits (batch,)" in out
    x = np.random.default_rng(0).uniform(-1, 1, (4, 1, 8, 8)).astype(np.float32)
    logits, = ort.InferenceSession(str(tmp_path / "D.onnx")).run(None, {"x": x,
                                                                         "labels": labels})
    assert_close(logits, minigan_output(D, (x, labels)))


def test_safetensors_of_a_run_loads_into_pytorch(safetensors_torch, ema_run, tmp_path, capsys):
    import torch

    G, G_ema, D = trained_networks(ema_run)
    for args, module, inputs in (
            ([], G_ema, noise_and_labels(5, G.nz)),
            (["--no-ema"], G, noise_and_labels(5, G.nz)),
            (["--net", "D"], D, (np.zeros((5, 1, 8, 8), np.float32), np.arange(5)))):
        path = tmp_path / "weights.safetensors"
        status, out, err = run_export(capsys, ema_run, "--format", "safetensors", "--out",
                                      path, *args)
        assert status == 0, err
        assert "PyTorch's keys" in out
        twin = twin_architecture(module)
        twin.load_state_dict(safetensors_torch.load_file(str(path)))
        assert_close(twin_output(torch, twin, inputs), minigan_output(module, inputs))


def test_export_through_python_dash_m(ema_run, tmp_path):
    require_extra("safetensors", "safetensors")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "sub" / "G.safetensors"  # a missing folder is made
    result = subprocess.run([sys.executable, "-m", "minigan", "export", "--checkpoint",
                             str(ema_run), "--format", "safetensors", "--out", str(out)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and out.exists()


def assert_one_line_error(err, *words):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minigan: error: "), err
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize("args,status,words", [
    (["--format", "tflite", "--out", "G.x"], 2, ["invalid choice: 'tflite'"]),
    (["--format", "onnx", "--net", "E", "--out", "G.x"], 2, ["--net", "invalid choice"]),
    (["--format", "onnx"], 2, ["--out"]),
    (["--format", "onnx", "--out", "."], 1, ["is a folder"]),
])
def test_user_errors_are_one_line(ema_run, capsys, args, status, words):
    got, _, err = run_export(capsys, ema_run, *args)
    assert got == status
    assert_one_line_error(err, *words)


def test_a_missing_checkpoint_is_one_line(tmp_path, capsys):
    got, _, err = run_export(capsys, tmp_path / "nothing", "--format", "onnx", "--out",
                             tmp_path / "G.onnx")
    assert got == 1
    assert_one_line_error(err, "checkpoint not found")


@pytest.mark.parametrize("fmt,module,extra", [("onnx", "onnx", "minigan[onnx]"),
                                              ("safetensors", "safetensors.numpy",
                                               "minigan[safetensors]")])
def test_a_missing_extra_is_one_line_naming_it(ema_run, tmp_path, capsys, monkeypatch, fmt,
                                               module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # its import now fails
    got, _, err = run_export(capsys, ema_run, "--format", fmt, "--out", tmp_path / "G.x")
    assert got == 1
    assert_one_line_error(err, extra)
    assert not (tmp_path / "G.x").exists()
