import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrolment.models import Enrolment, EnrolmentStatus, Programme, ProgrammeStatus
from enrolment.services import programme_search_text
from tests import factories

S = EnrolmentStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def nc_programme():
    school = factories.IndustrySchoolFactory(name_en="OUC School of Mechanical Industry", name_zh="国家开放大学机械学院")
    programme = factories.ProgrammeFactory(
        school=school, code="NCT", slug="numerical-control-technology",
        name_en="Numerical Control Technology", name_zh="数控技术",
    )
    programme.search_text = programme_search_text(programme)
    programme.save()
    group = factories.RequirementGroupFactory(programme=programme)
    factories.add_course(group, code="NC101", name_en="CNC Programming", name_zh="数控编程")
    return programme


def catalogue(client, **params):
    return client.get(reverse("enrolment:programme_list"), params)


@pytest.mark.parametrize("term", ["数控", "numerical control", "NUMERICAL", "nct", "机械"])
def test_search_finds_a_programme_by_chinese_and_english_words(client, nc_programme, term):
    factories.ProgrammeFactory(name_en="Logistics Management", name_zh="物流管理")
    response = catalogue(client, q=term)
    assert response.status_code == 200
    names = [p.name_en for p in response.context["page_obj"].object_list]
    assert names == ["Numerical Control Technology"]


def test_only_published_programmes_are_listed_or_shown(client, nc_programme):
    draft = factories.ProgrammeFactory(status=ProgrammeStatus.DRAFT, name_en="Secret draft")
    archived = factories.ProgrammeFactory(status=ProgrammeStatus.ARCHIVED, name_en="Old one")
    content = catalogue(client).content.decode()
    assert "Numerical Control Technology" in content
    assert "Secret draft" not in content and "Old one" not in content
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(archived.get_absolute_url()).status_code == 404


def test_filters_narrow_the_catalogue(client, nc_programme):
    other = factories.ProgrammeFactory(kind="training", delivery_mode="online", qf_level=3)
    beijing = factories.LearningCentreFactory(province="BJ")
    shanghai = factories.LearningCentreFactory(province="SH")
    factories.IntakeFactory(programme=nc_programme, centre=beijing)
    factories.IntakeFactory(
        programme=other, centre=shanghai,
        opens_at=timezone.now() - datetime.timedelta(days=60), closes_at=timezone.now() - datetime.timedelta(days=30),
    )

    def names(**params):
        return {p.pk for p in catalogue(client, **params).context["page_obj"].object_list}

    assert names(kind="training") == {other.pk}
    assert names(delivery="online", level=3) == {other.pk}
    assert names(province="BJ") == {nc_programme.pk}
    assert names(centre=shanghai.code) == {other.pk}
    assert names(open_now="on") == {nc_programme.pk}
    assert names(school=nc_programme.school.slug) == {nc_programme.pk}
    assert names(industry="mechanical") == {nc_programme.pk, other.pk}


def test_bad_filter_values_are_reported_not_a_server_error(client, nc_programme):
    response = catalogue(client, kind="spaceship", level="eleven", q="数控")
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"kind", "level"}
    # The good part of the query still applies.
    assert [p.pk for p in response.context["page_obj"].object_list] == [nc_programme.pk]
    assert "were ignored" in response.content.decode()


def test_an_empty_result_helps_the_visitor(client, nc_programme):
    response = catalogue(client, q="underwater basket weaving")
    content = response.content.decode()
    assert "No programme matches" in content
    assert reverse("enrolment:programme_list") in content


def test_catalogue_paginates_and_sorts(client):
    factories.ProgrammeFactory.create_batch(25)
    first = catalogue(client, sort="-credits")
    assert first.context["page_obj"].paginator.num_pages == 2
    second = catalogue(client, sort="-credits", page=2)
    assert len(second.context["page_obj"].object_list) == 5
    assert catalogue(client, page="999").context["page_obj"].number == 2


def _bulk_programmes(n, prefix="B"):
    school = factories.IndustrySchoolFactory()
    Programme.objects.bulk_create(
        Programme(
            school=school, code=f"{prefix}{i:05d}", slug=f"bulk-{prefix}-{i}", name_en=f"Bulk {i}", name_zh=f"批量{i}",
            kind="training", qf_level=4, total_credits=10, duration_months=6, delivery_mode="online",
            status=ProgrammeStatus.PUBLISHED, search_text=f"bulk {i}",
        )
        for i in range(n)
    )


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_catalogue_and_programme_page_cost_the_same_with_10_or_1000_programmes(client, nc_programme):
    _bulk_programmes(10)
    small_list = _queries(client, reverse("enrolment:programme_list") + "?q=bulk&kind=training")
    small_page = _queries(client, nc_programme.get_absolute_url())
    _bulk_programmes(990, prefix="X")
    for year in range(2020, 2025):
        factories.IntakeFactory(programme=nc_programme, season="spring", year=year)
    assert _queries(client, reverse("enrolment:programme_list") + "?q=bulk&kind=training") == small_list
    assert _queries(client, nc_programme.get_absolute_url()) == small_page


def test_programme_page_shows_structure_intakes_and_seats(client, nc_programme):
    intake = factories.IntakeFactory(programme=nc_programme, capacity=2)
    Enrolment.objects.create(
        learner=factories.LearnerFactory(), intake=intake, programme=nc_programme, status=S.ACCEPTED
    )
    content = client.get(nc_programme.get_absolute_url()).content.decode()
    assert "NC101" in content and "CNC Programming" in content
    assert "1 seat left" in content
    assert reverse("enrolment:intake_apply", args=[intake.public_id]) in content


