"""Function, the graph walk (backward and grad), and no_grad.

Reverse-mode autograd in one sentence: every op records the Function that made its
output, and the backward pass walks those records from the loss back to the leaves,
calling each Function's `backward` with dL/d(output) to get dL/d(input) (the chain
rule, one vector-Jacobian product per op). `forward` works on raw arrays (numpy or
cupy); `backward` works on Tensors, with the same Tensor operations a user writes.

That last choice is what gives second derivatives. A backward formula such as Tanh's
`grad_out * (1 - out * out)` is itself a little program of Tensor ops; run it while
recording (`create_graph=True`) and it leaves a graph behind, from the gradient back to
the inputs, which the same walk can differentiate again:

    y = F.tanh(x)                                    # a graph: x -> Tanh -> y
    g, = autograd.grad(y.sum(), x, create_graph=True)   # g = 1 - y*y: ops recorded, y -> g
    h, = autograd.grad(g.sum(), x)                      # through that graph: -2 y (1 - y*y)

Without create_graph the walk runs each backward under no_grad: the same formulas, nothing
recorded, the gradients plain values.

An op's file holds its definition: one forward, one backward. Faster versions of some (in
place, fused CUDA kernels, another order of the same sums) live in minigan/fast/, which
registers each in FAST_FORWARD or FAST_BACKWARD under (op, device, recording); `apply` and
the walk below are the only places that choose one, and a first reading can skip them.
"""
import contextlib
import operator

import numpy as np

from . import backend, threads
from .backend import DeviceError, as_array, device_kind, xp_of

_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


