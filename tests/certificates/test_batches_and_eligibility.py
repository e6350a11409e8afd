"""Bulk decisions (all or nothing, scoped), issuing that survives a failure half-way, and who may
ask for which certificate."""

import pytest

from certificates import selectors, services
from certificates.errors import CertificateError
from certificates.models import Certificate, CertificateRequest, ReviewBatch, SerialCounter
from certificates.tasks import issue_certificate
from creditbank import services as credit_services
from enrolment.models import Enrolment, EnrolmentStatus
from tests import factories


@pytest.fixture
def cert_type(cast):
    return factories.CertificateTypeFactory(school=cast.school, association=cast.association, name_zh="数控技术结业证书")


def requests_for(cert_type, n):
    return [factories.completed_request(learner=factories.LearnerFactory(), cert_type=cert_type) for _ in range(n)]


def test_bulk_approval_decides_every_request_in_one_batch(cast, cert_type, django_capture_on_commit_callbacks):
    requests = requests_for(cert_type, 3)
    with django_capture_on_commit_callbacks() as callbacks:
        batch = services.requests_bulk_decide(
            reviewer=cast.reviewer, association=cast.association, request_ids=[r.pk for r in requests], decision="approve"
        )
    assert len(callbacks) == 3  # one issuing task per request, queued after the commit
    assert batch.size == 3 and batch.decision == "approve"
    assert set(CertificateRequest.objects.values_list("status", flat=True)) == {"approved"}
    assert set(CertificateRequest.objects.values_list("batch", flat=True)) == {batch.pk}
    progress = selectors.batch_progress(batch=batch)
    assert (progress["approved"], progress["waiting"], progress["done"], progress["total"]) == (3, 3, 0, 3)


def test_bulk_decisions_are_all_or_nothing(cast, cert_type):
    requests = requests_for(cert_type, 2)
    foreign = factories.completed_request(
        learner=factories.LearnerFactory(), cert_type=factories.CertificateTypeFactory(association=cast.other_association)
    )
    ids = [r.pk for r in requests]
    with pytest.raises(CertificateError, match="not in your association's queue"):
        services.requests_bulk_decide(reviewer=cast.reviewer, association=cast.association, request_ids=ids + [foreign.pk], decision="approve")
    with pytest.raises(CertificateError, match="Only reviewers of"):
        services.requests_bulk_decide(reviewer=cast.other_reviewer, association=cast.association, request_ids=ids, decision="approve")
    with pytest.raises(CertificateError, match="reason"):
        services.requests_bulk_decide(reviewer=cast.reviewer, association=cast.association, request_ids=ids, decision="reject", reason="  ")
    with pytest.raises(CertificateError, match="at least one"):
        services.requests_bulk_decide(reviewer=cast.reviewer, association=cast.association, request_ids=[], decision="approve")
    with pytest.raises(CertificateError, match="approve or to reject"):
        services.requests_bulk_decide(reviewer=cast.reviewer, association=cast.association, request_ids=ids, decision="maybe")
    services.request_reject(request=requests[0], reviewer=cast.reviewer, reason="Evidence incomplete")
    with pytest.raises(CertificateError, match="cannot be decided again"):
        services.requests_bulk_decide(reviewer=cast.reviewer, association=cast.association, request_ids=ids, decision="approve")
    assert not ReviewBatch.objects.exists()
    assert sorted(CertificateRequest.objects.values_list("status", flat=True)) == ["rejected", "requested", "requested"]


def test_bulk_rejection_keeps_the_reason_in_every_history(cast, cert_type):
    requests = requests_for(cert_type, 2)
    services.requests_bulk_decide(
        reviewer=cast.reviewer, association=cast.association, request_ids=[r.pk for r in requests], decision="reject",
        reason="Enrolments not yet confirmed by the school",
    )
    for request in requests:
        last = request.history.order_by("-pk").first()
        assert (last.to_status, last.reason, last.actor) == ("rejected", "Enrolments not yet confirmed by the school", cast.reviewer)


def test_a_failure_half_way_keeps_one_certificate_and_one_serial(cast, cert_type, monkeypatch, eager):
    request = factories.completed_request(learner=cast.learner.learner, cert_type=cert_type)
    services.request_approve(request=request, reviewer=cast.reviewer)
    from certificates import rendering

    real = rendering.certificate_pdf
    calls = []

    def flaky(certificate):
        calls.append(certificate.serial)
        if len(calls) == 1:
            raise OSError("the file store went away")
        return real(certificate)

    monkeypatch.setattr(rendering, "certificate_pdf", flaky)
    # The first run dies after the serial is taken; Celery's retry (run eagerly) finishes the job.
    serial = issue_certificate.apply(args=[request.pk], throw=False).get()
    assert calls == [serial, serial]
    certificate = Certificate.objects.get()
    assert certificate.serial == serial and certificate.is_ready
    assert SerialCounter.objects.get().last == 1
    # And once more, as a duplicate delivery would: nothing new.
    assert issue_certificate.apply(args=[request.pk]).get() == serial
    assert Certificate.objects.count() == 1


