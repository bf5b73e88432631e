"""minigan.nn: layers as Modules (as torch.nn), and the functional ops under nn.functional."""
from . import functional, init
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .container import Flatten, Sequential
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss
from .module import Module, Parameter
