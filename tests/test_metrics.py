"""Metric math on cases whose answer is known in closed form."""
import math

import numpy as np
import pytest

from minigan.evaluation import metrics

RING_MODES = np.array([[2 * math.cos(a), 2 * math.sin(a)]
                       for a in np.arange(8) * 2 * math.pi / 8])  # 8 modes on a circle of radius 2
GRID_MODES = np.array([[x, y] for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], float)
STD = 0.05


def exact_mixture(modes, std, n, rng):
    """n exact draws from the equal-weight mixture of N(modes[k], std^2 I)."""
    return modes[rng.integers(0, len(modes), n)] + std * rng.standard_normal((n, 2))


# --- 2-D mixtures ---------------------------------------------------------------------------------
@pytest.mark.parametrize("modes", [RING_MODES, GRID_MODES], ids=["ring8", "grid25"])
def test_exact_mixture_samples_cover_every_mode_with_rayleigh_high_quality_share(modes):
    rng = np.random.default_rng(0)
    m = metrics.mixture_metrics(exact_mixture(modes, STD, metrics.N_SAMPLES, rng), modes, STD)
    assert m["modes"] == len(modes)
    # A 2-D isotropic Gaussian's radius is Rayleigh: P(r <= 3 std) = 1 - exp(-9/2) = 0.98889.
    # Over 2,500 samples the share has standard error sqrt(p (1 - p) / 2500) = 0.0021; allow 4.
    p = 1 - math.exp(-4.5)
    assert abs(m["high_quality"] - p) < 4 * math.sqrt(p * (1 - p) / metrics.N_SAMPLES)
    # About 2,500 / K high-quality samples per mode: the entropy is within a few % of log K.
    assert math.log(len(modes)) - 0.02 < m["mode_entropy"] <= math.log(len(modes)) + 1e-12
    assert m["mode_kl_uniform"] == pytest.approx(math.log(len(modes)) - m["mode_entropy"])


def test_collapsed_sampler_covers_one_mode():
    rng = np.random.default_rng(1)
    samples = RING_MODES[3] + STD * rng.standard_normal((2500, 2))
    m = metrics.mixture_metrics(samples, RING_MODES, STD)
    assert m["modes"] == 1
    assert m["mode_entropy"] == 0.0
    assert m["mode_kl_uniform"] == pytest.approx(math.log(8))


def test_uniform_noise_has_few_high_quality_samples():
    rng = np.random.default_rng(2)
    samples = rng.uniform(-3, 3, (2500, 2))
    m = metrics.mixture_metrics(samples, RING_MODES, STD)
    # The 3-std discs cover 8 pi (0.15)^2 / 36 = 1.6% of the square.
    assert m["high_quality"] < 0.04


def test_high_quality_counts_only_samples_within_three_std_of_their_nearest_mode():
    modes = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[0.0, 2.9], [0.0, 3.1], [10.0, -1.0], [5.1, 0.0]])  # std 1
    m = metrics.mixture_metrics(samples, modes, 1.0)
    assert m["high_quality"] == 0.5 and m["modes"] == 2
    assert m["mode_entropy"] == pytest.approx(math.log(2))


def test_entropy_of_a_histogram():
    assert metrics.entropy([5, 5, 5, 5]) == pytest.approx(math.log(4))
    assert metrics.entropy([0, 7, 0]) == 0.0
    assert metrics.entropy([1, 3]) == pytest.approx(-(0.25 * math.log(0.25)
                                                      + 0.75 * math.log(0.75)))
    assert metrics.kl_to_uniform([0, 0, 0]) == pytest.approx(math.log(3))


# --- inception score ------------------------------------------------------------------------------
def test_inception_score_of_uniform_predictions_is_one():
    assert metrics.inception_score(np.full((100, 10), 0.1)) == pytest.approx(1.0)


def test_inception_score_of_confident_balanced_predictions_is_ten():
    probs = np.eye(10)[np.arange(1000) % 10]
    assert metrics.inception_score(probs) == pytest.approx(10.0, rel=1e-6)


def test_inception_score_of_confident_single_class_is_one():
    assert metrics.inception_score(np.eye(10)[np.zeros(50, int)]) == pytest.approx(1.0)


def test_class_histogram_counts_argmax():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    np.testing.assert_allclose(metrics.class_histogram(probs), [0.75, 0.25])