def test_issuing_gives_up_visibly_and_can_be_retried(cast, cert_type, monkeypatch, eager, django_capture_on_commit_callbacks):
    request = factories.completed_request(learner=cast.learner.learner, cert_type=cert_type)
    services.request_approve(request=request, reviewer=cast.reviewer)
    from certificates import rendering

    def broken(certificate):
        raise ValueError("template error")

    monkeypatch.setattr(rendering, "certificate_pdf", broken)
    with pytest.raises(ValueError):
        issue_certificate.apply(args=[request.pk], throw=True).get()
    request.refresh_from_db()
    assert request.status == "approved" and request.issue_failed_at and "template error" in request.issue_error
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.certificate_retry_issue(request=request, actor=cast.reviewer)
    request.refresh_from_db()
    assert request.status == "issued" and request.issue_failed_at is None and request.issue_error == ""
    assert Certificate.objects.get().is_ready


def test_a_rule_certificate_needs_an_active_conversion_under_the_rule(world, accredited, eager):
    cert_type = factories.CertificateTypeFactory(
        school=world.programme.school, programme=None, rule=world.rule, kind="1+x", name_en="1+X CNC"
    )
    with pytest.raises(CertificateError, match="converted under rule"):
        services.request_open(learner=world.learner, type=cert_type)
    credit_services.conversion_apply(outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer)
    request = services.request_open(learner=world.learner, type=cert_type)
    assert request.enrolment == world.enrolment
    with pytest.raises(CertificateError, match="already have a request"):
        services.request_open(learner=world.learner, type=cert_type)


def test_a_programme_certificate_finds_the_completed_enrolment(cast, cert_type):
    learner = cast.learner.learner
    with pytest.raises(CertificateError, match="needs your enrolment"):
        services.request_open(learner=learner, type=cert_type)
    enrolment = Enrolment.objects.create(
        learner=learner, intake=factories.IntakeFactory(programme=cert_type.programme), programme=cert_type.programme,
        status=EnrolmentStatus.COMPLETED,
    )
    assert services.request_open(learner=learner, type=cert_type).enrolment == enrolment


def test_a_type_with_neither_programme_nor_rule_is_not_open(cast):
    cert_type = factories.CertificateTypeFactory(school=cast.school, association=cast.association, programme=None)
    with pytest.raises(CertificateError, match="not open to requests"):
        services.request_open(learner=cast.learner.learner, type=cert_type)


@pytest.mark.django_db(transaction=True)
def test_bulk_approval_of_500_requests_issues_500_certificates_with_500_serials(cast, eager):
    """The issue's rule, through the real pipeline (signed credential and PDF for each).

    Eager here: the tasks run in this process as each approval's commit fires them. The worker
    round trip is pinned by the journey test; this one pins the numbers.
    """
    cert_type = factories.CertificateTypeFactory(school=cast.school, association=cast.association)
    learners = factories.LearnerFactory.create_batch(500)
    intake = factories.IntakeFactory(programme=cert_type.programme)
    Enrolment.objects.bulk_create(
        Enrolment(learner=learner, intake=intake, programme=cert_type.programme, status=EnrolmentStatus.COMPLETED)
        for learner in learners
    )
    ids = [
        services.request_open(learner=learner, type=cert_type).pk
        for learner in learners
    ]
    batch = services.requests_bulk_decide(reviewer=cast.reviewer, association=cast.association, request_ids=ids, decision="approve")
    assert Certificate.objects.count() == 500
    serials = list(Certificate.objects.values_list("serial", flat=True))
    assert len(set(serials)) == 500
    numbers = sorted(Certificate.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 501))  # consecutive: none skipped, none reused
    assert len(set(Certificate.objects.values_list("verification_code", flat=True))) == 500
    assert len(set(Certificate.objects.values_list("status_index", flat=True))) == 500
    assert not Certificate.objects.filter(credential__isnull=True).exists()
    progress = selectors.batch_progress(batch=batch)
    assert (progress["issued"], progress["done"], progress["waiting"]) == (500, 500, 0)


def test_a_reviewer_never_decides_their_own_request(cast, cert_type):
    # Reviewers study too: this one completed a programme their own association certifies.
    own = factories.completed_request(learner=factories.LearnerFactory(user=cast.reviewer), cert_type=cert_type)
    for decide in (
        lambda: services.request_approve(request=own, reviewer=cast.reviewer),
        lambda: services.request_reject(request=own, reviewer=cast.reviewer, reason="no"),
        lambda: services.request_start_review(request=own, reviewer=cast.reviewer),
        lambda: services.requests_bulk_decide(reviewer=cast.reviewer, association=cast.association, request_ids=[own.pk], decision="approve"),
    ):
        with pytest.raises(CertificateError, match="your own certificate"):
            decide()
    own.refresh_from_db()
    assert own.status == "requested" and not ReviewBatch.objects.exists()
