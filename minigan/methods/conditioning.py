"""How a conditional GAN's players use the label: one scheme per paper.

    concat      Mirza & Osindero 2014: onehot(y) joined to z and to D's input; the loss
                pair alone (no extra term)
    acgan       Odena, Olah & Shlens 2017, eq. 2-3: D has an auxiliary classifier C(x);
                with L_C = E[-log C(y | x)] (the cross-entropy, mean over the batch)
                D minimises  loss_D + L_C(x_real, y_real) + L_C(G(z, y_fake), y_fake)
                G minimises  loss_G + L_C(G(z, y_fake), y_fake)
                (the paper's D maximises L_S + L_C and G maximises L_C - L_S, with L_S the
                source log-likelihood; its L_S is the loss pair, any of minigan.methods)
    projection  Miyato & Koyama 2018: the label enters D's output (psi(h) + <embed(y), h>)
                and G's BatchNorm; the loss pair alone
The models are built by minigan.models.build_gan(conditioning=...); a scheme here gives
the training step D's outputs and the extra loss terms. `discriminate` returns D's logits
and, for AC-GAN, the class logits from the same pass (None for the others).
CONDITIONINGS maps each --conditioning name to its scheme and its one-line description.
"""
import dataclasses

from ..ops.loss import CrossEntropy
from ..tensor import Tensor

def classification_loss(class_logits, labels):
    """L_C: mean over the batch of -log softmax(class_logits)[label] (F.cross_entropy's op;
    the labels are the run's own, already checked, so no host read of their range)."""
    labels = labels._data if isinstance(labels, Tensor) else labels
    return CrossEntropy.apply(class_logits, target=labels)


class LabelInInputs:
    """concat and projection: the label is inside D and G; no extra loss terms."""

    def discriminate(self, D, x, labels):
        return D(x, labels), None

    def d_loss(self, loss_d, real_classes, real_labels, fake_classes, fake_labels):
        return loss_d

    def g_loss(self, loss_g, fake_classes, fake_labels):
        return loss_g


class AuxiliaryClassifier:
    """acgan: D's class head is trained on real and generated images, G's images are
    pushed towards the class they were asked for."""

    def discriminate(self, D, x, labels):
        return D.forward_with_classes(x)  # (logits (N,), class logits (N, K))

    def d_loss(self, loss_d, real_classes, real_labels, fake_classes, fake_labels):
        return (loss_d + classification_loss(real_classes, real_labels) +
                classification_loss(fake_classes, fake_labels))

    def g_loss(self, loss_g, fake_classes, fake_labels):
        return loss_g + classification_loss(fake_classes, fake_labels)


@dataclasses.dataclass(frozen=True)
class Conditioning:
    """One --conditioning choice: its scheme (the step's side) and a line for --help."""

    name: str
    help: str
    scheme: type


CONDITIONINGS = {c.name: c for c in (
    Conditioning("concat", "one-hot joined to G's and D's inputs, Mirza & Osindero 2014",
                 LabelInInputs),
    Conditioning("acgan", "D also classifies; both players add its cross-entropy, Odena et "
                 "al. 2017", AuxiliaryClassifier),
    Conditioning("projection", "a class embedding projected onto D's features, G with "
                 "conditional BatchNorm, Miyato & Koyama 2018", LabelInInputs),
)}


def make_conditioning(name):
    """The scheme for --conditioning `name`."""
    if name not in CONDITIONINGS:
        raise ValueError(f"unknown conditioning {name!r}: choose one of "
                         f"{', '.join(CONDITIONINGS)}")
    return CONDITIONINGS[name].scheme()
