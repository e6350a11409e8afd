"""The PDFs of certificates and transcripts, rendered from HTML templates with WeasyPrint.

Both documents are bilingual whatever the active language: every label is written in Chinese and
English in the template itself, dates and numbers are formatted here, never by the locale.

Three things this module guards:

- No network, no stray files. WeasyPrint fetches whatever a document points at; the fetcher here
  refuses everything except ``data:`` URIs and files inside the project's templates and static
  folders. Values are escaped by Django's autoescaping, so a learner called
  ``<img src="http://…">`` is printed, not fetched — and were it ever not escaped, it still
  could not reach the network.
- Chinese glyphs. The stylesheets name Debian's Noto CJK fonts (fonts-noto-cjk). On a machine
  without a font for Chinese, WeasyPrint would print empty boxes for a learner's name; rendering
  raises :class:`MissingFontError` instead, so issuing fails visibly (staff see the error on the
  request and retry once the font is installed).
- Speed (issue 7: ten certificates a second on one worker). Embedding a full Noto CJK face
  costs about 40 ms and 80 KB per face and document, whatever the number of glyphs used
  (HarfBuzz walks the font's 65,535 glyphs), so the documents use faces cut down once to the
  characters of everyday Chinese (``pdf_fonts``; the full face still draws any rarer character),
  and each document uses ONE CJK face in one weight: the certificate a serif, the transcript a
  sans-serif, both Regular. Hierarchy comes from size, spacing and colour, not from bold. The stylesheet and font configuration are
  parsed once per thread and reused; the QR code is a small PNG, not an SVG to parse.

The fetcher is WeasyPrint's ``URLFetcher`` class (WeasyPrint 68 and later).
"""

from __future__ import annotations

import datetime
import logging
import threading
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

import segno
import weasyprint
from django.conf import settings
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from weasyprint.text.fonts import FontConfiguration

from certificates import pdf_fonts
from certificates.links import verify_url
from certificates.models import Certificate, Transcript
from certificates.records import TranscriptRecord
from schools.models import AgreementSignatory, CooperationAgreement

logger = logging.getLogger(__name__)

CERTIFICATE_TEMPLATE = "certificates/pdf/certificate.html"
TRANSCRIPT_TEMPLATE = "certificates/pdf/transcript.html"

MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


class MissingFontError(RuntimeError):
    """No installed font has glyphs for Chinese text: the PDF would show empty boxes."""


# -- fetching: data: URIs and the project's own files, nothing else ----------------------------


def _allowed_roots() -> tuple[Path, ...]:
    folders: list[Path | str] = []
    for engine in settings.TEMPLATES:
        folders.extend(engine.get("DIRS", []))
    folders.extend(getattr(settings, "STATICFILES_DIRS", []))
    if getattr(settings, "STATIC_ROOT", None):
        folders.append(settings.STATIC_ROOT)
    folders.append(pdf_fonts.font_dir())  # the cut-down Chinese faces
    bundled = pdf_fonts.bundled_face()
    if bundled is not None:  # Noto Sans SC from npm, where Debian's Noto CJK is not installed
        folders.append(bundled.parent)
    return tuple(Path(folder).resolve() for folder in folders)


class SafeURLFetcher(weasyprint.URLFetcher):
    """A WeasyPrint fetcher that refuses the network and files outside templates and static.

    Every URL asked for is kept in ``attempts`` (and the refused ones in ``refused``), so tests can
    show that a document fetched nothing.
    """

    def __init__(self, **kwargs):
        super().__init__(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False, **kwargs)
        self.roots = _allowed_roots()
        self.attempts: list[str] = []
        self.refused: list[str] = []

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return True
        if scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        # resolve() follows symlinks and "..", so neither can step outside the roots.
        path = Path(unquote(parts.path)).resolve()
        return any(path.is_relative_to(root) for root in self.roots)

    def fetch(self, url, headers=None):
        self.attempts.append(url)
        if not self.allows(url):
            self.refused.append(url)
            logger.warning("PDF rendering refused to fetch %.200s", url)
            raise ValueError(f"fetching {url[:200]!r} is not allowed while rendering a PDF")
        return super().fetch(url, headers)


