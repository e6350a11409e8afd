"""The cut-down Chinese faces the PDFs embed (certificates/pdf_fonts.py): built by hb-subset, used
first, the full Noto face still drawing any character they lack, and PDFs still right without
them."""

from __future__ import annotations

import logging
import shutil
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from fontTools.ttLib import TTFont

from certificates import pdf_fonts, rendering
from tests.certificates import test_rendering
from tests.certificates.test_rendering import embedded_fonts, flat, is_cjk_face, issue, text_of

pytestmark = pytest.mark.django_db

# The rendering tests' certificate type and agreement, as fixtures here too.
cert_type = test_rendering.cert_type
agreement = test_rendering.agreement


def cjk_faces(data: bytes) -> set[str]:
    """The embedded Chinese faces, by family: WeasyPrint names each after the family that drew it
    (``ABCDEF+OUC-Serif-SC`` the cut-down face, ``ABCDEF+Noto-Serif-CJK-SC`` the full one)."""
    return {name.split("+", 1)[-1] for name in embedded_fonts(data) if is_cjk_face(name)}


@pytest.fixture
def fresh_fonts(settings, tmp_path):
    """An empty font folder, and every cached stylesheet and @font-face rule forgotten."""
    settings.PDF_FONT_DIR = tmp_path / "fonts"
    pdf_fonts.font_face_css.cache_clear()
    rendering._styles.cache = {}
    yield settings.PDF_FONT_DIR
    pdf_fonts.font_face_css.cache_clear()
    rendering._styles.cache = {}


def test_the_faces_are_built_once_into_the_font_folder(fresh_fonts, monkeypatch):
    built = [pdf_fonts.build(face) for face in pdf_fonts.FACES]
    assert all(path is not None and path.parent == fresh_fonts for path in built)
    for path in built:
        font = TTFont(path)
        cmap = font.getBestCmap()
        # GB 2312 and the rest, with the glyphs their layout features reach (vertical and
        # half-width forms…): a fifth of the full face's 65,535.
        assert 7000 < font["maxp"].numGlyphs < 20000
        assert all(ord(char) in cmap for char in "张伟国家开放大学证书 Certificate №")
        assert ord("喆") not in cmap  # not in GB 2312: drawn by the full face
    # Built already: found again without running hb-subset.
    original_run = subprocess.run

    def run(command, *args, **kwargs):
        if "hb-subset" in command[0]:
            pytest.fail("hb-subset ran again")
        return original_run(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    assert [pdf_fonts.build(face) for face in pdf_fonts.FACES] == built


def test_the_certificate_embeds_the_cut_down_face(fresh_fonts, cast, cert_type, agreement):
    pdf = rendering.certificate_pdf(issue(cast, cert_type, legal_name="张伟"))
    assert cjk_faces(pdf) == {"OUC-Serif-SC"}
    assert "张伟" in text_of(pdf)


def test_a_rare_character_in_a_name_is_drawn_by_the_full_face(fresh_fonts, cast, cert_type, agreement):
    pdf = rendering.certificate_pdf(issue(cast, cert_type, legal_name="王喆"))
    assert "王喆" in flat(text_of(pdf))
    # Two faces now: the cut-down one for everything else, the full one for 喆 alone.
    assert cjk_faces(pdf) == {"OUC-Serif-SC", "Noto-Serif-CJK-SC"}


def test_without_hb_subset_the_pdfs_use_the_full_face(fresh_fonts, monkeypatch, caplog, cast, cert_type, agreement):
    original_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "hb-subset" else original_which(name))
    with caplog.at_level(logging.WARNING, logger="certificates.pdf_fonts"):
        pdf = rendering.certificate_pdf(issue(cast, cert_type))
    assert pdf_fonts.font_face_css() == ""
    assert "install hb-subset" in caplog.text
    assert not fresh_fonts.exists() or not any(fresh_fonts.iterdir())
    assert cjk_faces(pdf) == {"Noto-Serif-CJK-SC"}
    assert "张伟" in text_of(pdf)


def test_the_command_builds_both_faces(fresh_fonts):
    out = StringIO()
    call_command("build_pdf_fonts", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [face.family for face in pdf_fonts.FACES]
    assert len(list(fresh_fonts.glob("*.otf"))) == 2


def test_the_command_names_what_is_missing(fresh_fonts, monkeypatch):
    original_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "hb-subset" else original_which(name))
    with pytest.raises(CommandError, match="hb-subset not found: install Debian's libharfbuzz-bin"):
        call_command("build_pdf_fonts", stdout=StringIO())


