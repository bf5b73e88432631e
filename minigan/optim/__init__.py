"""minigan.optim: Adam and SGD with PyTorch's update rules and state dicts."""
from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD
