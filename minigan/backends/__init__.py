"""minigan.backends: PyTorch's switches for its vendor libraries, kept so that scripts which
set them run unchanged (`torch.backends.cudnn.benchmark = True`)."""
from . import cudnn

__all__ = ["cudnn"]
