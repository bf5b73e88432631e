"""Timing minigan and PyTorch on the same work, alternating, and checking they agree.

A row of the benchmark hands over one `Contender` per framework: a `run()` that does
one unit of work (an op's forward + backward, or one D step + G step) and returns its
outputs, and a `sync()` that waits for the device. `time_pair`:
  1. runs each once from identical state and compares the outputs (so the time is of
     correct work); that first call also warms up (Adam's state, oneDNN primitives);
  2. times one more call of each and picks `inner`, the calls per sample, so that the
     faster framework's sample lasts at least `min_sample_s` (timer resolution and
     Python noise stay small beside it);
  3. takes `repeats` samples of each, alternating which framework goes first, so that
     both see the same drift of a shared, noisy machine; a repeat's ratio compares two
     samples taken seconds apart, and the median of those ratios is what we report.
"""
import gc
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

FRAMEWORKS = ("torch", "minigan")


@dataclass
class Contender:
    run: Callable[[], dict]  # one unit of work -> {name: tensor} of outputs to compare
    sync: Callable[[], None] = lambda: None  # wait for queued device work (GPU)
    more_outputs: Callable[[], dict] = None  # outputs gathered only for the check (grads)


@dataclass
class Row:
    """One line of the report: the same work set up for both frameworks."""
    group: str  # "op" or "step"
    name: str  # unique; the memory subprocess finds its row by it
    setup: Callable[[str], dict]  # device -> {"torch": Contender, "minigan": Contender}
    target: float = None  # the goal for minigan/PyTorch time (median), None if none
    check: Callable[[str], dict] = None  # device -> an extra compare_outputs report
    detail: dict = field(default_factory=dict)  # shapes and settings, for the JSON
    threads: int = None  # timed at this many threads (both frameworks); None: the run's
    busy: bool = False  # timed while one more process keeps a core busy (machine.busy_load)


def as_numpy(value):
    """A host float64 array from a minigan or torch tensor (or a plain number)."""
    if type(value).__module__.startswith("torch"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy"):  # a minigan Tensor
        value = value.numpy()
    return np.asarray(value, dtype=np.float64)


def compare_outputs(reference, candidate, rtol=1e-3, atol_scale=1e-4, floor=1e-3):
    """Each output allclose: |c - r| <= atol + rtol |r|, with atol = atol_scale * scale.

    An output's scale is its largest |value|, but never less than `floor` times the
    largest |value| of all the row's outputs: float32 sums added in another order differ
    by rounding relative to their terms, and an output that is zero by construction
    (the gradient of a bias just before a BatchNorm, ~1e-10) is all rounding.
    """
    arrays = {key: (as_numpy(ref), as_numpy(candidate[key])) for key, ref in reference.items()}
    row_scale = max((float(np.abs(r).max()) for r, _ in arrays.values() if r.size), default=0.0)
    report = {"match": True, "worst": None, "worst_rel_err": 0.0, "outputs": {}}
    for key, (r, c) in arrays.items():
        if r.shape != c.shape:
            report["outputs"][key] = {"match": False, "why": f"shape {c.shape} != {r.shape}"}
            report["match"] = False
            continue
        scale = max(float(np.abs(r).max()) if r.size else 0.0, floor * row_scale)
        ok = bool(np.allclose(c, r, rtol=rtol, atol=atol_scale * scale))
        err = float(np.abs(c - r).max()) if r.size else 0.0
        rel = err / scale if scale > 0 else err
        report["outputs"][key] = {"match": ok, "max_abs_err_over_scale": rel}
        if rel >= report["worst_rel_err"]:
            report["worst"], report["worst_rel_err"] = key, rel
        report["match"] &= ok
    return report


def outputs(contender):
    """Run once and gather every output to compare."""
    result = contender.run()
    if contender.more_outputs is not None:
        result.update(contender.more_outputs())
    return result


def _sample(contender, inner):
    """Seconds per call, averaged over `inner` calls."""
    contender.sync()
    start = time.perf_counter()
    for _ in range(inner):
        contender.run()
    contender.sync()
    return (time.perf_counter() - start) / inner


def time_pair(contenders, repeats=10, min_sample_s=0.02, budget_s=None, min_repeats=3,
              rtol=1e-3):
    """Check, warm up and time both contenders; a dict of the numbers for the report.

    budget_s caps the time of the timed repeats (never fewer than min_repeats), so that
    slow rows on a slow machine still finish in a known time.
    """
    torch_c, minigan_c = contenders["torch"], contenders["minigan"]
    check = compare_outputs(outputs(torch_c), outputs(minigan_c), rtol=rtol)  # same start
    first = {name: _sample(c, 1) for name, c in contenders.items()}  # warm now: sizes inner
    inner = max(1, int(np.ceil(min_sample_s / max(min(first.values()), 1e-9))))
    if budget_s is not None:
        per_repeat = inner * sum(first.values())
        repeats = max(min_repeats, min(repeats, int(budget_s / per_repeat)))

    seconds = {name: [] for name in FRAMEWORKS}
    ratios = []
    for r in range(repeats):
        order = FRAMEWORKS if r % 2 == 0 else FRAMEWORKS[::-1]
        for name in order:
            gc.collect()  # the collector's pauses land outside the samples
            seconds[name].append(_sample(contenders[name], inner))
        ratios.append(seconds["minigan"][-1] / seconds["torch"][-1])
    return {
        "torch_ms": 1e3 * statistics.median(seconds["torch"]),
        "minigan_ms": 1e3 * statistics.median(seconds["minigan"]),
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "repeats": repeats, "inner": inner,
        "outputs_match": check["match"],
        "worst_output": check["worst"], "worst_rel_err": check["worst_rel_err"],
        "check": check["outputs"],
    }
