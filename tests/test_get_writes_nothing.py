"""No GET writes (issue 14, finding 3): every GET route the URL resolver knows, as every role,
leaves every table as it was.

Reading ``/api/v1/me/enrolments/`` or a page under ``/me/`` used to make a learner record and a
credit account for anyone signed in (staff included). Records are made by explicit actions (a
POST: signing up, saving the learner profile, applying, submitting an outcome, asking for a
transcript); a GET by someone without a learner record answers an empty list, a 404, or a page
with an empty state and the way to begin.

The routes come from the resolver (``tests/test_permission_matrix.walk``), so a new page is
swept the day it is added: the project's pages with the permission matrix's URL arguments, every
operation path of the OpenAPI schema, allauth's pages, the Django admin (every registered model's
changelist, add, change, history and delete pages, with a real row), the language switch and the
API's schema and docs. Each is fetched by the visitor and by every signed-in role of the matrix's
world, and the digest of every table (``tests/bad_input/sweep.fingerprint``: row hashes per table
on PostgreSQL, row counts elsewhere) must be the same after the GET as before.

The digest covers every model of the project's apps, allauth's e-mail addresses, and the audit
log: the audit middleware records only changing requests, so a line there after a GET would be a
write. Left out, because a GET may legitimately touch them and they hold no record of anyone's
learning: Django's sessions (a session's expiry or messages are refreshed by any visit) and the
cache (rate-limit counters, page and fragment caches), which is not a table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.cookies import SimpleCookie
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from tests import permission_matrix as pm
from tests.bad_input.sweep import changed, fingerprint

# With the matrix's one client a module (fixtures ``_module_client`` and ``client``), signed out
# before each test: a new client loads the middleware again (WhiteNoise scans the static files).
from tests.test_permission_matrix import (  # noqa: F401
    ALLAUTH_KWARGS,
    PDF,
    Route,
    World,
    _api_url,
    _module_client,
    _page_url,
    build_world,
    client,
    rule_for,
    schema_operations,
    sign_in,
    walk,
    world_never_committed,
)

pytestmark = pytest.mark.django_db

# A table a route's GET may write, by design of a framework, and why; nothing else is excused.
WRITES_BY_DESIGN = {
    # allauth's e-mail page copies a user's address into its EmailAddress table when the user was
    # made outside sign-up (createsuperuser, the admin, the factories): a mirror of an address
    # the user row already holds, made by allauth's own view, not a record of anyone's learning.
    ("account_email", "account.EmailAddress"),
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """The permission matrix's world, built once and never committed."""
    # No GET here serves a freshly rendered PDF: skip rendering the world's two.
    with (
        mock.patch("certificates.rendering.certificate_pdf", return_value=PDF),
        mock.patch("certificates.rendering.transcript_pdf", return_value=PDF),
        world_never_committed(django_db_blocker) as built,
    ):
        yield built


# --- Every GET route, with real objects in its URL --------------------------------------------------


def _admin_models() -> dict[str, type]:
    return {f"{m._meta.app_label}_{m._meta.model_name}": m for m in admin.site._registry}


def _first_pk(model) -> str:
    row = model._default_manager.order_by("pk").first()
    return str(row.pk) if row is not None else "0"


def _admin_url(route: Route) -> str:
    """An admin route's URL, with a real row of its model where it names one."""
    if route.name is None:
        # The admin's unnamed routes: <model>/<object_id>/ (a redirect to the change page) and
        # the catch-all for unknown addresses.
        path = "/" + route.pattern.lstrip("^").rstrip("$")
        if "(?P<url>" in path:
            return re.sub(r"\(\?P<url>[^)]*\)", "no-such-page/", path)
        app_label, model_name = path.split("/")[2:4]
        return path.replace("<path:object_id>", _first_pk(_admin_models()[f"{app_label}_{model_name}"]))
    kwargs: dict[str, str] = {}
    if "app_label" in route.pattern:
        kwargs["app_label"] = re.search(r"\(\?P<app_label>([\w]+)", route.pattern).group(1)
    if "content_type_id" in route.pattern:  # view on site: a real object of a model with a page
        from enrolment.models import Programme

        kwargs.update(
            content_type_id=str(ContentType.objects.get_for_model(Programme).pk), object_id=_first_pk(Programme)
        )
    elif "object_id" in route.pattern or "<id>" in route.pattern:
        app_label, model_name = route.pattern.split("/")[1:3]
        key = "object_id" if "object_id" in route.pattern else "id"
        kwargs[key] = _first_pk(_admin_models()[f"{app_label}_{model_name}"])
    return reverse(route.name, kwargs=kwargs)