# -- the stylesheets, parsed once per thread ---------------------------------------------------


@dataclass(frozen=True)
class _Style:
    stylesheets: list[weasyprint.CSS]  # the cut-down fonts' @font-face rules, then the document's
    font_config: FontConfiguration
    folder: Path


_styles = threading.local()


def _style(template_name: str, css_name: str) -> _Style:
    # Per thread: a FontConfiguration wraps a Pango font map, which is not documented as safe to
    # share between threads. A worker renders on one thread, so it parses each stylesheet once.
    cache = getattr(_styles, "cache", None)
    if cache is None:
        cache = _styles.cache = {}
    style = cache.get(css_name)
    if style is None:
        folder = Path(get_template(template_name).origin.name).resolve().parent
        font_config = FontConfiguration()
        fonts = weasyprint.CSS(
            string=pdf_fonts.font_face_css(), font_config=font_config, url_fetcher=SafeURLFetcher()
        )
        stylesheet = weasyprint.CSS(
            filename=str(folder / css_name), font_config=font_config, url_fetcher=SafeURLFetcher()
        )
        style = cache[css_name] = _Style([fonts, stylesheet], font_config, folder)
    return style


def warm_up() -> None:
    """Parse the stylesheets and load the fonts now, so the first document is not the slow one.

    For a worker process to call when it starts (after the fork: Celery's worker_process_init).
    """
    documents = ((CERTIFICATE_TEMPLATE, "certificate.css"), (TRANSCRIPT_TEMPLATE, "transcript.css"))
    for template_name, css_name in documents:
        _write(_render('<p lang="zh-CN">证书 Certificate</p>', _style(template_name, css_name)))


def _render(html: str, style: _Style) -> weasyprint.Document:
    # base_url is the templates folder: a relative reference resolves there, never to the cwd.
    return weasyprint.HTML(
        string=html, base_url=style.folder.as_uri() + "/", url_fetcher=SafeURLFetcher()
    ).render(stylesheets=style.stylesheets, font_config=style.font_config)


def _write(document: weasyprint.Document) -> bytes:
    pdf = document.write_pdf()
    _check_glyphs(document)
    return pdf


def _is_han(codepoint: int) -> bool:
    return 0x4E00 <= codepoint <= 0x9FFF or 0x3400 <= codepoint <= 0x4DBF


def _check_glyphs(document: weasyprint.Document) -> None:
    """Refuse a PDF whose Chinese text has no font (the fonts ``missing`` after writing)."""
    missing: set[int] = set()
    for font in getattr(document, "fonts", {}).values():
        missing.update(getattr(font, "missing", {}) or {})
    if not missing:
        return
    chars = "".join(sorted(chr(c) for c in missing))
    if any(_is_han(c) for c in missing):
        raise MissingFontError(
            f"No installed font has Chinese glyphs (missing: {chars[:40]!r}); install the Noto CJK "
            "fonts (Debian: apt-get install fonts-noto-cjk) and render again."
        )
    # A rare character (an emoji, an uncommon script) prints as a box; the document still holds.
    logger.warning("PDF rendered with characters no installed font has: %r", chars[:40])


# -- formatting, independent of the active language --------------------------------------------


@dataclass(frozen=True)
class Bilingual:
    zh: str
    en: str


def _date(day: datetime.date | None) -> Bilingual | None:
    if day is None:
        return None
    return Bilingual(f"{day.year}年{day.month}月{day.day}日", f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}")


def _moment(at: datetime.datetime) -> Bilingual:
    local = timezone.localtime(at) if timezone.is_aware(at) else at
    offset = local.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else ""
    day = _date(local.date())
    return Bilingual(f"{day.zh} {local:%H:%M} {zone}".strip(), f"{day.en}, {local:%H:%M} {zone}".strip())


