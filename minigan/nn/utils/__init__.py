"""minigan.nn.utils: helpers that transform modules, as torch.nn.utils."""
from .spectral_norm import SpectralNorm, apply_spectral_norm, spectral_norm

__all__ = ["SpectralNorm", "apply_spectral_norm", "spectral_norm"]
