"""The graph walk of Tensor.backward, as a textbook writes it (twin of Tensor.backward).

Every op recorded the Function that made its output (`tensor._ctx`), and each Function
where each input's gradient goes next (`fn.parents`: the op that made that input, the
input itself if it is a leaf, None if it needs no gradient). Backward is the chain rule
applied in reverse topological order:
    grad[output] = 1
    for each op, outputs first:  grad[input] += fn.backward(grad[output])[k]
    leaf.grad += grad[leaf]
Each fn.backward takes and returns Tensors; run under no_grad, as here, nothing is recorded.
Tensor.backward (the walk is autograd.backward) computes the same; what it adds: several
outputs at once, recording the walk for gradients of gradients (create_graph), freeing
what each op saved, and handing a leaf the gradient array an op just made instead of a
copy (as PyTorch's AccumulateGrad does), copying only where that array could be shared.
"""
from ..autograd import no_grad
from ..backend import xp_of
from ..tensor import Tensor


def topological_order_simple(root):
    """Every node (op or leaf) reachable from root, each after the nodes it was computed
    from: a depth-first search, as micrograd's build_topo (recursive, so for small graphs)."""
    order, visited = [], set()

    def visit(node):
        if id(node) in visited:
            return
        visited.add(id(node))
        if not isinstance(node, Tensor):  # an op: first everything it was computed from
            for parent in node.parents:
                if parent is not None:
                    visit(parent)
        order.append(node)

    visit(root)
    return order


def backward_simple(output, grad=None):
    """Accumulate d(output)/d(leaf), weighted by `grad` (ones for a scalar output), into
    every leaf's .grad, as output.backward(grad, retain_graph=True) does."""
    if grad is None:
        grad = xp_of(output._data).ones_like(output._data)
    root = output if output._ctx is None else output._ctx
    grads = {id(root): Tensor(grad._data if isinstance(grad, Tensor) else grad)}
    # grads: node -> d(output)/d(that node's value), a Tensor
    with no_grad():
        for node in reversed(topological_order_simple(root)):  # each node after its users
            g = grads.pop(id(node), None)
            if g is None:  # no path from the output carried a gradient here
                continue
            if isinstance(node, Tensor):  # a leaf: add to what earlier backward calls left
                total = g if node.grad is None else node.grad + g
                node.grad = Tensor(xp_of(node._data).array(total._data, dtype=node.dtype))  # copy
                continue
            for parent, g_in in zip(node.parents, node.backward(g)):  # the chain rule, one op
                if parent is not None and g_in is not None:
                    g_in = g_in if isinstance(g_in, Tensor) else Tensor(g_in)
                    grads[id(parent)] = grads[id(parent)] + g_in if id(parent) in grads else g_in
