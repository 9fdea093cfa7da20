"""The package's import structure, read from the source with ``ast`` (nothing is imported).

Two rules, counting every import — at module level, inside function bodies and inside
``if TYPE_CHECKING:`` blocks:

1. No import cycles between modules of ``shuzhi``. An import inside a function still makes a
   module depend on another at run time; a ``TYPE_CHECKING`` import runs only under the type
   checker but still says "this module depends on that one", and a cycle through it is the
   same knot in the design. A capability that must react to another's change subscribes to a
   hook event (``shuzhi.hooks``) instead of being called by it.
2. A module may import from another package only what that package's ``__init__.py`` lists
   in ``__all__`` (its public modules), and never a name starting with ``_``. The composition
   roots, which assemble everything, are exempt: see ``COMPOSITION_ROOTS``. The foundation
   (``shuzhi.context``, ``errors``, ``settings``, ``validation``, ``hooks`` and the storage
   package ``shuzhi.db``) is open to everyone.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "shuzhi"

# Modules that assemble the capabilities and may reach any module: the app (routers), the
# CLI (command groups), the model registry (every table), the demo builder (seeds tables),
# and the migration scripts (they keep what they used when they were written).
COMPOSITION_ROOTS = ("shuzhi.app", "shuzhi.cli", "shuzhi.models", "shuzhi.demo", "shuzhi.db")

# Packages whose modules everyone may import (storage foundation).
OPEN_PACKAGES = frozenset({"db"})


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the module imported (or the package, for a name taken from __init__)
    name: str | None  # the name taken from ``target`` when it is not itself a module
    line: int


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _imports(module: str) -> list[Import]:
    """Every import of a ``shuzhi`` module in ``module``, wherever it stands in the file."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if _is_package(module) else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    found.append(Import(module, _nearest(alias.name), None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in MODULES:
                    found.append(Import(module, full, None, node.lineno))
                else:
                    found.append(Import(module, _nearest(base), alias.name, node.lineno))
    return [i for i in found if i.target != module]


def _nearest(dotted: str) -> str:
    parts = dotted.split(".")
    while ".".join(parts) not in MODULES:
        parts.pop()
    return ".".join(parts)


def _graph() -> dict[str, set[str]]:
    return {m: {i.target for i in _imports(m)} for m in MODULES}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan),
    written as a path that returns to its start."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(graph, set(c)) for c in components]


def _cycle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest path from the component's first module back to itself."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & component):
            if w == start:
                return [*paths[v], start]
            if w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def _package_of(module: str) -> str | None:
    """The top-level package under ``shuzhi`` (None for ``shuzhi`` and its plain modules)."""
    parts = module.split(".")
    if len(parts) < 2 or not (SRC / PACKAGE / parts[1]).is_dir():
        return None
    return parts[1]


def _public(package: str) -> set[str] | None:
    """The names listed in ``__all__`` of ``package``'s ``__init__.py`` (None: none declared)."""
    tree = ast.parse(MODULES[package].read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return set(value)
    return None


def _bound(package: str) -> set[str]:
    """Names a package's ``__init__.py`` defines or imports: a module split into a package
    (``catalog.service``) lists in ``__all__`` the names it re-exports from its parts."""
    tree = ast.parse(MODULES[package].read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom | ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _surface_violation(imp: Import) -> str | None:
    home, there = _package_of(imp.importer), _package_of(imp.target)
    if there is None or there == home or there in OPEN_PACKAGES:
        return None
    if imp.importer.startswith(COMPOSITION_ROOTS):
        return None
    if imp.name is not None and imp.name.startswith("_"):
        return f"private name {imp.name} of {imp.target}"
    # Walk down from the package: each step must be public in the package above it.
    parts = imp.target.split(".")[2:] + ([imp.name] if imp.name else [])
    package = f"{PACKAGE}.{there}"
    for part in parts:
        public = _public(package) or set()
        if part not in public:
            return f"{package}.{part} is not in {package}.__all__ (public: {sorted(public)})"
        package = f"{package}.{part}"
        if package not in MODULES or not _is_package(package):
            break
    return None


def test_the_import_graph_is_read() -> None:
    graph = _graph()
    assert len(graph) > 150
    # Imports inside functions count (the CLI imports the demo builder lazily).
    assert "shuzhi.demo.district" in graph["shuzhi.cli"]
    lake_service = [m for m in graph if m.startswith("shuzhi.lake.service.")]
    assert any("shuzhi.catalog.service" in graph[m] for m in lake_service)


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e2"}, "e2": {"e"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "e2", "e"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_modules() -> None:
    cycles = find_cycles(_graph())
    assert not cycles, "import cycles (subscribe to a hook in shuzhi.hooks instead):\n" + "\n".join(
        " → ".join(cycle) for cycle in cycles
    )


def test_every_package_declares_its_public_surface() -> None:
    packages = sorted({_package_of(m) or "" for m in MODULES} - {""} - OPEN_PACKAGES)
    missing = [name for name in packages if _public(f"{PACKAGE}.{name}") is None]
    assert not missing, f"packages without __all__ in __init__.py: {missing}"
    for package in (m for m in MODULES if _is_package(m) and _package_of(m) not in OPEN_PACKAGES):
        for name in _public(package) or ():
            known = f"{package}.{name}" in MODULES or name in _bound(package)
            assert known, f"{package}.__all__ lists unknown {name}"


def test_other_packages_are_used_only_through_their_public_surface() -> None:
    violations = [
        f"{imp.importer} (line {imp.line}): {problem}"
        for module in sorted(MODULES)
        for imp in _imports(module)
        if (problem := _surface_violation(imp)) is not None
    ]
    assert not violations, "imports of another package's private modules:\n" + "\n".join(violations)
