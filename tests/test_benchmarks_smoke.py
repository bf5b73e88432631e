"""The benchmark harness (benchmarks/, `python -m benchmarks`) runs end to end on tiny rows,
and what it times is correct work: both frameworks' outputs agree. No timing is asserted."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo root

from benchmarks import cuda_profile, ops, steps, suite, timing  # noqa: E402


def test_linear_row_times_both_frameworks_and_their_outputs_agree(torch):
    row = ops.linear_row((4, 3), (2, 3), "tiny")
    result = timing.time_pair(row.setup("cpu"), repeats=2, min_sample_s=0.0)
    assert result["outputs_match"], result["check"]
    assert set(result["check"]) == {"out", "grad_0", "grad_1", "grad_2"}
    assert result["torch_ms"] > 0 and result["minigan_ms"] > 0 and result["repeats"] == 2


def test_conv_and_batch_norm_rows_agree(torch):
    for row in (ops.conv_row("conv2d", (2, 3, 6, 6), (4, 3, 4, 4), 2, 1, "tiny"),
                ops.conv_row("conv_transpose2d", (2, 4, 3, 3), (4, 3, 4, 4), 2, 1, "tiny"),
                ops.batch_norm_row((4, 3, 2, 2), "tiny")):
        result = timing.time_pair(row.setup("cpu"), repeats=1, min_sample_s=0.0)
        assert result["outputs_match"], (row.name, result["check"])


@pytest.mark.parametrize("model,image_shape", [("mlp", (1, 8, 8)), ("dcgan", (1, 8, 8))])
def test_training_step_row_agrees_in_float32_and_float64(torch, model, image_shape):
    row = steps.step_row("tiny", model, image_shape, 4, target=None)
    full = row.check("cpu")  # float64: every gradient, weight and running statistic
    assert full["match"], full["outputs"]
    assert any(key.startswith("grad D.") for key in full["outputs"])
    result = timing.time_pair(row.setup("cpu"), repeats=1, min_sample_s=0.0)
    assert result["outputs_match"], result["check"]
    assert set(result["check"]) == {"loss_d", "loss_g", "fake"}


def test_compare_outputs_flags_a_wrong_result():
    reference = {"a": np.arange(1.0, 5.0), "b": np.ones(3)}
    assert timing.compare_outputs(reference, {"a": np.arange(1.0, 5.0), "b": np.ones(3)})["match"]
    wrong = timing.compare_outputs(reference, {"a": np.arange(1.0, 5.0), "b": np.full(3, 1.01)})
    assert not wrong["match"] and wrong["worst"] == "b"


def test_the_report_has_both_tables_and_the_machine(torch):
    results, report = suite.run(only="MLP GAN D.model.4 ", repeats=1, memory=False,
                                min_sample_s=0.0, log=lambda line: None)
    assert len(results) == 1 and results[0]["outputs_match"]
    assert "## Machine" in report and "| MLP GAN D.model.4 linear 256->1 b64 |" in report
    assert "OPENBLAS_CORETYPE" in report


def test_gpu_profile_runs_on_the_cpu_and_undoes_its_timers(torch):
    from minigan.autograd import Function
    from minigan.ops.conv import Conv2d

    from minigan.autograd import FAST_BACKWARD

    forward = Conv2d.__dict__["forward"]
    fast_backward = dict(FAST_BACKWARD)
    report = cuda_profile.profile_row("tiny", "dcgan", (1, 8, 8), 4, repeats=2, device="cpu")
    assert "| Conv2d.backward |" in report and "| Adam.step | 2 |" in report
    assert Conv2d.__dict__["forward"] is forward and "apply" in Function.__dict__
    assert FAST_BACKWARD == fast_backward  # the registered fast versions are back too


def test_busy_rows_run_beside_a_load_that_ends_with_them(torch, monkeypatch):
    """--busy: each conv row quiet, then "(busy)" beside a child process keeping a core
    busy, which is gone after the row; the report compares the two slowdowns."""
    from benchmarks import machine

    started = []
    real = machine.busy_load.__enter__

    def enter(self):
        started.append(real(self))
        return started[-1]

    monkeypatch.setattr(machine.busy_load, "__enter__", enter)
    results, report = suite.run(only="DCGAN-28 D.main.5 ", repeats=1, memory=False,
                                min_sample_s=0.0, log=lambda line: None, threads=2,
                                default=True, busy="python")
    assert [r["name"].endswith(" (busy)") for r in results] == [False, True]
    assert all(r["outputs_match"] for r in results)
    assert len(started) == 1 and started[0].process.poll() is not None  # the load ended
    assert "## Busy machine" in report and "minigan / PyTorch slowdown" in report
    assert results[1]["minigan_threads_used"]  # what minigan's ops ran at is reported


def test_the_profile_times_every_mlp_layer_in_both_frameworks(torch, monkeypatch, capsys):
    """benchmarks.profile's per-layer table: one row per layer of G and D, the NumPy GEMMs
    beside the Linears only, each layer run forward and backward in both frameworks."""
    from benchmarks import profile

    calls = []

    def once(fns, repeats, inner=20, pause=0.3):  # no pause, one call: the table, not times
        calls.append(sorted(fns))
        return {name: (fn(), 1e-3)[1] for name, fn in fns.items()}

    monkeypatch.setattr(profile, "_alternate", once)
    profile.mlp_layer_rows(1, batch=4)
    rows = [line for line in capsys.readouterr().out.splitlines()
            if line.startswith(("| G.", "| D."))]
    assert len(rows) == 13 + 5 == len(calls)  # G.model.0-12, D.model.0-4
    linear_rows = [r for r in rows if "Linear(" in r]
    assert len(linear_rows) == 8 and all("| - | - |" not in r for r in linear_rows)
    assert all(r.endswith("| - | - |") for r in rows if "Linear(" not in r)
    assert sum(names == ["gemm", "minigan", "torch"] for names in calls) == 8
