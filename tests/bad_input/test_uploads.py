"""Every upload, sent bad files: too large, empty, content that is not what the name says, and
results files that are not the CSV the page asks for.

Each is refused with a message naming the file, the line or the problem, and nothing is stored:
no row (an import is all or nothing) and no file left in the media storage. A results file with a
byte-order mark (what Excel's "CSV UTF-8" writes) or Windows line ends is accepted.
"""

from __future__ import annotations

import datetime
import os
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from enrolment.models import CourseResult
from tests.bad_input import registry
from tests.bad_input.sweep import DONE, REFUSED, changed, fingerprint, read, send, valid_data

pytestmark = pytest.mark.django_db

RESULTS = next(e for e in registry.ENTRIES if e.id == "intake_results_upload")
EVIDENCE = next(e for e in registry.ENTRIES if e.id == "outcome_submit")
HEADER = "learner_email,course_code,score,assessed_on"
PDF = registry.PDF
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32


def _day() -> str:
    return (timezone.localdate() - datetime.timedelta(days=7)).isoformat()


def _csv(*rows: str, header: str = HEADER, end: str = "\n") -> str:
    return end.join([header, *rows]) + end


def _row(email: str = "learner@example.org", code: str = "NC201", score: str = "85",
         day: str | None = None) -> str:  # fmt: skip
    return f"{email},{code},{score},{day or _day()}"


def _zip() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # A small bomb: a megabyte of zeros, a kilobyte or so packed.
        archive.writestr("results.csv", b"\x00" * 1_000_000)
    return buffer.getvalue()


def _media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def _send_files(client, world, entry, files: dict):
    data = valid_data(world, entry)
    data.update(files)
    media, before = _media_files(), fingerprint()
    answer = read(send(client, world, entry, data), entry)
    return answer, changed(before, fingerprint()), _media_files() - media


def _refused(answer, stored, new_files, message: str) -> None:
    assert answer.verdict == REFUSED, f"accepted: {answer}"
    said = " ".join(answer.why)
    assert message.lower() in said.lower(), f"expected {message!r} in the refusal: {said[:500]}"
    assert not stored, f"refused, yet stored: {stored}"
    assert not new_files, f"refused, yet files were kept: {new_files}"


# --- The results CSV (school staff) ---------------------------------------------------------------

# (id, file name, content (text is encoded as UTF-8, or a callable of nothing), what the refusal says)
CSV_REFUSED = [
    ("wrong_header", "results.csv", lambda: _csv(_row(), header="email,course,score,date"),
     "Line 1 must be the header"),
    ("no_header", "results.csv", lambda: _row() + "\n", "Line 1 must be the header"),
    ("extra_column", "results.csv", lambda: _csv(_row() + ",excellent"),
     "line 2: expected 4 columns, found 5"),
    ("missing_column", "results.csv", lambda: _csv("learner@example.org,NC201,85"),
     "line 2: expected 4 columns, found 3"),
    ("gbk", "results.csv", lambda: _csv(_row(), _row(code="数控201")).encode("gbk"),
     "Line 3 is not UTF-8 text"),
    ("gb18030", "results.csv", lambda: _csv(_row(email="王工@example.org")).encode("gb18030"),
     "Line 2 is not UTF-8 text"),
    ("utf16", "results.csv", lambda: _csv(_row()).encode("utf-16"), "UTF-16"),
    ("utf16_without_bom", "results.csv", lambda: _csv(_row()).encode("utf-16-le"), "binary data"),
    ("line_of_1mb", "results.csv", lambda: _csv(_row(score="9" * 1_000_000)),
     "line 2: a cell is longer than"),
    ("header_of_1mb", "results.csv", lambda: _csv(_row(), header=HEADER + "x" * 1_000_000),
     "Line 1: a cell is longer than"),
    ("quote_never_closed", "results.csv",
     lambda: _csv(f'learner@example.org,"NC201,85,{_day()}', _row(code="ME101")),
     "line 2: a quoted cell starts here and is never closed"),
    ("text_after_quote", "results.csv", lambda: _csv(_row(code='"NC"201')),
     "line 2: a quoted cell has text after its closing"),
    ("no_rows", "results.csv", lambda: _csv(), "has a header but no results"),
    ("duplicate_rows", "results.csv", lambda: _csv(_row(), _row()),
     "line 3: duplicate of line 2"),
    ("formula_in_email", "results.csv", lambda: _csv(_row(email='=CMD("calc")')),
     "unknown learner"),
    ("formula_in_course", "results.csv", lambda: _csv(_row(code='=HYPERLINK("http://x.test")')),
     "unknown course"),
    ("formula_in_score", "results.csv", lambda: _csv(_row(score="=1+1")), "is not a number"),
    ("score_not_a_number", "results.csv", lambda: _csv(_row(score="eighty")), "is not a number"),
    ("score_over_100", "results.csv", lambda: _csv(_row(score="101")), "outside 0–100"),
    ("score_negative", "results.csv", lambda: _csv(_row(score="-5")), "outside 0–100"),
    ("score_nan", "results.csv", lambda: _csv(_row(score="NaN")), "outside 0–100"),
    ("score_three_decimals", "results.csv", lambda: _csv(_row(score="85.125")),
     "more than two decimal places"),
    ("date_30_february", "results.csv", lambda: _csv(_row(day="2026-02-30")), "not YYYY-MM-DD"),
    ("date_in_future", "results.csv", lambda: _csv(_row(day="2999-01-01")), "in the future"),
    # All or nothing: the good first row is not recorded because the second is bad.
    ("one_bad_row_of_two", "results.csv", lambda: _csv(_row(), _row(code="ME101", score="x")),
     "line 3"),
    ("pdf_named_csv", "results.csv", lambda: PDF, "is not UTF-8 text"),
    ("csv_named_pdf", "results.pdf", lambda: _csv(_row()), "is not a CSV file"),
    ("xlsx_named_csv", "results.csv", _zip, "spreadsheet"),
    ("binary", "results.csv", lambda: bytes(range(256)) * 8, "binary data"),
    ("empty", "results.csv", lambda: b"", "empty"),
    ("one_byte_over_the_limit", "results.csv",
     lambda: _csv(_row()).encode().ljust(settings.RESULTS_CSV_MAX_BYTES + 1, b"\n"),
     "the limit is"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "message"),
                         [pytest.param(*case[1:], id=case[0]) for case in CSV_REFUSED])  # fmt: skip
