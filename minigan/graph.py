"""Draw the graph that autograd recorded: ops, leaves and the shapes flowing between them.

Every Tensor made by an op remembers that op (`tensor._ctx`, a Function); every Function
remembers, per input, where that input's gradient goes (`fn.parents`: the op that made the
input, the input itself if it is a leaf that requires grad, None for a constant) and the
input's shape (`fn.input_specs`). That is all backward walks, and all drawn here:
    format_graph(t)  a plain-text tree for a terminal (print_graph prints it)
    to_dot(t)        Graphviz DOT text (render with `dot -Tsvg` or the graphviz package),
                     as micrograd's draw_dot and DeZero's plot_dot_graph
Both take `names`, a dict {name: tensor} that labels leaves (and any tensor you name).
"""
from .tensor import Tensor


def node_of(t):
    """The graph node behind tensor t: the op that made it, or t itself for a leaf."""
    return t if t._ctx is None else t._ctx


def label_of(node, names):
    """A leaf's name ('x') or 'leaf'; an op's class name ('Mul')."""
    if isinstance(node, Tensor):
        return names.get(id(node), "leaf")
    op = type(node).__name__
    return f"{op} {names[id(node)]}" if id(node) in names else op


def inputs_of(fn):
    """(parent or None, shape) per input of op fn: None marks a constant (no gradient)."""
    return [(parent, spec[0]) for parent, spec in zip(fn.parents, fn.input_specs)]


def name_map(names):
    """{id(node): name} from the user's {name: tensor}."""
    return {id(node_of(t)): name for name, t in (names or {}).items()}


def format_graph(t, names=None):
    """The graph that produced t as an indented tree, root first; shapes are the values'
    shapes. A node used twice is written once and then referred to by its number."""
    names, numbers, lines = name_map(names), {}, []

    def write(node, shape, depth):
        pad = "  " * depth
        if node is None:
            lines.append(f"{pad}constant {shape}")
            return
        if id(node) in numbers:
            lines.append(f"{pad}#{numbers[id(node)]} {label_of(node, names)} (see above)")
            return
        numbers[id(node)] = len(numbers)
        kind = "" if isinstance(node, Tensor) else " ->"
        grad = " grad" if isinstance(node, Tensor) and node.grad is not None else ""
        lines.append(f"{pad}#{numbers[id(node)]} {label_of(node, names)}{kind} {shape}{grad}")
        if not isinstance(node, Tensor):
            for parent, parent_shape in inputs_of(node):
                write(parent, parent_shape, depth + 1)

    write(node_of(t) if t.requires_grad else None, t.shape, 0)
    return "\n".join(lines)


def print_graph(t, names=None):
    """Print format_graph(t, names)."""
    print(format_graph(t, names))


def to_dot(t, names=None):
    """The graph that produced t as Graphviz DOT text: ops as boxes, leaves as ellipses,
    constants grey; each edge carries the shape of the value flowing along it."""
    names = name_map(names)
    ids, lines = {}, ["digraph minigan {", "  rankdir=LR;", '  node [fontname="Helvetica"];']

    def node_id(node):
        if id(node) not in ids:
            ids[id(node)] = f"n{len(ids)}"
            if isinstance(node, Tensor):
                grad = "\\ngrad" if node.grad is not None else ""
                lines.append(f'  {ids[id(node)]} [label="{label_of(node, names)}\\n'
                             f'{shape_text(node.shape)}{grad}", shape=ellipse];')
            else:
                lines.append(f'  {ids[id(node)]} [label="{label_of(node, names)}", shape=box];')
        return ids[id(node)]

    root = node_of(t) if t.requires_grad else None
    if root is None:  # nothing was recorded: t is a constant
        lines.append(f'  out [label="constant\\n{shape_text(t.shape)}", color=grey];')
    else:
        lines.append(f'  out [label="output\\n{shape_text(t.shape)}", shape=plaintext];')
        lines.append(f"  {node_id(root)} -> out;")
        todo, seen, constants = [root], {id(root)}, 0
        while todo:
            node = todo.pop()
            if isinstance(node, Tensor):
                continue
            for parent, shape in inputs_of(node):
                if parent is None:
                    const = f"c{constants}"
                    constants += 1
                    lines.append(f'  {const} [label="constant\\n{shape_text(shape)}", '
                                 f"color=grey, fontcolor=grey];")
                    lines.append(f"  {const} -> {node_id(node)} [color=grey];")
                    continue
                lines.append(f'  {node_id(parent)} -> {node_id(node)} '
                             f'[label="{shape_text(shape)}"];')
                if id(parent) not in seen:
                    seen.add(id(parent))
                    todo.append(parent)
    lines.append("}")
    return "\n".join(lines)


def shape_text(shape):
    """(3, 4) as '(3, 4)', () as '()' (a scalar)."""
    return str(tuple(shape))