# --- Frechet distance -----------------------------------------------------------------------------
def random_covariance(d, rng):
    a = rng.standard_normal((d, 2 * d))
    return a @ a.T / (2 * d)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(3)
    features = rng.standard_normal((500, 32)) @ rng.standard_normal((32, 32))
    mu, cov = metrics.gaussian_statistics(features)
    assert metrics.frechet_distance(mu, cov, mu, cov) < 1e-8 * np.trace(cov)


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    rng = np.random.default_rng(4)
    cov = random_covariance(16, rng)
    shift = rng.standard_normal(16)
    mu = rng.standard_normal(16)
    value = metrics.frechet_distance(mu, cov, mu + shift, cov)
    assert value == pytest.approx((shift ** 2).sum(), rel=1e-8)


def test_frechet_distance_matches_the_closed_form_for_diagonal_covariances():
    # For S1 = diag(a), S2 = diag(b): Tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt a - sqrt b)^2.
    rng = np.random.default_rng(5)
    a, b = rng.uniform(0.1, 3, 20), rng.uniform(0.1, 3, 20)
    mu1, mu2 = rng.standard_normal(20), rng.standard_normal(20)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)


def test_frechet_distance_is_symmetric():
    rng = np.random.default_rng(6)
    s1, s2 = random_covariance(24, rng), random_covariance(24, rng)
    mu1, mu2 = rng.standard_normal(24), rng.standard_normal(24)
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(
        metrics.frechet_distance(mu2, s2, mu1, s1), rel=1e-9)


def test_trace_sqrt_product_matches_the_eigenvalues_of_the_product():
    # S1 S2 has real non-negative eigenvalues (it is similar to a PSD matrix): a direct oracle.
    rng = np.random.default_rng(7)
    s1, s2 = random_covariance(12, rng), random_covariance(12, rng)
    expected = np.sqrt(np.linalg.eigvals(s1 @ s2).real.clip(0)).sum()
    assert metrics.trace_sqrt_product(s1, s2) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_survives_singular_covariances():
    # Fewer samples than dimensions: rank-deficient covariances, eigenvalues ~ -1e-17.
    rng = np.random.default_rng(8)
    f1, f2 = rng.standard_normal((10, 64)), rng.standard_normal((10, 64)) + 1.0
    value = metrics.frechet_distance(*metrics.gaussian_statistics(f1),
                                     *metrics.gaussian_statistics(f2))
    assert np.isfinite(value) and value > 64 * 0.5


# --- images without a classifier -----------------------------------------------------------------
def test_image_statistics_see_total_collapse():
    rng = np.random.default_rng(9)
    diverse = rng.uniform(-1, 1, (64, 3, 8, 8))
    collapsed = np.repeat(diverse[:1], 64, axis=0)
    assert metrics.image_statistics(collapsed)["pairwise_rms"] == 0.0
    # Independent U(-1, 1) pixels: E (a - b)^2 = 2 var = 2/3, so the RMS is ~ sqrt(2/3).
    assert metrics.image_statistics(diverse)["pairwise_rms"] == pytest.approx(math.sqrt(2 / 3),
                                                                               rel=0.05)


def test_to_digit_images_resizes_and_greys():
    images = np.zeros((2, 3, 32, 32), np.float32)
    images[:, :, 8:24, 8:24] = 1.0
    out = metrics.to_digit_images(images)
    assert out.shape == (2, 1, 28, 28) and out.dtype == np.float32
    assert out[0, 0, 14, 14] == pytest.approx(1.0) and out[0, 0, 0, 0] == pytest.approx(0.0)


# --- the entry point ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_evaluate_samples_scores_exact_mixture_draws_as_perfect(name):
    from minigan.data.datasets import load_dataset, mixture_modes

    dataset = load_dataset(name)
    x, labels = dataset.x[:metrics.N_SAMPLES], dataset.labels[:metrics.N_SAMPLES]
    m = metrics.evaluate_samples(x, dataset.kind, name, labels=labels)
    assert m["modes"] == len(mixture_modes(name))
    assert m["high_quality"] > 0.97
    assert m["label_accuracy"] == 1.0  # each point lies nearest the mode it was drawn from
    assert all(isinstance(v, float) for v in m.values())


def test_evaluate_samples_gives_only_statistics_for_images_without_a_classifier():
    rng = np.random.default_rng(10)
    m = metrics.evaluate_samples(rng.uniform(-1, 1, (16, 3, 64, 64)), "image", "folder:faces")
    assert set(m) == {"pixel_mean", "pixel_std", "pairwise_rms"}


def test_evaluate_samples_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        metrics.evaluate_samples(np.zeros((4, 2)), "audio", "ring8")
