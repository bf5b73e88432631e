"""The projection discriminator (Miyato & Koyama 2018, "cGANs with Projection
Discriminator", arXiv:1802.05637, eq. 3) and its generator with conditional BatchNorm,
built around the unconditional MLP or DCGAN models.

    D(x, y) = psi(h) + <embed(y), pool(h)>,   h = D0's layers but its last (the features)
              psi: D0's last layer (a linear map of h to one logit); embed (K, F) a learned
              class embedding; pool: identity on the MLP's (N, 256), the sum over the
              pixels on DCGAN's (N, C, base, base) -> (N, C) (the paper's global sum pool)
    G(z, y): G0 with every BatchNorm made conditional (de Vries et al. 2017; Miyato &
              Koyama, section 4.1): BN(x) without its own affine, then per class
              gamma_y * BN(x) + beta_y, gamma (K, C) starting at 1, beta (K, C) at 0
The embedding starts from Glorot-uniform draws, as the paper's code (chainer's
GlorotUniform in sngan_projection) does, not nn.Embedding's N(0, 1): the projection then
starts at the scale of psi's logit. With --spectral-norm the embedding is spectral-normed
too, as the paper's SNEmbedID.
"""
import math

from .. import creation, nn
from ..nn import functional as F
from ..nn import init
from .conditional import ConditionalDiscriminator, check_labels, layers_of


class ConditionalBatchNorm(nn.Module):
    """gamma[y] * BN(x) + beta[y] for x (N, C) or (N, C, H, W): one (gamma, beta) per class.

    Replaces a BatchNorm1d/2d `bn`: the same eps, momentum and running statistics (the
    running statistics are shared by all classes, as in the paper's code)."""

    def __init__(self, bn, num_classes):
        super().__init__()
        c = bn.num_features
        self.num_features, self.eps, self.momentum = c, bn.eps, bn.momentum
        self.weight = nn.Parameter(creation.ones(num_classes, c))  # gamma, (K, C)
        self.bias = nn.Parameter(creation.zeros(num_classes, c))  # beta, (K, C)
        self.register_buffer("running_mean", creation.zeros(c))
        self.register_buffer("running_var", creation.ones(c))

    def forward(self, x, labels):
        x_hat = F.batch_norm(x, self.running_mean, self.running_var, training=self.training,
                             momentum=self.momentum, eps=self.eps)
        gamma, beta = F.embedding(labels, self.weight), F.embedding(labels, self.bias)  # (N, C)
        if x.ndim == 4:
            gamma = gamma.reshape(*gamma.shape, 1, 1)  # (N, C, 1, 1) broadcasts over pixels
            beta = beta.reshape(*beta.shape, 1, 1)
        return gamma * x_hat + beta


class ProjectionGenerator(nn.Module):
    """z (N, nz) or (N, nz, 1, 1) + labels (N,) -> images: G0 with conditional BatchNorm."""

    def __init__(self, G0, num_classes):
        super().__init__()
        self.net = G0  # an unconditional MLPGenerator or DCGANGenerator
        self.nz, self.output_shape = G0.nz, G0.output_shape
        self.num_classes, self.conditional = num_classes, True
        layers = layers_of(G0)
        for key, layer in list(layers._modules.items()):
            if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
                layers._modules[key] = ConditionalBatchNorm(layer, num_classes)
        self.image_noise = type(G0).__name__ == "DCGANGenerator"  # its z is (N, nz, 1, 1)

    def forward(self, z, labels=None):
        if z.ndim == 4 and z.shape[2:] == (1, 1):
            z = z.reshape(z.shape[0], z.shape[1])  # (N, nz, 1, 1) -> (N, nz)
        if z.ndim != 2 or z.shape[1] != self.nz:
            raise ValueError(f"ProjectionGenerator: expected noise z of shape (N, {self.nz}), "
                             f"got {z.shape}")
        labels = check_labels(self, labels, z)
        h = z.reshape(z.shape[0], self.nz, 1, 1) if self.image_noise else z
        for layer in layers_of(self.net):
            h = layer(h, labels) if isinstance(layer, ConditionalBatchNorm) else layer(h)
        return h.reshape(z.shape[0], *self.output_shape)  # (N, C, H, W)


class ProjectionDiscriminator(ConditionalDiscriminator):
    """images (N, C, H, W) + labels (N,) -> logits (N,): psi(h) + <embed(y), pool(h)>."""

    def __init__(self, D0, num_classes):
        super().__init__(D0, num_classes)
        last = layers_of(D0)[-1]
        features = last.in_features if isinstance(last, nn.Linear) else last.weight.shape[1]
        self.embed = nn.Embedding(num_classes, features)
        bound = math.sqrt(6.0 / (num_classes + features))  # Glorot uniform
        init.uniform_(self.embed.weight, -bound, bound)

    def forward(self, x, labels=None):
        h = self.features(x)  # (N, 256) or (N, C, base, base)
        labels = check_labels(self, labels, x)
        layers = layers_of(self.net)
        psi = layers[-1](h).reshape(-1)  # (N, 1[, 1, 1]) -> (N,)
        pooled = h if h.ndim == 2 else h.sum(axis=(2, 3))  # (N, F)
        return psi + (self.embed(labels) * pooled).sum(axis=1)  # (N,)
