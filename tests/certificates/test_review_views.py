"""The partner-association reviewers' desk (/review/).

Who gets in (reviewers of the association, superusers; anyone else a 404, a visitor the log-in
page), that another association's requests, batches and certificates are not found, what every
POST does through the services, and that every refusal names its reason and changes nothing.

Issuing itself is not run here: approvals are checked to queue their task after the commit, and
issued certificates are made as rows (the PDF and credential code has its own tests).
"""

from __future__ import annotations

import datetime
import itertools
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from certificates import services
from certificates.models import (
    Certificate,
    CertificateRequest,
    RequestStatusChange,
    ReviewBatch,
)
from enrolment.models import EnrolmentStatusChange
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
# The bounds hold on both paths. The session is read from the database on the plain path (no
# Redis: the db session engine) and from Redis with it (cached_db): counted once either way.
QUEUE_QUERY_BOUND = 10  # session, user, roles, second factor, associations, count, rows, 3 filter choices
CERTIFICATES_QUERY_BOUND = 7  # session, user, roles, second factor, count, rows, type choices
_numbers = itertools.count(1)


@pytest.fixture
def client(client):
    """These tests read English text; the portal's default language is Chinese."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def cert_type(cast):
    return factories.CertificateTypeFactory(
        school=cast.school,
        association=cast.association,
        name_en="NCT completion",
        code="nct-completion",
    )


@pytest.fixture
def other_type(cast):
    return factories.CertificateTypeFactory(
        school=cast.other_school, association=cast.other_association, name_en="Coal mining completion",
        code="coal-completion",
    )  # fmt: skip


@pytest.fixture
def req(cast, cert_type):
    return factories.completed_request(learner=cast.learner.learner, cert_type=cert_type)


@pytest.fixture
def other_req(cast, other_type):
    return factories.completed_request(learner=cast.other_learner.learner, cert_type=other_type)


def requests_for(cert_type, n: int) -> list[CertificateRequest]:
    return [
        factories.completed_request(learner=factories.LearnerFactory(), cert_type=cert_type)
        for _ in range(n)
    ]


def issued(request: CertificateRequest, *, expires_on=None, flagged: str = "") -> Certificate:
    """An issued certificate, as a row: the issuing pipeline is tested elsewhere."""
    number = next(_numbers)
    certificate = Certificate.objects.create(
        request=request, school=request.type.school, year=TODAY.year, number=number,
        serial=f"{request.type.school.slug.upper()}-{TODAY.year}-{number:06d}", issued_on=TODAY,
        expires_on=expires_on, credential={"x": 1}, pdf="certificates/x.pdf",
        flagged_at=timezone.now() if flagged else None, flag_reason=flagged,
    )  # fmt: skip
    RequestStatusChange.objects.create(
        request=request, from_status=request.status, to_status="issued"
    )
    CertificateRequest.objects.filter(pk=request.pk).update(status="issued")
    return certificate


def approved(request: CertificateRequest, reviewer) -> CertificateRequest:
    services.request_approve(request=request, reviewer=reviewer)
    request.refresh_from_db()
    return request


def status_of(request: CertificateRequest) -> str:
    return CertificateRequest.objects.values_list("status", flat=True).get(pk=request.pk)


def u(name: str, *args) -> str:
    return reverse(f"review:{name}", args=args)


def html(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def snapshot() -> tuple:
    """Everything a refused POST must leave as it was."""
    return (
        sorted(CertificateRequest.objects.values_list("pk", "status", "batch_id")),
        RequestStatusChange.objects.count(),
        ReviewBatch.objects.count(),
        sorted(Certificate.objects.values_list("pk", "status", "revocation_reason")),
    )


# --- Who gets in ----------------------------------------------------------------------------------


@pytest.fixture
def everything(cast, req, cert_type):
    """One of everything of the association: a request, a batch, an issued certificate."""
    waiting = requests_for(cert_type, 1)[0]
    batch = services.requests_bulk_decide(
        reviewer=cast.reviewer,
        association=cast.association,
        request_ids=[waiting.pk],
        decision="approve",
    )
    certificate = issued(
        approved(
            factories.completed_request(learner=factories.LearnerFactory(), cert_type=cert_type),
            cast.reviewer,
        )
    )
    return {"request": req, "batch": batch, "certificate": certificate}


def desk_pages(things) -> list[str]:
    return [
        u("queue"),
        u("request", things["request"].public_id),
        u("batch", things["batch"].public_id),
        u("batch_progress", things["batch"].public_id),
        u("certificates"),
        u("revoke", things["certificate"].serial),
    ]


def desk_posts(things) -> list[tuple[str, dict]]:
    request = things["request"]
    return [
        (u("request", request.public_id), {"action": "start_review"}),
        (u("request", request.public_id), {"action": "approve"}),
        (u("request", request.public_id), {"action": "reject", "reject-reason": "No evidence"}),
        (u("request", request.public_id), {"action": "retry"}),
        (
            u("bulk"),
            {"action": "approve-selected", "requests": [str(request.public_id)], "confirmed": "1"},
        ),
        (u("bulk"), {"action": "approve-matching", "filter": "", "confirmed": "1"}),
        (u("revoke", things["certificate"].serial), {"reason": "Forged"}),
    ]


def test_visitors_are_sent_to_log_in(client, everything):
    for url in desk_pages(everything):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


@pytest.mark.parametrize("who", ["learner", "school_admin", "credit_officer"])
def test_everyone_but_reviewers_gets_404_on_every_page_and_post_and_nothing_changes(
    client, cast, everything, who
):
    client.force_login(getattr(cast, who))
    for url in desk_pages(everything):
        assert client.get(url).status_code == 404, url
    before = snapshot()
    for url, data in desk_posts(everything):
        assert client.post(url, data).status_code == 404, url
    assert snapshot() == before


def test_another_associations_reviewer_gets_404_on_this_associations_pages_and_posts(
    client, cast, everything
):
    client.force_login(cast.other_reviewer)
    for url in desk_pages(everything)[1:]:
        if url != u("certificates"):
            assert client.get(url).status_code == 404, url
    before = snapshot()
    for url, data in desk_posts(everything):
        if url != u("bulk"):
            assert client.post(url, data).status_code == 404, url
    assert snapshot() == before


def test_the_nav_shows_review_to_reviewers_and_superusers_only(client, cast):
    client.force_login(cast.reviewer)
    assert f'href="{u("queue")}"' in html(client.get(reverse("schools:home")))
    client.force_login(cast.school_admin)
    assert f'href="{u("queue")}"' not in html(client.get(reverse("schools:home")))


def test_a_superuser_reviews_for_every_association(client, cast, req, other_req):
    client.force_login(cast.superuser)
    page = html(client.get(u("queue")))
    assert u("request", req.public_id) in page and u("request", other_req.public_id) in page
    assert 'name="association"' in page  # several associations: one can be chosen
    assert client.get(u("request", other_req.public_id)).status_code == 200


# --- The queue ----------------------------------------------------------------------------------


def test_the_queue_lists_only_the_reviewers_associations_requests_with_their_evidence(
    client, cast, req, other_req
):
    client.force_login(cast.reviewer)
    response = client.get(u("queue"))
    page = html(response)
    assert response.status_code == 200
    assert u("request", req.public_id) in page
    assert u("request", other_req.public_id) not in page and "Coal mining completion" not in page
    learner = cast.learner.learner
    assert learner.legal_name in page and "NCT completion" in page
    assert req.enrolment.programme.code in page and "Completed on" in page
    assert 'name="association"' not in page  # one association: nothing to choose
    assert f'value="{req.public_id}"' in page  # can be ticked
    assert (
        'value="approve-matching"' in page and "Approve the 1 request matching this filter" in page
    )


def test_the_queue_is_oldest_first_and_shows_only_waiting_requests_by_default(
    client, cast, cert_type
):
    first, second, third = requests_for(cert_type, 3)
    CertificateRequest.objects.filter(pk=first.pk).update(
        requested_at=timezone.now() - datetime.timedelta(days=3)
    )
    CertificateRequest.objects.filter(pk=third.pk).update(
        requested_at=timezone.now() - datetime.timedelta(days=5)
    )
    services.request_start_review(request=second, reviewer=cast.reviewer)
    rejected = requests_for(cert_type, 1)[0]
    services.request_reject(request=rejected, reviewer=cast.reviewer, reason="Not completed")
    client.force_login(cast.reviewer)
    response = client.get(u("queue"))
    listed = [r.pk for r in response.context["requests"]]
    assert listed == [third.pk, first.pk, second.pk]
    newest = client.get(u("queue"), {"sort": "newest"})
    assert [r.pk for r in newest.context["requests"]] == [second.pk, first.pk, third.pk]


def test_the_queue_filters(client, cast, cert_type):
    other_programme_type = factories.CertificateTypeFactory(
        school=factories.IndustrySchoolFactory(name_en="School of Logistics"), association=cast.association,
        name_en="Logistics completion",
    )  # fmt: skip
    waiting, under_review, to_reject, to_issue, to_fail = requests_for(cert_type, 5)
    logistics = requests_for(other_programme_type, 1)[0]
    services.request_start_review(request=under_review, reviewer=cast.reviewer)
    services.request_reject(request=to_reject, reviewer=cast.reviewer, reason="Not completed")
    issued(approved(to_issue, cast.reviewer))
    approved(to_fail, cast.reviewer)
    services.request_issue_failed(request_id=to_fail.pk, error="PDF renderer away")
    old = timezone.now() - datetime.timedelta(days=40)
    CertificateRequest.objects.filter(pk=waiting.pk).update(requested_at=old)
    named = waiting.learner
    named.legal_name = "Zhang Sanfeng"
    named.save()
    client.force_login(cast.reviewer)

    def listed(**params) -> set[int]:
        response = client.get(u("queue"), params)
        assert response.status_code == 200
        return {r.pk for r in response.context["requests"]}

    assert listed() == {waiting.pk, under_review.pk, logistics.pk}
    assert listed(status="under-review") == {under_review.pk}
    assert listed(status="rejected") == {to_reject.pk}
    assert listed(status="issued") == {to_issue.pk}
    assert listed(status="failed") == {to_fail.pk}
    assert listed(status="issuing") == set()
    assert listed(status="all") == {
        waiting.pk,
        under_review.pk,
        to_reject.pk,
        to_issue.pk,
        to_fail.pk,
        logistics.pk,
    }
    assert listed(type=other_programme_type.code) == {logistics.pk}
    assert listed(school=cast.school.slug, status="all") == {
        waiting.pk, under_review.pk, to_reject.pk, to_issue.pk, to_fail.pk,
    }  # fmt: skip
    assert listed(programme=other_programme_type.programme.code) == {logistics.pk}
    old_day = timezone.localtime(old).date()
    assert listed(requested_to=old_day.isoformat()) == {waiting.pk}
    assert listed(requested_from=(old_day + datetime.timedelta(days=1)).isoformat()) == {
        under_review.pk,
        logistics.pk,
    }
    assert listed(q="sanfeng") == {waiting.pk}
    assert listed(q=named.user.email.upper()) == {waiting.pk}
    # Another association's type is not a choice: the filter is refused and ignored, and says so.
    other = factories.CertificateTypeFactory(association=cast.other_association)
    response = client.get(u("queue"), {"type": other.code})
    assert "Some filters were not understood" in html(response)
    assert {r.pk for r in response.context["requests"]} == {
        waiting.pk,
        under_review.pk,
        logistics.pk,
    }
    # Nothing matches: the empty state says so and offers to clear the filters.
    empty = html(client.get(u("queue"), {"q": "nobody-like-this"}))
    assert "No request matches these filters." in empty


def test_the_empty_queue_says_nothing_is_waiting(client, cast, cert_type):
    client.force_login(cast.reviewer)
    page = html(client.get(u("queue")))
    assert "No certificate request is waiting for a decision." in page


@pytest.mark.parametrize("n", [5, 50])
def test_the_queue_reads_a_constant_number_of_queries(
    client, cast, cert_type, n, django_assert_max_num_queries
):
    requests_for(cert_type, n)
    client.force_login(cast.reviewer)
    with django_assert_max_num_queries(QUEUE_QUERY_BOUND):
        response = client.get(u("queue"))
    assert response.status_code == 200 and len(response.context["requests"]) == n


# --- One request --------------------------------------------------------------------------------


def test_the_request_page_shows_the_evidence_in_full(client, cast, req):
    EnrolmentStatusChange.objects.create(
        enrolment=req.enrolment,
        from_status="active",
        to_status="completed",
        reason="All credits earned",
    )
    client.force_login(cast.reviewer)
    page = html(client.get(u("request", req.public_id)))
    learner = cast.learner.learner
    for text in (learner.legal_name, learner.user.email, learner.employer, req.enrolment.programme.code,
                 req.enrolment.intake.term_label, "All credits earned", "Programme audit", "Request history",
                 "Start review", "Approve and issue"):  # fmt: skip
        assert text in page, text


def test_starting_the_review_moves_the_request_and_says_so(client, cast, req):
    client.force_login(cast.reviewer)
    response = client.post(u("request", req.public_id), {"action": "start_review"}, follow=True)
    assert response.redirect_chain[-1][0] == u("request", req.public_id)
    assert status_of(req) == "under-review"
    assert any("now under review" in m for m in messages_of(response))
    again = client.post(u("request", req.public_id), {"action": "start_review"})
    assert again.status_code == 200 and "cannot become" in html(again)


def test_approving_one_request_queues_its_issue_after_the_commit(
    client, cast, req, django_capture_on_commit_callbacks
):
    client.force_login(cast.reviewer)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            u("request", req.public_id), {"action": "approve", "approve-reason": "Checked"}
        )
    assert response.status_code == 302 and response["Location"] == u("request", req.public_id)
    assert len(callbacks) == 1  # the issuing task, not run here
    assert status_of(req) == "approved"
    change = RequestStatusChange.objects.filter(request=req).latest("at", "pk")
    assert (change.to_status, change.actor, change.reason) == ("approved", cast.reviewer, "Checked")
    page = client.get(response["Location"])
    assert "approved; the certificate is being issued" in " ".join(messages_of(page))
    assert "is being issued" in html(page)


def test_rejecting_needs_a_reason_and_keeps_what_was_typed(client, cast, req):
    client.force_login(cast.reviewer)
    before = snapshot()
    response = client.post(
        u("request", req.public_id), {"action": "reject", "reject-reason": "   "}
    )
    assert response.status_code == 200
    assert "Give the learner a reason for the rejection." in html(response)
    assert snapshot() == before
    done = client.post(
        u("request", req.public_id),
        {"action": "reject", "reject-reason": "Enrolment not completed"},
    )
    assert done.status_code == 302 and status_of(req) == "rejected"
    assert RequestStatusChange.objects.filter(
        request=req, to_status="rejected", reason="Enrolment not completed"
    ).exists()


def test_a_refused_decision_is_shown_next_to_its_form_and_changes_nothing(client, cast, req):
    services.request_reject(request=req, reviewer=cast.reviewer, reason="Not completed")
    client.force_login(cast.reviewer)
    before = snapshot()
    response = client.post(
        u("request", req.public_id), {"action": "approve", "approve-reason": "Changed my mind"}
    )
    assert response.status_code == 200
    assert "cannot become" in html(response)
    assert snapshot() == before


def test_a_failed_issue_shows_its_error_and_can_be_retried(
    client, cast, req, django_capture_on_commit_callbacks
):
    approved(req, cast.reviewer)
    services.request_issue_failed(request_id=req.pk, error="WeasyPrint: font missing")
    client.force_login(cast.reviewer)
    page = html(client.get(u("request", req.public_id)))
    assert (
        "could not be issued" in page
        and "WeasyPrint: font missing" in page
        and "Retry issuing" in page
    )
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(u("request", req.public_id), {"action": "retry"}, follow=True)
    assert len(callbacks) == 1
    assert any("tried again" in m for m in messages_of(response))


def test_an_issued_request_links_its_certificate(client, cast, req):
    certificate = issued(approved(req, cast.reviewer))
    client.force_login(cast.reviewer)
    page = html(client.get(u("request", req.public_id)))
    assert certificate.serial in page
    assert reverse("verify:page", args=[certificate.verification_code]) in page
    assert u("revoke", certificate.serial) in page


# --- Bulk decisions -----------------------------------------------------------------------------


def test_bulk_approval_of_three_selected_confirms_then_decides_one_batch(
    client, cast, cert_type, django_capture_on_commit_callbacks
):
    chosen = requests_for(cert_type, 3)
    left = requests_for(cert_type, 1)[0]
    client.force_login(cast.reviewer)
    ids = [str(r.public_id) for r in chosen]
    before = snapshot()
    confirm = client.post(
        u("bulk"), {"action": "approve-selected", "requests": ids, "filter": "status=waiting"}
    )
    assert confirm.status_code == 200
    page = html(confirm)
    assert "Approve 3 requests?" in page and cast.association.name in page
    assert snapshot() == before  # the confirmation page stores nothing
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            u("bulk"),
            {
                "action": "approve-selected",
                "requests": ids,
                "filter": "status=waiting",
                "confirmed": "1",
            },
        )
    batch = ReviewBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == u("batch", batch.public_id)
    assert len(callbacks) == 3
    assert (batch.size, batch.decision, batch.association, batch.reviewer) == (
        3,
        "approve",
        cast.association,
        cast.reviewer,
    )
    assert {status_of(r) for r in chosen} == {"approved"} and status_of(left) == "requested"
    page = client.get(response["Location"])
    assert "3 requests approved" in " ".join(messages_of(page))


def test_switching_language_on_a_bulk_confirmation_goes_back_to_the_filtered_queue(
    client, cast, cert_type
):
    ids = [str(r.public_id) for r in requests_for(cert_type, 2)]
    client.force_login(cast.reviewer)
    confirm = client.post(
        u("bulk"), {"action": "approve-selected", "requests": ids, "filter": "status=waiting"}
    )
    assert confirm.status_code == 200
    # The confirmation answers a POST only; a GET there is refused, so the switch must not go there.
    assert client.get(u("bulk")).status_code == 405
    form = re.search(r'<form class="lang-switch".*?</form>', html(confirm), re.S).group(0)
    target = unescape(re.search(r'name="next" value="([^"]*)"', form).group(1))
    assert target == u("queue") + "?status=waiting"
    switched = client.post("/i18n/setlang/", {"language": "zh-hans", "next": target}, follow=True)
    assert switched.status_code == 200 and switched.redirect_chain[-1][0] == target
    assert '<html lang="zh-hans"' in html(switched)


def test_bulk_rejection_needs_a_reason_on_the_confirmation_page(client, cast, cert_type):
    chosen = requests_for(cert_type, 2)
    ids = [str(r.public_id) for r in chosen]
    client.force_login(cast.reviewer)
    confirm = client.post(u("bulk"), {"action": "reject-selected", "requests": ids})
    assert confirm.status_code == 200 and "Reject 2 requests?" in html(confirm)
    assert "Reason for the rejection" in html(confirm)
    before = snapshot()
    refused = client.post(
        u("bulk"), {"action": "reject-selected", "requests": ids, "confirmed": "1", "reason": " "}
    )
    assert refused.status_code == 200 and "Give the learners a reason for the rejection." in html(
        refused
    )
    assert snapshot() == before
    done = client.post(
        u("bulk"),
        {
            "action": "reject-selected",
            "requests": ids,
            "confirmed": "1",
            "reason": "Evidence incomplete",
        },
    )
    assert done.status_code == 302
    assert {status_of(r) for r in chosen} == {"rejected"}
    assert (
        RequestStatusChange.objects.filter(
            to_status="rejected", reason="Evidence incomplete"
        ).count()
        == 2
    )


def test_a_bulk_decision_with_another_associations_request_is_refused_and_changes_nothing(
    client, cast, cert_type, other_req
):
    chosen = requests_for(cert_type, 2)
    ids = [str(r.public_id) for r in chosen] + [str(other_req.public_id)]
    client.force_login(cast.reviewer)
    before = snapshot()
    for data in ({"action": "approve-selected", "requests": ids},
                 {"action": "approve-selected", "requests": ids, "confirmed": "1"}):  # fmt: skip
        response = client.post(u("bulk"), data, follow=True)
        assert "not in your association's queue" in " ".join(messages_of(response))
    assert snapshot() == before
    assert status_of(other_req) == "requested"


def test_bulk_refuses_nothing_selected_decided_requests_and_unknown_ids(client, cast, cert_type):
    waiting, decided = requests_for(cert_type, 2)
    services.request_reject(request=decided, reviewer=cast.reviewer, reason="Not completed")
    client.force_login(cast.reviewer)
    before = snapshot()
    cases = [
        ({"action": "approve-selected"}, "Select at least one request."),
        ({"action": "approve-selected", "requests": [str(waiting.public_id), str(decided.public_id)], "confirmed": "1"},
         "already decided"),
        ({"action": "approve-selected", "requests": ["not-a-uuid"]}, "was not recognised"),
        ({"action": "maybe", "requests": [str(waiting.public_id)]}, "Choose to approve or to reject."),
    ]  # fmt: skip
    for data, message in cases:
        response = client.post(u("bulk"), data, follow=True)
        assert response.redirect_chain and response.redirect_chain[-1][0].startswith(u("queue"))
        assert message in " ".join(messages_of(response)), message
    assert snapshot() == before
    assert client.get(u("bulk")).status_code == 405


def test_approving_all_that_match_decides_the_filtered_waiting_requests(
    client, cast, cert_type, django_capture_on_commit_callbacks
):
    other_programme_type = factories.CertificateTypeFactory(
        school=cast.school, association=cast.association
    )
    matching = requests_for(cert_type, 3)
    others = requests_for(other_programme_type, 2)
    client.force_login(cast.reviewer)
    query = f"status=waiting&type={cert_type.code}"
    queue = html(client.get(u("queue") + "?" + query))
    assert "Approve all 3 matching this filter" in queue
    confirm = client.post(u("bulk"), {"action": "approve-matching", "filter": query})
    assert confirm.status_code == 200 and "Approve 3 requests?" in html(confirm)
    digest = confirm.context["chosen"].digest
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            u("bulk"),
            {"action": "approve-matching", "filter": query, "digest": digest, "confirmed": "1"},
        )
    assert response.status_code == 302 and len(callbacks) == 3
    assert {status_of(r) for r in matching} == {"approved"}
    assert {status_of(r) for r in others} == {"requested"}


def test_approving_all_that_match_refuses_when_the_matching_requests_changed(
    client, cast, cert_type
):
    requests_for(cert_type, 2)
    client.force_login(cast.reviewer)
    confirm = client.post(u("bulk"), {"action": "approve-matching", "filter": ""})
    digest = confirm.context["chosen"].digest
    requests_for(cert_type, 1)  # a new request arrives while the reviewer reads the page
    before = snapshot()
    response = client.post(
        u("bulk"), {"action": "approve-matching", "filter": "", "digest": digest, "confirmed": "1"}
    )
    assert response.status_code == 200 and "changed since you looked" in html(response)
    assert "Approve 3 requests?" in html(response)
    assert snapshot() == before


def test_approving_all_that_match_beyond_the_batch_limit_is_refused(
    client, cast, cert_type, monkeypatch
):
    monkeypatch.setattr(services, "MAX_BATCH", 2)
    requests_for(cert_type, 3)
    client.force_login(cast.reviewer)
    queue = html(client.get(u("queue")))
    assert "more than the 2 that can be decided at once" in queue
    assert 'value="approve-matching"' not in queue
    before = snapshot()
    for data in ({"action": "approve-matching", "filter": ""},
                 {"action": "approve-matching", "filter": "", "confirmed": "1"}):  # fmt: skip
        response = client.post(u("bulk"), data, follow=True)
        assert "3 requests match, and at most 2 can be decided at once" in " ".join(
            messages_of(response)
        )
    assert snapshot() == before


def test_a_superuser_decides_all_that_match_for_one_association_at_a_time(
    client, cast, req, other_req
):
    client.force_login(cast.superuser)
    before = snapshot()
    response = client.post(u("bulk"), {"action": "approve-matching", "filter": ""}, follow=True)
    assert "belong to 2 partner associations" in " ".join(messages_of(response))
    assert snapshot() == before
    confirm = client.post(
        u("bulk"), {"action": "approve-matching", "filter": f"association={cast.association.slug}"}
    )
    assert confirm.status_code == 200 and "Approve 1 request?" in html(confirm)
    assert confirm.context["chosen"].association == cast.association


# --- A batch ------------------------------------------------------------------------------------


def test_the_batch_page_and_its_progress_follow_the_issuing(client, cast, cert_type):
    chosen = requests_for(cert_type, 3)
    batch = services.requests_bulk_decide(
        reviewer=cast.reviewer,
        association=cast.association,
        request_ids=[r.pk for r in chosen],
        decision="approve",
    )
    client.force_login(cast.reviewer)
    page = html(client.get(u("batch", batch.public_id)))
    assert "Queued" in page and "<progress" in page and 'aria-live="polite"' in page
    assert "js/batch-progress.js" in page and u("batch_progress", batch.public_id) in page
    assert (
        '<meta http-equiv="refresh"' in page
    )  # inside <noscript>: a page without JS reloads itself

    def progress() -> dict:
        response = client.get(u("batch_progress", batch.public_id))
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        return response.json()

    state = progress()
    assert (state["state"], state["total"], state["waiting"], state["issued"], state["failed"]) == (
        "queued",
        3,
        3,
        0,
        0,
    )
    assert state["finished"] is False
    chosen[0].refresh_from_db()
    issued(chosen[0])
    state = progress()
    assert (state["state"], state["issued"], state["waiting"], state["processed"]) == (
        "working",
        1,
        2,
        1,
    )
    services.request_issue_failed(request_id=chosen[1].pk, error="boom")
    chosen[2].refresh_from_db()
    issued(chosen[2])
    state = progress()
    assert (state["state"], state["issued"], state["failed"], state["waiting"]) == (
        "failed",
        2,
        1,
        0,
    )
    assert state["finished"] is True and state["state_label"] == "1 failed"
    page = html(client.get(u("batch", batch.public_id)))
    assert "http-equiv" not in page  # finished: nothing left to reload for
    failed = client.get(state["failed_url"])
    assert [r.pk for r in failed.context["requests"]] == [chosen[1].pk]


def test_a_rejection_batch_is_ready_at_once(client, cast, cert_type):
    chosen = requests_for(cert_type, 2)
    batch = services.requests_bulk_decide(
        reviewer=cast.reviewer, association=cast.association, request_ids=[r.pk for r in chosen], decision="reject",
        reason="Evidence incomplete",
    )  # fmt: skip
    client.force_login(cast.reviewer)
    state = client.get(u("batch_progress", batch.public_id)).json()
    assert (state["state"], state["finished"], state["counts"]["rejected"]) == ("ready", True, 2)


# --- Certificates issued and revocation ---------------------------------------------------------


def test_the_certificates_page_lists_the_associations_certificates_and_filters(
    client, cast, cert_type, other_type
):
    valid, flagged, revoked, expired = (
        issued(approved(r, cast.reviewer)) for r in requests_for(cert_type, 4)
    )
    Certificate.objects.filter(pk=flagged.pk).update(
        flagged_at=timezone.now(), flag_reason="CNC outcome revoked"
    )
    services.certificate_revoke(certificate=revoked, actor=cast.reviewer, reason="Forged")
    Certificate.objects.filter(pk=expired.pk).update(expires_on=TODAY - datetime.timedelta(days=1))
    foreign = issued(approved(requests_for(other_type, 1)[0], cast.other_reviewer))
    client.force_login(cast.reviewer)
    response = client.get(u("certificates"))
    page = html(response)
    assert foreign.serial not in page
    assert all(c.serial in page for c in (valid, flagged, revoked, expired))
    assert "CNC outcome revoked" in page

    def listed(**params) -> set[int]:
        return {c.pk for c in client.get(u("certificates"), params).context["certificates"]}

    assert listed(status="valid") == {valid.pk, flagged.pk}
    assert listed(status="revoked") == {revoked.pk}
    assert listed(status="expired") == {expired.pk}
    assert listed(flagged="yes") == {flagged.pk}
    assert listed(flagged="no") == {valid.pk, revoked.pk, expired.pk}
    assert listed(q=valid.serial) == {valid.pk}
    assert listed(q=valid.request.learner.legal_name) == {valid.pk}
    assert listed(type=cert_type.code) == {valid.pk, flagged.pk, revoked.pk, expired.pk}
    assert "No certificate matches these filters." in html(
        client.get(u("certificates"), {"q": "nothing-like-it"})
    )


@pytest.mark.parametrize("n", [5, 50])
def test_the_certificates_page_reads_a_constant_number_of_queries(
    client, cast, cert_type, n, django_assert_max_num_queries
):
    for request in requests_for(cert_type, n):
        issued(request)
    client.force_login(cast.reviewer)
    with django_assert_max_num_queries(CERTIFICATES_QUERY_BOUND):
        response = client.get(u("certificates"))
    assert response.status_code == 200 and len(response.context["certificates"]) == n


def test_revoking_confirms_needs_a_reason_then_shows_the_certificate_revoked(client, cast, req):
    certificate = issued(approved(req, cast.reviewer))
    client.force_login(cast.reviewer)
    confirm = client.get(u("revoke", certificate.serial))
    assert confirm.status_code == 200 and "Revoke certificate" in html(confirm)
    before = snapshot()
    refused = client.post(u("revoke", certificate.serial), {"reason": "  "})
    assert refused.status_code == 200 and "Give a reason for the revocation." in html(refused)
    assert snapshot() == before
    response = client.post(
        u("revoke", certificate.serial), {"reason": "Forged evidence"}, follow=True
    )
    assert any(f"Certificate {certificate.serial} is revoked." in m for m in messages_of(response))
    certificate.refresh_from_db()
    assert (certificate.status, certificate.revocation_reason) == ("revoked", "Forged evidence")
    assert status_of(req) == "revoked"
    row = response.context["certificates"][0]
    assert row.pk == certificate.pk and row.state == "revoked"
    again = client.post(u("revoke", certificate.serial), {"reason": "Twice"})
    assert again.status_code == 200 and "already revoked" in html(again)


def test_revoking_another_associations_certificate_is_not_found(client, cast, other_req):
    certificate = issued(approved(other_req, cast.other_reviewer))
    client.force_login(cast.reviewer)
    before = snapshot()
    assert client.get(u("revoke", certificate.serial)).status_code == 404
    assert client.post(u("revoke", certificate.serial), {"reason": "Not ours"}).status_code == 404
    assert client.get(u("revoke", "NO-SUCH-SERIAL")).status_code == 404
    assert snapshot() == before


def test_unknown_ids_are_not_found(client, cast):
    import uuid

    client.force_login(cast.reviewer)
    assert client.get(u("request", uuid.uuid4())).status_code == 404
    assert client.get(u("batch", uuid.uuid4())).status_code == 404
    assert client.get(u("batch_progress", uuid.uuid4())).status_code == 404


def test_every_page_renders_in_chinese_too(client, cast, everything):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    client.force_login(cast.reviewer)
    for url in desk_pages(everything):
        response = client.get(url)
        assert response.status_code == 200, url
        if url.endswith(".json"):
            continue
        assert '<html lang="zh-hans">' in html(response), url
