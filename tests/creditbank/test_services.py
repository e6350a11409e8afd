"""Credit-bank services: every refusal says why and leaves the ledger unchanged."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from creditbank import ledger, services
from creditbank.errors import CreditBankError
from creditbank.models import (
    Accreditation,
    Conversion,
    CreditAccount,
    LearningOutcome,
    LedgerEntry,
    OutcomeEvidence,
    RecognitionStandard,
    Transfer,
)
from enrolment.models import Enrolment, EnrolmentStatus
from enrolment.results import result_record
from tests import factories

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def ledger_state():
    return list(LedgerEntry.objects.order_by("pk").values_list("pk", "amount", "hash"))


def convert(world, outcome, **kw):
    return services.conversion_apply(
        outcome=outcome, enrolment=world.enrolment, course=kw.pop("course", world.cnc),
        rule=kw.pop("rule", world.rule), officer=world.officer, **kw,
    )


def test_signing_up_opens_a_credit_account_once(db):
    learner = factories.LearnerFactory()
    from enrolment.services import learner_register

    assert learner_register(user=learner.user) == learner
    fresh = learner_register(user=factories.UserFactory())
    account = CreditAccount.objects.get(learner=fresh)
    assert account.number.startswith("CB") and len(account.number) == 18
    assert services.account_open(learner=fresh) == account


def test_accrediting_twice_grants_the_credits_once(world):
    services.outcome_accredit(outcome=world.certificate, standard=world.standard, officer=world.officer, reason="ok")
    before = ledger_state()
    with pytest.raises(CreditBankError, match="Only a submitted outcome can be accredited"):
        services.outcome_accredit(outcome=world.certificate, standard=world.standard, officer=world.officer, reason="again")
    assert ledger_state() == before
    assert Accreditation.objects.count() == 1
    assert ledger.balance(world.certificate.account) == Decimal("8")


def test_recording_a_result_twice_deposits_once(world, cast):
    day = timezone.localdate()
    result, _ = result_record(enrolment=world.enrolment, course=world.drawing, score=Decimal("85"), assessed_on=day, actor=cast.school_admin)
    result_record(enrolment=world.enrolment, course=world.drawing, score=Decimal("85"), assessed_on=day, actor=cast.school_admin)
    services.results_deposit(results=[result])  # a retried deposit
    deposits = LedgerEntry.objects.filter(kind="deposit")
    assert deposits.count() == 1 and deposits.get().amount == Decimal("4.0")
    assert LearningOutcome.objects.filter(course_result=result).count() == 1


def test_a_failed_result_deposits_nothing(world, cast):
    result_record(enrolment=world.enrolment, course=world.drawing, score=Decimal("40"), assessed_on=timezone.localdate(), actor=cast.school_admin)
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"expires_on": "past"}, "expired on"),
        ({"level": 3}, "below the standard"),
        ({"achieved_on": "old"}, "last 5 years"),
        ({"kind": "award"}, "does not accept this kind"),
    ],
)
def test_accreditation_refusals_say_why(world, change, message):
    outcome = world.certificate
    today = timezone.localdate()
    for name, value in change.items():
        if value == "past":
            outcome.achieved_on, value = today - datetime.timedelta(days=900), today - datetime.timedelta(days=1)
        elif value == "old":
            value = today - datetime.timedelta(days=365 * 6)
        setattr(outcome, name, value)
    outcome.save()
    before = ledger_state()
    with pytest.raises(CreditBankError, match=message):
        services.outcome_accredit(outcome=outcome, standard=world.standard, officer=world.officer, reason="check")
    assert ledger_state() == before
    outcome.refresh_from_db()
    assert outcome.status == "submitted"


def test_a_standard_not_in_force_or_for_other_bodies_is_refused(world, cast):
    old = factories.RecognitionStandardFactory(effective_from=datetime.date(2010, 1, 1), effective_to=datetime.date(2015, 1, 1))
    with pytest.raises(CreditBankError, match="not in force"):
        services.outcome_accredit(outcome=world.certificate, standard=old, officer=world.officer, reason="x")
    picky = factories.RecognitionStandardFactory()
    picky.accepted_bodies.set([cast.other_association])
    with pytest.raises(CreditBankError, match="does not accept outcomes issued by"):
        services.outcome_accredit(outcome=world.certificate, standard=picky, officer=world.officer, reason="x")
    assert not LedgerEntry.objects.exists()


def test_an_officer_never_decides_on_their_own_outcome(world):
    from enrolment.services import learner_register

    own = factories.LearningOutcomeFactory(account=services.account_for(learner_register(user=world.officer)))
    with pytest.raises(CreditBankError, match="own learning outcome"):
        services.outcome_accredit(outcome=own, standard=world.standard, officer=world.officer, reason="mine")
    with pytest.raises(CreditBankError, match="own learning outcome"):
        services.outcome_reject(outcome=own, officer=world.officer, reason="mine")
    own.refresh_from_db()
    assert own.status == "submitted" and not LedgerEntry.objects.exists()

    services.outcome_accredit(outcome=own, standard=world.standard, officer=factories.UserFactory(), reason="a colleague checked it")
    before = ledger_state()
    with pytest.raises(CreditBankError, match="own learning outcome"):
        services.outcome_revoke(outcome=own, officer=world.officer, reason="mine")
    own.refresh_from_db()
    assert own.status == "accredited" and ledger_state() == before


def test_a_conversion_exempts_a_course_once(world, accredited):
    convert(world, accredited)
    before = ledger_state()
    with pytest.raises(CreditBankError, match="already exempted"):
        convert(world, accredited)
    assert ledger_state() == before
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize(
    "setup, message",
    [
        ("rule_expired", "not in force"),
        ("rule_other_programme", "another programme"),
        ("course_not_in_rule", "does not replace"),
        ("course_passed", "already passed"),
        ("level_too_low", "below the course"),
        ("enrolment_withdrawn", "accepted or studying"),
        ("outcome_revoked", "Only an accredited outcome"),
        ("two_certificates", "converges two certificates"),
    ],
)
def test_conversion_refusals_say_why_and_leave_the_ledger(world, accredited, cast, setup, message):
    kw = {}
    if setup == "rule_expired":
        world.rule.effective_to = datetime.date(2021, 1, 1)
        world.rule.save()
    elif setup == "rule_other_programme":
        kw["rule"] = factories.ConversionRuleFactory(standard=world.standard)
    elif setup == "course_not_in_rule":
        kw["course"] = world.drawing
    elif setup == "course_passed":
        result_record(enrolment=world.enrolment, course=world.cnc, score=Decimal("90"), assessed_on=timezone.localdate(), actor=cast.school_admin)
    elif setup == "level_too_low":
        world.cnc.level = 6
        world.cnc.save()
    elif setup == "enrolment_withdrawn":
        Enrolment.objects.filter(pk=world.enrolment.pk).update(status=EnrolmentStatus.WITHDRAWN)
    elif setup == "outcome_revoked":
        services.outcome_revoke(outcome=accredited, officer=world.officer, reason="forged")
    elif setup == "two_certificates":
        world.rule.second_standard = factories.RecognitionStandardFactory(code="DIPLOMA")
        world.rule.save()
    before = ledger_state()
    with pytest.raises(CreditBankError, match=message):
        convert(world, accredited, **kw)
    assert ledger_state() == before
    assert not Conversion.objects.filter(status="active").exists()


def test_convergence_of_two_certificates_needs_both(world, accredited):
    diploma_standard = factories.RecognitionStandardFactory(code="DIPLOMA", outcome_kinds=["diploma"], credit_value=Decimal("2"))
    world.rule.second_standard = diploma_standard
    world.rule.save()
    diploma = factories.LearningOutcomeFactory(account=accredited.account, kind="diploma", title="Secondary vocational diploma")
    services.outcome_accredit(outcome=diploma, standard=diploma_standard, officer=world.officer, reason="diploma seen")
    wrong = factories.LearningOutcomeFactory(account=accredited.account, title="Another CNC certificate")
    services.outcome_accredit(outcome=wrong, standard=world.standard, officer=world.officer, reason="ok")
    with pytest.raises(CreditBankError, match="second outcome must be accredited under DIPLOMA"):
        convert(world, accredited, second_outcome=wrong)
    conversion = convert(world, accredited, second_outcome=diploma)
    assert conversion.second_outcome == diploma


def test_transfers_respect_the_share_the_credits_left_and_the_source_cap(world, accredited, settings):
    # 16-credit programme: at most 8 may be recognised.
    services.transfer_apply(outcome=accredited, enrolment=world.enrolment, group=world.elective, credits=Decimal("4"), officer=world.officer)
    second = factories.LearningOutcomeFactory(account=accredited.account, title="Industrial robots operator")
    services.outcome_accredit(outcome=second, standard=world.standard, officer=world.officer, reason="ok")
    before = ledger_state()
    with pytest.raises(CreditBankError, match="At most 8.0 of this programme's 16.0 credits"):
        services.transfer_apply(outcome=second, enrolment=world.enrolment, group=world.elective, credits=Decimal("5"), officer=world.officer)
    with pytest.raises(CreditBankError, match="already transferred to this programme"):
        services.transfer_apply(outcome=accredited, enrolment=world.enrolment, group=world.elective, credits=Decimal("1"), officer=world.officer)
    settings.CREDITBANK_YEARLY_SOURCE_CAP = Decimal("6")
    with pytest.raises(CreditBankError, match="At most 6 credits a year may come from"):
        services.transfer_apply(outcome=second, enrolment=world.enrolment, group=world.elective, credits=Decimal("4"), officer=world.officer)
    with pytest.raises(CreditBankError, match="positive number"):
        services.transfer_apply(outcome=second, enrolment=world.enrolment, group=world.elective, credits=Decimal("0"), officer=world.officer)
    assert ledger_state() == before
    assert Transfer.objects.count() == 1


def test_an_outcome_cannot_give_more_than_it_has(world, accredited):
    other_programme = factories.ProgrammeFactory(total_credits=Decimal("100"))
    group = factories.RequirementGroupFactory(programme=other_programme, kind="elective", min_credits=Decimal("10"))
    factories.add_course(group, level=4)
    elsewhere = Enrolment.objects.create(learner=world.learner, intake=factories.IntakeFactory(programme=other_programme), programme=other_programme, status=EnrolmentStatus.ACTIVE)
    services.transfer_apply(outcome=accredited, enrolment=elsewhere, group=group, credits=Decimal("6"), officer=world.officer)
    with pytest.raises(CreditBankError, match="has 2.0 credits left"):
        services.transfer_apply(outcome=accredited, enrolment=world.enrolment, group=world.elective, credits=Decimal("4"), officer=world.officer)
    assert ledger.balance(accredited.account) == Decimal("2.0")


def test_revoking_reverses_everything_built_on_the_outcome(world, accredited):
    received = []
    from creditbank.signals import outcome_revoked

    outcome_revoked.connect(lambda sender, **kw: received.append(kw), weak=False, dispatch_uid="t")
    try:
        conversion = convert(world, accredited)
        transfer = services.transfer_apply(outcome=accredited, enrolment=world.enrolment, group=world.elective, credits=Decimal("4"), officer=world.officer)
        assert ledger.balance(accredited.account) == 0
        reversals = services.outcome_revoke(outcome=accredited, officer=world.officer, reason="Certificate withdrawn by the issuer")
    finally:
        outcome_revoked.disconnect(dispatch_uid="t")
    assert len(reversals) == 3
    assert ledger.balance(accredited.account) == 0
    assert ledger.outcome_available(accredited) == 0
    conversion.refresh_from_db()
    transfer.refresh_from_db()
    assert conversion.status == transfer.status == "reversed"
    assert received[0]["outcome"] == accredited and received[0]["conversions"] == [conversion]
    assert ledger.verify_account(accredited.account) is None
    with pytest.raises(CreditBankError, match="cannot become"):
        services.outcome_revoke(outcome=accredited, officer=world.officer, reason="again")


def test_a_standard_in_use_is_frozen_and_gets_new_versions(world, accredited):
    world.standard.credit_value = Decimal("10")
    with pytest.raises(CreditBankError, match="in use and frozen"):
        services.standard_save(standard=world.standard)
    successor = services.standard_new_version(standard=world.standard, effective_from=timezone.localdate(), credit_value=Decimal("10"))
    world.standard.refresh_from_db()
    assert (successor.version, successor.credit_value, successor.effective_to) == (2, Decimal("10"), None)
    assert world.standard.effective_to == timezone.localdate() - datetime.timedelta(days=1)
    assert world.standard.credit_value == Decimal("8.0")
    assert RecognitionStandard.objects.filter(code=world.standard.code).count() == 2


def test_a_rule_in_use_is_frozen(world, accredited):
    convert(world, accredited)
    with pytest.raises(CreditBankError, match="in use and frozen"):
        services.rule_save(rule=world.rule)
    with pytest.raises(CreditBankError, match="Not courses of"):
        services.rule_save(rule=factories.ConversionRuleFactory(programme=world.programme), courses=[factories.CourseFactory()])


def test_evidence_is_checked_from_its_content(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fields = {
        "kind": "vocational", "title": "Welder", "issuing_body_name": "China Foundry Association",
        "achieved_on": datetime.date(2024, 5, 1), "level": 4,
    }
    before = (LearningOutcome.objects.count(), OutcomeEvidence.objects.count())
    for upload, message in [
        (SimpleUploadedFile("cert.pdf", b"just text, named like a PDF"), "not a PDF, JPEG or PNG"),
        (SimpleUploadedFile("cert.pdf", b""), "is empty"),
        (SimpleUploadedFile("big.pdf", PDF + b"0" * (5 * 1024 * 1024)), "at most"),
    ]:
        with pytest.raises(CreditBankError, match=message):
            services.outcome_submit(learner=world.learner, files=[SimpleUploadedFile("ok.pdf", PDF), upload], **fields)
    with pytest.raises(CreditBankError, match="at least one evidence file"):
        services.outcome_submit(learner=world.learner, files=[], **fields)
    assert (LearningOutcome.objects.count(), OutcomeEvidence.objects.count()) == before
    outcome = services.outcome_submit(
        learner=world.learner, files=[SimpleUploadedFile("cert.pdf", PDF), SimpleUploadedFile("photo.png", PNG)], **fields
    )
    kinds = sorted(outcome.evidence.values_list("content_type", flat=True))
    assert kinds == ["application/pdf", "image/png"]
    assert outcome.history.get().to_status == "submitted"


def test_completing_the_requirements_completes_the_enrolment(world, accredited, cast):
    day = timezone.localdate()
    convert(world, accredited)  # NC201 exempted
    result_record(enrolment=world.enrolment, course=world.drawing, score=Decimal("75"), assessed_on=day, actor=cast.school_admin)
    world.enrolment.refresh_from_db()
    assert world.enrolment.status == "active"
    result_record(enrolment=world.enrolment, course=world.robots, score=Decimal("80"), assessed_on=day, actor=cast.school_admin)
    world.enrolment.refresh_from_db()
    assert world.enrolment.status == "active"  # electives need 8 credits, 4 earned
    more = services.transfer_apply(outcome=accredited, enrolment=world.enrolment, group=world.elective, credits=Decimal("4"), officer=world.officer)
    world.enrolment.refresh_from_db()
    assert more and world.enrolment.status == "completed"
    assert world.enrolment.history.last().reason.startswith("The credit-bank audit")


def test_a_new_version_may_change_what_it_accepts_and_replaces(world, accredited, cast):
    standard = services.standard_new_version(
        standard=world.standard, effective_from=timezone.localdate(), accepted_bodies=[cast.association]
    )
    assert list(standard.accepted_bodies.all()) == [cast.association]
    assert not world.standard.accepted_bodies.exists()
    rule = services.rule_new_version(rule=world.rule, effective_from=timezone.localdate(), courses=[world.drawing])
    assert list(rule.courses.all()) == [world.drawing] and list(world.rule.courses.all()) == [world.cnc]
    with pytest.raises(CreditBankError, match="Not courses of"):
        services.rule_new_version(rule=rule, effective_from=timezone.localdate() + datetime.timedelta(days=1), courses=[factories.CourseFactory()])


def test_unused_credits_of_an_expired_certificate_expire_once(world, accredited, eager):
    from creditbank.tasks import expire_outcomes

    convert(world, accredited)  # 4 of its 8 credits are used
    accredited.expires_on = timezone.localdate() - datetime.timedelta(days=1)
    accredited.save()
    assert expire_outcomes.delay().get() == 1
    assert services.outcomes_expire() == 0
    entry = LedgerEntry.objects.get(kind="expiry")
    assert entry.amount == Decimal("-4.0") and "expired on" in entry.reason
    assert ledger.balance(accredited.account) == 0
    assert Conversion.objects.get().status == "active"  # what was used stays used
    assert ledger.verify_account(accredited.account) is None
