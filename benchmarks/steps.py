"""Rows for whole GAN training steps: one D step and one G step with Adam, per call.

`train_step` is written once and run by both frameworks (their APIs agree): it is
pytorch/examples' dcgan loop with the losses on logits,
    D: zero_grad; fake = G(z); loss_d = bce(D(real), 1) + bce(D(fake.detach()), 0);
       backward; step
    G: zero_grad; loss_g = bce(D(fake), 1) (the non-saturating loss); backward; step
The models are minigan.models' GANs and their PyTorch twins holding the same weights
(twins.py); both see the same real batch and the same noise every call, so the work
timed is identical and data loading and noise drawing are left out.
"""
import numpy as np

from .timing import Contender, Row, compare_outputs, outputs

LR, BETAS = 2e-4, (0.5, 0.999)  # the DCGAN paper's Adam
# the issues' targets, minigan/PyTorch time: on the CPU at every core and at 1 thread
# (issue 15), and on an H100 (where it names none for the 28x28 DCGAN)
TARGETS = {"cpu": {"mlp": 1.10, "dcgan-28": 1.2, "dcgan-64": 1.2},
           "cuda": {"mlp": 1.5, "dcgan-28": None, "dcgan-64": 2.0}}


def train_step(g, d, opt_g, opt_d, real, z, ones, zeros, bce):
    """One iteration of a GAN training loop; the same code runs on minigan and on torch."""
    opt_d.zero_grad()  # (1) D: push D(real) up and D(G(z)) down
    fake = g(z)
    loss_d = bce(d(real), ones) + bce(d(fake.detach()), zeros)
    loss_d.backward()
    opt_d.step()
    opt_g.zero_grad()  # (2) G: push D(G(z)) up (log D(G(z)), the non-saturating loss)
    loss_g = bce(d(fake), ones)
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d, "loss_g": loss_g, "fake": fake}


def gan_contenders(model, image_shape, batch, device, nz=100, dtype="float32",
                   all_outputs=False):
    """Both frameworks' models, Adams and inputs for `train_step`, from the same arrays.

    all_outputs: also hand back, for the check, every parameter after Adam's update,
    every gradient and BatchNorm's running statistics (else the losses and G(z)).
    """
    import torch
    import torch.nn.functional as TF

    import minigan
    import minigan.nn.functional as F
    from minigan import backend
    from minigan.models import build_gan

    from .twins import torch_twin

    minigan.manual_seed(0)
    m_g, m_d = build_gan(model, "image", image_shape, nz=nz)
    t_g, t_d = torch_twin(m_g, device), torch_twin(m_d, device)
    if dtype == "float64":
        m_g, m_d, t_g, t_d = m_g.double(), m_d.double(), t_g.double(), t_d.double()
    m_g, m_d = m_g.to(device), m_d.to(device)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (batch, *image_shape)).astype(dtype)  # images in [-1, 1]
    z = rng.standard_normal((batch, nz)).astype(dtype)
    ones, zeros = np.ones(batch, dtype), np.zeros(batch, dtype)

    def side(g, d, optim, make, bce, sync):
        opt_g = optim.Adam(g.parameters(), lr=LR, betas=BETAS)
        opt_d = optim.Adam(d.parameters(), lr=LR, betas=BETAS)
        inputs = [make(a) for a in (real, z, ones, zeros)]

        def run():
            return train_step(g, d, opt_g, opt_d, *inputs, bce)

        def more_outputs():  # after the step: weights, gradients, BatchNorm's statistics
            out = {}
            for prefix, net in (("G", g), ("D", d)):
                for k, p in net.named_parameters():
                    out[f"{prefix}.{k}"], out[f"grad {prefix}.{k}"] = p, p.grad
                out.update({f"{prefix}.{k}": b for k, b in net.named_buffers()
                            if not k.endswith("num_batches_tracked")})
            return out
        return Contender(run, sync, more_outputs if all_outputs else None)

    t_sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return {"minigan": side(m_g, m_d, minigan.optim, lambda a: minigan.tensor(a, device=device),
                            F.binary_cross_entropy_with_logits, backend.synchronize),
            "torch": side(t_g, t_d, torch.optim, lambda a: torch.tensor(a, device=device),
                          TF.binary_cross_entropy_with_logits, t_sync)}


def float64_check(model, image_shape, batch, device):
    """The same step in float64 on both sides, every output compared (see step_row)."""
    contenders = gan_contenders(model, image_shape, batch, device, dtype="float64",
                                all_outputs=True)
    return compare_outputs(outputs(contenders["torch"]), outputs(contenders["minigan"]),
                           rtol=1e-6, atol_scale=1e-6)


def step_row(label, model, image_shape, batch, target):
    """A training-step row. The check is in two parts. In float32, the timed setting, the
    losses and G(z) must agree (rtol 1e-3); its gradients need not agree to 1e-3: a
    DCGAN's float32 gradients are that far from the float64 ones in PyTorch itself
    (rounding across LeakyReLU's kink and BatchNorm's cancellations). So the full check,
    every gradient, every weight after Adam's update and every running statistic, runs
    the same step in float64, where both must agree to rtol 1e-6."""
    def setup(device):
        return gan_contenders(model, image_shape, batch, device)

    def check(device):
        return float64_check(model, image_shape, batch, device)

    shape = "x".join(map(str, image_shape))
    return Row("step", f"{label} {shape} b{batch} D+G step", setup, target=target, check=check,
               detail=dict(model=model, image_shape=image_shape, batch=batch, nz=100, lr=LR,
                           betas=BETAS, loss="binary_cross_entropy_with_logits"))


def one_thread(row):
    """The same step row timed at 1 thread for both frameworks (the run's count elsewhere)."""
    return Row(row.group, row.name + " (1 thread)", row.setup, target=row.target,
               check=None, detail=dict(row.detail, threads=1), threads=1)


def step_rows(device="cpu", quick=False, one_thread_rows=False):
    """The step rows; with one_thread_rows (on the CPU), each again at 1 thread after them."""
    target = TARGETS[device]
    rows = [step_row("MLP GAN", "mlp", (1, 28, 28), 64, target["mlp"])]
    if not quick:
        rows.append(step_row("MLP GAN", "mlp", (1, 28, 28), 256, target["mlp"]))
    rows.append(step_row("DCGAN-28", "dcgan", (1, 28, 28), 64, target["dcgan-28"]))
    if not quick:
        rows.append(step_row("DCGAN-64", "dcgan", (1, 64, 64), 64, target["dcgan-64"]))
    rows.append(step_row("DCGAN-64", "dcgan", (3, 64, 64), 64, target["dcgan-64"]))
    if device == "cuda":
        rows.append(step_row("DCGAN-64", "dcgan", (3, 64, 64), 128, target["dcgan-64"]))
    if one_thread_rows and device == "cpu":
        rows += [one_thread(row) for row in rows]
    return rows
