"""The permission matrix: every route and API operation × every role × read and write.

The routes come from the URL resolver and the operations from the OpenAPI schema, so a new page
or endpoint is covered the day it is added: until it has a row in ``tests/permission_matrix.py``
(or falls under one of the framework rules below), ``test_every_route_has_a_row_or_a_rule`` and
``test_every_api_operation_has_a_row`` fail and name it.

One world is built per module (two schools, two associations, a learner with everything a learner
can have, the fixed cast of staff) inside a transaction that is never committed; each cell runs
in a savepoint of its own that is rolled back, so a write that succeeds changes nothing for the
next cell. Roles sign in with a session made the way ``Client.force_login`` makes one, once per
module. The portal refuses staff without an authenticator app (``StaffSecondFactorMiddleware``;
tests/accounts/test_second_factor.py): the factories give every staff member one, so each cell
here shows what the role itself may do.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookies import SimpleCookie
from importlib import import_module
from urllib.parse import urlencode, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.messages import constants as message_levels
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.forms import BaseForm, BaseFormSet
from django.test import Client, override_settings
from django.test.utils import ContextList
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from rest_framework.views import APIView

from schools.models import Membership
from tests import factories
from tests import permission_matrix as pm

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
MINIMAL_BODY = {"permission_matrix": "1"}
# No visit creates rows by design: a learner record and its credit account are made by an explicit
# action (issue 14), so every row of the project's own apps must stay as it was after a refused
# write (tests/test_get_writes_nothing.py holds GETs to it too).
# The audit log records every changing request, refused ones included (ouc_portal/audit): a line
# about an attempt is not something the attempt stored.
RECORDS_EVERY_ATTEMPT = {"audit"}


# --- Routes and operations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """A URL pattern as the resolver has it: full name, full pattern, view."""

    name: str | None
    namespace: str
    pattern: str
    callback: Callable

    @property
    def module(self) -> str:
        return getattr(self.callback, "__module__", "") or ""

    @property
    def api_view(self) -> type | None:
        cls = getattr(self.callback, "cls", None)
        return cls if isinstance(cls, type) and issubclass(cls, APIView) else None


def walk(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[Route]:
    """Every URL pattern under ``resolver``, with namespaces joined the way ``reverse`` wants."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            full = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(full, namespace, prefix + str(entry.pattern), entry.callback)


