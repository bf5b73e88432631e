"""minigan.compat: run PyTorch GAN scripts, unchanged, on minigan.

    python -m minigan.compat [--bundled-digits] SCRIPT [ARGS]

aliases.py answers `import torch` (and torch.nn, torch.optim, torch.utils.data, ...) with
minigan's modules; torchvision/ is the small torchvision subset such scripts use
(datasets, transforms, utils.save_image); runner.py runs the script and turns a PyTorch
API minigan lacks into one line naming that API and the script's line.
"""
from .aliases import CompatError, Unsupported, UnsupportedModule, install, uninstall

__all__ = ["install", "uninstall", "Unsupported", "UnsupportedModule", "CompatError"]
