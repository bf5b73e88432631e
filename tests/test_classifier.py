"""The shipped digit classifier: it loads, it is as accurate as recorded, and the digit
metrics built on it separate real digits from collapsed or meaningless samples."""
import math

import numpy as np
import pytest

from minigan.evaluation import classifier, metrics
from minigan.data.datasets import load_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset("mnist-sample")


def test_shipped_weights_load_into_the_classifier():
    model, meta = classifier.load()
    assert isinstance(model, classifier.DigitClassifier) and not model.training
    assert meta["real_mean"].shape == (128,) and meta["real_cov"].shape == (128, 128)
    assert all(v.dtype == np.float32 for v in model.state_dict().values())


def test_accuracy_on_the_held_out_digits_is_at_least_97_percent(digits):
    _, held_out = classifier.split_indices(digits.labels)
    assert len(held_out) == 500
    probs, features = classifier.predict(digits.x[held_out])
    accuracy = (probs.argmax(axis=1) == digits.labels[held_out]).mean()
    assert accuracy >= 0.97
    assert accuracy == pytest.approx(classifier.held_out_accuracy())  # as recorded at training
    assert features.shape == (500, 128)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_split_is_stratified_disjoint_and_seeded(digits):
    train, held_out = classifier.split_indices(digits.labels)
    assert len(np.intersect1d(train, held_out)) == 0 and len(train) + len(held_out) == 5000
    assert np.bincount(digits.labels[held_out], minlength=10).tolist() == [50] * 10
    np.testing.assert_array_equal(held_out, classifier.split_indices(digits.labels)[1])


def test_real_digits_score_well_and_collapsed_or_noise_samples_do_not(digits):
    rng = np.random.default_rng(0)
    real = metrics.evaluate_samples(digits.x[rng.permutation(5000)[:1000]], "image",
                                    "mnist-sample")
    assert real["class_entropy"] > math.log(10) - 0.01 and real["inception_score"] > 9
    ones = metrics.evaluate_samples(digits.x[digits.labels == 1][:300], "image", "mnist-sample")
    assert ones["class_share_1"] > 0.95 and ones["inception_score"] < 1.5
    noise = metrics.evaluate_samples(rng.uniform(-1, 1, (300, 1, 28, 28)), "image",
                                     "mnist-sample")
    assert ones["frechet_distance"] > 5 * real["frechet_distance"]
    assert noise["frechet_distance"] > 5 * real["frechet_distance"]


def test_conditional_accuracy_and_resized_colour_digits(digits):
    # A DCGAN at --image-size 32 (or 3 channels) is judged after a resize back to 28 x 28.
    big = load_dataset("mnist-sample", image_size=32, channels=3)
    _, held_out = classifier.split_indices(big.labels)
    m = metrics.evaluate_samples(big.x[held_out], "image", "mnist-sample",
                                 labels=big.labels[held_out])
    assert m["label_accuracy"] > 0.95