def schema_operations() -> dict[str, set[str]]:
    """OpenAPI path -> its methods, from the same generator that serves /api/schema/."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        path: {method.upper() for method in item if method.upper() in ("GET", *WRITE_METHODS)}
        for path, item in schema["paths"].items()
    }


def api_endpoints() -> dict[Callable, set[str]]:
    """View callback -> the OpenAPI paths it serves (spectacular's own enumeration of the URLs)."""
    from drf_spectacular.generators import EndpointEnumerator

    paths: dict[Callable, set[str]] = {}
    for path, _regex, _method, callback in EndpointEnumerator().get_api_endpoints():
        paths.setdefault(callback, set()).add(path)
    return paths


# --- Framework routes, grouped by rule --------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Framework routes checked as a group (``where`` says what the rule's test is called)."""

    name: str
    matches: Callable[[Route], bool]
    where: str


RULES = (
    Rule("admin", lambda r: r.namespace.split(":")[0] == "admin", "test_admin"),
    Rule("allauth", lambda r: r.module.startswith("allauth."), "test_allauth_pages"),
    Rule("i18n", lambda r: r.name == "set_language", "test_language_switch"),
    Rule("api docs", lambda r: r.module.startswith("drf_spectacular."), "test_api_schema_and_docs"),
)


def rule_for(route: Route) -> Rule | None:
    return next((rule for rule in RULES if rule.matches(route)), None)


# --- The world --------------------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, object]  # role -> user (None for the visitor)
    values: dict[str, str]  # what URL arguments are filled with, by name
    sessions: dict[str, str] = field(default_factory=dict)  # role -> signed-in session key


def _signed_in_session(user, *, second_factor: bool = True) -> str:
    """A stored session of ``user``, as allauth's log-in makes one, made once per module: logging
    in again for each of the matrix's cells would cost more than the request. allauth records how
    the session was authenticated: the password, and the code when ``second_factor``."""
    import time

    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    methods = ["password", "mfa"] if second_factor else ["password"]
    store[AUTHENTICATION_METHODS_SESSION_KEY] = [{"method": m, "at": time.time()} for m in methods]
    store["account_authentication_methods_user"] = str(user.pk)
    store.save()
    return store.session_key


def _staff(email: str, **membership) -> object:
    user = factories.UserFactory(email=email, is_staff=True)
    factories.MembershipFactory(user=user, **membership)
    return user


def build_world() -> World:
    """Everything "this" school, association and learner own, and the other ones."""
    from certificates import services as certificates
    from creditbank import services as creditbank
    from enrolment.models import Enrolment, EnrolmentStatus

    school = factories.IndustrySchoolFactory(
        slug="mechanical", name_en="School of Mechanical Industry"
    )
    other_school = factories.IndustrySchoolFactory(slug="coal", name_en="School of Coal Industry")
    association = factories.PartnerAssociationFactory(slug="miedc")
    other_association = factories.PartnerAssociationFactory(slug="cnca")
    factories.CooperationAgreementFactory(school=school, association=association)
    factories.CooperationAgreementFactory(school=other_school, association=other_association)
    learner = factories.LearnerFactory(user__email="learner@example.org")
    other_learner = factories.LearnerFactory(user__email="other.learner@example.org")
    role = Membership.Role
    users = {
        "visitor": None,
        "learner": learner.user,
        "other_learner": other_learner.user,
        "school_admin": _staff("admin@example.org", role=role.SCHOOL_ADMIN, school=school),
        "other_school_admin": _staff(
            "other.admin@example.org", role=role.SCHOOL_ADMIN, school=other_school
        ),
        "reviewer": _staff(
            "reviewer@example.org", role=role.REVIEWER, school=None, association=association
        ),
        "other_reviewer": _staff(
            "other.reviewer@example.org",
            role=role.REVIEWER,
            school=None,
            association=other_association,
        ),
        "credit_officer": _staff(
            "officer@example.org", role=role.CREDIT_OFFICER, school=None, association=None
        ),
        "superuser": factories.UserFactory(
            email="root@example.org", is_staff=True, is_superuser=True
        ),
        # A superuser with an authenticator app, signed in with the password alone.
        pm.PASSWORD_ONLY: factories.UserFactory(
            email="password.only@example.org", is_staff=True, is_superuser=True
        ),
    }
    factories.give_second_factor(users[pm.PASSWORD_ONLY])
    officer, reviewer = users["credit_officer"], users["reviewer"]

    # The school's programme, its structure and intakes; the learner studies it.
    centre = factories.LearningCentreFactory(code="baic")
    programme = factories.ProgrammeFactory(school=school, slug="nct", total_credits=Decimal("16"))
    group = factories.RequirementGroupFactory(programme=programme)
    course = factories.add_course(group, code="NC201", credits=Decimal("4"), level=5)
    factories.add_course(group, code="ME101", credits=Decimal("4"), level=5)
    free_course = factories.CourseFactory(school=school, code="MT204")
    draft_programme = factories.ProgrammeFactory(school=school, slug="nct-next", status="draft")
    draft_group = factories.RequirementGroupFactory(programme=draft_programme)
    intake = factories.IntakeFactory(programme=programme, centre=centre)
    open_intake = factories.IntakeFactory(programme=programme, centre=centre, year=2027)
    enrolment = Enrolment.objects.create(
        learner=learner, intake=intake, programme=programme, status=EnrolmentStatus.ACTIVE
    )
    # An application waiting for the school's decision (a third learner's).
    application = Enrolment.objects.create(
        learner=factories.LearnerFactory(), intake=intake, programme=programme,
        status=EnrolmentStatus.APPLIED,
    )  # fmt: skip

    # The credit bank: a standard, a rule, an outcome waiting with its evidence, one accredited.
    account = creditbank.account_for(learner)
    creditbank.account_for(other_learner)
    standard = factories.RecognitionStandardFactory(
        code="CNC-OP", level=4, credit_value=Decimal("8")
    )
    rule = factories.ConversionRuleFactory(
        code="NCT-CNC", standard=standard, programme=programme, credits=Decimal("4")
    )
    rule.courses.set([course])
    outcome = creditbank.outcome_submit(
        learner=learner,
        files=[SimpleUploadedFile("certificate.pdf", PDF)],
        kind="vocational",
        title="CNC Lathe Operator (intermediate)",
        issuing_body_name="Education Development Center of Mechanical Industry",
        achieved_on=timezone.localdate() - datetime.timedelta(days=400),
        level=5,
        grade="B",
        certificate_number="MIEDC-000001",
    )
    accredited = factories.LearningOutcomeFactory(
        account=account, certificate_number="MIEDC-000002"
    )
    creditbank.outcome_accredit(
        outcome=accredited, standard=standard, officer=officer, reason="Certificate checked"
    )

    # Certificates: a request waiting for review, a batch, an issued certificate, a type the
    # learner may still ask for; and a transcript, ready.
    def cert_type(code: str):
        return factories.CertificateTypeFactory(school=school, association=association, code=code)

    waiting = factories.completed_request(learner=learner, cert_type=cert_type("nct-completion"))
    batch_type = cert_type("nct-batch")
    batched = factories.completed_request(learner=factories.LearnerFactory(), cert_type=batch_type)
    batch = certificates.requests_bulk_decide(
        reviewer=reviewer, association=association, request_ids=[batched.pk], decision="approve"
    )
    to_issue = factories.completed_request(learner=learner, cert_type=cert_type("nct-vocational"))
    certificates.request_approve(request=to_issue, reviewer=reviewer)
    certificate = certificates.certificate_issue(request_id=to_issue.pk)
    eligible = cert_type("nct-honours")
    Enrolment.objects.create(
        learner=learner,
        intake=factories.IntakeFactory(programme=eligible.programme),
        programme=eligible.programme,
        status=EnrolmentStatus.COMPLETED,
    )
    transcript = certificates.transcript_request(learner=learner)
    certificates.transcript_build(transcript_id=transcript.pk)
    # A partner system's API token of the association (schools.tokens), and its key.
    partner = factories.partner_token(association=association, created_by=reviewer)

    values = {
        "school": school.slug,
        "association": association.slug,
        "centre": centre.code,
        "programme": programme.slug,
        "group": str(group.pk),
        "draft_programme": draft_programme.slug,
        "draft_group": str(draft_group.pk),
        "course": course.code,
        "free_course": free_course.code,
        "application": str(application.public_id),
        "other_school": other_school.slug,
        "intake": str(intake.public_id),
        "open_intake": str(open_intake.public_id),
        "enrolment": str(enrolment.public_id),
        "learner": str(learner.public_id),
        "account": account.number,
        "standard_code": standard.code,
        "standard_version": str(standard.version),
        "rule_code": rule.code,
        "rule_version": str(rule.version),
        "outcome": str(outcome.public_id),
        "evidence": str(outcome.evidence.get().public_id),
        "accredited_outcome": str(accredited.public_id),
        "request": str(waiting.public_id),
        "batch": str(batch.public_id),
        "certificate_serial": certificate.serial,
        "verification_code": certificate.verification_code,
        "eligible_type": eligible.code,
        "transcript": str(transcript.public_id),
        "status_list": "0",
        "key_version": "1",  # the school's first key, made when the certificate above was signed
        "status_purpose": "revocation",
        "achievement_path": f"certificate-types/{eligible.code}/",
        "token": str(partner.token.public_id),
        "token_key": partner.key,
    }
    sessions = {
        role: _signed_in_session(user, second_factor=role != pm.PASSWORD_ONLY)
        for role, user in users.items()
        if user is not None
    }
    return World(users=users, values=values, sessions=sessions)


@contextlib.contextmanager
def world_never_committed(django_db_blocker, build: Callable[[], World] = build_world) -> Iterator[World]:
    """A world built once for a module in a transaction that is rolled back at the end, its files
    in a media folder of its own: every test runs in a savepoint inside it."""
    with (
        tempfile.TemporaryDirectory(prefix="world-media-") as media,
        override_settings(
            MEDIA_ROOT=media, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
        ),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        yield build()
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    with world_never_committed(django_db_blocker) as built:
        yield built


@pytest.fixture(scope="module")
def _module_client() -> Client:
    # One client for the module: a new one loads the middleware again (WhiteNoise scans every
    # static file when it starts), which would cost more than the request itself.
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def client(_module_client: Client) -> Client:
    """The module's client, signed out, with no cookie left by the previous test."""
    _module_client.cookies = SimpleCookie()
    return _module_client


# --- Reading an answer ------------------------------------------------------------------------------


def _login_paths() -> set[str]:
    # The second-factor code prompt is a log-in step too (ouc_portal/accounts/second_factor.py).
    return {reverse(settings.LOGIN_URL), reverse("admin:login"), reverse("mfa_reauthenticate")}


def _form_errors(response) -> bool:
    """Whether the page re-rendered a bound form (or the admin's form) with errors."""
    contexts = response.context
    if contexts is None:
        return False
    if not isinstance(contexts, ContextList):
        contexts = [contexts]
    for context in contexts:
        for value in context.flatten().values():
            form = getattr(value, "form", value)  # the admin wraps its form in an AdminForm
            if isinstance(form, (BaseForm, BaseFormSet)) and form.is_bound and form.errors:
                return True
    return False


def _error_messages(response) -> list[str]:
    storage = getattr(response.wsgi_request, "_messages", None)
    return [str(m) for m in storage or [] if m.level >= message_levels.ERROR]


def outcome_of(response, *, api: bool, anonymous: bool, write: bool) -> str:
    """What a response means, in the matrix's words (see tests/permission_matrix.py)."""
    status = response.status_code
    if status == 405:
        return pm.METHOD
    if status in (301, 302, 303, 307, 308):
        if urlsplit(response["Location"]).path in _login_paths():
            return pm.LOGIN
        return pm.INVALID if write and _error_messages(response) else pm.OK
    if status in (401, 403):
        return pm.LOGIN if api and anonymous else pm.FORBIDDEN
    if status == 404:
        return pm.DENIED
    if status == 400:
        return pm.INVALID
    if 200 <= status < 300 or status == 304:
        if write and not api and (_form_errors(response) or _error_messages(response)):
            return pm.INVALID
        return pm.OK
    return f"HTTP {status}"


@functools.cache
def _project_models() -> list:
    """Every model of the project's own apps (not the framework's), new apps included."""
    base = str(settings.BASE_DIR)
    return [
        model
        for config in apps.get_app_configs()
        if str(config.path).startswith(base) and "site-packages" not in str(config.path)
        for model in config.get_models()
        if model._meta.app_label not in RECORDS_EVERY_ATTEMPT
    ]


def snapshot() -> dict[str, int]:
    """Row counts of every model of the project's apps, the audit log aside, read in one query:
    it runs twice for most of the matrix's cells."""
    models = _project_models()
    quote = connection.ops.quote_name
    # Table names from the models, quoted by the backend: nothing here comes from a request.
    tables = [quote(model._meta.db_table) for model in models]
    counts = ", ".join(f"(SELECT COUNT(*) FROM {table})" for table in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        row = cursor.fetchone()
    return {model._meta.label: count for model, count in zip(models, row, strict=True)}


def _value(world: World, name: str) -> str:
    if name not in world.values:
        raise KeyError(
            f"no world value {name!r}: add it to build_world() in {__name__} "
            f"(the values are {sorted(world.values)})"
        )
    return world.values[name]


def _body(world: World, body: dict[str, str] | None) -> dict[str, str]:
    if body is None:
        # One field nobody reads: a view that binds its form to ``request.POST or None`` would
        # take an empty body for a GET.
        return MINIMAL_BODY
    return {k: _value(world, v[1:]) if v.startswith("@") else v for k, v in body.items()}


def _send(client, method: str, url: str, body: dict[str, str]):
    if method == "GET":
        return client.get(url)
    if method == "POST":
        return client.post(url, body)  # multipart, which every API parser here takes
    if method in ("PUT", "PATCH"):
        return getattr(client, method.lower())(
            url, json.dumps(body), content_type="application/json"
        )
    return client.delete(url)


def not_signed_in(user, role: str) -> bool:
    """Nobody, or a session short of its second factor: the API's 401/403 then means "log in"."""
    return user is None or role == pm.PASSWORD_ONLY


def sign_in(client, world: World, role: str):
    """Sign ``role`` in (nobody for the visitor); the user, or None."""
    user = world.users[role]
    if user is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return user


def check_cell(client, world: World, *, role: str, method: str, url: str, expected: str,
               api: bool, write: bool, must_not_store: bool, body: dict | None = None) -> None:  # fmt: skip
    user = sign_in(client, world, role)
    must_not_store = must_not_store or expected != pm.OK
    before = snapshot() if must_not_store else None
    response = _send(client, method, url, _body(world, body))
    actual = outcome_of(response, api=api, anonymous=not_signed_in(user, role), write=write)
    where = f"{method} {url} as {role}"
    assert actual == expected, (
        f"{where}: expected {expected!r}, got {actual!r} (HTTP {response.status_code}"
        + (f" -> {response['Location']}" if response.has_header("Location") else "")
        + (f", errors: {_error_messages(response)}" if _error_messages(response) else "")
        + ")"
    )
    # An answer to a signed-in person (or one under a personal prefix) is for them alone: no shared
    # cache or browser disk keeps it (ouc_portal.security.PrivateResponsesMiddleware).
    from ouc_portal.security import PERSONAL_PREFIXES

    if user is not None or urlsplit(url).path.startswith(PERSONAL_PREFIXES):
        cache_control = {d.strip() for d in response.get("Cache-Control", "").split(",")}
        assert {"private", "no-store"} <= cache_control, f"{where}: Cache-Control {cache_control}"
    if must_not_store:
        after = snapshot()
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert not changed, f"{where} answered {actual!r} but stored rows: {changed}"


# --- Cells ------------------------------------------------------------------------------------------


def _mark(reason: str | None) -> tuple:
    return (pytest.mark.xfail(strict=True, reason=reason),) if reason else ()


def page_cells() -> Iterator:
    for name, row in pm.PAGES.items():
        for kind, table in ((pm.READ, row.read), (pm.WRITE, row.write)):
            for role in pm.ROLES:
                yield pytest.param(
                    name, role, kind, table[role],
                    id=f"{name}-{role}-{kind}", marks=_mark(row.bugs.get((role, kind))),
                )  # fmt: skip


def _page_url(world: World, name: str, row: pm.Row, route: Route, **override: str) -> str:
    names = re.findall(r"<(?:\w+:)?(\w+)>", route.pattern)
    kwargs = {
        arg: _value(
            world, override.get(arg) or row.kwargs.get(arg) or pm.DEFAULT_KWARGS.get(arg, arg)
        )
        for arg in names
    }
    url = reverse(name, kwargs=kwargs)
    return url + "?" + urlencode(row.query) if row.query else url


_ROUTES: dict[str, Route] = {}


def _route(name: str) -> Route | None:
    if not _ROUTES:
        _ROUTES.update({route.name: route for route in walk() if route.name})
    return _ROUTES.get(name)


@pytest.mark.parametrize(("name", "role", "kind", "expected"), list(page_cells()))
def test_page(client, world, name, role, kind, expected):
    row = pm.PAGES[name]
    route = _route(name)
    assert route is not None, (
        f"{name} has a row in tests/permission_matrix.py but no URL: drop the row"
    )
    url = _page_url(world, name, row, route)
    method = "GET" if kind == pm.READ else "POST"
    check_cell(client, world, role=role, method=method, url=url, expected=expected, api=False,
               write=kind == pm.WRITE, must_not_store=not row.writes, body=row.body)  # fmt: skip


def api_cells() -> Iterator:
    for path, operations in pm.API.items():
        for method, op in operations.items():
            for role in pm.ROLES:
                yield pytest.param(
                    path, method, role, op.cells[role],
                    id=f"{method} {path}-{role}", marks=_mark(op.bugs.get(role)),
                )  # fmt: skip


def _api_url(world: World, path: str, op: pm.Op) -> str:
    def fill(match: re.Match) -> str:
        arg = match.group(1)
        return _value(world, pm.API_KWARGS.get((path, arg)) or pm.DEFAULT_KWARGS.get(arg, arg))

    url = re.sub(r"{(\w+)}", fill, path)
    if op.query:
        url += "?" + urlencode({k: world.values.get(v, v) for k, v in op.query.items()})
    return url


@pytest.mark.parametrize(("path", "method", "role", "expected"), list(api_cells()))
def test_api(client, world, path, method, role, expected):
    op = pm.API[path][method]
    url = _api_url(world, path, op)
    # A GET never stores, whoever sends it; a write by the entitled may.
    check_cell(client, world, role=role, method=method, url=url, expected=expected, api=True,
               write=method != "GET", must_not_store=method == "GET", body=op.body)  # fmt: skip


# --- A partner system's API token: the reviewers' API, and nothing else ------------------------------

# The operations a partner token is made for (README, "Partner systems"); it acts there exactly as
# a reviewer of its association, signed in with a session, does.
PARTNER_TOKEN_PATHS = ("/api/v1/review/requests/", "/api/v1/review/certificates/")
PARTNER_KEY_REFUSED = "Partner API keys work only on the reviewers' API"


def _reads_no_credentials(url: str) -> bool:
    """An operation anonymous by design (``authentication_classes = []``): it never reads the
    Authorization header, so a key there is nobody's, as for a visitor."""
    view = resolve(urlsplit(url).path).func
    return not view.cls().get_authenticators()


def partner_token_cells() -> Iterator:
    for path, methods in sorted(schema_operations().items()):
        for method in sorted(methods):
            yield pytest.param(path, method, id=f"{method} {path}")


@pytest.mark.parametrize(("path", "method"), list(partner_token_cells()))
def test_a_partner_token_acts_only_through_the_review_api(client, world, path, method):
    """Every operation of the OpenAPI schema, called with a valid partner key and no session: the
    reviewers' API answers as to the association's reviewer; every other operation refuses the
    key (403, saying where keys work) and stores nothing, not even a learner record, a credit
    account or the token's last use (issue 14: a key once opened a credit account and filed
    evidence through the learner API)."""
    from schools.models import PartnerToken

    op = pm.API[path][method]
    url = _api_url(world, path, op)
    token = PartnerToken.objects.get(public_id=world.values["token"])
    last_used = token.last_used_at
    before = snapshot()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.values['token_key']}"
    try:
        response = _send(client, method, url, _body(world, op.body))
    finally:
        del client.defaults["HTTP_AUTHORIZATION"]
    actual = outcome_of(response, api=True, anonymous=False, write=method != "GET")
    where = f"{method} {url} with a partner key"
    if path.startswith(PARTNER_TOKEN_PATHS):
        expected = op.cells["reviewer"]
        assert actual == expected, f"{where}: expected {expected!r} as for the reviewer, got {actual!r}"
        if method == "GET" or expected != pm.OK:
            assert snapshot() == before, f"{where} stored rows"
        return
    if _reads_no_credentials(url):
        expected = op.cells["visitor"]
        assert actual == expected, f"{where}: expected {expected!r} as for a visitor, got {actual!r}"
    else:
        assert response.status_code == 403, f"{where}: expected 403, got HTTP {response.status_code}"
        assert PARTNER_KEY_REFUSED in response.json()["detail"], where
    after = snapshot()
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"{where} answered HTTP {response.status_code} but stored rows: {changed}"
    token.refresh_from_db()
    assert token.last_used_at == last_used, f"{where} noted the key as used"


def test_a_partner_key_beside_a_session_is_still_refused_outside_the_review_api(client, world):
    """The key is refused, not ignored: a session in the same request does not carry it through."""
    sign_in(client, world, "learner")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.values['token_key']}"
    try:
        response = client.get("/api/v1/me/enrolments/")
    finally:
        del client.defaults["HTTP_AUTHORIZATION"]
    assert response.status_code == 403 and PARTNER_KEY_REFUSED in response.json()["detail"]


def test_the_schema_offers_the_partner_key_only_on_the_review_api():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    listed, review = set(), set()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            key = f"{method.upper()} {path}"
            if path.startswith(PARTNER_TOKEN_PATHS):
                review.add(key)
            if {"partnerToken": []} in operation.get("security", []):
                listed.add(key)
                assert "401" in operation["responses"], key
            else:
                assert "401" not in operation["responses"], f"{key} documents a 401 only partner keys get"
    assert review and listed == review


# --- Another school's administrator, through their own school's address ----------------------------


def _school_scoped() -> Iterator:
    """Routes addressed by a school and something of it: each read and write, by the other
    school's administrator with their own school in the URL and this school's object after it."""
    for name, row in pm.PAGES.items():
        route = _route(name)
        args = re.findall(r"<(?:\w+:)?(\w+)>", route.pattern) if route else []
        if "school_slug" in args and len(args) > 1:
            for kind, table in ((pm.READ, row.read), (pm.WRITE, row.write)):
                yield pytest.param(
                    "page", name, kind, table["other_school_admin"], id=f"{name}-{kind}"
                )
    for path, operations in pm.API.items():
        if "{school_slug}" in path and path.count("{") > 1:
            for method, op in operations.items():
                yield pytest.param(
                    "api", path, method, op.cells["other_school_admin"], id=f"{method} {path}"
                )


@pytest.mark.parametrize(("surface", "name", "kind", "expected"), list(_school_scoped()))
def test_other_school_admin_through_own_school(client, world, surface, name, kind, expected):
    """/manage/coal/enrolments/<a mechanical enrolment>/ is as unknown to coal's administrator as
    /manage/mechanical/enrolments/<it>/: the object is looked up within the school in the URL."""
    if surface == "page":
        row = pm.PAGES[name]
        url = _page_url(world, name, row, _route(name), school_slug="other_school")
        method, body, api = ("GET" if kind == pm.READ else "POST"), row.body, False
    else:
        op = pm.API[name][kind]
        url = _api_url(world, name, op).replace(
            f"/schools/{world.values['school']}/", f"/schools/{world.values['other_school']}/"
        )
        method, body, api = kind, op.body, True
    check_cell(client, world, role="other_school_admin", method=method, url=url, expected=expected,
               api=api, write=method != "GET", must_not_store=True, body=body)  # fmt: skip


# --- Coverage: the matrix has a row for everything there is ----------------------------------------


def test_every_route_has_a_row_or_a_rule():
    endpoints = api_endpoints()
    missing: list[str] = []
    for route in walk():
        if rule_for(route):
            continue
        if route.api_view is not None:
            paths = endpoints.get(route.callback) or set()
            if not paths:
                missing.append(
                    f"API route {route.pattern} ({route.name}) is not in the OpenAPI schema"
                )
            for path in sorted(paths):
                if path not in pm.API:
                    missing.append(
                        f"API route {route.pattern} ({route.name}): add {path!r} to API in "
                        "tests/permission_matrix.py"
                    )
            continue
        if route.name is None:
            missing.append(
                f"route {route.pattern} ({route.module}) has no name: name it, then add its row"
            )
        elif route.name not in pm.PAGES:
            missing.append(
                f"route {route.name} ({route.pattern}, {route.module}) has no row: add {route.name!r} "
                "to PAGES in tests/permission_matrix.py, or a rule to RULES in "
                "tests/test_permission_matrix.py if it is framework machinery"
            )
    names = {route.name for route in walk()}
    missing += [
        f"PAGES row {name!r} names no route: drop it" for name in pm.PAGES if name not in names
    ]
    assert not missing, "the permission matrix does not cover every route:\n" + "\n".join(missing)


def test_every_api_operation_has_a_row():
    operations = schema_operations()
    missing: list[str] = []
    for path, methods in sorted(operations.items()):
        rows = pm.API.get(path, {})
        missing += [
            f"{method} {path} has no row: add API[{path!r}][{method!r}] to tests/permission_matrix.py"
            for method in sorted(methods - set(rows))
        ]
    for path, rows in pm.API.items():
        if path not in operations:
            missing.append(f"API row {path!r} is not in the OpenAPI schema: drop it")
            continue
        if "GET" not in rows:
            missing.append(f"{path}: the matrix needs a read (GET) row, 'method' if it has no GET")
        if not set(rows) & set(WRITE_METHODS):
            missing.append(f"{path}: the matrix needs a write row, 'method' if it takes no write")
        # A padded method (one the schema does not list) must be answered 405 by the entitled.
        for method, op in rows.items():
            if method not in operations[path] and pm.OK in op.cells.values():
                missing.append(f"{method} {path} is not in the schema yet someone gets 'ok'")
    assert not missing, "the permission matrix does not cover every API operation:\n" + "\n".join(
        missing
    )


def test_every_rule_route_is_checked():
    """The framework routes the rules cover are the ones their tests below exercise."""
    covered = {rule.name: [route for route in walk() if rule_for(route) is rule] for rule in RULES}
    assert all(covered.values()), (
        f"a rule matches no route any more: {[n for n, r in covered.items() if not r]}"
    )


# --- Rules: framework routes ------------------------------------------------------------------------

NON_STAFF = ("visitor", "learner", "other_learner")
# The Django admin: superusers everything; a school administrator the network rows of their school
# (schools/admin.py); other staff nothing; anyone not staff goes to the admin's log-in page.
# Rows nobody adds by hand, superusers included: the portal's services make them.
ADMIN_NO_ADD = {
    "certificates.certificate",
    "certificates.certificaterequest",
    "certificates.transcript",
    "audit.auditevent",
    "outbox.outboxtask",
}
ADMIN_SCHOOL_ADMIN_CHANGELISTS = {
    "schools.industryschool",
    "schools.partnerassociation",
    "schools.cooperationagreement",
    "schools.learningcentre",
}


def admin_cells() -> Iterator:
    models = sorted(f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry)
    for role in pm.ROLES:
        staff = role not in NON_STAFF and role != pm.PASSWORD_ONLY
        yield pytest.param(
            "index", "", role, pm.OK if staff else pm.LOGIN, id=f"admin:index-{role}"
        )
        for model in models:
            if not staff:
                view = add = pm.LOGIN
            elif role == "superuser":
                view, add = pm.OK, pm.FORBIDDEN if model in ADMIN_NO_ADD else pm.INVALID
            elif role.endswith("school_admin") and model in ADMIN_SCHOOL_ADMIN_CHANGELISTS:
                view, add = pm.OK, pm.FORBIDDEN
            else:
                view = add = pm.FORBIDDEN
            yield pytest.param(
                "changelist", model, role, view, id=f"admin:{model}_changelist-{role}"
            )
            yield pytest.param("add", model, role, add, id=f"admin:{model}_add-{role}-write")


@pytest.mark.parametrize(("view", "model", "role", "expected"), list(admin_cells()))
def test_admin(client, world, view, model, role, expected):
    if view == "index":
        url, method = reverse("admin:index"), "GET"
    else:
        app_label, model_name = model.split(".")
        url = reverse(f"admin:{app_label}_{model_name}_{view}")
        method = "GET" if view == "changelist" else "POST"
    check_cell(client, world, role=role, method=method, url=url, expected=expected, api=False,
               write=method == "POST", must_not_store=False)  # fmt: skip


# allauth's own pages: anyone reaches them (a page, or a redirect: to log in, or away from a page
# that is not for them, such as the log-in page for someone signed in). Links with keys get
# made-up keys: allauth answers those with its "bad link" page.
ALLAUTH_KWARGS = {"key": "not-a-real-key", "uidb36": "0"}
# Pages about an authenticator: allauth answers 404 to someone who has none (nobody in the world).
ALLAUTH_NEEDS_AUTHENTICATOR = {
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_download_recovery_codes",
}


def allauth_cells() -> Iterator:
    for route in walk():
        if rule_for(route) and rule_for(route).name == "allauth":
            for role in pm.ROLES:
                yield pytest.param(route.name, role, id=f"{route.name}-{role}")


@pytest.mark.parametrize(("name", "role"), list(allauth_cells()))
def test_allauth_pages(client, world, name, role):
    route = _route(name)
    args = re.findall(r"\(\?P<(\w+)>", route.pattern) + re.findall(
        r"<(?:\w+:)?(\w+)>", route.pattern
    )
    url = reverse(name, kwargs={arg: ALLAUTH_KWARGS[arg] for arg in args})
    user = sign_in(client, world, role)
    before = snapshot()
    response = client.get(url)
    actual = outcome_of(response, api=False, anonymous=not_signed_in(user, role), write=False)
    allowed = {pm.OK, pm.LOGIN} | ({pm.DENIED} if name in ALLAUTH_NEEDS_AUTHENTICATOR else set())
    assert actual in allowed, f"GET {url} as {role}: {actual} (HTTP {response.status_code})"
    assert snapshot() == before


@pytest.mark.parametrize("role", pm.ROLES)
def test_language_switch(client, world, role):
    """Django's set_language: anyone switches, nothing of the portal's is stored."""
    user = sign_in(client, world, role)
    before = snapshot()
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert outcome_of(response, api=False, anonymous=user is None, write=True) == pm.OK
    assert snapshot() == before


@pytest.mark.parametrize("name", ["api-schema", "api-docs"])
@pytest.mark.parametrize("role", pm.ROLES)
def test_api_schema_and_docs(client, world, name, role):
    """The schema and its docs are public (they describe the API, not anyone's data); a session
    short of its second factor reaches nothing but the code prompt."""
    user = sign_in(client, world, role)
    response = client.get(reverse(name))
    expected = pm.LOGIN if role == pm.PASSWORD_ONLY else pm.OK
    assert outcome_of(response, api=True, anonymous=not_signed_in(user, role), write=False) == expected
