"""Shared fixtures: the fixed cast of people every permission test uses, and the service rule.

The service rule: a test marked ``needs_services`` needs the real stack (PostgreSQL, Redis, a
Celery worker). When DATABASE_URL and REDIS_URL promise that stack (``.ci/run`` sets both), such a
test runs and fails loudly if a service is missing. Only a run that was promised nothing
(``make test`` on a bare machine) skips it, and says so in the summary.
"""

from __future__ import annotations

import contextlib
import copy
import email
import email.policy
import os
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest

from schools.models import Membership
from tests import factories

SERVICES_PROMISED = bool(os.environ.get("DATABASE_URL", "").strip()) and bool(
    os.environ.get("REDIS_URL", "").strip()
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_services") and not SERVICES_PROMISED:
        pytest.skip(
            "needs PostgreSQL, Redis and a Celery worker: DATABASE_URL and REDIS_URL are not set "
            "(.ci/run sets both)"
        )


def pytest_report_header(config: pytest.Config) -> str:
    stack = "PostgreSQL + Redis + Celery worker" if SERVICES_PROMISED else "SQLite, eager Celery"
    return f"ouc-portal stack under test: {stack}"


@dataclass
class Cast:
    """A learner, another learner, and one staff member of each kind, of this and of another scope."""

    school: object
    other_school: object
    association: object
    other_association: object
    learner: object
    other_learner: object
    school_admin: object
    other_school_admin: object
    reviewer: object
    other_reviewer: object
    credit_officer: object
    superuser: object


@pytest.fixture
def cast(db) -> Cast:
    school = factories.IndustrySchoolFactory(slug="mechanical", name_en="School of Mechanical Industry")
    other_school = factories.IndustrySchoolFactory(slug="coal", name_en="School of Coal Industry")
    association = factories.PartnerAssociationFactory(slug="miedc")
    other_association = factories.PartnerAssociationFactory(slug="cnca")

    def staff(email: str, **membership) -> object:
        user = factories.UserFactory(email=email, is_staff=True)
        factories.MembershipFactory(user=user, **membership)
        return user

    return Cast(
        school=school,
        other_school=other_school,
        association=association,
        other_association=other_association,
        learner=factories.LearnerFactory(user__email="learner@example.org").user,
        other_learner=factories.LearnerFactory(user__email="other.learner@example.org").user,
        school_admin=staff("admin@example.org", role=Membership.Role.SCHOOL_ADMIN, school=school),
        other_school_admin=staff(
            "other.admin@example.org", role=Membership.Role.SCHOOL_ADMIN, school=other_school
        ),
        reviewer=staff(
            "reviewer@example.org",
            role=Membership.Role.REVIEWER,
            school=None,
            association=association,
        ),
        other_reviewer=staff(
            "other.reviewer@example.org",
            role=Membership.Role.REVIEWER,
            school=None,
            association=other_association,
        ),
        credit_officer=staff(
            "officer@example.org", role=Membership.Role.CREDIT_OFFICER, school=None, association=None
        ),
        superuser=factories.UserFactory(
            email="root@example.org", is_staff=True, is_superuser=True
        ),
    )


# --- Signing in: a test's force_login is a completed two-step log-in ---------------------------
# A staff session reaches its desk only if it passed the second factor (allauth's record of the
# session's authentications holds an "mfa" entry; ouc_portal/accounts/second_factor.py). Django's
# force_login writes no such record, so for a person with an authenticator app it is made to write
# what allauth writes after the password and the code. tests/accounts/test_second_factor.py signs
# in through the real pages instead, and `password_only_login` makes the session an attacker with
# the password alone would have.
from django.test import Client  # noqa: E402

_plain_force_login = Client.force_login


def password_only_login(client: Client, user) -> None:
    """Sign ``user`` in as a password alone would: allauth's password record, no code."""
    _plain_force_login(client, user)
    factories.record_authentications(client, user, ["password"])


def _force_login_after_both_factors(self: Client, user, backend=None) -> None:
    _plain_force_login(self, user, backend)
    from allauth.mfa.models import Authenticator

    if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        factories.record_authentications(self, user, ["password", "mfa"])


Client.force_login = _force_login_after_both_factors


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Iterator[None]:
    # Services, forms and tasks speak the active language. Tests read their messages in English;
    # a request still picks its own language (LocaleMiddleware), so page tests say which they want.
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # PBKDF2's work factor protects real accounts; in tests it only costs seconds per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Added for the CI stack: cache isolation and a real Celery worker ------------------------


@pytest.fixture(autouse=True)
def _isolated_cache(settings) -> None:
    # allauth keeps its rate limits (sign-ups and log-ins per IP, confirmation mails per address)
    # and TOTP replay guards in the cache. Tests, xdist workers and concurrent runs that share one
    # Redis (or one process's memory) must not count against each other: each test gets its own
    # key prefix.
    caches = copy.deepcopy(settings.CACHES)
    prefix = caches["default"].get("KEY_PREFIX", "")
    caches["default"]["KEY_PREFIX"] = f"{prefix}:test:{uuid.uuid4().hex}"
    settings.CACHES = caches


def _queue_drop(app, queue: str) -> None:
    """Purge and delete ``queue`` on the broker, so a run leaves nothing behind in Redis."""
    with app.connection_for_write() as conn:
        bound = app.amqp.queues[queue](conn.default_channel)
        # Declared on this channel first: kombu removes only the bindings the channel knows.
        bound.declare()
        bound.purge()
        bound.delete()


def long_queue_for(queue: str) -> str:
    """The long-jobs queue that goes with default queue ``queue`` in a test run."""
    return f"{queue}-long"


def use_queues(app, default: str, long: str) -> None:
    """Send from this process to ``default``, and the long tasks (settings) to ``long``.

    Celery keeps its routing table and router once built: both are rebuilt here.
    """
    from django.conf import settings as django_settings

    app.conf.task_default_queue = default
    app.conf.task_routes = {
        name: {**route, "queue": long}
        if route.get("queue") == django_settings.CELERY_LONG_QUEUE
        else route
        for name, route in django_settings.CELERY_TASK_ROUTES.items()
    }
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)


