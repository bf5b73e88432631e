"""AC-GAN's players (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with
Auxiliary Classifier GANs", arXiv:1610.09585), built around the unconditional MLP or
DCGAN models.

    G(z, y) = G0(z * embed(y))          the label embedding times the noise, as
                                        PyTorch-GAN's acgan.py conditions G; embed (K, nz)
    D(x)    = (adv(h), classes(h)),  h = D0's layers but its last (the features)
              adv: D0's last layer (one logit, "real or fake"); classes: a second head of
              the same form with K outputs, the auxiliary classifier of p(y | x)
D does not see the label: it must recognise the class, and G is rewarded for images
whose class it recognises (the classification losses are in minigan/methods/conditioning.py).
D(x, labels) returns the adversarial logits (N,) alone, so penalties and the loss pairs
use it as any D; `forward_with_classes(x)` returns both heads from one pass.
"""
from .. import nn
from .conditional import ConditionalDiscriminator, check_labels, layers_of
from .dcgan import weights_init


class ACGANGenerator(nn.Module):
    """z (N, nz) or (N, nz, 1, 1) + labels (N,) -> images: G0(z * label_emb(labels))."""

    def __init__(self, G0, num_classes):
        super().__init__()
        self.net = G0  # an unconditional MLPGenerator or DCGANGenerator
        self.nz, self.output_shape = G0.nz, G0.output_shape
        self.num_classes, self.conditional = num_classes, True
        self.label_emb = nn.Embedding(num_classes, G0.nz)  # N(0, 1), as nn.Embedding

    def forward(self, z, labels=None):
        if z.ndim == 4 and z.shape[2:] == (1, 1):
            z = z.reshape(z.shape[0], z.shape[1])  # (N, nz, 1, 1) -> (N, nz)
        if z.ndim != 2 or z.shape[1] != self.nz:
            raise ValueError(f"ACGANGenerator: expected noise z of shape (N, {self.nz}), "
                             f"got {z.shape}")
        labels = check_labels(self, labels, z)
        return self.net(z * self.label_emb(labels))  # (N, nz) * (N, nz) -> images


class ACGANDiscriminator(ConditionalDiscriminator):
    """images (N, C, H, W) -> adversarial logits (N,) [and class logits (N, K)]."""

    def __init__(self, D0, num_classes):
        super().__init__(D0, num_classes)
        last = layers_of(D0)[-1]
        if isinstance(last, nn.Linear):  # the MLP's Linear(256, 1): Linear(256, K)
            self.classifier = nn.Linear(last.in_features, num_classes)
        else:  # DCGAN's Conv2d(C, 1, base) on the base x base features: Conv2d(C, K, base)
            self.classifier = nn.Conv2d(last.weight.shape[1], num_classes,
                                        last.weight.shape[2], 1, 0, bias=False)
            weights_init(self.classifier)  # N(0, 0.02), as DCGAN's other convs

    def forward_with_classes(self, x):
        """(adversarial logits (N,), class logits (N, K)) from one pass through D0's layers."""
        h = self.features(x)
        adv = layers_of(self.net)[-1](h).reshape(-1)  # (N, 1[, 1, 1]) -> (N,)
        classes = self.classifier(h).reshape(x.shape[0], self.num_classes)  # (N, K)
        return adv, classes

    def forward(self, x, labels=None):
        """The adversarial logits (N,); the labels are not used (D must infer the class)."""
        return layers_of(self.net)[-1](self.features(x)).reshape(-1)  # (N,)
