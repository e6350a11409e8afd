"""The certificate and transcript PDFs, read back with pypdf: what they say, in both languages, the
fonts they embed, where their links go, and that nothing in them reaches the network."""

from __future__ import annotations

import dataclasses
import datetime
import io
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pypdf
import pytest
import segno
from django.conf import settings
from django.utils import timezone, translation

from certificates import rendering, services
from certificates.links import verify_url
from certificates.models import Certificate, Transcript
from certificates.records import (
    AuditLine,
    CertificateLine,
    ConversionLine,
    OutcomeLine,
    TranscriptRecord,
    TransferLine,
    transcript_record,
)
from schools.models import AgreementSignatory
from tests import factories

ISSUED = datetime.date(2026, 3, 5)
HOSTILE = '<img src="http://example.invalid/x.png"><script>alert(1)</script>'


# -- reading PDFs --------------------------------------------------------------------------------


def read(data: bytes) -> pypdf.PdfReader:
    assert data.startswith(b"%PDF-"), data[:20]
    return pypdf.PdfReader(io.BytesIO(data))


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in read(data).pages]


def text_of(data: bytes) -> str:
    return "\n".join(page_texts(data))


def flat(text: str) -> str:
    """The text with its line breaks and spaces removed: wrapped lines join up again."""
    return re.sub(r"\s+", "", text)


def embedded_fonts(data: bytes) -> set[str]:
    names = set()
    for page in read(data).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for font in fonts.values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def link_uris(data: bytes) -> list[str]:
    uris = []
    for page in read(data).pages:
        for annotation in page.get("/Annots", []) or []:
            action = annotation.get_object().get("/A")
            if action is not None and action.get("/S") == "/URI":
                uris.append(str(action["/URI"]))
    return uris


def is_cjk_face(name: str) -> bool:
    """A Noto CJK face, or one of the portal's cut-down faces of it (certificates/pdf_fonts.py)."""
    return "CJK" in name or "+OUC-" in name


def assert_cjk_font(data: bytes) -> None:
    fonts = embedded_fonts(data)
    if not any(is_cjk_face(name) for name in fonts):
        pytest.fail(
            f"No CJK font is embedded in the PDF (fonts: {sorted(fonts)}): Chinese text would print as "
            "empty boxes. Install the Noto CJK fonts (Debian/Ubuntu: apt-get install fonts-noto-cjk); "
            "CI installs them."
        )


# -- the world these tests need ------------------------------------------------------------------


@pytest.fixture
def cert_type(cast):
    programme = factories.ProgrammeFactory(
        school=cast.school, name_en="Numerical Control Technology", name_zh="数控技术"
    )
    return factories.CertificateTypeFactory(
        school=cast.school,
        association=cast.association,
        programme=programme,
        name_en="Numerical Control Technology: completion",
        name_zh="数控技术结业证书",
    )


@pytest.fixture
def agreement(cast):
    agreement = factories.CooperationAgreementFactory(school=cast.school, association=cast.association)
    sign = factories.AgreementSignatoryFactory
    # Created out of order: the PDF orders them OUC side first, then by position.
    sign(agreement=agreement, side=AgreementSignatory.Side.PARTNER, position=0,
         name_en="Chen Xiaoping", name_zh="陈晓平", title_en="Director", title_zh="主任")
    sign(agreement=agreement, side=AgreementSignatory.Side.OUC, position=1,
         name_en="Zhou Ming", name_zh="周明", title_en="Dean", title_zh="院长")
    sign(agreement=agreement, side=AgreementSignatory.Side.OUC, position=0,
         name_en="Li Lin", name_zh="李林", title_en="Vice-President", title_zh="副校长")
    return agreement


