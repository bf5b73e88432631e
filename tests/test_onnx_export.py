"""minigan.onnx.export against ONNX Runtime: every built-in model, a user's Module, errors.

Each model is exported from a batch of 2, checked by onnx.checker, and run by ONNX
Runtime at batch sizes 1 and 5 (neither the traced 2 nor the 3 of the second trace): the
outputs equal minigan's to 1e-5 (float32, relative to the output's scale). BatchNorm's
running statistics and affine weights are first moved away from their initial 0 and 1,
so that an exporter that mixed up mean and variance, or scale and shift, would fail.
The op table (translate.OPS) is checked against the op classes of minigan/ops, so a
renamed or new op shows up here.
"""
import inspect
import sys

import numpy as np
import pytest

import minigan
from minigan import nn, ops
from minigan.autograd import Function
from minigan.models import build_gan
from minigan.nn import functional as F
from minigan.onnx import ExportError
from minigan.onnx.translate import OPS
from minigan.tensor import Tensor

from conftest import require_extra

BATCHES = (1, 5)
TOL = 1e-5

# (model, data kind, image shape, conditioning) for every built-in model
MODELS = [
    ("mlp", "image", (1, 28, 28), "concat"),
    ("dcgan", "image", (1, 28, 28), "concat"),
    ("dcgan", "image", (3, 64, 64), "concat"),
    ("cmlp", "image", (1, 28, 28), "concat"),
    ("cmlp", "image", (1, 28, 28), "acgan"),
    ("cmlp", "image", (1, 28, 28), "projection"),
    ("cdcgan", "image", (1, 28, 28), "concat"),
    ("cdcgan", "image", (1, 28, 28), "acgan"),
    ("cdcgan", "image", (1, 28, 28), "projection"),
    ("mlp", "points", None, "concat"),  # the toy 2-D MLPs
]
NUM_CLASSES = 10


@pytest.fixture
def onnx():
    return require_extra("onnx", "onnx")


@pytest.fixture
def ort():
    return require_extra("onnxruntime", "onnx")


def moved_off_defaults(module, seed=0):
    """module with every all-ones or all-zeros entry of its state_dict (BatchNorm's
    statistics and affine weights, conditional BatchNorm's gamma and beta) redrawn."""
    rng = np.random.default_rng(seed)
    state = {}
    for key, value in module.state_dict().items():
        if value.dtype.kind == "f" and value.size and np.all(value == 1):
            value = rng.uniform(0.5, 1.5, value.shape)
        elif value.dtype.kind == "f" and value.size and np.all(value == 0):
            value = rng.normal(0, 0.3, value.shape)
        state[key] = value.astype(np.float32)
    module.load_state_dict(state)
    return module


def network(model, kind, shape, conditioning, net, spectral_norm=False):
    minigan.manual_seed(0)
    G, D = build_gan(model, kind, image_shape=shape, num_classes=NUM_CLASSES,
                     conditioning=conditioning, spectral_norm=spectral_norm)
    return moved_off_defaults(G if net == "G" else D)


def inputs_for(module, net, n, seed):
    """(x or z, [labels]) for a batch of n."""
    rng = np.random.default_rng(seed)
    shape = (module.nz,) if net == "G" else module.input_shape
    x = rng.standard_normal((n, *shape)).astype(np.float32)
    if not module.conditional:
        return (x,)
    return x, rng.integers(0, NUM_CLASSES, n).astype(np.int64)


def minigan_output(module, inputs):
    with minigan.no_grad():
        return module.eval()(*(Tensor(a) for a in inputs)).numpy()


