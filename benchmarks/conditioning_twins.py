"""PyTorch twins of the conditioning schemes' models and losses (minigan/models/acgan.py,
projection.py, minigan/methods/conditioning.py), written once more in torch.

Each twin wraps the twin of the unconditional model inside (twins.TWINS), under the same
attribute names, so minigan's state_dict loads key for key. A spectral-normed class
embedding (--spectral-norm with projection) gets torch's spectral_norm, as the layers do.
"""
import torch
from torch import nn as tnn
from torch.nn import functional as tF


def inner_twin(model):
    from .twins import TWINS

    return TWINS[type(model).__name__](model)


def layers_of(twin):
    return twin.model if hasattr(twin, "model") else twin.main


def embedding_twin(embed):
    """tnn.Embedding of minigan's Embedding's size, spectral-normed if it is."""
    twin = tnn.Embedding(embed.num_embeddings, embed.embedding_dim)
    if "weight_orig" in dict(embed.named_parameters()):
        twin = tnn.utils.spectral_norm(twin)
    return twin


class ACGANGeneratorTwin(tnn.Module):
    """As minigan.models.ACGANGenerator: G0(z * label_emb(y))."""

    def __init__(self, g):
        super().__init__()
        self.net = inner_twin(g.net)
        self.label_emb = embedding_twin(g.label_emb)

    def forward(self, z, labels=None):
        z = z.reshape(z.shape[0], -1)  # (N, nz), also from (N, nz, 1, 1)
        return self.net(z * self.label_emb(labels))


class ACGANDiscriminatorTwin(tnn.Module):
    """As minigan.models.ACGANDiscriminator: features, then the adversarial and class heads."""

    def __init__(self, d):
        super().__init__()
        from .twins import torch_layer

        self.net, self.flatten = inner_twin(d.net), d.flatten
        self.num_classes = d.num_classes
        self.classifier = torch_layer(d.classifier)
        if "weight_orig" in dict(d.classifier.named_parameters()):
            self.classifier = tnn.utils.spectral_norm(self.classifier)

    def features(self, x):
        x = x.reshape(x.shape[0], -1) if self.flatten else x
        return layers_of(self.net)[:-1](x)

    def forward_with_classes(self, x):
        h = self.features(x)
        return (layers_of(self.net)[-1](h).reshape(-1),
                self.classifier(h).reshape(x.shape[0], self.num_classes))

    def forward(self, x, labels=None):
        return layers_of(self.net)[-1](self.features(x)).reshape(-1)


class ConditionalBatchNormTwin(tnn.Module):
    """As minigan.models.projection.ConditionalBatchNorm: gamma[y] * BN(x) + beta[y]."""

    def __init__(self, cbn):
        super().__init__()
        self.eps, self.momentum = cbn.eps, cbn.momentum
        self.weight = tnn.Parameter(torch.ones(tuple(cbn.weight.shape)))
        self.bias = tnn.Parameter(torch.zeros(tuple(cbn.bias.shape)))
        self.register_buffer("running_mean", torch.zeros(cbn.num_features))
        self.register_buffer("running_var", torch.ones(cbn.num_features))

    def forward(self, x, labels):
        x_hat = tF.batch_norm(x, self.running_mean, self.running_var, training=self.training,
                              momentum=self.momentum, eps=self.eps)
        gamma, beta = self.weight[labels], self.bias[labels]  # (N, C)
        if x.dim() == 4:
            gamma, beta = gamma[:, :, None, None], beta[:, :, None, None]
        return gamma * x_hat + beta


class ProjectionGeneratorTwin(tnn.Module):
    """As minigan.models.ProjectionGenerator: G0's layers, BatchNorm made conditional."""

    def __init__(self, g):
        super().__init__()
        from minigan.models.projection import ConditionalBatchNorm

        from .twins import torch_layer

        self.nz, self.output_shape, self.image_noise = g.nz, g.output_shape, g.image_noise
        layers = [ConditionalBatchNormTwin(m) if isinstance(m, ConditionalBatchNorm)
                  else torch_layer(m) for m in layers_of(g.net)]
        self.net = tnn.Module()
        setattr(self.net, "model" if "model" in g.net._modules else "main",
                tnn.Sequential(*layers))

    def forward(self, z, labels=None):
        z = z.reshape(z.shape[0], -1)
        h = z.reshape(z.shape[0], self.nz, 1, 1) if self.image_noise else z
        for layer in layers_of(self.net):
            h = layer(h, labels) if isinstance(layer, ConditionalBatchNormTwin) else layer(h)
        return h.reshape(z.shape[0], *self.output_shape)


class ProjectionDiscriminatorTwin(tnn.Module):
    """As minigan.models.ProjectionDiscriminator: psi(h) + <embed(y), pool(h)>."""

    def __init__(self, d):
        super().__init__()
        self.net, self.flatten = inner_twin(d.net), d.flatten
        self.embed = embedding_twin(d.embed)

    def forward(self, x, labels=None):
        n = x.shape[0]
        x = x.reshape(n, -1) if self.flatten else x
        layers = layers_of(self.net)
        h = layers[:-1](x)
        pooled = h if h.dim() == 2 else h.sum(dim=(2, 3))
        return layers[-1](h).reshape(-1) + (self.embed(labels) * pooled).sum(dim=1)


CONDITIONING_TWINS = {"ACGANGenerator": ACGANGeneratorTwin,
                      "ACGANDiscriminator": ACGANDiscriminatorTwin,
                      "ProjectionGenerator": ProjectionGeneratorTwin,
                      "ProjectionDiscriminator": ProjectionDiscriminatorTwin}


def torch_discriminate(D, x, labels, conditioning):
    """(logits, class logits or None), as minigan.methods.conditioning's discriminate."""
    if conditioning == "acgan":
        return D.forward_with_classes(x)
    return D(x, labels), None


def torch_d_extra(conditioning, real_classes, real_labels, fake_classes, fake_labels):
    """AC-GAN's L_C on real and generated images (0 for the other schemes)."""
    if conditioning != "acgan":
        return 0.0
    return tF.cross_entropy(real_classes, real_labels) + tF.cross_entropy(fake_classes,
                                                                          fake_labels)


def torch_g_extra(conditioning, fake_classes, fake_labels):
    """AC-GAN's L_C on generated images (0 for the other schemes)."""
    return tF.cross_entropy(fake_classes, fake_labels) if conditioning == "acgan" else 0.0
