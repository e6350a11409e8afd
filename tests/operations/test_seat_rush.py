"""200 learners apply at once, through gunicorn, for an intake of 10 seats: no server error, no
seat given twice, and every applicant is told where they stand (a seat, or their waitlist place)."""

from __future__ import annotations

import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.test import Client

from enrolment.models import Enrolment, EnrolmentStatus
from tests import factories
from tests.conftest import _database_url, long_queue_for
from tests.operations.server import get, gunicorn

APPLICANTS = 200
SEATS = 10


def _cookies(headers, jar: dict[str, str]) -> None:
    """Keep the cookies a response sets (the messages the next page shows travel in one)."""
    for header in headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_200_applications_at_once_for_10_seats(celery_test_queue, tmp_path):
    intake = factories.IntakeFactory(capacity=SEATS, requires_approval=True)
    learners = factories.LearnerFactory.create_batch(APPLICANTS)
    sessions = []
    for learner in learners:
        client = Client()
        client.force_login(learner.user)
        sessions.append(client.cookies[django_settings.SESSION_COOKIE_NAME].value)
    path = f"/intakes/{intake.public_id}/apply/"
    env = {
        "DATABASE_URL": _database_url(django_settings.DATABASES["default"]),
        "CONN_MAX_AGE": "0",
        # What the applications queue (their emails) stays in this run's own queues.
        "CELERY_TASK_DEFAULT_QUEUE": celery_test_queue,
        "CELERY_LONG_QUEUE": long_queue_for(celery_test_queue),
    }

    with gunicorn(env, tmp_path / "gunicorn.log", workers=2, threads=8) as base:

        def apply(session: str) -> tuple[int, int, str]:
            csrf = secrets.token_hex(16)
            jar = {django_settings.SESSION_COOKIE_NAME: session, django_settings.CSRF_COOKIE_NAME: csrf}
            cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
            status, headers, _body = get(
                base + path, data=urlencode({"csrfmiddlewaretoken": csrf}).encode(),
                headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
                         "Accept-Language": "en"},
            )  # fmt: skip
            _cookies(headers, jar)
            location = headers.get("Location", "")
            # The applicant follows the answer to their application's page, which says where they stand.
            page_status, _headers, page = get(
                base + location,
                headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()), "Accept-Language": "en"},
            )
            return status, page_status, page

        with ThreadPoolExecutor(max_workers=APPLICANTS) as pool:
            answers = list(pool.map(apply, sessions))

    statuses = sorted({(status, page_status) for status, page_status, _page in answers})
    assert statuses == [(302, 200)], f"answers other than a redirect to the application: {statuses}"
    enrolments = list(Enrolment.objects.filter(intake=intake))
    assert len(enrolments) == APPLICANTS and len({e.learner_id for e in enrolments}) == APPLICANTS
    seated = [e for e in enrolments if e.status == EnrolmentStatus.APPLIED]
    waiting = [e for e in enrolments if e.status == EnrolmentStatus.WAITLISTED]
    assert len(seated) == SEATS and len(waiting) == APPLICANTS - SEATS
    # Everyone was told: a seat (pending the school's review), or their own place on the list.
    told_seat = [page for _s, _p, page in answers if "Application received" in page]
    places = sorted(
        int(m.group(1)) for _s, _p, page in answers
        if (m := re.search(r"you are number (\d+) on the waitlist", page))
    )  # fmt: skip
    assert len(told_seat) == SEATS
    assert places == list(range(1, APPLICANTS - SEATS + 1))
