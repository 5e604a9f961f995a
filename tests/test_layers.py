"""The package's rooms and layers: every import goes down, none goes round (docs/design.md).

Every import of a fencecheck module counts: at the top of a file, inside a
function, and under ``TYPE_CHECKING``. A module may import from its own layer or
a lower one, never a higher one; the whole graph has no cycle; no module imports
another module's private (underscored) name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "fencecheck"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("compiled kernels", ("_compiled",)),
    (
        "foundations",
        (
            "_version",
            "errors",
            "options",
            "optional",
            "values",
            "times",
            "datums",
            "policy",
            "rejected",
            "tables",
            "frame",
            "probability",
            "geojson",
            "samples",
            "privacy",
        ),
    ),
    ("data model", ("pings", "fences", "region", "itinerary")),
    ("readers and writers", ("io",)),
    ("matching", ("shapes", "hits", "inputs", "matching", "index")),
    ("judging", ("judging",)),
    ("interface", ("__init__", "__main__", "cli", "dask")),
)
"""Bottom to top: each layer's modules (a name is a module or a whole sub-package)."""


def module_name(path: Path) -> str:
    """``fencecheck.io.pings`` for ``src/fencecheck/io/pings.py`` (packages by their name)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 2:
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The layer a fencecheck module belongs to (its first name below ``fencecheck``)."""
    parts = module.split(".")
    head = parts[1] if len(parts) > 1 else "__init__"
    for rank, (_, members) in enumerate(LAYERS):
        if head in members:
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and to docs/design.md")


def imports_of(source: str, module: str, known: set[str]) -> Iterator[tuple[str, int, list[str]]]:
    """Every fencecheck module ``source`` imports, anywhere in it: (module, line, names)."""
    is_package = module.endswith(".__init__") or any(k.startswith(module + ".") for k in known)
    package = module.removesuffix(".__init__") if is_package else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "fencecheck":
                    yield alias.name, node.lineno, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "fencecheck":
                continue
            names = [alias.name for alias in node.names]
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
            yield from ((sub, node.lineno, []) for sub in submodules)
            others = [n for n in names if f"{target}.{n}" not in known]
            if others or not submodules:
                yield target, node.lineno, others


def problems(sources: dict[str, str]) -> list[str]:
    """What breaks the rules in a package given as ``{module name: source}``."""
    known = set(sources)
    found: list[str] = []
    edges: dict[str, set[str]] = {name: set() for name in sources}
    for name, source in sources.items():
        for target, line, names in imports_of(source, name, known):
            if target not in known:
                found.append(f"{name}:{line} imports {target}, which is not a module here")
                continue
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            if private:
                found.append(f"{name}:{line} imports the private name {private[0]} of {target}")
            if layer_of(target) > layer_of(name):
                found.append(
                    f"{name}:{line} imports {target}: up from {LAYERS[layer_of(name)][0]} "
                    f"to {LAYERS[layer_of(target)][0]}"
                )
            if name.startswith("fencecheck._compiled") and not target.startswith(
                "fencecheck._compiled"
            ):
                found.append(f"{name}:{line} imports {target}: the kernels import nothing above")
            if target != name:
                edges[name].add(target)
    found.extend(f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(edges))
    return found


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected knot of the graph (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return cycles


def package_sources() -> dict[str, str]:
    return {module_name(path): path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")}


def test_every_import_goes_down_and_none_goes_round() -> None:
    assert problems(package_sources()) == []


def test_every_module_is_in_a_layer() -> None:
    for name in package_sources():
        layer_of(name)


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (
            {
                "fencecheck.errors": "",
                "fencecheck.pings": "",
                "fencecheck.times": "def f():\n    from fencecheck.pings import PingTable\n",
            },
            "fencecheck.times:2 imports fencecheck.pings: up from foundations to data model",
        ),
        (
            {
                "fencecheck.errors": "",
                "fencecheck.times": (
                    "from typing import TYPE_CHECKING\n"
                    "if TYPE_CHECKING:\n"
                    "    from fencecheck.judging.scan import Scan\n"
                ),
                "fencecheck.judging.scan": "",
            },
            "fencecheck.times:3 imports fencecheck.judging.scan: up from foundations to judging",
        ),
        (
            {
                "fencecheck.errors": "import fencecheck.times\n",
                "fencecheck.times": ("from fencecheck import errors\n"),
            },
            "import cycle: fencecheck.errors -> fencecheck.times -> fencecheck.errors",
        ),
        (
            {"fencecheck.times": "", "fencecheck.pings": "from fencecheck.times import _local\n"},
            "fencecheck.pings:1 imports the private name _local of fencecheck.times",
        ),
        (
            {
                "fencecheck._compiled.match": "from fencecheck.errors import OptionError\n",
                "fencecheck.errors": "",
            },
            "fencecheck._compiled.match:1 imports fencecheck.errors: the kernels import nothing "
            "above",
        ),
    ],
)
def test_the_check_finds_what_breaks_the_rules(sources: dict[str, str], expected: str) -> None:
    assert expected in problems(sources)


def test_relative_imports_are_resolved() -> None:
    sources = {
        "fencecheck.__init__": "from .io import read_pings\n",
        "fencecheck.io": "from .pings import read_pings\n",
        "fencecheck.io.pings": "from ..judging import explain\n",
        "fencecheck.judging": "",
    }
    assert problems(sources) == [
        "fencecheck.io.pings:1 imports fencecheck.judging: up from readers and writers to judging"
    ]
