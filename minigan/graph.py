"""Draw the graph that autograd recorded: ops, leaves and the shapes flowing between them.

Every Tensor made by an op remembers that op (`tensor._ctx`, a Function); every Function
remembers, per input, where that input's gradient goes (`fn.parents`: the op that made the
input, the input itself if it is a leaf that requires grad, None for a constant) and the
input's shape (`fn.input_specs`). That is all backward walks, and all drawn here:
    format_graph(t)  a plain-text tree for a terminal (print_graph prints it)
    to_dot(t)        Graphviz DOT text (render with `dot -Tsvg` or the graphviz package),
                     as micrograd's draw_dot and DeZero's plot_dot_graph
    to_svg(t)        an SVG picture, drawn here without Graphviz: one column per depth
Both take `names`, a dict {name: tensor} that labels leaves (and any tensor you name).
"""
from html import escape

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


def to_svg(t, names=None):
    """The graph that produced t as SVG text, laid out without Graphviz: the output on the
    right, every node one column left of the furthest node that uses it, so that inputs
    flow left to right; ops as boxes, leaves as rounded boxes, constants grey, each edge
    labelled with the shape of its value. (In Jupyter: IPython.display.SVG(to_svg(t)).)"""
    names = name_map(names)
    if not t.requires_grad:  # nothing was recorded: t is a constant
        nodes, edges, depth = [("constant", shape_text(t.shape), "grey")], [], {0: 0}
    else:
        root = node_of(t)
        nodes, index, edges = [], {}, []  # nodes: (label, detail, colour)

        def add(node):
            if id(node) not in index:
                index[id(node)] = len(nodes)
                if isinstance(node, Tensor):
                    grad = ", grad" if node.grad is not None else ""
                    nodes.append((label_of(node, names), shape_text(node.shape) + grad, "leaf"))
                else:
                    nodes.append((label_of(node, names), "", "op"))
            return index[id(node)]

        nodes.append(("output", shape_text(t.shape), "out"))
        edges.append((add(root), 0, ""))
        todo, seen = [root], {id(root)}
        while todo:
            node = todo.pop()
            if isinstance(node, Tensor):
                continue
            for parent, shape in inputs_of(node):
                if parent is None:
                    nodes.append(("constant", shape_text(shape), "grey"))
                    edges.append((len(nodes) - 1, index[id(node)], ""))
                    continue
                edges.append((add(parent), index[id(node)], shape_text(shape)))
                if id(parent) not in seen:
                    seen.add(id(parent))
                    todo.append(parent)
        depth = {0: 0}  # columns from the right: the longest path to the output
        for _ in range(len(nodes)):  # (relaxation; graphs drawn are small)
            for src, dst, _ in edges:
                if dst in depth and depth.get(src, -1) < depth[dst] + 1:
                    depth[src] = depth[dst] + 1
    return svg_picture(nodes, edges, depth)


def svg_picture(nodes, edges, depth):
    """SVG text: node i in column depth[i] from the right, edges as labelled lines."""
    longest = max(len(text) for node in nodes for text in node[:2])
    width, height, gap_x, gap_y = max(90, 7 * longest + 16), 36, 70, 22
    columns = max(depth.values()) + 1
    rows = {}
    position = {}
    for i in sorted(depth, key=lambda i: (depth[i], i)):
        row = rows.get(depth[i], 0)
        rows[depth[i]] = row + 1
        position[i] = ((columns - 1 - depth[i]) * (width + gap_x) + 10, row * (height + gap_y) + 10)
    total_w = columns * (width + gap_x) - gap_x + 20
    total_h = max(rows.values()) * (height + gap_y) - gap_y + 20
    fill = {"op": "#dde8f7", "leaf": "#e6f4e0", "out": "#ffffff", "grey": "#f2f2f2"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
             f'font-family="Helvetica, Arial, sans-serif" font-size="12">']
    for src, dst, label in edges:
        (x0, y0), (x1, y1) = position[src], position[dst]
        x0, y0, x1, y1 = x0 + width, y0 + height / 2, x1, y1 + height / 2
        colour = "#999" if nodes[src][2] == "grey" else "#333"
        parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="{colour}"/>'
                     f'<circle cx="{x1}" cy="{y1}" r="3" fill="{colour}"/>')
        if label:
            parts.append(f'<text x="{(x0 + x1) / 2}" y="{(y0 + y1) / 2 - 4}" '
                         f'text-anchor="middle" fill="#555">{escape(label)}</text>')
    for i, (label, detail, kind) in enumerate(nodes):
        x, y = position[i]
        rounded = ' rx="12"' if kind == "leaf" else ""
        colour = "#999" if kind == "grey" else "#333"
        parts.append(f'<rect x="{x}" y="{y}" width="{width}" height="{height}"{rounded} '
                     f'fill="{fill[kind]}" stroke="{colour}"/>')
        lines = [label, detail] if detail else [label]
        for k, text in enumerate(lines):
            ty = y + height / 2 + (k - (len(lines) - 1) / 2) * 14 + 4
            parts.append(f'<text x="{x + width / 2}" y="{ty}" text-anchor="middle" '
                         f'fill="{colour}">{escape(text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def shape_text(shape):
    """(3, 4) as '(3, 4)', () as '()' (a scalar)."""
    return str(tuple(shape))
