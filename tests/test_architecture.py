"""The package's shape, as ``docs/architecture.md`` documents it: layers, no import cycles, private stays private.

The graph is built with :mod:`ast` from every ``import`` in every module (module-level and inside
functions alike: a lazy import still makes a dependency). ``if TYPE_CHECKING:`` imports never run,
but a type-only circle still ties two modules together (neither can be read, typed or moved alone):
:func:`test_no_import_cycles_even_through_type_only_imports` counts them too. Like import-linter, ``from .pkg import name`` is an edge to ``pkg.name`` when that is a
module and to ``pkg`` (its ``__init__``) otherwise. A private name is one starting with ``_`` (not
dunder); taking one from a module is allowed only inside the same package (``losses/focal.py`` may use
``losses/_fused.py``), never across packages, and at most 2 are taken across modules in all. A private
module (``evaluate/_inputs``) is imported only from inside its package. The layers are read from the
table of ``docs/architecture.md`` (its second column): a module never imports one of a higher layer, and
every top-level module is in exactly one layer. At most 2 modules are longer than 400 lines.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "logitlab"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, *, type_checking: bool = False) -> list[ast.Import | ast.ImportFrom]:
    """Every import in ``tree``; those under ``if TYPE_CHECKING:`` only with ``type_checking=True``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if not type_checking and isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    walk(other)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            walk(child)

    walk(tree)
    return found


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _graph(*, type_checking: bool = False) -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    private: list[str] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _imports(tree, type_checking=type_checking):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules:
                        edges[module].add(alias.name)
                continue
            target = _resolve(module, path, node)
            if target not in modules:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in modules:
                    edges[module].add(sub)
                    continue
                edges[module].add(target)
                name = alias.name
                if name.startswith("_") and not name.startswith("__"):
                    if _package(target, modules) != _package(module, modules):
                        private.append(f"{module} imports {name} from {target}")
        edges[module].discard(module)
    return edges, private


def _package(module: str, modules: dict[str, Path]) -> str:
    path = modules[module]
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    edges, _ = _graph()
    assert _cycles(edges) == []


def test_no_import_cycles_even_through_type_only_imports() -> None:
    edges, _ = _graph(type_checking=True)
    assert _cycles(edges) == []


def test_type_only_imports_are_seen() -> None:
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\nimport c\n")
    assert [n.lineno for n in _imports(tree)] == [1, 4]
    assert [n.lineno for n in _imports(tree, type_checking=True)] == [1, 3, 4]


def test_no_private_imports_across_packages() -> None:
    _, private = _graph()
    assert private == []


def test_checker_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# ---------------------------------------------------------------------------- layers, private modules, size
DOC = ROOT.parent / "docs" / "architecture.md"
MAX_LINES = 400


def _layers() -> list[tuple[str, set[str]]]:
    """The documented layers, lowest first: ``(layer, its top-level names)`` from the table's second column."""
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("## The layers, lowest first") :].split("\n## ", 1)[0]
    out = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("layer", "---"):
            continue
        out.append((cells[0], {name.rstrip("/") for name in re.findall(r"`([^`]+)`", cells[1])}))
    return out


def _top(module: str) -> str:
    """The top-level name a module belongs to: ``logitlab.data.bundle`` -> ``data``; the root -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer_of() -> dict[str, int]:
    return {name: i for i, (_, names) in enumerate(_layers()) for name in names}


def _upward(edges: dict[str, set[str]]) -> list[str]:
    layer = _layer_of()
    return sorted(
        f"{a} ({_layers()[layer[_top(a)]][0]}) imports {b} ({_layers()[layer[_top(b)]][0]})"
        for a, targets in edges.items()
        for b in targets
        if layer[_top(a)] < layer[_top(b)]
    )


def _private_owner(module: str) -> str | None:
    """The package a private module belongs to (``logitlab.evaluate._inputs`` -> ``logitlab.evaluate``)."""
    parts = module.split(".")
    for i, part in enumerate(parts[1:], start=1):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def test_every_top_level_module_has_one_documented_layer() -> None:
    layers = _layers()
    assert [name for name, _ in layers][:1] == ["foundation"] and len(layers) >= 10, "the table was not read"
    listed = [n for _, names in layers for n in names]
    assert len(listed) == len(set(listed)), "a module is listed in two layers"
    present = {_top(m) for m in _modules()}
    assert sorted(present - set(listed)) == [], f"add these to the table in {DOC.name}"
    assert sorted(set(listed) - present) == [], f"the table in {DOC.name} lists modules that do not exist"


def test_a_lower_layer_never_imports_a_higher_one() -> None:
    edges, _ = _graph()  # module-level and lazy imports: all that run
    assert _upward(edges) == []


def test_a_lower_layer_never_imports_a_higher_one_even_for_types() -> None:
    edges, _ = _graph(type_checking=True)
    edges = {a: b for a, b in edges.items() if a != PACKAGE}  # the root's re-exports for type checkers
    assert _upward(edges) == []


def test_no_private_module_of_another_package() -> None:
    edges, _ = _graph(type_checking=True)
    bad = sorted(
        f"{a} imports {b}"
        for a, targets in edges.items()
        for b in targets
        if (owner := _private_owner(b)) is not None and a != owner and not a.startswith(owner + ".")
    )
    assert bad == []


def test_at_most_two_private_names_taken_across_modules() -> None:
    modules = _modules()
    taken = []
    for module, path in modules.items():
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")), type_checking=True):
            if isinstance(node, ast.ImportFrom) and _resolve(module, path, node) in modules:
                target = _resolve(module, path, node)
                taken += [
                    f"{module} <- {target}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_")
                    and not a.name.startswith("__")
                    and f"{target}.{a.name}" not in modules
                ]
    assert len(taken) <= 2, taken


def test_at_most_two_modules_over_400_lines() -> None:
    long = sorted(
        f"{m} ({n})"
        for m, p in _modules().items()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    )
    assert len(long) <= 2, long


def test_layer_checker_finds_an_upward_import() -> None:
    assert _upward({"logitlab.errors": {"logitlab.cli.parser"}, "logitlab.cli": {"logitlab.errors"}}) == [
        "logitlab.errors (foundation) imports logitlab.cli.parser (cli)"
    ]
    assert _private_owner("logitlab.evaluate._inputs") == "logitlab.evaluate"
    assert _private_owner("logitlab.evaluate.metrics") is None
