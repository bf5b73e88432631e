"""PyTorch twins of minigan's GANs, with the weights copied from the minigan models.

`torch_twin(model)` builds the torch.nn module that computes what a minigan model
computes: its Sequential (`model` in the MLP GAN, `main` in the DCGAN) layer by layer,
and the model's own few lines of forward (flatten, reshape, view(-1)) written once more
below. The twin gets minigan's state_dict, key for key (strict, apart from PyTorch's
BatchNorm counter `num_batches_tracked`), so both start from identical weights; a twin
that computed something else would show in the output check of every step row.
"""
import numpy as np
import torch
from torch import nn as tnn


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def torch_layer(layer):
    """The torch.nn layer with the same settings as one minigan layer (weights not copied)."""
    kind = type(layer).__name__
    if kind == "Linear":
        return tnn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
    if kind in ("Conv2d", "ConvTranspose2d"):
        w = layer.weight.shape  # Conv2d (C_out, C_in, kh, kw); ConvTranspose2d (C_in, C_out, ...)
        c_in, c_out = (w[1], w[0]) if kind == "Conv2d" else (w[0], w[1])
        settings = dict(stride=_pair(layer.stride), padding=_pair(layer.padding),
                        bias=layer.bias is not None)
        if kind == "ConvTranspose2d":
            settings["output_padding"] = _pair(getattr(layer, "output_padding", 0))
        return getattr(tnn, kind)(c_in, c_out, tuple(w[2:]), **settings)
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        return getattr(tnn, kind)(layer.weight.shape[0], eps=layer.eps, momentum=layer.momentum)
    if kind == "LeakyReLU":
        return tnn.LeakyReLU(layer.negative_slope)
    if kind in ("ReLU", "Tanh", "Sigmoid", "Flatten"):
        return getattr(tnn, kind)()
    raise TypeError(f"no PyTorch twin for minigan layer {kind}")


def sequential_twin(sequential):
    return tnn.Sequential(*(torch_layer(layer) for layer in sequential))


class MLPGeneratorTwin(tnn.Module):
    """As minigan.models.MLPGenerator: z (N, nz) -> model -> (N, C, H, W)."""

    def __init__(self, g):
        super().__init__()
        self.output_shape = g.output_shape
        self.model = sequential_twin(g.model)

    def forward(self, z):
        return self.model(z).view(z.shape[0], *self.output_shape)


class MLPDiscriminatorTwin(tnn.Module):
    """As minigan.models.MLPDiscriminator: (N, C, H, W) -> flatten -> model -> logits (N,)."""

    def __init__(self, d):
        super().__init__()
        self.model = sequential_twin(d.model)

    def forward(self, x):
        return self.model(x.reshape(x.shape[0], -1)).view(-1)


class DCGANGeneratorTwin(tnn.Module):
    """As minigan.models.DCGANGenerator: z (N, nz) -> (N, nz, 1, 1) -> main."""

    def __init__(self, g):
        super().__init__()
        self.main = sequential_twin(g.main)

    def forward(self, z):
        return self.main(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminatorTwin(tnn.Module):
    """As minigan.models.DCGANDiscriminator: (N, C, H, W) -> main -> logits (N,)."""

    def __init__(self, d):
        super().__init__()
        self.main = sequential_twin(d.main)

    def forward(self, x):
        return self.main(x).view(-1)


TWINS = {"MLPGenerator": MLPGeneratorTwin, "MLPDiscriminator": MLPDiscriminatorTwin,
         "DCGANGenerator": DCGANGeneratorTwin, "DCGANDiscriminator": DCGANDiscriminatorTwin}


def torch_twin(model, device="cpu"):
    """The PyTorch twin of a minigan model, holding a copy of its weights and buffers."""
    kind = type(model).__name__
    if kind not in TWINS or getattr(model, "conditional", False):
        raise TypeError(f"no PyTorch twin for {kind}" + (" (conditional)" if kind in TWINS else ""))
    twin = TWINS[kind](model)
    state = {key: torch.from_numpy(np.ascontiguousarray(value))
             for key, value in model.state_dict().items()}
    missing, unexpected = twin.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"the twin of {kind} does not match it: missing {missing}, "
                         f"unexpected {unexpected}")
    return twin.to(device)

