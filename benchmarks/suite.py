"""The benchmark's rows, running them, and the report (a markdown table and JSON).

Rows whose setup fails (an op or a model not written yet, a GPU-only problem) are
reported with their error and the run goes on, so a partial engine still gets numbers.
"""
import json
import os
import time
import traceback
from dataclasses import replace

from . import ops, steps
from .machine import describe, machine_info, set_threads
from .memory import peak_memory
from .timing import time_pair

MEMORY_TARGET = 1.5  # minigan's peak step memory over PyTorch's
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


def all_rows(device="cpu", quick=False, one_thread_rows=True):
    """Every row; with one_thread_rows, the CPU step rows again at 1 thread (their names end
    in "(1 thread)"), for runs at more threads."""
    rows = ops.op_rows(op_layers())
    if quick:
        rows = [r for r in rows if any(key in r.name + " " for key in QUICK_OPS)]
    return rows + steps.step_rows(device, quick, one_thread_rows)


def run_row(row, device, repeats, min_sample_s, budget_s, threads, memory):
    """Time one row (at row.threads, else the run's `threads`); its result dict."""
    if row.threads:  # this row's own count, for both frameworks; the run's again after it
        set_threads(row.threads)
        try:
            return run_row(replace(row, threads=None), device, repeats, min_sample_s,
                           budget_s, row.threads, memory)
        finally:
            set_threads(threads)
    result = {"group": row.group, "name": row.name, "target": row.target, "threads": threads,
              **row.detail}
    start = time.perf_counter()
    try:
        if row.check is not None:  # first, while nothing else holds memory
            extra = row.check(device)
            result["check_extra"] = extra
        result.update(time_pair(row.setup(device), repeats=repeats, min_sample_s=min_sample_s,
                                budget_s=budget_s[row.group]))
        if row.check is not None:
            result["outputs_match"] &= extra["match"]
            if not extra["match"]:
                result["worst_output"] = "float64 " + str(extra["worst"])
                result["worst_rel_err"] = extra["worst_rel_err"]
    except Exception as error:  # noqa: BLE001 - report it and go on with the next row
        result["error"] = f"{type(error).__name__}: {error}"
        result["traceback"] = traceback.format_exc()
        return result
    if memory and row.group == "step":
        for framework in ("torch", "minigan"):
            result[f"memory_{framework}"] = peak_memory(row.name, framework, device, threads)
        t, m = result["memory_torch"], result["memory_minigan"]
        if "peak_mb" in t and "peak_mb" in m and t["peak_mb"] > 0:
            result["memory_ratio"] = m["peak_mb"] / t["peak_mb"]
    result["seconds"] = time.perf_counter() - start
    return result


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
                  "met", "outputs"]
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
                     _verdict(r["ratio_median"], r["target"]), outputs]
            if group == "step":
                t, m = r.get("memory_torch", {}), r.get("memory_minigan", {})
                cells += [_fmt(t.get("peak_mb"), 1) or t.get("error", ""),
                          _fmt(m.get("peak_mb"), 1) or m.get("error", ""),
                          _fmt(r.get("memory_ratio")),
                          _verdict(r.get("memory_ratio"), MEMORY_TARGET)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def fused_kernels(device):
    """Whether minigan ran its fused CUDA kernels (kernels.py), for the report."""
    from minigan.fast import kernels

    return device == "cuda" and kernels.USE_FUSED


def run(device="cpu", quick=False, repeats=None, threads=1, json_path=None, memory=True,
        min_sample_s=None, only=None, log=print):
    """Run every row (or those whose name contains `only`); the results and the report.
    At threads > 1 on the CPU the step rows are also timed at 1 thread."""
    repeats = repeats or (7 if quick else 15)
    # a GPU sample is timed between two synchronisations: 10 ms is long enough
    min_sample_s = min_sample_s or (0.01 if device == "cuda" else 0.02 if quick else 0.05)
    budget_s = BUDGET_CUDA if device == "cuda" else BUDGET_QUICK if quick else BUDGET
    info = machine_info(device, threads)
    info.update(repeats=repeats, min_sample_s=min_sample_s, quick=quick,
                budget_s=budget_s, fused_kernels=fused_kernels(device))
    rows = [r for r in all_rows(device, quick, one_thread_rows=threads > 1)
            if only is None or only in r.name]
    results, start = [], time.perf_counter()
    for i, row in enumerate(rows):
        result = run_row(row, device, repeats, min_sample_s, budget_s, threads, memory)
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