# --- make run's one line about what is missing ----------------------------------------------------


def test_check_pdf_tools_says_in_one_line_what_is_missing_and_how_to_install_it(monkeypatch):
    monkeypatch.setattr(pdf_fonts, "_library", lambda name: name != "harfbuzz-subset")
    monkeypatch.setattr(pdf_fonts, "_source", lambda face: None)
    monkeypatch.setattr(pdf_fonts.shutil, "which", lambda tool: None if tool == "hb-subset" else f"/usr/bin/{tool}")
    out = StringIO()
    call_command("check_pdf_tools", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, lines
    assert "PDF tools missing: Chinese fonts (Noto CJK), hb-subset;" in lines[0]
    assert "apt-get install -y fonts-noto-cjk libharfbuzz-bin libharfbuzz-subset0`" in lines[0]
    assert "Pango" not in lines[0]


def test_check_pdf_tools_names_pango_and_its_packages(monkeypatch):
    monkeypatch.setattr(pdf_fonts, "_library", lambda name: not name.startswith("pango"))
    out = StringIO()
    call_command("check_pdf_tools", stdout=out)
    assert "Pango" in out.getvalue() and "libpango-1.0-0 libpangoft2-1.0-0" in out.getvalue()


def test_check_pdf_tools_says_so_when_nothing_is_missing(monkeypatch):
    monkeypatch.setattr(pdf_fonts, "missing_tools", lambda: [])
    out = StringIO()
    call_command("check_pdf_tools", stdout=out)
    assert out.getvalue().strip() == "PDF tools: Pango, Chinese fonts (Noto CJK) and hb-subset are installed."


# --- A machine without Debian's Noto CJK: Noto Sans SC from npm -------------------------------------

RENDER_WITHOUT_SYSTEM_CJK = """
import json, os, sys
import django
django.setup()
from certificates import pdf_fonts, rendering
faces = {face.family: str(pdf_fonts._installed(face)) for face in pdf_fonts.FACES}
style = rendering._style(rendering.CERTIFICATE_TEMPLATE, "certificate.css")
pdf = rendering._write(rendering._render('<p lang="zh-CN">王喆 张伟 国家开放大学证书 Certificate</p>', style))
open(sys.argv[1], "wb").write(pdf)
print(json.dumps({"installed": faces, "css": pdf_fonts.font_face_css()}))
"""


def test_without_debian_noto_cjk_the_pdfs_draw_chinese_with_noto_sans_sc_from_npm(tmp_path, settings):
    import json
    import os
    import sys
    from pathlib import Path

    from tests.conftest import SERVICES_PROMISED

    if pdf_fonts.bundled_face() is None:
        message = "Noto Sans SC from npm is not installed (npm ci; .ci/run installs it)"
        if SERVICES_PROMISED:
            pytest.fail(message)
        pytest.skip(message)
    # A fontconfig that knows DejaVu alone, as on a machine without fonts-noto-cjk: in a process of
    # its own, since fontconfig reads its configuration once.
    dirs = "".join(f"<dir>{d}</dir>" for d in ("/usr/share/fonts/truetype/dejavu",) if Path(d).is_dir())
    config = tmp_path / "fonts.conf"
    config.write_text(
        f'<?xml version="1.0"?><fontconfig>{dirs}<cachedir>{tmp_path / "fc-cache"}</cachedir></fontconfig>'
    )
    env = {
        **os.environ,
        "FONTCONFIG_FILE": str(config),
        "PDF_FONT_DIR": str(tmp_path / "pdf-fonts"),
        "DJANGO_SETTINGS_MODULE": "ouc_portal.settings",
    }
    out = tmp_path / "certificate.pdf"
    result = subprocess.run(  # noqa: S603 - this interpreter, the script above
        [sys.executable, "-c", RENDER_WITHOUT_SYSTEM_CJK, str(out)],
        capture_output=True, text=True, timeout=300, env=env, cwd=settings.BASE_DIR, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(seen["installed"].values()) == {"None"}, "fontconfig still found Debian's Noto CJK"
    assert "NotoSansSC_400Regular.ttf" in seen["css"]
    pdf = out.read_bytes()
    assert "王喆" in flat(text_of(pdf)) and "国家开放大学证书" in flat(text_of(pdf))
    # The cut-down face built from Noto Sans SC, and Noto Sans SC itself standing in for the full
    # face the stylesheet names, for 喆 (not in GB 2312).
    assert cjk_faces(pdf) == {"OUC-Serif-SC", "Noto-Serif-CJK-SC"}