@pytest.fixture(scope="session", autouse=True)
def celery_test_queue(worker_id: str) -> Iterator[str]:
    """Celery queues of this pytest run and xdist worker alone: ``test-<pid>-<worker>`` and its
    long-jobs twin ``<that>-long`` (``long_queue_for``).

    With REDIS_URL set, tasks are not eager in the test process either: whatever a test queues
    goes to these queues (consumed by ``celery_worker_process`` when a test starts one), never to
    the shared ``default`` and ``long`` queues of a real deployment, and both are purged when the
    run ends.
    """
    from django.conf import settings as django_settings

    from ouc_portal.celery import app

    queue = f"test-{os.getpid()}-{worker_id}"
    previous = app.conf.task_default_queue
    use_queues(app, queue, long_queue_for(queue))
    yield queue
    use_queues(app, previous, django_settings.CELERY_LONG_QUEUE)
    if django_settings.REDIS_URL:
        for name in (queue, long_queue_for(queue)):
            try:
                _queue_drop(app, name)
            except Exception as exc:  # the readiness tests report a dead broker; do not mask them
                warnings.warn(f"could not purge Celery queue {name}: {exc!r}", stacklevel=1)


@dataclass
class CeleryWorker:
    """A ``celery worker`` subprocess consuming this run's queue against the test database."""

    queue: str
    hostname: str
    mail_dir: Path
    log_path: Path
    process: subprocess.Popen
    # Where the worker stores files (issued PDFs); tests point settings.MEDIA_ROOT here to read them.
    media_root: Path
    # Every queue it consumes (``queue``, its default, first).
    queues: list[str] = field(default_factory=list)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def mail(self) -> list[EmailMessage]:
        """Every message the worker sent, parsed (headers and bodies decoded)."""
        # The file backend writes one file per connection, each message followed by a rule.
        rule = "-" * 79
        return [
            email.message_from_string(chunk.strip("\n") + "\n", policy=email.policy.default)
            for path in sorted(self.mail_dir.glob("*.log"))
            for chunk in path.read_text(errors="replace").split(rule)
            if chunk.strip()
        ]


