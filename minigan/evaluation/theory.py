"""The GAN theory of Goodfellow et al. (2014), checked numerically on 1-D Gaussians.

For a fixed generator density p_g, the discriminator that maximises
    V(D, G) = E_{x ~ p_data}[log D(x)] + E_{x ~ p_g}[log(1 - D(x))]
is, pointwise, D*(x) = p_data(x) / (p_data(x) + p_g(x))  (Proposition 1), and at D*
    V(D*, G) = -log 4 + 2 JSD(p_data || p_g)  (Theorem 1),
so the discriminator's objective measures the Jensen-Shannon divergence that the
generator then minimises. Here both densities are known Gaussians: we train only D (a
small minigan MLP ending in a logit, BCE-with-logits, Adam) on fresh samples each step,
and compare it with D* and V with the JSD, computed by quadrature on a fine grid.
"""
import math

import numpy as np

from .. import creation, nn, optim
from ..autograd import no_grad
from ..backend import manual_seed
from ..nn import functional as F

DATA = (1.0, 0.75)  # p_data = N(mean 1, std 0.75)
GEN = (-1.0, 1.25)  # p_g = N(mean -1, std 1.25): shifted and wider, so D* is not a plain step


# --- the exact quantities ------------------------------------------------------------------
def normal_pdf(x, mean, std):
    """The density of N(mean, std^2) at x."""
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def optimal_discriminator(x, data=DATA, gen=GEN):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), from the log densities (no 0/0 in the tails)."""
    (md, sd), (mg, sg) = data, gen
    log_ratio = (math.log(sg / sd) - 0.5 * ((x - md) / sd) ** 2
                 + 0.5 * ((x - mg) / sg) ** 2)  # log p_data - log p_g, a quadratic in x
    return 1 / (1 + np.exp(-log_ratio))


def quadrature_grid(data=DATA, gen=GEN, n=20001, width=12.0):
    """A fine uniform grid covering both densities to `width` standard deviations."""
    (md, sd), (mg, sg) = data, gen
    return np.linspace(min(md - width * sd, mg - width * sg),
                       max(md + width * sd, mg + width * sg), n)


def integrate(f, x):
    """The trapezoid rule for the integral of samples f over the uniform grid x."""
    dx = x[1] - x[0]
    return float(dx * (f.sum() - 0.5 * (f[0] + f[-1])))


def jensen_shannon(data=DATA, gen=GEN, grid=None):
    """JSD(p_data || p_g) = 1/2 KL(p_data || m) + 1/2 KL(p_g || m), m = (p_data + p_g) / 2, nats.

    Both KL integrals are evaluated by quadrature; where a density underflows to 0 its
    integrand p log(p / m) is 0 (its limit).
    """
    x = quadrature_grid(data, gen) if grid is None else grid
    p, q = normal_pdf(x, *data), normal_pdf(x, *gen)
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / m), 0.0)
        kl_q = np.where(q > 0, q * np.log(q / m), 0.0)
    return 0.5 * integrate(kl_p, x) + 0.5 * integrate(kl_q, x)


def value(d, x, data=DATA, gen=GEN):
    """V(D, G) = int p_data log D + p_g log(1 - D) dx, for D given as values d on the grid x.

    By quadrature, so it carries no sampling noise: V(D*) - V(D) >= 0 is exactly how far
    D is from optimal (it equals the integral of (p_data + p_g) KL(Bern(D*) || Bern(D))).
    """
    p, q = normal_pdf(x, *data), normal_pdf(x, *gen)
    d = np.clip(d, 1e-12, 1 - 1e-12)  # D* underflows to 0 or 1 only where p or q is ~0
    return integrate(p * np.log(d) + q * np.log1p(-d), x)


def support_grid(data=DATA, gen=GEN, n=401, level=0.05):
    """Points where the mixture (p_data + p_g) / 2 is at least `level` times its maximum.

    D is compared with D* only there: elsewhere hardly any training sample falls, so the
    MLP's output is unconstrained by the objective (and irrelevant to V).
    """
    x = quadrature_grid(data, gen, n=100001)
    m = 0.5 * (normal_pdf(x, *data) + normal_pdf(x, *gen))
    inside = x[m >= level * m.max()]
    return np.linspace(inside.min(), inside.max(), n)


# --- training only the discriminator ---------------------------------------------------------
def make_discriminator(hidden=32):
    """A small MLP x (N, 1) -> logit (N, 1); tanh units fit D*'s smooth quadratic logit."""
    return nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                         nn.Linear(hidden, 1))


def train_discriminator(data=DATA, gen=GEN, steps=2000, batch_size=256, lr=1e-2, hidden=32,
                        seed=0, log_every=0):
    """Train D alone against the fixed p_g; return (model, history of (step, V estimate)).

    Each step draws batch_size fresh samples from each density. One BCE-with-logits over
    the 2B samples with targets 1 (data) and 0 (generator) is
        loss = 1/2 (E_data[-log D] + E_g[-log(1 - D)]) = -V / 2,
    so minimising it maximises V. The learning rate decays linearly to 0 (averaging away the
    sampling noise of the last steps, so D settles near the optimum instead of jittering).
    """
    manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = make_discriminator(hidden)
    opt = optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
    target = creation.tensor(np.r_[np.ones(batch_size), np.zeros(batch_size)]
                             .astype(np.float32)[:, None])  # (2B, 1)
    history = []
    for step in range(1, steps + 1):
        x = np.r_[rng.normal(data[0], data[1], batch_size),
                  rng.normal(gen[0], gen[1], batch_size)].astype(np.float32)
        loss = F.binary_cross_entropy_with_logits(model(creation.tensor(x[:, None])), target)
        opt.zero_grad()
        loss.backward()
        opt.param_groups[0]["lr"] = lr * (1 - (step - 1) / steps)  # linear decay
        opt.step()
        if log_every and step % log_every == 0:
            history.append((step, -2 * float(loss)))
    return model, history


def discriminator_probability(model, x):
    """D(x) = sigmoid(logit) on a 1-D numpy array x, as float64 numpy."""
    with no_grad():
        logits = model(creation.tensor(np.asarray(x, np.float32)[:, None])).numpy()[:, 0]
    return 1 / (1 + np.exp(-logits.astype(np.float64)))


def check_optimal_discriminator(data=DATA, gen=GEN, **train_kwargs):
    """Train D and measure it against the theory; returns a dict of floats (and the model)."""
    model, history = train_discriminator(data, gen, **train_kwargs)
    xs = support_grid(data, gen)
    d, d_star = discriminator_probability(model, xs), optimal_discriminator(xs, data, gen)
    xq = quadrature_grid(data, gen)
    jsd = jensen_shannon(data, gen, xq)
    return {
        "max_abs_error": float(np.abs(d - d_star).max()),  # max over the support grid
        "mean_abs_error": float(np.abs(d - d_star).mean()),
        "value_trained": value(discriminator_probability(model, xq), xq, data, gen),
        "value_optimal": value(optimal_discriminator(xq, data, gen), xq, data, gen),
        "theory": -math.log(4) + 2 * jsd,  # Theorem 1: V(D*, G) = -log 4 + 2 JSD
        "jsd": jsd,
        "support": (float(xs[0]), float(xs[-1])),
        "model": model,
        "history": history,
    }
