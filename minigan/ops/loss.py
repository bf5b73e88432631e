"""Losses, each the mean over all elements: binary cross-entropy (on probabilities and on
logits) and cross-entropy over classes.

BCE(p, t) = -[t log p + (1 - t) log(1 - p)], with each log clamped at -100 as PyTorch does.
On logits x, with p = sigmoid(x), the same loss is the stable softplus form
(1 - t) x - log sigmoid(x) = (1 - t) x + max(-x, 0) + log(1 + exp(-|x|)), whose gradient
is simply (sigmoid(x) - t) / n. (Written as PyTorch writes it, so that even infinite
logits give PyTorch's result: inf for a confident wrong answer, nan for inf * 0.)
"""
import numpy as np

from ..autograd import Function
from ..backend import xp_of
from .activation import Sigmoid
from .elementwise import Log1p, where

# PyTorch's floor on p (1 - p) in the BCE gradient: 1e-12 held as a C float, so rounded
# to float32 even for float64 inputs; the same value here keeps p = 0 or 1 exact to torch
BCE_EPS = float(np.float32(1e-12))


class BinaryCrossEntropy(Function):
    """out = mean(-[t log p + (1 - t) log(1 - p)]), logs clamped at -100."""

    def forward(self, p, t):
        xp = xp_of(p)
        with np.errstate(divide="ignore"):  # p = 0 or 1 (a saturated sigmoid): log gives
            log_p = xp.maximum(xp.log(p), -100)  # -inf, clamped here; no NumPy warning
            log_1mp = xp.maximum(xp.log1p(-p), -100)  # (CuPy never warns)
        self.save_for_backward(p, t)
        return -(t * log_p + (1 - t) * log_1mp).mean()

    def backward(self, grad_out):
        p, t = self.saved
        scale = grad_out / p.numel()
        grad_p = grad_t = None
        if self.needs_input_grad[0]:
            # d/dp = (p - t) / (p (1 - p)), the denominator floored as PyTorch does
            denominator = p * (1 - p)
            denominator = where(denominator._data >= BCE_EPS, denominator, BCE_EPS)
            grad_p = scale * (p - t) / denominator
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore"):  # log(0) = -inf, clamped as in forward
                log_p, log_1mp = p.log(), Log1p.apply(-p)
            log_p = where(log_p._data >= -100, log_p, -100)
            log_1mp = where(log_1mp._data >= -100, log_1mp, -100)
            grad_t = scale * (log_1mp - log_p)  # d/dt = -(log p - log(1 - p))
        return grad_p, grad_t


class BinaryCrossEntropyWithLogits(Function):
    """out = mean((1 - t) x + max(-x, 0) + log(1 + exp(-|x|)))."""

    def forward(self, x, t):
        xp = xp_of(x)
        self.save_for_backward(x, t)
        with np.errstate(invalid="ignore"):  # only an infinite logit times 0 gives nan
            return ((1 - t) * x + xp.maximum(-x, 0) + xp.log1p(xp.exp(-abs(x)))).mean()

    def backward(self, grad_out):
        x, t = self.saved
        scale = grad_out / x.numel()
        grad_x = None
        if self.needs_input_grad[0]:
            grad_x = scale * (Sigmoid.apply(x) - t)
        grad_t = -scale * x if self.needs_input_grad[1] else None
        return grad_x, grad_t


class CrossEntropy(Function):
    """out = mean over rows of -log softmax(x)[target], x (N, K), target int (N,)."""

    def forward(self, x, target=None):
        xp = xp_of(x)
        shifted = x - x.max(axis=1, keepdims=True)  # softmax is shift-invariant; avoids overflow
        log_softmax = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        rows = xp.arange(x.shape[0])
        self.target = target
        self.save_for_backward(x)  # backward computes log_softmax again (the same size)
        return -log_softmax[rows, target].mean()

    def backward(self, grad_out):
        x, = self.saved
        xp = xp_of(x._data)
        n = x.shape[0]
        shifted = x - x._data.max(axis=1, keepdims=True)  # a constant shift, as in forward
        log_softmax = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
        onehot = xp.zeros(x.shape, dtype=x.dtype)
        onehot[xp.arange(n), self.target] = 1
        # d/dx = softmax(x) - onehot(target), over n
        return ((log_softmax.exp() - onehot) * (grad_out / n),)
