"""Which way imports point: the kernel at the bottom, the four domain apps stacked above it.

    ouc_portal (the kernel) <- schools <- enrolment <- creditbank <- certificates

A module may import its own layer and the layers below it, never one above: the kernel imports no
domain app, ``schools`` nothing of ``enrolment``, and so on (docs/architecture.md, "Which way
dependencies point"). The modules that compose the apps sit on top and may import anything:
``TOP`` lists them.

Every ``.py`` file of the five packages is parsed with ``ast`` (nothing is imported, so Django
need not be set up); every ``import`` and ``from … import`` counts, at module level or inside a
function, relative ones resolved, and so does ``importlib.import_module("…")`` with a literal
name. ``python tools/check_layers.py`` prints each wrong-way import as ``file:line`` and exits 1
if there is any; ``make lint`` and ``tests/test_layers.py`` run it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Bottom first: a package may import those at its own rank or below.
LAYERS = ("ouc_portal", "schools", "enrolment", "creditbank", "certificates")
RANK = {name: rank for rank, name in enumerate(LAYERS)}

# The composing top: URL roots and settings put every app together, so they may import any.
TOP = frozenset(
    {
        "ouc_portal/urls.py",
        "ouc_portal/api_urls.py",
        "ouc_portal/settings.py",
    }
)

# Wrong-way imports tolerated while they are being moved, as "file -> app" (empty: none is left).
# An entry nothing matches any more fails the check too, so the list can only shrink.
ALLOWED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    imported: str

    @property
    def target(self) -> str:
        return self.imported.split(".", 1)[0]

    @property
    def key(self) -> str:
        return f"{self.path} -> {self.target}"

    def __str__(self) -> str:
        source = self.path.split("/", 1)[0]
        where = "the kernel" if source == LAYERS[0] else source
        return (
            f"{self.path}:{self.line}: {where} imports {self.imported} ({self.target} is above it)"
        )


def _module_name(path: Path) -> tuple[str, bool]:
    """The dotted name of the module at ``path`` (relative to the root), and whether it is a
    package's ``__init__``."""
    parts = list(path.with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """Every module name ``tree`` imports, with its line (``from a import b, c`` yields ``a``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, _resolve(node, module, is_package)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (
                    isinstance(node.func, ast.Name)
                    and node.func.id in {"import_module", "__import__"}
                )
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            yield node.lineno, node.args[0].value


def _files(root: Path) -> Iterator[Path]:
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            yield path.relative_to(root)


def violations(root: Path) -> list[Violation]:
    """Every import under ``root`` that points up a layer, in file order."""
    found = []
    for path in _files(root):
        name = path.as_posix()
        if name in TOP:
            continue
        source = RANK[path.parts[0]]
        module, is_package = _module_name(path)
        tree = ast.parse((root / path).read_text(encoding="utf-8"), filename=name)
        for line, imported in imports(tree, module, is_package):
            target = RANK.get(imported.split(".", 1)[0])
            if target is not None and target > source:
                found.append(Violation(name, line, imported))
    return found


def check(root: Path, allowed: Iterable[str] = ALLOWED) -> tuple[list[Violation], list[str]]:
    """The wrong-way imports not on the allow-list, and the allow-list entries nothing matches
    any more (they must be deleted, so the list only shrinks)."""
    allowed = set(allowed)
    found = violations(root)
    new = [v for v in found if v.key not in allowed]
    stale = sorted(allowed - {v.key for v in found})
    return new, stale


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    new, stale = check(root)
    for violation in new:
        print(violation)
    for entry in stale:
        print(f"tools/check_layers.py: allow-list entry no longer needed, delete it: {entry}")
    if new or stale:
        return 1
    waiting = f", except {len(ALLOWED)} allowed while they move" if ALLOWED else ""
    print(f"layers: imports point downward ({' <- '.join(LAYERS)}){waiting}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
