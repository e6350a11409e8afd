"""Long jobs have their own Celery queue, so a bulk issue never delays a welcome email.

The routes are read from Celery's own router (what ``delay()`` uses); with REDIS_URL set, the
messages are also looked at in Redis, and a worker that consumes only the default queue delivers
a welcome email while certificate-issue jobs wait, untouched, on the long queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from ouc_portal.celery import app
from tests import factories
from tests.conftest import (
    _queue_drop,
    long_queue_for,
    start_celery_worker,
    use_queues,
    wait_for,
)
from tests.ouc_portal.test_settings import clean_env, run_python

# Every task of the project and where it belongs. A new task fails this file until its author
# decides: a long job (rendering, signing, a sweep over many rows) or a short one (an email).
LONG_TASKS = {
    "certificates.issue_certificate",
    "certificates.build_transcript",
    "creditbank.expire_outcomes",
}
SHORT_TASKS = {
    "ouc_portal.ping",
    "outbox.reconcile",  # reads at most 1,000 rows and publishes them: short
    "ouc_portal.accounts.tasks.send_welcome_email",
    "accounts.send_rendered_email",  # allauth's confirmation and password-reset emails
    "enrolment.tasks.send_enrolment_status_email",
    "certificates.send_certificate_issued",
    "certificates.send_transcript_ready",
}
WELCOME_SUBJECT = "Welcome to the OUC industry schools"


def project_tasks() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def routed_queue(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def test_settings_route_the_long_tasks_to_the_long_queue() -> None:
    assert settings.CELERY_LONG_QUEUE == "long"
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "default"
    assert settings.CELERY_TASK_ROUTES == {name: {"queue": "long"} for name in LONG_TASKS}


def test_every_task_is_classified_long_or_short() -> None:
    assert project_tasks() == LONG_TASKS | SHORT_TASKS


@pytest.mark.parametrize("name", sorted(LONG_TASKS))
def test_a_long_task_is_sent_to_the_runs_long_queue(name: str, celery_test_queue: str) -> None:
    # The test process sends to this run's own queues (tests/conftest.py), never to "long".
    assert routed_queue(name) == long_queue_for(celery_test_queue)


@pytest.mark.parametrize("name", sorted(SHORT_TASKS))
def test_an_email_task_stays_on_the_default_queue(name: str, celery_test_queue: str) -> None:
    assert routed_queue(name) == celery_test_queue


def test_the_long_queue_is_named_by_the_environment() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "from ouc_portal.celery import app; "
        "print(s.CELERY_LONG_QUEUE, app.amqp.router.route({}, 'certificates.issue_certificate')"
        "['queue'].name, app.amqp.router.route({}, 'certificates.send_certificate_issued')"
        "['queue'].name)"
    )
    result = run_python(["-c", code], clean_env(CELERY_LONG_QUEUE="bulk", CELERY_TASK_DEFAULT_QUEUE="mail"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["bulk", "bulk", "mail"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"CELERY_LONG_QUEUE": "default"}, "CELERY_LONG_QUEUE must differ"),
        ({"CELERY_LONG_QUEUE": "long jobs"}, "CELERY_LONG_QUEUE='long jobs' is not a queue name"),
        ({"CELERY_TASK_DEFAULT_QUEUE": "*"}, "CELERY_TASK_DEFAULT_QUEUE='*' is not a queue name"),
    ],
)
def test_a_bad_queue_setting_stops_startup(values: dict[str, str], message: str) -> None:
    result = run_python(["-c", "import django; django.setup()"], clean_env(**values))
    assert result.returncode != 0
    assert message in result.stderr.strip().splitlines()[-1]


# --- Through Redis --------------------------------------------------------------------------


@pytest.fixture
def own_queues(celery_test_queue: str) -> Iterator[tuple[str, str]]:
    """A default and a long queue of this test alone: the session's worker consumes neither."""
    default, long = f"{celery_test_queue}-q", long_queue_for(f"{celery_test_queue}-q")
    use_queues(app, default, long)
    yield default, long
    use_queues(app, celery_test_queue, long_queue_for(celery_test_queue))
    for queue in (default, long):
        _queue_drop(app, queue)


def queued_tasks(queue: str) -> list[str]:
    """The task names of the messages waiting in ``queue`` (kombu's Redis list), oldest first."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    return [json.loads(raw)["headers"]["task"] for raw in reversed(client.lrange(queue, 0, -1))]


@pytest.mark.needs_services
def test_messages_land_in_the_redis_list_of_their_queue(own_queues: tuple[str, str]) -> None:
    from certificates.tasks import build_transcript, issue_certificate
    from ouc_portal.accounts.tasks import send_welcome_email

    default, long = own_queues
    issue_certificate.delay(1)
    send_welcome_email.delay(1)
    build_transcript.delay(1)
    assert queued_tasks(long) == ["certificates.issue_certificate", "certificates.build_transcript"]
    assert queued_tasks(default) == ["ouc_portal.accounts.tasks.send_welcome_email"]


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_a_bulk_issue_never_delays_a_welcome_email(
    own_queues: tuple[str, str], django_db_setup, tmp_path
) -> None:
    from certificates.tasks import issue_certificate
    from ouc_portal.accounts.tasks import send_welcome_email

    default, long = own_queues
    user = factories.UserFactory(email="new.learner@example.org")
    # A worker of the default queue only, like the `worker` service: no long-queue worker runs,
    # so the bulk below would never move. Queued first, it still does not hold the email up.
    with start_celery_worker(
        [default], hostname=f"{default}@pytest", base=tmp_path, long_queue=long
    ) as worker:
        for request_id in range(1, 51):
            issue_certificate.delay(request_id)
        send_welcome_email.delay(user.pk)

        def welcome() -> list:
            return [m for m in worker.mail() if WELCOME_SUBJECT in m["Subject"]]

        sent = wait_for(welcome, "the welcome email from the default-queue worker", worker)
        assert sent[0]["To"] == "new.learner@example.org"
        assert queued_tasks(long) == ["certificates.issue_certificate"] * 50
        assert "Task certificates.issue_certificate[" not in worker.log()  # never received
