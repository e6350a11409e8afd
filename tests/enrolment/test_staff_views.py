"""The school staff area (/manage/): scope, programmes and structure, intakes, the queue, results, reports."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal
from html import unescape as html_unescape
from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrolment.models import (
    Course,
    CourseResult,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    GroupCourse,
    Intake,
    Programme,
    ProgrammeStatus,
    RequirementGroup,
)
from tests import factories

S = EnrolmentStatus
pytestmark = pytest.mark.django_db
YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)
TOMORROW = timezone.localdate() + datetime.timedelta(days=1)
HEADER = "learner_email,course_code,score,assessed_on\n"


def enrol(intake: Intake, status: str, *, learner=None, minutes_ago: int = 60, email: str | None = None) -> Enrolment:
    """An enrolment in ``status`` with the history row the services would have written."""
    if learner is None:
        learner = factories.LearnerFactory(**({"user__email": email} if email else {}))
    at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    enrolment = Enrolment.objects.create(
        learner=learner, intake=intake, programme=intake.programme, status=status, applied_at=at, status_changed_at=at
    )
    EnrolmentStatusChange.objects.create(enrolment=enrolment, from_status="", to_status=status, actor=learner.user, at=at)
    return enrolment


def messages_of(response) -> list[str]:
    """The messages waiting to be shown; reading them empties the queue, as showing a page would."""
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    response.client.cookies.pop("messages", None)
    return texts


@pytest.fixture
def site(cast):
    school = cast.school
    programme = factories.ProgrammeFactory(
        school=school, code="NCT", slug="numerical-control", name_en="Numerical Control Technology", name_zh="数控技术"
    )
    group = factories.RequirementGroupFactory(programme=programme)
    nc101 = factories.add_course(group, code="NC101", name_en="CNC Programming")
    nc102 = factories.add_course(group, code="NC102", name_en="Machine Tools")
    spare = factories.CourseFactory(school=school, code="NC201", name_en="Mould Design")
    intake = factories.IntakeFactory(programme=programme, capacity=30)
    applicant = enrol(intake, S.APPLIED, email="worker@baic.example")
    applicant.learner.employer = "BAIC Motor Beijing"
    applicant.learner.job_title = "Lathe operator"
    applicant.learner.save()
    # Another school's world, for the "not yours" checks.
    other_programme = factories.ProgrammeFactory(school=cast.other_school, code="COAL1", slug="coal-mining")
    other_intake = factories.IntakeFactory(programme=other_programme)
    other_applicant = enrol(other_intake, S.APPLIED)
    return SimpleNamespace(
        school=school,
        programme=programme,
        group=group,
        nc101=nc101,
        nc102=nc102,
        spare=spare,
        intake=intake,
        applicant=applicant,
        other_programme=other_programme,
        other_intake=other_intake,
        other_applicant=other_applicant,
    )


def url(name: str, site, **kwargs) -> str:
    return reverse(f"manage:{name}", kwargs={"school_slug": site.school.slug, **kwargs})


def page_urls(s) -> list[str]:
    p = {"programme_slug": s.programme.slug}
    g = {**p, "group_id": s.group.pk}
    return [
        url("school", s),
        url("programme_create", s),
        url("programme_detail", s, **p),
        url("programme_edit", s, **p),
        url("group_create", s, **p),
        url("group_edit", s, **g),
        url("group_delete", s, **g),
        url("group_course_remove", s, **g, course_code="NC101"),
        url("course_list", s),
        url("course_create", s),
        url("course_edit", s, course_code="NC101"),
        url("intake_create", s),
        url("intake_edit", s, intake_id=s.intake.public_id),
        url("intake_results", s, intake_id=s.intake.public_id),
        url("intake_results", s, intake_id=s.intake.public_id) + "?course=NC101",
        url("intake_results_template", s, intake_id=s.intake.public_id),
        url("application_queue", s),
        url("enrolment_detail", s, public_id=s.applicant.public_id),
        url("reports", s),
        url("reports", s) + "?format=csv",
    ]


def post_urls(s) -> list[tuple[str, dict]]:
    p = {"programme_slug": s.programme.slug}
    g = {**p, "group_id": s.group.pk}
    return [
        (url("programme_create", s), {"code": "X1", "slug": "x1", "name_en": "X"}),
        (url("programme_edit", s, **p), {"name_en": "Hijacked"}),
        (url("programme_status", s, **p), {"status": "archived"}),
        (url("group_create", s, **p), {"name_en": "G", "kind": "compulsory", "min_credits": "0", "position": "1"}),
        (url("group_edit", s, **g), {"name_en": "G", "kind": "compulsory", "min_credits": "0", "position": "1"}),
        (url("group_delete", s, **g), {}),
        (url("group_course_add", s, **g), {"course": "NC201"}),
        (url("group_course_remove", s, **g, course_code="NC101"), {}),
        (url("course_create", s), {"code": "Z1"}),
        (url("course_edit", s, course_code="NC101"), {"code": "NC101", "name_en": "Hijacked"}),
        (url("intake_create", s), {"capacity": 1}),
        (url("intake_edit", s, intake_id=s.intake.public_id), {"capacity": 1}),
        (url("intake_results", s, intake_id=s.intake.public_id) + "?course=NC101", {}),
        (url("intake_results_upload", s, intake_id=s.intake.public_id), {}),
        (url("application_queue", s), {"decision": "accept", "enrolments": [str(s.applicant.public_id)]}),
        (url("enrolment_detail", s, public_id=s.applicant.public_id), {"action": "accept"}),
    ]


# --- Who gets in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["school_admin", "superuser"])
def test_every_page_renders_for_the_schools_admin_and_a_superuser(client, cast, site, who):
    client.force_login(getattr(cast, who))
    for address in page_urls(site):
        response = client.get(address)
        assert response.status_code == 200, address


@pytest.mark.parametrize("who", ["other_school_admin", "learner", "reviewer", "credit_officer"])
def test_outsiders_get_404_on_every_page_and_every_post_and_change_nothing(client, cast, site, who):
    client.force_login(getattr(cast, who))
    for address in page_urls(site):
        assert client.get(address).status_code == 404, address
    for address, data in post_urls(site):
        assert client.post(address, data).status_code == 404, address
    site.applicant.refresh_from_db()
    site.programme.refresh_from_db()
    assert site.applicant.status == S.APPLIED
    assert site.programme.status == ProgrammeStatus.PUBLISHED and site.programme.name_en == "Numerical Control Technology"
    assert GroupCourse.objects.filter(group=site.group).count() == 2
    assert not Programme.objects.filter(code="X1").exists()
    assert RequirementGroup.objects.filter(programme=site.programme).count() == 1


def test_anonymous_visitors_are_sent_to_log_in(client, site):
    for address in [reverse("manage:home"), *page_urls(site)]:
        response = client.get(address)
        assert response.status_code == 302, address
        assert response["Location"].startswith(reverse("account_login")), address
    for address, data in post_urls(site):
        assert client.post(address, data).status_code == 302, address
    site.applicant.refresh_from_db()
    assert site.applicant.status == S.APPLIED


def test_another_schools_objects_under_my_school_are_not_found(client, cast, site):
    client.force_login(cast.school_admin)
    assert client.get(url("programme_detail", site, programme_slug=site.other_programme.slug)).status_code == 404
    assert client.get(url("intake_edit", site, intake_id=site.other_intake.public_id)).status_code == 404
    assert client.get(url("enrolment_detail", site, public_id=site.other_applicant.public_id)).status_code == 404
    response = client.post(
        url("enrolment_detail", site, public_id=site.other_applicant.public_id), {"action": "reject", "reason": "x"}
    )
    assert response.status_code == 404
    site.other_applicant.refresh_from_db()
    assert site.other_applicant.status == S.APPLIED


def test_manage_home_leads_to_the_persons_schools(client, cast, site):
    client.force_login(cast.school_admin)
    response = client.get(reverse("manage:home"))
    assert response.status_code == 302 and response["Location"] == url("school", site)

    second = factories.IndustrySchoolFactory(slug="logistics", name_en="School of Logistics")
    factories.MembershipFactory(user=cast.school_admin, school=second)
    client.force_login(cast.school_admin)
    response = client.get(reverse("manage:home"))
    assert response.status_code == 200
    assert {s.slug for s in response.context["schools"]} == {"mechanical", "logistics"}

    client.force_login(cast.learner)
    assert client.get(reverse("manage:home")).status_code == 404
    client.force_login(cast.reviewer)
    assert client.get(reverse("manage:home")).status_code == 404
    client.force_login(cast.superuser)
    assert client.get(reverse("manage:home")).status_code == 200


def test_dashboard_counts_each_intakes_states_and_links_the_waiting_queue(client, cast, site):
    enrol(site.intake, S.APPLIED)
    enrol(site.intake, S.WAITLISTED)
    enrol(site.intake, S.ACTIVE)
    enrol(site.intake, S.COMPLETED)
    client.force_login(cast.school_admin)
    response = client.get(url("school", site))
    assert response.context["waiting"] == 2
    (row,) = response.context["table"]
    # applied, waitlisted, accepted, active, completed
    assert row["counts"] == [2, 1, 0, 1, 1]
    content = response.content.decode()
    assert url("application_queue", site) in content
    assert "Numerical Control Technology" in content and "Published" in content
    assert "COAL1" not in content


# --- Programmes and structure ---------------------------------------------------------------------

PROGRAMME = {
    "code": "MDM",
    "slug": "mould-design",
    "name_en": "Mould Design and Manufacturing",
    "name_zh": "模具设计与制造",
    "kind": "associate",
    "qf_level": "5",
    "total_credits": "76",
    "duration_months": "30",
    "delivery_mode": "blended",
    "description_en": "For mould makers.",
    "description_zh": "面向模具工人。",
    "outcomes_en": "",
    "outcomes_zh": "",
    "entry_requirements_en": "",
    "entry_requirements_zh": "",
}


def test_creating_a_programme_makes_a_searchable_draft_of_this_school(client, cast, site):
    client.force_login(cast.school_admin)
    response = client.post(url("programme_create", site), PROGRAMME)
    programme = Programme.objects.get(code="MDM")
    assert response.status_code == 302 and response["Location"] == url("programme_detail", site, programme_slug="mould-design")
    assert programme.school == site.school and programme.status == ProgrammeStatus.DRAFT
    assert programme.name_zh == "模具设计与制造" and programme.description_zh == "面向模具工人。"
    assert "模具设计与制造" in programme.search_text


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name_en": ""}, "name_en"),
        ({"code": "NCT"}, "code"),  # taken
        ({"slug": "not a slug!"}, "slug"),
        ({"total_credits": "0"}, "total_credits"),
        ({"qf_level": "11"}, "qf_level"),
    ],
)
def test_a_bad_programme_is_refused_next_to_its_field_and_nothing_is_saved(client, cast, site, change, field):
    client.force_login(cast.school_admin)
    before = Programme.objects.count()
    response = client.post(url("programme_create", site), {**PROGRAMME, **change})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Programme.objects.count() == before


def test_editing_a_programme_saves_both_languages_and_a_refused_edit_changes_nothing(client, cast, site):
    client.force_login(cast.school_admin)
    address = url("programme_edit", site, programme_slug=site.programme.slug)
    form = client.get(address).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    refused = client.post(address, {**data, "slug": "renamed", "duration_months": "0"})
    assert "duration_months" in refused.context["form"].errors
    # The page still links to the saved programme, not the slug that was refused.
    assert url("programme_detail", site, programme_slug="numerical-control") in refused.content.decode()
    site.programme.refresh_from_db()
    assert site.programme.slug == "numerical-control"

    response = client.post(address, {**data, "name_en": "Numerical Control", "name_zh": "数控技术专业", "outcomes_zh": "会编程"})
    assert response.status_code == 302
    site.programme.refresh_from_db()
    assert (site.programme.name_en, site.programme.name_zh, site.programme.outcomes_zh) == (
        "Numerical Control",
        "数控技术专业",
        "会编程",
    )
    assert "数控技术专业" in site.programme.search_text


def test_publishing_needs_a_structure_and_refusals_are_messages(client, cast, site):
    client.force_login(cast.school_admin)
    client.post(url("programme_create", site), PROGRAMME)
    programme = Programme.objects.get(code="MDM")
    status_url = url("programme_status", site, programme_slug=programme.slug)

    response = client.post(status_url, {"status": "published"})
    assert response.status_code == 302
    assert "Give the programme its structure (at least one group) before publishing." in messages_of(response)
    programme.refresh_from_db()
    assert programme.status == ProgrammeStatus.DRAFT

    factories.RequirementGroupFactory(programme=programme)
    response = client.post(status_url, {"status": "published"})
    programme.refresh_from_db()
    assert programme.status == ProgrammeStatus.PUBLISHED
    assert client.post(status_url, {"status": "archived"}).status_code == 302
    programme.refresh_from_db()
    assert programme.status == ProgrammeStatus.ARCHIVED
    response = client.post(status_url, {"status": "draft"})
    assert any("cannot be made" in m for m in messages_of(response))
    assert client.get(status_url).status_code == 405


def test_adding_and_removing_a_course_of_the_group(client, cast, site):
    client.force_login(cast.school_admin)
    add_url = url("group_course_add", site, programme_slug=site.programme.slug, group_id=site.group.pk)
    response = client.post(add_url, {"course": "NC201"})
    assert response.status_code == 302
    assert GroupCourse.objects.filter(group=site.group, course=site.spare, programme=site.programme).exists()
    assert "NC201 added to Compulsory courses." in messages_of(response)

    remove_url = url(
        "group_course_remove", site, programme_slug=site.programme.slug, group_id=site.group.pk, course_code="NC201"
    )
    confirm = client.get(remove_url)
    assert confirm.status_code == 200 and "Remove NC201" in confirm.content.decode()
    assert GroupCourse.objects.filter(course=site.spare).exists()  # a GET changes nothing
    client.post(remove_url)
    assert not GroupCourse.objects.filter(course=site.spare).exists()


def test_a_course_already_in_the_programme_or_of_another_school_is_refused(client, cast, site):
    client.force_login(cast.school_admin)
    elective = factories.RequirementGroupFactory(programme=site.programme, name_en="Electives", kind="elective", min_credits=4)
    add_url = url("group_course_add", site, programme_slug=site.programme.slug, group_id=elective.pk)
    response = client.post(add_url, {"course": "NC101"})
    assert "NC101 is already part of this programme." in messages_of(response)
    assert not GroupCourse.objects.filter(group=elective).exists()

    foreign = factories.CourseFactory(school=cast.other_school, code="COAL101")
    response = client.post(add_url, {"course": foreign.code})
    assert "Choose one of the school's courses." in messages_of(response)
    assert not GroupCourse.objects.filter(group=elective).exists()


def test_requirement_groups_are_created_edited_and_deleted_with_confirmation(client, cast, site):
    client.force_login(cast.school_admin)
    draft = factories.ProgrammeFactory(school=site.school, slug="draft-one", status=ProgrammeStatus.DRAFT)
    create_url = url("group_create", site, programme_slug=draft.slug)
    refused = client.post(create_url, {"name_en": "Electives", "kind": "elective", "min_credits": "0", "position": "1"})
    assert "min_credits" in refused.context["form"].errors
    assert not draft.groups.exists()

    client.post(create_url, {"name_en": "Electives", "name_zh": "选修课", "kind": "elective", "min_credits": "8", "position": "1"})
    group = draft.groups.get()
    assert (group.name_zh, group.min_credits) == ("选修课", Decimal("8"))
    client.post(
        url("group_edit", site, programme_slug=draft.slug, group_id=group.pk),
        {"name_en": "Core", "kind": "compulsory", "min_credits": "8", "position": "0"},
    )
    group.refresh_from_db()
    assert (group.name_en, group.kind, group.min_credits) == ("Core", "compulsory", Decimal("0"))

    delete_url = url("group_delete", site, programme_slug=draft.slug, group_id=group.pk)
    assert client.get(delete_url).status_code == 200
    assert draft.groups.exists()
    client.post(delete_url)
    assert not draft.groups.exists()

    # Once learners enrolled, the structure keeps its groups.
    response = client.post(url("group_delete", site, programme_slug=site.programme.slug, group_id=site.group.pk))
    assert any("can no longer lose a group" in m for m in messages_of(response))
    assert RequirementGroup.objects.filter(pk=site.group.pk).exists()


COURSE = {
    "code": "NC301",
    "name_en": "CAD/CAM",
    "name_zh": "计算机辅助设计与制造",
    "credits": "3",
    "study_hours": "54",
    "level": "5",
    "description_en": "",
    "description_zh": "",
}


def test_courses_are_listed_created_and_edited(client, cast, site):
    client.force_login(cast.school_admin)
    listing = client.get(url("course_list", site)).content.decode()
    assert "NC101" in listing and "NC201" in listing
    response = client.post(url("course_create", site), COURSE)
    assert response.status_code == 302
    course = Course.objects.get(school=site.school, code="NC301")
    assert course.name_zh == "计算机辅助设计与制造"

    duplicate = client.post(url("course_create", site), {**COURSE, "code": "nc101"})
    assert "The school already has a course nc101." in duplicate.context["form"].errors["code"]
    # Another school's code does not count.
    factories.CourseFactory(school=cast.other_school, code="SHARED")
    assert client.post(url("course_create", site), {**COURSE, "code": "SHARED"}).status_code == 302

    client.post(url("course_edit", site, course_code="NC301"), {**COURSE, "credits": "4", "name_en": "CAD and CAM"})
    course.refresh_from_db()
    assert (course.credits, course.name_en) == (Decimal("4"), "CAD and CAM")
    refused = client.post(url("course_edit", site, course_code="NC301"), {**COURSE, "credits": "0"})
    assert "credits" in refused.context["form"].errors


# --- Intakes --------------------------------------------------------------------------------------


def intake_data(site, **changes) -> dict:
    now = timezone.localtime()
    data = {
        "programme": site.programme.pk,
        "year": "2027",
        "season": "spring",
        "centre": site.intake.centre.pk,
        "opens_at": (now + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        "starts_on": (now + datetime.timedelta(days=45)).date().isoformat(),
        "capacity": "40",
        "requires_approval": "on",
    }
    data.update(changes)
    return data


def test_an_intake_is_created_with_datetime_local_inputs(client, cast, site):
    client.force_login(cast.school_admin)
    page = client.get(url("intake_create", site) + f"?programme={site.programme.slug}")
    assert 'type="datetime-local"' in page.content.decode()
    assert page.context["form"]["programme"].value() == site.programme.pk
    # Only this school's programmes are offered.
    assert list(page.context["form"].fields["programme"].queryset) == [site.programme]

    response = client.post(url("intake_create", site), intake_data(site))
    assert response.status_code == 302
    intake = Intake.objects.get(programme=site.programme, year=2027)
    assert intake.capacity == 40 and intake.requires_approval
    assert timezone.localtime(intake.opens_at).strftime("%Y-%m-%dT%H:%M") == intake_data(site)["opens_at"]


def test_an_intake_closing_before_it_opens_is_refused_next_to_the_field(client, cast, site):
    client.force_login(cast.school_admin)
    data = intake_data(site)
    response = client.post(url("intake_create", site), {**data, "closes_at": data["opens_at"]})
    assert response.status_code == 200
    assert response.context["form"].errors["closes_at"] == ["Applications must close after they open."]
    assert not Intake.objects.filter(year=2027).exists()

    foreign = client.post(url("intake_create", site), intake_data(site, programme=site.other_programme.pk))
    assert "programme" in foreign.context["form"].errors
    assert not Intake.objects.filter(year=2027).exists()


def test_capacity_below_the_seats_taken_is_refused(client, cast, site):
    for _n in range(2):
        enrol(site.intake, S.ACCEPTED)
    client.force_login(cast.school_admin)
    address = url("intake_edit", site, intake_id=site.intake.public_id)
    form = client.get(address).context["form"]
    assert form.fields["programme"].disabled  # learners applied: the programme is fixed
    data = {name: form[name].value() for name in form.fields}
    data["opens_at"] = timezone.localtime(site.intake.opens_at).strftime("%Y-%m-%dT%H:%M")
    data["closes_at"] = timezone.localtime(site.intake.closes_at).strftime("%Y-%m-%dT%H:%M")
    data["requires_approval"] = "on"
    response = client.post(address, {**data, "capacity": "2"})
    assert response.context["form"].errors["capacity"] == [
        "3 seats are already taken: the capacity cannot go below that."
    ]
    site.intake.refresh_from_db()
    assert site.intake.capacity == 30
    assert client.post(address, {**data, "capacity": "3"}).status_code == 302
    site.intake.refresh_from_db()
    assert site.intake.capacity == 3


# --- The application queue ------------------------------------------------------------------------


def test_the_queue_lists_waiting_applications_with_the_learners_work(client, cast, site):
    accepted = enrol(site.intake, S.ACCEPTED)
    client.force_login(cast.school_admin)
    response = client.get(url("application_queue", site))
    rows = list(response.context["page_obj"].object_list)
    assert rows == [site.applicant]
    content = response.content.decode()
    assert "BAIC Motor Beijing" in content and "Lathe operator" in content
    assert site.other_applicant.learner.legal_name not in content

    everyone = client.get(url("application_queue", site), {"status": "all", "intake": str(site.intake.public_id)})
    assert set(everyone.context["page_obj"].object_list) == {site.applicant, accepted}
    just_accepted = client.get(url("application_queue", site), {"status": "accepted"})
    assert list(just_accepted.context["page_obj"].object_list) == [accepted]
    # Another school's intake is not a choice: the filter falls back to all of mine.
    response = client.get(url("application_queue", site), {"intake": str(site.other_intake.public_id)})
    assert list(response.context["page_obj"].object_list) == [site.applicant]


def test_the_queue_pages_by_fifty(client, cast, site):
    for n in range(55):
        enrol(site.intake, S.APPLIED, minutes_ago=n + 100)
    client.force_login(cast.school_admin)
    first = client.get(url("application_queue", site))
    assert len(first.context["page_obj"].object_list) == 50
    second = client.get(url("application_queue", site), {"page": 2})
    assert len(second.context["page_obj"].object_list) == 6


def test_accepting_one_application_from_the_queue(client, cast, site):
    client.force_login(cast.school_admin)
    queue = url("application_queue", site) + "?status=applied"
    response = client.post(
        url("enrolment_detail", site, public_id=site.applicant.public_id), {"action": "accept", "next": queue}
    )
    assert response.status_code == 302 and response["Location"] == queue
    site.applicant.refresh_from_db()
    assert site.applicant.status == S.ACCEPTED
    change = site.applicant.history.order_by("-at", "-pk").first()
    assert (change.from_status, change.to_status, change.actor) == (S.APPLIED, S.ACCEPTED, cast.school_admin)


def test_a_rejection_without_a_reason_is_refused(client, cast, site):
    client.force_login(cast.school_admin)
    queue = url("application_queue", site)
    response = client.post(
        url("enrolment_detail", site, public_id=site.applicant.public_id),
        {"action": "reject", "reason": "  ", "next": queue},
    )
    assert response["Location"] == queue
    assert any("Give the learner a reason." in m for m in messages_of(response))
    bulk = client.post(queue, {"decision": "reject", "enrolments": [str(site.applicant.public_id)], "reason": ""})
    assert "Give the learners a reason for the rejection." in messages_of(bulk)
    site.applicant.refresh_from_db()
    assert site.applicant.status == S.APPLIED

    client.post(
        url("enrolment_detail", site, public_id=site.applicant.public_id),
        {"action": "reject", "reason": "Entry requires two years on the job.", "next": queue},
    )
    site.applicant.refresh_from_db()
    assert site.applicant.status == S.REJECTED
    assert site.applicant.history.get(to_status=S.REJECTED).reason == "Entry requires two years on the job."


def test_bulk_accept_decides_each_and_reports_the_refused_one(client, cast, site):
    second = enrol(site.intake, S.APPLIED, minutes_ago=50)
    done = enrol(site.intake, S.COMPLETED, minutes_ago=40)
    done.learner.legal_name = "李完成"
    done.learner.save()
    client.force_login(cast.school_admin)
    queue = url("application_queue", site) + "?status=all"
    response = client.post(
        queue,
        {"decision": "accept", "enrolments": [str(e.public_id) for e in (site.applicant, second, done)]},
    )
    assert response.status_code == 302 and response["Location"] == queue
    statuses = dict(Enrolment.objects.filter(intake=site.intake).values_list("pk", "status"))
    assert statuses == {site.applicant.pk: S.ACCEPTED, second.pk: S.ACCEPTED, done.pk: S.COMPLETED}
    (message,) = messages_of(response)
    assert message == "2 accepted, 1 refused: 李完成: An enrolment that is Completed cannot become Accepted."


def test_bulk_reject_needs_and_records_a_reason_and_bulk_activate_starts_studies(client, cast, site):
    second = enrol(site.intake, S.APPLIED)
    client.force_login(cast.school_admin)
    queue = url("application_queue", site)
    ids = [str(site.applicant.public_id), str(second.public_id)]
    response = client.post(queue, {"decision": "reject", "enrolments": ids, "reason": "The intake is for CNC operators."})
    assert messages_of(response) == ["2 rejected."]
    assert set(Enrolment.objects.filter(pk__in=[site.applicant.pk, second.pk]).values_list("status", flat=True)) == {S.REJECTED}

    accepted = [enrol(site.intake, S.ACCEPTED) for _n in range(2)]
    response = client.post(queue, {"decision": "activate", "enrolments": [str(e.public_id) for e in accepted]})
    assert messages_of(response) == ["2 now studying."]
    assert set(Enrolment.objects.filter(pk__in=[e.pk for e in accepted]).values_list("status", flat=True)) == {S.ACTIVE}


def test_bulk_accept_into_a_full_intake_accepts_in_order_of_application_and_refuses_the_rest(client, cast, site):
    site.intake.capacity = 1
    site.intake.save()
    waiting = enrol(site.intake, S.WAITLISTED, minutes_ago=30)
    client.force_login(cast.school_admin)
    response = client.post(
        url("application_queue", site),
        {"decision": "accept", "enrolments": [str(waiting.public_id), str(site.applicant.public_id)]},
    )
    site.applicant.refresh_from_db()
    waiting.refresh_from_db()
    assert (site.applicant.status, waiting.status) == (S.ACCEPTED, S.WAITLISTED)
    assert messages_of(response) == [
        f"1 accepted, 1 refused: {waiting.learner.legal_name}: The intake is full: this learner stays on the waitlist."
    ]


def test_bulk_decisions_cannot_reach_another_schools_applications(client, cast, site):
    client.force_login(cast.school_admin)
    response = client.post(
        url("application_queue", site),
        {"decision": "accept", "enrolments": [str(site.applicant.public_id), str(site.other_applicant.public_id)]},
    )
    assert any("Select a valid choice" in m for m in messages_of(response))
    site.applicant.refresh_from_db()
    site.other_applicant.refresh_from_db()
    assert (site.applicant.status, site.other_applicant.status) == (S.APPLIED, S.APPLIED)


# --- One enrolment --------------------------------------------------------------------------------


def test_the_enrolment_page_shows_profile_history_results_and_allowed_actions(client, cast, site):
    client.force_login(cast.school_admin)
    address = url("enrolment_detail", site, public_id=site.applicant.public_id)
    response = client.get(address)
    content = response.content.decode()
    assert response.context["actions"] == ["accept", "reject", "withdraw"]
    assert "BAIC Motor Beijing" in content and "worker@baic.example" in content and site.applicant.learner.phone in content

    client.post(address, {"action": "accept"})
    client.post(address, {"action": "activate", "reason": "Classes began."})
    factories.UserFactory()  # noise
    CourseResult.objects.create(
        enrolment=site.applicant, course=site.nc101, score=Decimal("88"), grade="B", passed=True,
        assessed_on=YESTERDAY, recorded_by=cast.school_admin,
    )
    response = client.get(address)
    assert response.context["actions"] == ["complete", "withdraw"]
    history = [(c.from_status, c.to_status, c.reason) for c in response.context["history"]]
    assert history == [("", S.APPLIED, ""), (S.APPLIED, S.ACCEPTED, ""), (S.ACCEPTED, S.ACTIVE, "Classes began.")]
    content = response.content.decode()
    assert "Classes began." in content and "NC101" in content and "88" in content

    refused = client.post(address, {"action": "withdraw", "reason": ""})
    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"] == ["Give the learner a reason."]
    assert 'id="reason-withdraw-error"' in refused.content.decode()
    illegal = client.post(address, {"action": "accept"})
    assert illegal.context["form"].non_field_errors() == ["An enrolment that is Studying cannot become Accepted."]
    site.applicant.refresh_from_db()
    assert site.applicant.status == S.ACTIVE

    client.post(address, {"action": "complete"})
    site.applicant.refresh_from_db()
    assert site.applicant.status == S.COMPLETED
    assert client.get(address).context["actions"] == []


# --- Results --------------------------------------------------------------------------------------


@pytest.fixture
def cohort(site):
    learners = [
        enrol(site.intake, S.ACTIVE, email=f"worker{n}@baic.example", minutes_ago=10 + n) for n in range(3)
    ]
    enrol(site.intake, S.WITHDRAWN, email="gone@baic.example")
    return learners


def results_url(site, course: str | None = None) -> str:
    address = url("intake_results", site, intake_id=site.intake.public_id)
    return f"{address}?course={course}" if course else address


def test_the_results_form_lists_admitted_learners_and_records_filled_rows(client, cast, site, cohort):
    client.force_login(cast.school_admin)
    page = client.get(results_url(site, "NC101"))
    enrolments = [row["enrolment"] for row in page.context["rows"]]
    assert set(enrolments) == set(cohort)  # not the applicant, not the withdrawn learner
    form = page.context["entry_form"]
    a, b, c = cohort
    data = {
        form.score_name(a): "91.5",
        form.date_name(a): YESTERDAY.isoformat(),
        form.score_name(b): "55",
        "assessed_on": YESTERDAY.isoformat(),
        form.score_name(c): "",
    }
    response = client.post(results_url(site, "NC101"), data)
    assert response.status_code == 302
    assert "2 results recorded." in messages_of(response)
    results = {r.enrolment_id: (r.score, r.grade, r.passed) for r in CourseResult.objects.filter(course=site.nc101)}
    assert results == {a.pk: (Decimal("91.50"), "A", True), b.pk: (Decimal("55.00"), "F", False)}
    # Recorded rows are shown, not offered again.
    again = client.get(results_url(site, "NC101"))
    assert [row["result"] is not None for row in again.context["rows"]].count(True) == 2


def test_per_row_refusals_are_shown_and_what_was_typed_is_kept(client, cast, site, cohort):
    client.force_login(cast.school_admin)
    form = client.get(results_url(site, "NC102")).context["entry_form"]
    a, b, c = cohort
    data = {
        form.score_name(a): "77",
        form.date_name(a): YESTERDAY.isoformat(),
        form.score_name(b): "66.25",
        form.date_name(b): TOMORROW.isoformat(),  # the service refuses a future date
        form.score_name(c): "101",  # the form refuses a score over 100
        form.date_name(c): YESTERDAY.isoformat(),
    }
    response = client.post(results_url(site, "NC102"), data)
    assert response.status_code == 200
    errors = response.context["entry_form"].errors
    assert form.score_name(c) in errors
    # The form error stopped the whole submission: nothing recorded yet, everything kept.
    assert not CourseResult.objects.exists()
    assert 'value="66.25"' in response.content.decode()

    data[form.score_name(c)] = "100"
    response = client.post(results_url(site, "NC102"), data)
    assert response.status_code == 200
    entry = response.context["entry_form"]
    assert entry.errors[form.score_name(b)] == ["The assessment date is in the future."]
    assert response.context["recorded_now"] == 2
    assert set(CourseResult.objects.values_list("enrolment_id", flat=True)) == {a.pk, c.pk}
    content = response.content.decode()
    assert 'value="66.25"' in content and TOMORROW.isoformat() in content


def test_an_empty_results_form_asks_for_a_score_and_a_bad_course_shows_none(client, cast, site, cohort):
    client.force_login(cast.school_admin)
    response = client.post(results_url(site, "NC101"), {})
    assert response.context["entry_form"].non_field_errors() == ["Enter at least one score."]
    # A course outside the programme is not a choice.
    response = client.get(results_url(site, "NC201"))
    assert response.context["course"] is None and "course" in response.context["course_form"].errors


def upload(client, site, content: bytes | str, name: str = "results.csv", content_type: str = "text/csv"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(
        url("intake_results_upload", site, intake_id=site.intake.public_id),
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
    )


def test_a_good_csv_is_recorded_and_the_same_file_again_changes_nothing(client, cast, site, cohort):
    client.force_login(cast.school_admin)
    day = YESTERDAY.isoformat()
    text = HEADER + f"worker0@baic.example,NC101,80,{day}\nworker1@baic.example,NC101,90,{day}\n"
    response = upload(client, site, "\ufeff" + text)
    assert response.status_code == 302
    assert messages_of(response) == ["2 recorded, 0 already recorded."]
    assert CourseResult.objects.count() == 2

    again = upload(client, site, text)
    assert messages_of(again) == ["0 recorded, 2 already recorded."]
    assert CourseResult.objects.count() == 2


def test_a_csv_with_a_bad_row_shows_its_line_and_saves_nothing(client, cast, site, cohort):
    client.force_login(cast.school_admin)
    day = YESTERDAY.isoformat()
    text = (
        HEADER
        + f"worker0@baic.example,NC101,80,{day}\n"
        + f"worker1@baic.example,NC101,eighty,{day}\n"
        + f"stranger@example.org,NC101,70,{day}\n"
    )
    response = upload(client, site, text)
    assert response.status_code == 200
    assert [(e.line, e.message) for e in response.context["report"].errors] == [
        (3, "score 'eighty' is not a number"),
        (4, "unknown learner stranger@example.org: not admitted to this intake"),
    ]
    content = response.content.decode()
    assert "Nothing was saved." in content
    assert "<td>3</td>" in content and "<td>4</td>" in content
    assert not CourseResult.objects.exists()


def language_next(response) -> str:
    """Where the header's language switch sends the person: its hidden ``next``."""
    form = re.search(r'<form class="lang-switch".*?</form>', response.content.decode(), re.S)
    return html_unescape(re.search(r'name="next" value="([^"]*)"', form.group(0)).group(1))


