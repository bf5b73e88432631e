"""What test_distributed.py runs under `mpiexec -n N`: python tests/mpi_worker.py CASE OUT.

Each case works on its rank's share of a global batch that every rank makes from the same
seed, and writes what the test compares to OUT/rank<r>.npz; the test computes the
single-process result of the same global batch itself.
"""
import dataclasses
import os
import signal
import sys

import numpy as np

import minigan
import minigan.distributed as dist
from minigan import backend, nn

GLOBAL_BATCH = 8


def global_input(shape, seed=1):
    """The global batch, the same on every rank, and this rank's slice of it (rows)."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * 2 + 0.5
    n = shape[0] // dist.get_world_size()
    return x, x[dist.get_rank() * n:(dist.get_rank() + 1) * n]


def bn_model(kind):
    """A small net with BatchNorm (BatchNorm1d on (N, C) or BatchNorm2d on images)."""
    minigan.manual_seed(0)
    if kind == "1d":
        return nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6), nn.LeakyReLU(0.2),
                             nn.Linear(6, 3), nn.BatchNorm1d(3))
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Conv2d(4, 3, 3, stride=2), nn.BatchNorm2d(3))


def input_shape(kind):
    return (GLOBAL_BATCH, 5) if kind == "1d" else (GLOBAL_BATCH, 2, 6, 6)


def sync_batchnorm(kind):
    """Two training steps' forward and backward of the converted model on this rank's slice:
    outputs, the input's gradient, averaged parameter gradients, running statistics."""
    model = nn.SyncBatchNorm.convert_sync_batchnorm(bn_model(kind))
    dist.broadcast_module(model)
    result = {}
    for step in range(2):
        _, x_local = global_input(input_shape(kind), seed=step + 1)
        x = minigan.tensor(x_local, requires_grad=True)
        model.zero_grad()
        out = model(x)
        # the loss is a mean over this rank's rows, as a GAN loss is
        target = minigan.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape)
                                .astype(np.float32))
        loss = ((out - target) ** 2).mean()
        loss.backward()
        dist.average_gradients(model.parameters())
        result[f"out{step}"] = out.numpy()
        result[f"x_grad{step}"] = x.grad.numpy()
    for name, p in model.named_parameters():
        result["grad/" + name] = p.grad.numpy()
    for name, b in model.named_buffers():
        result["buffer/" + name] = b.numpy()
    model.eval()
    result["eval_out"] = model(minigan.tensor(global_input(input_shape(kind))[1])).numpy()
    return result


def collectives(device="cpu"):
    """all_reduce (sum, mean, max; several dtypes, several buckets), broadcast,
    broadcast_module and average_gradients, on values that differ by rank; on "cuda" the
    arrays live on the GPU and travel through NCCL."""
    rank = dist.get_rank()

    def on_device(a):
        return backend.to_device(a, device)

    arrays = [on_device(np.full((3, 2), rank + 1, np.float32)),
              on_device(np.arange(5, dtype=np.int64) * (rank + 1)),
              on_device(np.full(4, rank + 0.5, np.float64)),
              minigan.tensor(np.full(2, rank, np.float32), device=device)]
    dist.all_reduce(arrays)
    maxed = on_device(np.array([rank, -rank], np.float32))
    dist.all_reduce(maxed, op="max")
    mean = on_device(np.full(3, rank * 2.0, np.float32))
    dist.all_reduce(mean, op="mean")
    sent = on_device(np.full(3, 7.0 if rank == 1 else 0.0))
    dist.broadcast(sent, src=1)
    minigan.manual_seed(rank)  # different weights on each rank, made equal below
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).to(device)
    model[1].running_mean._data[...] = rank
    dist.broadcast_module(model)
    for p in model.parameters():
        p.grad = minigan.tensor(np.full(p.shape, rank + 1.0, np.float32), device=device)
    dist.average_gradients(model.parameters())
    result = {f"sum{i}": backend.asnumpy(a._data if isinstance(a, minigan.Tensor) else a)
              for i, a in enumerate(arrays)}
    result.update({k: backend.asnumpy(v) for k, v in
                   dict(max=maxed, mean=mean, sent=sent).items()})
    result.update({"weight/" + k: v for k, v in model.state_dict().items()})
    result.update({"grad/" + k: p.grad.numpy() for k, p in model.named_parameters()})
    return result


