"""Every error code that src/logitlab can raise, found by reading its source (AST), for tests/test_error_codes.py.

A code is found where it is written: a ``code="..."`` keyword (either branch of ``a if c else b``), a
``default_code = "..."`` class attribute, or the first argument of a doctor ``Cause(...)`` (raised as a
``TargetError`` by ``Cause.error()``). A code built from a name (``code=f"bad-{name}"``, ``code=code``) is
followed to the literal names the function is called with, or the literal tuple a ``for`` loop feeds it.
"""

from __future__ import annotations

import ast
import pathlib
from collections import defaultdict
from dataclasses import dataclass, field

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "logitlab"


def _strings(node: ast.AST) -> list[str]:
    """The strings an expression can be: a constant, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


@dataclass
class _File:
    where: str
    tree: ast.Module
    parent: dict[ast.AST, ast.AST] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node

    def enclosing(self, node: ast.AST, kind: type | tuple[type, ...]):
        while node in self.parent:
            node = self.parent[node]
            if isinstance(node, kind):
                yield node

    def loop_values(self, node: ast.AST, name: str) -> list[str] | None:
        """The literal names ``name`` takes in the ``for`` loop around ``node`` that binds it, else None."""
        for loop in self.enclosing(node, ast.For):
            targets = loop.target.elts if isinstance(loop.target, ast.Tuple) else [loop.target]
            if isinstance(targets[0], ast.Name) and targets[0].id == name:
                items = loop.iter
                if isinstance(items, ast.Name):  # ``for name in positive_ints`` over a tuple assigned above
                    func = next(self.enclosing(loop, (ast.FunctionDef, ast.AsyncFunctionDef)), self.tree)
                    items = next(
                        (
                            a.value
                            for a in ast.walk(func)
                            if isinstance(a, ast.Assign)
                            and any(isinstance(t, ast.Name) and t.id == items.id for t in a.targets)
                        ),
                        items,
                    )
                if not isinstance(items, (ast.Tuple, ast.List)):
                    return []
                heads = [e.elts[0] if isinstance(e, (ast.Tuple, ast.List)) else e for e in items.elts]
                return [s for h in heads for s in _strings(h)]
        return None


def _called(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")


def _argument(call: ast.Call, func: ast.FunctionDef, param: str) -> ast.AST | None:
    names = [a.arg for a in func.args.args]
    index = names.index(param) - (
        1 if names[0] in ("self", "cls") and isinstance(call.func, ast.Attribute) else 0
    )
    kw = next((k.value for k in call.keywords if k.arg == param), None)
    return kw if kw is not None else (call.args[index] if index < len(call.args) else None)


def collect() -> tuple[dict[str, list[str]], list[str]]:
    """``({code: ["file.py:line", ...]}, [sites of built codes that could not be followed])``."""
    files = [
        _File(str(p.relative_to(SRC)), ast.parse(p.read_text(encoding="utf-8")))
        for p in sorted(SRC.rglob("*.py"))
    ]
    codes: dict[str, list[str]] = defaultdict(list)
    built: list[tuple[_File, ast.AST, ast.AST]] = []  # (file, the code expression, its call)
    calls = [(f, n) for f in files for n in ast.walk(f.tree) if isinstance(n, ast.Call)]
    for f, node in calls:
        if _called(node) == "Cause" and node.args:
            for s in _strings(node.args[0]):
                codes[s].append(f"{f.where}:{node.lineno}")
        for kw in node.keywords:
            if kw.arg == "code":
                found = _strings(kw.value)
                for s in found:
                    codes[s].append(f"{f.where}:{node.lineno}")
                if not found:
                    built.append((f, kw.value, node))
    for f in files:
        for node in ast.walk(f.tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "default_code" for t in node.targets
            ):
                for s in _strings(node.value):
                    codes[s].append(f"{f.where}:{node.lineno}")
    unresolved = []
    for f, value, call in built:
        where = f"{f.where}:{call.lineno}"
        if f.where == "errors.py" or (isinstance(value, ast.Attribute) and value.attr == "code"):
            continue  # passed through: the pickling helper, Cause.error() (its codes are read at Cause(...))
        if isinstance(value, ast.Name):
            name, prefix, suffix = value.id, "", ""
        elif (
            isinstance(value, ast.JoinedStr)
            and sum(isinstance(p, ast.FormattedValue) for p in value.values) == 1
        ):
            i = next(i for i, p in enumerate(value.values) if isinstance(p, ast.FormattedValue))
            inner = value.values[i].value
            name = inner.id if isinstance(inner, ast.Name) else ""
            prefix = "".join(p.value for p in value.values[:i] if isinstance(p, ast.Constant))
            suffix = "".join(p.value for p in value.values[i + 1 :] if isinstance(p, ast.Constant))
        else:
            unresolved.append(where)
            continue
        values = f.loop_values(call, name)
        if values is None:  # a parameter: follow the function's callers (a private one: in its own file)
            func = next(f.enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)), None)
            values = []
            if func is None or name not in [a.arg for a in func.args.args]:
                unresolved.append(where)
                continue
            for g, site in calls:
                if _called(site) != func.name or (func.name.startswith("_") and g is not f):
                    continue
                arg = _argument(site, func, name)
                if arg is None:
                    continue
                found = _strings(arg)
                if not found and isinstance(arg, ast.Name):
                    found = g.loop_values(site, arg.id) or []
                if not found:
                    unresolved.append(f"{g.where}:{site.lineno}")
                values += found
        if not values:
            unresolved.append(where)
        for v in values:
            codes[f"{prefix}{v}{suffix}"].append(where)
    return dict(codes), unresolved
