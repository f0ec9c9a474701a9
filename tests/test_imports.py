"""The package's imports go one way: no cycle among ``asr`` modules, counting imports inside
functions too (a deferred import hides a cycle, it does not remove it)."""

import ast
import importlib.util

from conftest import ROOT

PACKAGE = ROOT / "asr"


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name):
    relative = name.split(".")[1:]
    base = PACKAGE.joinpath(*relative) if relative else PACKAGE
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path):
    """The ``asr`` modules that ``path`` imports anywhere in its body."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # "from asr import files" imports the module asr.files
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if is_module(submodule) else node.module)
    return {name for name in names if name.split(".")[0] == "asr" and is_module(name)}


def import_graph():
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        graph[name] = imports_of(path) - {name}
    return graph


def find_cycle(graph):
    """One cycle as a list of modules, or None (depth-first search with colours)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_graph_sees_function_level_imports():
    graph = import_graph()
    assert "asr.lm" in graph["asr.decoding"]  # imported inside make_decoder only
    assert all(importlib.util.find_spec(name) for name in graph)


def test_finder_detects_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_speech_core_does_not_import_the_sequence_tasks():
    graph = import_graph()
    for name, imported in graph.items():
        if not name.startswith("asr.sequence"):
            assert not {m for m in imported if m.startswith("asr.sequence")}, name
