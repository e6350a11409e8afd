"""Public pages cached whole for anonymous visitors (ouc_portal/pagecache.py, issue 7).

A second anonymous GET of the catalogue, a programme page, a verification page or the API's
programme list is answered from the cache with the same bytes (the CSRF token aside, which is
the visitor's own), without a query; any change to what the page shows is there on the next
request, in both languages; a signed-in person never gets, and never stores, a cached page.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.middleware.csrf import _does_token_match
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates import services as certificate_services
from enrolment import services as enrolment_services
from enrolment.models import Enrolment, EnrolmentStatus
from enrolment.services import programme_search_text
from ouc_portal.pagecache import MARK
from tests import factories
from tests.certificates.test_credentials import issue, stub_pdf

pytestmark = pytest.mark.django_db

LIST = reverse("enrolment:programme_list")
API_LIST = reverse("enrolment-api:programme-list")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def programme():
    school = factories.IndustrySchoolFactory(slug="machinery", name_en="School of Machinery", name_zh="机械学院")
    programme = factories.ProgrammeFactory(
        school=school, code="NCT", slug="numerical-control",
        name_en="Numerical Control Technology", name_zh="数控技术",
    )  # fmt: skip
    programme.search_text = programme_search_text(programme)
    programme.save()
    group = factories.RequirementGroupFactory(programme=programme, name_en="Core", name_zh="核心课")
    factories.add_course(group, code="NC101", name_en="CNC Programming", name_zh="数控编程")
    factories.IntakeFactory(
        programme=programme, centre=factories.LearningCentreFactory(code="bj01"), capacity=30
    )
    return programme


def get(client, path: str, language: str = "en", **extra):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language, **extra)
    assert response.status_code == 200, response.status_code
    return response


def without_tokens(response) -> bytes:
    return TOKEN.sub("csrf", response.content.decode()).encode()


def counted(client, path: str, language: str = "en", **extra):
    with CaptureQueriesContext(connection) as queries:
        response = get(client, path, language, **extra)
    return response, len(queries)


@pytest.mark.parametrize("path", [LIST, f"{LIST}?q=numerical&kind=degree", "programme", API_LIST])
def test_a_second_anonymous_get_is_served_whole_without_a_query(client, programme, path):
    path = programme.get_absolute_url() if path == "programme" else path
    first, first_queries = counted(client, path)
    second, second_queries = counted(Client(), path)
    assert first[MARK] == "miss" and first_queries > 0
    assert second[MARK] == "hit" and second_queries == 0
    assert without_tokens(second) == without_tokens(first)
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]
    assert second["Content-Length"] == str(len(second.content))


def test_a_cached_page_carries_the_csrf_token_of_the_visitor_it_answers(client, programme):
    first = get(client, LIST)
    first_secret = first.cookies["csrftoken"].value
    other = Client()
    second = get(other, LIST)
    assert second[MARK] == "hit"
    tokens = TOKEN.findall(second.content.decode())
    assert tokens, "the language switch has no CSRF token"
    secret = second.cookies["csrftoken"].value  # set for this visitor, on a hit too
    assert secret != first_secret
    assert all(_does_token_match(token, secret) for token in tokens)
    assert not any(_does_token_match(token, first_secret) for token in tokens)
    assert "Cookie" in second["Vary"] and "Accept-Language" in second["Vary"]
    # The token works: the language switch posts with it under CSRF checks.
    checked = Client(enforce_csrf_checks=True)
    page = get(checked, LIST)
    token = TOKEN.search(page.content.decode()).group(1)
    switched = checked.post(reverse("set_language"), {"language": "zh-hans", "next": LIST, "csrfmiddlewaretoken": token})
    assert switched.status_code == 302


def test_each_language_is_cached_apart_and_an_edit_shows_at_once_in_both(client, programme):
    for language in ("en", "zh-hans"):
        get(client, LIST, language)
        get(client, programme.get_absolute_url(), language)
    assert get(client, LIST, "en")[MARK] == "hit"
    assert "数控技术" in get(client, LIST, "zh-hans").content.decode()
    assert "Numerical Control Technology" in get(client, LIST, "en").content.decode()

    programme.name_en, programme.name_zh = "Numerical Control Engineering", "数控工程"
    programme.save()

    for path in (LIST, programme.get_absolute_url()):
        english, chinese = get(client, path, "en"), get(client, path, "zh-hans")
        assert "Numerical Control Engineering" in english.content.decode()
        assert "数控工程" in chinese.content.decode()
        assert english[MARK] == chinese[MARK] == "miss"
    assert get(client, API_LIST).json()["results"][0]["name_en"] == "Numerical Control Engineering"


def test_seats_left_show_at_once_on_the_programme_page(client, cast, programme):
    url = programme.get_absolute_url()
    assert "30 seats left" in get(client, url).content.decode()
    assert get(client, url)[MARK] == "hit"
    intake = programme.intakes.get()
    Enrolment.objects.create(
        learner=factories.LearnerFactory(), intake=intake, programme=programme, status=EnrolmentStatus.ACCEPTED
    )
    assert "29 seats left" in get(client, url).content.decode()


def test_a_signed_in_person_never_gets_or_stores_a_cached_page(client, cast, programme):
    get(client, LIST)
    assert get(Client(), LIST)[MARK] == "hit"
    signed_in = Client()
    signed_in.force_login(cast.learner)
    response = get(signed_in, LIST)
    assert MARK not in response
    assert cast.learner.email in response.content.decode()
    # What a signed-in person's page shows never reaches an anonymous visitor.
    get(signed_in, programme.get_absolute_url())
    anonymous = get(Client(), programme.get_absolute_url())
    assert anonymous[MARK] == "miss"
    assert cast.learner.email not in anonymous.content.decode()


def test_a_visitor_with_a_session_or_an_api_key_is_not_served_from_the_cache(client, programme):
    get(client, LIST)
    with_session = Client()
    with_session.cookies["sessionid"] = "not-a-session"
    assert MARK not in get(with_session, LIST)
    get(Client(), API_LIST)
    keyed = Client().get(API_LIST, HTTP_AUTHORIZATION="Bearer not-a-key", HTTP_ACCEPT_LANGUAGE="en")
    assert MARK not in keyed  # answered (or refused) by the API itself, never from the cache
    assert get(Client(), LIST)[MARK] == "hit"


def test_the_api_list_is_cached_per_accept_header(client, programme):
    json_first = get(client, API_LIST, HTTP_ACCEPT="application/json")
    browsable = get(Client(), API_LIST, HTTP_ACCEPT="text/html")
    assert browsable[MARK] == "miss"
    assert browsable["Content-Type"].startswith("text/html")
    again = get(Client(), API_LIST, HTTP_ACCEPT="application/json")
    assert again[MARK] == "hit" and again.json() == json_first.json()
    assert {"Accept", "Cookie"} <= {v.strip() for v in again["Vary"].split(",")}


def test_no_page_cache_when_the_catalogue_cache_is_off(client, programme, settings):
    settings.CATALOGUE_CACHE_SECONDS = 0
    get(client, LIST)
    response, queries = counted(Client(), LIST)
    assert MARK not in response and queries > 0


# -- /verify/<code>/ -----------------------------------------------------------------------------


@pytest.fixture
def certificate(cast, eager, django_capture_on_commit_callbacks, monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    stub_pdf(monkeypatch)
    return issue(cast, django_capture_on_commit_callbacks, name_en="Numerical Control Technology: completion",
                 name_zh="数控技术结业证书")  # fmt: skip


def test_a_revoked_certificate_shows_revoked_at_once(client, cast, certificate, django_capture_on_commit_callbacks):
    url = reverse("verify:page", args=[certificate.verification_code])
    for language in ("en", "zh-hans"):
        get(client, url, language)
    cached = get(Client(), url)
    assert cached[MARK] == "hit" and "genuine and in force" in cached.content.decode()
    assert "no-store" in cached["Cache-Control"] and cached["X-Robots-Tag"] == "noindex, nofollow"

    with django_capture_on_commit_callbacks(execute=True):
        certificate_services.certificate_revoke(certificate=certificate, actor=cast.reviewer, reason="Issued in error")

    english = get(Client(), url).content.decode()
    assert 'class="badge badge--revoked">Revoked<' in english and "genuine and in force" not in english
    assert "badge--revoked" in get(Client(), url, "zh-hans").content.decode()


def test_a_renamed_holder_leaves_the_verification_page_as_signed(client, certificate):
    """The page shows the name the credential was signed with (issue 14): a renamed profile
    changes nothing on it, so the stored page stays and keeps the signed name."""
    url = reverse("verify:page", args=[certificate.verification_code])
    signed = certificate.holder_name
    get(client, url)
    learner = certificate.request.learner
    learner.legal_name = "Wang Fang"
    learner.save()
    again = get(Client(), url)
    assert again[MARK] == "hit"
    assert signed in again.content.decode() and "Wang Fang" not in again.content.decode()


def test_the_rate_limit_counts_what_the_cache_cannot_answer(client, settings, certificate):
    """Guesses (unknown codes, never stored) are all counted; a stored page of a real code is not."""
    settings.VERIFY_RATE_LIMIT = "3/d"
    url = reverse("verify:page", args=[certificate.verification_code])
    answers = [client.get(url, HTTP_ACCEPT_LANGUAGE="en") for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5  # one rendered (counted), four stored
    assert [a.get(MARK) for a in answers[1:]] == ["hit"] * 4
    guesses = [client.get(reverse("verify:page", args=[f"{n:032d}"]), HTTP_ACCEPT_LANGUAGE="en")
               for n in range(3)]  # fmt: skip
    assert [g.status_code for g in guesses] == [404, 404, 429]
    # Once limited, the stored page of the real code is still served: it reveals nothing new.
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").status_code == 200


def test_an_unknown_code_is_never_stored(client, certificate):
    url = reverse("verify:page", args=["x" * 32])
    for _ in range(2):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 404 and MARK not in response


def test_an_application_through_the_service_shows_at_once(client, cast, programme, django_capture_on_commit_callbacks):
    url = programme.get_absolute_url()
    get(client, url)
    learner = factories.LearnerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        enrolment_services.enrolment_apply(learner=learner, intake=programme.intakes.get())
    assert "29 seats left" in get(Client(), url).content.decode()


def test_the_redis_cache_shares_one_client_per_pool(settings):
    if not settings.REDIS_URL:
        pytest.skip("no REDIS_URL: the cache is in memory")
    from django.core.cache import cache

    cache.set("shared-client", 1, 10)
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    assert cache.get("shared-client") == 1 and cache.incr("shared-client") == 2


def test_new_cache_instances_open_no_new_connections(settings):
    """Every test overrides CACHES (a key prefix of its own): each override makes a new backend
    instance, and they must share the process's pool, or a long run exhausts Redis's clients."""
    if not settings.REDIS_URL:
        pytest.skip("no REDIS_URL: the cache is in memory")
    import copy
    import uuid

    from django.core.cache import caches

    def connections() -> int:
        return caches["default"]._cache.get_client(write=True).info("clients")["connected_clients"]

    caches["default"].set("warm", 1, 10)
    before = connections()
    for _ in range(30):
        changed = copy.deepcopy(settings.CACHES)
        changed["default"]["KEY_PREFIX"] = f"instances:{uuid.uuid4().hex}"
        settings.CACHES = changed
        caches["default"].set("k", 1, 10)
        assert caches["default"].get("k") == 1
    # Other processes (a worker, another test run) may connect meanwhile: allow a few, not 30.
    assert connections() - before < 10


def test_a_superseded_transcript_shows_superseded_at_once(client, cast, eager, django_capture_on_commit_callbacks,
                                                          monkeypatch, settings, tmp_path, accredited):  # fmt: skip
    from tests.certificates.test_credentials import build_transcript

    settings.MEDIA_ROOT = str(tmp_path / "media")
    stub_pdf(monkeypatch)
    learner = accredited.account.learner
    first = build_transcript(learner, django_capture_on_commit_callbacks)
    url = reverse("verify:page", args=[first.verification_code])
    get(client, url)
    assert get(Client(), url)[MARK] == "hit"
    build_transcript(learner, django_capture_on_commit_callbacks)
    html = get(Client(), url).content.decode()
    assert "by a newer transcript" in html and "badge--superseded" in html
