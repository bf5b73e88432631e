"""One training step (Chainer's Updater): Algorithm 1 of Goodfellow et al. 2014, any method.

    for k = 1 .. d_steps:                                          (discriminator_step)
        x ~ data, z ~ N(0, I)
        loss_D = d_loss(D(x), D(G(z))) [+ penalty(D, batch)]
        backward; [before_step hooks]; optimizer step on D; [after_d_step hooks]
    z ~ N(0, I)                                                    (generator_step)
    loss_G = g_loss(D(G(z)))
    backward; [before_step hooks]; optimizer step on G; [after_g_step hooks]

With a conditioning scheme (minigan/methods/conditioning.py) D's outputs come from
scheme.discriminate and the scheme adds its terms to both losses (AC-GAN's classification
losses; nothing for the others). The loss pair, the penalty, the scheme and the hooks
come from minigan.methods; this file knows none
of them by name. `draw` is the one place where a step's random inputs are made: real
batch b of the run is RealBatches.batch(b) (minigan/data/batches.py: a permutation per epoch
from (seed, epoch)),
and everything else comes, in a fixed order, from Generator(device, seed=[seed, step]):
for each D step z and fake labels, then G's z and labels, then (only for WGAN-GP) the
interpolation weights of each D step. Drawing in that order keeps the original GAN's
stream whatever method is on, and makes a resumed run (which knows only the step) exact.
`before_step` hooks run between backward and the optimizer step, e.g. to average the
gradients of data-parallel processes; none by default.

The updater reads five settings of the run (StepSettings), not the whole TrainConfig.
Data parallelism (minigan/parallel/data_parallel.py): every rank draws the whole global batch and
keeps its rows (`parallel.local`), averages the gradients before each optimizer step, and
skips an update (--skip-nonfinite) only when every rank agrees to.
"""
import dataclasses

from .. import backend
from ..backend import Generator
from ..creation import randn
from ..parallel.data_parallel import SingleProcess
from ..tensor import Tensor


@dataclasses.dataclass(frozen=True)
class StepSettings:
    """What a step reads of the run's settings."""

    seed: int
    device: str
    batch_size: int  # the global batch (a data-parallel rank keeps its rows of it)
    d_steps: int  # k of Algorithm 1
    skip_nonfinite: bool = False  # skip an update whose loss is NaN/inf (a host read)

    @classmethod
    def of(cls, config):
        return cls(config.seed, config.device, config.batch_size, config.d_steps,
                   config.skip_nonfinite)


@dataclasses.dataclass
class DBatch:
    """The inputs of one discriminator step; eps only when the method interpolates."""

    x: Tensor
    real_labels: Tensor | None
    z: Tensor
    fake_labels: Tensor | None
    eps: Tensor | None = None


@dataclasses.dataclass
class StepInputs:
    """Every random input of one step: d_steps DBatches, then G's noise and labels."""

    d_batches: list
    z: Tensor
    fake_labels: Tensor | None


class StepResult:
    """What one step leaves for logging: device tensors, read back only when logged."""

    def __init__(self, loss_d, loss_g, real_logits, fake_logits, skipped):
        self.loss_d, self.loss_g, self.skipped = loss_d, loss_g, skipped
        self.real_logits, self.fake_logits = real_logits, fake_logits


def draw_noise(gen, n, G, device):
    """z ~ N(0, I) of shape (n, G.nz) and, for a conditional G, uniform labels, on the device."""
    z = randn(n, G.nz, device=device, generator=gen)
    labels = Tensor(gen.integers(0, G.num_classes, (n,))) if G.conditional else None
    return z, labels


def is_finite(loss):
    """A host read (a GPU sync): used per step only with --skip-nonfinite."""
    return bool(backend.xp_of(loss._data).isfinite(loss._data))


