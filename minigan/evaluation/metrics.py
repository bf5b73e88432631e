"""Offline metrics: is the GAN learning? Pure math on host numpy arrays (no scipy).

2-D Gaussian mixtures (ring8, grid25), as VEEGAN and PacGAN measure them: each sample is
assigned to its nearest mode; it is "high quality" if it lies within 3 standard deviations
of that mode; a mode is "covered" if at least one high-quality sample is assigned to it.
Digits, through the small digit classifier (minigan/classifier.py): the histogram of
predicted classes and its entropy, the classifier "inception score"
exp(E_x KL(p(y|x) || p(y))), and the Frechet distance between Gaussians fitted to the
classifier's penultimate features of generated and real digits,
    FD = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).
`evaluate_samples` dispatches on the kind of data and returns one flat dict of floats.
"""
import math

import numpy as np

from ..backend import asnumpy

N_SAMPLES = 2500  # how many samples the mixture metrics are defined on (VEEGAN, PacGAN)
HQ_THRESHOLD = 3.0  # "high quality": within 3 standard deviations of the nearest mode
DIGIT_DATASETS = ("mnist-sample", "mnist")  # the datasets the digit classifier knows


# --- distributions over a finite set ----------------------------------------------------------
def entropy(counts):
    """H(p) = -sum p log p in nats, of the histogram `counts` normalised to sum 1 (0 log 0 = 0).

    An empty histogram (all zeros) has entropy 0.
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(0.0 - (p * np.log(p)).sum())  # 0.0 - : a single bin gives 0.0, not -0.0


def kl_to_uniform(counts):
    """KL(p || uniform over the K bins) = log K - H(p), nats; 0 when p is uniform.

    An empty histogram counts as fully collapsed: log K.
    """
    counts = np.asarray(counts, dtype=np.float64)
    return float(math.log(counts.size) - entropy(counts))


# --- 2-D Gaussian mixtures ----------------------------------------------------------------------
def nearest_mode(samples, modes):
    """(index (N,), distance (N,)) of each sample's nearest mode; samples (N, 2), modes (K, 2)."""
    samples = np.asarray(samples, dtype=np.float64)
    modes = np.asarray(modes, dtype=np.float64)
    d2 = ((samples[:, None, :] - modes[None, :, :]) ** 2).sum(axis=2)  # (N, K)
    index = d2.argmin(axis=1)
    return index, np.sqrt(d2[np.arange(len(samples)), index])


def mixture_metrics(samples, modes, std, threshold=HQ_THRESHOLD):
    """Mode coverage of samples (N, 2) of a mixture of isotropic Gaussians N(modes[k], std^2 I).

    Returns a dict:
      modes             number of modes with at least one high-quality sample (0..K)
      high_quality      share of samples within `threshold` * std of their nearest mode
      mode_entropy      entropy (nats) of the per-mode counts of high-quality samples;
                        log K when every mode gets the same share
      mode_kl_uniform   KL(that histogram || uniform) = log K - mode_entropy
    Exact samples from the mixture score modes = K, mode_entropy ~ log K and
    high_quality ~ P(|x - mu| <= 3 std) = 1 - exp(-9/2) ~ 0.9889 (a 2-D Gaussian's radius
    is Rayleigh distributed), provided the modes are many std apart.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) == 0:
        raise ValueError(f"mixture_metrics: expected points of shape (N, 2), got {samples.shape}")
    modes = np.asarray(modes, dtype=np.float64)
    index, distance = nearest_mode(samples, modes)
    good = distance <= threshold * std
    counts = np.bincount(index[good], minlength=len(modes))  # high-quality samples per mode
    return {
        "modes": float((counts > 0).sum()),
        "high_quality": float(good.mean()),
        "mode_entropy": entropy(counts),
        "mode_kl_uniform": kl_to_uniform(counts),
    }


# --- classifier-based image metrics --------------------------------------------------------------
def class_histogram(probs):
    """Share of samples per predicted class (argmax of p(y|x)); probs (N, K) -> (K,)."""
    probs = np.asarray(probs)
    return np.bincount(probs.argmax(axis=1), minlength=probs.shape[1]) / len(probs)


def inception_score(probs, eps=1e-12):
    """exp(E_x KL(p(y|x) || p(y))), with p(y) the mean of p(y|x) over the samples.

    It is 1 when every prediction is the same distribution (no information about x, or
    one class for all x) and K when predictions are confident (one-hot) and the classes
    balanced. Computed on all samples at once (Salimans et al. average over 10 splits).
    """
    probs = np.asarray(probs, dtype=np.float64)
    marginal = probs.mean(axis=0, keepdims=True)  # p(y), (1, K)
    kl = (probs * (np.log(probs + eps) - np.log(marginal + eps))).sum(axis=1)  # (N,)
    return float(np.exp(kl.mean()))


def gaussian_statistics(features):
    """(mean (D,), covariance (D, D)) of features (N, D), float64, unbiased covariance."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"gaussian_statistics: expected features (N >= 2, D), "
                         f"got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def sqrtm_psd(s):
    """The symmetric square root of a positive semi-definite matrix, by eigendecomposition.

    s = V diag(w) V^T  ->  s^(1/2) = V diag(sqrt(w)) V^T; eigenvalues that rounding made
    slightly negative are clipped to 0.
    """
    s = 0.5 * (s + s.T)  # exactly symmetric, so eigh's assumptions hold
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def trace_sqrt_product(s1, s2):
    """Tr((S1 S2)^(1/2)) for covariance matrices S1, S2.

    S1 S2 is not symmetric, but it is similar to the PSD matrix M = S1^(1/2) S2 S1^(1/2)
    (conjugate by S1^(1/2)), so both have the same non-negative eigenvalues and
    Tr((S1 S2)^(1/2)) = sum_i sqrt(eig_i(M)). Only symmetric eigendecompositions are needed,
    which is what makes this stable without scipy.linalg.sqrtm.
    """
    root1 = sqrtm_psd(np.asarray(s1, dtype=np.float64))
    m = root1 @ np.asarray(s2, dtype=np.float64) @ root1
    w = np.linalg.eigvalsh(0.5 * (m + m.T))
    return float(np.sqrt(np.clip(w, 0, None)).sum())


