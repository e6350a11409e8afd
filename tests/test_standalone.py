"""A clone of this repository stands on its own: no tracked file names a path outside it.

Test data, docs and data files once pointed at a folder beside the repository (the standards, the
seed documents, design notes) or at the absolute path of a developer's machine. A clone has
neither, so such a reference is either a broken test or a broken link. Everything the tests and
docs need is kept inside the repository; this test keeps it that way.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Built from pieces so that this file does not match its own patterns.
SIBLING = "shared"
OUTSIDE = re.compile(
    "|".join(
        [
            r"\.\./" + SIBLING + r"\b",  # the folder beside the repository
            r"\b" + SIBLING + r"/(?:seeds|standards|hooks|DESIGN\.md|STYLE\.md)\b",
            r"(?<![\w.~-])/" + "work" + r"/",  # an absolute path on a developer's machine
        ]
    )
)
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", "staticfiles", "media"}


def tracked_files() -> list[Path]:
    """The files git tracks; outside a git checkout, every file under the root but build output."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return [
            path
            for path in ROOT.rglob("*")
            if path.is_file() and not SKIP_DIRS & set(path.relative_to(ROOT).parts)
        ]
    return [ROOT / name for name in listed.decode().split("\0") if name]


def references_outside(text: str) -> list[str]:
    return [match.group(0) for match in OUTSIDE.finditer(text)]


def test_the_patterns_catch_what_they_are_for():
    for text in [
        "see ../" + SIBLING + "/DESIGN.md",
        "Path(...).parent / '" + SIBLING + "' and then " + SIBLING + "/standards/x.json",
        "documents in " + SIBLING + "/seeds",
        "/" + "work/" + SIBLING + "/seeds/000.txt",
        "cd /" + "work/main",
    ]:
        assert references_outside(text), text
    for text in ["a shared cache", "@shared_task", "https://example.org/work/item", "homework/x"]:
        assert not references_outside(text), text


def test_no_tracked_file_names_a_path_outside_the_repository():
    files = tracked_files()
    assert len(files) > 100, "could not list the repository's files"
    found = []
    for path in files:
        if not path.is_file():  # deleted in the work tree but not yet in git
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for number, line in enumerate(text.splitlines(), 1):
            for reference in references_outside(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {reference}")
    assert found == [], "\n".join(found)
