"""The public, read-only network API under /api/v1/ and its OpenAPI schema."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from schools.models import AgreementSignatory, Industry, OperatingLevel, PartnerAssociation
from schools.regions import Province
from tests import factories
from tests.schools.test_selectors import build_network

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    coal = factories.IndustrySchoolFactory(
        slug="coal", name_en="School of Coal Industry", name_zh="煤炭学院", industry=Industry.COAL
    )
    mechanical = factories.IndustrySchoolFactory(slug="mechanical", industry=Industry.MECHANICAL)
    cnca = factories.PartnerAssociationFactory(
        slug="cnca", name_en="China National Coal Association", name_zh="中国煤炭工业协会"
    )
    baic = factories.PartnerAssociationFactory(slug="baic", kind=PartnerAssociation.Kind.ENTERPRISE)
    agreement = factories.CooperationAgreementFactory(
        code="ouc-cnca", school=coal, association=cnca, title_en="Coal school agreement"
    )
    factories.AgreementSignatoryFactory(
        agreement=agreement,
        side=AgreementSignatory.Side.OUC,
        name_en="Yang Zhijian",
        name_zh="杨志坚",
        title_en="President",
    )
    factories.AgreementSignatoryFactory(
        agreement=agreement, name_en="Wang Hongqiao", title_en="Deputy Chairman"
    )
    branch = factories.LearningCentreFactory(
        code="ouc-beijing", level=OperatingLevel.PROVINCIAL, province=Province.BEIJING
    )
    centre = factories.LearningCentreFactory(
        code="baic",
        name_zh="北汽学习中心",
        level=OperatingLevel.PREFECTURAL,
        province=Province.BEIJING,
        parent=branch,
    )
    centre.schools.add(mechanical)
    factories.CooperationAgreementFactory(
        code="baic-2014",
        school=None,
        learning_centre=centre,
        association=baic,
        signed_on=datetime.date(2014, 12, 25),
    )
    factories.LearningCentreFactory(
        code="shanghai-county", level=OperatingLevel.COUNTY, province=Province.SHANGHAI
    )


def _slugs(response, key="slug") -> list[str]:
    assert response.status_code == 200, response.content
    return [row[key] for row in response.json()["results"]]


# --- Schools ------------------------------------------------------------------------------------


def test_school_list_is_public_and_bilingual(client, network):
    response = client.get("/api/v1/schools/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    coal = next(row for row in body["results"] if row["slug"] == "coal")
    assert coal["name_en"] == "School of Coal Industry"
    assert coal["name_zh"] == "煤炭学院"
    assert coal["industry"] == "coal"
    assert coal["founded_on"] == "2013-11-26"
    assert coal["web_url"] == "/schools/coal/"


def test_school_list_filters_by_industry(client, network):
    assert _slugs(client.get("/api/v1/schools/", {"industry": "coal"})) == ["coal"]
    assert _slugs(client.get("/api/v1/schools/", {"industry": "software"})) == []


def test_school_list_rejects_an_unknown_industry(client, network):
    response = client.get("/api/v1/schools/", {"industry": "alchemy"})
    assert response.status_code == 400
    assert "industry" in response.json()


def test_school_detail_has_agreements_with_signatories_and_centres(client, network):
    response = client.get("/api/v1/schools/coal/")

    assert response.status_code == 200
    body = response.json()
    [agreement] = body["agreements"]
    assert agreement["code"] == "ouc-cnca"
    assert agreement["association"] == {
        "slug": "cnca",
        "name_en": "China National Coal Association",
        "name_zh": "中国煤炭工业协会",
    }
    assert [(s["side"], s["name_en"]) for s in agreement["signatories"]] == [
        ("ouc", "Yang Zhijian"),
        ("partner", "Wang Hongqiao"),
    ]
    assert agreement["signatories"][0]["name_zh"] == "杨志坚"

    mechanical = client.get("/api/v1/schools/mechanical/").json()
    assert [c["code"] for c in mechanical["centres"]] == ["baic"]


def test_unknown_school_is_404(client, network):
    assert client.get("/api/v1/schools/nope/").status_code == 404


def test_the_api_is_read_only(client, cast):
    client.force_login(cast.superuser)
    assert client.post("/api/v1/schools/", {"slug": "x"}).status_code == 405
    assert client.delete("/api/v1/schools/coal/").status_code == 405


# --- Associations ---------------------------------------------------------------------------------


def test_association_list_and_filters(client, network):
    assert sorted(_slugs(client.get("/api/v1/associations/"))) == ["baic", "cnca"]
    assert _slugs(client.get("/api/v1/associations/", {"kind": "enterprise"})) == ["baic"]
    assert _slugs(client.get("/api/v1/associations/", {"school": "coal"})) == ["cnca"]
    assert client.get("/api/v1/associations/", {"kind": "guild"}).status_code == 400


def test_association_detail(client, network):
    body = client.get("/api/v1/associations/baic/").json()
    [agreement] = body["agreements"]
    assert agreement["signed_on"] == "2014-12-25"
    assert agreement["school"] is None
    assert agreement["learning_centre"]["code"] == "baic"
    assert client.get("/api/v1/associations/nope/").status_code == 404


# --- Centres --------------------------------------------------------------------------------------


def test_centre_list_filters_by_level_province_kind_and_school(client, network):
    url = "/api/v1/centres/"
    assert sorted(_slugs(client.get(url), "code")) == ["baic", "ouc-beijing", "shanghai-county"]
    assert _slugs(client.get(url, {"level": "prefectural"}), "code") == ["baic"]
    assert _slugs(client.get(url, {"province": "SH"}), "code") == ["shanghai-county"]
    assert _slugs(client.get(url, {"level": "provincial", "province": "BJ"}), "code") == [
        "ouc-beijing"
    ]
    assert _slugs(client.get(url, {"school": "mechanical"}), "code") == ["baic"]
    assert _slugs(client.get(url, {"level": "county", "province": "BJ"}), "code") == []


@pytest.mark.parametrize("params", [{"level": "galactic"}, {"province": "ZZ"}, {"kind": "x"}])
def test_centre_list_rejects_invalid_filters_with_400(client, network, params):
    response = client.get("/api/v1/centres/", params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_centre_detail_has_parent_children_schools_agreements(client, network):
    body = client.get("/api/v1/centres/baic/").json()
    assert body["name_zh"] == "北汽学习中心"
    assert body["parent"] == "ouc-beijing"
    assert body["level"] == "prefectural"
    assert [s["slug"] for s in body["schools"]] == ["mechanical"]
    assert [a["code"] for a in body["agreements"]] == ["baic-2014"]

    parent = client.get("/api/v1/centres/ouc-beijing/").json()
    assert [c["code"] for c in parent["children"]] == ["baic"]
    assert client.get("/api/v1/centres/nope/").status_code == 404


def test_labels_follow_the_request_language(client, network):
    body = client.get("/api/v1/centres/baic/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["level_label"] == "Prefectural"
    assert body["province_label"] == "Beijing"


# --- Query counts -----------------------------------------------------------------------------------

ENDPOINTS = {
    "schools": lambda net: "/api/v1/schools/",
    "school": lambda net: f"/api/v1/schools/{net.school.slug}/",
    "associations": lambda net: "/api/v1/associations/",
    "association": lambda net: f"/api/v1/associations/{net.association.slug}/",
    "centres": lambda net: "/api/v1/centres/",
    "centre": lambda net: f"/api/v1/centres/{net.centre.code}/",
}


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_endpoint_costs_the_same_queries_with_3_and_60_rows(client, endpoint):
    small = _count(client, ENDPOINTS[endpoint](build_network(3, prefix="small")))
    large = _count(client, ENDPOINTS[endpoint](build_network(60, prefix="large")))
    assert small == large, f"{endpoint}: {small} queries with 3 rows, {large} with 60"


# --- OpenAPI schema ---------------------------------------------------------------------------------


def test_schema_renders_and_lists_the_network_paths(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for expected in [
        "/api/v1/schools/",
        "/api/v1/schools/{slug}/",
        "/api/v1/associations/",
        "/api/v1/associations/{slug}/",
        "/api/v1/centres/",
        "/api/v1/centres/{code}/",
    ]:
        assert expected in paths
    parameters = {p["name"] for p in paths["/api/v1/centres/"]["get"]["parameters"]}
    assert {"level", "province", "kind", "school", "page"} <= parameters


def test_schema_of_the_network_api_has_no_warnings_or_errors():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("schools.api.urls"))])
    generator.get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
