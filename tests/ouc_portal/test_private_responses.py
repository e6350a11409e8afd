"""Answers to a signed-in person or a partner system are never kept by a shared cache (issue 14).

The permission matrix checks ``Cache-Control: private, no-store`` on every page and API operation
it walks for every signed-in role (tests/test_permission_matrix.py, ``check_cell``); these cover
what it does not: a partner system's token, the personal prefixes before anyone signs in, and the
public pages that must stay cacheable for visitors.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def directives(response) -> set[str]:
    return {d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}


def test_a_partner_token_s_answers_are_private(client, cast):
    partner = factories.partner_token(association=cast.association, created_by=cast.reviewer)
    response = client.get("/api/v1/review/requests/", HTTP_AUTHORIZATION=f"Bearer {partner.key}")
    assert response.status_code == 200
    assert {"private", "no-store"} <= directives(response)


@pytest.mark.parametrize("url", ["/me/", "/manage/", "/review/", "/credit-bank/", "/api/v1/me/enrolments/"])
def test_personal_addresses_are_private_before_sign_in_too(client, url):
    response = client.get(url)
    assert response.status_code in (302, 401, 403)
    assert {"private", "no-store"} <= directives(response)


def test_a_signed_in_person_s_public_page_is_private_a_visitor_s_is_not(client, cast):
    url = reverse("enrolment:programme_list")
    assert "no-store" not in directives(client.get(url))
    client.force_login(cast.learner)
    assert {"private", "no-store"} <= directives(client.get(url))
