"""minigan: a deep-learning engine written from scratch on NumPy/CuPy, and the classic GANs on it.

Reading order (the README's table says what to skip on a first reading; the notebooks in
notebooks/ come first, executed copies in docs/notebooks/). Where an op's code is shaped by
speed or memory, its textbook twin comes first; faster versions (fast/) come last.
    autograd.py (Function, apply) -> textbook/backward.py -> tensor.py (graph.py draws the
    recorded graph) -> autograd.py (the walk)
    ops/elementwise.py -> ops/matmul.py -> ops/reduce.py, ops/shape.py
    ops/activation.py -> ops/loss.py
    textbook/im2col.py -> ops/im2col.py -> textbook/conv.py -> ops/conv.py
    textbook/batchnorm.py -> ops/batchnorm.py
    nn/ -> textbook/adam.py -> optim/ -> gradcheck.py -> evaluation/theory.py
    models/ (mlp_gan.py, dcgan.py) -> textbook/gan_step.py -> training/ (updater.py ->
    train.py, extensions.py) -> methods/ -> data parallel (distributed.py,
    nn/sync_batchnorm.py, parallel/) -> store/, evaluation/, cli/ -> fast/, kernels.py
    (validators.py: the shared argument checks)
    onnx/ (trace.py -> translate.py -> export.py): a traced forward as an ONNX model
"""
from .cli import startup

startup.begin()  # until the imports below are done: a Ctrl-C is one line
from . import autograd, cuda, nn, onnx, optim  # noqa: E402
from . import fast  # noqa: E402,F401  (registers the ops' faster versions: a later reading)
from .autograd import is_grad_enabled, no_grad
from .backend import DeviceError, Generator, manual_seed
from .creation import ones, rand, randn, tensor, zeros
from .gradcheck import directional_gradcheck, gradcheck, gradgradcheck
from .tensor import Tensor, cat, float32, float64
from .threads import get_num_threads, set_num_threads

__version__ = "0.1.0"

__all__ = ["Tensor", "tensor", "zeros", "ones", "randn", "rand", "cat", "no_grad",
           "is_grad_enabled", "manual_seed", "Generator", "DeviceError", "cuda", "gradcheck",
           "gradgradcheck", "directional_gradcheck", "autograd", "float32", "float64",
           "set_num_threads", "get_num_threads", "onnx"]

startup.end()
