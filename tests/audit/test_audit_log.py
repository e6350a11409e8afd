"""The audit log: every state change and every staff action, who, when, what, from where;
searchable by superusers; never editable, by the application or (PostgreSQL) the database."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.urls import reverse

from certificates import services as certificate_services
from certificates.models import CertificateRequest
from ouc_portal.audit.models import AuditEvent, AuditImmutable
from schools.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests_to_decide(cast) -> list[CertificateRequest]:
    cert_type = factories.CertificateTypeFactory(school=cast.school, association=cast.association)
    return [
        factories.completed_request(learner=factories.LearnerFactory(), cert_type=cert_type)
        for _ in range(3)
    ]


def test_a_bulk_approval_through_the_desk_is_every_request_and_the_actions(
    client, cast, requests_to_decide
):
    client.force_login(cast.reviewer)
    ids = [str(r.public_id) for r in requests_to_decide]
    before = AuditEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    form = {"action": "approve-selected", "requests": ids, "filter": ""}
    assert client.post(reverse("review:bulk"), form).status_code == 200  # the confirmation
    confirmed = client.post(reverse("review:bulk"), {**form, "confirmed": "1"}, REMOTE_ADDR="10.1.2.3")
    assert confirmed.status_code == 302

    events = list(AuditEvent.objects.filter(pk__gt=before).order_by("pk"))
    actions = [e.action for e in events]
    assert actions == ["http.post"] + ["certificates.certificaterequest.status"] * 3 + ["http.post"]
    decided = events[1:4]
    assert {e.object_id for e in decided} == {str(r.pk) for r in requests_to_decide}
    for event in decided:
        assert event.actor == cast.reviewer
        assert event.summary.startswith("requested → approved")
        assert (event.ip, event.method, event.path) == ("10.1.2.3", "POST", reverse("review:bulk"))
    last = events[-1]
    assert (last.actor, last.status_code, last.summary) == (cast.reviewer, 302, "review:bulk")
    assert events[0].status_code == 200 and events[0].ip == "127.0.0.1"


def test_a_change_made_outside_a_request_has_no_address(cast, requests_to_decide):
    request = requests_to_decide[0]
    certificate_services.request_start_review(request=request, reviewer=cast.reviewer)
    event = AuditEvent.objects.filter(action="certificates.certificaterequest.status").latest("pk")
    assert event.summary == "requested → under-review"
    assert event.actor == cast.reviewer and event.object_id == str(request.pk)
    assert (event.ip, event.method, event.path, event.status_code) == (None, "", "", None)


def test_reading_switching_language_and_anonymous_posts_are_not_actions(client, cast):
    client.force_login(cast.learner)
    before = AuditEvent.objects.count()
    client.get("/programmes/")
    client.get("/me/")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    anonymous = client.__class__()
    anonymous.post(reverse("enrolment:my_profile"), {"legal_name": "x"})  # sent to log in
    assert AuditEvent.objects.count() == before
    client.post(reverse("enrolment:my_profile"), {"legal_name": ""})  # refused, still an action
    event = AuditEvent.objects.latest("pk")
    assert (event.action, event.actor, event.status_code) == ("http.post", cast.learner, 200)


def test_roles_granted_and_removed_are_recorded(cast):
    membership = factories.MembershipFactory(
        user=factories.UserFactory(), role=Membership.Role.SCHOOL_ADMIN, school=cast.other_school
    )
    pk = membership.pk
    membership.delete()
    actions = list(
        AuditEvent.objects.filter(object_type="schools.membership", object_id=str(pk))
        .order_by("pk").values_list("action", flat=True)
    )  # fmt: skip
    assert actions == ["schools.membership.granted", "schools.membership.removed"]


def test_a_failure_to_record_never_undoes_the_action(client, cast, requests_to_decide):
    client.force_login(cast.reviewer)
    request = requests_to_decide[0]
    with mock.patch(
        "ouc_portal.audit.middleware.record", side_effect=DatabaseError("audit table locked")
    ):
        response = client.post(
            reverse("review:request", args=[request.public_id]), {"action": "start_review"}
        )
    assert response.status_code in (200, 302)
    request.refresh_from_db()
    assert request.status == "under-review"


def test_events_are_never_changed_or_removed(cast):
    factories.MembershipFactory(user=factories.UserFactory(), role=Membership.Role.CREDIT_OFFICER, school=None, association=None)
    event = AuditEvent.objects.latest("pk")
    event.summary = "nothing happened"
    with pytest.raises(AuditImmutable):
        event.save()
    with pytest.raises(AuditImmutable):
        event.delete()
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(summary="x")
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).summary != "nothing happened"


def test_the_database_refuses_update_and_delete(require_postgres, cast):
    factories.MembershipFactory(user=factories.UserFactory(), role=Membership.Role.CREDIT_OFFICER, school=None, association=None)
    pk = AuditEvent.objects.latest("pk").pk
    for sql in (
        "UPDATE audit_auditevent SET summary = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [pk])
    assert AuditEvent.objects.filter(pk=pk).exists()


def test_superusers_search_the_log_and_nobody_edits_it(client, cast, requests_to_decide):
    certificate_services.request_start_review(request=requests_to_decide[0], reviewer=cast.reviewer)
    changelist = reverse("admin:audit_auditevent_changelist")
    client.force_login(cast.superuser)
    found = client.get(changelist, {"q": "reviewer@example.org"})
    assert found.status_code == 200
    assert list(found.context["cl"].result_list) == list(
        AuditEvent.objects.filter(actor=cast.reviewer)
    )
    assert client.get(changelist, {"q": "nobody@example.org"}).context["cl"].result_list.count() == 0
    event = AuditEvent.objects.filter(actor=cast.reviewer).first()
    change = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert client.get(change).status_code == 200  # shown, read-only
    assert client.post(change, {"summary": "x"}).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    # Staff who are not superusers do not see the log at all.
    client.force_login(cast.school_admin)
    assert client.get(changelist).status_code in (302, 403)


def test_log_ins_failures_and_log_outs_are_recorded_with_their_address(client, cast):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=cast.learner, email=cast.learner.email, verified=True, primary=True)
    before = AuditEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    client.post(
        reverse("account_login"), {"login": "Nobody@Example.org", "password": "wrong"},
        REMOTE_ADDR="203.0.113.9",
    )  # fmt: skip
    client.post(
        reverse("account_login"), {"login": cast.learner.email, "password": factories.PASSWORD},
        REMOTE_ADDR="203.0.113.9",
    )  # fmt: skip
    client.post(reverse("account_logout"), REMOTE_ADDR="203.0.113.9")
    events = list(
        AuditEvent.objects.filter(pk__gt=before, action__startswith="auth.")
        .order_by("pk").values_list("action", "actor", "ip", "summary")
    )  # fmt: skip
    assert events == [
        ("auth.login_failed", None, "203.0.113.9", "log-in refused for nobody@example.org"),
        ("auth.login", cast.learner.pk, "203.0.113.9", ""),
        ("auth.logout", cast.learner.pk, "203.0.113.9", ""),
    ]


def test_a_second_factor_added_and_removed_is_recorded(client, cast):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.signals import authenticator_added, authenticator_removed

    user = cast.school_admin
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    authenticator_removed.send(sender=Authenticator, request=None, user=user, authenticator=authenticator)
    authenticator_added.send(sender=Authenticator, request=None, user=user, authenticator=authenticator)
    actions = list(
        AuditEvent.objects.filter(actor=user, action__startswith="auth.second_factor")
        .order_by("pk").values_list("action", "summary")
    )  # fmt: skip
    assert actions == [("auth.second_factor_removed", "totp"), ("auth.second_factor_added", "totp")]


def test_a_password_change_is_recorded(client, cast):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=cast.learner, email=cast.learner.email, verified=True, primary=True)
    client.force_login(cast.learner)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": factories.PASSWORD, "password1": "a-new-long-passphrase-77",
         "password2": "a-new-long-passphrase-77"},
    )  # fmt: skip
    assert response.status_code == 302
    assert AuditEvent.objects.filter(actor=cast.learner, action="auth.password_changed").count() == 1
