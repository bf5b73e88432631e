"""Methods that act on weights around an optimizer step, not on the loss.

    WeightClipping  Arjovsky, Chintala & Bottou 2017, Algorithm 1: after each critic step,
                    w <- clip(w, -c, c) for every weight of D (a crude 1-Lipschitz bound)
    EMA             Yazici et al. 2019 ("The Unusual Effectiveness of Averaging in GAN
                    Training"): after each generator step,
                    theta_ema <- decay * theta_ema + (1 - decay) * theta
                    a second copy of G, used only to draw samples; its BatchNorm running
                    statistics are copied from G (they are estimates, not weights)
"""
from ..autograd import no_grad


class WeightClipping:
    """A hook after D's step: every parameter of D clipped to [-c, c] in place."""

    def __init__(self, D, c):
        self.D, self.c = D, c

    def __call__(self):
        for p in self.D.parameters():
            p._data.clip(-self.c, self.c, out=p._data)


class EMA:
    """A hook after G's step: G_ema's parameters move towards G's by (1 - decay)."""

    def __init__(self, G, G_ema, decay):
        self.G, self.G_ema, self.decay = G, G_ema, decay

    def __call__(self):
        with no_grad():
            for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
                p_ema._data *= self.decay
                p_ema._data += (1.0 - self.decay) * p._data
                p_ema._version += 1  # modified in place, as torch's mul_/add_
            for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
                b_ema._data[...] = b._data
