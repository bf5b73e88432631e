"""The benchmark's rows, running them, and the report (a markdown table and JSON).

Rows whose setup fails (an op or a model not written yet, a GPU-only problem) are
reported with their error and the run goes on, so a partial engine still gets numbers.
"""
import collections
import contextlib
import json
import os
import time
import traceback
from dataclasses import replace

from . import ops, steps
from .machine import BUSY_LOADS, busy_load, describe, machine_info, set_threads
from .memory import peak_memory
from .timing import time_pair

MEMORY_TARGET = 1.5  # minigan's peak step memory over PyTorch's
BUSY_TARGET = 1.5  # minigan's slowdown on a busy machine over PyTorch's (issue 30)
# seconds of timed repeats per row, at most (at least 3 repeats are taken all the same):
# what keeps a full run under 10 minutes on a busy 2-core machine
BUDGET = {"op": 6.0, "step": 40.0}
BUDGET_QUICK = {"op": 3.0, "step": 15.0}
# on a GPU a sample takes milliseconds, so 15 repeats fit in far less: what keeps a
# full CUDA run to a few minutes of a lent machine's time
BUDGET_CUDA = {"op": 0.5, "step": 3.0}
# --quick keeps these op rows (a conv and a conv-transpose of each size class, one
# BatchNorm of each rank, two linears): chosen by substring of the row name
QUICK_OPS = ("DCGAN-64 D.main.2 ", "DCGAN-64 D.main.8 ", "DCGAN-64 G.main.3 ",
             "DCGAN-64 G.main.9 ", "DCGAN-28 D.main.0 ", "DCGAN-28 G.main.3 ",
             "batch_norm 64x128x16x16", "batch_norm 64x512 ", "MLP GAN G.model.7 ",
             "MLP GAN D.model.0 ")


def op_layers():
    """Layer records read off minigan.models (the fallback tables where that fails)."""
    fallback = ops.fallback_layers()
    layers = []
    for label, model, shape, fallback_prefix in (("DCGAN-64", "dcgan", (3, 64, 64), "DCGAN-64"),
                                                 ("DCGAN-28", "dcgan", (1, 28, 28), None),
                                                 ("MLP GAN", "mlp", (1, 28, 28), "MLP GAN")):
        try:
            layers += ops.model_layers(label, model, shape)
        except Exception:  # noqa: BLE001 - the models or their layers are not there yet
            layers += [x for x in fallback if fallback_prefix and
                       x["where"].startswith(fallback_prefix)]
    return layers


def all_rows(device="cpu", quick=False, one_thread_rows=True, busy=False):
    """Every row; with one_thread_rows, the CPU step and conv rows again at 1 thread (their
    names end in "(1 thread)"), for runs at more threads; with `busy` (on the CPU), instead,
    every step and conv row twice, quiet and then "(busy)"."""
    rows = ops.op_rows(op_layers())
    if quick:
        rows = [r for r in rows if any(key in r.name + " " for key in QUICK_OPS)]
    steps_ = steps.step_rows(device, quick)
    if device != "cpu":
        return rows + steps_
    convs = [r for r in rows if " conv" in r.name]
    if busy:
        return [row for r in convs + steps_ for row in (r, replace(
            r, name=r.name + " (busy)", busy=True, check=None))]
    if one_thread_rows:
        return rows + steps_ + [steps.one_thread(r) for r in steps_ + convs]
    return rows + steps_


