"""What the twin tests inject into these scripts, identically under PyTorch and minigan.

Unset (TWIN_DIR not in the environment), every function here does nothing and the scripts
run as a user runs them. With TWIN_DIR=DIR (tests/test_compat_twins.py sets it):
- `setup()` seeds NumPy's global generator (the PyTorch-GAN scripts draw noise with
  np.random) and makes torch.randn/torch.rand draw from NumPy too, so both engines see the
  same noise whatever their own generators do;
- `dataset()` is the batches' source: DIR/images.npy and DIR/labels.npy as a TensorDataset
  (read in order: the scripts pass `shuffle=twin.shuffle()`, which is then False);
- `share_weights(G=..., D=...)`: the PyTorch run writes its initial weights to
  DIR/init.safetensors, the minigan run loads them (with torch.load, i.e. minigan.load);
- `record(**losses)` appends the step's losses, at full precision, to DIR/losses.<engine>.jsonl.
"""
import json
import os

import numpy as np
import torch

DIR = os.environ.get("TWIN_DIR")
ENGINE = "minigan" if hasattr(torch, "__minigan__") else "torch"


def setup():
    if not DIR:
        return
    np.random.seed(0)
    rng = np.random.default_rng(1)

    def draw(sample):
        def fn(*size, dtype=None, device=None, requires_grad=False, **kwargs):
            size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) \
                else size
            values = torch.tensor(sample(size), dtype=dtype or torch.get_default_dtype())
            return values.to(device).requires_grad_(requires_grad)
        return fn

    torch.randn = draw(rng.standard_normal)
    torch.rand = draw(rng.random)


def shuffle(default=True):
    return False if DIR else default


def dataset():
    if not DIR:
        return None
    images = torch.tensor(np.load(os.path.join(DIR, "images.npy")))
    labels = torch.tensor(np.load(os.path.join(DIR, "labels.npy")))
    return torch.utils.data.TensorDataset(images, labels)


def share_weights(**nets):
    if not DIR:
        return
    path = os.path.join(DIR, "init.safetensors")
    if ENGINE == "torch":
        import safetensors.torch
        state = {f"{name}.{key}": value.contiguous() for name, net in nets.items()
                 for key, value in net.state_dict().items()}
        safetensors.torch.save_file(state, path)
        return
    state = torch.load(path)
    for name, net in nets.items():
        net.load_state_dict({key[len(name) + 1:]: value for key, value in state.items()
                             if key.startswith(name + ".")})


def record(**losses):
    if not DIR:
        return
    with open(os.path.join(DIR, f"losses.{ENGINE}.jsonl"), "a") as f:
        f.write(json.dumps({k: float(v) for k, v in losses.items()}) + "\n")