def issue(cast, cert_type, *, legal_name: str = "张伟", learner=None, today: datetime.date = ISSUED) -> Certificate:
    """A certificate made as the portal makes it: request, approval, then the row and serial."""
    learner = learner or cast.learner.learner
    learner.legal_name = legal_name
    learner.save(update_fields=["legal_name"])
    request = factories.completed_request(learner=learner, cert_type=cert_type)
    # Approval queues the issuing task on commit; a `db` test never commits, so it never runs.
    services.request_approve(request=request, reviewer=cast.reviewer)
    certificate = services.certificate_allocate(request_id=request.pk, today=today)
    return Certificate.objects.select_related(
        "request__learner__user", "request__type__school", "request__type__association", "request__type__programme"
    ).get(pk=certificate.pk)


class RecordingFetcher(rendering.SafeURLFetcher):
    """The portal's fetcher, keeping every URL any render asks for in one list."""

    seen: list[str] = []

    def fetch(self, url, headers=None):
        RecordingFetcher.seen.append(url)
        return super().fetch(url, headers)


@pytest.fixture
def fetches(monkeypatch) -> list[str]:
    RecordingFetcher.seen = []
    monkeypatch.setattr(rendering, "SafeURLFetcher", RecordingFetcher)
    return RecordingFetcher.seen


# -- certificates --------------------------------------------------------------------------------


def test_the_certificate_says_who_what_and_by_whom_in_both_languages(cast, cert_type, agreement):
    certificate = issue(cast, cert_type)
    pdf = rendering.certificate_pdf(certificate)
    text = text_of(pdf)
    joined = flat(text)

    assert "张伟" in text
    assert certificate.serial in text
    assert certificate.verification_code in joined
    for words in (
        cert_type.name_zh, cert_type.name_en,
        "数控技术", "Numerical Control Technology",
        cast.school.name_zh, cast.school.name_en,
        cast.association.name_zh, cast.association.name_en,
        "李林", "Li Lin", "周明", "Zhou Ming", "陈晓平", "Chen Xiaoping", "副校长", "Vice-President",
        "兹证明", "This is to certify that",
        "2026年3月5日", "5 March 2026",
    ):  # fmt: skip
        assert flat(words) in joined, words
    # No validity years on the type: the certificate does not expire.
    assert "长期有效" in text and "Does not expire" in text


def test_the_certificate_is_one_landscape_a4_page(cast, cert_type, agreement):
    reader = read(rendering.certificate_pdf(issue(cast, cert_type)))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape, in points


def test_signatories_stand_ouc_side_first_then_by_position(cast, cert_type, agreement):
    text = text_of(rendering.certificate_pdf(issue(cast, cert_type)))
    assert text.index("李林") < text.index("周明") < text.index("陈晓平")


def test_chinese_glyphs_are_embedded_in_a_single_cjk_face(cast, cert_type, agreement):
    pdf = rendering.certificate_pdf(issue(cast, cert_type))
    assert_cjk_font(pdf)
    # One CJK face, one weight: each further face costs ~50 ms and ~80 KB (see rendering.py).
    assert len([name for name in embedded_fonts(pdf) if is_cjk_face(name)]) == 1, embedded_fonts(pdf)


def test_fonts_are_subset_by_harfbuzz_not_the_slow_fallback():
    # Without libharfbuzz-subset WeasyPrint falls back to fontTools, which takes seconds, not
    # milliseconds, to subset a CJK face: issuing would crawl.
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    if not (harfbuzz_subset and harfbuzz.hb_version_atleast(4, 1, 0)):
        pytest.fail("HarfBuzz-Subset >= 4.1 is missing: install it (Debian: apt-get install libharfbuzz-subset0)")


def test_the_links_and_the_qr_code_lead_to_the_verification_page(cast, cert_type, agreement):
    certificate = issue(cast, cert_type)
    pdf = rendering.certificate_pdf(certificate)
    url = verify_url(certificate.verification_code)
    assert url.endswith(f"/verify/{certificate.verification_code}/")
    uris = link_uris(pdf)
    assert uris and set(uris) == {url}
    assert url in flat(text_of(pdf))  # the address is printed too, for those who cannot scan

    # The one image is the QR code: its modules are those of a QR code of the verification URL.
    images = read(pdf).pages[0].images
    assert len(images) == 1
    picture = images[0].image.convert("L")
    matrix = segno.make(url, error="m", micro=False, mask=rendering.QR_MASK).matrix
    size = len(matrix)
    module = picture.width / size
    assert picture.width == picture.height and module == int(module)
    dark = [
        [picture.getpixel((int((x + 0.5) * module), int((y + 0.5) * module))) < 128 for x in range(size)]
        for y in range(size)
    ]
    assert dark == [[bool(bit) for bit in row] for row in matrix]


