"""Small Chinese fonts for the PDFs: Debian's Noto CJK faces cut down to the characters in use.

Embedding a face in a PDF makes WeasyPrint subset it for the glyphs the document uses, and with a
Noto CJK face that costs about 40 ms a document whatever the number of glyphs used: the face has
65,535 glyphs and HarfBuzz walks them all (twice). A face cut down once to the 6,763 characters of
GB 2312 (every character of everyday Chinese, most names among them), ASCII, Latin-1, general and
CJK punctuation and full-width forms has about 7,500 glyphs, and the same document then costs a
few milliseconds and a third of the bytes.

The cut-down faces are built by HarfBuzz's own ``hb-subset`` (Debian's libharfbuzz-bin; half a
second a face) into ``PDF_FONT_DIR``, once per machine: by ``manage.py build_pdf_fonts`` (the
Docker image runs it), or the first time a process renders a PDF. Their file names carry a digest
of the source face and the character list, so a new Noto release or a new list builds new ones.
The stylesheets name the cut-down family first and the full Noto face after it: a character the
cut-down face lacks (a rare character in a name: 喆, 堃, 䶮) is drawn from the full face, so a PDF
is never missing a glyph. Without ``hb-subset`` the PDFs use the full faces, correct and slower,
and a warning says so once.

A machine without Debian's Noto CJK faces (a laptop where ``make run`` is all that was typed) can
still issue PDFs with the Chinese face package.json brings from npm: Google Fonts' Noto Sans SC
(@expo-google-fonts/noto-sans-sc, OFL), the Simplified Chinese cut of Noto Sans CJK, one TTF of
30,890 characters, the rare ones of names (喆, 堃, 䶮) included. When fontconfig finds no Noto CJK
face, both faces are cut down from it (it is a sans-serif: the certificate loses its serif there,
not its glyphs) and it stands in as the full face for what they lack.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Face:
    family: str  # the family the stylesheets name
    source: str  # the fontconfig pattern of the full face it is cut from
    slug: str


FACES = (
    Face("OUC Serif SC", "Noto Serif CJK SC:style=Regular", "ouc-serif-sc"),
    Face("OUC Sans SC", "Noto Sans CJK SC:style=Regular", "ouc-sans-sc"),
)
# The stand-in for machines without Debian's fonts-noto-cjk (package.json), under BASE_DIR.
BUNDLED_FACE = "node_modules/@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf"


@functools.cache
def characters() -> str:
    """The code points kept, as hb-subset's list of hexadecimal numbers and ranges."""
    ranges = [
        (0x20, 0x7E),  # ASCII
        (0xA0, 0x17F),  # Latin-1 and Latin Extended-A (names and places in pinyin with tones)
        (0x2000, 0x206F),  # general punctuation: dashes, quotes, ellipsis
        (0x2100, 0x218F),  # letter-like symbols and number forms (№, Ⅰ…)
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0xFF00, 0xFFEF),  # full-width forms
    ]
    points = {point for low, high in ranges for point in range(low, high + 1)}
    for lead in range(0xB0, 0xF8):  # GB 2312 levels 1 and 2: the 6,763 hanzi
        for trail in range(0xA1, 0xFF):
            try:
                points.add(ord(bytes((lead, trail)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return ",".join(f"{point:X}" for point in sorted(points))


def font_dir() -> Path:
    return Path(getattr(settings, "PDF_FONT_DIR", None) or Path(settings.BASE_DIR) / "var" / "fonts")


def bundled_face() -> Path | None:
    """Noto Sans SC from npm (``npm ci``), when it is there."""
    path = Path(settings.BASE_DIR) / BUNDLED_FACE
    return path if path.is_file() else None


def _source(face: Face) -> tuple[Path, int] | None:
    """The full face's file and index in it: as fontconfig finds it, else Noto Sans SC from npm
    (None: neither is here)."""
    found = _installed(face)
    if found is None and (bundled := bundled_face()) is not None:
        return bundled, 0
    return found


def _installed(face: Face) -> tuple[Path, int] | None:
    """The full face's file and index in it, as fontconfig finds it (None: not installed)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    result = subprocess.run(  # noqa: S603 - the machine's own fontconfig, a fixed pattern
        [fc_match, "--format=%{file}\n%{index}\n%{family}", face.source],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    lines = result.stdout.split("\n")
    if result.returncode != 0 or len(lines) < 3 or face.source.split(":")[0] not in lines[2]:
        return None  # fontconfig answered with some other family: the Noto face is not here
    return Path(lines[0]), int(lines[1] or 0)


def _target(face: Face, source: Path, index: int) -> Path:
    stat = source.stat()
    key = f"{source}:{index}:{stat.st_size}:{stat.st_mtime_ns}:{characters()}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return font_dir() / f"{face.slug}-{digest}.otf"


def build(face: Face) -> Path | None:
    """The cut-down face's file, built if need be; None when it cannot be built here."""
    found = _source(face)
    if found is None:
        return None
    source, index = found
    target = _target(face, source, index)
    if target.exists():
        return target
    hb_subset = shutil.which("hb-subset")
    if hb_subset is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    # Built beside its final name and renamed: processes building at once each write their own
    # file, and a reader never sees half a font.
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{face.slug}-", suffix=".otf")
    os.close(handle)
    try:
        result = subprocess.run(  # noqa: S603 - HarfBuzz's hb-subset on the machine's own font
            [hb_subset, f"--font-file={source}", f"--face-index={index}",
             f"--unicodes={characters()}", "--layout-features=*", "--name-IDs=*",
             "--notdef-outline", f"--output-file={partial}"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if result.returncode != 0 or os.path.getsize(partial) == 0:
            logger.warning("hb-subset could not cut down %s: %s", face.source, result.stderr.strip()[:500])
            return None
        os.chmod(partial, 0o644)  # readable by whichever user the web and worker processes run as
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    logger.info("built %s (%d bytes) from %s", target.name, target.stat().st_size, source)
    return target


@functools.cache
def font_face_css() -> str:
    """``@font-face`` rules for the cut-down faces this machine has (built on first call)."""
    rules = []
    for face in FACES:
        path = build(face)
        if path is None:
            logger.warning(
                "PDFs use the full %s face (slower): install hb-subset (Debian's libharfbuzz-bin) "
                "and fontconfig's fc-match, or run manage.py build_pdf_fonts", face.source,
            )  # fmt: skip
            continue
        rules.append(f'@font-face {{ font-family: "{face.family}"; src: url("{path.as_uri()}"); }}')
    bundled = bundled_face()
    if bundled is not None:
        # The full faces the stylesheets name after the cut-down ones, where fontconfig has none.
        for face in FACES:
            if _installed(face) is None:
                family = face.source.split(":")[0]
                rules.append(f'@font-face {{ font-family: "{family}"; src: url("{bundled.as_uri()}"); }}')
    return "\n".join(rules)


# -- what this machine lacks for the PDFs ------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    name: str  # what a person reads
    packages: tuple[str, ...]  # the Debian packages that bring it


def _library(name: str) -> bool:
    import ctypes.util

    return ctypes.util.find_library(name) is not None


def missing_tools() -> list[Tool]:
    """What the certificate and transcript PDFs need that this machine does not have: Pango
    (WeasyPrint's text layout), a Chinese face (fontconfig's fc-match finding Noto CJK), and
    HarfBuzz's subsetter (hb-subset, and the library WeasyPrint subsets with)."""
    missing = []
    if not (_library("pango-1.0") and _library("pangoft2-1.0")):
        missing.append(Tool("Pango", ("libpango-1.0-0", "libpangoft2-1.0-0")))
    if shutil.which("fc-match") is None:
        missing.append(Tool("fontconfig (fc-match)", ("fontconfig",)))
    if not any(_source(face) for face in FACES):  # Noto Sans SC from npm counts
        missing.append(Tool("Chinese fonts (Noto CJK)", ("fonts-noto-cjk",)))
    if shutil.which("hb-subset") is None or not _library("harfbuzz-subset"):
        missing.append(Tool("hb-subset", ("libharfbuzz-bin", "libharfbuzz-subset0")))
    return missing


def missing_tools_line(missing: list[Tool] | None = None) -> str:
    """One line: what is missing and the command that installs it, or that nothing is."""
    missing = missing_tools() if missing is None else missing
    if not missing:
        return "PDF tools: Pango, Chinese fonts (Noto CJK) and hb-subset are installed."
    packages = " ".join(package for tool in missing for package in tool.packages)
    sudo = "" if os.geteuid() == 0 else "sudo "
    return (
        f"PDF tools missing: {', '.join(tool.name for tool in missing)}; install them with "
        f"`{sudo}apt-get install -y {packages}` (until then the portal runs, and the demo "
        "certificate waits on the review desk to be retried)."
    )