def test_results_csv_refused(client, world, name, content, message):
    data = content()
    data = data.encode() if isinstance(data, str) else data
    answer, stored, new_files = _send_files(
        client, world, RESULTS, {"file": SimpleUploadedFile(name, data)}
    )
    _refused(answer, stored, new_files, message)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\xef\xbb\xbf" + _csv(_row()).encode(), id="utf8_with_bom"),
        pytest.param(_csv(_row(), end="\r\n").encode(), id="windows_line_ends"),
        pytest.param(_csv(_row(score=" 85.50 "), "", " , , , ").encode(), id="blanks_around"),
    ],
)
def test_results_csv_accepted(client, world, content):
    before = CourseResult.objects.count()
    answer, stored, _ = _send_files(
        client, world, RESULTS, {"file": SimpleUploadedFile("results.csv", content)}
    )
    assert answer.verdict == DONE, answer
    result = CourseResult.objects.exclude(pk__in=[]).order_by("-pk").first()
    assert CourseResult.objects.count() == before + 1
    assert result.course.code == "NC201" and result.assessed_on.isoformat() == _day()


# --- Evidence files (the learner's outcome) -------------------------------------------------------

EVIDENCE_REFUSED = [
    ("one_byte_over_the_limit", [("big.pdf", lambda: PDF.ljust(settings.EVIDENCE_MAX_BYTES + 1, b"0"))],
     "big.pdf is"),
    ("empty", [("blank.pdf", lambda: b"")], "blank.pdf is empty"),
    ("text_named_pdf", [("notes.pdf", lambda: b"just text\n")], "notes.pdf is not a PDF, JPEG or PNG"),
    ("pdf_named_csv", [("marks.csv", lambda: PDF)], "marks.csv is a PDF file, but its name ends in .csv"),
    ("png_named_pdf", [("scan.pdf", lambda: PNG)], "scan.pdf is a PNG file, but its name ends in .pdf"),
    ("jpeg_named_png", [("photo.png", lambda: JPEG)], "photo.png is a JPEG file"),
    ("zip_named_pdf", [("archive.pdf", _zip)], "archive.pdf is not a PDF, JPEG or PNG"),
    ("binary_named_jpg", [("noise.jpg", lambda: os.urandom(1) and bytes(range(256)))], "noise.jpg is not"),
    ("html_named_png", [("page.png", lambda: b"<html><script>alert(1)</script></html>")], "page.png is not"),
    ("six_files", [(f"c{i}.pdf", lambda: PDF) for i in range(6)], "at most 5 files"),
    # Nothing of a submission is kept when one of its files is bad, the good one included.
    ("one_bad_file_of_two", [("good.pdf", lambda: PDF), ("bad.pdf", lambda: b"MZ\x90\x00")],
     "bad.pdf is not"),
]  # fmt: skip


@pytest.mark.parametrize(("files", "message"),
                         [pytest.param(*case[1:], id=case[0]) for case in EVIDENCE_REFUSED])  # fmt: skip
def test_evidence_refused(client, world, files, message):
    uploads = [SimpleUploadedFile(name, content()) for name, content in files]
    answer, stored, new_files = _send_files(client, world, EVIDENCE, {"files": uploads})
    _refused(answer, stored, new_files, message)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("SCAN.JPEG", JPEG, "image/jpeg"),
        ("scan", PNG, "image/png"),  # no extension: no claim about the content
        ("Certificate 2024.05.03", PDF, "application/pdf"),  # a dot in a name is no extension
        ("证书扫描件.pdf", PDF, "application/pdf"),
    ],
)
def test_evidence_accepted(client, world, name, content, content_type):
    from creditbank.models import OutcomeEvidence

    answer, stored, new_files = _send_files(
        client, world, EVIDENCE, {"files": [SimpleUploadedFile(name, content)]}
    )
    assert answer.verdict == DONE, answer
    evidence = OutcomeEvidence.objects.order_by("-pk").first()
    assert (evidence.original_name, evidence.content_type) == (name, content_type)
    assert len(new_files) == 1