def test_without_an_agreement_the_school_and_association_sign(cast, cert_type):
    certificate = issue(cast, cert_type)
    pdf = rendering.certificate_pdf(certificate)
    text = text_of(pdf)
    assert len(read(pdf).pages) == 1
    assert certificate.serial in text and "张伟" in text
    joined = flat(text)
    for words in (cast.school.name_zh, cast.school.name_en, cast.association.name_zh, cast.association.name_en):
        assert flat(words) in joined


def test_an_agreement_of_another_association_lends_no_signatories(cast, cert_type):
    other = factories.CooperationAgreementFactory(school=cast.school, association=cast.other_association)
    factories.AgreementSignatoryFactory(agreement=other, name_en="Someone Else", name_zh="别人")
    text = text_of(rendering.certificate_pdf(issue(cast, cert_type)))
    assert "Someone Else" not in text and "别人" not in text


def test_an_expiring_certificate_shows_its_expiry_date(cast, agreement):
    cert_type = factories.CertificateTypeFactory(
        school=cast.school, association=cast.association, validity_years=5,
        name_en="CNC machinist, intermediate", name_zh="数控车工（中级）",
    )  # fmt: skip
    certificate = issue(cast, cert_type)
    assert certificate.expires_on == datetime.date(2031, 3, 5)
    text = text_of(rendering.certificate_pdf(certificate))
    assert "2031年3月5日" in text and "5 March 2031" in text
    assert "长期有效" not in text and "Does not expire" not in text


def test_without_a_legal_name_the_email_stands_in(cast, cert_type):
    certificate = issue(cast, cert_type, legal_name="")
    assert cast.learner.email in flat(text_of(rendering.certificate_pdf(certificate)))


def test_the_active_language_changes_nothing(cast, cert_type, agreement):
    certificate = issue(cast, cert_type)
    with translation.override("zh-hans"):
        chinese = text_of(rendering.certificate_pdf(certificate))
    with translation.override("en"):
        english = text_of(rendering.certificate_pdf(certificate))
    assert chinese == english
    assert "兹证明" in english and "This is to certify that" in chinese


@pytest.mark.parametrize(
    "name",
    [
        "阿卜杜热合曼·买买提明·艾力江·库尔班·吐尔逊·阿不都热依木",
        "Nguyễn Thị Minh Khai-Ólafsdóttir Ærøskøbing Müller-Lüdenscheidt",
        "M" * 100,  # the longest legal name the field holds, with nowhere to break
        "王" * 100,
    ],
)
def test_long_names_in_any_script_stay_on_the_one_page(cast, cert_type, agreement, name):
    pdf = rendering.certificate_pdf(issue(cast, cert_type, legal_name=name))
    assert len(read(pdf).pages) == 1
    assert flat(name) in flat(text_of(pdf))


def test_very_long_titles_and_names_everywhere_still_make_one_page(cast, agreement):
    # Every name as long as its field allows: the compact layout clips the award, never the serial.
    school, association = cast.school, cast.association
    school.name_zh, school.name_en = ("机械工业" * 50)[:200], ("School of Mechanical Industry " * 7)[:200]
    school.save()
    association.name_zh, association.name_en = ("教育发展中心" * 40)[:200], ("Education Development Centre " * 7)[:200]
    association.save()
    cert_type = factories.CertificateTypeFactory(
        school=school, association=association,
        name_zh=("职业技能等级证书" * 25)[:200], name_en=("Vocational skills level " * 9)[:200],
    )  # fmt: skip
    for n in range(5):
        factories.AgreementSignatoryFactory(
            agreement=agreement, side="partner", position=n + 1, name_en=f"Signatory {n} " + "x" * 100,
            name_zh="签" * 100, title_en="Deputy " * 28, title_zh="副" * 200,
        )  # fmt: skip
    certificate = issue(cast, cert_type, legal_name="超长的姓名" * 20)
    pdf = rendering.certificate_pdf(certificate)
    assert len(read(pdf).pages) == 1
    text = text_of(pdf)
    assert certificate.serial in text and certificate.verification_code in flat(text)
    assert set(link_uris(pdf)) == {verify_url(certificate.verification_code)}