def train_failing(how, out):
    """`minigan train` (checkpoints every 2 steps) in which rank 1 fails at step 4: it raises
    an OSError (how="error") or is killed by SIGKILL (how="kill")."""
    from minigan.cli import main as cli  # noqa: PLC0415
    from minigan.training import updater  # noqa: PLC0415

    original = updater.GANUpdater.update

    def update(self, step):
        if step == 4 and dist.get_rank() == 1:
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise OSError("the disk caught fire (raised by the test)")
        return original(self, step)

    updater.GANUpdater.update = update
    return cli.main(["train", "--steps", "8", "--batch-size", "16", "--checkpoint-every", "2",
                     "--no-progress", "--out", out])


def cast_inputs(inputs, dtype):
    """A step's random inputs (updater.StepInputs) with every float tensor cast to dtype."""
    if isinstance(inputs, minigan.Tensor):
        return minigan.Tensor(inputs._data.astype(dtype)) if inputs.dtype.kind == "f" \
            else inputs
    if dataclasses.is_dataclass(inputs):
        return dataclasses.replace(inputs, **{f.name: cast_inputs(getattr(inputs, f.name), dtype)
                                              for f in dataclasses.fields(inputs)})
    if isinstance(inputs, list):
        return [cast_inputs(item, dtype) for item in inputs]
    return inputs


# WGAN-GP (a penalty through create_graph), spectral norm's power iteration and an EMA of G
METHODS = dict(loss="wgan", gp=10.0, spectral_norm=True, ema=0.9)


def train_in_float64(model, steps, out, methods=()):
    """`minigan train --model MODEL --steps STEPS --batch-size 64` built through the Python API
    (training.setup, the run's GANUpdater) and stepped in float64: the weights, BatchNorm's
    buffers, Adam's state and every step's random inputs (drawn as in float32, then cast).
    In one process, or under mpiexec (SyncBatchNorm, averaged gradients), where it is the
    same computation up to float64 summation order. Returns each step's global losses and the
    final weights of G and D."""
    from minigan.training import config as settings, updater  # noqa: PLC0415
    from minigan.training.setup import setup  # noqa: PLC0415

    config = settings.TrainConfig(model=model, steps=steps, batch_size=64, out=out,
                                  **dict(methods))
    run = setup(config)
    for module in (run.G, run.D, run.G_ema):
        if module is not None:
            module._apply(lambda a: a.astype(np.float64))
    run.real.x = run.real.x.astype(np.float64)

    class Float64Updater(updater.GANUpdater):
        def draw(self, step):
            return cast_inputs(super().draw(step), np.float64)

    steps_run = Float64Updater(run.G, run.D, run.opt_g, run.opt_d, run.real,
                               updater.StepSettings.of(run.config), run.method, run.parallel)
    result = {}
    for step in range(1, steps + 1):
        outcome = steps_run.update(step)
        result[f"losses{step}"] = np.array(run.parallel.global_means([outcome.loss_d,
                                                                       outcome.loss_g]))
    for name, module in (("G", run.G), ("D", run.D), ("G_ema", run.G_ema)):
        if module is not None:
                result.update({f"{name}/{k}": v for k, v in module.state_dict().items()})
    return result


CASES = {"collectives": collectives, "collectives_cuda": lambda: collectives("cuda"),
         "sync_batchnorm_1d": lambda: sync_batchnorm("1d"),
         "sync_batchnorm_2d": lambda: sync_batchnorm("2d")}

if __name__ == "__main__":
    case, out = sys.argv[1], sys.argv[2]
    if case.startswith("float64_"):  # float64_MODEL_STEPS[_methods]: setup joins the ranks
        _, model, steps, *methods = case.split("_")
        result = train_in_float64(model, int(steps), os.path.join(out, "run"),
                                  METHODS if methods else ())
        if dist.get_rank() == 0:
            np.savez(os.path.join(out, "rank0.npz"), **result)
        sys.exit(0)
    if case.startswith("train_"):  # minigan train joins the ranks itself
        sys.exit(train_failing(case.split("_")[-1], out))
    dist.init_process_group("cuda" if case.endswith("_cuda") else "cpu")
    result = CASES[case]()
    np.savez(os.path.join(out, f"rank{dist.get_rank()}.npz"), **result)
