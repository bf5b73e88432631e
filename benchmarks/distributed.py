"""Data-parallel training steps per second: N processes against one (README: "Data-parallel
training").

    python -m benchmarks.distributed [--rounds R] [--only TEXT] [--json PATH] [-n N]

For each model (mlp and dcgan-28 at global batch 64 on mnist-sample, dcgan-64 with 3
channels at 64), three ways to use N cores (N = 2 by default):
    N processes x 1 thread   mpiexec -n N, OPENBLAS_NUM_THREADS=1 (minigan.parallel.data_parallel)
    1 process x N threads    OPENBLAS_NUM_THREADS=N (only BLAS runs threaded)
    1 process x 1 thread     the baseline
Each sample is a fresh process (or job) that sets a run up through minigan.training.setup,
takes 2 untimed steps, then times `steps` GANUpdater.update calls (real batches and noise
drawn as in training). In the data-parallel runs every collective of the process group
(the gradient all-reduce and SyncBatchNorm's statistics) is timed too: the share of the
step spent there, which includes waiting for the slower rank; and, alone, the all-reduce
of one step's gradients (both networks' parameter counts of float32, one bucketed
`average_gradients`-sized call per network, the median of 15 after a barrier). The rounds
interleave the three ways, so a shared machine's drift falls on each alike; reported are
medians over rounds. Needs minigan[mpi] (mpi4py, mpich) for the data-parallel rows.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# name: (TrainConfig settings, timed steps)
MODELS = {"mlp": (dict(model="mlp"), 30),
          "dcgan-28": (dict(model="dcgan"), 8),
          "dcgan-64": (dict(model="dcgan", image_size=64, channels=3), 3)}
WARMUP = 2


def worker(name, out):
    """Time one sample in this process (and its ranks); rank 0 prints one JSON line."""
    from minigan import distributed  # noqa: PLC0415
    from minigan import training  # noqa: PLC0415
    from minigan.training import GANUpdater, StepSettings  # noqa: PLC0415

    settings, steps = MODELS[name]
    config = training.TrainConfig(**settings, steps=WARMUP + steps, batch_size=64, out=out)
    run = training.setup(config)
    updater = GANUpdater(run.G, run.D, run.opt_g, run.opt_d, run.real,
                         StepSettings.of(run.config), run.method, run.parallel)
    in_collectives = [0.0]
    if run.parallel.size > 1:
        group = distributed.group()
        all_reduce = group.all_reduce

        def timed_all_reduce(flat, op="sum"):
            t = time.perf_counter()
            all_reduce(flat, op)
            in_collectives[0] += time.perf_counter() - t

        group.all_reduce = timed_all_reduce
    for step in range(1, WARMUP + 1):
        updater.update(step)
    if run.parallel.size > 1:
        distributed.barrier()
    in_collectives[0] = 0.0
    t0 = time.perf_counter()
    for step in range(WARMUP + 1, WARMUP + steps + 1):
        updater.update(step)
    seconds = time.perf_counter() - t0
    if run.parallel.is_main:
        print(json.dumps({"steps_per_second": steps / seconds,
                          "collective_share": in_collectives[0] / seconds}))


def allreduce_worker(name):
    """The median time of all-reducing G's and D's gradients (as average_gradients does)."""
    import numpy as np  # noqa: PLC0415

    from minigan import distributed  # noqa: PLC0415
    from minigan.data.datasets import load_dataset  # noqa: PLC0415
    from minigan.models import build_gan  # noqa: PLC0415
    from minigan.training import TrainConfig  # noqa: PLC0415
    from minigan.training.setup import model_spec_for  # noqa: PLC0415

    settings, _ = MODELS[name]
    config = TrainConfig(**settings)
    dataset = load_dataset(config.dataset, image_size=config.image_size,
                           channels=config.channels)
    spec = model_spec_for(config, dataset)
    spec["image_shape"] = tuple(spec["image_shape"])
    G, D = build_gan(**spec)
    group = distributed.init_process_group()
    buffers = [np.ones(sum(p.numel() for p in net.parameters()), np.float32) for net in (G, D)]
    times = []
    for _ in range(18):
        group.barrier()
        t = time.perf_counter()
        for b in buffers:
            group.all_reduce(b, "mean")
        times.append(time.perf_counter() - t)
    if group.rank == 0:
        print(json.dumps({"allreduce_ms": 1e3 * statistics.median(times[3:]),
                          "parameters": sum(b.size for b in buffers)}))


def sample(name, processes, threads, allreduce=False):
    """One timed sample in fresh processes; returns the worker's JSON record."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    cmd = [sys.executable, "-m", "benchmarks.distributed",
           "--allreduce-worker" if allreduce else "--worker", name]
    if processes > 1:
        mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
        cmd = [mpiexec, "-n", str(processes)] + cmd
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run(cmd + ["--out", out], capture_output=True, text=True, env=env,
                                timeout=1200)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-n", type=int, default=2, help="processes (and cores) compared")
    parser.add_argument("--only", help="models whose name contains TEXT")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--allreduce-worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.out)
    if args.allreduce_worker:
        return allreduce_worker(args.allreduce_worker)

    n = args.n
    ways = {f"{n} processes x 1 thread": (n, 1), f"1 process x {n} threads": (1, n),
            "1 process x 1 thread": (1, 1)}
    names = [m for m in MODELS if args.only is None or args.only in m]
    samples = {(m, w): [] for m in names for w in ways}
    allreduce = {m: [] for m in names}
    for r in range(args.rounds):
        for m in names:
            allreduce[m].append(sample(m, n, 1, allreduce=True))
            print(f"round {r + 1}: {m}, all-reduce: {allreduce[m][-1]}", file=sys.stderr)
            for w, (processes, threads) in (list(ways.items()) if r % 2 == 0 else
                                            list(reversed(ways.items()))):
                samples[m, w].append(sample(m, processes, threads))
                print(f"round {r + 1}: {m}, {w}: {samples[m, w][-1]}", file=sys.stderr)
    print(f"| model (steps/s) | {' | '.join(ways)} | {n} processes / 1 thread | share in "
          f"collectives | all-reduce of the gradients |")
    print("| --- |" + " --- |" * (len(ways) + 3))
    for m in names:
        rates = {w: statistics.median(s["steps_per_second"] for s in samples[m, w]) for w in ways}
        share = statistics.median(s["collective_share"] for s in samples[m, list(ways)[0]])
        cells = " | ".join(f"{rates[w]:.2f}" for w in ways)
        reduce_ms = statistics.median(s["allreduce_ms"] for s in allreduce[m])
        print(f"| {m} | {cells} | {rates[list(ways)[0]] / rates[list(ways)[2]]:.2f}x | "
              f"{share:.0%} | {reduce_ms:.1f} ms ({allreduce[m][0]['parameters'] / 1e6:.1f} M) |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**{f"{m} / {w}": s for (m, w), s in samples.items()},
                       **{f"{m} / all-reduce": s for m, s in allreduce.items()}}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
