"""Concurrent requests for the same credits (PostgreSQL, threads): nothing is spent twice."""

import threading
from decimal import Decimal

from django.db import connection
from django.utils import translation

from creditbank import ledger, services
from creditbank.errors import CreditBankError
from creditbank.models import LedgerEntry, Transfer
from enrolment.models import Enrolment, EnrolmentStatus
from tests import factories


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=30)
            # The active language is per thread: these threads read their refusals in English too.
            with translation.override("en"):
                outcomes[i] = call()
        except CreditBankError as exc:
            outcomes[i] = exc
        except BaseException as exc:  # anything else is a bug; the test reports it
            outcomes[i] = ("unexpected", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    unexpected = [o for o in outcomes if isinstance(o, tuple)]
    assert not unexpected, unexpected
    return outcomes


def test_twenty_transfers_of_the_same_credits_to_twenty_programmes(require_postgres, world, accredited):
    # The certificate holds 8 credits; each request asks for 4 toward a different programme.
    targets = []
    for _ in range(20):
        programme = factories.ProgrammeFactory(total_credits=Decimal("40"))
        group = factories.RequirementGroupFactory(programme=programme, kind="elective", min_credits=Decimal("8"))
        factories.add_course(group, level=4)
        enrolment = Enrolment.objects.create(
            learner=world.learner, intake=factories.IntakeFactory(programme=programme), programme=programme,
            status=EnrolmentStatus.ACTIVE,
        )
        targets.append((enrolment, group))
    outcomes = _race([
        (lambda e=e, g=g: services.transfer_apply(outcome=accredited, enrolment=e, group=g, credits=Decimal("4"), officer=world.officer))
        for e, g in targets
    ])
    succeeded = [o for o in outcomes if isinstance(o, Transfer)]
    refused = [o for o in outcomes if isinstance(o, CreditBankError)]
    assert (len(succeeded), len(refused)) == (2, 18)
    assert all("credits left" in r.message for r in refused)
    assert Transfer.objects.count() == 2
    assert ledger.outcome_available(accredited) == 0
    assert ledger.balance(accredited.account) == 0
    assert ledger.verify_account(accredited.account) is None
    assert LedgerEntry.objects.filter(kind="transfer").count() == 2


def test_twenty_identical_conversions_exempt_the_course_once(require_postgres, world, accredited):
    outcomes = _race([
        (lambda: services.conversion_apply(outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer))
        for _ in range(20)
    ])
    assert sum(1 for o in outcomes if not isinstance(o, CreditBankError)) == 1
    assert LedgerEntry.objects.filter(kind="conversion").count() == 1
    assert ledger.balance(accredited.account) == Decimal("4.0")
