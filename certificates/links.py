"""Absolute links that leave the portal: in PDFs, QR codes, credentials and emails."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def verify_url(code: str) -> str:
    """The public verification page of a certificate or transcript."""
    return absolute(reverse("verify:page", args=[code]))
