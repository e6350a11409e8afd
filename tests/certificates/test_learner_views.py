"""/me/certificates/: a learner's requests, certificates, eligible types and transcripts, their own only."""

import pytest
from django.urls import reverse

from certificates import services
from certificates.models import CertificateRequest, Transcript
from tests import factories


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def cert_type(cast):
    return factories.CertificateTypeFactory(
        school=cast.school, association=cast.association, name_en="NCT completion", code="nct-completion"
    )


@pytest.fixture
def issued(cast, cert_type, eager):
    request = factories.completed_request(learner=cast.learner.learner, cert_type=cert_type)
    services.request_approve(request=request, reviewer=cast.reviewer)
    return services.certificate_issue(request_id=request.pk)


def test_log_in_is_needed(client):
    response = client.get(reverse("certs:home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_shows_requests_certificates_and_what_can_be_asked_for(client, cast, issued):
    other_type = factories.CertificateTypeFactory(
        school=cast.school, association=cast.association, name_en="Second programme completion", code="second"
    )
    factories.completed_request(learner=cast.other_learner.learner, cert_type=other_type)  # someone else's
    from enrolment.models import Enrolment, EnrolmentStatus

    Enrolment.objects.create(
        learner=cast.learner.learner, intake=factories.IntakeFactory(programme=other_type.programme),
        programme=other_type.programme, status=EnrolmentStatus.COMPLETED,
    )
    client.force_login(cast.learner)
    html = client.get(reverse("certs:home")).content.decode()
    assert "NCT completion" in html and issued.serial in html or reverse("certs:certificate", args=[issued.serial]) in html
    assert reverse("certs:certificate_pdf", args=[issued.serial]) in html
    assert reverse("certs:request", args=["second"]) in html  # eligible: completed, no request yet
    assert reverse("certs:request", args=["nct-completion"]) not in html  # already issued


def test_asking_for_a_certificate_confirms_then_opens_the_request(client, cast, cert_type):
    from enrolment.models import Enrolment, EnrolmentStatus

    Enrolment.objects.create(
        learner=cast.learner.learner, intake=factories.IntakeFactory(programme=cert_type.programme),
        programme=cert_type.programme, status=EnrolmentStatus.COMPLETED,
    )
    client.force_login(cast.learner)
    page = client.get(reverse("certs:request", args=[cert_type.code]))
    assert page.status_code == 200 and "Send the request" in page.content.decode()
    assert not CertificateRequest.objects.exists()  # a GET changes nothing
    response = client.post(reverse("certs:request", args=[cert_type.code]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("certs:home")
    request = CertificateRequest.objects.get()
    assert (request.learner, request.status) == (cast.learner.learner, "requested")
    again = client.post(reverse("certs:request", args=[cert_type.code]))
    assert again.status_code == 200 and "already have a request" in again.content.decode()
    assert CertificateRequest.objects.count() == 1


def test_a_learner_who_is_not_eligible_is_told_why(client, cast, cert_type):
    client.force_login(cast.learner)
    response = client.post(reverse("certs:request", args=[cert_type.code]))
    assert response.status_code == 200 and "needs your enrolment" in response.content.decode()
    assert not CertificateRequest.objects.exists()
    assert client.post(reverse("certs:request", args=["no-such-type"])).status_code == 404


def test_the_pdf_goes_to_its_owner_only(client, cast, issued):
    url = reverse("certs:certificate_pdf", args=[issued.serial])
    client.force_login(cast.other_learner)
    assert client.get(url).status_code == 404
    assert client.get(reverse("certs:certificate", args=[issued.serial])).status_code == 404
    client.force_login(cast.learner)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    detail = client.get(reverse("certs:certificate", args=[issued.serial])).content.decode()
    assert f"/verify/{issued.verification_code}/" in detail


def test_a_transcript_is_asked_for_and_followed(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.learner)
    assert client.get(reverse("certs:transcript_request")).status_code == 405  # POST only
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("certs:transcript_request"))
    transcript = Transcript.objects.get()
    assert len(callbacks) == 1
    assert response["Location"] == reverse("certs:transcript", args=[transcript.public_id])
    page = client.get(response["Location"]).content.decode()
    assert "data-poll-url" in page and "Queued" in page
    state = client.get(reverse("certs:transcript_status", args=[transcript.public_id])).json()
    assert state == {"status": "queued", "label": "Queued", "ready": False, "failed": False}
    assert client.get(reverse("certs:transcript_pdf", args=[transcript.public_id])).status_code == 404  # not ready
    client.force_login(cast.other_learner)
    for name in ("certs:transcript", "certs:transcript_status"):
        assert client.get(reverse(name, args=[transcript.public_id])).status_code == 404


def test_a_ready_transcript_downloads_and_links_its_verification(client, cast, eager):
    transcript = services.transcript_request(learner=cast.learner.learner)
    services.transcript_build(transcript_id=transcript.pk)
    client.force_login(cast.learner)
    page = client.get(reverse("certs:transcript", args=[transcript.public_id])).content.decode()
    assert f"/verify/{transcript.verification_code}/" in page and "data-poll-url" not in page
    pdf = client.get(reverse("certs:transcript_pdf", args=[transcript.public_id]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_the_page_costs_the_same_queries_with_more_certificates(client, cast, django_assert_max_num_queries):
    def add(n):
        for _ in range(n):
            cert_type = factories.CertificateTypeFactory(school=cast.school, association=cast.association)
            factories.completed_request(learner=cast.learner.learner, cert_type=cert_type)

    client.force_login(cast.learner)
    add(2)
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("certs:home"))
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("certs:home"))
