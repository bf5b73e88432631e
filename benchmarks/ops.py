"""Rows for single ops, forward + backward in float32, at the layer shapes of the GANs.

conv2d and conv_transpose2d at every layer of the DCGAN-64 (as pytorch/examples builds
it, batch 64) and of the 28x28 DCGAN, batch_norm in training mode at the DCGANs' 4-D
(and, where a model has them, 2-D) shapes, linear at the MLP GAN's shapes. Where
minigan.models exists, the shapes are read off the models themselves by recording
each layer's input during one forward pass; the DCGAN-64 table below is the fallback
and a cross-check. Every row differentiates with respect to the input and every
weight, with one fixed random upstream gradient.
"""
import numpy as np

from .timing import Contender, Row

CONV_TARGET = 1.5  # minigan/PyTorch, median, per conv and conv-transpose layer

# The DCGAN-64 of pytorch/examples (ndf = ngf = 64, nc = 3, nz = 100) at batch 64:
# (op, x shape, weight shape, stride, padding, where)
DCGAN64_LAYERS = [
    ("conv2d", (64, 3, 64, 64), (64, 3, 4, 4), 2, 1, "D.0"),
    ("conv2d", (64, 64, 32, 32), (128, 64, 4, 4), 2, 1, "D.1"),
    ("conv2d", (64, 128, 16, 16), (256, 128, 4, 4), 2, 1, "D.2"),
    ("conv2d", (64, 256, 8, 8), (512, 256, 4, 4), 2, 1, "D.3"),
    ("conv2d", (64, 512, 4, 4), (1, 512, 4, 4), 1, 0, "D.4"),
    ("conv_transpose2d", (64, 100, 1, 1), (100, 512, 4, 4), 1, 0, "G.0"),
    ("conv_transpose2d", (64, 512, 4, 4), (512, 256, 4, 4), 2, 1, "G.1"),
    ("conv_transpose2d", (64, 256, 8, 8), (256, 128, 4, 4), 2, 1, "G.2"),
    ("conv_transpose2d", (64, 128, 16, 16), (128, 64, 4, 4), 2, 1, "G.3"),
    ("conv_transpose2d", (64, 64, 32, 32), (64, 3, 4, 4), 2, 1, "G.4"),
]
DCGAN64_BATCHNORM = [(64, 128, 16, 16), (64, 256, 8, 8), (64, 512, 4, 4), (64, 64, 32, 32)]
# The classic MLP GAN (G: 100-256-512-1024-784, D: 784-512-256-1) at batch 64, used until
# minigan.models exists: (x shape, weight shape)
MLP_LINEAR = [((64, 100), (256, 100)), ((64, 256), (512, 256)), ((64, 512), (1024, 512)),
              ((64, 1024), (784, 1024)), ((64, 784), (512, 784)), ((64, 512), (256, 512)),
              ((64, 256), (1, 256))]


# -- the two sides of one op ------------------------------------------------------------
def _leaves(arrays, device):
    """The same host arrays as minigan and torch tensors that require grad."""
    import torch

    import minigan

    m = [minigan.tensor(a, device=device, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, device=device, requires_grad=True) for a in arrays]
    return m, t


def _contenders(device, arrays, grad_out, minigan_fn, torch_fn, extra=None):
    """Contenders that zero the leaves' grads, run fn(*leaves), backward(grad_out), and
    return the output and every leaf's gradient (plus `extra()` outputs, e.g. buffers)."""
    import torch

    import minigan
    from minigan import backend

    m_leaves, t_leaves = _leaves(arrays, device)
    m_grad = minigan.tensor(grad_out, device=device)
    t_grad = torch.tensor(grad_out, device=device)

    def make(fn, leaves, grad, extra_of, sync):
        def run():
            for leaf in leaves:
                leaf.grad = None
            out = fn(*leaves)
            out.backward(grad)
            return {"out": out}

        def more_outputs():
            grads = {f"grad_{i}": leaf.grad for i, leaf in enumerate(leaves)}
            return {**grads, **(extra_of() if extra_of else {})}
        return Contender(run, sync, more_outputs)

    m_extra, t_extra = (extra or (None, None))
    t_sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return {"minigan": make(minigan_fn, m_leaves, m_grad, m_extra, backend.synchronize),
            "torch": make(torch_fn, t_leaves, t_grad, t_extra, t_sync)}


