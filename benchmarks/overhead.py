"""What double backward costs when it is not used: old and new minigan, one training step.

Every backward formula now runs on Tensors (so that create_graph=True can record it):
with create_graph=False it records nothing, but each formula still makes small Tensor
and Function objects. This times a GAN training step (steps.train_step: one D and one G
step with Adam) of the code before that change (commit BASE, copied out of git as the
package `minigan_old`: it uses only relative imports, so the copy imports beside the
current one) and of the current code, alternately in one process, and reports new/old
ratios of medians, at each thread count in a fresh subprocess (BLAS threads are fixed at
numpy's import). Peak memory of a step (benchmarks.memory.measure_cpu) is measured in a
fresh process per package and model.

    python -m benchmarks.overhead [--threads 1 2] [--repeats 15] [--budget 300] [--memory]
                                  [--base COMMIT] [--models MLP DCGAN-28 DCGAN-64]
"""
import argparse
import gc
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BASE = "37bfcec"  # the last commit before double backward
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {"MLP GAN 1x28x28 b64": ("mlp", (1, 28, 28), 64),
          "DCGAN-28 1x28x28 b64": ("dcgan", (1, 28, 28), 64),
          "DCGAN-64 3x64x64 b64": ("dcgan", (3, 64, 64), 64)}


def old_package(folder, base=BASE):
    """Extract minigan/ at commit `base` into folder/minigan_old; put folder on sys.path."""
    target = os.path.join(folder, "minigan_old")
    if not os.path.isdir(target):
        archive = subprocess.run(["git", "-C", ROOT, "archive", base, "minigan"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        os.rename(os.path.join(folder, "minigan"), target)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module("minigan_old")


def step(pkg, model, image_shape, batch):
    """A zero-argument training step of package `pkg` (minigan or minigan_old)."""
    import numpy as np

    from .steps import BETAS, LR, train_step

    models = importlib.import_module(pkg.__name__ + ".models")
    functional = importlib.import_module(pkg.__name__ + ".nn.functional")
    pkg.manual_seed(0)
    g, d = models.build_gan(model, "image", image_shape, nz=100)
    opt_g = pkg.optim.Adam(g.parameters(), lr=LR, betas=BETAS)
    opt_d = pkg.optim.Adam(d.parameters(), lr=LR, betas=BETAS)
    rng = np.random.default_rng(0)
    real = pkg.tensor(rng.uniform(-1, 1, (batch, *image_shape)).astype("float32"))
    z = pkg.tensor(rng.standard_normal((batch, 100)).astype("float32"))
    ones, zeros = pkg.tensor(np.ones(batch, "float32")), pkg.tensor(np.zeros(batch, "float32"))
    bce = functional.binary_cross_entropy_with_logits
    return lambda: train_step(g, d, opt_g, opt_d, real, z, ones, zeros, bce)


def sample(run, inner):
    """(wall seconds, CPU seconds of this process) per call, averaged over `inner` calls.
    On a machine shared with other jobs the wall time includes waiting for a core; the
    CPU time counts only this process's own work (all its threads)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(inner):
        run()
    return (time.perf_counter() - wall) / inner, (time.process_time() - cpu) / inner


def time_models(repeats, folder, budget_s, base, models=None):
    """For each model (those named in `models`, default all): old and new steps timed
    alternately; medians and their ratio."""
    import minigan

    old = old_package(folder, base)
    results = {}
    for name, (model, shape, batch) in MODELS.items():
        if models and not any(name.startswith(m) for m in models):
            continue
        runs = {"old": step(old, model, shape, batch), "new": step(minigan, model, shape, batch)}
        first = min(sample(r, 1)[0] for r in runs.values())  # warm-up, and the inner count
        inner = max(1, int(0.2 / first))
        # at least 5 repeats; fewer than asked where they would take over budget_s
        repeats = max(5, min(repeats, int(budget_s / (2 * inner * first))))
        times = {"old": [], "new": []}
        for r in range(repeats):
            for which in (("old", "new") if r % 2 == 0 else ("new", "old")):
                times[which].append(sample(runs[which], inner))
        result = {"repeats": repeats, "inner": inner}
        for i, clock in enumerate(("wall", "cpu")):
            old_s = [t[i] for t in times["old"]]
            new_s = [t[i] for t in times["new"]]
            result[clock] = {"old_ms": 1e3 * statistics.median(old_s),
                             "new_ms": 1e3 * statistics.median(new_s),
                             "ratio_of_medians": statistics.median(new_s) /
                             statistics.median(old_s),
                             "median_ratio": statistics.median(n / o for n, o in
                                                               zip(new_s, old_s))}
        results[name] = result
    return results


def memory(which, name, folder, base):
    """Peak memory of a step beyond what lives between steps (benchmarks.memory)."""
    import minigan

    from .memory import measure_cpu

    pkg = old_package(folder, base) if which == "old" else minigan
    return measure_cpu(step(pkg, *MODELS[name]))


def child(args):
    from .machine import set_thread_env

    set_thread_env(args.threads[0])  # --threads N parses as [N] (nargs="*")
    if args.memory_of:
        result = memory(args.memory_of, args.model, args.folder, args.base)
    else:
        result = time_models(args.repeats, args.folder, args.budget, args.base, args.models)
    print(json.dumps(result))


def run_child(extra, threads, folder, base, timeout=3600):
    env = dict(os.environ, PYTHONPATH=ROOT)
    if "--memory-of" in extra:  # as benchmarks.memory measures: RSS follows live memory
        env["MALLOC_MMAP_THRESHOLD_"] = "65536"  # (timed steps keep malloc's own default,
        # under which freed blocks up to 32 MB are reused rather than mapped afresh)
    command = [sys.executable, "-m", "benchmarks.overhead", "--child", "--threads",
               str(threads), "--folder", folder, "--base", base, *extra]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=timeout)
    if done.returncode:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(args):
    folder = tempfile.mkdtemp(prefix="minigan_overhead_")
    print(f"new/old of a D+G training step (float32, CPU); old = minigan at {args.base}")
    for threads in args.threads:
        results = run_child(["--repeats", str(args.repeats), "--budget", str(args.budget),
                             "--models", *args.models], threads, folder, args.base)
        for name, r in results.items():
            for clock in ("cpu", "wall"):
                c = r[clock]
                print(f"{threads} thread(s)  {name:22s} {clock:4s} old {c['old_ms']:8.2f} ms  "
                      f"new {c['new_ms']:8.2f} ms  ratio of medians "
                      f"{c['ratio_of_medians']:.3f}  median ratio {c['median_ratio']:.3f}  "
                      f"({r['repeats']} x {r['inner']})", flush=True)
    if args.memory:
        for name in MODELS:
            peaks = {which: run_child(["--memory-of", which, "--model", name], 1, folder,
                                      args.base)["peak_mb"] for which in ("old", "new")}
            print(f"peak memory {name:24s} old {peaks['old']:7.1f} MB  new "
                  f"{peaks['new']:7.1f} MB  ratio {peaks['new'] / peaks['old']:.3f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2],
                        help="thread counts to time at (none: only --memory)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--budget", type=float, default=300,
                        help="seconds of timed repeats per model, at most (default 300)")
    parser.add_argument("--models", nargs="*", default=[],
                        help="time only the models whose names start so (e.g. MLP DCGAN-28)")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--base", default=BASE,
                        help=f"the old code's commit (default {BASE}, before double backward)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--memory-of", choices=("old", "new"), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    child(parsed) if parsed.child else main(parsed)