def test_switching_language_on_a_refused_upload_shows_the_results_page_again(
    client, cast, site, cohort
):
    client.force_login(cast.school_admin)
    refused = upload(client, site, HEADER + "worker0@baic.example,NC101,eighty,2024-01-01\n")
    assert refused.status_code == 200 and refused.context["report"].errors
    # The upload's address takes POST only: the switch lands on the results page, which GET shows.
    target = language_next(refused)
    assert target == url("intake_results", site, intake_id=site.intake.public_id)
    switched = client.post("/i18n/setlang/", {"language": "zh-hans", "next": target}, follow=True)
    assert switched.status_code == 200 and switched.redirect_chain[-1][0] == target
    assert '<html lang="zh-hans"' in switched.content.decode()
    # An ordinary page keeps its whole address, query included.
    page = client.get(results_url(site, "NC101"))
    assert language_next(page) == results_url(site, "NC101")


@pytest.mark.parametrize(
    "name, data, content_type, expected",
    [
        ("results.xlsx", b"PK\x03\x04 spreadsheet", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "is not a CSV file"),
        ("results.csv", b"PK\x03\x04\x14\x00\x06\x00", "text/csv", "is a spreadsheet, not CSV text"),
        ("results.csv", b"learner_email\x00,course", "text/csv", "binary data"),
        ("results.csv", b"learner_email,course_code,score,assessed_on\nw@x.org,NC101,\xff\xfe80,2024-01-01\n", "text/csv", "not UTF-8"),
        ("photo.csv", b"\x89PNG", "image/png", "not CSV text"),
        ("results.csv", "learner_email,course_code,score,assessed_on\n".encode("utf-16"), "text/csv", "UTF-16"),
        ("results.csv", b"name,code\nx,y\n", "text/csv", "Line 1 must be the header"),
    ],
)
def test_a_wrong_file_is_refused_with_a_clear_message(client, cast, site, cohort, name, data, content_type, expected):
    client.force_login(cast.school_admin)
    response = upload(client, site, data, name=name, content_type=content_type)
    assert response.status_code == 200
    errors = response.context["upload_form"].errors["file"]
    assert any(expected in e for e in errors), errors
    assert "Nothing was saved." in response.content.decode()
    assert not CourseResult.objects.exists()