def _database_url(db_settings: dict) -> str:
    """A DATABASE_URL for the database pytest-django created (test_<name>[_gwN])."""
    if db_settings["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail(
            "celery_worker_process needs DATABASE_URL to be PostgreSQL: a worker process cannot "
            f"see a {db_settings['ENGINE']} test database"
        )
    user = quote(db_settings.get("USER") or "", safe="")
    password = quote(db_settings.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(db_settings.get("HOST") or "", safe="")
    port = f":{db_settings['PORT']}" if db_settings.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db_settings['NAME'], safe='')}"


@contextlib.contextmanager
def start_celery_worker(
    queues: list[str], *, hostname: str, base: Path, long_queue: str, redis_url: str | None = None,
    module: str = "celery", extra_env: dict[str, str] | None = None,
) -> Iterator[CeleryWorker]:
    """A ``celery worker`` subprocess consuming ``queues`` (the first is its default queue).

    It reads the test database, so it only sees rows a test has committed; its mail goes to
    files under ``base`` and its media to ``base/media``. The queues are purged before it starts
    and after it stops. ``module`` runs instead of ``celery`` (a test's wrapper that changes the
    worker before starting Celery); ``extra_env`` adds settings.
    """
    from django.conf import settings as django_settings

    from ouc_portal.celery import app

    redis_url = redis_url or os.environ.get("REDIS_URL", "").strip()
    if not redis_url:
        pytest.fail("a Celery worker process needs REDIS_URL (.ci/run sets it)")
    mail_dir = base / "mail"
    mail_dir.mkdir()
    log_path = base / "worker.log"
    media_root = base / "media"
    media_root.mkdir()

    env = {key: value for key, value in os.environ.items() if not key.startswith("EMAIL_")}
    env.update(
        DJANGO_SETTINGS_MODULE="ouc_portal.settings",
        DATABASE_URL=_database_url(django_settings.DATABASES["default"]),
        # The worker must not hold a connection the end-of-test flush or the final DROP waits on.
        CONN_MAX_AGE="0",
        REDIS_URL=redis_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        # What the worker itself queues (an issued certificate's email) stays in this run too.
        CELERY_TASK_DEFAULT_QUEUE=queues[0],
        CELERY_LONG_QUEUE=long_queue,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        MEDIA_ROOT=str(media_root),
        PYTHONUNBUFFERED="1",
        **(extra_env or {}),
    )
    # Anything a previous test queued while no worker ran is stale: start from empty queues.
    for queue in queues:
        _queue_drop(app, queue)

    command = [
        sys.executable, "-m", module, "-A", "ouc_portal", "worker",
        "--pool=solo", "--concurrency=1", "-Q", ",".join(queues), "-n", hostname,
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = CeleryWorker(queues[0], hostname, mail_dir, log_path, process, media_root, queues)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"the Celery worker exited with {process.returncode} before answering; "
                    f"its log:\n{worker.log()[-4000:]}"
                )
            if app.control.ping(destination=[hostname], timeout=1.0):
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the Celery worker {hostname} did not answer a ping within 60 s "
                    f"(REDIS_URL={redis_url}); its log:\n{worker.log()[-4000:]}"
                )
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        for queue in queues:
            try:
                _queue_drop(app, queue)
            except Exception as exc:
                warnings.warn(f"could not purge Celery queue {queue}: {exc!r}", stacklevel=1)


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup, celery_test_queue: str, tmp_path_factory
) -> Iterator[CeleryWorker]:
    """Start a real Celery worker for this session (tests using it need ``transactional_db``).

    It consumes both of this run's queues, the default one and the long-jobs one, like a
    deployment's ``worker`` and ``worker-long`` together. With REDIS_URL set, a worker that does
    not come up fails the test that asked for it.
    """
    queue = celery_test_queue
    long_queue = long_queue_for(queue)
    with start_celery_worker(
        [queue, long_queue],
        hostname=f"{queue}@pytest",
        base=tmp_path_factory.mktemp("celery-worker"),
        long_queue=long_queue,
    ) as worker:
        yield worker


