"""The public pages: content, 404s, centre filters and pagination, languages, layout, query counts."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from schools.models import AgreementSignatory, Industry, OperatingLevel, PartnerAssociation
from schools.regions import Province
from tests import factories
from tests.schools.test_selectors import build_network

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def mechanical():
    """The seed's School of Mechanical Industry, its partner, agreement and the BAIC centre."""
    school = factories.IndustrySchoolFactory(
        slug="mechanical",
        name_en="School of Mechanical Industry",
        name_zh="机械行业学院",
        industry=Industry.MECHANICAL,
    )
    association = factories.PartnerAssociationFactory(
        slug="miedc",
        name_en="Mechanical Industries Education Development Centre",
        name_zh="机械工业教育发展中心",
        kind=PartnerAssociation.Kind.PUBLIC_INSTITUTION,
    )
    agreement = factories.CooperationAgreementFactory(
        code="ouc-miedc-2013",
        school=school,
        association=association,
        title_en="Agreement on the School of Mechanical Industry",
    )
    factories.AgreementSignatoryFactory(
        agreement=agreement,
        side=AgreementSignatory.Side.OUC,
        name_en="Yang Zhijian",
        title_en="President of the Open University of China",
    )
    factories.AgreementSignatoryFactory(
        agreement=agreement, name_en="Chen Xiaoming", title_en="Director"
    )
    branch = factories.LearningCentreFactory(
        code="ouc-beijing",
        name_en="OUC Beijing Experimental School",
        kind="branch",
        level=OperatingLevel.PROVINCIAL,
    )
    centre = factories.LearningCentreFactory(
        code="baic",
        name_en="BAIC Learning Centre",
        name_zh="北汽学习中心",
        host_en="Beijing Automotive Industrial Company",
        operator_en="Beijing Automotive Education Investment Co. Ltd.",
        parent=branch,
        opened_on=datetime.date(2015, 3, 1),
    )
    centre.schools.add(school)
    factories.CooperationAgreementFactory(
        code="baic-2014",
        school=None,
        learning_centre=centre,
        association=factories.PartnerAssociationFactory(slug="baic", name_en="BAIC Group"),
        signed_on=datetime.date(2014, 12, 25),
        title_en="Agreement to set up the BAIC Learning Centre",
    )
    return school


# --- Pages and their content ------------------------------------------------------------------


