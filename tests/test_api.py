"""The public API of /work/shared/API.md: every name exists exactly as written there, with
the documented parameters in the documented order and defaults. Tests outside the project
rely on these names, so a rename must fail here first.
"""
import importlib
import inspect

import numpy as np
import pytest

import minigan

# name -> the signature API.md documents. Further parameters are allowed after these
# (e.g. randn's generator=), if they have defaults.
FUNCTIONS = {
    "minigan.tensor": "(data, dtype=None, device=None, requires_grad=False)",
    "minigan.zeros": "(*shape, dtype=None, device=None, requires_grad=False)",
    "minigan.ones": "(*shape, dtype=None, device=None, requires_grad=False)",
    "minigan.randn": "(*shape, dtype=None, device=None, requires_grad=False)",
    "minigan.rand": "(*shape, dtype=None, device=None, requires_grad=False)",
    "minigan.no_grad": "()",
    "minigan.manual_seed": "(seed)",
    "minigan.cuda.is_available": "()",
    "minigan.nn.functional.linear": "(x, weight, bias=None)",
    "minigan.nn.functional.relu": "(x)",
    "minigan.nn.functional.leaky_relu": "(x, negative_slope=0.01)",
    "minigan.nn.functional.tanh": "(x)",
    "minigan.nn.functional.sigmoid": "(x)",
    "minigan.nn.functional.binary_cross_entropy": "(p, target)",
    "minigan.nn.functional.binary_cross_entropy_with_logits": "(logits, target)",
    "minigan.nn.functional.mse_loss": "(input, target)",
    "minigan.nn.Linear": "(in_features, out_features, bias=True)",
    "minigan.nn.ReLU": "()",
    "minigan.nn.LeakyReLU": "(negative_slope=0.01)",
    "minigan.nn.Tanh": "()",
    "minigan.nn.Sigmoid": "()",
    "minigan.nn.Flatten": "()",
    "minigan.nn.Sequential": "(*modules)",
    "minigan.nn.BCELoss": "()",
    "minigan.nn.BCEWithLogitsLoss": "()",
    "minigan.nn.MSELoss": "()",
    "minigan.nn.utils.spectral_norm":
        "(module, name='weight', n_power_iterations=1, eps=1e-12, dim=None)",
    "minigan.optim.Adam": "(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)",
    "minigan.optim.SGD": "(params, lr, momentum=0.0)",
}

# convolution and batch normalisation: another engineer's part of the API, checked here too
CONV_AND_BATCHNORM = {
    "minigan.nn.functional.conv2d": "(x, weight, bias=None, stride=1, padding=0)",
    "minigan.nn.functional.conv_transpose2d":
        "(x, weight, bias=None, stride=1, padding=0, output_padding=0)",
    "minigan.nn.functional.batch_norm": "(x, running_mean, running_var, weight=None, bias=None, "
                                        "training=False, momentum=0.1, eps=1e-5)",
    "minigan.nn.Conv2d":
        "(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)",
    "minigan.nn.ConvTranspose2d": "(in_channels, out_channels, kernel_size, stride=1, "
                                  "padding=0, output_padding=0, bias=True)",
    "minigan.nn.BatchNorm1d": "(num_features, eps=1e-5, momentum=0.1)",
    "minigan.nn.BatchNorm2d": "(num_features, eps=1e-5, momentum=0.1)",
}

TENSOR_ATTRIBUTES = ["data", "grad", "requires_grad", "shape", "ndim", "dtype", "device",
                     "is_cuda"]
TENSOR_METHODS = {
    "backward": "(grad=None)", "numpy": "()", "item": "()", "detach": "()",
    "to": "(device=None, dtype=None)", "cpu": "()", "size": "(dim=None)",
    "sum": "(dim=None, keepdim=False)", "mean": "(dim=None, keepdim=False)",
    "max": "(dim=None, keepdim=False)", "std": "(dim=None)", "reshape": "(*shape)",
    "view": "(*shape)", "permute": "(*dims)", "transpose": "(dim0, dim1)",
    "squeeze": "(dim=None)", "unsqueeze": "(dim)", "norm": "(p='fro', dim=None, keepdim=False)",
    "pow": "(exponent)", "type": "(dtype=None)", "fill_": "(value)", "zero_": "()",
    "clamp_": "(min=None, max=None)", "mul_": "(other)", "add_": "(other, alpha=1)",
    "copy_": "(src)", "normal_": "(mean=0.0, std=1.0)", "uniform_": "(low=0.0, high=1.0)",
}
TENSOR_OPERATORS = ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                    "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__matmul__",
                    "__rmatmul__", "__neg__", "__getitem__", "__lt__", "__le__", "__gt__",
                    "__ge__", "__eq__", "__ne__"]
