"""The public catalogue is cached per language, and any change shows on the next request.

These run on whatever cache the stack has: local memory on SQLite runs, Redis when REDIS_URL is
set (settings.py). tests/conftest.py gives every test its own key prefix.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrolment import cache as catalogue_cache
from enrolment.services import programme_search_text
from tests import factories

pytestmark = pytest.mark.django_db

LIST = reverse("enrolment:programme_list")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def programme():
    school = factories.IndustrySchoolFactory(
        slug="machinery", name_en="School of Machinery", name_zh="机械学院"
    )
    programme = factories.ProgrammeFactory(
        school=school, code="NCT", slug="numerical-control",
        name_en="Numerical Control Technology", name_zh="数控技术",
        description_en="For machinists.", description_zh="面向机床工人。",
    )  # fmt: skip
    programme.search_text = programme_search_text(programme)
    programme.save()
    group = factories.RequirementGroupFactory(programme=programme, name_en="Core", name_zh="核心课")
    factories.add_course(group, code="NC101", name_en="CNC Programming", name_zh="数控编程")
    factories.IntakeFactory(programme=programme, centre=factories.LearningCentreFactory(code="bj01"))
    return programme


@pytest.fixture
def learner_client(client, cast):
    # Logged in: the header names this user, so a cached page must not be shared whole.
    client.force_login(cast.learner)
    return client


def get(client, path: str, language: str = "en", **params):
    response = client.get(path, params, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.status_code
    return response


def html(response) -> str:
    # Every response masks its CSRF token anew: the rest must be the same, byte for byte.
    return CSRF.sub("csrf", response.content.decode())


def measured(client, path: str, language: str = "en", **params):
    with CaptureQueriesContext(connection) as queries:
        response = get(client, path, language, **params)
    return response, [q["sql"] for q in queries.captured_queries]


def catalogue_queries(sqls: list[str]) -> list[str]:
    tables = ('"enrolment_programme"', '"enrolment_requirementgroup"', '"schools_industryschool"',
              '"schools_learningcentre"')  # fmt: skip
    return [sql for sql in sqls if any(table in sql for table in tables)]


def test_the_cache_is_the_stacks_shared_cache() -> None:
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.REDIS_URL:
        assert backend == "ouc_portal.redis_cache.SharedClientRedisCache"  # Django's, one client a pool
    else:
        assert backend == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize("params", [{}, {"q": "numerical", "kind": "associate", "sort": "level"}])
def test_a_second_search_runs_fewer_queries_and_shows_the_same_page(learner_client, programme, params):
    first, first_sql = measured(learner_client, LIST, **params)
    second, second_sql = measured(learner_client, LIST, **params)
    assert "Numerical Control Technology" in first.content.decode()
    assert "learner@example.org" in first.content.decode()
    assert html(second) == html(first)
    assert len(second_sql) < len(first_sql)
    # Warm, the page reads no programme, school or centre: only the session and the user.
    assert catalogue_queries(first_sql)
    assert catalogue_queries(second_sql) == []
    # The paginator still hands out programmes to whoever reads them.
    assert [p.pk for p in second.context["page_obj"].object_list] == [programme.pk]


def test_a_second_programme_page_runs_fewer_queries_and_shows_the_same_page(learner_client, programme):
    path = programme.get_absolute_url()
    first, first_sql = measured(learner_client, path)
    second, second_sql = measured(learner_client, path)
    content = first.content.decode()
    assert "CNC Programming" in content and "For machinists." in content and "Apply" in content
    assert html(second) == html(first)
    assert len(second_sql) < len(first_sql)
    # The intakes (with their centres) are read every time: open or not, and seats left, are
    # never stale. Nothing else about the programme is.
    intakes = [sql for sql in second_sql if 'FROM "enrolment_intake"' in sql]
    assert len(intakes) == 1
    assert [sql for sql in catalogue_queries(second_sql) if sql not in intakes] == []


def test_another_user_gets_the_cached_parts_but_their_own_header(client, cast, programme):
    client.force_login(cast.learner)
    get(client, LIST)
    get(client, programme.get_absolute_url())
    client.force_login(cast.other_learner)
    for path in (LIST, programme.get_absolute_url()):
        content = get(client, path).content.decode()
        assert "other.learner@example.org" in content
        # Every "learner@example.org" on the page is part of the other learner's address.
        assert content.count("learner@example.org") == content.count("other.learner@example.org")


def test_english_and_chinese_are_cached_apart(client, programme):
    for _round in range(2):  # the second round is served from the cache
        english = get(client, LIST, "en").content.decode()
        chinese = get(client, LIST, "zh-hans").content.decode()
        assert 'lang="en"' in english and "Numerical Control Technology</a>" in english
        assert "数控技术</a>" in chinese and "机械学院" in chinese
        assert "Numerical Control Technology</a>" not in chinese

        english = get(client, programme.get_absolute_url(), "en").content.decode()
        chinese = get(client, programme.get_absolute_url(), "zh-hans").content.decode()
        assert "<h1>Numerical Control Technology</h1>" in english and "Core" in english
        assert "<h1>数控技术</h1>" in chinese and "核心课" in chinese and "数控编程" in chinese


def warm(client, programme) -> None:
    for language in ("en", "zh-hans"):
        get(client, LIST, language)
        get(client, programme.get_absolute_url(), language)


def shows(client, programme, english: str, chinese: str) -> None:
    for language, name in (("en", english), ("zh-hans", chinese)):
        assert f"{name}</a>" in get(client, LIST, language).content.decode()
        detail = get(client, programme.get_absolute_url(), language).content.decode()
        assert f"<h1>{name}</h1>" in detail and f"<title>{name} ·" in detail


def test_a_renamed_programme_shows_at_once_in_both_languages(client, programme):
    warm(client, programme)
    programme.name_en, programme.name_zh = "CNC Technology", "数控技术（新）"
    programme.save()
    shows(client, programme, "CNC Technology", "数控技术（新）")


def test_a_programme_renamed_by_its_school_shows_at_once(client, cast, programme):
    warm(client, programme)
    staff = client.__class__()
    staff.force_login(cast.school_admin)
    programme.school = cast.school
    programme.save()
    address = reverse(
        "manage:programme_edit",
        kwargs={"school_slug": cast.school.slug, "programme_slug": programme.slug},
    )
    form = staff.get(address).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    response = staff.post(address, {**data, "name_en": "CNC Machining", "name_zh": "数控加工"})
    assert response.status_code == 302
    shows(client, programme, "CNC Machining", "数控加工")


def test_an_unpublished_programme_disappears_at_once(client, programme):
    warm(client, programme)
    programme.status = "archived"
    programme.save()
    assert "Numerical Control Technology" not in get(client, LIST).content.decode()
    assert client.get(programme.get_absolute_url()).status_code == 404


def test_a_changed_school_course_or_group_shows_at_once(client, programme):
    warm(client, programme)
    school = programme.school
    school.name_en = "School of Machines"
    school.save()
    course = programme.groups.get().courses.get()
    course.name_en = "CNC Programming II"
    course.save()
    group = programme.groups.get()
    group.name_en = "Core courses"
    group.save()
    content = get(client, programme.get_absolute_url()).content.decode()
    assert "School of Machines" in content and "CNC Programming II" in content
    assert "Core courses" in content
    assert "School of Machines" in get(client, LIST).content.decode()


@pytest.mark.parametrize(
    "change",
    [
        lambda p: factories.ProgrammeFactory(),
        lambda p: factories.CourseFactory(),
        lambda p: factories.RequirementGroupFactory(programme=p),
        lambda p: factories.add_course(p.groups.get(), code="NC102"),
        lambda p: p.groups.get().memberships.get().delete(),
        lambda p: factories.IntakeFactory(programme=p),
        lambda p: p.intakes.get().delete(),
        lambda p: factories.IndustrySchoolFactory(),
        lambda p: factories.LearningCentreFactory(),
        lambda p: factories.LearningCentreFactory().schools.add(p.school),
    ],
    ids=["programme", "course", "group", "group-course", "group-course-delete", "intake",
         "intake-delete", "school", "centre", "centre-schools"],  # fmt: skip
)
def test_every_model_the_pages_show_bumps_the_version(programme, change) -> None:
    before = catalogue_cache.catalogue_version()
    change(programme)
    assert catalogue_cache.catalogue_version() > before


def test_the_version_is_bumped_again_when_the_transaction_commits(
    programme, django_capture_on_commit_callbacks
) -> None:
    # Another process may cache the old rows between the save and the commit.
    before = catalogue_cache.catalogue_version()
    with django_capture_on_commit_callbacks(execute=True):
        programme.save()
        during = catalogue_cache.catalogue_version()
    assert before < during < catalogue_cache.catalogue_version()


def test_a_lost_version_starts_above_every_old_one(programme) -> None:
    old = catalogue_cache.catalogue_version()
    cache.delete(catalogue_cache.VERSION_KEY)  # evicted, or Redis restarted empty
    assert catalogue_cache.catalogue_version() > old


def test_a_cached_list_never_shows_an_intake_open_after_it_closes(client, programme, monkeypatch):
    intake = programme.intakes.get()
    now = timezone.now()
    intake.closes_at = now + datetime.timedelta(hours=1)
    intake.save()
    open_badge = "Open for application</span>"
    assert open_badge in get(client, LIST).content.decode()
    assert open_badge in get(client, LIST).content.decode()  # cached
    assert "Apply</a>" in get(client, programme.get_absolute_url()).content.decode()

    # Two hours on, nothing saved: the cached cards have outlived the intake's closing.
    later = now + datetime.timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert open_badge not in get(client, LIST).content.decode()
    assert get(client, LIST, open_now="on").context["page_obj"].paginator.count == 0
    detail = get(client, programme.get_absolute_url()).content.decode()
    # A closed intake is history: the page lists only intakes still to come or open.
    assert "Apply</a>" not in detail and "No intake is scheduled yet" in detail


def test_a_cached_list_shows_an_intake_open_once_it_opens(client, programme, monkeypatch):
    intake = programme.intakes.get()
    now = timezone.now()
    intake.opens_at = now + datetime.timedelta(hours=1)
    intake.save()
    assert get(client, LIST, open_now="on").context["page_obj"].paginator.count == 0
    later = now + datetime.timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert get(client, LIST, open_now="on").context["page_obj"].paginator.count == 1


def test_pages_and_page_links_agree_with_the_cached_count(learner_client, programme):
    # Signed in: the page is rendered (from the cached cards), so its context can be read.
    client = learner_client
    for n in range(25):
        factories.ProgrammeFactory(name_en=f"Zeta {n:02d}")
    for _round in range(2):
        last = get(client, LIST, page="999")
        assert last.context["page_obj"].number == 2
        assert len(last.context["page_obj"].object_list) == 6
        assert "Zeta 24" in last.content.decode() and 'rel="prev"' in last.content.decode()
        first = get(client, LIST, page="junk")
        assert first.context["page_obj"].number == 1
        assert "Numerical Control Technology" in first.content.decode()


def test_the_catalogue_still_answers_when_the_cache_is_down(client, programme, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    assert "Numerical Control Technology" in get(client, LIST).content.decode()
    assert "CNC Programming" in get(client, programme.get_absolute_url()).content.decode()


def test_no_cache_when_turned_off(client, programme, settings):
    settings.CATALOGUE_CACHE_SECONDS = 0
    get(client, LIST)
    _response, sql = measured(client, LIST)
    assert catalogue_queries(sql)