def run_row(row, device, repeats, min_sample_s, budget_s, threads, memory, default=False,
            busy_kind="python"):
    """Time one row (at row.threads, else the run's `threads`: minigan's default count with
    `default`); its result dict."""
    if row.threads:  # this row's own count, for both frameworks; the run's again after it
        set_threads(row.threads)
        try:
            return run_row(replace(row, threads=None), device, repeats, min_sample_s,
                           budget_s, row.threads, memory)
        finally:
            set_threads(threads, default)
    result = {"group": row.group, "name": row.name, "target": row.target, "threads": threads,
              "minigan_default_threads": default, **row.detail}
    if row.busy:
        result["busy_load"] = busy_kind
    start = time.perf_counter()
    try:
        if row.check is not None:  # first, while nothing else holds memory
            extra = row.check(device)
            result["check_extra"] = extra
        contenders = row.setup(device)
        with counted_threads() as seen, (busy_load(busy_kind) if row.busy else
                                         contextlib.nullcontext()):
            result.update(time_pair(contenders, repeats=repeats, min_sample_s=min_sample_s,
                                    budget_s=budget_s[row.group]))
        result["minigan_threads_used"] = dict(seen)
        if row.check is not None:
            result["outputs_match"] &= extra["match"]
            if not extra["match"]:
                result["worst_output"] = "float64 " + str(extra["worst"])
                result["worst_rel_err"] = extra["worst_rel_err"]
    except Exception as error:  # noqa: BLE001 - report it and go on with the next row
        result["error"] = f"{type(error).__name__}: {error}"
        result["traceback"] = traceback.format_exc()
        return result
    if memory and row.group == "step" and not row.busy:
        for framework in ("torch", "minigan"):
            result[f"memory_{framework}"] = peak_memory(row.name, framework, device, threads)
        t, m = result["memory_torch"], result["memory_minigan"]
        if "peak_mb" in t and "peak_mb" in m and t["peak_mb"] > 0:
            result["memory_ratio"] = m["peak_mb"] / t["peak_mb"]
    result["seconds"] = time.perf_counter() - start
    return result


@contextlib.contextmanager
def counted_threads():
    """How often minigan's ops ran at each thread count inside the block (they ask
    minigan.threads.ops_threads, which adapts the default count to the load)."""
    from minigan import threads

    seen, real = collections.Counter(), threads.ops_threads

    def counting():
        n = real()
        seen[n] += 1
        return n

    threads.ops_threads = counting
    try:
        yield seen
    finally:
        threads.ops_threads = real


def threads_used(seen):
    """'2' or '2 (1 in 30%)': the count minigan's ops ran at most often, and the others."""
    if not seen:
        return ""
    total = sum(seen.values())
    main = max(seen, key=seen.get)
    others = ", ".join(f"{n} in {100 * c / total:.0f}%" for n, c in sorted(seen.items())
                       if n != main)
    return f"{main}" + (f" ({others})" if others else "")


# -- the report ------------------------------------------------------------------------
def _verdict(value, target):
    if value is None or target is None:
        return ""
    return "yes" if value <= target else "**no**"


def _fmt(value, digits=2):
    return "" if value is None else f"{value:.{digits}f}"


