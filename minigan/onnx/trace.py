"""Tracing a forward pass for export: which ops ran, on which values, at which sizes.

`trace` runs the module in eval mode under autograd.tracing(), which keeps every op call
(its Function, input Tensors, keyword parameters and output), twice: on the example
inputs (batch N), then on a batch of N + 1 rows. The first run is the graph. The second
says which sizes follow the batch: a dimension that differs between the runs is the
batch's, so that a Reshape to (N, 784) can become ONNX's (0, 784) ("copy dimension 0")
and the inputs and outputs get a "batch" axis.

Every value an op reads is one of three kinds:
    input     a tensor (or the integer labels) given to forward: an ONNX graph input
    op        computed from an input: the output of an ONNX node
    constant  a parameter, a buffer, a tensor made inside forward (an identity table, the
              ones of an affine-less BatchNorm), or the output of an op whose inputs are
              all constants (spectral norm's W / sigma): an ONNX initializer, its values
              taken from the first run (constant folding)
Only ops that the outputs depend on are kept. A tensor made inside forward from an
input's raw array (NumPy work outside minigan's ops) escapes the tape: it looks like a
constant, so every unnamed constant must be the same in both runs, or the export stops.
"""
import inspect

import numpy as np

from .. import backend
from ..autograd import no_grad, tracing
from ..tensor import Tensor


class ExportError(ValueError):
    """A module that minigan.onnx cannot express in ONNX; the message names the op."""


class Value:
    """One tensor of the traced graph: its kind ("input", "op" or "constant"), its ONNX
    name, its shape in both runs, its dtype, and its values (constants only: the
    initializer, a host array)."""

    def __init__(self, kind, name, shape, shape2, dtype, array=None):
        self.kind, self.name, self.dtype, self.array = kind, name, np.dtype(dtype), array
        self.shape, self.shape2 = tuple(shape), tuple(shape2)

    @classmethod
    def constant(cls, name, array):
        array = backend.asnumpy(array)
        return cls("constant", name, array.shape, array.shape, array.dtype, array)

    def __repr__(self):
        return f"Value({self.kind}, {self.name!r}, {self.shape})"


class Node:
    """One op call of the first run: the op's class name, its input Values, its keyword
    parameters (defaults filled in; an array parameter becomes a Value) from both runs,
    and its output Value."""

    def __init__(self, op, inputs, params, params2, output):
        self.op, self.inputs, self.params, self.params2 = op, inputs, params, params2
        self.output = output


class Trace:
    """The graph of one forward: `inputs` and `outputs` (Values) and `nodes` in the order
    they ran (a topological order), with `batch` the first run's batch size."""

    def __init__(self, inputs, outputs, nodes, batch):
        self.inputs, self.outputs, self.nodes, self.batch = inputs, outputs, nodes, batch


def trace(module, example_inputs, input_names, supported):
    """The Trace of module(*example_inputs); the example inputs are Tensors (floats, or
    integer labels) whose first axis is the batch. supported: the names of the ops that
    can be exported; any other op the outputs depend on stops the trace, naming it."""
    tape, outputs = run(module, example_inputs)
    names = leaf_names(module)  # now: spectral norm's weight is set by this run's forward
    try:
        tape2, outputs2 = run(module, grown(example_inputs))
    except (ValueError, TypeError) as err:
        raise ExportError(f"the module refused a batch of {len(example_inputs[0]) + 1} "
                          f"({err}); export needs a module that takes any batch size, "
                          f"as the ONNX model will") from err
    ops, ops2 = [type(call[0]).__name__ for call in tape], [type(c[0]).__name__ for c in tape2]
    if ops != ops2:
        i = next((i for i, (a, b) in enumerate(zip(ops, ops2)) if a != b),
                 min(len(ops), len(ops2)))  # the first op that differs
        n = len(example_inputs[0])
        raise ExportError(f"cannot export: the forward ran other ops for a batch of {n} and one "
                          f"of {n + 1} (op {i}: {ops[i] if i < len(ops) else 'none'} against "
                          f"{ops2[i] if i < len(ops2) else 'none'}); an ONNX model is one "
                          f"graph for every batch size")
    builder = GraphBuilder(names, example_inputs, grown_shapes(example_inputs), input_names)
    for i in needed(tape, outputs):
        op = type(tape[i][0]).__name__
        if op not in supported:
            raise ExportError(f"cannot export op {op}: minigan.onnx has no ONNX form for it "
                              f"(it exports {', '.join(sorted(supported))})")
        fn, inputs, _, out, version = tape[i]
        view = any(getattr(t, "_version_counter", None) is getattr(out, "_version_counter", 0)
                   for t in inputs)  # a view shares its base's counter (set after the op)
        if not view and out._version != version:  # the tape holds what the op computed then
            raise ExportError(f"cannot export: the output of op {op} was modified in place "
                              f"after it was computed, which the trace does not see; use "
                              f"out-of-place operations (y = y * 2, not y.mul_(2))")
        builder.add(tape[i], tape2[i])
    outs = [builder.output_value(t, t2) for t, t2 in zip(outputs, outputs2)]
    return Trace(builder.inputs, outs, builder.nodes, len(example_inputs[0]))


