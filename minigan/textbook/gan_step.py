"""One GAN training step as a textbook writes it (twin of training/updater.py's default).

Algorithm 1 of Goodfellow et al. (2014), with the non-saturating generator loss, in the
twenty lines of notebook 3:
    for each of the k discriminator steps:
        loss_D = BCE(D(x), 1) + BCE(D(G(z).detach()), 0)     D learns to tell real from fake
        backward, step D
    loss_G = BCE(D(G(z)), 1) = -log D(G(z))                   G learns to fool D
    backward, step G
minigan/training/updater.py runs this step for every method: the loss pair, a penalty, a
conditioning scheme and hooks come from minigan/methods/ (read after it), and the
random inputs from one seeded draw per step. With the original GAN's method it computes
what gan_step computes (tests/test_textbook.py).
"""
from ..nn import functional as F
from ..tensor_api.functions import ones_like, zeros_like  # (torch.ones_like: the logits' dtype)


def gan_step(G, D, opt_g, opt_d, d_batches, z):
    """k updates of D, one per (x, z) in d_batches, then one update of G from noise z.
    Returns the last D loss and G's loss."""
    for x, z_d in d_batches:
        real_logits = D(x).reshape(-1)  # (N,): one logit per example
        # detach(): D's step must not send gradients into G, nor pay for G's backward
        fake_logits = D(G(z_d).detach()).reshape(-1)
        loss_d = (F.binary_cross_entropy_with_logits(real_logits, ones_like(real_logits)) +
                  F.binary_cross_entropy_with_logits(fake_logits, zeros_like(fake_logits)))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
    logits = D(G(z)).reshape(-1)  # the gradient flows back through D into G
    loss_g = F.binary_cross_entropy_with_logits(logits, ones_like(logits))
    opt_g.zero_grad()
    loss_g.backward()  # D's weights get .grad too; the next opt_d.zero_grad() drops them
    opt_g.step()
    return loss_d, loss_g
