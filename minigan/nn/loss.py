"""Losses as Modules (as torch.nn.BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss): mean
reduction."""
from . import functional as F
from .module import Module


class BCELoss(Module):
    """mean(-[t log p + (1 - t) log(1 - p)]) on probabilities p."""

    def forward(self, p, target):
        return F.binary_cross_entropy(p, target)


class BCEWithLogitsLoss(Module):
    """BCELoss applied to sigmoid(logits), in the numerically stable form."""

    def forward(self, logits, target):
        return F.binary_cross_entropy_with_logits(logits, target)


class CrossEntropyLoss(Module):
    """mean of -log softmax(logits)[target] over the batch."""

    def forward(self, logits, target):
        return F.cross_entropy(logits, target)


class MSELoss(Module):
    """mean((input - target)^2) over all elements."""

    def forward(self, input, target):
        return F.mse_loss(input, target)
