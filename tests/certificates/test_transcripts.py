"""Transcripts: queued on demand, built by a task, superseded by a newer one, flagged when an outcome
they list is revoked; the record they show names where every credit came from."""

import pytest

from certificates import services
from certificates.models import Transcript
from certificates.records import transcript_record
from certificates.tasks import build_transcript
from creditbank import services as credit_services


def test_a_transcript_is_queued_once_and_built_by_its_task(world, accredited, django_capture_on_commit_callbacks, eager):
    with django_capture_on_commit_callbacks() as callbacks:
        first = services.transcript_request(learner=world.learner)
        again = services.transcript_request(learner=world.learner)
    assert first == again and len(callbacks) == 1  # one click too many does not make two
    assert first.status == "queued"
    build_transcript.apply(args=[first.pk]).get()
    first.refresh_from_db()
    assert first.status == "ready" and first.pdf and first.credential and first.built_at
    assert first.credential["type"][-1] == "ClrCredential" or "ClrCredential" in first.credential["type"]
    # Running the task again (a duplicate delivery) changes nothing.
    pdf_name = first.pdf.name
    build_transcript.apply(args=[first.pk]).get()
    first.refresh_from_db()
    assert first.pdf.name == pdf_name and Transcript.objects.count() == 1


def test_a_newer_transcript_supersedes_the_older(world, accredited, eager):
    older = services.transcript_request(learner=world.learner)
    services.transcript_build(transcript_id=older.pk)
    newer = services.transcript_request(learner=world.learner)
    services.transcript_build(transcript_id=newer.pk)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.superseded_by == newer and older.superseded_at and older.status_on() == "superseded"
    assert newer.superseded_by is None and newer.status_on() == "valid"
    assert older.verification_code != newer.verification_code
    assert older.status_index != newer.status_index


def test_the_record_names_the_provenance_of_each_credit(world, accredited):
    credit_services.conversion_apply(
        outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer
    )
    record = transcript_record(learner=world.learner)
    [outcome] = record.outcomes
    assert (outcome.title, outcome.standard_code, outcome.standard_version) == (
        accredited.title, accredited.accreditation.standard.code, accredited.accreditation.standard.version,
    )
    assert outcome.entry_seqs  # the ledger entries that moved its credits
    [conversion] = record.conversions
    assert (conversion.course_code, conversion.rule_code, conversion.outcome_id) == (
        world.cnc.code, world.rule.code, str(accredited.public_id),
    )
    assert conversion.entry_seqs
    [audit] = record.audits
    assert audit.programme_code == world.programme.code and audit.exempted == conversion.credits


def test_revoking_an_outcome_flags_the_transcripts_that_list_it(world, accredited, eager):
    transcript = services.transcript_request(learner=world.learner)
    services.transcript_build(transcript_id=transcript.pk)
    credit_services.outcome_revoke(outcome=accredited, officer=world.officer, reason="Withdrawn by its issuer")
    transcript.refresh_from_db()
    assert transcript.flagged_at is not None and transcript.flag_reason == "Withdrawn by its issuer"
    assert transcript.status_on() == "valid"  # flagged for staff review, still what it was at its moment


def test_a_failed_build_is_recorded_and_a_new_request_can_follow(world, monkeypatch, eager):
    from certificates import rendering

    def broken(transcript, record):
        raise ValueError("layout failed")

    monkeypatch.setattr(rendering, "transcript_pdf", broken)
    transcript = services.transcript_request(learner=world.learner)
    with pytest.raises(ValueError):
        build_transcript.apply(args=[transcript.pk]).get()
    transcript.refresh_from_db()
    assert transcript.status == "failed" and "layout failed" in transcript.error and not transcript.pdf
    monkeypatch.undo()
    retry = services.transcript_request(learner=world.learner)
    assert retry != transcript
    services.transcript_build(transcript_id=retry.pk)
    retry.refresh_from_db()
    assert retry.status == "ready"
