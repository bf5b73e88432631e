"""Each minigan op as ONNX nodes: one function per op class, written out in OPS.

A function takes the Emitter and a traced Node (trace.py) and writes the nodes that
compute node.output from node.inputs. Attributes follow the ONNX operator specs at
opset 17 (onnx/docs/Operators.md):
    Linear           Gemm(x, w, b, transB=1): x @ w^T + b (x 2-D; else MatMul + Add)
    Conv2d           Conv, pads [top, left, bottom, right] = [ph, pw, ph, pw]
    ConvTranspose2d  ConvTranspose, same weight layout (C_in, C_out, kh, kw) as PyTorch's,
                     out = stride (in - 1) + output_padding + k - 2 padding
    BatchNorm        BatchNormalization(x, scale, B, mean, var), eval mode only
    Gather           Gather(axis=0): an embedding's rows, the labels as indices
    Reshape          a batch-sized dimension becomes 0 ("copy the input's") or -1
    BroadcastTo      Expand, a batch-sized dimension as 1 (Expand broadcasts both ways)
Shapes that follow the batch are read off the two runs of trace.py (shape, shape2).
"""
import numpy as np

from .trace import ExportError

INT64_MAX = np.iinfo(np.int64).max


def unary(onnx_op):
    """An op with one input and no attributes (Relu, Tanh, Sigmoid, Exp, ...)."""
    def write(e, node):
        e.node(onnx_op, [e.ref(node.inputs[0])], node.output)
    write.__name__ = onnx_op
    return write


def binary(onnx_op):
    """Elementwise arithmetic with NumPy's broadcasting, which ONNX's is."""
    def write(e, node):
        e.node(onnx_op, [e.ref(v) for v in node.inputs], node.output)
    write.__name__ = onnx_op
    return write


def linear(e, node):
    x, w, *b = node.inputs
    if len(x.shape) == 2:  # Gemm: x (N, in) @ w^T (in, out) + b (out,)
        e.node("Gemm", [e.ref(x), e.ref(w)] + [e.ref(v) for v in b], node.output, transB=1)
        return
    w_t = e.node("Transpose", [e.ref(w)], e.fresh(node, "weight_t"), perm=[1, 0])
    if not b:
        e.node("MatMul", [e.ref(x), w_t], node.output)
        return
    product = e.node("MatMul", [e.ref(x), w_t], e.fresh(node, "matmul"))
    e.node("Add", [product, e.ref(b[0])], node.output)


def conv2d(e, node):
    x, w = node.inputs
    (sh, sw), (ph, pw) = node.params["stride"], node.params["padding"]
    e.node("Conv", [e.ref(x), e.ref(w)], node.output, kernel_shape=list(w.shape[2:]),
           strides=[sh, sw], pads=[ph, pw, ph, pw])


def conv_transpose2d(e, node):
    x, w = node.inputs
    (sh, sw), (ph, pw) = node.params["stride"], node.params["padding"]
    e.node("ConvTranspose", [e.ref(x), e.ref(w)], node.output, kernel_shape=list(w.shape[2:]),
           strides=[sh, sw], pads=[ph, pw, ph, pw],
           output_padding=list(node.params["output_padding"]))


def batch_norm(e, node):
    x, weight, bias = node.inputs
    p = node.params
    if p["training"] or p["running_mean"] is None:
        raise ExportError("cannot export op BatchNorm in training mode (batch statistics): "
                          "ONNX's BatchNormalization uses running statistics; export runs "
                          "the module in eval mode, so this one was called with "
                          "training=True or without running statistics")
    # minigan normalises with the statistics in x's dtype: so does the exported graph
    stats = [e.ref(v) if v.dtype == x.dtype else
             e.const(e.fresh(node, v.name), v.array.astype(x.dtype))
             for v in (p["running_mean"], p["running_var"])]
    e.node("BatchNormalization", [e.ref(x), e.ref(weight), e.ref(bias), *stats], node.output,
           epsilon=float(p["eps"]))


def leaky_relu(e, node):
    e.node("LeakyRelu", [e.ref(node.inputs[0])], node.output,
           alpha=float(node.params["negative_slope"]))


def log1p(e, node):
    a, = node.inputs
    one = e.const(e.fresh(node, "one"), np.ones((), a.dtype))
    e.node("Log", [e.node("Add", [e.ref(a), one], e.fresh(node, "sum"))], node.output)


def gather(e, node):
    weight, = node.inputs
    e.node("Gather", [e.ref(weight), e.ref(node.params["indices"])], node.output, axis=0)


def cat(e, node):
    e.node("Concat", [e.ref(v) for v in node.inputs], node.output, axis=node.params["axis"])


def permute(e, node):
    e.node("Transpose", [e.ref(node.inputs[0])], node.output, perm=list(node.params["dims"]))


def cast(e, node):
    from onnx import helper  # noqa: PLC0415 - loaded by export.py first

    to = helper.np_dtype_to_tensor_dtype(np.dtype(node.params["dtype"]))
    e.node("Cast", [e.ref(node.inputs[0])], node.output, to=to)


def where(e, node):
    a, b = node.inputs
    e.node("Where", [e.ref(node.params["condition"]), e.ref(a), e.ref(b)], node.output)


def reshape(e, node):
    a, = node.inputs
    target = batch_free_shape("Reshape", node.params["shape"], node.params2["shape"], a)
    shape = e.const(e.fresh(node, "shape"), np.array(target, np.int64))
    e.node("Reshape", [e.ref(a), shape], node.output)