def _url(world: World, route: Route) -> str | None:
    """The URL to GET for ``route``; None for an API route (swept through the schema's paths)."""
    if route.api_view is not None:
        return None
    rule = rule_for(route)
    if rule is None:
        return _page_url(world, route.name, pm.PAGES[route.name], route)
    if rule.name == "allauth":
        args = re.findall(r"\(\?P<(\w+)>", route.pattern) + re.findall(r"<(?:\w+:)?(\w+)>", route.pattern)
        return reverse(route.name, kwargs={arg: ALLAUTH_KWARGS[arg] for arg in args})
    if rule.name == "admin":
        return _admin_url(route)
    return reverse(route.name)  # the language switch, the API's schema and docs


def routes() -> Iterator:
    for route in walk():
        if route.api_view is None:
            yield pytest.param(route, id=route.name or route.pattern)
    for path in sorted(schema_operations()):
        yield pytest.param(path, id=f"api {path}")


@pytest.mark.parametrize("route", list(routes()))
def test_a_get_stores_nothing(client, world, route):
    if isinstance(route, str):
        rows = pm.API[route]
        url = _api_url(world, route, rows.get("GET") or next(iter(rows.values())))
    else:
        url = _url(world, route)
    before = fingerprint(with_audit_log=True)
    stored: dict[str, list[str]] = {}
    for role in pm.ROLES:
        client.cookies = SimpleCookie()
        sign_in(client, world, role)
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} as {role}: HTTP {response.status_code}"
        after = fingerprint(with_audit_log=True)
        name = route if isinstance(route, str) else route.name
        writes = [label for label in changed(before, after) if (name, label) not in WRITES_BY_DESIGN]
        if writes:
            stored[role] = writes
        before = after
    assert not stored, f"GET {url} stored rows: {stored}"


def test_the_sweep_reaches_the_learner_area_and_its_api():
    """The routes of issue 14's finding are among those swept (a guard against a broken walk)."""
    names = {route.values[0].name for route in routes() if not isinstance(route.values[0], str)}
    paths = {route.values[0] for route in routes() if isinstance(route.values[0], str)}
    assert {"enrolment:my_dashboard", "credits:home", "certs:home", "credits:lifelong_file"} <= names
    assert {"/api/v1/me/enrolments/", "/api/v1/me/credit-account/"} <= paths
    assert any(name and name.startswith("admin:") for name in names)


# --- Someone without a learner record: the empty learner area and the way to begin ------------------


@pytest.fixture
def staff(world):
    return world.users["reviewer"]


def test_staff_see_an_empty_learner_area_and_become_learners_only_by_saving_the_profile(client, world, staff):
    from enrolment.models import Learner

    sign_in(client, world, "reviewer")
    assert not Learner.objects.filter(user=staff).exists()
    dashboard = client.get(reverse("enrolment:my_dashboard")).content.decode()
    assert "Finish your profile before your first application." in dashboard
    credits = client.get(reverse("credits:home")).content.decode()
    assert "You have no credit-bank account yet." in credits
    assert client.get(reverse("certs:home")).status_code == 200
    assert client.get("/api/v1/me/enrolments/").json()["results"] == []
    assert client.get("/api/v1/me/credit-account/").status_code == 404
    assert client.get(reverse("credits:lifelong_file")).status_code == 404
    assert client.get(reverse("enrolment:my_profile")).status_code == 200
    assert not Learner.objects.filter(user=staff).exists()

    refused = client.post(reverse("enrolment:my_profile"), {
        "legal_name": "李审核", "phone": "13800138000", "employer": "MIEDC", "job_title": "Reviewer",
        "industry": "mechanical", "province": "BJ", "centre": "",
    })  # fmt: skip
    assert refused.status_code == 200 and not Learner.objects.filter(user=staff).exists()  # no consent
    saved = client.post(reverse("enrolment:my_profile"), {
        "legal_name": "李审核", "phone": "13800138000", "employer": "MIEDC", "job_title": "Reviewer",
        "industry": "mechanical", "province": "BJ", "centre": "", "consent": "on",
    })  # fmt: skip
    assert saved.status_code == 302
    learner = Learner.objects.get(user=staff)
    assert learner.legal_name == "李审核" and learner.privacy_consent_at is not None
    assert client.get("/api/v1/me/credit-account/").status_code == 200  # opened with the record


def test_applying_through_the_api_without_a_learner_record_is_refused_and_makes_none(client, world, staff):
    from enrolment.models import Learner

    sign_in(client, world, "reviewer")
    response = client.post(
        "/api/v1/me/enrolments/", {"intake": world.values["open_intake"]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "Finish your learner profile before you apply." in str(response.json())
    assert not Learner.objects.filter(user=staff).exists()
