"""PyTorch twins of minigan's GANs, with the weights copied from the minigan models.

`torch_twin(model)` builds the torch.nn module that computes what a minigan model
computes: its Sequential (`model` in the MLP GAN, `main` in the DCGAN, `net` in the toy
MLPs) layer by layer, and the model's own few lines of forward (flatten, reshape,
view(-1), and for the conditional models the one-hot labels joined to the input, see
minigan/models/conditional.py) written once more below. Every twin is called as
twin(x) or twin(x, labels), as the minigan model is. The twin gets minigan's state_dict,
key for key (strict, apart from PyTorch's BatchNorm counter `num_batches_tracked`), so
both start from identical weights. Activations run in place (`inplace=True`), as
pytorch/examples' dcgan builds them, so PyTorch's memory is what its users see; a twin that computed something else would show in the
output check of every step row (steps.py) and in the float64 check of quality.py.
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
    if kind == "LeakyReLU":  # in place, as pytorch/examples' dcgan builds it
        return tnn.LeakyReLU(layer.negative_slope, inplace=True)
    if kind == "ReLU":
        return tnn.ReLU(inplace=True)
    if kind in ("Tanh", "Sigmoid", "Flatten"):
        return getattr(tnn, kind)()
    raise TypeError(f"no PyTorch twin for minigan layer {kind}")


def sequential_twin(sequential):
    return tnn.Sequential(*(torch_layer(layer) for layer in sequential))


def one_hot(labels, num_classes, like):
    """(N,) int labels -> (N, K) of 0/1 with like's dtype, as minigan.models.one_hot."""
    return tnn.functional.one_hot(labels, num_classes).to(like.dtype)


def label_maps(labels, num_classes, like):
    """(N,) int labels -> (N, K, H, W) constant maps, as minigan.models.label_maps."""
    n, _, h, w = like.shape
    return one_hot(labels, num_classes, like)[:, :, None, None].expand(n, num_classes, h, w)


class MLPGeneratorTwin(tnn.Module):
    """As minigan.models.MLPGenerator: z (N, nz) [+ onehot (N, K)] -> model -> (N, C, H, W)."""

    def __init__(self, g):
        super().__init__()
        self.output_shape, self.num_classes = g.output_shape, g.num_classes
        self.model = sequential_twin(g.model)

    def forward(self, z, labels=None):
        if self.num_classes:
            z = torch.cat([z, one_hot(labels, self.num_classes, z)], dim=1)  # (N, nz + K)
        return self.model(z).view(z.shape[0], *self.output_shape)


class MLPDiscriminatorTwin(tnn.Module):
    """As minigan.models.MLPDiscriminator: (N, C, H, W) -> flatten [+ onehot] -> model ->
    logits (N,)."""

    def __init__(self, d):
        super().__init__()
        self.num_classes = d.num_classes
        self.model = sequential_twin(d.model)

    def forward(self, x, labels=None):
        x = x.reshape(x.shape[0], -1)  # (N, C*H*W)
        if self.num_classes:
            x = torch.cat([x, one_hot(labels, self.num_classes, x)], dim=1)  # (N, C*H*W + K)
        return self.model(x).view(-1)


class DCGANGeneratorTwin(tnn.Module):
    """As minigan.models.DCGANGenerator: z (N, nz) [+ onehot] -> (N, nz [+ K], 1, 1) -> main."""

    def __init__(self, g):
        super().__init__()
        self.num_classes = g.num_classes
        self.main = sequential_twin(g.main)

    def forward(self, z, labels=None):
        z = z.reshape(z.shape[0], -1)  # (N, nz), also from (N, nz, 1, 1)
        if self.num_classes:
            z = torch.cat([z, one_hot(labels, self.num_classes, z)], dim=1)  # (N, nz + K)
        return self.main(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminatorTwin(tnn.Module):
    """As minigan.models.DCGANDiscriminator: (N, C, H, W) [+ K label maps] -> main ->
    logits (N,)."""

    def __init__(self, d):
        super().__init__()
        self.num_classes = d.num_classes
        self.main = sequential_twin(d.main)

    def forward(self, x, labels=None):
        if self.num_classes:
            x = torch.cat([x, label_maps(labels, self.num_classes, x)], dim=1)  # (N, C+K, H, W)
        return self.main(x).view(-1)


class ToyGeneratorTwin(tnn.Module):
    """As minigan.models.ToyGenerator: z (N, nz) -> net -> points (N, dim)."""

    def __init__(self, g):
        super().__init__()
        self.net = sequential_twin(g.net)

    def forward(self, z, labels=None):
        return self.net(z)


class ToyDiscriminatorTwin(tnn.Module):
    """As minigan.models.ToyDiscriminator: points (N, dim) -> net -> logits (N,)."""

    def __init__(self, d):
        super().__init__()
        self.net = sequential_twin(d.net)

    def forward(self, x, labels=None):
        return self.net(x).view(-1)


TWINS = {"MLPGenerator": MLPGeneratorTwin, "MLPDiscriminator": MLPDiscriminatorTwin,
         "DCGANGenerator": DCGANGeneratorTwin, "DCGANDiscriminator": DCGANDiscriminatorTwin,
         "ToyGenerator": ToyGeneratorTwin, "ToyDiscriminator": ToyDiscriminatorTwin}


def torch_twin(model, device="cpu"):
    """The PyTorch twin of a minigan model, holding a copy of its weights and buffers."""
    kind = type(model).__name__
    if kind not in TWINS:
        raise TypeError(f"no PyTorch twin for {kind}")
    twin = TWINS[kind](model)
    state = {key: torch.from_numpy(np.ascontiguousarray(value))
             for key, value in model.state_dict().items()}
    missing, unexpected = twin.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"the twin of {kind} does not match it: missing {missing}, "
                         f"unexpected {unexpected}")
    return twin.to(device)

