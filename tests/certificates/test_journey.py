"""The issue's rule, on the real stack: approve → a Celery worker issues → the PDF carries the
learner's Chinese name → /verify/ says valid → revoke → /verify/ says revoked."""

import io

import pypdf
import pytest
from django.test import Client
from django.urls import reverse

from certificates import services
from certificates.credentials.builders import verify_credential
from certificates.models import Certificate, CertificateRequest, Transcript
from enrolment import services as enrolment_services
from enrolment.models import Enrolment, EnrolmentStatus
from tests import factories
from tests.conftest import wait_for


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_a_completed_programme_becomes_a_certificate_a_stranger_verifies(cast, settings, celery_worker_process):
    worker = celery_worker_process
    settings.MEDIA_ROOT = worker.media_root  # read the files the worker wrote
    cert_type = factories.CertificateTypeFactory(
        school=cast.school, association=cast.association, name_en="Numerical Control Technology: completion",
        name_zh="数控技术结业证书",
    )
    learner = cast.learner.learner
    learner.legal_name = "张伟"
    learner.save(update_fields=["legal_name"])
    enrolment = Enrolment.objects.create(
        learner=learner, intake=factories.IntakeFactory(programme=cert_type.programme), programme=cert_type.programme,
        status=EnrolmentStatus.ACTIVE,
    )
    enrolment_services.enrolment_complete(enrolment=enrolment, actor=cast.school_admin)
    request = CertificateRequest.objects.get(learner=learner)  # opened by the completion itself

    services.request_approve(request=request, reviewer=cast.reviewer)  # queues the task on commit

    def issued():
        request.refresh_from_db()
        return request.status == "issued"

    wait_for(issued, "the certificate issued by the worker", worker, timeout=60)
    certificate = Certificate.objects.get(request=request)
    assert certificate.is_ready and verify_credential(certificate.credential)

    learner_client = Client(HTTP_ACCEPT_LANGUAGE="en")
    learner_client.force_login(cast.learner)
    response = learner_client.get(reverse("certs:certificate_pdf", args=[certificate.serial]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(b"".join(response.streaming_content))
    assert "张伟" in text and certificate.serial in text

    stranger = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = stranger.get(reverse("verify:page", args=[certificate.verification_code]))
    assert page.status_code == 200
    assert "张伟" in page.content.decode() and "Valid" in page.content.decode()

    mail = wait_for(
        lambda: [m for m in worker.mail() if m["To"] == cast.learner.email and certificate.serial in m["Subject"]],
        "the certificate email", worker,
    )
    body = mail[0].get_content()
    assert reverse("verify:page", args=[certificate.verification_code]) in body

    services.certificate_revoke(certificate=certificate, actor=cast.reviewer, reason="Issued against the wrong enrolment")
    page = stranger.get(reverse("verify:page", args=[certificate.verification_code]))
    html = page.content.decode()
    assert page.status_code == 200 and "Revoked" in html and "Issued against the wrong enrolment" in html
    api = stranger.get(f"/api/v1/verify/{certificate.verification_code}/")
    assert api.status_code == 200 and api.json()["status"] == "revoked"


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_a_transcript_asked_for_on_the_page_is_built_by_the_worker(world, accredited, settings, celery_worker_process):
    worker = celery_worker_process
    settings.MEDIA_ROOT = worker.media_root
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.learner.user)
    response = client.post(reverse("certs:transcript_request"))
    transcript = Transcript.objects.get(learner=world.learner)
    assert response.status_code == 302 and response["Location"] == reverse("certs:transcript", args=[transcript.public_id])

    def ready():
        state = client.get(reverse("certs:transcript_status", args=[transcript.public_id])).json()
        return state["ready"]

    wait_for(ready, "the transcript built by the worker", worker, timeout=60)
    transcript.refresh_from_db()
    assert verify_credential(transcript.credential)
    pdf = client.get(reverse("certs:transcript_pdf", args=[transcript.public_id]))
    assert accredited.title in pdf_text(b"".join(pdf.streaming_content))
