"""minigan.nn: layers as Modules (as torch.nn), and the functional ops under nn.functional."""
from . import functional, init, utils
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .container import Flatten, Sequential
from .conv import Conv2d, ConvTranspose2d
from .embedding import Embedding
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, Parameter
from .sync_batchnorm import SyncBatchNorm
