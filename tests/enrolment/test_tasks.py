"""Enrolment emails: one per state change, sent after the change commits, by a real worker in CI."""

import pytest
from django.urls import reverse

from enrolment import services
from enrolment.models import EnrolmentStatusChange
from enrolment.tasks import send_enrolment_status_email
from tests import factories
from tests.conftest import wait_for


@pytest.mark.django_db
def test_the_email_is_bilingual_and_names_the_change(mailoutbox, eager):
    intake = factories.IntakeFactory()
    learner = factories.LearnerFactory()
    enrolment = services.enrolment_apply(learner=learner, intake=intake).enrolment
    services.enrolment_reject(enrolment=enrolment, actor=factories.UserFactory(), reason="Seats reserved for BAIC staff")
    change = enrolment.history.get(to_status="rejected")
    assert send_enrolment_status_email(change.pk) == "sent"
    message = mailoutbox[-1]
    assert message.to == [learner.user.email]
    assert "Rejected" in message.subject
    assert "未录取" in message.body  # the Chinese half
    assert "Seats reserved for BAIC staff" in message.body
    assert intake.programme.name_zh in message.body and intake.programme.name_en in message.body
    assert enrolment.get_absolute_url() in message.body


@pytest.mark.django_db
def test_a_change_that_is_gone_sends_nothing(mailoutbox, eager):
    assert send_enrolment_status_email(10**9) == "gone"
    assert mailoutbox == []


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_applying_through_the_page_emails_the_learner_from_the_worker(client, celery_worker_process):
    intake = factories.IntakeFactory(requires_approval=False)
    learner = factories.LearnerFactory(user__email="fitter@baic.example")
    client.force_login(learner.user)
    response = client.post(reverse("enrolment:intake_apply", args=[intake.public_id]))
    assert response.status_code == 302
    assert EnrolmentStatusChange.objects.filter(enrolment__learner=learner, to_status="accepted").exists()

    def sent():
        return [m for m in celery_worker_process.mail() if m["To"] == "fitter@baic.example"]

    mail = wait_for(sent, "the enrolment email in the worker's mail directory", celery_worker_process)
    assert len(mail) == 1
    assert intake.programme.name_en in mail[0]["Subject"]
