"""The small digit classifier that judges generated digits (minigan/metrics.py).

A five-layer CNN, trained by minigan itself (scripts/train_classifier.py) on the bundled
5,000 MNIST digits, 4,500 of them, and shipped as minigan/assets/digit_classifier.npz: its
state_dict (float32), its accuracy on the other 500, and the mean and covariance of its
penultimate features over all 5,000 real digits (the reference of the Frechet distance).
Inputs are digits as the datasets give them: (N, 1, 28, 28) float32 in [-1, 1].
"""
from importlib import resources

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..creation import tensor

ASSET = "digit_classifier.npz"
META_KEYS = ("held_out_accuracy", "real_mean", "real_cov")  # in the file beside the weights
HELD_OUT_PER_CLASS = 50  # 10 x 50 = 500 held-out digits, the rest (4,500) for training


class DigitClassifier(nn.Module):
    """(N, 1, 28, 28) digits -> (N, 10) logits; `features` gives the 128 penultimate units."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=1, padding=1), nn.ReLU(),   # (N, 32, 28, 28)
            nn.Conv2d(32, 32, 4, stride=2, padding=1), nn.ReLU(),  # (N, 32, 14, 14)
            nn.Conv2d(32, 32, 4, stride=2, padding=1), nn.ReLU(),  # (N, 32, 7, 7)
            nn.Flatten(),                                          # (N, 1568)
            nn.Linear(32 * 7 * 7, 128), nn.ReLU(),                 # (N, 128)
        )
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        return self.head(self.features(x))


def split_indices(labels, held_out_per_class=HELD_OUT_PER_CLASS, seed=0):
    """(train, held_out) sorted index arrays; held_out has held_out_per_class of each class."""
    rng = np.random.default_rng(seed)
    held = np.concatenate([rng.permutation(np.flatnonzero(labels == k))[:held_out_per_class]
                           for k in range(10)])
    train = np.setdiff1d(np.arange(len(labels)), held)
    return train, np.sort(held)


def save(model, path, held_out_accuracy, real_mean, real_cov):
    """Write the weights and the metadata (float32) with np.savez_compressed."""
    arrays = {k: v.astype(np.float32) for k, v in model.state_dict().items()}
    arrays.update(held_out_accuracy=np.float64(held_out_accuracy),
                  real_mean=np.asarray(real_mean, np.float32),
                  real_cov=np.asarray(real_cov, np.float32))
    np.savez_compressed(path, **arrays)


_loaded = {}  # path -> (model, metadata): the weights are read once per process


def load(path=None):
    """(DigitClassifier in eval mode, {meta key: array}) from the shipped asset or `path`."""
    key = str(path) if path is not None else ASSET
    if key not in _loaded:
        source = open(path, "rb") if path is not None else \
            resources.files("minigan.assets").joinpath(ASSET).open("rb")
        with source as f, np.load(f, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        model = DigitClassifier()
        model.load_state_dict({k: v for k, v in arrays.items() if k not in META_KEYS})
        _loaded[key] = model.eval(), {k: arrays[k] for k in META_KEYS}
    return _loaded[key]


def held_out_accuracy():
    """The shipped classifier's accuracy on its 500 held-out digits, as measured when trained."""
    return float(load()[1]["held_out_accuracy"])


def real_feature_statistics():
    """(mean (128,), covariance (128, 128)) float64 of the features of the 5,000 real digits."""
    meta = load()[1]
    return meta["real_mean"].astype(np.float64), meta["real_cov"].astype(np.float64)


def predict(images, model=None, batch_size=500):
    """(probabilities (N, 10), features (N, 128)) as float64 numpy, for images (N, 1, 28, 28).

    Runs on the CPU in batches, without recording a graph.
    """
    model = model if model is not None else load()[0]
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
        raise ValueError(f"the digit classifier takes images (N, 1, 28, 28), got {images.shape}")
    probs, features = [], []
    with no_grad():
        for start in range(0, len(images), batch_size):
            h = model.features(tensor(images[start:start + batch_size]))
            logits = model.head(h).numpy().astype(np.float64)
            logits -= logits.max(axis=1, keepdims=True)  # a stable softmax
            p = np.exp(logits)
            probs.append(p / p.sum(axis=1, keepdims=True))
            features.append(h.numpy().astype(np.float64))
    return np.concatenate(probs), np.concatenate(features)
