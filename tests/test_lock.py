"""The locks (requirements.txt, requirements-dev.txt) match pyproject.toml's ranges.

`make run`, `make test` and the Dockerfile install from the locks, not from pyproject.toml, so a
dependency added to pyproject.toml without `make lock` would be missing at run time, and one whose
range moved would still install the old pin. Both are caught here, as is a dev lock that strays
from the runtime lock it is constrained by.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")


def pins(name: str) -> dict[str, str]:
    found = {}
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match["name"])] = match["version"]
            following = lines[index + 1] if index + 1 < len(lines) else ""
            assert line.rstrip().endswith("\\") and "--hash=sha256:" in following, (
                f"{name}: {match['name']} is pinned without a hash"
            )
    return found


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def unmet(requirements: list[str], locked: dict[str, str]) -> list[str]:
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name}: not in the lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}: locked {version}, wants {requirement.specifier}")
    return problems


def test_every_runtime_dependency_is_locked_within_its_range():
    assert unmet(project()["dependencies"], pins("requirements.txt")) == []


def test_every_dev_dependency_is_locked_within_its_range():
    dev = pins("requirements-dev.txt")
    wanted = project()["dependencies"] + project()["optional-dependencies"]["dev"]
    assert unmet(wanted, dev) == []


def test_the_dev_lock_keeps_every_runtime_pin():
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_every_dependency_has_an_upper_bound():
    for text in project()["dependencies"] + project()["optional-dependencies"]["dev"]:
        requirement = Requirement(text)
        assert any(spec.operator in {"<", "<=", "~=", "=="} for spec in requirement.specifier), text
