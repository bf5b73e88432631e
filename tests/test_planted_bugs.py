"""Checks that can fail: a bug planted in the code under test is caught (issue 27 item 26).

A comparison that never looks at what a bug changes passes whatever the code does. Each test
here plants one such bug (monkeypatched, for this test only) and shows that the check the
suite relies on sees it:
- the EMA of G (what sample and eval use) in the float64 PyTorch-twin exactness runs: a
  decay applied the wrong way round, p_ema = (1 - d) p_ema + d p.
"""
import os
import sys

import pytest

from minigan.methods import hooks
from minigan.training import TrainConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # benchmarks/ (the twins) lives at the repository root

from benchmarks import quality  # noqa: E402

EMA_RUN = dict(dataset="ring8", ema=0.9)


def test_the_twin_exactness_run_compares_g_ema(torch):
    check = quality.exactness(TrainConfig(**EMA_RUN), steps=2)
    assert check["max_param_diff"] < 1e-9, check


def test_an_ema_decay_applied_the_wrong_way_round_is_caught(torch, monkeypatch):
    right = hooks.EMA.__call__

    def wrong_way_round(self):  # the planted bug: the decay weighs G, not the average
        self.decay = 1 - self.decay
        try:
            right(self)
        finally:
            self.decay = 1 - self.decay

    monkeypatch.setattr(hooks.EMA, "__call__", wrong_way_round)
    check = quality.exactness(TrainConfig(**EMA_RUN), steps=2)
    assert check["max_param_diff"] > 1e-6, check  # G and D alone are still equal
