"""The standards copies in tests/standards/ are exactly the files its README lists.

The README's table names each file with its source, licence and sha256. A file that changes, a
file added without a row, or a row whose file is gone fails here, so the record of where the test
data came from cannot drift from the data itself.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

STANDARDS = Path(__file__).resolve().parents[1] / "standards"
ROW = re.compile(
    r"^\| `(?P<file>[^`]+)` \| (?P<source>[^|]+) \| (?P<licence>[^|]+) \| `(?P<sha256>[0-9a-f]{64})` \|$"
)


def table() -> dict[str, dict[str, str]]:
    rows = {}
    for line in (STANDARDS / "README.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            assert match["file"] not in rows, f"{match['file']} is listed twice"
            rows[match["file"]] = {key: value.strip() for key, value in match.groupdict().items()}
    return rows


def test_the_readme_lists_every_copied_file_and_nothing_else():
    on_disk = {
        path.relative_to(STANDARDS).as_posix()
        for path in STANDARDS.rglob("*")
        if path.is_file() and path.name != "README.md"
    }
    listed = set(table())
    assert on_disk, "no standards copies found"
    assert sorted(on_disk - listed) == [], "copied but not in the README's table"
    assert sorted(listed - on_disk) == [], "in the README's table but not copied"


def test_every_copy_matches_the_sha256_in_the_readme():
    changed = [
        name
        for name, row in table().items()
        if hashlib.sha256((STANDARDS / name).read_bytes()).hexdigest() != row["sha256"]
    ]
    assert changed == []


def test_every_row_names_a_source_and_a_licence():
    for name, row in table().items():
        assert row["source"], name
        assert row["licence"] in {"W3C", "Apache-2.0", "1EdTech", "1EdTech, via MIT", "BSD-3-Clause"}, name
