"""minigan.nn.functional (imported as F): the ops as functions of Tensors, as torch.nn.functional.

Each function is a thin wrapper: check its arguments with a message that names the
function, the shapes received and what was expected, then apply the op's Function.
"""
from ..ops import activation as act
from ..ops import loss
from ..ops.matmul import Linear
from ..tensor import Tensor


def check_tensor(name, x, arg="input"):
    """`x` must be a floating-point Tensor."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: {arg} must be a minigan.Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: {arg} must be a floating-point tensor (float32 or float64), "
                        f"got dtype {x.dtype}")


def check_same_shape(name, a, b, a_name="input", b_name="target"):
    if a.shape != b.shape:
        raise ValueError(f"{name}: {a_name} has shape {a.shape} but {b_name} has shape {b.shape}; "
                         f"they must match")


def linear(x, weight, bias=None):
    """x (*, in) @ weight (out, in)^T + bias (out,) -> (*, out), as F.linear."""
    check_tensor("linear", x)
    check_tensor("linear", weight, "weight")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must have shape (out_features, in_features), "
                         f"got {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape "
                         f"{weight.shape}: expected input (*, {weight.shape[1]})")
    if bias is None:
        return Linear.apply(x, weight)
    check_tensor("linear", bias, "bias")
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    return Linear.apply(x, weight, bias)


def relu(x):
    """max(x, 0), as F.relu."""
    check_tensor("relu", x)
    return act.ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    """x if x > 0 else negative_slope * x, as F.leaky_relu."""
    check_tensor("leaky_relu", x)
    return act.LeakyReLU.apply(x, negative_slope=float(negative_slope))


def tanh(x):
    check_tensor("tanh", x)
    return act.Tanh.apply(x)


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow, as F.sigmoid."""
    check_tensor("sigmoid", x)
    return act.Sigmoid.apply(x)


def _loss_target(name, x, target):
    """The target as a Tensor of x's shape and dtype (it may be given as a number or array)."""
    if not isinstance(target, Tensor):
        target = x._operand(target)
    check_tensor(name, target, "target")
    check_same_shape(name, x, target)
    return target


def binary_cross_entropy(p, target):
    """mean(-[t log p + (1 - t) log(1 - p)]) over all elements, logs clamped at -100,
    as F.binary_cross_entropy. p holds probabilities in [0, 1]."""
    check_tensor("binary_cross_entropy", p)
    target = _loss_target("binary_cross_entropy", p, target)
    return loss.BinaryCrossEntropy.apply(p, target)


def binary_cross_entropy_with_logits(logits, target):
    """binary_cross_entropy(sigmoid(logits), target) in the stable softplus form, as
    F.binary_cross_entropy_with_logits."""
    check_tensor("binary_cross_entropy_with_logits", logits)
    target = _loss_target("binary_cross_entropy_with_logits", logits, target)
    return loss.BinaryCrossEntropyWithLogits.apply(logits, target)


def cross_entropy(logits, target):
    """mean over rows of -log softmax(logits)[target], logits (N, K), target int (N,),
    as F.cross_entropy."""
    check_tensor("cross_entropy", logits)
    target = target.data if isinstance(target, Tensor) else target
    if logits.ndim != 2 or getattr(target, "shape", None) != (logits.shape[0],):
        raise ValueError(f"cross_entropy: expected logits (N, K) and integer target (N,), got "
                         f"{logits.shape} and {getattr(target, 'shape', type(target).__name__)}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got {target.dtype}")
    if target.size and (int(target.min()) < 0 or int(target.max()) >= logits.shape[1]):
        raise ValueError(f"cross_entropy: target classes must be in [0, {logits.shape[1]})")
    return loss.CrossEntropy.apply(logits, target=target)


# --- convolution and batch normalisation (ops/conv.py, ops/batchnorm.py) -----------------