def frechet_distance(mu1, s1, mu2, s2):
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)): the squared 2-Wasserstein distance
    between N(mu1, S1) and N(mu2, S2) (FID when the features are Inception's)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(s1, np.float64), np.asarray(s2, np.float64)
    value = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt_product(s1, s2)
    return float(max(value, 0.0))  # rounding can leave -1e-12 for identical inputs


def classifier_metrics(probs, features, real_mean, real_cov, labels=None):
    """Digit metrics from the classifier's outputs on generated samples.

    probs (N, 10) softmax outputs, features (N, D) penultimate activations, (real_mean,
    real_cov) the Gaussian statistics of the real digits' features, labels (N,) the classes
    asked of a conditional generator (or None). Keys: class_share_0..9, class_entropy
    (nats, max log 10), class_kl_uniform, inception_score (1..10), frechet_distance, and
    with labels, label_accuracies' keys (overall, per class asked for, and the worst class).
    """
    probs = np.asarray(probs, dtype=np.float64)
    hist = class_histogram(probs)
    out = {f"class_share_{k}": float(share) for k, share in enumerate(hist)}
    out["class_entropy"] = entropy(hist)
    out["class_kl_uniform"] = kl_to_uniform(hist)
    out["inception_score"] = inception_score(probs)
    out["frechet_distance"] = frechet_distance(*gaussian_statistics(features), real_mean, real_cov)
    if labels is not None:
        out.update(label_accuracies(probs.argmax(axis=1), labels))
    return out


def label_accuracies(predicted, labels):
    """How well a conditional generator obeys its labels: label_accuracy (the share of
    samples predicted as the label asked for), label_accuracy_k for each class k asked
    for (its share among the samples asked to be k), and label_accuracy_worst (the
    lowest of those: a model can score well overall while failing one class)."""
    predicted, labels = np.asarray(predicted).reshape(-1), np.asarray(labels).reshape(-1)
    hit = predicted == labels
    out = {"label_accuracy": float(hit.mean())}
    per_class = {int(k): float(hit[labels == k].mean()) for k in np.unique(labels)}
    out.update({f"label_accuracy_{k}": acc for k, acc in per_class.items()})
    out["label_accuracy_worst"] = min(per_class.values())
    return out


# --- images without a classifier ------------------------------------------------------------------
def image_statistics(images, seed=0):
    """Statistics that need no classifier, for images (N, C, H, W) in [-1, 1].

    pixel_mean, pixel_std: over all pixels. pairwise_rms: the mean over random pairs of
    distinct samples of the RMS pixel difference sqrt(mean((a - b)^2)): a diversity measure,
    0 when every sample is the same image (total mode collapse). Compare with the same
    number on real images.
    """
    images = np.asarray(images, dtype=np.float64)
    flat = images.reshape(len(images), -1)
    out = {"pixel_mean": float(flat.mean()), "pixel_std": float(flat.std())}
    if len(flat) >= 2:
        rng = np.random.default_rng(seed)
        i = rng.permutation(len(flat))
        a, b = flat[i], flat[np.roll(i, 1)]  # each sample against another, never itself
        out["pairwise_rms"] = float(np.sqrt(((a - b) ** 2).mean(axis=1)).mean())
    return out


def to_digit_images(images):
    """Images (N, C, H, W) in [-1, 1] as the classifier's input (N, 1, 28, 28) float32.

    Colour images become grey by the channel mean; other sizes are resized to 28x28 with
    PIL's Lanczos filter. Resizing still blurs a little, and the Frechet distance notices:
    compare with the real-digit reference at the same size (docs/evaluation.md). Of PIL's
    filters, Lanczos moved real digits least (FD 46 after 28 -> 32 -> 28, bilinear 150).
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"expected images (N, C, H, W), got shape {images.shape}")
    if images.shape[1] != 1:
        images = images.mean(axis=1, keepdims=True)
    if images.shape[2:] != (28, 28):
        from PIL import Image  # noqa: PLC0415 - only needed to resize

        images = np.stack([np.asarray(Image.fromarray(im[0], mode="F")
                                      .resize((28, 28), Image.Resampling.LANCZOS))[None]
                           for im in images]).astype(np.float32)
    return images


# --- one entry point ----------------------------------------------------------------------------
def evaluate_samples(samples, kind, dataset_name, labels=None):
    """Metrics of generated samples as one flat dict of floats (one JSON line).

    kind "points": samples (N, 2) of the 2-D mixture `dataset_name` (ring8, grid25) ->
      mixture_metrics keys (modes, high_quality, mode_entropy, mode_kl_uniform), plus
      label_accuracies' keys (nearest mode = the asked label; overall, per class, worst).
    kind "image" (as Dataset.kind; "images" is accepted too): samples (N, C, H, W) in
      [-1, 1] -> image_statistics keys (pixel_mean, pixel_std, pairwise_rms); for the digit
      datasets (mnist-sample, mnist) also the classifier_metrics keys, computed after
      conversion to 28x28 grey. Other image datasets (fashion-mnist, folder:...) have no
      classifier here, so only the statistics come back.
    """
    samples = asnumpy(samples)  # a host copy if the generator ran on the GPU
    labels = None if labels is None else asnumpy(labels)
    if kind == "points":
        from ..data.datasets import mixture_modes, mixture_std  # noqa: PLC0415 - points only

        modes = mixture_modes(dataset_name)
        out = mixture_metrics(samples, modes, mixture_std(dataset_name))
        if labels is not None:
            index, _ = nearest_mode(samples, modes)
            out.update(label_accuracies(index, labels))
        return out
    if kind not in ("image", "images"):
        raise ValueError(f"evaluate_samples: unknown kind {kind!r}: expected 'points' or 'image'")
    out = image_statistics(samples)
    if dataset_name in DIGIT_DATASETS:
        from . import classifier  # noqa: PLC0415 - loads the weights on first use

        probs, features = classifier.predict(to_digit_images(samples))
        real_mean, real_cov = classifier.real_feature_statistics()
        out.update(classifier_metrics(probs, features, real_mean, real_cov, labels))
    return out


def real_digit_reference(seed=0, image_size=None):
    """The metrics of real digits, for scale: half of the bundled 5,000 digits (2,500, a
    seeded stratified half) judged against the feature statistics of the other half.

    What a perfect generator would score with 2,500 samples (FD > 0 from sampling alone).
    With image_size (e.g. 64, a DCGAN's), the judged half is loaded at that size and so
    goes through the same resize back to 28 x 28 as a generator's samples would.
    """
    from ..data.datasets import load_dataset  # noqa: PLC0415 - judging samples needs no dataset
    from . import classifier  # noqa: PLC0415 - loads the weights on first use

    digits = load_dataset("mnist-sample")
    judged = digits if image_size is None else load_dataset("mnist-sample", image_size)
    half_b, half_a = classifier.split_indices(digits.labels, held_out_per_class=250, seed=seed)
    probs_a, feats_a = classifier.predict(to_digit_images(judged.x[half_a]))
    _, feats_b = classifier.predict(digits.x[half_b])
    out = image_statistics(judged.x[half_a])
    out.update(classifier_metrics(probs_a, feats_a, *gaussian_statistics(feats_b),
                                  labels=digits.labels[half_a]))
    return out
