"""minigan.nn: layers as Modules (as torch.nn), and the functional ops under nn.functional."""
from . import functional, init, parallel, utils
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .dropout import Dropout, Dropout2d
from .batchnorm import BatchNorm1d, BatchNorm2d
from .container import Flatten, Sequential
from .conv import Conv2d, ConvTranspose2d
from .embedding import Embedding
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, Parameter
from .parallel import DataParallel
from .softmax import LogSoftmax, Softmax
from .sync_batchnorm import SyncBatchNorm
from .upsampling import Upsample
