"""Certificate requests and issuing: one certificate per request, serials never reused, scoped reviewers."""

import datetime
from decimal import Decimal

import pytest

from certificates import services
from certificates.errors import CertificateError
from certificates.models import Certificate, CertificateRequest, CertificateType, SerialCounter
from certificates.tasks import issue_certificate
from creditbank import services as credit_services
from enrolment.models import Enrolment, EnrolmentStatus
from tests import factories


@pytest.fixture
def completion(cast):
    programme = factories.ProgrammeFactory(school=cast.school)
    cert_type = CertificateType.objects.create(
        code="nct-completion", school=cast.school, association=cast.association, kind="completion",
        name_en="Numerical Control Technology: completion", name_zh="数控技术结业证书", programme=programme,
        validity_years=None,
    )
    enrolment = Enrolment.objects.create(
        learner=cast.learner.learner, intake=factories.IntakeFactory(programme=programme), programme=programme,
        status=EnrolmentStatus.COMPLETED,
    )
    return cert_type, enrolment


def open_request(cast, completion):
    cert_type, enrolment = completion
    return services.request_open(learner=cast.learner.learner, type=cert_type, enrolment=enrolment)


def test_approval_issues_one_certificate_with_a_serial(cast, completion, django_capture_on_commit_callbacks, eager):
    request = open_request(cast, completion)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_approve(request=request, reviewer=cast.reviewer)
    certificate = Certificate.objects.get()
    request.refresh_from_db()
    assert request.status == "issued"
    assert certificate.serial == f"MECHANICAL-{certificate.issued_on.year}-000001"
    assert len(certificate.verification_code) >= 32
    assert [h.to_status for h in request.history.order_by("pk")] == ["requested", "approved", "issued"]


def test_the_issue_task_run_twice_makes_one_certificate(cast, completion, eager):
    request = open_request(cast, completion)
    services.request_approve(request=request, reviewer=cast.reviewer)
    first = issue_certificate.delay(request.pk).get()
    second = issue_certificate.delay(request.pk).get()
    assert first == second and Certificate.objects.count() == 1
    assert SerialCounter.objects.get().last == 1


def test_serials_are_consecutive_per_school_and_year(cast, eager):
    day = datetime.date(2026, 11, 23)
    serials = []
    for _ in range(3):
        programme = factories.ProgrammeFactory(school=cast.school)
        cert_type = CertificateType.objects.create(
            code=f"t{programme.pk}", school=cast.school, association=cast.association, kind="training",
            name_en="Training", programme=programme,
        )
        request = factories.completed_request(learner=factories.LearnerFactory(), cert_type=cert_type)
        services.request_approve(request=request, reviewer=cast.reviewer)
        serials.append(services.certificate_issue(request_id=request.pk, today=day).serial)
    assert serials == ["MECHANICAL-2026-000001", "MECHANICAL-2026-000002", "MECHANICAL-2026-000003"]


def test_only_the_associations_reviewers_decide(cast, completion):
    request = open_request(cast, completion)
    for outsider in (cast.other_reviewer, cast.school_admin, cast.learner, cast.credit_officer):
        with pytest.raises(CertificateError, match="Only reviewers of"):
            services.request_approve(request=request, reviewer=outsider)
    request.refresh_from_db()
    assert request.status == "requested" and request.history.count() == 1


def test_refusals_say_why(cast, completion):
    cert_type, enrolment = completion
    request = open_request(cast, completion)
    with pytest.raises(CertificateError, match="already have a request"):
        services.request_open(learner=cast.learner.learner, type=cert_type, enrolment=enrolment)
    with pytest.raises(CertificateError, match="reason"):
        services.request_reject(request=request, reviewer=cast.reviewer, reason=" ")
    with pytest.raises(CertificateError, match="Only an approved request"):
        services.certificate_issue(request_id=request.pk)
    Enrolment.objects.filter(pk=enrolment.pk).update(status=EnrolmentStatus.ACTIVE)
    services.request_reject(request=request, reviewer=cast.reviewer, reason="Evidence incomplete")
    enrolment.refresh_from_db()
    with pytest.raises(CertificateError, match="not completed yet"):
        services.request_open(learner=cast.learner.learner, type=cert_type, enrolment=enrolment)
    with pytest.raises(CertificateError, match="cannot become"):
        services.request_approve(request=request, reviewer=cast.reviewer)
    assert not Certificate.objects.exists()


def test_revoking_a_certificate_is_recorded(cast, completion, eager):
    request = open_request(cast, completion)
    services.request_approve(request=request, reviewer=cast.reviewer)
    certificate = services.certificate_issue(request_id=request.pk)
    with pytest.raises(CertificateError, match="Only reviewers"):
        services.certificate_revoke(certificate=certificate, actor=cast.other_reviewer, reason="x")
    services.certificate_revoke(certificate=certificate, actor=cast.reviewer, reason="Issued in error")
    certificate.refresh_from_db()
    assert certificate.status == "revoked" and certificate.revoked_at and certificate.revocation_reason == "Issued in error"
    with pytest.raises(CertificateError, match="already revoked"):
        services.certificate_revoke(certificate=certificate, actor=cast.reviewer, reason="again")


def test_completing_a_programme_opens_its_certificate_request(cast):
    programme = factories.ProgrammeFactory(school=cast.school)
    CertificateType.objects.create(
        code="c", school=cast.school, association=cast.association, kind="completion", name_en="Completion", programme=programme,
    )
    from enrolment import services as enrolment_services

    enrolment = Enrolment.objects.create(
        learner=cast.learner.learner, intake=factories.IntakeFactory(programme=programme), programme=programme, status=EnrolmentStatus.ACTIVE,
    )
    enrolment_services.enrolment_complete(enrolment=enrolment, actor=None)
    request = CertificateRequest.objects.get()
    assert (request.enrolment, request.status) == (enrolment, "requested")


def test_revoking_an_outcome_flags_the_certificates_built_on_it(world, accredited, eager):
    cert_type = CertificateType.objects.create(
        code="w", school=world.programme.school, association=factories.PartnerAssociationFactory(), kind="completion",
        name_en="Completion", programme=world.programme,
    )
    credit_services.conversion_apply(outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer)
    Enrolment.objects.filter(pk=world.enrolment.pk).update(status=EnrolmentStatus.COMPLETED)
    world.enrolment.refresh_from_db()
    request = services.request_open(learner=world.learner, type=cert_type, enrolment=world.enrolment)
    CertificateRequest.objects.filter(pk=request.pk).update(status="approved")
    certificate = services.certificate_issue(request_id=request.pk)
    credit_services.outcome_revoke(outcome=accredited, officer=world.officer, reason="Certificate withdrawn by its issuer")
    certificate.refresh_from_db()
    assert certificate.flagged_at is not None and certificate.flag_reason == "Certificate withdrawn by its issuer"
    assert certificate.status == "valid"  # flagged for review, not revoked behind the reviewers' back
    assert Decimal(0) == credit_services.ledger.balance(accredited.account)
