"""The import-direction check (tools/check_layers.py) passes on the repository, and catches a
wrong-way import wherever it hides."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "check_layers.py"

_spec = importlib.util.spec_from_file_location("check_layers", SCRIPT)
check_layers = importlib.util.module_from_spec(_spec)
sys.modules["check_layers"] = check_layers  # dataclasses look their module up by name
_spec.loader.exec_module(check_layers)


def test_the_repository_imports_only_downward():
    new, stale = check_layers.check(ROOT)
    assert [str(v) for v in new] == []
    assert stale == []


def test_the_script_passes_on_the_repository():
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for layer in check_layers.LAYERS:
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "__init__.py").write_text("")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "text", "line", "imported"),
    [
        (
            "ouc_portal/accounts/x.py",
            "import os\nfrom schools.models import Membership\n",
            2,
            "schools.models",
        ),
        (
            "ouc_portal/x.py",
            "def f():\n    from certificates import rendering\n",
            2,
            "certificates",
        ),
        ("ouc_portal/x.py", "import creditbank.services as cs\n", 1, "creditbank.services"),
        (
            "schools/management/commands/x.py",
            "from enrolment.services import learner_register\n",
            1,
            "enrolment.services",
        ),
        (
            "enrolment/x.py",
            "class A:\n    def m(self):\n        import certificates.models\n",
            3,
            "certificates.models",
        ),
        (
            "creditbank/x.py",
            "from importlib import import_module\nimport_module('certificates.links')\n",
            2,
            "certificates.links",
        ),
        (
            "ouc_portal/x.py",
            "try:\n    pass\nexcept ImportError:\n    from enrolment import models\n",
            4,
            "enrolment",
        ),
    ],
)
def test_a_planted_wrong_way_import_is_caught_with_its_file_and_line(
    tmp_path, name, text, line, imported
):
    root = _tree(tmp_path, {name: text})
    new, _ = check_layers.check(root, allowed=())
    assert [(v.path, v.line, v.imported) for v in new] == [(name, line, imported)]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert f"{name}:{line}:" in done.stdout


def test_downward_sideways_relative_and_top_imports_pass(tmp_path):
    root = _tree(
        tmp_path,
        {
            "certificates/x.py": "from creditbank import services\nfrom enrolment.models import Learner\nimport schools\nfrom ouc_portal.audit import services\n",
            "creditbank/y.py": "from . import models\nfrom .views import learner\nfrom creditbank.audit import x\n",
            "schools/z.py": "from ouc_portal.accounts.models import User\n",
            "ouc_portal/urls.py": "from certificates import urls\n",
            "ouc_portal/api_urls.py": "import certificates.api.urls\n",
        },
    )
    assert check_layers.check(root, allowed=()) == ([], [])


def test_a_relative_import_is_resolved_before_judging(tmp_path):
    # ``from .. import x`` inside ouc_portal/accounts/ is ouc_portal: fine. Nothing relative can
    # climb out of its package, so resolution only has to be right, which this pins.
    root = _tree(
        tmp_path, {"ouc_portal/accounts/x.py": "from .. import pagecache\nfrom . import models\n"}
    )
    assert check_layers.check(root, allowed=()) == ([], [])


def test_an_allow_list_entry_excuses_only_its_file_and_app_and_must_not_outlive_the_import(
    tmp_path,
):
    root = _tree(tmp_path, {"ouc_portal/x.py": "import schools.roles\nimport enrolment\n"})
    new, stale = check_layers.check(
        root, allowed={"ouc_portal/x.py -> schools", "ouc_portal/gone.py -> certificates"}
    )
    assert [v.key for v in new] == ["ouc_portal/x.py -> enrolment"]
    assert stale == ["ouc_portal/gone.py -> certificates"]
