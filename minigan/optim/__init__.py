"""minigan.optim: Adam, SGD and RMSprop with PyTorch's update rules and state dicts."""
from .adam import Adam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
