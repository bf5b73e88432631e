"""minigan.onnx: a model's forward pass as an ONNX model (needs minigan[onnx]).

    minigan.onnx.export(G, (z, labels), "generator.onnx")

ONNX is the ecosystem's exchange format for trained networks: ONNX Runtime runs the file
on servers, phones and in the browser, with no Python and no minigan. The exporter runs
the forward once (twice, to find the batch axis) with autograd.tracing(), which keeps
every op call, and writes one ONNX node per op (translate.py; trace.py says what is an
input, a node or a constant). Reading order: trace.py -> translate.py -> export.py.
The onnx package is imported only when export runs.
"""
from .export import OPSET, export, trace_model
from .trace import ExportError

__all__ = ["export", "trace_model", "ExportError", "OPSET"]