MODULE_METHODS = ["forward", "__call__", "parameters", "named_parameters", "buffers", "train",
                  "eval", "zero_grad", "to", "state_dict", "load_state_dict"]
OPTIMIZER_METHODS = ["zero_grad", "step", "state_dict", "load_state_dict"]


def resolve(dotted):
    """minigan.nn.functional.linear -> the object, importing modules on the way."""
    module_name, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def documented_parameters(text):
    """"(a, b=1, *rest)" -> [(name, kind, default)] by parsing it as a Python signature."""
    namespace = {}
    exec(f"def documented{text}: pass", namespace)  # the doc's text is Python syntax
    return list(inspect.signature(namespace["documented"]).parameters.values())


def assert_signature(obj, text, name):
    actual = list(inspect.signature(obj).parameters.values())
    expected = documented_parameters(text)
    assert len(actual) >= len(expected), f"{name}: {inspect.signature(obj)} lacks {text}"
    for want, got in zip(expected, actual):
        assert (got.name, got.kind) == (want.name, want.kind), \
            f"{name}: parameter {got} where API.md has {want}"
        assert got.default == want.default, f"{name}: {got.name} defaults to {got.default!r}, " \
                                            f"API.md says {want.default!r}"
    for extra in actual[len(expected):]:
        assert extra.default is not inspect.Parameter.empty or \
            extra.kind is inspect.Parameter.VAR_KEYWORD, f"{name}: extra parameter {extra}"


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_documented_function_or_class_exists_with_its_documented_signature(name):
    assert_signature(resolve(name), FUNCTIONS[name], name)


@pytest.mark.parametrize("name", list(CONV_AND_BATCHNORM))
def test_documented_conv_and_batchnorm_names_exist_with_their_signatures(name):
    assert_signature(resolve(name), CONV_AND_BATCHNORM[name], name)


def test_top_level_names_are_importable_as_written():
    from minigan import (Tensor, cuda, manual_seed, nn, no_grad, ones, optim, rand, randn,
                         tensor, zeros)
    from minigan.nn import Module, Parameter
    from minigan.nn import functional as F
    from minigan.optim import SGD, Adam
    names = (Tensor, cuda, manual_seed, nn, no_grad, ones, optim, rand, randn, tensor, zeros,
             Module, Parameter, F, SGD, Adam)
    assert all(name is not None for name in names)
    assert isinstance(minigan.cuda.is_available(), bool)
    assert issubclass(minigan.DeviceError, Exception)


def test_tensor_has_the_documented_attributes():
    t = minigan.tensor([1.0, 2.0], requires_grad=True)
    for name in TENSOR_ATTRIBUTES:
        assert hasattr(t, name), name
    assert isinstance(t.data, minigan.Tensor) and t.grad is None and t.requires_grad is True
    assert t.shape == (2,) and t.ndim == 1 and t.dtype == np.float32 and t.device == "cpu"


@pytest.mark.parametrize("name", list(TENSOR_METHODS))
def test_tensor_has_the_documented_methods(name):
    documented = TENSOR_METHODS[name][1:-1]  # "(axis=None, ...)" -> "axis=None, ..."
    with_self = f"(self, {documented})" if documented else "(self)"
    assert_signature(getattr(minigan.Tensor, name), with_self, f"Tensor.{name}")


def test_tensor_has_the_documented_operators():
    for name in TENSOR_OPERATORS:
        assert callable(getattr(minigan.Tensor, name, None)), name


def test_parameter_is_a_tensor_and_module_has_the_documented_methods():
    assert issubclass(minigan.nn.Parameter, minigan.Tensor)
    for name in MODULE_METHODS:
        assert callable(getattr(minigan.nn.Module, name, None)), name
    for layer in ("Linear", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Flatten", "Sequential",
                  "BCELoss", "BCEWithLogitsLoss", "MSELoss"):
        assert issubclass(getattr(minigan.nn, layer), minigan.nn.Module), layer


@pytest.mark.parametrize("name", ["Adam", "SGD"])
def test_optimizers_have_the_documented_methods(name):
    for method in OPTIMIZER_METHODS:
        assert callable(getattr(getattr(minigan.optim, name), method, None)), method


def test_no_grad_is_a_context_manager():
    with minigan.no_grad():
        pass


def test_the_package_never_imports_torch():
    import subprocess
    import sys
    code = "import sys, minigan, minigan.nn, minigan.optim; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