def test_an_over_large_file_is_refused_before_it_is_read(client, cast, site, cohort, settings):
    settings.RESULTS_CSV_MAX_BYTES = 1024
    client.force_login(cast.school_admin)
    day = YESTERDAY.isoformat()
    text = HEADER + "".join(f"worker0@baic.example,NC101,80,{day}\n" for _n in range(40))
    response = upload(client, site, text)
    (error,) = response.context["upload_form"].errors["file"]
    assert "the limit is 1.0\xa0KB" in error
    assert not CourseResult.objects.exists()


def test_the_csv_template_downloads_with_the_header(client, cast, site):
    client.force_login(cast.school_admin)
    response = client.get(url("intake_results_template", site, intake_id=site.intake.public_id))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode("utf-8") == "\ufefflearner_email,course_code,score,assessed_on\r\n"
    page = client.get(results_url(site)).content.decode()
    assert "learner_email,course_code,score,assessed_on" in page


# --- Reports --------------------------------------------------------------------------------------


def test_reports_count_each_state_and_the_completion_rate(client, cast, site):
    for status, n in [(S.ACCEPTED, 1), (S.ACTIVE, 2), (S.COMPLETED, 3), (S.REJECTED, 1), (S.WITHDRAWN, 1)]:
        for _n in range(n):
            enrol(site.intake, status)
    empty = factories.IntakeFactory(programme=site.programme, year=2027, centre=site.intake.centre)
    client.force_login(cast.school_admin)
    response = client.get(url("reports", site))
    rows = {row.intake: row for row in response.context["rows"]}
    assert set(rows) == {site.intake, empty}
    row = rows[site.intake]
    assert row.applications == 9
    assert row.counts == {
        S.APPLIED: 1, S.WAITLISTED: 0, S.ACCEPTED: 1, S.REJECTED: 1, S.ACTIVE: 2, S.COMPLETED: 3, S.WITHDRAWN: 1,
    }
    assert row.completion_rate == pytest.approx(0.5)
    assert rows[empty].completion_rate is None
    content = response.content.decode()
    assert "50.0%" in content
    assert "COAL1" not in content