def session(ort, path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def assert_runtime_matches(ort, module, path, net, batches=BATCHES):
    """ONNX Runtime's outputs equal minigan's at each batch size, to TOL relative to scale."""
    s = session(ort, path)
    names = [i.name for i in s.get_inputs()]
    for seed, n in enumerate(batches):
        inputs = inputs_for(module, net, n, seed)
        expected = minigan_output(module, inputs)
        out, = s.run(None, dict(zip(names, inputs)))
        assert out.shape == expected.shape
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(out, expected, rtol=0, atol=TOL * scale)


@pytest.mark.parametrize("net", ["G", "D"])
@pytest.mark.parametrize("model,kind,shape,conditioning", MODELS)
def test_every_built_in_model_runs_in_onnx_runtime_as_in_minigan(onnx, ort, tmp_path, model,
                                                                 kind, shape, conditioning, net):
    module = network(model, kind, shape, conditioning, net)
    path = tmp_path / "model.onnx"
    proto = minigan.onnx.export(module, inputs_for(module, net, 2, seed=9), path)
    onnx.checker.check_model(str(path), full_check=True)  # with shape inference
    assert proto.opset_import[0].version == minigan.onnx.OPSET
    for value in proto.graph.input:
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert_runtime_matches(ort, module, path, net)


def test_parameters_are_initializers_under_their_state_dict_keys(onnx, tmp_path):
    module = network("dcgan", "image", (1, 28, 28), "concat", "G")
    proto = minigan.onnx.export(module, inputs_for(module, "G", 2, 0), tmp_path / "g.onnx")
    stored = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    for key, value in module.state_dict().items():
        np.testing.assert_array_equal(stored[key], value)
    ops_used = [node.op_type for node in proto.graph.node]
    assert ops_used.count("ConvTranspose") == 3 and ops_used.count("BatchNormalization") == 2
    assert [i.name for i in proto.graph.input] == ["z"]
    assert [o.name for o in proto.graph.output] == ["output"]


def test_spectral_normed_discriminator_exports_its_normalised_weights(onnx, ort, tmp_path):
    """W / sigma is computed from parameters only: folded into one initializer per layer."""
    module = network("dcgan", "image", (1, 28, 28), "concat", "D", spectral_norm=True)
    path = tmp_path / "d.onnx"
    proto = minigan.onnx.export(module, inputs_for(module, "D", 2, 0), path)
    names = {i.name for i in proto.graph.initializer}
    assert "main.0.weight" in names and "main.0.weight_orig" not in names
    assert_runtime_matches(ort, module, path, "D")


class UserModel(nn.Module):
    """A user's model of the supported layers and Tensor operations."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(4, 6)
        self.fc = nn.Linear(6 + 3, 2 * 4 * 4)
        self.bn1 = nn.BatchNorm1d(2 * 4 * 4)
        self.up = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)
        self.bn2 = nn.BatchNorm2d(3)
        self.conv = nn.Conv2d(3, 5, 3, stride=1, padding=(1, 2))
        self.act = nn.Sequential(nn.LeakyReLU(0.1), nn.Flatten())

    def forward(self, x, labels):
        h = minigan.cat([x, self.embed(labels)], dim=1)  # (N, 9)
        h = nn.ReLU()(self.bn1(self.fc(h))).reshape(x.shape[0], 2, 4, 4)
        h = nn.Tanh()(self.bn2(self.up(h)))  # (N, 3, 8, 8)
        h = self.conv(h).permute(0, 2, 3, 1)  # (N, 8, 10, 5)
        pooled = h.mean(axis=(1, 2)) + h.max(axis=1).sum(axis=1) * 0.5  # (N, 5)
        gate = nn.Sigmoid()(pooled[:, 1:4]) - (-pooled[:, :3]).exp() / 2 + 1  # (N, 3)
        return self.act(gate.reshape(-1, 3, 1) ** 2 / (1 + gate.reshape(-1, 1, 3)).log())


def test_a_user_defined_module_of_the_supported_layers(onnx, ort, tmp_path):
    minigan.manual_seed(1)
    module = moved_off_defaults(UserModel())
    rng = np.random.default_rng(0)
    path = tmp_path / "user.onnx"
    minigan.onnx.export(module, (rng.standard_normal((2, 3)).astype(np.float32),
                                 np.array([0, 3])), path)
    onnx.checker.check_model(str(path), full_check=True)
    s = session(ort, path)
    for n in BATCHES:
        x = rng.uniform(0.1, 1, (n, 3)).astype(np.float32)
        labels = rng.integers(0, 4, n)
        expected = minigan_output(module, (x, labels))
        out, = s.run(None, {"x": x, "labels": labels})
        np.testing.assert_allclose(out, expected, rtol=TOL, atol=TOL)


class Sequences(nn.Module):
    """Linear layers on (N, L, features) (MatMul, not Gemm), indexing with ints and slices."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2, bias=False)
        self.mix = nn.Parameter(minigan.randn(2, 2))

    def forward(self, x):
        h = self.fc2(self.fc(x))  # (N, 5, 2)
        return h[:, 1] - h[:, -1] + h[:, ::2].sum(axis=1) + (h @ self.mix)[:, 0]  # (N, 2)


def test_linear_layers_on_sequences_and_indexing(onnx, ort, tmp_path):
    minigan.manual_seed(2)
    module, rng = Sequences(), np.random.default_rng(0)
    path = tmp_path / "seq.onnx"
    minigan.onnx.export(module, rng.standard_normal((2, 5, 3)).astype(np.float32), path)
    s = session(ort, path)
    for n in BATCHES:
        x = rng.standard_normal((n, 5, 3)).astype(np.float32)
        out, = s.run(None, {"x": x})
        np.testing.assert_allclose(out, minigan_output(module, (x,)), rtol=TOL, atol=TOL)


def test_export_leaves_the_modes_and_the_running_statistics_as_they_were(tmp_path, onnx):
    module = network("mlp", "image", (1, 28, 28), "concat", "G").train()
    before = module.state_dict()
    minigan.onnx.export(module, inputs_for(module, "G", 4, 0), tmp_path / "g.onnx")
    assert all(m.training for m in module.modules())
    for key, value in module.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_input_and_output_names_can_be_given(onnx, ort, tmp_path):
    module = network("cmlp", "image", (1, 28, 28), "concat", "G")
    proto = minigan.onnx.export(module, inputs_for(module, "G", 2, 0), tmp_path / "g.onnx",
                                input_names=["noise", "y"], output_names=["images"])
    assert [i.name for i in proto.graph.input] == ["noise", "y"]
    assert [o.name for o in proto.graph.output] == ["images"]
    assert proto.graph.input[1].type.tensor_type.elem_type == onnx.TensorProto.INT64


def test_tracing_keeps_every_op_call_in_order_with_or_without_grad():
    x = minigan.tensor([[1.0, -2.0]], requires_grad=True)
    for recording in (True, False):
        with minigan.autograd.set_grad_enabled(recording), minigan.autograd.tracing() as tape:
            y = F.leaky_relu(x * 2, 0.1).sum()
        assert [type(call[0]).__name__ for call in tape] == ["Mul", "LeakyReLU", "Sum"]
        mul, leaky, total = tape
        assert mul[1][0] is x and leaky[1][0] is mul[3] and total[3] is y
        assert leaky[2] == {"negative_slope": 0.1}
    with minigan.autograd.tracing() as outer:
        with minigan.autograd.tracing() as inner:
            F.relu(x)
        F.tanh(x)
    assert [type(c[0]).__name__ for c in inner] == ["ReLU"]
    assert [type(c[0]).__name__ for c in outer] == ["Tanh"]
    assert minigan.autograd._tape is None  # nothing is kept once the blocks end


# ----------------------------------------------------------------------------- errors
class WithLoss(nn.Module):
    def forward(self, x):
        return F.binary_cross_entropy_with_logits(x, Tensor(np.ones_like(x.numpy())))


class RawArrayWork(nn.Module):
    """Scales x by its own mean computed in NumPy: a constant the tape cannot replay."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return self.fc(x) * Tensor(x.numpy().mean(axis=0))


class TrainingBatchNorm(nn.Module):
    def forward(self, x):
        return F.batch_norm(x, None, None, training=True)


class CustomOp(Function):
    def forward(self, x):
        return x * 2

    def backward(self, grad_out):
        return (grad_out * 2,)


class WithCustomOp(nn.Module):
    def forward(self, x):
        return CustomOp.apply(x)


@pytest.mark.parametrize("module,message", [
    (WithLoss(), "cannot export op BinaryCrossEntropyWithLogits"),
    (WithCustomOp(), "cannot export op CustomOp: minigan.onnx has no ONNX form for it"),
    (RawArrayWork(), "computed from an input outside minigan's ops"),
    (TrainingBatchNorm(), "cannot export op BatchNorm in training mode"),
])
def test_what_onnx_cannot_express_is_one_error_naming_the_op(onnx, tmp_path, module, message):
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    with pytest.raises(ExportError, match=message):
        minigan.onnx.export(module, x, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_example_inputs_are_checked(tmp_path, onnx):
    module = network("cmlp", "image", (1, 28, 28), "concat", "G")
    with pytest.raises(ValueError, match="share their batch size"):
        minigan.onnx.export(module, (np.zeros((2, 100), np.float32), np.array([1])),
                            tmp_path / "g.onnx")
    with pytest.raises(TypeError, match="example input 0 must be a minigan.Tensor or an "
                                        "array, got list"):
        minigan.onnx.export(module, [[0.0] * 100], tmp_path / "g.onnx")


def test_without_the_onnx_package_the_error_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    module = network("mlp", "points", None, "concat", "G")
    with pytest.raises(ImportError, match=r"pip install 'minigan\[onnx\]'"):
        minigan.onnx.export(module, np.zeros((2, 2), np.float32), tmp_path / "g.onnx")


# ----------------------------------------------------------------------------- the op table
# Ops that a forward pass of a model to export does not run: losses, and the ops that
# only backward formulas apply. Everything else in minigan/ops must have an ONNX form.
NOT_EXPORTED = {"BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "CrossEntropy",
                "Conv2dGradW", "IndexAdd", "ScatterAdd"}


def op_classes():
    """{name: class} of every Function subclass defined in minigan/ops."""
    import importlib
    import pkgutil

    found = {}
    for info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"minigan.ops.{info.name}")
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, Function) and obj is not Function \
                    and obj.__module__ == module.__name__:
                found[name] = obj
    return found


def test_the_op_table_names_minigans_op_classes():
    """A renamed op (or a new one) fails here, not silently in an export."""
    classes = op_classes()
    assert set(OPS) <= set(classes), set(OPS) - set(classes)
    assert set(classes) - set(OPS) == NOT_EXPORTED, set(classes) - set(OPS)


class InPlaceAfterwards(nn.Module):
    """Changes an op's output in place, as an in-place method (mul_) does: not traced."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        h = self.fc(x)
        h._data *= 2  # what Tensor.mul_(2) does: the values, and the version counter
        h._version += 1
        return nn.Tanh()(h)


def test_an_output_changed_in_place_stops_the_export(onnx, tmp_path):
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ExportError, match="output of op Linear was modified in place"):
        minigan.onnx.export(InPlaceAfterwards(), x, tmp_path / "m.onnx")


class BatchDependentGraph(nn.Module):
    """Runs one more op for larger batches: no single graph."""

    def forward(self, x):
        return nn.Tanh()(x) if x.shape[0] < 3 else nn.Sigmoid()(x)


def test_a_forward_that_changes_with_the_batch_size_stops_the_export(onnx, tmp_path):
    with pytest.raises(ExportError, match="op 0: Tanh against Sigmoid"):
        minigan.onnx.export(BatchDependentGraph(), np.zeros((2, 3), np.float32),
                            tmp_path / "m.onnx")
