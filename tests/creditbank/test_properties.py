"""Property tests: whatever sequence of credit movements happens, the ledger's rules hold.

After every step of a random sequence of deposits, accreditations, conversions, transfers and
revocations: each balance equals the sum of its entries and is never negative, each chain
verifies, no outcome gives more than it brought, no course is exempted twice, and the programme's
recognition cap is never exceeded. A refused step changes nothing.
"""

from decimal import Decimal

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from creditbank import ledger, services
from creditbank.models import Conversion, CreditAccount, LearningOutcome, LedgerEntry, Transfer
from enrolment.results import result_record
from tests import factories

operations = st.lists(
    st.one_of(
        st.tuples(st.just("result"), st.integers(0, 3), st.integers(0, 100)),
        st.tuples(st.just("accredit"), st.integers(0, 2)),
        st.tuples(st.just("convert"), st.integers(0, 2), st.integers(0, 3)),
        st.tuples(st.just("transfer"), st.integers(0, 2), st.sampled_from(["1", "2.5", "4", "6"])),
        st.tuples(st.just("revoke"), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=12,
)


def snapshot():
    return (
        list(LedgerEntry.objects.order_by("pk").values_list("pk", flat=True)),
        list(Conversion.objects.order_by("pk").values_list("pk", "status")),
        list(Transfer.objects.order_by("pk").values_list("pk", "status")),
    )


def check_invariants(world):
    for account in CreditAccount.objects.all():
        total = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        assert ledger.balance(account) == ledger.credits(total)
        assert ledger.balance(account) >= 0
        assert ledger.verify_account(account) is None
    for outcome in LearningOutcome.objects.all():
        assert ledger.outcome_available(outcome) >= 0
    active = list(Conversion.objects.filter(status="active").values_list("learner_id", "programme_id", "course_id"))
    assert len(active) == len(set(active)), "a course exempted twice"
    recognised = sum(
        (qs.filter(status="active", programme=world.programme).aggregate(s=Sum("credits"))["s"] or Decimal(0))
        for qs in (Conversion.objects, Transfer.objects)
    )
    assert recognised <= world.programme.total_credits * django_settings.CREDITBANK_MAX_RECOGNISED_SHARE


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_random_credit_movements_keep_the_ledger_sound(world, cast, steps):
    certificates = [world.certificate] + [
        factories.LearningOutcomeFactory(account=world.certificate.account, title=f"Certificate {i}") for i in (1, 2)
    ]
    courses = [world.cnc, world.drawing, world.robots, world.elective.courses.exclude(pk=world.robots.pk).get()]
    rule_courses = {world.cnc.pk}
    with transaction.atomic():
        # Start from one accredited certificate, so conversions and transfers can succeed early.
        services.outcome_accredit(outcome=certificates[0], standard=world.standard, officer=world.officer, reason="checked")
        for step in steps:
            before = snapshot()
            try:
                with transaction.atomic():
                    kind = step[0]
                    if kind == "result":
                        result_record(
                            enrolment=world.enrolment, course=courses[step[1]], score=Decimal(step[2]),
                            assessed_on=timezone.localdate(), actor=cast.school_admin,
                        )
                    elif kind == "accredit":
                        services.outcome_accredit(outcome=certificates[step[1]], standard=world.standard, officer=world.officer, reason="checked")
                    elif kind == "convert":
                        course = courses[step[2]]
                        services.conversion_apply(
                            outcome=certificates[step[1]], enrolment=world.enrolment, course=course,
                            rule=world.rule, officer=world.officer,
                        )
                        assert course.pk in rule_courses
                    elif kind == "transfer":
                        services.transfer_apply(
                            outcome=certificates[step[1]], enrolment=world.enrolment, group=world.elective,
                            credits=Decimal(step[2]), officer=world.officer,
                        )
                    elif kind == "revoke":
                        services.outcome_revoke(outcome=certificates[step[1]], officer=world.officer, reason="withdrawn")
                event(f"{kind} done")
            except ValidationError:
                event(f"{kind} refused")
                assert snapshot() == before, f"refused {step} but changed something"
            check_invariants(world)
        transaction.set_rollback(True)
