"""The architecture as a rule: every import in minigan/ goes down the layers, never up, and
no import cycle exists outside the engine.

    engine      the Tensor, autograd, ops, nn, optim, the collectives (minigan.distributed)
    methods     the GAN losses, penalties, hooks, conditioning schemes
    models      the generators and discriminators (they read methods' conditioning names)
    store       checkpoints, the run folder, atomic writes, pictures
    data        the datasets (their downloads are written atomically by store)
    parallel    a training step over N processes
    evaluation  metrics, the digit classifier, samples of a trained G, theory
    training    config, setup, updater, trainer, extensions, triggers
    cli         the command line
The package's __init__.py and __main__.py are the doors to the house and may import any room;
only the top room (the cli, for minigan.__version__) may import the door.
Lazy imports (inside functions) count: they are dependencies all the same.
"""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "minigan"
LAYERS = ["engine", "methods", "models", "store", "data", "parallel", "evaluation", "training",
          "cli"]
ROOMS = {  # a module's folder (or its own name) -> its layer; everything else is the engine
    "methods": "methods", "models": "models", "store": "store", "data": "data",
    "parallel": "parallel", "evaluation": "evaluation", "training": "training", "cli": "cli",
}
DOORS = {"minigan", "minigan.__main__"}


def module_names():
    """{dotted name: path} of every module of the package."""
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imports_of(name, path, modules):
    """The minigan modules that module `name` imports (at any depth of its code)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return {m for m in found if m in modules and m != name}


def import_graph():
    modules = module_names()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def layer_of(name):
    parts = name.split(".")
    room = parts[1] if len(parts) > 1 else None
    return ROOMS.get(room, "engine")


def upward_imports(graph):
    """(importer, imported) pairs that go from a lower layer to a higher one."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    top = rank[LAYERS[-1]]
    return sorted((a, b) for a, targets in graph.items() if a not in DOORS
                  for b in targets if (b in DOORS and rank[layer_of(a)] < top)
                  or (b not in DOORS and rank[layer_of(b)] > rank[layer_of(a)]))


def cycles(graph):
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_a_higher_layer():
    assert upward_imports(import_graph()) == []


def test_no_import_cycle_outside_the_engine():
    app_cycles = [c for c in cycles(import_graph())
                  if any(layer_of(m) != "engine" for m in c)]
    assert app_cycles == []


def test_the_engine_imports_nothing_of_the_application():
    graph = import_graph()
    assert sorted((a, b) for a, targets in graph.items() if layer_of(a) == "engine"
                  and a not in DOORS for b in targets if layer_of(b) != "engine") == []


def test_the_rules_catch_a_planted_violation():
    """The checks above would fail on the kinds of import they forbid."""
    graph = import_graph()
    graph["minigan.tensor"] = graph["minigan.tensor"] | {"minigan.training.updater"}
    graph["minigan.store.checkpoint"] = graph["minigan.store.checkpoint"] | {"minigan"}
    assert ("minigan.tensor", "minigan.training.updater") in upward_imports(graph)
    assert ("minigan.store.checkpoint", "minigan") in upward_imports(graph)
    graph["minigan.evaluation.metrics"] = {"minigan.evaluation.classifier"}
    graph["minigan.evaluation.classifier"] = {"minigan.evaluation.metrics"}
    assert ["minigan.evaluation.classifier", "minigan.evaluation.metrics"] in cycles(graph)


def test_the_graph_sees_relative_lazy_and_submodule_imports():
    graph = import_graph()
    assert "minigan.tensor" in graph["minigan.creation"]  # from .tensor import ...
    assert "minigan.nn.functional" in graph["minigan.training.extensions.log_metrics"]  # F
    assert "minigan.evaluation.metrics" in graph["minigan.cli.main"]  # inside run_eval


@pytest.mark.parametrize("room", sorted(set(ROOMS.values())))
def test_every_room_is_a_folder_with_a_docstring(room):
    init = PACKAGE / room / "__init__.py"
    assert init.exists() and ast.get_docstring(ast.parse(init.read_text()))


def test_the_package_keeps_at_most_a_dozen_loose_modules():
    """Besides __init__.py: what stands loose in minigan/ is the engine's own files."""
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= 12, loose