def test_the_report_exports_as_csv_with_a_byte_order_mark(client, cast, site):
    enrol(site.intake, S.COMPLETED)
    enrol(site.intake, S.ACTIVE)
    site.intake.centre.name_zh = "北京学习中心"
    site.intake.centre.save()
    client.force_login(cast.school_admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    response = client.get(url("reports", site), {"format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="mechanical-enrolment-report-' in response["Content-Disposition"]
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    import csv

    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(lines) == 2
    header, row = lines
    assert len(header) == len(row) == 14
    assert row[0] == "NCT" and row[1] == "数控技术" and row[3] == "北京学习中心"
    # applications, then applied, waitlisted, accepted, rejected, studying, completed, withdrawn
    assert row[5:13] == ["3", "1", "0", "0", "0", "1", "1", "0"]
    assert row[13] == "50.0%"


def test_report_cells_that_look_like_formulas_are_neutralised(client, cast, site):
    site.programme.name_en = "=HYPERLINK(\"http://evil\")"
    site.programme.save()
    client.force_login(cast.school_admin)
    response = client.get(url("reports", site), {"format": "csv"})
    assert "'=HYPERLINK" in response.content.decode("utf-8-sig")


# --- Cost -----------------------------------------------------------------------------------------


def queries_for(client, address: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(address)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def grow(site, n: int) -> None:
    """Bring the school's enrolments up to ``n``, over two intakes, in every state."""
    second = Intake.objects.filter(programme=site.programme, year=2030).first() or factories.IntakeFactory(
        programme=site.programme, year=2030
    )
    states = [S.APPLIED, S.APPLIED, S.WAITLISTED, S.ACCEPTED, S.ACTIVE, S.COMPLETED, S.REJECTED]
    have = Enrolment.objects.filter(programme__school=site.school).count()
    for i in range(have, n):
        enrol(site.intake if i % 2 else second, states[i % len(states)], minutes_ago=i + 1)


@pytest.mark.parametrize("page", ["application_queue", "reports", "school"])
def test_pages_cost_the_same_with_5_or_50_enrolments(client, cast, site, page):
    client.force_login(cast.school_admin)
    grow(site, 5)
    address = url(page, site) + ("?status=all" if page == "application_queue" else "")
    client.get(address)  # warm the session
    small = queries_for(client, address)
    grow(site, 50)
    large = queries_for(client, address)
    assert small == large, (small, large)
    assert large <= 12