def test_hostile_values_are_printed_as_text_and_nothing_is_fetched(cast, agreement, fetches):
    cast.school.name_en = f"School {HOSTILE}"
    cast.school.save()
    cert_type = factories.CertificateTypeFactory(
        school=cast.school, association=cast.association, name_en=f"Certificate {HOSTILE}", name_zh="证书<b>粗</b>"
    )
    factories.AgreementSignatoryFactory(agreement=agreement, side="ouc", position=5, name_en='<link rel="stylesheet" href="http://example.invalid/s.css">')
    certificate = issue(cast, cert_type, legal_name=HOSTILE)
    pdf = rendering.certificate_pdf(certificate)
    joined = flat(text_of(pdf))
    assert flat(HOSTILE) in joined
    assert flat("证书<b>粗</b>") in joined
    assert flat('<link rel="stylesheet" href="http://example.invalid/s.css">') in joined
    # The only thing fetched is the QR code, a data: URI made in-process.
    assert fetches and all(url.startswith("data:image/png;base64,") for url in fetches), fetches
    assert not any("example.invalid" in url for url in fetches)


def test_even_unescaped_markup_cannot_fetch_from_the_network_or_the_disk(fetches):
    style = rendering._style(rendering.CERTIFICATE_TEMPLATE, "certificate.css")
    markup = (
        '<img src="http://example.invalid/x.png">'
        '<link rel="stylesheet" href="https://example.invalid/s.css">'
        '<img src="file:///etc/passwd">'
        '<img src="../../../pyproject.toml">'
        '<p style="background: url(ftp://example.invalid/bg.png)">text</p>'
    )
    pdf = rendering._write(rendering._render(markup, style))
    assert pdf.startswith(b"%PDF-")
    asked = " ".join(fetches)
    for target in ("http://example.invalid/x.png", "https://example.invalid/s.css", "file:///etc/passwd",
                   "pyproject.toml", "ftp://example.invalid/bg.png"):  # fmt: skip
        assert target in asked, f"{target} was never offered to the fetcher: {fetches}"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.invalid/x.png",
        "https://example.invalid/x.png",
        "ftp://example.invalid/x.png",
        "file:///etc/passwd",
        "file://example.invalid/share/x.png",
        (Path(settings.BASE_DIR) / "templates" / ".." / "pyproject.toml").as_uri(),
        "javascript:alert(1)",
    ],
)
def test_the_fetcher_refuses_the_network_and_files_outside_templates_and_static(url):
    fetcher = rendering.SafeURLFetcher()
    with pytest.raises(ValueError, match="not allowed"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_the_fetcher_serves_data_uris_and_the_projects_own_files():
    fetcher = rendering.SafeURLFetcher()
    assert fetcher.fetch("data:text/plain;base64,aGVsbG8=").read() == b"hello"
    css = Path(settings.BASE_DIR) / "templates" / "certificates" / "pdf" / "certificate.css"
    assert b"@page" in fetcher.fetch(css.as_uri()).read()
    static_file = next(p for p in (Path(settings.BASE_DIR) / "static").rglob("*") if p.is_file())
    assert fetcher.fetch(static_file.as_uri()).read() == static_file.read_bytes()
    assert fetcher.refused == []


def test_warming_up_parses_each_stylesheet_once_per_thread():
    rendering.warm_up()
    cached = dict(rendering._styles.cache)
    assert set(cached) == {"certificate.css", "transcript.css"}
    rendering.warm_up()
    assert rendering._styles.cache == cached  # the same objects: nothing parsed again


def test_chinese_text_without_a_font_fails_loudly_instead_of_printing_boxes():
    def document(*codepoints):
        font = SimpleNamespace(family="DejaVu Serif", missing=dict.fromkeys(codepoints, 65535))
        return SimpleNamespace(fonts={"f": font})

    with pytest.raises(rendering.MissingFontError, match="fonts-noto-cjk"):
        rendering._check_glyphs(document(ord("张"), ord("伟")))
    rendering._check_glyphs(document(0x10FFFD))  # a rare character alone: a box, and a warning
    rendering._check_glyphs(document())


# -- transcripts ---------------------------------------------------------------------------------

NOW = datetime.datetime(2026, 3, 5, 6, 30, tzinfo=datetime.UTC)  # 14:30 in Beijing


def outcome_line(n: int, **fields) -> OutcomeLine:
    line = OutcomeLine(
        public_id=f"outcome-{n}", kind="vocational", title=f"CNC Lathe Operator, line {n:03d}",
        issuing_body="Education Development Center of Mechanical Industry", achieved_on=datetime.date(2024, 5, 1),
        level=4, credits=Decimal("8.00"), standard_code="CNC-OP", standard_version=2,
        standard_title_en="CNC machinist, intermediate", standard_title_zh="数控车工（中级）",
        accredited_at=NOW, entry_seqs=(2 * n + 1,),
    )  # fmt: skip
    return dataclasses.replace(line, **fields)


def full_record() -> TranscriptRecord:
    record = TranscriptRecord(
        learner_id="learner-1", legal_name="张伟", email="learner@example.org",
        account_number="CB-2026-00001234", at=NOW,
    )  # fmt: skip
    record.outcomes.append(outcome_line(1, entry_seqs=(7, 9)))
    record.conversions.append(ConversionLine(
        public_id="conv-1", outcome_id="outcome-1", outcome_title="CNC Lathe Operator, line 001",
        programme_code="NCT", programme_name_en="Numerical Control Technology", programme_name_zh="数控技术",
        course_code="NC201", course_name_en="CNC Programming", course_name_zh="数控编程",
        credits=Decimal("4"), rule_code="NCT-CNC", rule_version=3, at=NOW, entry_seqs=(11,),
    ))  # fmt: skip
    record.transfers.append(TransferLine(
        public_id="tr-1", outcome_id="outcome-1", outcome_title="CNC Lathe Operator, line 001",
        programme_code="MEC", programme_name_en="Mechatronics", programme_name_zh="机电一体化",
        group_name_en="Electives", group_name_zh="选修课", credits=Decimal("2.5"), at=NOW, entry_seqs=(12, 13),
    ))  # fmt: skip
    record.audits.append(AuditLine(
        enrolment_id="enr-1", programme_code="NCT", programme_name_en="Numerical Control Technology",
        programme_name_zh="数控技术", school_name_en="School of Mechanical Industry", school_name_zh="机械工业行业学院",
        status="active", required=Decimal("76"), earned=Decimal("20"), exempted=Decimal("4"),
        transferred=Decimal("2.5"), complete=False, completed_on=None,
    ))  # fmt: skip
    record.certificates.append(CertificateLine(
        serial="MECHANICAL-2026-000001", name_en="Numerical Control Technology: completion",
        name_zh="数控技术结业证书", issued_on=datetime.date(2026, 3, 5), status="valid", verification_code="x" * 32,
    ))  # fmt: skip
    return record


@pytest.fixture
def transcript(cast):
    return Transcript.objects.create(learner=cast.learner.learner)


def test_the_transcript_lists_every_section_with_its_provenance(transcript):
    pdf = rendering.transcript_pdf(transcript, full_record())
    text = text_of(pdf)
    joined = flat(text)
    for words in (
        "张伟", "CB-2026-00001234", transcript.verification_code,
        "2026年3月5日 14:30", "5 March 2026, 14:30",
        # accredited outcomes: title, issuing body, achieved on, level, standard vN, credits, entries
        "CNC Lathe Operator, line 001", "Education Development Center of Mechanical Industry",
        "2024年5月1日", "CNC-OP v.2", "#7, #9",
        # conversions: course, programme, rule vN, the outcome, entries
        "NC201 数控编程", "CNC Programming", "NCT 数控技术", "NCT-CNC v.3", "#11",
        # transfers
        "MEC 机电一体化", "选修课", "Electives", "#12, #13",
        # programme audits: status, required / earned / exempted / transferred, complete or not
        "机械工业行业学院", "在读", "Studying", "76", "未完成 Not yet",
        # certificates
        "MECHANICAL-2026-000001", "数控技术结业证书", "有效 Valid",
        # section headings, both languages
        "Accredited learning outcomes", "Credit conversions", "Credit transfers", "Programme audits", "Certificates",
        "已认定的学习成果", "学分转换", "学分转移", "专业学习进度",
    ):  # fmt: skip
        assert flat(words) in joined, words
    assert "none" not in text
    pages = read(pdf).pages
    assert f"Page 1 of {len(pages)}" in text
    assert all(page.mediabox.height > page.mediabox.width for page in pages)  # A4 portrait


def test_the_transcript_totals(transcript):
    record = full_record()
    record.outcomes.append(outcome_line(2, credits=Decimal("4.5")))
    text = text_of(rendering.transcript_pdf(transcript, record))
    totals = re.search(r"合计 Totals\s*(.*?)一、", text, re.S).group(1)
    assert flat(totals) == flat("12.5认定学分 Accredited credits 4转换学分 Converted credits 2.5转移学分 Transferred credits 1证书 Certificates")


def test_empty_sections_say_none(transcript):
    record = TranscriptRecord(learner_id="l", legal_name="李娜", email="l@example.org", account_number="", at=NOW)
    pdf = rendering.transcript_pdf(transcript, record)
    text = text_of(pdf)
    assert text.count("无 · none") == 5
    assert "李娜" in text
    assert_cjk_font(pdf)


def test_the_transcript_links_to_its_verification_page(transcript):
    pdf = rendering.transcript_pdf(transcript, full_record())
    url = verify_url(transcript.verification_code)
    uris = link_uris(pdf)
    assert uris and set(uris) == {url}
    assert_cjk_font(pdf)
    assert len([name for name in embedded_fonts(pdf) if is_cjk_face(name)]) == 1, embedded_fonts(pdf)


def test_a_long_record_runs_over_pages_with_the_table_header_on_each(transcript):
    record = full_record()
    record.outcomes = [outcome_line(n) for n in range(1, 121)]
    pdf = rendering.transcript_pdf(transcript, record)
    pages = page_texts(pdf)
    total = len(pages)
    assert total > 1
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in page
        assert f"第 {number} 页，共 {total} 页" in page
        assert "张伟" in page and transcript.verification_code in page  # the running header and footer
        if flat("Education Development Center of Mechanical Industry") in flat(page):  # an outcome row
            assert flat("Outcome · Issuing body") in flat(page) and flat("Ledger entries") in flat(page), (
                f"no table header on page {number}"
            )
    listed = re.findall(r"CNC Lathe Operator, line (\d{3})", "\n".join(pages))
    # Each outcome once in the table (line 001 is also named as the source of the conversion and transfer).
    assert sorted(set(listed)) == [f"{n:03d}" for n in range(1, 121)]
    assert "960认定学分" in flat(pages[0])  # 120 × 8 credits, in the totals


def test_a_transcript_of_a_real_record(world, accredited):
    transcript = Transcript.objects.create(learner=world.learner)
    record = transcript_record(learner=world.learner, at=timezone.now())
    pdf = rendering.transcript_pdf(transcript, record)
    joined = flat(text_of(pdf))
    assert flat(accredited.title) in joined
    assert f"{world.standard.code}v.{world.standard.version}" in joined
    assert flat(record.legal_name) in joined