def _number(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    value = Decimal(value)
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _entries(seqs: tuple[int, ...]) -> str:
    return ", ".join(f"#{seq}" for seq in seqs)


def _display_width(text: str) -> int:
    """Width in half-em units: a Chinese character counts two, a Latin letter one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _size_class(text: str, steps: tuple[int, ...]) -> str:
    """``size-0`` (largest) to ``size-N``: long texts shrink a step at a time before they wrap."""
    width = _display_width(text)
    for index, limit in enumerate(steps):
        if width <= limit:
            return f"size-{index}"
    return f"size-{len(steps)}"


def _qr_png(url: str) -> str:
    """The QR code of ``url`` as a PNG data: URI (the one kind of URI the fetcher lets through).

    A PNG, not SVG: WeasyPrint parses and draws an SVG path of a thousand segments in ~10 ms, a
    1-bit PNG in about one. The stylesheets print it with ``image-rendering: pixelated`` (no
    smoothing), and five pixels a module keep it sharp in a viewer that smooths anyway.

    The mask pattern is fixed: every one of the eight is valid (readers read the mask from the
    code), and scoring all eight to pick the "best" took a tenth of a certificate's time.
    """
    return segno.make(url, error="m", micro=False, mask=QR_MASK).png_data_uri(
        scale=5, border=0, dark="#1f2a44"
    )


QR_MASK = 1  # horizontal stripes: simple and well spread for these short URLs


# -- certificates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signatory:
    name: Bilingual
    title: Bilingual
    body: Bilingual  # the school or association the signatory signs for


def _signatories(certificate: Certificate) -> list[Signatory]:
    """The signatories of the agreement between the type's school and association, OUC side first.

    Without an agreement, the certificate is signed by the two bodies themselves (empty list).
    """
    cert_type = certificate.request.type
    agreement = (
        CooperationAgreement.objects.filter(school=cert_type.school, association=cert_type.association)
        .order_by("-signed_on", "-pk")
        .first()
    )
    if agreement is None:
        return []
    school, association = cert_type.school, cert_type.association
    bodies = {
        AgreementSignatory.Side.OUC: Bilingual(school.name_zh, school.name_en),
        AgreementSignatory.Side.PARTNER: Bilingual(association.name_zh, association.name_en),
    }
    rows = agreement.signatories.order_by("side", "position", "pk")
    return [
        Signatory(Bilingual(row.name_zh, row.name_en), Bilingual(row.title_zh, row.title_en), bodies[row.side])
        for row in rows
    ]


def _certificate_context(certificate: Certificate, *, compact: bool = False) -> dict:
    request = certificate.request
    cert_type = request.type
    learner = request.learner
    # The name the credential was signed with (``certificate_issue`` sets it before the PDF is
    # made, from the same learner row); a credential that names nobody leaves the email.
    name = certificate.holder_name.strip() or learner.legal_name.strip() or learner.user.email
    url = verify_url(certificate.verification_code)
    signatories = _signatories(certificate)
    return {
        "certificate": certificate,
        "type": cert_type,
        "school": cert_type.school,
        "association": cert_type.association,
        "programme": cert_type.programme,
        "learner_name": name,
        # The steps follow the widths and sizes in certificate.css: at size-0 (28 pt on 150 mm) a
        # name of up to 26 half-em units (13 Chinese characters) fits one line, and so on.
        "name_size": _size_class(name, (26, 50, 78)),
        "title_size": _size_class(cert_type.name_zh or cert_type.name_en, (32, 48, 72)),
        "title_en_size": _size_class(cert_type.name_en, (80, 120)),
        "signatories": signatories,
        "signatory_count": len(signatories),
        "issued": _date(certificate.issued_on),
        "expires": _date(certificate.expires_on),
        "verify_url": url,
        "qr": _qr_png(url),
        "compact": compact,
    }


def certificate_pdf(certificate: Certificate) -> bytes:
    """The certificate as a one-page A4 landscape PDF, in Chinese and English."""
    style = _style(CERTIFICATE_TEMPLATE, "certificate.css")
    document = _render(render_to_string(CERTIFICATE_TEMPLATE, _certificate_context(certificate)), style)
    if len(document.pages) > 1:
        # Very long names and titles: a tighter layout. The sheet clips whatever still overflows,
        # so a certificate is always one page.
        html = render_to_string(CERTIFICATE_TEMPLATE, _certificate_context(certificate, compact=True))
        document = _render(html, style)
        if len(document.pages) > 1:
            logger.warning("certificate %s overflows one page; printing its first page", certificate.serial)
            document = document.copy(document.pages[:1])
    return _write(document)


# -- transcripts -------------------------------------------------------------------------------

OUTCOME_KINDS = {
    "course-result": Bilingual("课程成绩", "Course result"),
    "vocational": Bilingual("职业资格证书", "Vocational qualification certificate"),
    "1+x": Bilingual("“1+X”证书", '"1+X" certificate'),
    "training": Bilingual("非学历培训", "Non-degree training"),
    "work-experience": Bilingual("工作经历", "Work experience"),
    "award": Bilingual("奖项", "Award"),
    "diploma": Bilingual("学历证书", "Academic diploma"),
}
ENROLMENT_STATUSES = {
    "active": Bilingual("在读", "Studying"),
    "completed": Bilingual("已完成", "Completed"),
}
CERTIFICATE_STATUSES = {
    "valid": Bilingual("有效", "Valid"),
    "expired": Bilingual("已过期", "Expired"),
    "revoked": Bilingual("已撤销", "Revoked"),
}


def _label(table: dict[str, Bilingual], value: str) -> Bilingual:
    return table.get(value, Bilingual(value, value))


def _transcript_context(transcript: Transcript, record: TranscriptRecord) -> dict:
    url = verify_url(transcript.verification_code)
    outcomes = [
        {
            "line": line,
            "kind": _label(OUTCOME_KINDS, line.kind),
            "achieved": _date(line.achieved_on),
            "credits": _number(line.credits),
            "entries": _entries(line.entry_seqs),
        }
        for line in record.outcomes
    ]
    conversions = [
        {"line": line, "credits": _number(line.credits), "entries": _entries(line.entry_seqs), "at": _date(timezone.localdate(line.at))}
        for line in record.conversions
    ]
    transfers = [
        {"line": line, "credits": _number(line.credits), "entries": _entries(line.entry_seqs), "at": _date(timezone.localdate(line.at))}
        for line in record.transfers
    ]
    audits = [
        {
            "line": line,
            "status": _label(ENROLMENT_STATUSES, line.status),
            "required": _number(line.required),
            "earned": _number(line.earned),
            "exempted": _number(line.exempted),
            "transferred": _number(line.transferred),
            "completed_on": _date(line.completed_on),
        }
        for line in record.audits
    ]
    certificates = [
        {"line": line, "issued": _date(line.issued_on), "status": _label(CERTIFICATE_STATUSES, line.status)}
        for line in record.certificates
    ]
    return {
        "transcript": transcript,
        "record": record,
        "learner_name": record.legal_name.strip() or record.email,
        "at": _moment(record.at),
        "outcomes": outcomes,
        "conversions": conversions,
        "transfers": transfers,
        "audits": audits,
        "certificates": certificates,
        "totals": {
            "accredited": _number(record.balance),
            "converted": _number(sum((line.credits for line in record.conversions), Decimal(0))),
            "transferred": _number(sum((line.credits for line in record.transfers), Decimal(0))),
            "certificates": len(record.certificates),
        },
        "verify_url": url,
        "qr": _qr_png(url),
    }


def transcript_pdf(transcript: Transcript, record: TranscriptRecord) -> bytes:
    """The transcript as an A4 portrait PDF: every section of the record, numbered pages."""
    style = _style(TRANSCRIPT_TEMPLATE, "transcript.css")
    html = render_to_string(TRANSCRIPT_TEMPLATE, _transcript_context(transcript, record))
    return _write(_render(html, style))
