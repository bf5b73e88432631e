"""PyTorch twins of minigan's GANs, with the weights copied from the minigan models.

`torch_twin(model)` builds the torch.nn module that computes what a minigan model
computes: its Sequential (`model` in the MLP GAN, `main` in the DCGAN, `net` in the toy
MLPs) layer by layer, and the model's own few lines of forward (flatten, reshape,
view(-1), and for the conditional models the one-hot labels joined to the input, see
minigan/models/conditional.py) written once more below. Every twin is called as
twin(x) or twin(x, labels), as the minigan model is. The twin gets minigan's state_dict,
key for key (strict, apart from PyTorch's BatchNorm counter `num_batches_tracked`), so
both start from identical weights. Activations run in place (`inplace=True`), as
pytorch/examples' dcgan builds them, so PyTorch's memory is what its users see. A twin
that computed something else would show in the output check of every step row
(steps.py) and in the float64 check of quality.py.
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
    """The Sequential's twin; a spectral-normed layer (it has weight_orig) gets PyTorch's
    spectral_norm, whose weight_orig, weight_u and weight_v the state_dict then fills."""
    layers = []
    for layer in sequential:
        twin = torch_layer(layer)
        if "weight_orig" in dict(layer.named_parameters()):
            twin = tnn.utils.spectral_norm(twin)
        layers.append(twin)
    return tnn.Sequential(*layers)


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
    from .conditioning_twins import CONDITIONING_TWINS  # noqa: PLC0415 - it imports this file

    kind = type(model).__name__
    twins = {**TWINS, **CONDITIONING_TWINS}
    if kind not in twins:
        raise TypeError(f"no PyTorch twin for {kind}")
    twin = twins[kind](model)
    state = {key: torch.from_numpy(np.ascontiguousarray(value))
             for key, value in model.state_dict().items()}
    missing, unexpected = twin.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"the twin of {kind} does not match it: missing {missing}, "
                         f"unexpected {unexpected}")
    return twin.to(device)



# ----------------------------------------------------------------------------- the methods
def torch_d_loss(name, real, fake):
    """D's loss of minigan.methods.losses, in PyTorch, term for term."""
    from torch.nn import functional as tF

    if name == "gan":
        return (tF.binary_cross_entropy_with_logits(real, torch.ones_like(real)) +
                tF.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    if name == "lsgan":
        return (0.5 * tF.mse_loss(real, torch.ones_like(real)) +
                0.5 * tF.mse_loss(fake, torch.zeros_like(fake)))
    if name == "hinge":
        return tF.relu(1.0 - real).mean() + tF.relu(1.0 + fake).mean()
    return fake.mean() - real.mean()  # wgan


def torch_g_loss(name, g_loss, fake):
    """G's loss of minigan.methods.losses, in PyTorch."""
    from torch.nn import functional as tF

    if name == "gan":
        if g_loss == "saturating":
            return -tF.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
        return tF.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if name == "lsgan":
        return 0.5 * tF.mse_loss(fake, torch.ones_like(fake))
    return -fake.mean()  # hinge and wgan


def torch_input_gradient(D, x, labels):
    x = x.detach().requires_grad_()
    g, = torch.autograd.grad(D(x, labels).sum(), x, create_graph=True)
    return g.reshape(g.shape[0], -1)  # (N, features)


def torch_gradient_penalty(D, real, fake, labels, eps, weight):
    """WGAN-GP as minigan.methods.penalties.gradient_penalty."""
    eps = eps.reshape(eps.shape[0], *([1] * (real.dim() - 1)))
    x_hat = eps * real + (1.0 - eps) * fake
    g = torch_input_gradient(D, x_hat, labels)
    norm = (g * g).sum(dim=1) ** 0.5
    return weight * ((norm - 1.0) ** 2).mean()


def torch_r1_penalty(D, real, labels, gamma):
    """R1 as minigan.methods.penalties.r1_penalty."""
    g = torch_input_gradient(D, real, labels)
    return (gamma / 2) * (g * g).sum(dim=1).mean()


class TorchGAN:
    """minigan's GANUpdater in PyTorch, for twins: the same loss pair, penalty, clipping,
    EMA and learning rates, on inputs given as arrays (benchmarks/quality.step_inputs)."""

    def __init__(self, G, D, config, G_ema=None):
        self.G, self.D, self.config, self.G_ema = G, D, config, G_ema
        betas = (config.beta1, config.beta2)
        lr_g = config.lr if config.lr_g is None else config.lr_g
        lr_d = config.lr if config.lr_d is None else config.lr_d
        self.opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas)

    def step(self, inputs, dtype):
        """One step on ([(x, real_labels, z, fake_labels, eps)] * k, (z, fake_labels));
        returns (loss_D, loss_G) of the last D step and of the G step."""
        G, D, config = self.G, self.D, self.config

        def x_(a):
            return None if a is None else torch.from_numpy(a.astype(dtype, copy=False))

        def y_(labels):
            return None if labels is None else torch.from_numpy(labels)

        from .conditioning_twins import torch_d_extra, torch_discriminate, torch_g_extra

        scheme = getattr(config, "conditioning", "concat")
        d_inputs, (z, fake_labels) = inputs
        for x, real_labels, d_z, d_fake_labels, eps in d_inputs:
            x, real_labels, d_fake_labels = x_(x), y_(real_labels), y_(d_fake_labels)
            real_logits, real_classes = torch_discriminate(D, x, real_labels, scheme)
            fake = G(x_(d_z), d_fake_labels).detach()
            fake_logits, fake_classes = torch_discriminate(D, fake, d_fake_labels, scheme)
            loss_d = torch_d_loss(config.loss, real_logits, fake_logits)
            loss_d = loss_d + torch_d_extra(scheme, real_classes, real_labels, fake_classes,
                                            d_fake_labels)
            if config.gp:
                loss_d = loss_d + torch_gradient_penalty(D, x, fake, real_labels, x_(eps),
                                                         config.gp)
            elif config.r1:
                loss_d = loss_d + torch_r1_penalty(D, x, real_labels, config.r1)
            self.opt_d.zero_grad()
            loss_d.backward()
            self.opt_d.step()
            if config.clip is not None:
                with torch.no_grad():
                    for p in D.parameters():
                        p.clamp_(-config.clip, config.clip)
        fake_labels = y_(fake_labels)
        logits, classes = torch_discriminate(D, G(x_(z), fake_labels), fake_labels, scheme)
        loss_g = torch_g_loss(config.loss, config.g_loss, logits)
        loss_g = loss_g + torch_g_extra(scheme, classes, fake_labels)
        self.opt_g.zero_grad()
        loss_g.backward()  # D's .grad too; the next opt_d.zero_grad() drops them
        self.opt_g.step()
        if self.G_ema is not None:
            with torch.no_grad():
                for p_ema, p in zip(self.G_ema.parameters(), G.parameters()):
                    p_ema.mul_(config.ema)
                    p_ema.add_((1.0 - config.ema) * p)
                for b_ema, b in zip(self.G_ema.buffers(), G.buffers()):
                    b_ema.copy_(b)
        return loss_d.item(), loss_g.item()
