import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from enrolment.models import CourseResult, Enrolment, EnrolmentStatus, ProgrammeStatus
from tests import factories

S = EnrolmentStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def intake(cast):
    programme = factories.ProgrammeFactory(school=cast.school, slug="nct", name_en="Numerical Control Technology", name_zh="数控技术", search_text="nct numerical control technology 数控技术")
    group = factories.RequirementGroupFactory(programme=programme)
    factories.add_course(group, code="NC101")
    return factories.IntakeFactory(programme=programme, capacity=1)


def test_public_catalogue_filters_like_the_page(api, intake):
    factories.ProgrammeFactory(kind="training")
    assert [p["slug"] for p in api.get("/api/v1/programmes/", {"q": "数控"}).json()["results"]] == ["nct"]
    assert api.get("/api/v1/programmes/", {"kind": "training"}).json()["count"] == 1
    bad = api.get("/api/v1/programmes/", {"kind": "spaceship"})
    assert bad.status_code == 400 and "kind" in bad.json()


def test_programme_detail_shows_structure_and_intakes_but_never_a_draft(api, intake):
    body = api.get("/api/v1/programmes/nct/").json()
    assert body["groups"][0]["courses"][0]["course"]["code"] == "NC101"
    assert body["intakes"][0]["seats_left"] == 1
    draft = factories.ProgrammeFactory(status=ProgrammeStatus.DRAFT)
    assert api.get(f"/api/v1/programmes/{draft.slug}/").status_code == 404
    assert api.get("/api/v1/courses/", {"programme": "nct"}).json()["results"][0]["code"] == "NC101"
    assert api.get(f"/api/v1/intakes/{intake.public_id}/").json()["capacity"] == 1


def test_learner_applies_is_waitlisted_and_withdraws_through_the_api(api, intake, cast):
    assert api.post("/api/v1/me/enrolments/", {"intake": str(intake.public_id)}).status_code == 403
    api.force_authenticate(cast.learner)
    first = api.post("/api/v1/me/enrolments/", {"intake": str(intake.public_id)})
    assert first.status_code == 201 and first.json()["status"] == S.APPLIED
    again = api.post("/api/v1/me/enrolments/", {"intake": str(intake.public_id)})
    assert again.status_code == 400 and "already have a live application" in str(again.json())

    api.force_authenticate(cast.other_learner)
    waiting = api.post("/api/v1/me/enrolments/", {"intake": str(intake.public_id)})
    assert waiting.json()["status"] == S.WAITLISTED and waiting.json()["waitlist_position"] == 1
    # The first learner's enrolment is not there for anyone else.
    mine = Enrolment.objects.get(learner__user=cast.learner)
    assert api.get(f"/api/v1/me/enrolments/{mine.public_id}/").status_code == 404
    assert api.post(f"/api/v1/me/enrolments/{mine.public_id}/withdraw/").status_code == 404

    api.force_authenticate(cast.learner)
    withdrawn = api.post(f"/api/v1/me/enrolments/{mine.public_id}/withdraw/", {"reason": "new job"})
    assert withdrawn.json()["status"] == S.WITHDRAWN
    other = Enrolment.objects.get(learner__user=cast.other_learner)
    assert other.status == S.APPLIED  # promoted from the waitlist


@pytest.mark.parametrize("payload", [{}, {"intake": "not-a-uuid"}, {"intake": "00000000-0000-0000-0000-000000000000"}])
def test_bad_apply_requests_are_refused(api, cast, intake, payload):
    api.force_authenticate(cast.learner)
    assert api.post("/api/v1/me/enrolments/", payload).status_code in {400, 404}
    assert not Enrolment.objects.exists()


def test_staff_queue_is_scoped_to_their_school(api, cast, intake):
    enrolment = factories_enrol(cast.learner, intake)
    url = f"/api/v1/manage/schools/{cast.school.slug}/enrolments/"
    api.force_authenticate(cast.other_school_admin)
    assert api.get(url).status_code == 404
    assert api.post(f"{url}{enrolment.public_id}/decide/", {"decision": "accept"}).status_code == 404
    api.force_authenticate(cast.learner)
    assert api.get(url).status_code == 404

    api.force_authenticate(cast.school_admin)
    listed = api.get(url, {"status": "applied"}).json()
    assert [e["learner_email"] for e in listed["results"]] == [cast.learner.email]
    assert api.get(url, {"status": "nonsense"}).status_code == 400
    refused = api.post(f"{url}{enrolment.public_id}/decide/", {"decision": "reject", "reason": ""})
    assert refused.status_code == 400 and "reason" in str(refused.json())
    accepted = api.post(f"{url}{enrolment.public_id}/decide/", {"decision": "accept"})
    assert accepted.json()["status"] == S.ACCEPTED
    illegal = api.post(f"{url}{enrolment.public_id}/decide/", {"decision": "reject", "reason": "late"})
    assert illegal.status_code == 400 and "cannot become" in str(illegal.json())


def factories_enrol(user, intake, status=S.APPLIED):
    return Enrolment.objects.create(learner=user.learner, intake=intake, programme=intake.programme, status=status)


def test_results_upload_through_the_api_is_all_or_nothing(api, cast, intake):
    factories_enrol(cast.learner, intake, status=S.ACTIVE)
    url = f"/api/v1/manage/intakes/{intake.public_id}/results/"
    day = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    good = f"learner_email,course_code,score,assessed_on\n{cast.learner.email},NC101,88,{day}\n".encode()
    bad = good + f"nobody@example.org,NC101,70,{day}\n".encode()

    api.force_authenticate(cast.other_school_admin)
    assert api.post(url, {"file": SimpleUploadedFile("r.csv", good)}, format="multipart").status_code == 404
    api.force_authenticate(cast.school_admin)
    refused = api.post(url, {"file": SimpleUploadedFile("r.csv", bad)}, format="multipart")
    assert refused.status_code == 400
    assert refused.json()["errors"] == [{"line": 3, "message": "unknown learner nobody@example.org: not admitted to this intake"}]
    assert not CourseResult.objects.exists()
    assert api.post(url, {}, format="multipart").status_code == 400
    done = api.post(url, {"file": SimpleUploadedFile("r.csv", good)}, format="multipart")
    assert done.json() == {"created": 1, "unchanged": 0}
    again = api.post(url, {"file": SimpleUploadedFile("r.csv", good)}, format="multipart")
    assert again.json() == {"created": 0, "unchanged": 1}
    assert CourseResult.objects.count() == 1


def test_the_schema_documents_the_enrolment_endpoints(api):
    schema = api.get("/api/schema/?format=json").json()
    for path in ["/api/v1/programmes/", "/api/v1/me/enrolments/", "/api/v1/manage/intakes/{intake_public_id}/results/"]:
        assert path in schema["paths"]
