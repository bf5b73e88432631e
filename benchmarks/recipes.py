"""python -m benchmarks.recipes NAME [--seeds 0 1 2] [--report benchmarks/QUALITY.md]

Reruns a recipe (minigan/training/recipes.py) as a user would, `minigan train --recipe NAME --seed S
--threads 1`, once per seed, each in its own process, and scores its checkpoints as users
score them, `minigan eval` (2,500 samples, noise seed 0): best.npz (the best by the run's
own evaluation, when the recipe evaluates) and last.npz. The CPU time of each training
process (user + system, all of it: start-up, evaluations, checkpoints, sample grids) comes
from the operating system's accounting of the child (os.times), not the wall clock.

    --json FILE     every seed's record, one JSON line each (appended; a recipe and seed's
                    newest record replaces its older ones in the reports)
    --report FILE   (re)writes the recipe's section of FILE (benchmarks/QUALITY.md) from the
                    records in --json, between <!-- recipe:NAME --> markers
    --readme FILE   (re)writes the recipes table of FILE (README.md) from the registry and
                    the records, between <!-- recipes-table --> markers
    --no-train      only --report/--readme, from the records already in --json
Flags after `--` go to `minigan train` beside the recipe (e.g. `-- --steps 100`) and are
recorded. The threads are fixed to one, before numpy loads (OPENBLAS_NUM_THREADS=1).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
SCORES = ("frechet_distance", "inception_score", "class_entropy", "label_accuracy",
          "label_accuracy_worst", "modes", "high_quality", "mode_entropy")


def minigan(*args, env):
    """`python -m minigan ARGS` in a child process (waited for, so os.times counts it)."""
    return subprocess.run([sys.executable, "-m", "minigan", *map(str, args)], env=env,
                          capture_output=True, text=True, check=False)


def child_env():
    env = dict(os.environ, **{k: "1" for k in ENV_THREADS})
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_seed(name, seed, out, extra):
    """Train the recipe at `seed` into `out` and score its checkpoints; one record."""
    env = child_env()
    before = os.times()
    start = time.time()
    train = minigan("train", "--recipe", name, "--seed", seed, "--threads", 1,
                       "--no-progress", "--out", out, *extra, env=env)
    wall = time.time() - start
    after = os.times()
    if train.returncode != 0:
        raise SystemExit(f"minigan train failed ({train.returncode}): {train.stderr[-2000:]}")
    # os.times' children fields count every child that has been waited for: this one
    cpu = (after.children_user - before.children_user) + \
        (after.children_system - before.children_system)
    record = {"recipe": name, "seed": seed, "extra": list(extra), "cpu_s": round(cpu, 1),
              "wall_s": round(wall, 1), "out": out, "machine": machine()}
    for which in ("best", "last"):
        path = os.path.join(out, "checkpoints", f"{which}.npz")
        if os.path.exists(path):
            record[which] = score(path, env)
    record["curve"] = curve(os.path.join(out, "metrics.jsonl"))
    return record


def score(path, env):
    """`minigan eval --checkpoint PATH` (2,500 samples, seed 0), and the checkpoint's step."""
    result = minigan("eval", "--checkpoint", path, env=env)
    if result.returncode != 0:
        raise SystemExit(f"minigan eval failed: {result.stderr[-2000:]}")
    from minigan.store.checkpoint import read_checkpoint  # noqa: PLC0415 - after the children

    scores = json.loads(result.stdout.strip().splitlines()[-1])
    kept = {k: v for k, v in scores.items() if k in SCORES or k.startswith("label_accuracy_")}
    return {"step": read_checkpoint(path).step, **kept}


def curve(metrics_path):
    """The run's own evaluations (--eval-every): step and its scores."""
    points = []
    for line in open(metrics_path):
        entry = json.loads(line)
        if any(k in entry for k in ("frechet_distance", "high_quality")):
            points.append({k: entry[k] for k in ("step", "time", *SCORES) if k in entry})
    return points


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load": round(os.getloadavg()[0], 1)}


# ----------------------------------------------------------------------------- reports
def headline(scores):
    """The scores users read, as one cell."""
    if scores is None:
        return "-"
    if "frechet_distance" in scores:
        text = f"FD {scores['frechet_distance']:.1f}, IS {scores['inception_score']:.2f}"
        if "label_accuracy" in scores:
            text += (f", label accuracy {scores['label_accuracy']:.3f} (worst digit "
                     f"{scores['label_accuracy_worst']:.3f})")
        return text
    return f"modes {scores['modes']:.0f}, high quality {scores['high_quality']:.3f}"


def spread(values, digits):
    if not values:
        return "-"
    mean = statistics.fmean(values)
    return f"{mean:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def summary(records):
    """Mean and range over the seeds of the headline scores of best.npz (else last.npz)."""
    chosen = [r.get("best") or r.get("last") for r in records]
    cpu = [r["cpu_s"] / 60 for r in records]
    parts = [f"CPU {spread(cpu, 1)} min"]
    for key, label, digits in (("frechet_distance", "FD", 1), ("inception_score", "IS", 2),
                               ("label_accuracy", "label accuracy", 3),
                               ("label_accuracy_worst", "worst digit", 3),
                               ("modes", "modes", 1), ("high_quality", "high quality", 3)):
        values = [c[key] for c in chosen if c and key in c]
        if values:
            parts.append(f"{label} {spread(values, digits)}")
    return "; ".join(parts)


