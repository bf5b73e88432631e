"""export(module, example_input, path): the traced forward (trace.py) as an ONNX model;
trace_model(...) the same model without writing it (`minigan export` writes it atomically).

The model is opset 17 (IR version 8), which ONNX Runtime has run since 1.11 and the web
and mobile runtimes run too. The traced nodes become ONNX nodes (translate.py), the
constants initializers (parameters and buffers under their state_dict keys), the inputs
and outputs get a "batch" axis where the two traced runs differed in size. The model is
checked with onnx.checker before it is written.
"""
import inspect
import os

import numpy as np

from .. import backend
from ..tensor import Tensor
from .trace import ExportError, Value, trace
from .translate import OPS, translate

OPSET = 17
IR_VERSION = 8  # the IR of opset 17 (onnx 1.12), so older runtimes load the file


def require_onnx():
    """The onnx package, or an ImportError that names the extra to install."""
    try:
        import onnx  # noqa: PLC0415 - optional: minigan[onnx]
    except ImportError as err:
        raise ImportError("minigan.onnx.export needs the onnx package: pip install "
                          "'minigan[onnx]'") from err
    return onnx


def export(module, example_input, path, input_names=None, output_names=None):
    """Write `module` as an ONNX model to `path` (as torch.onnx.export) and return the
    onnx.ModelProto.

    module: a minigan.nn.Module, run in eval mode (BatchNorm with its running
    statistics) and left in the modes it had. example_input: a Tensor or array, or a
    tuple of them for a forward of several inputs, e.g. (z, labels) for a conditional
    generator; the first axis of each is the batch, which the model leaves free.
    input_names: default the names of forward's arguments ("z", "labels");
    output_names: default "output" (or "output_0", ... for several).
    Raises ExportError (a ValueError) naming any op that ONNX cannot express here, and
    ImportError without the onnx package (minigan[onnx]).
    """
    model = trace_model(module, example_input, input_names, output_names)
    with open(os.fspath(path), "wb") as f:
        f.write(model.SerializeToString())
    return model


def trace_model(module, example_input, input_names=None, output_names=None):
    """The onnx.ModelProto that export writes (the same arguments, without the path),
    checked with onnx.checker."""
    onnx = require_onnx()
    inputs = as_inputs(example_input, module_device(module))
    input_names = list(input_names) if input_names is not None else \
        argument_names(module, len(inputs))
    if len(input_names) != len(inputs):
        raise ValueError(f"export: {len(input_names)} input_names for {len(inputs)} inputs")
    graph = trace(module, inputs, input_names, supported=OPS)
    if output_names is None:
        output_names = ["output"] if len(graph.outputs) == 1 else \
            [f"output_{i}" for i in range(len(graph.outputs))]
    if len(output_names) != len(graph.outputs):
        raise ValueError(f"export: {len(output_names)} output_names for "
                         f"{len(graph.outputs)} outputs")
    model = to_onnx(onnx, graph, list(output_names), type(module).__name__)
    onnx.checker.check_model(model)
    return model


def module_device(module):
    """The device of the module's first parameter or buffer ("cpu" if it has none)."""
    for t in (*module.parameters(), *module.buffers()):
        return t.device
    return "cpu"


def as_inputs(example_input, device):
    """The example input(s) as a list of Tensors on `device` (an int array stays int:
    labels)."""
    items = list(example_input) if isinstance(example_input, (tuple, list)) else [example_input]
    inputs = []
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            if not (isinstance(item, np.ndarray) or backend.is_cupy(item)):
                raise TypeError(f"export: example input {i} must be a minigan.Tensor or an "
                                f"array, got {type(item).__name__}")
            item = Tensor(item)
        if item.ndim == 0 or item.shape[0] < 1:
            raise ValueError(f"export: example input {i} needs a batch axis of at least one "
                             f"row first, got shape {item.shape}")
        inputs.append(Tensor(backend.to_device(item._data, device)))  # a fresh leaf
    if len({t.shape[0] for t in inputs}) > 1:
        raise ValueError(f"export: the example inputs must share their batch size, got "
                         f"shapes {[t.shape for t in inputs]}")
    return inputs


def argument_names(module, n):
    """The names of the first n arguments of module.forward ("input_i" where unnamed)."""
    params = [p for p in inspect.signature(module.forward).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [params[i].name if i < len(params) else f"input_{i}" for i in range(n)]


class Emitter:
    """Collects ONNX nodes and initializers while the translate.py functions run."""

    def __init__(self, helper):
        self.helper, self.nodes, self.initializers = helper, [], {}

    def ref(self, value):
        """The ONNX name of a traced Value (a constant becomes an initializer)."""
        if value.kind == "constant":
            self.initializers[value.name] = value.array
        return value.name

    def const(self, name, array):
        self.initializers[name] = np.asarray(array)
        return name

    @staticmethod
    def fresh(node, suffix):
        """The name of one of node's intermediate values: "Conv_3/shape"."""
        return f"{node.output.name}/{suffix}"

    def node(self, op_type, inputs, output, **attributes):
        name = output.name if isinstance(output, Value) else output
        self.nodes.append(self.helper.make_node(op_type, inputs, [name], name=name,
                                                **attributes))
        return name


def to_onnx(onnx, graph, output_names, model_name):
    """The onnx.ModelProto of a Trace."""
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    e = Emitter(helper)
    taken = {v.name for v in graph.inputs} | {n.output.name for n in graph.nodes}
    renamed = set()
    for value, name in zip(graph.outputs, output_names):
        if value.kind == "op" and id(value) not in renamed and name not in taken:
            value.name = name  # the node that computes an output writes it under its name
            renamed.add(id(value))
    for node in graph.nodes:
        translate(e, node)
    for value, name in zip(graph.outputs, output_names):
        if value.name != name:  # an input, a constant or a value output twice
            e.node("Identity", [e.ref(value)], name)
    inputs = [value_info(helper, v.name, v, graph.batch) for v in graph.inputs]
    outputs = [value_info(helper, name, v, graph.batch)
               for v, name in zip(graph.outputs, output_names)]
    initializers = [numpy_helper.from_array(np.ascontiguousarray(a), name)
                    for name, a in e.initializers.items()]
    onnx_graph = helper.make_graph(e.nodes, model_name, inputs, outputs, initializers)
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="minigan")
    model.ir_version = IR_VERSION
    return model


def value_info(helper, name, value, batch):
    """A graph input's or output's type: the dimensions that differed between the two
    traced runs are "batch" (or left unnamed when not the batch size itself)."""
    dims = [n if n == n2 else "batch" if (n, n2) == (batch, batch + 1) else None
            for n, n2 in zip(value.shape, value.shape2)]
    elem = helper.np_dtype_to_tensor_dtype(value.dtype)
    return helper.make_tensor_value_info(name, elem, dims)


__all__ = ["export", "trace_model", "ExportError", "OPSET"]
