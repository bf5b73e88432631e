"""Draw the graph that autograd recorded: ops, leaves and the shapes flowing between them.

Every Tensor made by an op remembers that op (`tensor._ctx`, a Function); every Function
remembers, per input, where that input's gradient goes (`fn.parents`: the op that made the
input, the input itself if it is a leaf that requires grad, None for a constant) and the
input's shape (`fn.input_specs`). That is all backward walks, and all drawn here:
    format_graph(t)  a plain-text tree for a terminal (print_graph prints it)
    nodes_and_edges(t)  the graph walked once, as lists: what both drawings below read
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


def nodes_and_edges(t, names=None):
    """The graph behind t, walked once, as the two drawings need it.

    nodes: (kind, label, shape, grad) with kind "out" (node 0, t's value), "op", "leaf" or
    "constant" (one node per constant input), each recorded node once, in the order the walk
    meets it; edges: (src, dst, shape) by node index, in walk order, the shape being that
    of the value flowing from src into dst ("" for the edge into the output). A t that
    recorded nothing is one constant node and no edge."""
    if not t.requires_grad:  # nothing was recorded: t is a constant
        return [("constant", "constant", t.shape, False)], []
    names, index = name_map(names), {}
    nodes, edges = [("out", "output", t.shape, False)], []

    def add(node):
        if id(node) not in index:
            index[id(node)] = len(nodes)
            if isinstance(node, Tensor):
                nodes.append(("leaf", label_of(node, names), node.shape, node.grad is not None))
            else:
                nodes.append(("op", label_of(node, names), None, False))
        return index[id(node)]

    root = node_of(t)
    edges.append((add(root), 0, ""))
    todo, seen = [root], {id(root)}
    while todo:
        node = todo.pop()
        if isinstance(node, Tensor):
            continue
        for parent, shape in inputs_of(node):
            if parent is None:
                nodes.append(("constant", "constant", shape, False))
                edges.append((len(nodes) - 1, index[id(node)], shape))
                continue
            edges.append((add(parent), index[id(node)], shape))
            if id(parent) not in seen:
                seen.add(id(parent))
                todo.append(parent)
    return nodes, edges


def to_dot(t, names=None):
    """The graph that produced t as Graphviz DOT text: ops as boxes, leaves as ellipses,
    constants grey; each edge carries the shape of the value flowing along it."""
    nodes, edges = nodes_and_edges(t, names)
    lines = ["digraph minigan {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    if nodes[0][0] == "constant":
        lines.append(f'  out [label="constant\\n{shape_text(t.shape)}", color=grey];')
    else:
        lines.append(f'  out [label="output\\n{shape_text(t.shape)}", shape=plaintext];')
    ids, counts = {0: "out"}, {"n": 0, "c": 0}  # ops and leaves n0, n1, ...; constants c0, ...
    for src, dst, shape in edges:
        kind, label, node_shape, grad = nodes[src]
        if src not in ids:  # declared where first met, as Graphviz reads it
            prefix = "c" if kind == "constant" else "n"
            ids[src] = f"{prefix}{counts[prefix]}"
            counts[prefix] += 1
            if kind == "leaf":
                grad = "\\ngrad" if grad else ""
                lines.append(f'  {ids[src]} [label="{label}\\n{shape_text(node_shape)}{grad}", '
                             f"shape=ellipse];")
            elif kind == "op":
                lines.append(f'  {ids[src]} [label="{label}", shape=box];')
            else:
                lines.append(f'  {ids[src]} [label="constant\\n{shape_text(node_shape)}", '
                             f"color=grey, fontcolor=grey];")
        if dst == 0:
            lines.append(f"  {ids[src]} -> out;")
        elif kind == "constant":
            lines.append(f"  {ids[src]} -> {ids[dst]} [color=grey];")
        else:
            lines.append(f'  {ids[src]} -> {ids[dst]} [label="{shape_text(shape)}"];')
    lines.append("}")
    return "\n".join(lines)


def to_svg(t, names=None):
    """The graph that produced t as SVG text, laid out without Graphviz: the output on the
    right, every node one column left of the furthest node that uses it, so that inputs
    flow left to right; ops as boxes, leaves as rounded boxes, constants grey, each edge
    labelled with the shape of its value. (In Jupyter: IPython.display.SVG(to_svg(t)).)"""
    nodes, edges = nodes_and_edges(t, names)
    boxes = []  # (label, detail, colour) for svg_picture
    for kind, label, shape, grad in nodes:
        if kind == "leaf":
            boxes.append((label, shape_text(shape) + (", grad" if grad else ""), "leaf"))
        elif kind == "op":
            boxes.append((label, "", "op"))
        else:  # the output, or a constant (grey)
            boxes.append((label, shape_text(shape), "out" if kind == "out" else "grey"))
    lines = [(src, dst, "" if dst == 0 or nodes[src][0] == "constant" else shape_text(shape))
             for src, dst, shape in edges]
    depth = {0: 0}  # columns from the right: the longest path to the output
    for _ in range(len(nodes)):  # (relaxation; graphs drawn are small)
        for src, dst, _ in lines:
            if dst in depth and depth.get(src, -1) < depth[dst] + 1:
                depth[src] = depth[dst] + 1
    return svg_picture(boxes, lines, depth)


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
