"""Evidence files: the type is read from the content, never trusted from the name or the browser."""

from __future__ import annotations

import hashlib

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
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return content_type, digest.hexdigest()
