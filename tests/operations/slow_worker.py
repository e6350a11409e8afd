"""``python -m tests.operations.slow_worker <celery arguments>``: a Celery worker whose certificate
PDFs take SLOW_PDF_SECONDS to render, so a test can kill it in the middle of issuing (after the
certificate's row and serial are made, before its credential and PDF are stored)."""

from __future__ import annotations

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ouc_portal.settings")
django.setup()

from celery.__main__ import main  # noqa: E402 - after Django is set up

from certificates import rendering  # noqa: E402

_render = rendering.certificate_pdf


def slow_certificate_pdf(*args, **kwargs):
    time.sleep(float(os.environ.get("SLOW_PDF_SECONDS", "60")))
    return _render(*args, **kwargs)


rendering.certificate_pdf = slow_certificate_pdf

if __name__ == "__main__":
    sys.argv[0] = "celery"
    sys.exit(main())
