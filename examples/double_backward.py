"""Gradients of gradients, checked by hand: a Hessian-vector product and a gradient penalty.

    python examples/double_backward.py

1. Hessian-vector product. For a loss L(w), grad L is a function of w like any other;
   recorded with create_graph=True, its product with a fixed vector v can be
   differentiated again: d/dw <grad L(w), v> = H v, the Hessian times v, without ever
   forming H. Checked against central differences of the gradient:
   H v ~ (grad L(w + eps v) - grad L(w - eps v)) / (2 eps).
2. WGAN-GP (Gulrajani et al., 2017). The critic's loss holds its own input gradient:
   L(theta) = D(fake) - D(real) + lambda (||d D(x_hat) / d x_hat|| - 1)^2, x_hat a random
   point between a real and a fake sample. Its gradient with respect to the critic's
   weights goes through that input gradient: a second derivative. Checked against central
   differences of L along a random direction of the weights.
"""
import numpy as np

import minigan
import minigan.nn as nn
import minigan.nn.functional as F
from minigan.autograd import grad


def mlp_loss(w1, w2, x, y):
    """A one-hidden-layer regression loss, mean((tanh(x w1^T) w2^T - y)^2)."""
    err = F.linear(F.tanh(F.linear(x, w1)), w2) - y
    return (err * err).mean()


def hessian_vector_product():
    rng = np.random.default_rng(0)
    x, y = (minigan.tensor(rng.standard_normal(s), dtype="float64") for s in ((8, 3), (8, 1)))
    w1 = minigan.tensor(rng.standard_normal((4, 3)), dtype="float64", requires_grad=True)
    w2 = minigan.tensor(rng.standard_normal((1, 4)), dtype="float64", requires_grad=True)
    v1, v2 = rng.standard_normal((4, 3)), rng.standard_normal((1, 4))

    g1, g2 = grad(mlp_loss(w1, w2, x, y), [w1, w2], create_graph=True)  # recorded
    hv1, hv2 = grad((g1 * minigan.tensor(v1)).sum() + (g2 * minigan.tensor(v2)).sum(),
                    [w1, w2])  # d/dw <grad L, v> = H v

    def gradient_at(step):
        a = minigan.tensor(w1.numpy() + step * v1, requires_grad=True)
        b = minigan.tensor(w2.numpy() + step * v2, requires_grad=True)
        return [g.numpy() for g in grad(mlp_loss(a, b, x, y), [a, b])]

    eps = 1e-5
    plus, minus = gradient_at(eps), gradient_at(-eps)
    numeric = [(p - m) / (2 * eps) for p, m in zip(plus, minus)]
    error = max(np.abs(h.numpy() - n).max() for h, n in zip((hv1, hv2), numeric))
    print(f"Hessian-vector product: |H v - finite differences| = {error:.2e}")
    return error


def gradient_penalty_loss(critic, real, fake, eps, lam=10.0):
    x_hat = minigan.tensor(eps * real + (1 - eps) * fake, requires_grad=True)
    g, = grad(critic(x_hat).sum(), x_hat, create_graph=True)  # dD/dx_hat, recorded
    norm = (g * g).reshape(len(real), -1).sum(axis=1) ** 0.5
    penalty = ((norm - 1) ** 2).mean()
    return critic(minigan.tensor(fake)).mean() - critic(minigan.tensor(real)).mean() \
        + lam * penalty


def wgan_gp():
    rng = np.random.default_rng(1)
    minigan.manual_seed(1)
    critic = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(),
                           nn.Linear(4 * 4 * 4, 1)).double()
    real, fake = rng.standard_normal((2, 6, 1, 8, 8))
    eps = rng.uniform(0, 1, (6, 1, 1, 1))
    gradient_penalty_loss(critic, real, fake, eps).backward()  # through the penalty's gradient
    params = list(critic.parameters())
    directions = [rng.standard_normal(p.shape) for p in params]
    analytic = sum(float((p.grad.numpy() * d).sum()) for p, d in zip(params, directions))

    def loss_at(step):
        originals = [p.data.clone() for p in params]
        for p, d in zip(params, directions):
            p.data = p.data + step * d
        value = float(gradient_penalty_loss(critic, real, fake, eps))
        for p, x in zip(params, originals):
            p.data = x
        return value

    h = 1e-6
    numeric = (loss_at(h) - loss_at(-h)) / (2 * h)
    error = abs(analytic - numeric) / max(abs(numeric), 1e-12)
    print(f"WGAN-GP critic loss: <dL/dtheta, d> = {analytic:.8f}, finite differences "
          f"{numeric:.8f} (relative error {error:.1e})")
    return error


if __name__ == "__main__":
    assert hessian_vector_product() < 1e-7
    assert wgan_gp() < 1e-6
    print("both agree with finite differences")
