"""The library's folders are its layers: no import cycle at run time, and lower layers never
reach up. Read from the source (every import statement, lazy ones inside functions included;
only `if TYPE_CHECKING:` blocks are left out, since they never run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "kernel_lib"


def _modules() -> dict[str, Path]:
    mods = {}
    for f in (LIB / "lakelab").rglob("*.py"):
        parts = list(f.relative_to(LIB).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = f
    return mods


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every module a file imports when its code runs (third-party ones too)."""
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if "TYPE_CHECKING" in ast.unparse(node.test):
                for stmt in node.orelse:
                    self.visit(stmt)
                return
            self.generic_visit(node)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.module and node.level == 0:  # `from pkg import module` needs the module, not pkg's names
                for a in node.names:
                    sub = f"{node.module}.{a.name}"
                    found.add(sub if sub in MODULES else node.module)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names)

    Visitor().visit(ast.parse(path.read_text()))
    return found


GRAPH = {m: {d for d in _imports(p) if d in MODULES and d != m} for m, p in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return out


def test_the_library_has_no_import_cycle():
    assert _cycles() == []


# a layer may import only from the layers listed for it (and from itself)
FOUNDATION = {"lakelab.errors", "lakelab.names", "lakelab.config"}
ALLOWED = {
    "lakelab.errors": set(),
    "lakelab.names": {"lakelab.errors"},
    "lakelab.config": {"lakelab.errors"},
    "lakelab.io": FOUNDATION,
    "lakelab.catalog": FOUNDATION | {"lakelab.io"},
}


def _layer(module: str) -> str:
    return ".".join(module.split(".")[:2])


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_lower_layers_never_import_upper_ones(layer):
    reaching_up = {
        (m, d)
        for m, deps in GRAPH.items()
        if _layer(m) == layer
        for d in deps
        if _layer(d) != layer and _layer(d) not in ALLOWED[layer]
    }
    assert reaching_up == set()


def test_the_library_never_imports_the_server_or_needs_ipython_outside_the_notebook_layer():
    server = {m for m, p in MODULES.items() if any(i.startswith("lakelab_server") for i in _imports(p))}
    assert server == set()
    ipython = {
        m
        for m, p in MODULES.items()
        if any(i.split(".")[0] in ("IPython", "ipywidgets") for i in _imports(p))
        and not m.startswith(("lakelab.notebook", "lakelab.io.progress"))
        and m != "lakelab"
    }
    assert ipython == set()


def test_no_module_is_much_over_500_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > 550}
    assert long == {}