def batch_free_shape(op, target, target2, a):
    """A Reshape target that holds for every batch size: a dimension that differs between
    the two runs becomes 0 (copy the input's, when the input has it at the same place) or
    -1 (when it is the only one)."""
    target, target2 = tuple(target), tuple(target2)
    out = []
    for i, (n, n2) in enumerate(zip(target, target2)):
        if n == n2:
            out.append(n)
        elif i < len(a.shape) and (a.shape[i], a.shape2[i]) == (n, n2):
            out.append(0)
        else:
            out.append(None)
    if out.count(None) == 1 and -1 not in out:
        out[out.index(None)] = -1
    if None in out or len(target) != len(target2):
        raise ExportError(f"cannot export op {op} to {target}: more than one of its sizes "
                          f"follows the batch ({target} for one batch, {target2} for another)")
    return out


def broadcast_to(e, node):
    a, = node.inputs
    shape, shape2 = tuple(node.params["shape"]), tuple(node.params2["shape"])
    lead = len(shape) - len(a.shape)  # a's axes are the last ones of shape
    target = []
    for i, (n, n2) in enumerate(zip(shape, shape2)):
        j = i - lead
        if n == n2:
            target.append(n)
        elif j >= 0 and (a.shape[j], a.shape2[j]) == (n, n2):
            target.append(1)  # a has the batch here: Expand keeps it
        else:
            raise ExportError(f"cannot export op BroadcastTo from {a.shape} to {shape}: the "
                              f"batch-sized axis {i} is not in the input")
    target = e.const(e.fresh(node, "shape"), np.array(target, np.int64))
    e.node("Expand", [e.ref(a), target], node.output)


def reduction(onnx_op):
    """Sum, Mean, Max over `axes` (ReduceSum takes them as an input at opset 13, the
    others as an attribute until opset 18); no axes is no reduction, as in NumPy."""
    def write(e, node):
        a, = node.inputs
        axes, keepdims = list(node.params["axes"]), int(bool(node.params["keepdims"]))
        if not axes:
            e.node("Identity", [e.ref(a)], node.output)
        elif onnx_op == "ReduceSum":
            axes = e.const(e.fresh(node, "axes"), np.array(axes, np.int64))
            e.node(onnx_op, [e.ref(a), axes], node.output, keepdims=keepdims)
        else:
            e.node(onnx_op, [e.ref(a)], node.output, axes=axes, keepdims=keepdims)
    write.__name__ = onnx_op
    return write


def get_item(e, node):
    """Basic indexing with ints and slices of step >= 1: Slice, then Squeeze the ints."""
    a, = node.inputs
    index, index2 = (i if isinstance(i, tuple) else (i,)
                     for i in (node.params["index"], node.params2["index"]))
    while index and index[-1] is Ellipsis:  # a trailing "..." selects the rest: nothing to do
        index = index[:-1]
    while index2 and index2[-1] is Ellipsis:
        index2 = index2[:-1]
    supported = all(isinstance(i, int) or isinstance(i, slice) and (i.step or 1) >= 1
                    for i in index)
    if not supported or index != index2:
        raise ExportError(f"cannot export op GetItem with index {index!r}: only ints and "
                          f"slices of step >= 1, the same for every batch size")
    starts, ends, steps, squeezed = [], [], [], []
    for axis, i in enumerate(index):
        if isinstance(i, int):
            starts.append(i)
            ends.append(i + 1 if i != -1 else INT64_MAX)
            steps.append(1)
            squeezed.append(axis)
        else:
            starts.append(0 if i.start is None else i.start)
            ends.append(INT64_MAX if i.stop is None else i.stop)
            steps.append(i.step or 1)
    inputs = [e.ref(a)] + [e.const(e.fresh(node, name), np.array(values, np.int64))
                           for name, values in (("starts", starts), ("ends", ends),
                                                ("axes", list(range(len(index)))),
                                                ("steps", steps))]
    if not squeezed:
        e.node("Slice", inputs, node.output)
        return
    sliced = e.node("Slice", inputs, e.fresh(node, "slice"))
    axes = e.const(e.fresh(node, "squeeze_axes"), np.array(squeezed, np.int64))
    e.node("Squeeze", [sliced, axes], node.output)


# Every op export knows, by the name of its class in minigan/ops/. An op missing here
# stops the export with one error naming it (tests/test_onnx_export.py checks each).
OPS = {
    "Linear": linear,
    "MatMul": binary("MatMul"),
    "Conv2d": conv2d,
    "ConvTranspose2d": conv_transpose2d,
    "BatchNorm": batch_norm,
    "ReLU": unary("Relu"),
    "LeakyReLU": leaky_relu,
    "Tanh": unary("Tanh"),
    "Sigmoid": unary("Sigmoid"),
    "Add": binary("Add"),
    "Sub": binary("Sub"),
    "Mul": binary("Mul"),
    "Div": binary("Div"),
    "Pow": binary("Pow"),
    "Neg": unary("Neg"),
    "Exp": unary("Exp"),
    "Log": unary("Log"),
    "Log1p": log1p,
    "Where": where,
    "Gather": gather,
    "Cat": cat,
    "Reshape": reshape,
    "Permute": permute,
    "BroadcastTo": broadcast_to,
    "GetItem": get_item,
    "Sum": reduction("ReduceSum"),
    "Mean": reduction("ReduceMean"),
    "Max": reduction("ReduceMax"),
    "Cast": cast,
    "ToDevice": unary("Identity"),  # one device in an ONNX graph
    "Clone": unary("Identity"),  # a copy: ONNX values are never written in place
}


def translate(e, node):
    """Write node's ONNX nodes (trace.py has refused every op OPS does not hold)."""
    OPS[node.op](e, node)
