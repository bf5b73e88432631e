"""minigan.backends.cudnn: the flags PyTorch scripts set, as torch.backends.cudnn.

minigan does not use cuDNN (its convolutions are im2col and one matrix product, on NumPy
or CuPy), so these flags have no effect on any device: they are plain settable attributes
that keep their value, so `torch.backends.cudnn.benchmark = True` runs unchanged.
minigan's CPU results are deterministic for a given thread count whatever they say.
"""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    """False: minigan never calls cuDNN."""
    return False


def version():
    return None
