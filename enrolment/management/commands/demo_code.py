"""``manage.py demo_code``: the second-factor code the demo staff accounts' authenticator shows now.

Demo staff (``seed_demo``) share one published authenticator secret, so a newcomer trying the
portal needs no phone app. Like ``seed_demo`` it refuses to run with DEBUG off: on a real site no
account has that secret, and nobody should be told a code.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from enrolment.management.commands.seed_demo import DEMO_TOTP_SECRET
from ouc_portal.accounts.totp import totp


class Command(BaseCommand):
    help = "Print the current second-factor code of the demo staff accounts (local use only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_code is for the local demo only: it refuses to run with DEBUG off.")
        app = totp(DEMO_TOTP_SECRET)
        now = time.time()
        code = app.at(now)
        left = int(app.interval - now % app.interval)
        self.stdout.write(f"{code}  (valid for {left} more seconds; for every demo staff account)")