@contextlib.contextmanager
def set_grad_enabled(mode):
    """Record graphs inside this block if `mode` is True, not if False (as torch's)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, bool(mode)
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """Inside this block no graph is recorded (as torch.no_grad): outputs never require grad."""
    return set_grad_enabled(False)


_tape = None  # a list while tracing() runs: every op call is appended to it


@contextlib.contextmanager
def tracing():
    """Inside this block every op call is appended, in the order the ops ran, to the list
    this yields, as (Function, input Tensors, keyword parameters, output Tensor, the
    output's version then: a view's is its base's): a tape of
    the forward pass (as torch.jit.trace records one). The recorded graph is not enough to
    export a model: it keeps no constant input (a one-hot table, BatchNorm's ones), no
    parameter such as a stride by name, and nothing computed from values that need no
    gradient, such as a class label's lookup. minigan.onnx reads the tape."""
    global _tape
    previous, _tape = _tape, []
    try:
        yield _tape
    finally:
        _tape = previous


# Faster versions of an op's forward or backward, registered by minigan/fast/ under
# (op class, "cpu" or "cuda", whether a graph is recorded). A backward version is
# registered only for recording False: what create_graph records is the definition.
FAST_FORWARD = {}  # (op, device, recording) -> fast(fn, *arrays, **params) -> array
FAST_BACKWARD = {}  # (op, device, False) -> fast(fn, grad_out) -> one gradient per input
FAST_OPS = set()  # the op classes with a FAST_FORWARD entry (one cheap test in apply)


_requires_grad, _data = operator.attrgetter("requires_grad"), operator.attrgetter("_data")


class Function:
    """Base class of every op.

    Subclasses write `forward(*arrays, **params) -> array` on raw arrays, and
    `backward(grad_out) -> tuple` on Tensors (one gradient per input, None where not
    needed), built from Tensor operations so that it can be recorded. Arrays that backward
    reads go through `save_for_backward` and come back in backward as Tensors from
    `self.saved`: an input as that very input Tensor, the output as a Tensor joined to this
    op (so a graph recorded in backward connects to the forward graph), anything else (a
    mask, a constant) as a constant Tensor. Plain numbers (shapes, strides, slopes) live
    on `self`. `needs_input_grad[i]` tells whether input i wants a gradient, so forward can
    skip saving, and backward skip computing, what is unused.
    """

    # Each op's own values replace these defaults (class attributes, so that making a
    # Function costs no __init__ call: apply makes one per op, in backward too)
    _saved = ()  # what save_for_backward kept; None once backward has freed it
    needs_input_grad = ()
    parents = ()  # per input, where its gradient goes next (see apply)
    input_specs = ()  # per input, (shape, dtype): what its gradient must match

    def save_for_backward(self, *arrays):
        self._saved = arrays

    @property
    def saved(self):
        """What forward saved, as Tensors (see the class docstring); checks that no saved
        input was modified in place since (its version), as PyTorch does."""
        if self._saved is None:
            raise RuntimeError("backward(): trying to backward through the graph a second "
                               "time (or directly access saved tensors after they have been "
                               "freed); pass retain_graph=True to the first backward() or "
                               "autograd.grad()")
        tensors = []
        for item in self._saved:
            if isinstance(item, SavedInput):
                tensors.append(item.unpack())
            elif isinstance(item, SavedOutput):
                out = Tensor(item.check(self))
                if _grad_enabled:  # recording: out stands for this op's output in the graph
                    out.requires_grad, out._ctx = True, self
                tensors.append(out)
            else:
                tensors.append(None if item is None else Tensor(item))
        return tuple(tensors)

    def input_tensor(self, i, data):
        """Input i as a Tensor of the graph, for a backward that saved not the input but
        something it can be recomputed from (`data`, its values): the leaf itself, or
        `data` joined to the op that computed input i (what a recorded formula on it then
        differentiates through), or a constant where input i needs no gradient."""
        parent = self.parents[i]
        if isinstance(parent, Tensor) or parent is None:
            return Tensor(data) if parent is None else parent
        t = Tensor(data)
        t.requires_grad, t._ctx = True, parent
        return t

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors: check devices, call forward on raw arrays, record the graph.

        (Written for speed: it runs for every op, in backward too, where without
        create_graph nothing is recorded and only the forward call is needed.)"""
        if len(inputs) > 1 and backend.cp is not None:  # without CuPy all are on the CPU
            check_same_device(cls, inputs)
        fn = cls()
        fn.needs_input_grad = tuple(map(_requires_grad, inputs))  # (map: no Python frame)
        arrays = tuple(map(_data, inputs))
        fast = cls in FAST_OPS and FAST_FORWARD.get(  # a faster version (minigan/fast/)?
            (cls, device_kind(arrays[0]), _grad_enabled))
        out_array = fast(fn, *arrays, **params) if fast else fn.forward(*arrays, **params)
        out = Tensor(out_array if type(out_array) is np.ndarray  # else a NumPy scalar (0-d
                     else as_array(out_array, xp_of(out_array)))  # results) or a CuPy array
        if _grad_enabled and any(fn.needs_input_grad):
            out.requires_grad = True
            out._ctx = fn  # the output remembers the op that made it ...
            # ... and the op remembers where each input's gradient goes next: to the op
            # that computed that input, or to the input itself if it is a leaf. That is the
            # graph. It holds no input arrays: an intermediate result outlives forward only
            # if an op saved it for backward, as in PyTorch.
            fn.parents = tuple(None if not t.requires_grad else t if t._ctx is None else t._ctx
                               for t in inputs)
            fn.input_specs = tuple((t.shape, t.dtype) for t in inputs)
            fn._saved = tuple(saved_item(a, inputs, out, out_array) for a in fn._saved)
        if _tape is not None:  # tracing(): keep the whole call
            _tape.append((fn, inputs, params, out, out._version))
        return out


def check_same_device(fn_class, inputs):
    """Mixed devices fail here, in one place, with a clear message."""
    device = inputs[0].device
    for t in inputs[1:]:
        if t.device != device:
            raise DeviceError(f"{fn_class.__name__}: inputs are on different devices, "
                              f"'{device}' and '{t.device}'; move them with .to(device)")


def modified_in_place(t, version, what=""):
    """PyTorch's error for a saved tensor changed in place since it was saved."""
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{t.dtype} {list(t.shape)}]{what} is at version {t._version}; "
        f"expected version {version} instead. Hint: an in-place change (an optimizer's "
        f"step(), load_state_dict, an in-place method such as mul_, or an assignment to "
        f".data) reached it, or a view or detach() of it, after the forward pass that used "
        f"it; compute the loss again after the change, or call backward() before it")


class SavedInput:
    """An input Tensor kept for backward, with the version it had when it was saved."""

    __slots__ = ("tensor", "version")

    def __init__(self, tensor):
        self.tensor, self.version = tensor, tensor._version

    def unpack(self):
        t = self.tensor
        if t._version != self.version:
            raise modified_in_place(t, self.version)
        return t


class SavedOutput:
    """The op's own output array, kept without its Tensor (which refers to the op: a cycle),
    but with that Tensor's version counter (a list: no cycle) and the version at saving."""

    __slots__ = ("array", "counter", "version")

    def __init__(self, out):
        self.array, self.counter = out._data, out._version_counter
        self.version = self.counter[0]

    def check(self, fn):
        if self.counter[0] != self.version:
            t = Tensor(self.array)
            t._version_counter = self.counter
            raise modified_in_place(t, self.version, f", which is output 0 of {type(fn).__name__},")
        return self.array


