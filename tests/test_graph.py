"""minigan.graph draws the recorded graph: every op and leaf once, with the right shapes."""
import minigan
import minigan.nn.functional as F
from minigan.graph import format_graph, print_graph, to_dot, to_svg


def expression():
    x = minigan.randn(3, 4, requires_grad=True)
    w = minigan.randn(4, 2, requires_grad=True)
    y = (F.tanh(x @ w) * 2 + x.sum()).mean()  # x is used twice; 2 is a constant
    return x, w, y


def test_format_graph_shows_ops_leaves_constants_and_shapes_root_first():
    x, w, y = expression()
    text = format_graph(y, names={"x": x, "w": w})
    assert text.splitlines() == [
        "#0 Mean -> ()",
        "  #1 Add -> (3, 2)",
        "    #2 Mul -> (3, 2)",
        "      #3 Tanh -> (3, 2)",
        "        #4 MatMul -> (3, 2)",
        "          #5 x (3, 4)",
        "          #6 w (4, 2)",
        "      constant ()",
        "    #7 Sum -> ()",
        "      #5 x (see above)",
    ]


def test_format_graph_marks_leaves_that_hold_a_gradient(capsys):
    x, w, y = expression()
    y.backward()
    print_graph(y, names={"x": x})
    out = capsys.readouterr().out
    assert "#5 x (3, 4) grad" in out and "#6 leaf (4, 2) grad" in out


def test_a_tensor_without_a_graph_is_drawn_as_one_node():
    assert format_graph(minigan.zeros(2, 3)) == "constant (2, 3)"
    leaf = minigan.zeros(2, requires_grad=True)
    assert format_graph(leaf, names={"a": leaf}) == "#0 a (2,)"
    assert "constant\\n(2, 3)" in to_dot(minigan.zeros(2, 3))


def test_to_dot_has_one_node_per_op_and_leaf_and_one_edge_per_input():
    x, w, y = expression()
    dot = to_dot(y, names={"x": x, "w": w})
    lines = dot.splitlines()
    assert lines[0] == "digraph minigan {" and lines[-1] == "}"
    nodes = [line for line in lines if "shape=box" in line or "shape=ellipse" in line]
    assert sorted(line.split('label="')[1].split('"')[0].split("\\n")[0] for line in nodes) == \
        sorted(["Mean", "Add", "Mul", "Tanh", "MatMul", "Sum", "x", "w"])
    edges = [line for line in lines if "->" in line]
    # MatMul 2 + Tanh 1 + Mul 2 (one constant) + Sum 1 + Add 2 + Mean 1 inputs, + the output
    assert len(edges) == 10
    assert sum('[label="(3, 4)"]' in e for e in edges) == 2  # x flows into MatMul and Sum
    assert dot.count("constant") == 1


def test_to_svg_draws_every_node_once_as_well_formed_svg_without_graphviz():
    import xml.etree.ElementTree as ElementTree

    x = minigan.randn(3, 4)
    w = minigan.randn(4, 2, requires_grad=True)
    y = F.binary_cross_entropy_with_logits(x @ w, minigan.ones(3, 2))
    svg = to_svg(y, names={"w": w})
    root = ElementTree.fromstring(svg)  # parses: well formed
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for label in ("output", "BinaryCrossEntropyWithLogits", "MatMul", "w", "(4, 2)"):
        assert label in texts, label
    assert texts.count("MatMul") == 1 and texts.count("constant") == 2  # x, the target
    rects = list(root.iter("{http://www.w3.org/2000/svg}rect"))
    assert len(rects) == 6  # output, the loss, MatMul, w, two constants
    xs = {t.text: float(t.get("x")) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert xs["w"] < xs["MatMul"] < xs["BinaryCrossEntropyWithLogits"] < xs["output"]
    assert ElementTree.fromstring(to_svg(minigan.zeros(2))) is not None  # a constant alone


def test_nodes_and_edges_walks_once_for_both_drawings():
    """One walk: every op and leaf once, one constant node per constant input, one edge per
    input plus the output's, each carrying the shape of its value; both drawings show
    exactly these nodes and edges."""
    from minigan.graph import nodes_and_edges

    x, w, y = expression()
    nodes, edges = nodes_and_edges(y, names={"x": x, "w": w})
    assert nodes[0] == ("out", "output", y.shape, False)
    assert sorted(label for kind, label, *_ in nodes if kind in ("op", "leaf")) == \
        sorted(["Mean", "Add", "Mul", "Tanh", "MatMul", "Sum", "x", "w"])
    assert [kind for kind, *_ in nodes].count("constant") == 1
    assert len(edges) == 10 and edges[0] == (1, 0, "")
    assert sum(shape == (3, 4) for _, _, shape in edges) == 2  # x into MatMul and Sum
    assert all(0 <= src < len(nodes) and 0 <= dst < len(nodes) for src, dst, _ in edges)
    dot = to_dot(y, names={"x": x, "w": w})
    assert dot.count("->") == len(edges)
    svg = to_svg(y, names={"x": x, "w": w})
    assert svg.count("<rect") == len(nodes) and svg.count("<line") == len(edges)
    assert nodes_and_edges(minigan.zeros(2)) == ([("constant", "constant", (2,), False)], [])
