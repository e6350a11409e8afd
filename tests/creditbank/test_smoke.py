from creditbank import audit, ledger, services


def test_a_certificate_becomes_credits_that_exempt_a_course(world, accredited):
    account = accredited.account
    assert ledger.balance(account) == 8
    services.conversion_apply(
        outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer
    )
    assert ledger.balance(account) == 4
    result = audit.programme_audit(world.enrolment)
    cnc_line = next(c for c in result.groups[0].courses if c.course == world.cnc)
    assert cnc_line.state == "exempted" and cnc_line.entry_seqs == [2] and cnc_line.rule_label == "NCT-CNC v1"
    assert result.exempted == 4 and not result.complete
    assert ledger.verify_account(account) is None
