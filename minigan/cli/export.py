"""`minigan export`: a trained network taken out of minigan, as ONNX or safetensors.

    minigan export --checkpoint RUN/checkpoints/last.npz --format onnx --out G.onnx
    minigan export --checkpoint RUN --format safetensors --out G.safetensors [--net D]

The generator by default (its EMA weights when the run kept them, unless --no-ema), the
discriminator with --net D.
    onnx         the network's forward as an ONNX model (minigan.onnx.export; needs
                 minigan[onnx]): G takes z (batch, nz) float32, and a conditional G also
                 labels (batch,) int64, and gives images (batch, C, H, W) in [-1, 1] or
                 points (batch, 2); D takes x [and labels] and gives logits (batch,)
    safetensors  the state_dict under PyTorch's keys (needs minigan[safetensors]): the same
                 architecture written in PyTorch loads it with
                 model.load_state_dict(safetensors.torch.load_file(PATH))
"""
import json
import os

import numpy as np

from .. import onnx as minigan_onnx
from ..backend import Generator
from ..creation import randn
from ..evaluation.sampling import build_models
from ..store import atomic, checkpoint

FORMATS = ("onnx", "safetensors")
NETS = ("G", "D")
EXAMPLE_BATCH = 2  # the batch the ONNX export traces; the model takes any


def network_from_checkpoint(path, net="G", ema=True):
    """(the network G or D on the CPU in eval mode, the Checkpoint, which weights: "the
    EMA generator" or "the generator" or "the discriminator")."""
    ckpt = checkpoint.read_checkpoint(path)
    spec = dict(ckpt.model_spec)
    if spec.get("image_shape") is not None:
        spec["image_shape"] = tuple(spec["image_shape"])
    with ckpt.bounding_allocations():
        try:
            G, D = build_models(spec, "cpu", ckpt.seed)
        except (TypeError, ValueError, KeyError) as err:
            raise checkpoint.refuse(ckpt.path, f"its model description {ckpt.model_spec} "
                                               f"cannot be built ({err})") from None
    if net == "D":
        ckpt.load_into(D=D)
        return D.eval(), ckpt, "the discriminator"
    if ema and ckpt.has_ema:
        ckpt.load_into(G_ema=G)
        return G.eval(), ckpt, f"the EMA generator (decay {ckpt.config.get('ema')})"
    ckpt.load_into(G=G)
    return G.eval(), ckpt, "the generator"


def example_inputs(network, net):
    """The inputs export traces: noise z (or images x for D), and labels if conditional."""
    gen = Generator("cpu", seed=0)
    shape = (network.nz,) if net == "G" else network.input_shape
    x = randn(EXAMPLE_BATCH, *shape, generator=gen)
    if not network.conditional:
        return (x,), ["z" if net == "G" else "x"]
    labels = np.arange(EXAMPLE_BATCH, dtype=np.int64) % network.num_classes
    return (x, labels), ["z" if net == "G" else "x", "labels"]


def save_safetensors(network, path, metadata=None):
    """network.state_dict() (host arrays, PyTorch's keys) as a safetensors file; metadata:
    a {str: str} dict stored in its header."""
    try:
        from safetensors.numpy import save  # noqa: PLC0415 - optional: minigan[safetensors]
    except ImportError as err:
        raise ImportError("writing safetensors needs the safetensors package: pip install "
                          "'minigan[safetensors]'") from err
    state = {k: np.ascontiguousarray(v) for k, v in network.state_dict().items()}
    with atomic.atomic_write(os.fspath(path)) as f:
        f.write(save(state, metadata=metadata))


def export_checkpoint(path, fmt, out, net="G", ema=True):
    """Write the checkpoint's network to `out` in format `fmt`; returns a one-line report."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if net not in NETS:
        raise ValueError(f"unknown network {net!r}: expected G or D")
    if os.path.isdir(out):
        raise ValueError(f"--out {out} is a folder: give the name of the file to write")
    network, ckpt, which = network_from_checkpoint(path, net, ema)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    except OSError as err:
        raise OSError(f"cannot write {out}: {atomic.reason(err)}") from err
    if fmt == "safetensors":
        save_safetensors(network, out, metadata={
            "format": "pt", "producer": "minigan", "network": which,
            "model": json.dumps(ckpt.model_spec), "step": str(ckpt.step)})
        count = len(network.state_dict())
        return f"wrote {which} of step {ckpt.step} ({count} tensors, PyTorch's keys) to {out}"
    inputs, names = example_inputs(network, net)
    output = "logits" if net == "D" else "images" if len(network.output_shape) == 3 else "points"
    model = minigan_onnx.trace_model(network, inputs, input_names=names, output_names=[output])
    with atomic.atomic_write(os.fspath(out)) as f:  # the file whole, or not at all
        f.write(model.SerializeToString())
    return (f"wrote {which} of step {ckpt.step} as ONNX (opset {minigan_onnx.OPSET}) to {out}: "
            f"{signature(model)}")


def signature(model):
    """"inputs z (batch, 100) float32, labels (batch,) int64; output images (batch, 1, 28,
    28) float32" from an ONNX model's graph."""
    from onnx import helper  # noqa: PLC0415 - optional

    def describe(v):
        t = v.type.tensor_type
        dims = [d.dim_param or str(d.dim_value) for d in t.shape.dim]
        shape = f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
        return f"{v.name} {shape} {helper.tensor_dtype_to_np_dtype(t.elem_type)}"

    return (f"inputs {', '.join(map(describe, model.graph.input))}; "
            f"output {', '.join(map(describe, model.graph.output))}")