class GANUpdater:
    """Steps of a GAN run: G and D, their optimizers, the real batches and the method."""

    def __init__(self, G, D, opt_g, opt_d, real, settings, method, parallel=SingleProcess()):
        self.G, self.D, self.opt_g, self.opt_d = G, D, opt_g, opt_d
        self.real, self.settings, self.method = real, settings, method
        self.parallel = parallel
        self.before_step = []  # hook(module) between backward and the optimizer step
        if parallel.size > 1:
            self.before_step.append(parallel.average_gradients)

    def draw(self, step):
        """Every random input of step `step` (see the module docstring for the order)."""
        settings, G = self.settings, self.G
        gen = Generator(settings.device, seed=[settings.seed, step])  # every draw of this step
        d_batches = []
        for k in range(settings.d_steps):
            x, real_labels = self.real.batch((step - 1) * settings.d_steps + k)
            z, fake_labels = draw_noise(gen, settings.batch_size, G, settings.device)
            d_batches.append(DBatch(x, real_labels, z, fake_labels))
        z, fake_labels = draw_noise(gen, settings.batch_size, G, settings.device)  # fresh noise
        penalty = self.method.penalty
        if penalty is not None and penalty.needs_eps:  # after all else: the stream above stays
            for batch in d_batches:
                batch.eps = Tensor(gen.uniform((settings.batch_size,), batch.x.dtype))
        return StepInputs(d_batches, z, fake_labels)

    def update(self, step):
        """Step `step`: d_steps updates of D, then one of G. Returns a StepResult."""
        inputs = self.parallel.local(self.draw(step))  # this rank's rows of the global batch
        skipped = 0
        for batch in inputs.d_batches:
            loss_d, real_logits, fake_logits, ok = self.discriminator_step(batch)
            skipped += not ok
        loss_g, ok = self.generator_step(inputs.z, inputs.fake_labels)
        return StepResult(loss_d, loss_g, real_logits, fake_logits, skipped + (not ok))

    def discriminator_step(self, batch):
        """One update of D on d_loss (+ the penalty). Returns (loss_D, real_logits,
        fake_logits, updated)."""
        G, D, opt_d, method = self.G, self.D, self.opt_d, self.method
        scheme = method.conditioning  # D's logits [and class logits], extra loss terms
        real_logits, real_classes = scheme.discriminate(D, batch.x, batch.real_labels)
        # detach(): D's step must not send gradients into G. Cut here, the backward walk stops
        # at the fake images, so it neither touches G's weights' .grad nor pays for G's backward.
        fake = G(batch.z, batch.fake_labels).detach()
        fake_logits, fake_classes = scheme.discriminate(D, fake, batch.fake_labels)
        loss_d = method.loss.d_loss(real_logits, fake_logits)
        loss_d = scheme.d_loss(loss_d, real_classes, batch.real_labels, fake_classes,
                               batch.fake_labels)
        if method.penalty is not None:
            loss_d = loss_d + method.penalty(D, batch, fake)
        opt_d.zero_grad()  # also clears what the last generator step left in D's .grad
        if self.settings.skip_nonfinite and self.parallel.any(not is_finite(loss_d)):
            return loss_d, real_logits, fake_logits, False
        loss_d.backward()
        for hook in self.before_step:
            hook(D)
        opt_d.step()
        for hook in method.after_d_step:
            hook()
        return loss_d, real_logits, fake_logits, True

    def generator_step(self, z, fake_labels):
        """One update of G on g_loss; the gradient flows back through D, whose weights stay
        put. Returns (loss_G, updated)."""
        G, D, opt_g, method = self.G, self.D, self.opt_g, self.method
        logits, classes = method.conditioning.discriminate(D, G(z, fake_labels), fake_labels)
        loss_g = method.conditioning.g_loss(method.loss.g_loss(logits), classes, fake_labels)
        opt_g.zero_grad()
        if self.settings.skip_nonfinite and self.parallel.any(not is_finite(loss_g)):
            return loss_g, False
        loss_g.backward()  # D's weights get .grad too; the next opt_d.zero_grad() drops them
        for hook in self.before_step:
            hook(G)
        opt_g.step()
        for hook in method.after_g_step:
            hook()
        return loss_g, True