def section(name, records):
    """The markdown of one recipe's runs: a row per seed and the mean (range) line."""
    from minigan.training.recipes import RECIPES  # noqa: PLC0415

    recipe = RECIPES[name]
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in recipe.settings.items())
    lines = [f"### Recipe `{name}`: {recipe.summary}", "",
             f"`minigan train --recipe {name}` = `{flags}` ({recipe.papers}). Rerun and "
             f"scored by `python -m benchmarks.recipes {name} --seeds "
             f"{' '.join(str(r['seed']) for r in records)} --json RUNS.jsonl --report "
             f"benchmarks/QUALITY.md`: one process per seed at one thread, CPU time = user + "
             f"system of the whole training process; scores by `minigan eval` (2,500 samples, "
             f"noise seed 0; real digits IS 9.88, FD 12.5).", "",
             "| seed | CPU min (wall) | best.npz (step) | last.npz (step) | extra flags | "
             "machine, date, load |", "| --- | --- | --- | --- | --- | --- |"]
    for r in records:
        best, last = r.get("best"), r.get("last")
        m = r.get("machine", {})
        lines.append(
            f"| {r['seed']} | {r['cpu_s'] / 60:.1f} ({r['wall_s'] / 60:.0f}) | "
            f"{headline(best)} ({best['step'] if best else '-'}) | {headline(last)} "
            f"({last['step'] if last else '-'}) | {' '.join(r.get('extra', [])) or '-'} | "
            f"{m.get('cpu', '?')}, {m.get('date', '?')}, {m.get('load', '?')} |")
    lines += ["", f"Over the seeds, mean (min-max): {summary(records)}."]
    if any(r.get("note") for r in records):
        lines += [""] + [f"- seed {r['seed']}: {r['note']}" for r in records if r.get("note")]
    return "\n".join(lines) + "\n"


def readme_table(records_by_name):
    from minigan.training.recipes import RECIPES  # noqa: PLC0415

    lines = ["| recipe | what it trains | measured (`minigan eval`) | CPU (one core) |",
             "| --- | --- | --- | --- |"]
    for name, recipe in RECIPES.items():
        records = records_by_name.get(name)
        measured = (f"{len(records)} seeds, mean (min-max): {summary(records)}" if records
                    else recipe.measured)
        lines.append(f"| `{name}` | {recipe.summary} | {measured} | {recipe.cpu} |")
    return "\n".join(lines) + "\n"


def replace_between(path, begin, end, text):
    """Put `text` between the markers in file `path` (appended with them when absent)."""
    content = open(path).read() if os.path.exists(path) else ""
    block = f"{begin}\n{text}{end}\n"
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end) + r"\n?", re.S)
    content = pattern.sub(lambda _: block, content) if pattern.search(content) else \
        content.rstrip("\n") + "\n\n" + block
    with open(path, "w") as f:
        f.write(content)


def read_records(path):
    """The records of `path`, the newest of each (recipe, seed) only: a rerun (after a
    recipe's settings change) replaces the older figures, which stay in the file as history."""
    if not path or not os.path.exists(path):
        return []
    newest = {}
    for line in open(path):
        if line.strip():
            record = json.loads(line)
            key = (record["recipe"], record["seed"])
            newest.pop(key, None)  # a rerun's record takes the place of its newest line
            newest[key] = record
    return list(newest.values())


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recipes")
    parser.add_argument("name", help="a recipe (minigan recipes)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs", default="runs/recipes", help="where the runs go "
                        "(RUNS/NAME-sSEED)")
    parser.add_argument("--json", help="append each seed's record here")
    parser.add_argument("--report", help="the markdown file whose recipe section to rewrite")
    parser.add_argument("--readme", help="the README whose recipes table to rewrite")
    parser.add_argument("--no-train", action="store_true")
    args = parser.parse_args(argv)
    records = []
    if not args.no_train:
        for seed in args.seeds:
            out = os.path.join(args.runs, f"{args.name}-s{seed}")
            record = run_seed(args.name, seed, out, extra)
            print(json.dumps(record), flush=True)
            records.append(record)
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(record) + "\n")
    stored = read_records(args.json)
    ours = [r for r in stored if r["recipe"] == args.name and r["seed"] in args.seeds] or \
        records
    if args.report and ours:
        replace_between(args.report, f"<!-- recipe:{args.name} -->",
                        f"<!-- /recipe:{args.name} -->", section(args.name, ours))
    if args.readme:
        by_name = {}
        for r in stored or records:
            by_name.setdefault(r["recipe"], []).append(r)
        replace_between(args.readme, "<!-- recipes-table -->", "<!-- /recipes-table -->",
                        readme_table(by_name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
