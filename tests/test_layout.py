"""The layout's rules, checked on the source: one-way layers, no cycles, Beam only in Beam modules, small modules.

schemas/ (the vocabulary) imports nothing of ours; transforms/ (the stages) imports schemas/ only;
pipeline/ (the application) imports both. Every import counts, including those inside functions:
a lazy import hides an edge from the reader, not from the design.
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "transforms", "pipeline")
LAYER = {"schemas": 0, "transforms": 1, "pipeline": 2}
MAX_LINES = 400
# Old module paths kept only so that classes pickled into running Dataflow streams (SDF
# restrictions, state) still unpickle after an update; they re-export and hold no code.
COMPAT_ALIASES = {"transforms.poll_feeds"}


def _modules() -> dict:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, name: str) -> set:
    """Every module of ours (and apache_beam) that this file imports, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _graph() -> dict:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path, name):
            # "from transforms.fetch import client" names the module transforms.fetch.client.
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def test_layers_point_one_way():
    upward = [f"{a} -> {b}" for a, targets in _graph().items() for b in targets
              if LAYER[b.split(".")[0]] > LAYER[a.split(".")[0]]]
    assert upward == []


def test_there_are_no_import_cycles():
    graph = _graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    # A package's __init__ re-exporting its own modules is not a cycle of design.
    cycles = [c for c in cycles if not all(m.startswith(c[0] + ".") or m == c[0] for m in c)]
    assert cycles == []


def test_only_stage_and_beam_modules_import_apache_beam_in_transforms():
    offenders = []
    for name, path in _modules().items():
        if not name.startswith("transforms.") or name in COMPAT_ALIASES:
            continue
        leaf = name.rpartition(".")[2]
        allowed = leaf == "stage" or leaf.startswith("beam_") or ".beam_common" in name or name == "transforms"
        if not allowed and any(i == "apache_beam" or i.startswith("apache_beam.") for i in _imports(path, name)):
            offenders.append(name)
    assert offenders == []


def test_no_module_is_over_400_lines():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_architecture_md_names_every_module_in_its_folder():
    """ARCHITECTURE.md's package tables are the tree: a new or moved module must be named there."""
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    sections = {}
    for block in text.split("**`")[1:]:
        folder, _, rest = block.partition("/`**")
        sections[folder] = rest
    missing = []
    for name, path in _modules().items():
        folder = str(path.parent.relative_to(REPO))
        empty_init = path.name == "__init__.py" and not path.read_text(encoding="utf-8").strip().count("\n")
        if name in LAYER or empty_init:
            continue
        if f"`{path.name}`" not in sections.get(folder, ""):
            missing.append(str(path.relative_to(REPO)))
    assert missing == []
