"""Evidence files: the type is read from the content, never trusted from the name or the browser."""

from __future__ import annotations

import hashlib
import os

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from creditbank.errors import CreditBankError

# Leading bytes of each accepted format.
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}


# The extensions a name may end in for each format, and the format's name in messages.
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/png": (".png",),
}
FORMAT_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
# Extensions that name a file type: one of these that is not the content's own is a mismatch.
# Anything else after a dot ("Scan 2024.05.03") is part of a name, not a claim about the content.
TYPE_EXTENSIONS = frozenset(
    {ext for exts in EXTENSIONS.values() for ext in exts}
    | {".csv", ".txt", ".rtf", ".doc", ".docx", ".odt", ".xls", ".xlsx", ".ods", ".ppt", ".pptx",
       ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif", ".svg", ".html", ".htm",
       ".zip", ".rar", ".7z", ".gz", ".exe", ".js"}
)  # fmt: skip


def sniff(head: bytes) -> str | None:
    for signature, content_type in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    return None


def check_evidence(upload: UploadedFile) -> tuple[str, str]:
    """(content type, sha256) of an acceptable file; refuses anything else with a clear reason."""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise CreditBankError(
            _("%(name)s is %(size)s bytes; each file may be at most %(limit)s bytes (5 MB).")
            % {"name": upload.name, "size": upload.size, "limit": limit}
        )
    if upload.size == 0:
        raise CreditBankError(_("%(name)s is empty.") % {"name": upload.name})
    upload.seek(0)
    content_type = sniff(upload.read(16))
    if content_type is None:
        raise CreditBankError(
            _("%(name)s is not a PDF, JPEG or PNG file (its content says otherwise, whatever its name).")
            % {"name": upload.name}
        )
    # A name that says another format (a PNG saved as "certificate.pdf") would be downloaded under
    # that name and opened with the wrong program: the learner renames it or picks the right file.
    extension = os.path.splitext(upload.name or "")[1].lower()
    if extension in TYPE_EXTENSIONS and extension not in EXTENSIONS[content_type]:
        raise CreditBankError(
            _(
                "%(name)s is a %(format)s file, but its name ends in %(extension)s. Rename it to "
                "end in %(expected)s, or choose the right file."
            )
            % {
                "name": upload.name,
                "format": FORMAT_NAMES[content_type],
                "extension": extension,
                "expected": EXTENSIONS[content_type][0],
            }
        )
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return content_type, digest.hexdigest()