@pytest.fixture
def require_postgres(transactional_db) -> None:
    """Race tests need PostgreSQL's row locks; on a run promised PostgreSQL, never skip."""
    from django.db import connection

    if connection.vendor != "postgresql":
        if SERVICES_PROMISED:
            pytest.fail("DATABASE_URL promised PostgreSQL but the tests run on " + connection.vendor)
        pytest.skip("needs PostgreSQL (DATABASE_URL is not set; .ci/run sets it)")


@pytest.fixture
def eager() -> Iterator[None]:
    """Run Celery tasks in the test process, whatever the stack.

    With REDIS_URL set the test process queues to the broker; tests about a task's own behaviour
    (what it sends, that it is idempotent) run it in-process instead. Round trips through a real
    worker use ``celery_worker_process``.
    """
    from ouc_portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def wait_for(condition, what: str, worker: CeleryWorker, timeout: float = 30):
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` and the worker log."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if worker.process.poll() is not None:
            pytest.fail(f"the worker died while waiting for {what}:\n{worker.log()[-4000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s; worker log:\n{worker.log()[-4000:]}")
        time.sleep(0.2)


# --- A small credit-bank world (used by the credit-bank and certificates tests) -------------


@dataclass
class World:
    programme: object
    compulsory: object
    elective: object
    cnc: object  # course replaced by the rule
    drawing: object
    robots: object  # elective course
    learner: object
    enrolment: object
    standard: object
    rule: object
    officer: object
    certificate: object  # submitted, not yet accredited


@pytest.fixture
def world(db, cast):
    """A programme with a compulsory and an elective group, a learner studying it, a CNC
    certificate submitted for accreditation, and a rule that replaces one course."""
    from creditbank import services
    from enrolment.models import Enrolment, EnrolmentStatus

    programme = factories.ProgrammeFactory(school=cast.school, total_credits=Decimal("16"))
    compulsory = factories.RequirementGroupFactory(programme=programme)
    cnc = factories.add_course(compulsory, code="NC201", credits=Decimal("4"), level=5)
    drawing = factories.add_course(compulsory, code="ME101", credits=Decimal("4"), level=5)
    elective = factories.RequirementGroupFactory(
        programme=programme, name_en="Electives", kind="elective", min_credits=Decimal("8"), position=1
    )
    robots = factories.add_course(elective, code="MT204", credits=Decimal("4"), level=5)
    factories.add_course(elective, code="GE101", credits=Decimal("4"), level=5)
    learner = cast.learner.learner
    enrolment = Enrolment.objects.create(
        learner=learner, intake=factories.IntakeFactory(programme=programme), programme=programme,
        status=EnrolmentStatus.ACTIVE,
    )
    standard = factories.RecognitionStandardFactory(code="CNC-OP", level=4, credit_value=Decimal("8"))
    rule = factories.ConversionRuleFactory(code="NCT-CNC", standard=standard, programme=programme, credits=Decimal("4"))
    rule.courses.set([cnc])
    certificate = factories.LearningOutcomeFactory(account=services.account_for(learner))
    return World(programme, compulsory, elective, cnc, drawing, robots, learner, enrolment, standard, rule,
                 cast.credit_officer, certificate)


@pytest.fixture
def accredited(world):
    from creditbank import services

    services.outcome_accredit(
        outcome=world.certificate, standard=world.standard, officer=world.officer, reason="Certificate checked"
    )
    world.certificate.refresh_from_db()
    return world.certificate