def conv_out_shape(op, x_shape, w_shape, stride, padding, output_padding=0):
    n, _, h, w = x_shape
    if op == "conv2d":
        c_out, _, kh, kw = w_shape
        return n, c_out, (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    _, c_out, kh, kw = w_shape
    return (n, c_out, (h - 1) * stride - 2 * padding + kh + output_padding,
            (w - 1) * stride - 2 * padding + kw + output_padding)


def conv_row(op, x_shape, w_shape, stride, padding, where, output_padding=0):
    """conv2d or conv_transpose2d (no bias, as in the DCGANs): d/dx and d/dweight."""
    def setup(device):
        import torch.nn.functional as TF

        import minigan.nn.functional as F

        rng = np.random.default_rng(0)
        fan_in = int(np.prod(w_shape[1:])) if op == "conv2d" else w_shape[0]
        x = rng.standard_normal(x_shape, dtype=np.float32)
        w = (rng.standard_normal(w_shape, dtype=np.float32) / np.sqrt(fan_in)).astype(np.float32)
        g = rng.standard_normal(conv_out_shape(op, x_shape, w_shape, stride, padding,
                                               output_padding), dtype=np.float32)
        if op == "conv2d":
            def m_fn(x, w):
                return F.conv2d(x, w, stride=stride, padding=padding)

            def t_fn(x, w):
                return TF.conv2d(x, w, stride=stride, padding=padding)
        else:
            def m_fn(x, w):
                return F.conv_transpose2d(x, w, stride=stride, padding=padding,
                                          output_padding=output_padding)

            def t_fn(x, w):
                return TF.conv_transpose2d(x, w, stride=stride, padding=padding,
                                           output_padding=output_padding)
        return _contenders(device, [x, w], g, m_fn, t_fn)

    c_in, c_out = (w_shape[1], w_shape[0]) if op == "conv2d" else (w_shape[0], w_shape[1])
    name = (f"{where} {op} {c_in}->{c_out} {x_shape[2]}x{x_shape[3]} k{w_shape[2]} s{stride} "
            f"p{padding}" + (f" op{output_padding}" if output_padding else "") + f" b{x_shape[0]}")
    return Row("op", name, setup, target=CONV_TARGET,
               detail=dict(op=op, x=x_shape, weight=w_shape, stride=stride, padding=padding,
                           output_padding=output_padding))


def batch_norm_row(x_shape, where, eps=1e-5, momentum=0.1):
    """batch_norm in training mode: batch statistics, running ones updated; d/dx, weight, bias."""
    c = x_shape[1]

    def setup(device):
        import torch
        import torch.nn.functional as TF

        import minigan
        import minigan.nn.functional as F

        rng = np.random.default_rng(0)
        x = (rng.standard_normal(x_shape, dtype=np.float32) * 2 + 0.5).astype(np.float32)
        weight = (1 + 0.1 * rng.standard_normal(c)).astype(np.float32)
        bias = (0.1 * rng.standard_normal(c)).astype(np.float32)
        g = rng.standard_normal(x_shape, dtype=np.float32)
        m_stats = [minigan.zeros(c, device=device), minigan.ones(c, device=device)]
        t_stats = [torch.zeros(c, device=device), torch.ones(c, device=device)]

        def m_fn(x, weight, bias):
            return F.batch_norm(x, *m_stats, weight, bias, training=True, momentum=momentum,
                                eps=eps)

        def t_fn(x, weight, bias):
            return TF.batch_norm(x, *t_stats, weight, bias, training=True, momentum=momentum,
                                 eps=eps)
        extra = (lambda: {"running_mean": m_stats[0], "running_var": m_stats[1]},
                 lambda: {"running_mean": t_stats[0], "running_var": t_stats[1]})
        return _contenders(device, [x, weight, bias], g, m_fn, t_fn, extra)

    shape = "x".join(map(str, x_shape))
    return Row("op", f"{where} batch_norm {shape}", setup,
               detail=dict(op="batch_norm", x=x_shape, training=True, eps=eps, momentum=momentum))


def linear_row(x_shape, w_shape, where):
    """linear with bias: d/dx, d/dweight, d/dbias."""
    def setup(device):
        import torch.nn.functional as TF

        import minigan.nn.functional as F

        rng = np.random.default_rng(0)
        x = rng.standard_normal(x_shape, dtype=np.float32)
        w = (rng.standard_normal(w_shape) / np.sqrt(w_shape[1])).astype(np.float32)
        b = (0.1 * rng.standard_normal(w_shape[0])).astype(np.float32)
        g = rng.standard_normal((*x_shape[:-1], w_shape[0]), dtype=np.float32)
        return _contenders(device, [x, w, b], g, F.linear, TF.linear)

    return Row("op", f"{where} linear {w_shape[1]}->{w_shape[0]} b{x_shape[0]}", setup,
               detail=dict(op="linear", x=x_shape, weight=w_shape))


# -- the shapes, read off minigan's models where they exist ------------------------------
def op_rows(layers, quick=False):
    """Rows for a list of layer records (see steps.record_layers), duplicates dropped."""
    rows, seen = [], set()
    for layer in layers:
        key = (layer["op"], layer["x"], layer.get("weight"), layer.get("stride"),
               layer.get("padding"), layer.get("output_padding", 0))
        if key in seen:
            continue
        seen.add(key)
        if layer["op"] in ("conv2d", "conv_transpose2d"):
            rows.append(conv_row(layer["op"], layer["x"], layer["weight"], layer["stride"],
                                 layer["padding"], layer["where"], layer.get("output_padding", 0)))
        elif layer["op"] == "batch_norm":
            rows.append(batch_norm_row(layer["x"], layer["where"], eps=layer.get("eps", 1e-5)))
        elif layer["op"] == "linear":
            rows.append(linear_row(layer["x"], layer["weight"], layer["where"]))
    return rows


RECORDED = {"Conv2d": "conv2d", "ConvTranspose2d": "conv_transpose2d", "Linear": "linear",
            "BatchNorm1d": "batch_norm", "BatchNorm2d": "batch_norm"}


def _first(value):
    """A square stride or padding as one int (the DCGANs use square ones)."""
    return value[0] if isinstance(value, (tuple, list)) else value


def model_layers(label, model, image_shape, batch=64, nz=100):
    """Every Conv2d, ConvTranspose2d, BatchNorm and Linear layer of the GAN `model`
    ("mlp" or "dcgan") as a layer record, with the input shape it sees in G(z) and D(G(z))."""
    import minigan
    from minigan.models import build_gan

    minigan.manual_seed(0)
    g, d = build_gan(model, "image", image_shape, nz=nz)
    layers, recorded = [], []
    for prefix, net in (("G", g), ("D", d)):
        for path, layer in net.named_modules():
            op = RECORDED.get(type(layer).__name__)
            if op is None:
                continue

            def forward(x, layer=layer, op=op, where=f"{label} {prefix}.{path}"):
                record = dict(op=op, x=(batch, *x.shape[1:]), where=where)
                if op != "batch_norm":
                    record["weight"] = tuple(layer.weight.shape)
                if op in ("conv2d", "conv_transpose2d"):
                    record.update(stride=_first(layer.stride), padding=_first(layer.padding),
                                  output_padding=_first(getattr(layer, "output_padding", 0)))
                if op == "batch_norm":
                    record["eps"] = layer.eps
                layers.append(record)
                return type(layer).forward(layer, x)
            layer.forward = forward  # an instance attribute shadows the class's forward
            recorded.append(layer)
    with minigan.no_grad():
        d(g(minigan.randn(2, nz)))  # a batch of 2 is enough to see the shapes
    for layer in recorded:
        del layer.forward
    return layers


def fallback_layers():
    """The tables above, as layer records, for when minigan.models is not there."""
    layers = [dict(op=op, x=x, weight=w, stride=s, padding=p, where=f"DCGAN-64 {where}")
              for op, x, w, s, p, where in DCGAN64_LAYERS]
    layers += [dict(op="batch_norm", x=x, where="DCGAN-64") for x in DCGAN64_BATCHNORM]
    layers += [dict(op="linear", x=x, weight=w, where="MLP GAN") for x, w in MLP_LINEAR]
    return layers
