"""The objectives: each a pair (D's loss, G's loss) on D's raw outputs (logits, scores).

    gan     Goodfellow et al. 2014   D: BCE(D(x), 1) + BCE(D(G(z)), 0)
                                     G: BCE(D(G(z)), 1) = -log sigmoid(D(G(z)))  non-saturating
                                        or -BCE(D(G(z)), 0) = log(1 - sigmoid(D(G(z))))  saturating
    lsgan   Mao et al. 2017, eq. 2   D: 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]   (a=0, b=c=1)
                                     G: 1/2 E[(D(G(z)) - 1)^2]
    hinge   Lim & Ye 2017; Miyato    D: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]
            et al. 2018 (SNGAN)      G: -E[D(G(z))]
    wgan    Arjovsky et al. 2017     D (the critic): E[D(G(z))] - E[D(x)], an estimate of
                                     -W(p_data, p_g) when D is 1-Lipschitz (--clip or --gp)
                                     G: -E[D(G(z))]

Every expectation is the mean over the batch. D outputs one number per example, (N,).
LOSSES maps each --loss name to its class; adding a loss is a class with d_loss and g_loss
(and a `paper` for --help) and one entry there.
"""
from ..nn import functional as F
from ..tensor_api.functions import ones_like, zeros_like


class GANLoss:
    """The original GAN's cross-entropy (Goodfellow et al. 2014), D's output a logit."""

    paper = "the original, Goodfellow et al. 2014, with --g-loss"

    def __init__(self, g_loss="non-saturating"):
        self.saturating = g_loss == "saturating"

    def d_loss(self, real, fake):
        return (F.binary_cross_entropy_with_logits(real, ones_like(real)) +
                F.binary_cross_entropy_with_logits(fake, zeros_like(fake)))

    def g_loss(self, fake):
        # saturating: the minimax objective itself; its gradient vanishes while D wins
        if self.saturating:
            return -F.binary_cross_entropy_with_logits(fake, zeros_like(fake))
        return F.binary_cross_entropy_with_logits(fake, ones_like(fake))


class LSGANLoss:
    """Least squares (Mao et al. 2017): D regresses real to 1 and fake to 0, G fake to 1."""

    paper = "least squares, Mao et al. 2017"

    def d_loss(self, real, fake):
        return 0.5 * F.mse_loss(real, ones_like(real)) + 0.5 * F.mse_loss(fake, zeros_like(fake))

    def g_loss(self, fake):
        return 0.5 * F.mse_loss(fake, ones_like(fake))


class HingeLoss:
    """Hinge (Lim & Ye 2017, Miyato et al. 2018): D is pushed only until a margin of 1."""

    paper = "Lim & Ye 2017; Miyato et al. 2018"

    def d_loss(self, real, fake):
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()

    def g_loss(self, fake):
        return -fake.mean()


class WassersteinLoss:
    """The Wasserstein critic (Arjovsky et al. 2017): D scores, no sigmoid, no margin."""

    paper = "Wasserstein critic, Arjovsky et al. 2017"

    def d_loss(self, real, fake):
        return fake.mean() - real.mean()

    def g_loss(self, fake):
        return -fake.mean()


LOSSES = {"gan": GANLoss, "lsgan": LSGANLoss, "hinge": HingeLoss, "wgan": WassersteinLoss}


def make_loss(name, g_loss="non-saturating"):
    """The loss pair for --loss `name` (--g-loss applies to "gan" only)."""
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}: choose one of {', '.join(LOSSES)}")
    return GANLoss(g_loss) if name == "gan" else LOSSES[name]()
