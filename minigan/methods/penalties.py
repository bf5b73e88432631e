"""Gradient penalties on D: terms added to D's loss that need gradients of gradients.

    WGAN-GP  Gulrajani et al. 2017, Algorithm 1 / eq. 3:
             x_hat = eps * x + (1 - eps) * G(z),  eps ~ U[0, 1] per example
             lambda * E[(||grad_x D(x_hat)||_2 - 1)^2]      one-centred, on interpolates
    R1       Mescheder, Geiger & Nowozin 2018, eq. 9:
             gamma / 2 * E[||grad_x D(x)||_2^2]             zero-centred, on real data

The norm is over all of an example's features: the gradient (N, ...) is flattened to
(N, features) before it is taken (norming over one axis of an image gradient instead is
a known bug: eriklindernoren/PyTorch-GAN #20). The penalty's gradient with respect to D's
weights runs back through grad_x D, which autograd.grad(create_graph=True) records.
Both papers' critics have no BatchNorm (it makes D(x_i) depend on the other examples, so
the per-example gradient is not what the penalty means); minigan train builds D without it
when a penalty is on (see minigan.models.build_gan's d_batch_norm).
PENALTIES maps each penalty's setting (--gp, --r1: its weight, 0 for off) to its class.
"""
from .. import autograd


def per_example_norm(g):
    """||g_i||_2 for each example of a gradient g (N, ...) -> (N,)."""
    flat = g.reshape(g.shape[0], -1)  # (N, features): the whole example's gradient
    return (flat * flat).sum(axis=1) ** 0.5


def input_gradient(D, x, labels):
    """grad_x sum_i D(x_i), recorded (create_graph) so that a loss on it reaches D's weights."""
    x = x.detach().requires_grad_()
    scores = D(x, labels)
    g, = autograd.grad(scores.sum(), x, create_graph=True)
    return g


def gradient_penalty(D, real, fake, labels, eps, weight):
    """WGAN-GP: weight * mean((||grad D(x_hat)|| - 1)^2), x_hat = eps*real + (1-eps)*fake.

    eps: (N,) uniform draws; labels: the real batch's (a conditional D judges x_hat under
    them); fake must be detached from G."""
    eps = eps.reshape(eps.shape[0], *([1] * (real.ndim - 1)))  # (N, 1, ...) broadcasts
    x_hat = eps * real + (1.0 - eps) * fake
    norm = per_example_norm(input_gradient(D, x_hat, labels))
    return weight * ((norm - 1.0) ** 2).mean()


def r1_penalty(D, real, labels, gamma):
    """R1: gamma / 2 * mean(||grad D(x)||^2) on the real batch."""
    g = input_gradient(D, real, labels)
    flat = g.reshape(g.shape[0], -1)  # (N, features)
    return (gamma / 2) * (flat * flat).sum(axis=1).mean()


class GradientPenalty:
    """--gp LAMBDA: a function of D and one discriminator batch."""

    help = ("WGAN-GP gradient penalty weight on random interpolates (Gulrajani et al. 2017; "
            "10 for images, 0.1 on the 2-D toys)")

    needs_eps = True

    def __init__(self, weight):
        self.weight = weight

    def __call__(self, D, batch, fake):
        return gradient_penalty(D, batch.x, fake, batch.real_labels, batch.eps, self.weight)


class R1Penalty:
    """--r1 GAMMA: a function of D and one discriminator batch (its real half)."""

    help = "R1 penalty gamma/2 E||grad D(x_real)||^2 (Mescheder et al. 2018)"

    needs_eps = False

    def __init__(self, gamma):
        self.gamma = gamma

    def __call__(self, D, batch, fake):
        return r1_penalty(D, batch.x, batch.real_labels, self.gamma)


PENALTIES = {"gp": GradientPenalty, "r1": R1Penalty}  # the setting's name -> its penalty
