"""The layout's rules, checked on the source with ``ast`` (nothing is imported or run).

* no import cycle between the project's modules (imports inside functions count, imports under
  ``if TYPE_CHECKING:`` do not: they never run);
* the runtime packages never import the developer tooling (``tracesync.devtools``); the CLI
  (``tracesync.cli``, ``tracesync.commands``) may, but only inside a command function, so that
  loading the CLI never loads the tooling;
* the shared core (``tracesync`` without the tooling and the CLI) imports none of the edges
  (``producers``, ``streams``, ``sinks``), and the edges never import each other; the SRE
  operations (``ops``) and the query API (``serve``) may import the edges, and only the CLI
  imports them;
* the stream domain (``streams.domain``) imports nothing but the standard library and itself;
* no non-test module is over 400 lines, no function over 60 lines.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tracesync", "producers", "streams", "sinks", "ops", "serve")
EDGES = ("producers", "streams", "sinks")
TOOLING = "tracesync.devtools"
CLI_LAYER = ("tracesync.cli", "tracesync.commands")
ROOF = ("ops", "serve")
"""SRE operations and the query API/console: like the CLI, they may use the edges; only the CLI
uses them."""
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# TEMPORARY (issue 10): modules that other helpers are splitting right now, on their branches.
# The lead shrinks these lists after merging them; nothing may be added, and only modules of
# producers/, streams/ and sinks/store/ may be here. An entry that no longer breaks the rule fails
# test_the_allowlists_hold_only_current_offenders, so the lists only ever shrink.
MODULES_BEING_SPLIT = {}
"""Module -> its line count when it was listed."""
FUNCTIONS_BEING_SPLIT = {
    # a released migration; whether to split its upgrade() is the store's owners' call
    "sinks/store/migrations/versions/r0001_initial.py::upgrade": 113,
}
"""``path::function`` -> its line count when it was listed."""
ALLOWLIST_PREFIXES = ("producers/", "streams/", "sinks/store/")


@dataclass(frozen=True)
class Import:
    """One import statement's target inside a module."""

    target: str
    """A project module when the import names one, else the imported top-level name."""
    line: int
    in_function: bool
    type_checking_only: bool


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module

    @property
    def relative(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


@cache
def project_modules() -> dict[str, Module]:
    """Every module of the four packages, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(parts)
            found[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8")))
    return found


def _known(name: str) -> str:
    """The longest prefix of ``name`` that is a project module, else its top-level name."""
    modules = project_modules()
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return parts[0]


def _from_targets(module: Module, node: ast.ImportFrom) -> list[str]:
    if node.level:
        package = module.name.split(".")
        if not module.is_package:
            package.pop()
        kept = package[: len(package) - node.level + 1]
        base = ".".join([*kept, node.module or ""]).strip(".")
    else:
        base = node.module or ""
    targets = []
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        targets.append(submodule if submodule in project_modules() else _known(base))
    return targets


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, module: Module) -> None:
        self.module = module
        self.imports: list[Import] = []
        self._functions = 0
        self._type_checking = 0

    def _add(self, targets: list[str], line: int) -> None:
        for target in targets:
            self.imports.append(Import(target, line, self._functions > 0, self._type_checking > 0))

    def visit_Import(self, node: ast.Import) -> None:
        self._add([_known(alias.name) for alias in node.names], node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._add(_from_targets(self.module, node), node.lineno)

    def _in_function(self, node: ast.AST) -> None:
        self._functions += 1
        self.generic_visit(node)
        self._functions -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._in_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._in_function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._in_function(node)

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        guarded = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        if not guarded:
            self.generic_visit(node)
            return
        self._type_checking += 1
        for child in node.body:
            self.visit(child)
        self._type_checking -= 1
        for child in node.orelse:
            self.visit(child)


@cache
def imports_of(name: str) -> tuple[Import, ...]:
    collector = _ImportCollector(project_modules()[name])
    collector.visit(collector.module.tree)
    return tuple(collector.imports)


def _within(name: str, *roots: str) -> bool:
    return any(name == root or name.startswith(f"{root}.") for root in roots)


def _violations(rule: str, found: Iterable[str]) -> str:
    return f"{rule}:\n  " + "\n  ".join(found)


# -- imports ------------------------------------------------------------------------------------


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports when it runs (TYPE_CHECKING blocks left out)."""
    modules = project_modules()
    return {
        name: {
            i.target for i in imports_of(name) if i.target in modules and not i.type_checking_only
        }
        for name in modules
    }


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that reach each other through imports (a module may be alone)."""
    reach = {node: _reachable(graph, node) for node in graph}
    found: list[list[str]] = []
    grouped: set[str] = set()
    for node in sorted(graph):
        if node in reach[node] and node not in grouped:
            group = sorted(other for other in reach[node] if node in reach[other])
            grouped.update(group)
            found.append(group)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}

    assert cycles(graph) == [["a", "b", "c"], ["e"]]


def test_no_import_cycle_between_modules() -> None:
    found = cycles(import_graph())

    assert not found, _violations("import cycles", [" -> ".join(c) for c in found])


def _imports_where(
    module_filter: Callable[[str], bool], target_filter: Callable[[str, Import], bool]
) -> Iterator[str]:
    for name, module in project_modules().items():
        if not module_filter(name):
            continue
        for imp in imports_of(name):
            if target_filter(name, imp):
                yield f"{module.relative}:{imp.line} imports {imp.target}"


def test_runtime_packages_never_import_the_tooling() -> None:
    def runtime(name: str) -> bool:
        return not _within(name, TOOLING, *CLI_LAYER)

    found = list(_imports_where(runtime, lambda _name, imp: _within(imp.target, TOOLING)))

    assert not found, _violations("runtime modules importing tracesync.devtools", found)


def test_the_cli_imports_the_tooling_only_inside_commands() -> None:
    def cli(name: str) -> bool:
        return _within(name, *CLI_LAYER)

    def eager_tooling(_name: str, imp: Import) -> bool:
        runs = not imp.type_checking_only
        return runs and not imp.in_function and _within(imp.target, TOOLING)

    found = list(_imports_where(cli, eager_tooling))

    assert not found, _violations("CLI modules importing tracesync.devtools at load time", found)


def test_the_core_imports_no_edge_and_the_edges_not_each_other() -> None:
    def edge_of(name: str) -> str | None:
        return next((edge for edge in EDGES if _within(name, edge)), None)

    def crosses(name: str, imp: Import) -> bool:
        target_edge = edge_of(imp.target)
        if imp.type_checking_only:
            return False
        if _within(imp.target, *ROOF):
            return not _within(name, *CLI_LAYER, *ROOF)
        if target_edge is None or _within(name, *ROOF):
            return False
        if _within(name, "tracesync"):
            return not _within(name, TOOLING, *CLI_LAYER)
        return edge_of(name) != target_edge

    found = list(_imports_where(lambda _name: True, crosses))

    assert not found, _violations("imports across the layers", found)


def test_the_stream_domain_is_pure() -> None:
    allowed = set(sys.stdlib_module_names) | {"__future__"}

    def impure(_name: str, imp: Import) -> bool:
        return not (_within(imp.target, "streams.domain") or imp.target in allowed)

    found = list(_imports_where(lambda name: _within(name, "streams.domain"), impure))

    assert not found, _violations("streams.domain importing beyond the standard library", found)


# -- sizes --------------------------------------------------------------------------------------


def module_lengths() -> dict[str, int]:
    return {
        m.relative: len(m.path.read_text(encoding="utf-8").splitlines())
        for m in project_modules().values()
    }


def function_lengths() -> dict[str, int]:
    lengths = {}
    for module in project_modules().values():
        for node in ast.walk(module.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                end = node.end_lineno or node.lineno
                key = f"{module.relative}::{node.name}"
                lengths[key] = max(lengths.get(key, 0), end - node.lineno + 1)
    return lengths


def test_no_module_over_400_lines() -> None:
    found = [
        f"{path}: {lines} lines"
        for path, lines in sorted(module_lengths().items())
        if lines > MAX_MODULE_LINES and path not in MODULES_BEING_SPLIT
    ]

    assert not found, _violations(f"modules over {MAX_MODULE_LINES} lines", found)


def test_no_function_over_60_lines() -> None:
    found = [
        f"{where}: {lines} lines"
        for where, lines in sorted(function_lengths().items())
        if lines > MAX_FUNCTION_LINES and where not in FUNCTIONS_BEING_SPLIT
    ]

    assert not found, _violations(f"functions over {MAX_FUNCTION_LINES} lines", found)


@pytest.mark.parametrize(
    ("allowlist", "lengths", "limit"),
    [
        (MODULES_BEING_SPLIT, module_lengths, MAX_MODULE_LINES),
        (FUNCTIONS_BEING_SPLIT, function_lengths, MAX_FUNCTION_LINES),
    ],
    ids=["modules", "functions"],
)
def test_the_allowlists_hold_only_current_offenders(
    allowlist: dict[str, int], lengths: Callable[[], dict[str, int]], limit: int
) -> None:
    current = lengths()
    outside = [entry for entry in allowlist if not entry.startswith(ALLOWLIST_PREFIXES)]
    fixed = [entry for entry in allowlist if current.get(entry, 0) <= limit]

    assert not outside, _violations(
        "allowlisted outside producers/, streams/, sinks/store/", outside
    )
    assert not fixed, _violations("no longer over the limit: remove from the allowlist", fixed)