def run(module, inputs):
    """(the tape, the outputs as a list) of module(*inputs) in eval mode, without a graph;
    every submodule's mode is restored afterwards (as torch.onnx.export does)."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with no_grad(), tracing() as tape:
            out = module(*inputs)
    finally:
        for m, mode in modes:
            m.training = mode
    outputs = list(out) if isinstance(out, (tuple, list)) else [out]
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise ExportError(f"the module's forward returned {type(t).__name__} as output "
                              f"{i}; export needs Tensors")
    return tape, outputs


def grown(inputs):
    """The inputs of the second run: the rows of each in reverse order, then its first row
    again (a batch of N + 1, with valid labels, and values that differ from the first run's)."""
    out = []
    for t in inputs:
        xp = backend.xp_of(t._data)
        out.append(Tensor(xp.concatenate([t._data[::-1], t._data[:1]])))
    return out


def grown_shapes(inputs):
    return [(len(t) + 1, *t.shape[1:]) for t in inputs]


def needed(tape, outputs):
    """The positions in the tape of the calls the outputs depend on, in the order they ran."""
    producer = {id(call[3]): i for i, call in enumerate(tape)}
    keep, todo = set(), list(outputs)
    while todo:
        i = producer.get(id(todo.pop()))
        if i is not None and i not in keep:
            keep.add(i)
            todo.extend(tape[i][1])
    return sorted(keep)


def leaf_names(module):
    """{id: name} for the module's tensors: parameters and buffers by their state_dict key,
    tensors kept as plain attributes (spectral norm's weight) by their path, and the raw
    arrays of the buffers (ops such as BatchNorm take running statistics as arrays)."""
    names = {}
    for prefix, m in module.named_modules():
        for attr, value in vars(m).items():
            if isinstance(value, Tensor):
                names[id(value)] = f"{prefix}.{attr}" if prefix else attr
    for name, p in module.named_parameters():
        names[id(p)] = name
    for name, b in module.named_buffers():
        names[id(b)] = names[id(b._data)] = name
    return names


def full_params(fn, n_inputs, params):
    """The op's keyword parameters, with the defaults of its forward filled in for those
    not given: forward's arguments after the n_inputs arrays."""
    full = {}
    arguments = list(inspect.signature(type(fn).forward).parameters.values())[1:]  # no self
    for p in arguments:
        if p.kind is p.VAR_POSITIONAL:  # forward(self, *arrays, axis=0): all arrays here
            n_inputs = 0
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and n_inputs:
            n_inputs -= 1  # an input array
        elif p.kind is not p.VAR_KEYWORD:
            full[p.name] = params.get(p.name, p.default)
    return {**full, **params}


def argument_names(fn, n_inputs):
    """The names forward gives its n_inputs arrays ("x", "weight"; "arrays0", ... for *arrays)."""
    names = []
    for p in list(inspect.signature(type(fn).forward).parameters.values())[1:]:
        if p.kind is p.VAR_POSITIONAL:
            return names + [f"{p.name}{i}" for i in range(n_inputs - len(names))]
        names.append(p.name)
    return (names + [f"input{i}" for i in range(len(names), n_inputs)])[:n_inputs]


def is_array(value):
    return isinstance(value, np.ndarray) or backend.is_cupy(value)


def same_view(a, b):
    """True when arrays a and b are the same values in the same memory (one a view of the
    other with the same shape and strides, as labels.reshape(-1) of (N,) labels is)."""
    if type(a) is not type(b) or a.shape != b.shape or a.strides != b.strides:
        return False
    pointer = (lambda x: x.data.ptr) if backend.is_cupy(a) else \
        (lambda x: x.__array_interface__["data"][0])
    return pointer(a) == pointer(b)


class GraphBuilder:
    """Turns the calls of both runs, one pair at a time, into Values and Nodes."""

    def __init__(self, names, inputs, shapes2, input_names):
        self.names, self.values, self.nodes, self.used = names, {}, [], set()
        self.inputs = []
        for t, shape2, name in zip(inputs, shapes2, input_names):
            value = Value("input", self.unique(name), t.shape, shape2, t.dtype)
            self.values[id(t)] = value
            self.inputs.append(value)
        self.input_arrays = [(t._data, v) for t, v in zip(inputs, self.inputs)]

    def unique(self, name):
        """`name`, or name_2, name_3, ... if it is taken."""
        candidate, k = name, 1
        while candidate in self.used:
            k += 1
            candidate = f"{name}_{k}"
        self.used.add(candidate)
        return candidate

    def add(self, call, call2):
        fn, inputs, params, out = call[:4]
        fn2, inputs2, params2, out2 = call2[:4]
        op = type(fn).__name__
        values = [self.value_of(t, t2, op, f"{op}.{arg}") for t, t2, arg in
                  zip(inputs, inputs2, argument_names(fn, len(inputs)))]
        params = full_params(fn, len(inputs), params)
        params2 = full_params(fn2, len(inputs2), params2)
        for key, value in params.items():
            if is_array(value):
                params[key] = self.array_value(value, params2[key], op, key)
            elif value != params2[key] and key not in ("shape", "index"):
                raise ExportError(f"cannot export op {op}: its parameter {key} is {value!r} "
                                  f"for a batch of {self.inputs[0].shape[0]} and "
                                  f"{params2[key]!r} for one more; the ONNX graph needs one "
                                  f"value for every batch size")
        dynamic = any(v.kind != "constant" for v in values) or \
            any(isinstance(v, Value) and v.kind == "input" for v in params.values())
        if not dynamic:  # constants only: the output is a constant too (folded)
            source = next((v.name for v in values if v.kind == "constant"), "const")
            name = self.names.get(id(out)) or f"{source}.{op.lower()}"
            self.values[id(out)] = Value.constant(self.unique(name), out._data)
            return
        output = Value("op", self.unique(self.names.get(id(out)) or op), out.shape,
                       out2.shape, out.dtype)
        self.values[id(out)] = output
        self.nodes.append(Node(op, values, params, params2, output))

    def value_of(self, t, t2, op, default_name):
        """The Value of input tensor t (t2: the same input in the second run); a constant
        made inside forward is named after the op's argument it is ("BatchNorm.weight")."""
        if id(t) in self.values:
            return self.values[id(t)]
        name = self.names.get(id(t))
        if name is None:  # made inside forward: must not depend on the inputs
            check_constant(t._data, t2._data, op)
        value = Value.constant(self.unique(name or default_name), t._data)
        self.values[id(t)] = value
        return value

    def array_value(self, array, array2, op, key):
        """The Value of an op's array parameter: a graph input (labels looked up by Gather),
        a named buffer (BatchNorm's running statistics) or a constant."""
        for input_array, value in self.input_arrays:
            if same_view(array, input_array):
                return value
        if id(array) not in self.values:  # (a buffer read by several ops is one Value)
            name = self.names.get(id(array))
            if name is None:
                check_constant(array, array2, f"{op} ({key})")
            self.values[id(array)] = Value.constant(self.unique(name or f"{op.lower()}.{key}"),
                                                    array)
        return self.values[id(array)]

    def output_value(self, t, t2):
        if id(t) not in self.values:  # an output that no op made: a constant
            self.value_of(t, t2, "the output", "output")
        value = self.values[id(t)]
        value.shape2 = tuple(t2.shape)
        return value


def check_constant(a, b, where):
    """A constant made inside forward must be the same in both runs: one that follows the
    batch or the input values was computed from an input outside minigan's ops."""
    if not np.array_equal(backend.asnumpy(a), backend.asnumpy(b), equal_nan=True):
        raise ExportError(
            f"cannot export: {where} reads an array of shape {a.shape} that no traced op "
            f"made and that changes with the input (shape {a.shape} for one batch, "
            f"{b.shape} for another, or other values); it was computed from an input "
            f"outside minigan's ops (raw NumPy/CuPy work, a random draw), which an ONNX "
            f"graph cannot replay. Compute it with Tensor operations")
