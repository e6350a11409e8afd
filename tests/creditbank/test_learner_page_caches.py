"""/me/ and the programme audit keep their heavy part in the cache (issue 7), keyed by the
learner's own rows and a fingerprint of them: every change they show is there on the next
request, another learner never gets them, and the cached page runs fewer queries."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from creditbank import services
from enrolment import services as enrolment_services
from enrolment.results import result_record
from tests import factories

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
ME = reverse("enrolment:my_dashboard")


def audit_url(world) -> str:
    return reverse("credits:audit", args=[world.enrolment.public_id])


def counted(client, url: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **EN)
    assert response.status_code == 200
    # Every response masks its CSRF token anew: the rest must be the same, byte for byte.
    return TOKEN.sub("csrf", response.content.decode()), len(queries)


def test_the_audit_is_the_same_from_the_cache_and_costs_fewer_queries(client, world):
    client.force_login(world.learner.user)
    first, built = counted(client, audit_url(world))
    second, cached = counted(client, audit_url(world))
    assert second == first
    assert cached < built
    assert "Not complete yet" in second


def test_a_new_result_conversion_and_transfer_show_at_once_in_the_audit(client, cast, world, accredited):
    client.force_login(world.learner.user)
    url = audit_url(world)
    client.get(url, **EN)
    result_record(enrolment=world.enrolment, course=world.drawing, score=Decimal("85"),
                  assessed_on=timezone.localdate(), actor=cast.school_admin)  # fmt: skip
    assert "score 85" in client.get(url, **EN).content.decode()
    services.conversion_apply(outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule,
                              officer=world.officer)  # fmt: skip
    assert "rule NCT-CNC v1" in client.get(url, **EN).content.decode()
    failed = result_record(enrolment=world.enrolment, course=world.robots, score=Decimal("20"),
                           assessed_on=timezone.localdate(), actor=cast.school_admin)[0]  # fmt: skip
    assert not failed.passed
    assert "Not passed" in client.get(url, **EN).content.decode()


def test_a_renamed_course_and_the_enrolments_status_show_at_once_in_the_audit(client, cast, world):
    client.force_login(world.learner.user)
    url = audit_url(world)
    client.get(url, **EN)
    world.drawing.name_en = "Technical drawing, revised"
    world.drawing.save()
    assert "Technical drawing, revised" in client.get(url, **EN).content.decode()
    enrolment_services.enrolment_withdraw(enrolment=world.enrolment, actor=world.learner.user, reason="moving")
    assert "badge--withdrawn" in client.get(url, **EN).content.decode()


def test_the_audit_is_cached_per_language(client, world):
    client.force_login(world.learner.user)
    url = audit_url(world)
    assert "Programme audit" in client.get(url, **EN).content.decode()
    assert "Programme audit" not in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_me_is_the_same_from_the_cache_and_costs_fewer_queries(client, world):
    client.force_login(world.learner.user)
    first, built = counted(client, ME)
    second, cached = counted(client, ME)
    assert second == first
    assert cached < built
    assert world.programme.name_en in second


def test_a_new_result_a_status_change_and_a_new_application_show_at_once_on_me(client, cast, world):
    client.force_login(world.learner.user)
    client.get(ME, **EN)
    result_record(enrolment=world.enrolment, course=world.drawing, score=Decimal("85"),
                  assessed_on=timezone.localdate() - datetime.timedelta(days=1), actor=cast.school_admin)  # fmt: skip
    assert "ME101" in client.get(ME, **EN).content.decode()
    enrolment_services.enrolment_withdraw(enrolment=world.enrolment, actor=world.learner.user, reason="moving")
    assert "badge--withdrawn" in client.get(ME, **EN).content.decode()
    other = factories.IntakeFactory(programme=factories.ProgrammeFactory(name_en="Mould Design"))
    enrolment_services.enrolment_apply(learner=world.learner, intake=other)
    assert "Mould Design" in client.get(ME, **EN).content.decode()
    world.programme.name_en = "Numerical Control, renamed"
    world.programme.save()
    assert "Numerical Control, renamed" in client.get(ME, **EN).content.decode()


def test_another_learner_never_gets_someone_elses_records(client, cast, world):
    client.force_login(world.learner.user)
    assert world.programme.name_en in client.get(ME, **EN).content.decode()
    client.force_login(cast.other_learner)
    page = client.get(ME, **EN).content.decode()
    assert world.programme.name_en not in page
    assert "You have not applied for a programme yet." in page
