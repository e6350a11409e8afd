"""The reviewers' API (/api/v1/review/): reviewers with a session and partner systems with their
association's bearer key, scoped like the desk; every refusal says why and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from certificates.models import Certificate, CertificateRequest, RequestStatusChange
from ouc_portal.audit.models import AuditEvent
from tests import factories
from tests.certificates.test_review_views import approved, issued

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/review/requests/"
CERTIFICATES = "/api/v1/review/certificates/"


@pytest.fixture
def cert_type(cast):
    return factories.CertificateTypeFactory(
        school=cast.school, association=cast.association, code="nct-completion"
    )


@pytest.fixture
def other_type(cast):
    return factories.CertificateTypeFactory(
        school=cast.other_school, association=cast.other_association, code="coal-completion"
    )


@pytest.fixture
def req(cast, cert_type):
    return factories.completed_request(learner=cast.learner.learner, cert_type=cert_type)


@pytest.fixture
def other_req(cast, other_type):
    return factories.completed_request(learner=cast.other_learner.learner, cert_type=other_type)


@pytest.fixture
def made(cast):
    return factories.partner_token(association=cast.association, created_by=cast.reviewer)


def api(user=None, *, key: str | None = None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture(params=["session", "token"])
def reviewer_api(request, cast, made) -> APIClient:
    """The association's reviewer as a person (session) and as a partner system (token)."""
    return api(cast.reviewer) if request.param == "session" else api(key=made.key)


def snapshot() -> tuple:
    return (
        sorted(CertificateRequest.objects.values_list("pk", "status")),
        RequestStatusChange.objects.count(),
        sorted(Certificate.objects.values_list("pk", "status", "revocation_reason")),
    )


# --- Reading -------------------------------------------------------------------------------------


def test_lists_only_the_callers_association(reviewer_api, req, other_req):
    response = reviewer_api.get(REQUESTS)
    assert response.status_code == 200
    body = response.json()
    assert [row["public_id"] for row in body["results"]] == [str(req.public_id)]
    assert body["results"][0]["type"]["association"] == "miedc"
    assert body["results"][0]["status"] == "requested"


def test_filters_by_status_type_and_programme(reviewer_api, cast, req, cert_type):
    second = factories.completed_request(
        learner=factories.LearnerFactory(),
        cert_type=factories.CertificateTypeFactory(school=cast.school, association=cast.association, code="nct-two"),
    )
    approved(second, cast.reviewer)
    assert [r["public_id"] for r in reviewer_api.get(REQUESTS, {"status": "approved"}).json()["results"]] == [
        str(second.public_id)
    ]
    assert [r["public_id"] for r in reviewer_api.get(REQUESTS, {"type": "nct-completion"}).json()["results"]] == [
        str(req.public_id)
    ]
    by_programme = reviewer_api.get(REQUESTS, {"programme": cert_type.programme.code}).json()["results"]
    assert [r["public_id"] for r in by_programme] == [str(req.public_id)]
    newest_first = reviewer_api.get(REQUESTS, {"ordering": "-requested_at"}).json()["results"]
    assert [r["public_id"] for r in newest_first] == [str(second.public_id), str(req.public_id)]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"status": "pending"}, "status"), ({"type": "coal-completion"}, "type"), ({"programme": "NOPE"}, "programme")],
)
def test_unknown_filter_values_are_400_naming_the_filter(reviewer_api, req, other_req, query, field):
    response = reviewer_api.get(REQUESTS, query)
    assert response.status_code == 400
    assert field in response.json()
    assert "is not one of" in response.json()[field][0]


def test_retrieve_own_and_404_for_another_association(reviewer_api, req, other_req):
    response = reviewer_api.get(f"{REQUESTS}{req.public_id}/")
    assert response.status_code == 200
    assert [h["to_status"] for h in response.json()["history"]] == ["requested"]
    assert reviewer_api.get(f"{REQUESTS}{other_req.public_id}/").status_code == 404
    before = snapshot()
    for action, body in (("approve", {}), ("reject", {"reason": "No"}), ("start-review", {})):
        assert reviewer_api.post(f"{REQUESTS}{other_req.public_id}/{action}/", body, format="json").status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("who", ["learner", "school_admin", "credit_officer", "other_learner"])
def test_people_who_do_not_review_get_404(cast, req, who):
    client = api(getattr(cast, who))
    assert client.get(REQUESTS).status_code == 404
    assert client.get(f"{REQUESTS}{req.public_id}/").status_code == 404
    before = snapshot()
    assert client.post(f"{REQUESTS}{req.public_id}/approve/", {}, format="json").status_code == 404
    assert client.get(CERTIFICATES).status_code == 404
    assert snapshot() == before


def test_visitor_is_refused(req):
    client = api()
    assert client.get(REQUESTS).status_code == 403
    before = snapshot()
    assert client.post(f"{REQUESTS}{req.public_id}/approve/", {}, format="json").status_code == 403
    assert snapshot() == before