def markdown(results, info):
    lines = ["## Machine", describe(info), ""]
    for group, title in (("op", "Ops: forward + backward, float32"),
                         ("step", "Training steps: D step + G step, Adam, float32")):
        rows = [r for r in results if r["group"] == group]
        if not rows:
            continue
        header = ["row", "PyTorch ms", "minigan ms", "ratio (median)", "ratio (min)", "target",
                  "met", "outputs", "minigan threads"]
        if group == "step":
            header += ["PyTorch peak MB", "minigan peak MB", "memory ratio", "met (<= 1.5)"]
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        for r in rows:
            if "error" in r:
                lines.append(f"| {r['name']} | error: {r['error'][:120]} |" + " |" *
                             (len(header) - 2))
                continue
            outputs = "allclose" if r["outputs_match"] else \
                f"**DIFFER** ({r['worst_output']}: {r['worst_rel_err']:.1e})"
            cells = [r["name"], _fmt(r["torch_ms"], 3), _fmt(r["minigan_ms"], 3),
                     _fmt(r["ratio_median"]), _fmt(r["ratio_min"]), _fmt(r["target"]),
                     _verdict(r["ratio_median"], r["target"]), outputs,
                     threads_used(r.get("minigan_threads_used"))]
            if group == "step":
                t, m = r.get("memory_torch", {}), r.get("memory_minigan", {})
                cells += [_fmt(t.get("peak_mb"), 1) or t.get("error", ""),
                          _fmt(m.get("peak_mb"), 1) or m.get("error", ""),
                          _fmt(r.get("memory_ratio")),
                          _verdict(r.get("memory_ratio"), MEMORY_TARGET)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += busy_table(results)
    return "\n".join(lines)


def busy_table(results):
    """Each "(busy)" row against its quiet twin: both frameworks' slowdowns (busy time over
    quiet time, medians) and minigan's over PyTorch's, against BUSY_TARGET."""
    quiet = {r["name"]: r for r in results if "error" not in r}
    pairs = [(quiet[r["name"][:-len(" (busy)")]], r) for r in results
             if r["name"].endswith(" (busy)") and "error" not in r
             and r["name"][:-len(" (busy)")] in quiet]
    if not pairs:
        return []
    lines = ["## Busy machine: slowdown against the quiet row, at the default thread count", "",
             "| row | PyTorch quiet ms | PyTorch busy ms | PyTorch slowdown | minigan quiet ms "
             "| minigan busy ms | minigan slowdown | minigan / PyTorch slowdown | target | met "
             "| minigan threads quiet, busy |", "|" + "---|" * 11]
    for q, b in pairs:
        st, sm = b["torch_ms"] / q["torch_ms"], b["minigan_ms"] / q["minigan_ms"]
        cells = [q["name"], _fmt(q["torch_ms"], 1), _fmt(b["torch_ms"], 1), _fmt(st),
                 _fmt(q["minigan_ms"], 1), _fmt(b["minigan_ms"], 1), _fmt(sm), _fmt(sm / st),
                 _fmt(BUSY_TARGET), _verdict(sm / st, BUSY_TARGET),
                 threads_used(q.get("minigan_threads_used")) + ", "
                 + threads_used(b.get("minigan_threads_used"))]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def fused_kernels(device):
    """Whether minigan ran its fused CUDA kernels (kernels.py), for the report."""
    from minigan.fast import kernels

    return device == "cuda" and kernels.USE_FUSED


def run(device="cpu", quick=False, repeats=None, threads=1, json_path=None, memory=True,
        min_sample_s=None, only=None, log=print, default=False, busy=None):
    """Run every row (or those whose name contains `only`); the results and the report.
    At threads > 1 on the CPU the step and conv rows are also timed at 1 thread; with
    `busy` (a kind of machine.BUSY_LOADS) the step and conv rows are timed quiet and busy
    instead. `default`: minigan at its default thread count (threads is every core)."""
    repeats = repeats or (7 if quick else 15)
    # a GPU sample is timed between two synchronisations: 10 ms is long enough
    min_sample_s = min_sample_s or (0.01 if device == "cuda" else 0.02 if quick else 0.05)
    budget_s = BUDGET_CUDA if device == "cuda" else BUDGET_QUICK if quick else BUDGET
    info = machine_info(device, threads)
    info.update(repeats=repeats, min_sample_s=min_sample_s, quick=quick,
                budget_s=budget_s, fused_kernels=fused_kernels(device),
                minigan_threads=("its default (every core, fewer while other processes keep "
                                 "cores busy: minigan/threads.py)" if default else
                                 f"set_num_threads({threads})"),
                busy_load=(f"{busy}: {BUSY_LOADS[busy]!r}" if busy else None))
    rows = [r for r in all_rows(device, quick, one_thread_rows=threads > 1, busy=bool(busy))
            if only is None or only in r.name]
    results, start = [], time.perf_counter()
    for i, row in enumerate(rows):
        result = run_row(row, device, repeats, min_sample_s, budget_s, threads, memory,
                         default, busy)
        results.append(result)
        summary = result.get("error") or (
            f"torch {result['torch_ms']:.3f} ms, minigan {result['minigan_ms']:.3f} ms, "
            f"ratio {result['ratio_median']:.2f} (min {result['ratio_min']:.2f})"
            + ("" if result["outputs_match"] else "  OUTPUTS DIFFER"))
        log(f"[{i + 1}/{len(rows)} {time.perf_counter() - start:5.0f}s] {row.name}: {summary}")
    info["total_seconds"] = time.perf_counter() - start
    info["load_average_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    report = markdown(results, info)
    if json_path:
        with open(json_path, "w") as f:
            json.dump({"machine": info, "rows": results}, f, indent=1, default=str)
    return results, report
