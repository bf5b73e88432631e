"""Goodfellow et al.'s Proposition 1 and Theorem 1, checked with a trained minigan discriminator."""
import math

import numpy as np
import pytest

from minigan.evaluation import theory


@pytest.fixture(scope="module")
def trained():
    """D trained alone against fixed p_g: 2,000 Adam steps of 256 + 256 fresh samples (~1 s)."""
    return theory.check_optimal_discriminator(steps=2000, batch_size=256, seed=0)


def test_trained_discriminator_approaches_the_optimal_discriminator(trained):
    # Tolerance from the sampling noise left at the end of training. The learning rate
    # decays linearly, so roughly the last ~200 steps (100k samples) shape D. Near the
    # edge of the compared region, where the mixture density is 5% of its peak (~0.015
    # per unit), an MLP feature ~0.3 wide sees ~100k * 0.015 * 0.3 = 450 samples, so D
    # there is a proportion with standard error sqrt(0.25 / 450) ~ 0.024. Measured over
    # seeds 0-4: max |D - D*| = 0.017-0.024 (at the edge), mean 0.0023-0.0032. Allow 2.5
    # standard errors at the edge, and 3x the largest measured mean over the region.
    assert trained["max_abs_error"] < 0.06
    assert trained["mean_abs_error"] < 0.01


def test_value_at_the_trained_discriminator_approaches_minus_log4_plus_twice_jsd(trained):
    # Theorem 1 is exact at D*: quadrature of V(D*) and of -log 4 + 2 JSD agree to rounding.
    assert trained["value_optimal"] == pytest.approx(trained["theory"], abs=1e-9)
    # D* maximises V, so the trained D can only fall short. The shortfall is
    # int (p_data + p_g) KL(Bern(D*) || Bern(D)) ~ 2 E_m[(D - D*)^2 / (2 D* (1 - D*))]:
    # with the errors above (~0.003 typical, 0.02 at the edges) that is ~5e-4 (measured
    # 4.5e-4 to 5.4e-4 over seeds 0-4). Allow 5x, still 100x smaller than 2 JSD (0.69).
    gap = trained["theory"] - trained["value_trained"]
    assert -1e-9 < gap < 3e-3


def test_optimal_discriminator_maximises_the_value_pointwise():
    # d/dD [p log D + q log(1 - D)] = p / D - q / (1 - D) = 0 at D = p / (p + q).
    x = theory.quadrature_grid()
    d_star = theory.optimal_discriminator(x)
    best = theory.value(d_star, x)
    for eps in (0.05, -0.05):
        assert theory.value(np.clip(d_star + eps, 0, 1), x) < best
    assert theory.value(np.full_like(x, 0.5), x) == pytest.approx(-math.log(4))  # D = 1/2


def test_jensen_shannon_limits():
    assert theory.jensen_shannon((0.0, 1.0), (0.0, 1.0)) == pytest.approx(0.0, abs=1e-12)
    assert theory.jensen_shannon((-30.0, 1.0), (30.0, 1.0)) == pytest.approx(math.log(2), abs=1e-9)
    js = theory.jensen_shannon()
    assert 0 < js < math.log(2)
    assert theory.jensen_shannon(theory.GEN, theory.DATA) == pytest.approx(js)  # symmetric


def test_optimal_discriminator_matches_the_density_ratio():
    x = np.linspace(-3, 3, 61)
    p, q = theory.normal_pdf(x, *theory.DATA), theory.normal_pdf(x, *theory.GEN)
    np.testing.assert_allclose(theory.optimal_discriminator(x), p / (p + q), rtol=1e-12)