def test_home_shows_the_network_at_a_glance(english, mechanical):
    factories.IndustrySchoolFactory(slug="coal", name_en="School of Coal Industry", industry="coal")

    response = english.get(reverse("schools:home"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "School of Mechanical Industry" in html
    assert "School of Coal Industry" in html
    assert mechanical.get_absolute_url() in html
    assert "Mechanical industries" in html  # the industry
    assert "Nov. 26, 2013" in html  # founded
    assert "credit bank" in html.lower()
    assert "Four-level operation" in html
    counts = response.context["counts"]
    assert (counts.schools, counts.associations, counts.agreements, counts.centres) == (2, 2, 2, 2)
    # Centres by level: every level, linked to the filtered list.
    assert reverse("schools:centre_list") + "?level=county" in html
    assert [row.count for row in counts.centres_by_level] == [0, 1, 1, 0]


def test_home_shows_the_graduates_total_in_the_active_language(client, monkeypatch):
    facts = {"graduates_total": "20.31 million", "graduates_total_zh": "2031万"}
    monkeypatch.setattr("schools.views.network_facts", lambda: facts)

    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    assert "educated and graduated 20.31 million people" in english
    assert "2031万" in chinese


def test_home_works_when_the_facts_file_is_unreadable(english, monkeypatch):
    def broken():
        raise OSError("no such file")

    monkeypatch.setattr("schools.views.network_facts", broken)
    response = english.get("/")
    assert response.status_code == 200
    assert "educated and graduated" not in response.content.decode()


def test_home_on_an_empty_network_says_so(english):
    response = english.get("/")
    assert response.status_code == 200
    assert "No industry schools have been recorded yet." in response.content.decode()


def test_school_list(english, mechanical):
    response = english.get(reverse("schools:school_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "School of Mechanical Industry" in html
    assert "Mechanical Industries Education Development Centre" in html  # run with


def test_school_detail_shows_partners_agreements_signatories_and_centres(english, mechanical):
    response = english.get(mechanical.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>School of Mechanical Industry</h1>" in html
    assert 'lang="zh-hans">机械行业学院' in html  # the other language's name, marked as such
    assert reverse("schools:association_detail", kwargs={"slug": "miedc"}) in html
    assert "Agreement on the School of Mechanical Industry" in html
    assert "Nov. 26, 2013" in html
    assert "For the Open University of China" in html
    assert "Yang Zhijian" in html and "President of the Open University of China" in html
    assert "For Mechanical Industries Education Development Centre" in html
    assert "Chen Xiaoming" in html and "Director" in html
    assert 'href="/centres/baic/"' in html


def test_association_list_and_detail(english, mechanical):
    response = english.get(reverse("schools:association_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Mechanical Industries Education Development Centre" in html
    assert "Public institution" in html

    response = english.get(reverse("schools:association_detail", kwargs={"slug": "miedc"}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "School of Mechanical Industry" in html  # the school it co-runs
    assert mechanical.get_absolute_url() in html
    assert "Agreement on the School of Mechanical Industry" in html
    assert "Chen Xiaoming" in html


def test_association_of_a_centre_lists_the_centre(english, mechanical):
    response = english.get(reverse("schools:association_detail", kwargs={"slug": "baic"}))
    html = response.content.decode()
    assert 'href="/centres/baic/"' in html
    assert "Dec. 25, 2014" in html
    assert "This partner does not co-run an industry school." in html


def test_centre_detail_shows_host_operator_parent_children_schools_agreements(english, mechanical):
    response = english.get(reverse("schools:centre_detail", kwargs={"code": "baic"}))

    assert response.status_code == 200
    html = response.content.decode()
    assert "BAIC Learning Centre" in html
    assert "Beijing Automotive Industrial Company" in html
    assert "Beijing Automotive Education Investment Co. Ltd." in html
    assert 'href="/centres/ouc-beijing/"' in html  # parent
    assert mechanical.get_absolute_url() in html
    assert "Agreement to set up the BAIC Learning Centre" in html
    assert "March 1, 2015" in html

    parent = english.get(reverse("schools:centre_detail", kwargs={"code": "ouc-beijing"}))
    assert 'href="/centres/baic/"' in parent.content.decode()  # child


@pytest.mark.parametrize(
    "url",
    ["/schools/no-such-school/", "/associations/no-such-association/", "/centres/no-such-centre/"],
)
def test_unknown_slug_or_code_is_a_friendly_404(english, url):
    response = english.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert '<main id="main"' in html  # inside the layout
    assert reverse("schools:home") in html


def test_500_page_renders_without_a_request():
    html = get_template("500.html").render()
    assert "服务器" in html and "Sorry, something went wrong" in html
    assert "/static/css/portal.css" in html


# --- Learning centre list: filters, errors, empty state, pagination ---------------------------


@pytest.fixture
def spread():
    """One centre per level in Beijing, and one county centre in Shanghai."""
    for level in OperatingLevel.values:
        factories.LearningCentreFactory(code=f"bj-{level}", level=level, province=Province.BEIJING)
    factories.LearningCentreFactory(code="sh-county", level="county", province=Province.SHANGHAI)


def _codes(response) -> list[str]:
    return [c.code for c in response.context["centres"]]


def test_centre_list_unfiltered_lists_all_in_operating_order(english, spread):
    response = english.get(reverse("schools:centre_list"))
    assert response.status_code == 200
    assert _codes(response) == [
        "bj-national",
        "bj-provincial",
        "bj-prefectural",
        "bj-county",
        "sh-county",
    ]
    assert "Clear filters" not in response.content.decode()


def test_centre_list_filters_by_level(english, spread):
    response = english.get(reverse("schools:centre_list"), {"level": "county"})
    assert _codes(response) == ["bj-county", "sh-county"]
    assert "Clear filters" in response.content.decode()


def test_centre_list_filters_by_province(english, spread):
    response = english.get(reverse("schools:centre_list"), {"province": "SH"})
    assert _codes(response) == ["sh-county"]


def test_centre_list_filters_by_level_and_province(english, spread):
    response = english.get(reverse("schools:centre_list"), {"level": "county", "province": "BJ"})
    assert _codes(response) == ["bj-county"]
    html = response.content.decode()
    assert '<option value="county" selected>' in html
    assert '<option value="BJ" selected>' in html


@pytest.mark.parametrize(
    ("params", "label", "expected"),
    [
        ({"level": "galactic"}, "Operating level", 5),
        ({"province": "ZZ"}, "Province", 5),
        ({"level": "galactic", "province": "SH"}, "Operating level", 1),
    ],
)
def test_centre_list_invalid_filter_is_explained_and_ignored(
    english, spread, params, label, expected
):
    response = english.get(reverse("schools:centre_list"), params)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "Some filters were not understood and have been ignored" in html
    assert f"<strong>{label}</strong>" in html
    assert len(_codes(response)) == expected  # the valid filters still apply


def test_centre_list_empty_state_offers_to_clear_filters(english, spread):
    response = english.get(reverse("schools:centre_list"), {"level": "national", "province": "SH"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "No centres match these filters." in html
    assert f'href="{reverse("schools:centre_list")}">clear filters</a>' in html


def test_centre_list_with_no_centres_at_all(english):
    response = english.get(reverse("schools:centre_list"))
    assert "No learning centres have been recorded yet." in response.content.decode()


def test_centre_list_paginates_25_a_page_and_keeps_filters(english):
    for i in range(30):
        factories.LearningCentreFactory(code=f"c-{i:02}", level="county", province=Province.BEIJING)
    factories.LearningCentreFactory(code="elsewhere", level="national", province=Province.HEBEI)
    url = reverse("schools:centre_list")

    first = english.get(url, {"level": "county"})
    assert len(_codes(first)) == 25
    html = first.content.decode()
    assert "Showing 1–25 of 30 centres" in html
    assert 'href="?level=county&amp;page=2"' in html
    assert "Page 1 of 2" in html

    second = english.get(url, {"level": "county", "page": 2})
    assert len(_codes(second)) == 5
    assert 'href="?level=county&amp;page=1"' in second.content.decode()


@pytest.mark.parametrize("page", ["abc", "0", "999"])
def test_centre_list_odd_page_numbers_do_not_fail(english, spread, page):
    response = english.get(reverse("schools:centre_list"), {"page": page})
    assert response.status_code == 200
    assert response.context["centres"]


# --- Languages ----------------------------------------------------------------------------------


def _html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def test_language_switch_to_english_then_to_chinese(client, mechanical):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"

    response = client.get("/")
    assert _html_lang(response) == "en"
    html = response.content.decode()
    assert "Industry schools of the Open University of China" in html
    assert "School of Mechanical Industry" in html

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    response = client.get("/")
    assert _html_lang(response) == "zh-hans"
    html = response.content.decode()
    assert "机械行业学院" in html  # names follow the language
    assert '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>' in html


def test_language_switch_returns_to_the_page_it_was_used_on(client, mechanical):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/centres/?level=county"})
    assert response["Location"] == "/centres/?level=county"


@pytest.mark.parametrize(
    ("accept", "lang"), [("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9", "zh-hans")]
)
def test_accept_language_picks_the_language(client, mechanical, accept, lang):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert _html_lang(response) == lang


def test_chinese_detail_page_shows_chinese_name_first(client, mechanical):
    response = client.get(mechanical.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-CN")
    html = response.content.decode()
    assert "<h1>机械行业学院</h1>" in html
    assert 'lang="en">School of Mechanical Industry' in html


# --- Layout and accessibility -------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict]]:
    parser = _Collector()
    parser.feed(html)
    return parser.tags


def test_layout_has_viewport_skip_link_landmarks_and_local_assets(english):
    html = english.get("/").content.decode()
    tags = _tags(html)
    names = [t for t, _ in tags]

    assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) in tags
    assert ("a", {"class": "skip-link", "href": "#main"}) in tags
    assert {"header", "nav", "main", "footer"} <= set(names)
    assert any(t == "main" and a.get("id") == "main" for t, a in tags)
    assert ("link", {"rel": "stylesheet", "href": "/static/css/portal.css"}) in tags
    # No CDN, no web fonts: every script and stylesheet is served from /static/.
    for tag, attrs in tags:
        if tag == "script" and "src" in attrs:
            assert attrs["src"].startswith("/static/")
        if tag == "link" and attrs.get("rel") == "stylesheet":
            assert attrs["href"].startswith("/static/")


def test_language_switch_is_a_plain_form_on_every_page(english, mechanical):
    for url in ["/", "/schools/", mechanical.get_absolute_url(), "/centres/", "/accounts/login/"]:
        html = english.get(url).content.decode()
        tags = _tags(html)
        assert (
            "form",
            {"class": "lang-switch", "method": "post", "action": "/i18n/setlang/"},
        ) in tags, url
        assert any(
            t == "input" and a.get("name") == "next" and a.get("value") == url for t, a in tags
        )
        assert '<label for="lang-switch-language">' in html


def test_every_control_on_the_centre_list_has_a_label(english, spread):
    html = english.get(reverse("schools:centre_list"), {"level": "county"}).content.decode()
    tags = _tags(html)
    labelled = {a["for"] for t, a in tags if t == "label" and "for" in a}
    controls = [
        a
        for t, a in tags
        if t in {"input", "select", "textarea"} and a.get("type") not in {"hidden", "submit"}
    ]
    assert {c.get("name") for c in controls} >= {"level", "province", "language"}
    for control in controls:
        assert control.get("id") in labelled, control


def test_account_links_for_visitor_and_for_a_signed_in_person(client, english, cast):
    html = english.get("/").content.decode()
    assert reverse("account_login") in html and reverse("account_signup") in html

    english.force_login(cast.learner)
    html = english.get("/").content.decode()
    assert "learner@example.org" in html
    assert f'action="{reverse("account_logout")}"' in html
    assert reverse("account_login") not in html


def test_allauth_pages_render_inside_the_portal_layout(english):
    response = english.get(reverse("account_login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<main id="main"' in html and 'class="skip-link"' in html
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert " ".join(title.split()) == "Sign In · OUC Industry Schools"
    assert 'name="password"' in html


def test_allauth_account_and_mfa_pages_render_inside_the_layout(english, cast):
    english.force_login(cast.learner)
    for name in ["mfa_index", "account_email", "account_change_password"]:
        response = english.get(reverse(name))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert '<main id="main"' in html, name
        assert 'aria-label="Your account"' in html, name
        assert f'href="{reverse(name)}" aria-current="page"' in html, name


def test_current_section_is_marked_in_the_main_nav(english, mechanical):
    html = english.get(reverse("schools:school_list")).content.decode()
    assert 'href="/schools/" aria-current="page"' in html
    html = english.get(mechanical.get_absolute_url()).content.decode()
    assert 'href="/schools/" class="is-section"' in html


# --- Query counts: constant whatever the number of rows ---------------------------------------


PAGES = {
    "home": lambda net: reverse("schools:home"),
    "school_list": lambda net: reverse("schools:school_list"),
    "school_detail": lambda net: net.school.get_absolute_url(),
    "association_list": lambda net: reverse("schools:association_list"),
    "association_detail": lambda net: net.association.get_absolute_url(),
    "centre_list": lambda net: reverse("schools:centre_list"),
    "centre_list_filtered": lambda net: (
        reverse("schools:centre_list") + "?level=prefectural&province=GD"
    ),
    "centre_detail": lambda net: net.centre.get_absolute_url(),
}
# The measured counts, as a ceiling: a new query on a page should be a decision, not an accident.
QUERY_BUDGET = {
    "home": 6,
    "school_list": 2,
    "school_detail": 4,
    "association_list": 2,
    "association_detail": 3,
    "centre_list": 3,
    "centre_list_filtered": 3,
    "centre_detail": 5,
}


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_costs_the_same_queries_with_3_and_60_rows(english, page):
    small = _count_queries(english, PAGES[page](build_network(3, prefix="small")))
    # The lists now grow by 60 more of everything; the detail pages are the big hub's.
    large = _count_queries(english, PAGES[page](build_network(60, prefix="large")))

    assert small == large, f"{page}: {small} queries with 3 rows, {large} with 60"
    assert large <= QUERY_BUDGET[page], f"{page}: {large} queries, budget {QUERY_BUDGET[page]}"
