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
    trainer.py, extensions/) -> methods/ -> data parallel (distributed.py,
    nn/sync_batchnorm.py, parallel/) -> store/, evaluation/, cli/ -> fast/ (with kernels.py)
    (validators.py: the shared argument checks; tests/test_layering.py: the rooms)
    onnx/ (trace.py -> translate.py -> export.py): a traced forward as an ONNX model
"""
import numpy as _np

from .cli import startup

startup.begin()  # until the imports below are done: a Ctrl-C is one line
from . import autograd, backends, cuda, nn, onnx, optim, utils  # noqa: E402
from . import fast  # noqa: E402,F401  (registers the ops' faster versions: a later reading)
from .autograd import is_grad_enabled, no_grad, set_grad_enabled
from .backend import DeviceError, Generator, manual_seed
from .creation import ones, rand, randn, tensor, zeros
from .gradcheck import directional_gradcheck, gradcheck, gradgradcheck
from .store.serialization import load, save
from .tensor_api.devices import device
from .tensor_api.functions import (abs, add, arange, argmax, clamp, clip, div, empty,
                                   empty_like, exp, eye, flatten, from_numpy, full, full_like,
                                   is_tensor, linspace, log, matmul, max, mean, mm, mul, norm,
                                   normal, numel, ones_like, permute, pow, rand_like, randint,
                                   randn_like, relu, reshape, set_default_dtype, sigmoid, sqrt,
                                   squeeze, stack, std, sub, sum, tanh, transpose, unsqueeze,
                                   var, where, zeros_like)
from .tensor_api.legacy import (BoolTensor, ByteTensor, DoubleTensor, FloatTensor, IntTensor,
                                LongTensor)
from .tensor import Size, Tensor, cat, float32, float64
from .threads import get_num_threads, set_num_threads

# dtypes under PyTorch's names: NumPy's types, as minigan.float32 is (one dtype system)
float, double = float32, float64  # noqa: A001 - torch.float, torch.double
int64 = long = _np.int64
int32, int16, int8, uint8, bool = _np.int32, _np.int16, _np.int8, _np.uint8, _np.bool_  # noqa: A001

__version__ = "0.1.0"

__all__ = ["Tensor", "tensor", "zeros", "ones", "randn", "rand", "cat", "no_grad",
           "is_grad_enabled", "manual_seed", "Generator", "DeviceError", "cuda", "gradcheck",
           "gradgradcheck", "directional_gradcheck", "autograd", "float32", "float64",
           "set_num_threads", "get_num_threads", "utils", "save", "load", "onnx"]

startup.end()
