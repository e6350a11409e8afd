"""Partner-system API tokens: the key, the bearer authentication, the desk's token pages, the
operators' command, and what revoking does."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from ouc_portal.audit.models import AuditEvent
from schools import tokens
from schools.models import Membership, PartnerToken
from schools.roles import roles_for
from tests import factories

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/review/requests/"


@pytest.fixture
def made(cast):
    return factories.partner_token(association=cast.association, created_by=cast.reviewer)


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def bearer(header: str) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def token_count() -> tuple[int, int, int]:
    return PartnerToken.objects.count(), Membership.objects.count(), PartnerToken.objects.filter(revoked_at__isnull=False).count()


# --- The token and its service user ----------------------------------------------------------------


def test_a_token_keeps_only_the_digest_and_acts_as_a_reviewer(cast, made):
    token = made.token
    assert made.key.startswith("oucpt_") and len(made.key) > 40
    assert token.prefix == made.key[: tokens.VISIBLE_CHARS]
    assert token.key_digest == tokens.key_digest(made.key) != made.key
    assert made.key not in str(PartnerToken.objects.filter(pk=token.pk).values().get())
    user = token.user
    assert not user.has_usable_password() and user.is_active and not user.is_staff
    assert roles_for(user).association_ids == {cast.association.pk}
    assert tokens.is_service_user(user) and not tokens.is_service_user(cast.reviewer)
    created = AuditEvent.objects.get(action="schools.partnertoken.created")
    assert created.actor == cast.reviewer and created.object_id == str(token.pk)


def test_the_service_user_cannot_log_in(client, made):
    user = made.token.user
    assert authenticate(email=user.email, password="") is None
    assert authenticate(email=user.email, password=made.key) is None
    response = client.post(reverse("account_login"), {"login": user.email, "password": made.key})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


# --- Bearer authentication -------------------------------------------------------------------------


def test_a_good_key_works_and_a_wrong_one_is_401(made):
    assert bearer(f"Bearer {made.key}").get(REQUESTS).status_code == 200
    wrong = bearer(f"Bearer {made.key[:-2]}xx").get(REQUESTS)
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Unknown API key."}
    assert wrong["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer", "Bearer two words", "Bearer  "])
def test_a_malformed_header_is_401_and_says_so(made, header):
    response = bearer(header).get(REQUESTS)
    assert response.status_code == 401
    assert "Malformed Authorization header" in response.json()["detail"]


def test_another_scheme_or_no_header_is_not_a_token(made):
    # Not ours: the session decides, and there is none (403, as for any visitor).
    assert bearer(f"Token {made.key}").get(REQUESTS).status_code == 403
    assert APIClient().get(REQUESTS).status_code == 403


def test_a_bad_key_never_falls_back_to_the_session(cast, made):
    client = bearer("Bearer oucpt_nothing")
    client.force_login(cast.reviewer)
    assert client.get(REQUESTS).status_code == 401


def test_a_token_needs_no_csrf(cast, made):
    req = factories.completed_request(
        learner=cast.learner.learner,
        cert_type=factories.CertificateTypeFactory(school=cast.school, association=cast.association),
    )
    client = APIClient(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {made.key}")
    assert client.post(f"{REQUESTS}{req.public_id}/start-review/").status_code == 200


def test_a_revoked_key_is_401_at_once(cast, made):
    client = bearer(f"Bearer {made.key}")
    assert client.get(REQUESTS).status_code == 200
    tokens.partner_token_revoke(token=made.token, revoked_by=cast.reviewer)
    response = client.get(REQUESTS)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("This API key was revoked on ")
    user = made.token.user
    user.refresh_from_db()
    assert not user.is_active
    assert not Membership.objects.filter(user=user).exists()
    revoked = AuditEvent.objects.get(action="schools.partnertoken.revoked")
    assert revoked.actor == cast.reviewer
    assert AuditEvent.objects.filter(action="schools.membership.removed").exists()


def test_a_token_opens_no_html_page(made):
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {made.key}", HTTP_ACCEPT_LANGUAGE="en")
    response = client.get(reverse("review:queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_last_used_is_noted_at_most_once_a_minute(made):
    token = made.token
    assert token.last_used_at is None
    client = bearer(f"Bearer {made.key}")
    client.get(REQUESTS)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get(REQUESTS)
    token.refresh_from_db()
    assert token.last_used_at == first  # within the minute: not written again
    earlier = timezone.now() - datetime.timedelta(minutes=5)
    PartnerToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    client.get(REQUESTS)
    token.refresh_from_db()
    assert token.last_used_at > earlier


# --- The desk's pages ------------------------------------------------------------------------------


def test_the_list_shows_this_associations_tokens_only(client, cast, made):
    theirs = factories.partner_token(association=cast.other_association, name="Coal records")
    client.force_login(cast.reviewer)
    page = client.get(reverse("review:tokens")).content.decode()
    assert "Partner records sync" in page and made.token.prefix in page and "Never" in page
    assert "Coal records" not in page and theirs.token.prefix not in page
    assert made.key not in page
    client.force_login(cast.superuser)
    page = client.get(reverse("review:tokens")).content.decode()
    assert "Partner records sync" in page and "Coal records" in page


def test_the_list_is_paginated_active_tokens_first(client, cast):
    from certificates.views.tokens import TOKENS_PAGE_SIZE

    revoked = [factories.partner_token(association=cast.association, name=f"Old system {i:02d}")
               for i in range(TOKENS_PAGE_SIZE)]  # fmt: skip
    for made in revoked:
        tokens.partner_token_revoke(token=made.token, revoked_by=cast.reviewer)
    live = factories.partner_token(association=cast.association, name="Live system")
    client.force_login(cast.reviewer)
    first = client.get(reverse("review:tokens")).content.decode()
    assert "Live system" in first and "Page 1 of 2" in first
    assert first.count("Old system") == TOKENS_PAGE_SIZE - 1
    second = client.get(reverse("review:tokens"), {"page": 2}).content.decode()
    assert "Live system" not in second and second.count("Old system") == 1
    assert "No active token" not in second  # the active tokens were on the first page
    assert live.token.prefix in first


def test_the_desk_links_to_the_tokens(client, cast):
    client.force_login(cast.reviewer)
    assert reverse("review:tokens") in client.get(reverse("review:queue")).content.decode()


def test_making_a_token_shows_the_key_once(client, cast):
    client.force_login(cast.reviewer)
    response = client.post(reverse("review:token_create"), {"name": "  Training records  sync "})
    assert response.status_code == 200
    token = PartnerToken.objects.get()
    assert token.name == "Training records sync" and token.association == cast.association
    key = response.context["key"]
    page = response.content.decode()
    assert key in page and "it will not be shown again" in page
    assert "no-store" in response["Cache-Control"]
    assert tokens.token_by_key(key) == token
    assert key not in client.get(reverse("review:tokens")).content.decode()


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Give the token a name"), ("   ", "Give the token a name"), ("x" * 101, "at most 100 characters")],
)
def test_a_bad_name_is_refused_and_nothing_made(client, cast, name, message):
    client.force_login(cast.reviewer)
    before = token_count()
    response = client.post(reverse("review:token_create"), {"name": name})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert token_count() == before


def test_a_superuser_chooses_the_association_and_a_reviewer_cannot_name_another(client, cast):
    client.force_login(cast.superuser)
    response = client.post(reverse("review:token_create"), {"name": "Coal", "association": "cnca"})
    assert PartnerToken.objects.get().association == cast.other_association
    client.force_login(cast.reviewer)
    response = client.post(reverse("review:token_create"), {"name": "Mine", "association": "cnca"})
    assert response.status_code == 200
    # One association: the field is not offered, and the token is that association's.
    assert PartnerToken.objects.get(name="Mine").association == cast.association


def test_revoke_confirms_then_revokes_and_twice_is_refused(client, cast, made):
    client.force_login(cast.reviewer)
    url = reverse("review:token_revoke", args=[made.token.public_id])
    page = client.get(url).content.decode()
    assert "Revoke the token" in page and made.token.prefix in page
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("review:tokens")
    assert bearer(f"Bearer {made.key}").get(REQUESTS).status_code == 401
    before = token_count(), AuditEvent.objects.filter(action="schools.partnertoken.revoked").count()
    again = client.post(url)
    assert again.status_code == 200
    assert any("already revoked" in str(m) for m in again.context["messages"])
    assert (token_count(), AuditEvent.objects.filter(action="schools.partnertoken.revoked").count()) == before


@pytest.mark.parametrize("who", ["other_reviewer", "learner", "school_admin"])
def test_others_cannot_see_or_revoke_the_token(client, cast, made, who):
    client.force_login(getattr(cast, who))
    url = reverse("review:token_revoke", args=[made.token.public_id])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    made.token.refresh_from_db()
    assert made.token.revoked_at is None


def test_the_service_cannot_be_bypassed(cast, made):
    with pytest.raises(tokens.TokenError):
        tokens.partner_token_create(association=cast.association, name="x", created_by=cast.other_reviewer)
    with pytest.raises(tokens.TokenError):
        tokens.partner_token_revoke(token=made.token, revoked_by=cast.other_reviewer)
    # A token cannot make tokens.
    with pytest.raises(tokens.TokenError):
        tokens.partner_token_create(association=cast.association, name="x", created_by=made.token.user)
    assert PartnerToken.objects.count() == 1


# --- The operators' command ------------------------------------------------------------------------


def run(*args) -> str:
    out = StringIO()
    call_command("partner_token", *args, stdout=out)
    return out.getvalue()


def test_command_create_list_revoke(cast):
    out = run("create", "--association", "miedc", "--name", "Records sync")
    key = out.strip().splitlines()[-1]
    token = tokens.token_by_key(key)
    assert token is not None and token.created_by is None and token.association == cast.association
    assert bearer(f"Bearer {key}").get(REQUESTS).status_code == 200
    listing = run("list")
    assert token.prefix in listing and "active" in listing and key not in listing
    assert "Revoked" not in listing
    run("revoke", token.prefix + "…")
    assert bearer(f"Bearer {key}").get(REQUESTS).status_code == 401
    assert "revoked" in run("list", "--association", "miedc")
    with pytest.raises(CommandError, match="already revoked"):
        run("revoke", token.prefix)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "--association", "nope", "--name", "x"), "No partner association"),
        (("create", "--association", "miedc", "--name", " "), "Give the token a name"),
        (("revoke", "oucpt_"), "at least"),
        (("revoke", "oucpt_zzzzzzzz"), "No token"),
    ],
)
def test_command_refusals(cast, args, message):
    before = token_count()
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert token_count() == before