def test_applying_takes_a_login_a_profile_and_a_confirmation(client, nc_programme):
    intake = factories.IntakeFactory(programme=nc_programme)
    apply_url = reverse("enrolment:intake_apply", args=[intake.public_id])
    assert client.get(apply_url).status_code == 302  # to the log-in page

    user = factories.UserFactory()
    client.force_login(user)
    response = client.get(apply_url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("enrolment:my_profile"))

    profile = {
        "legal_name": "王小明", "phone": "138 0013 8000", "employer": "BAIC", "job_title": "Fitter",
        "industry": "automobile-repair", "province": "BJ", "centre": "", "next": apply_url,
    }
    refused = client.post(reverse("enrolment:my_profile"), profile)
    assert refused.status_code == 200
    assert "privacy notice" in refused.content.decode()
    assert refused.context["form"]["legal_name"].value() == "王小明"  # what was typed is kept

    saved = client.post(reverse("enrolment:my_profile"), {**profile, "consent": "on"})
    assert saved.status_code == 302 and saved.url == apply_url
    assert user.learner.phone == "13800138000"

    confirm = client.get(apply_url)
    assert confirm.status_code == 200
    assert "Confirm application" in confirm.content.decode()
    assert not Enrolment.objects.exists()

    done = client.post(apply_url)
    enrolment = Enrolment.objects.get()
    assert done.status_code == 302 and done.url == enrolment.get_absolute_url()
    page = client.get(enrolment.get_absolute_url())
    assert "Applied, awaiting approval" in page.content.decode()

    again = client.post(apply_url, follow=True)
    assert "already have a live application" in again.content.decode()
    assert Enrolment.objects.count() == 1


def test_a_profile_with_a_bad_phone_is_refused_next_to_the_field(client):
    client.force_login(factories.UserFactory())
    response = client.post(reverse("enrolment:my_profile"), {
        "legal_name": "李", "phone": "call me", "employer": "X", "job_title": "Y",
        "industry": "coal", "province": "ZZ", "consent": "on",
    })
    form = response.context["form"]
    assert set(form.errors) == {"phone", "province"}
    assert "7 to 15 digits" in response.content.decode()


def test_the_profile_names_learning_centres_in_the_page_language(client):
    centre = factories.LearningCentreFactory(name_en="Hall A Centre", name_zh="甲馆学习中心")
    english_only = factories.LearningCentreFactory(name_en="Plant B Centre", name_zh="")
    client.force_login(factories.UserFactory())
    english = client.get(reverse("enrolment:my_profile"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(reverse("enrolment:my_profile")).content.decode()
    assert f'value="{centre.pk}">Hall A Centre<' in english
    assert f'value="{centre.pk}">甲馆学习中心<' in chinese
    # Without a Chinese name the English one stands in, rather than nothing.
    assert f'value="{english_only.pk}">Plant B Centre<' in chinese


def test_a_learner_sees_and_withdraws_only_their_own_enrolment(client, nc_programme):
    intake = factories.IntakeFactory(programme=nc_programme)
    mine = Enrolment.objects.create(
        learner=factories.LearnerFactory(), intake=intake, programme=nc_programme, status=S.APPLIED
    )
    theirs = Enrolment.objects.create(
        learner=factories.LearnerFactory(), intake=intake, programme=nc_programme, status=S.APPLIED
    )
    client.force_login(mine.learner.user)
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.post(theirs.get_absolute_url(), {"reason": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == S.APPLIED

    client.post(mine.get_absolute_url(), {"reason": "moved to Shanghai"})
    mine.refresh_from_db()
    assert mine.status == S.WITHDRAWN
    assert mine.history.last().reason == "moved to Shanghai"
    assert client.post(mine.get_absolute_url(), {}, follow=True).status_code == 200
    assert mine.history.count() == 1  # a second withdrawal was refused, not recorded


def test_the_dashboard_lists_enrolments_and_results(client, nc_programme):
    learner = factories.LearnerFactory()
    client.force_login(learner.user)
    empty = client.get(reverse("enrolment:my_dashboard")).content.decode()
    assert "not applied for a programme yet" in empty
    intake = factories.IntakeFactory(programme=nc_programme)
    Enrolment.objects.create(learner=learner, intake=intake, programme=nc_programme, status=S.ACTIVE)
    content = client.get(reverse("enrolment:my_dashboard")).content.decode()
    assert "Numerical Control Technology" in content and "Studying" in content


def test_the_learner_area_needs_a_login(client):
    for name in ["enrolment:my_dashboard", "enrolment:my_profile"]:
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_level_labels_follow_the_language_of_each_request(client, nc_programme):
    # Built once at import, the labels must still be formatted per request.
    zh = client.get(nc_programme.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    en = client.get(nc_programme.get_absolute_url()).content.decode()
    assert "Level 5" in en and "5 级" not in en
    assert "5 级" in zh


def test_filters_fold_away_until_one_is_used(client, nc_programme):
    closed = catalogue(client, q="数控").content.decode()
    assert '<details class="filters__more">' in closed
    # The form itself sends every select, the default order included: still folded.
    submitted = catalogue(client, q="数控", school="", kind="", sort="name").content.decode()
    assert '<details class="filters__more">' in submitted
    reordered = catalogue(client, q="数控", sort="-credits").content.decode()
    assert '<details class="filters__more" open>' in reordered
    opened = catalogue(client, q="数控", kind="associate").content.decode()
    assert '<details class="filters__more" open>' in opened
