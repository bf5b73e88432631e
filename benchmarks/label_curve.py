"""How fast a conditional GAN learns to obey its label: minigan alone, scored along the way.

    python -m benchmarks.label_curve --model cmlp --conditioning acgan --steps 12000 \
        --every 1000 --json curve.jsonl

Trains as `minigan train` does (train.setup and the GANUpdater's steps, one thread) and,
every `--every` steps, scores 2,500 samples of the sampling generator as `train
--eval-every` does (the classes in turn, noise from the run's evaluation stream) and
writes one JSON line: the step, the training loop's process CPU minutes so far (scoring
and checkpoints excluded; on a shared machine the steadier figure than wall time), the
Frechet distance, the inception score and the label accuracy overall, per class and of
the worst class. The run's checkpoint is written at each score, so a long run can be cut
short and its last point resumed or sampled.
"""
import argparse
import json
import sys
import time

from .machine import set_thread_env

if __name__ == "__main__":  # OpenBLAS reads its thread count when numpy is imported: first
    set_thread_env(1)

FIELDS = {"model": str, "dataset": str, "steps": int, "seed": int, "batch_size": int,
          "lr": float, "lr_d": float, "lr_g": float, "loss": str, "conditioning": str,
          "ema": float, "gp": float, "r1": float}


def curve(config, every, out):
    """Train `config` and write a scored line to `out` every `every` steps."""
    from minigan.training import GANUpdater, StepSettings, setup
    from minigan.training.extensions.evaluate import evaluate

    run = setup(config)
    updater = GANUpdater(run.G, run.D, run.opt_g, run.opt_d, run.real,
                         StepSettings.of(run.config), run.method)
    cpu = 0.0
    for step in range(1, run.config.steps + 1):
        start = time.process_time()
        updater.update(step)
        cpu += time.process_time() - start
        if step % every == 0 or step == run.config.steps:
            scores = evaluate(run, 2500)
            line = {"step": step, "cpu_minutes": round(cpu / 60, 3)}
            line.update({k: round(v, 4) for k, v in scores.items()
                         if k.startswith("label") or k in ("frechet_distance",
                                                           "inception_score")})
            print(json.dumps(line), file=out, flush=True)
            run.writer.checkpoint(run, step, 0)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.label_curve")
    for name, kind in FIELDS.items():
        parser.add_argument("--" + name.replace("_", "-"), type=kind)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--out", help="the run folder (default: runs/curve-...)")
    parser.add_argument("--json", help="write the lines here (default: stdout)")
    args = parser.parse_args(argv)
    from minigan.training import TrainConfig

    fields = {k: getattr(args, k) for k in FIELDS if getattr(args, k) is not None}
    config = TrainConfig(out=args.out, **fields)
    out = open(args.json, "a") if args.json else sys.stdout
    try:
        curve(config, args.every, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