def saved_item(array, inputs, out, out_array):
    """What Function._saved keeps for one array forward saved: which input or the output it
    is (found by identity), or the array itself, a constant."""
    if array is None:
        return None
    for t in inputs:
        if array is t._data:
            return SavedInput(t)
    return SavedOutput(out) if array is out_array or array is out._data else array


# ----------------------------------------------------------------------------- the walk
def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate d(sum of tensors weighted by grad_tensors)/d(leaf) into every leaf's .grad
    (as torch.autograd.backward); Tensor.backward calls this."""
    tensors, seeds = _roots_and_seeds("backward", tensors, grad_tensors, create_graph)
    _walk(tensors, seeds, create_graph if retain_graph is None else retain_graph,
          create_graph, inputs=None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=False):
    """The gradients of outputs (weighted by grad_outputs) with respect to each of inputs, as
    a tuple, as torch.autograd.grad. Leaves every .grad untouched. With create_graph=True the
    gradients are recorded, and can be differentiated again. only_inputs is accepted and
    ignored, as PyTorch has done since 0.4 (WGAN-GP scripts still pass it)."""
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs must be minigan.Tensors, got {type(t).__name__} "
                            f"at position {i}")
        if not t.requires_grad:
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) does not require grad; "
                               f"create it with requires_grad=True")
    outputs, seeds = _roots_and_seeds("grad", outputs, grad_outputs, create_graph)
    found = _walk(outputs, seeds, create_graph if retain_graph is None else retain_graph,
                  create_graph, inputs=inputs)
    results = []
    for i, t in enumerate(inputs):
        g = found.get(id(t if t._ctx is None else t._ctx))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) was not used to compute "
                               f"the outputs; pass allow_unused=True to get None for it")
        results.append(g)
    return tuple(results)


def _roots_and_seeds(name, tensors, grads, create_graph):
    """The outputs as a list, each with its starting gradient (ones for a scalar)."""
    if isinstance(tensors, Tensor):  # one output, with one gradient (or None)
        tensors, grads = [tensors], [grads]
    tensors = list(tensors)
    grads = [None] * len(tensors) if grads is None else \
        [grads] if isinstance(grads, Tensor) else list(grads)
    if len(grads) != len(tensors):
        raise ValueError(f"{name}(): got {len(grads)} gradients for {len(tensors)} outputs")
    seeds = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): outputs must be minigan.Tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(
                f"{name}(): output {i} does not require grad and has no graph (was it "
                f"computed under no_grad(), from detached tensors, or is it a gradient "
                f"computed without create_graph=True?)")
        xp = xp_of(t._data)
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(f"{name}(): grad can be omitted only for a scalar output; "
                                   f"this tensor has shape {t.shape}, so pass grad= of that shape")
            g = Tensor(xp.ones_like(t._data))
        elif not isinstance(g, Tensor):
            g = Tensor(xp.asarray(g, dtype=t.dtype))
        if g.shape != t.shape:
            raise ValueError(f"{name}(): grad has shape {g.shape}, expected {t.shape}")
        seeds.append(g)
    return tensors, seeds


def _walk(outputs, seeds, retain_graph, create_graph, inputs):
    """The backward pass. Orders the graph so that every node comes after all nodes computed
    from it, then walks it from the outputs back, asking each op for the gradients of its
    inputs and summing the gradients that meet at a node used more than once (the
    multivariate chain rule). Leaves get their gradient in .grad, or, with `inputs` given
    (autograd.grad), the gradients reaching those tensors are returned by node id."""
    threads.ops_threads()  # the CPU threads for this pass: the load is looked at (threads.py)
    roots = [t if t._ctx is None else t._ctx for t in outputs]
    grads = {}  # d(outputs)/d(output of node) for each node reached so far, by id
    for root, seed in zip(roots, seeds):
        grads[id(root)] = grads[id(root)] + seed if id(root) in grads else seed
    order = topological_order(roots)
    wanted = None if inputs is None else {id(t if t._ctx is None else t._ctx) for t in inputs}
    useful = None if inputs is None else leads_to(order, wanted)
    found, given = {}, set()
    with set_grad_enabled(create_graph):  # the backward formulas are recorded, or not
        for node in reversed(order):  # outputs before what made them
            g = grads.pop(id(node), None)
            if g is None:  # no path carried a gradient here
                continue
            if wanted is not None and id(node) in wanted:
                found[id(node)] = g
            if isinstance(node, Tensor):  # a leaf
                if inputs is None:
                    accumulate_leaf_grad(node, g, create_graph, given, seeds)
                continue
            fn = node
            if useful is not None and id(fn) not in useful:
                continue  # autograd.grad: nothing it was asked for lies behind this op
            fast = FAST_BACKWARD.get((type(fn), device_kind(g._data), create_graph))
            input_grads = checked_count(fn, fast(fn, g) if fast else fn.backward(g))  # (fast:
            # minigan/fast/)
            if not retain_graph:
                fn._saved = None  # free what forward kept, as PyTorch does
            for i, (parent, (shape, dtype), g_in) in enumerate(
                    zip(fn.parents, fn.input_specs, input_grads)):
                if g_in is None or parent is None:
                    continue
                if not isinstance(g_in, Tensor):  # a reader's op may return raw arrays
                    g_in = Tensor(g_in)
                array = g_in._data
                if array.shape != shape:  # (a forgotten unbroadcast, in an op of ours too)
                    raise RuntimeError(f"Function {type(fn).__name__}.backward returned an "
                                       f"invalid gradient at index {i} "
                                       f"- got {list(array.shape)} but expected shape "
                                       f"{list(shape)}")
                if array.dtype != dtype:  # e.g. float32 input in a float64 expression
                    g_in = cast(g_in, dtype)
                grads[id(parent)] = grads[id(parent)] + g_in if id(parent) in grads else g_in
    return found


def checked_count(fn, input_grads):
    """backward's gradients as a tuple of one per input, as PyTorch checks them: a single
    Tensor counts as a tuple of one, extra trailing Nones are dropped, any other count is an
    error (zip would silently drop the missing or extra ones)."""
    if not isinstance(input_grads, (tuple, list)):
        input_grads = (input_grads,)
    expected = len(fn.parents)
    if len(input_grads) > expected and all(g is None for g in input_grads[expected:]):
        input_grads = input_grads[:expected]
    if len(input_grads) != expected:
        raise RuntimeError(f"function {type(fn).__name__}.backward returned an incorrect "
                           f"number of gradients (expected {expected}, got {len(input_grads)})")
    return input_grads


def accumulate_leaf_grad(leaf, g, create_graph, given, seeds):
    """leaf.grad = leaf.grad + g, or g. With create_graph the sum is recorded, as in PyTorch.

    Without it, the leaf gets an array no one else holds, C-ordered: a fresh copy when g
    is a view (a broadcast or a reshape), a NumPy scalar (0-d results), a gradient passed
    in, or an array another leaf already holds (a + b hands both the same one); an array
    an op just made is kept as it is, as PyTorch's AccumulateGrad steals it (ops never
    write into the gradient they are handed). `given` holds the ids handed out so far.
    First read minigan/textbook/backward.py: leaves' gradients simply summed, tested equal.
    """
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
        return
    a = g._data if leaf.grad is None else leaf.grad._data + g._data
    xp = xp_of(leaf._data)  # its device's, which .to() may have left
    if not (isinstance(a, xp.ndarray) and a.base is None and a.flags.c_contiguous
            and id(a) not in given and not any(a is s._data for s in seeds)):
        a = xp.array(a, dtype=leaf.dtype, order="C")
    given.add(id(a))
    leaf.grad = Tensor(a)


def cast(t, dtype):
    from .ops.cast import Cast

    return Cast.apply(t, dtype=dtype)


def topological_order(roots):
    """Every node of the roots' graph (ops, and leaves that require grad), each after all
    the nodes it was computed from.

    An iterative depth-first search (no recursion limit on deep graphs): a node is
    appended only after everything it was computed from has been appended.
    """
    order, visited = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if isinstance(node, Function):  # an op: its parents come first
            stack.extend((p, False) for p in node.parents
                         if p is not None and id(p) not in visited)
    return order


def leads_to(order, wanted):
    """The ids of the ops in `order` (a topological order) behind which lies a node of
    `wanted`: the only ops autograd.grad needs to run."""
    useful = set()
    for node in order:  # parents before children
        if isinstance(node, Function) and any(
                id(p) in wanted or id(p) in useful for p in node.parents if p is not None):
            useful.add(id(node))
    return useful


# At the end: tensor.py imports the ops, which import Function from this file (defined above).
from .tensor import Tensor  # noqa: E402
from .tensor_api.legacy import Variable  # noqa: E402, F401 - torch.autograd.Variable, for old tutorials