def test_superuser_sees_every_association(cast, req, other_req):
    results = api(cast.superuser).get(REQUESTS).json()["results"]
    assert {r["public_id"] for r in results} == {str(req.public_id), str(other_req.public_id)}


# --- Deciding ------------------------------------------------------------------------------------


def test_start_review_then_approve_with_a_note(reviewer_api, req):
    response = reviewer_api.post(f"{REQUESTS}{req.public_id}/start-review/", format="json")
    assert response.status_code == 200 and response.json()["status"] == "under-review"
    response = reviewer_api.post(f"{REQUESTS}{req.public_id}/approve/", {"reason": "Checked"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["history"][-1]["reason"] == "Checked"


def test_approve_twice_is_refused_with_a_message(reviewer_api, req):
    assert reviewer_api.post(f"{REQUESTS}{req.public_id}/approve/", {}, format="json").status_code == 200
    before = snapshot()
    response = reviewer_api.post(f"{REQUESTS}{req.public_id}/approve/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == ["A request that is Approved cannot become Approved."]
    assert snapshot() == before


def test_reject_needs_a_reason(reviewer_api, req):
    before = snapshot()
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = reviewer_api.post(f"{REQUESTS}{req.public_id}/reject/", body, format="json")
        assert response.status_code == 400
        assert "reason" in response.json()
    assert snapshot() == before
    response = reviewer_api.post(f"{REQUESTS}{req.public_id}/reject/", {"reason": "Missing evidence"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"


def test_a_token_decision_names_the_token_in_history_and_audit(cast, req, made):
    response = api(key=made.key).post(f"{REQUESTS}{req.public_id}/approve/", {}, format="json")
    assert response.status_code == 200
    change = RequestStatusChange.objects.filter(request=req).latest("pk")
    assert change.actor == made.token.user
    assert response.json()["history"][-1]["actor"].startswith("Partner records sync (API token")
    # The audit middleware's record of the write, and the status change's event: the service user.
    http = AuditEvent.objects.filter(action="http.post").latest("pk")
    assert http.actor == made.token.user
    assert http.summary == "certificates-api:review-request-approve"
    status = AuditEvent.objects.filter(action="certificates.certificaterequest.status").latest("pk")
    assert status.actor == made.token.user


# --- Certificates ---------------------------------------------------------------------------------


def test_certificates_list_filter_and_revoke(reviewer_api, cast, req, other_req):
    mine = issued(approved(req, cast.reviewer))
    issued(approved(other_req, cast.other_reviewer))
    body = reviewer_api.get(CERTIFICATES).json()
    assert [c["serial"] for c in body["results"]] == [mine.serial]
    assert reviewer_api.get(CERTIFICATES, {"status": "revoked"}).json()["results"] == []
    bad = reviewer_api.get(CERTIFICATES, {"status": "gone"})
    assert bad.status_code == 400 and "status" in bad.json()

    before = snapshot()
    assert reviewer_api.post(f"{CERTIFICATES}{mine.serial}/revoke/", {}, format="json").status_code == 400
    assert snapshot() == before
    response = reviewer_api.post(f"{CERTIFICATES}{mine.serial}/revoke/", {"reason": "Forged"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "revoked"
    assert [c["serial"] for c in reviewer_api.get(CERTIFICATES, {"status": "revoked"}).json()["results"]] == [mine.serial]
    before = snapshot()
    again = reviewer_api.post(f"{CERTIFICATES}{mine.serial}/revoke/", {"reason": "Again"}, format="json")
    assert again.status_code == 400
    assert again.json()["detail"] == ["This certificate is already revoked."]
    assert snapshot() == before


def test_another_associations_certificate_is_404(reviewer_api, cast, other_req):
    theirs = issued(approved(other_req, cast.other_reviewer))
    assert reviewer_api.get(f"{CERTIFICATES}{theirs.serial}/").status_code == 404
    before = snapshot()
    assert reviewer_api.post(f"{CERTIFICATES}{theirs.serial}/revoke/", {"reason": "x"}, format="json").status_code == 404
    assert snapshot() == before


def test_schema_documents_the_bearer_scheme(cast):
    schema = api().get(reverse("api-schema"), {"format": "json"}).json()
    assert schema["components"]["securitySchemes"]["partnerToken"]["scheme"] == "bearer"
    approve = schema["paths"]["/api/v1/review/requests/{public_id}/approve/"]["post"]
    assert {"partnerToken": []} in approve["security"]
    assert {"200", "400", "401", "403", "404"} <= set(approve["responses"])


def test_the_list_costs_the_same_for_few_or_many_requests(cast, cert_type, made):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(key=made.key)
    client.get(REQUESTS)  # the first call notes last_used_at once
    factories.completed_request(learner=factories.LearnerFactory(), cert_type=cert_type)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(REQUESTS).json()["results"]) == 1
    for _ in range(5):
        factories.completed_request(learner=factories.LearnerFactory(), cert_type=cert_type)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(REQUESTS).json()["results"]) == 6
    assert len(many) == len(few)
