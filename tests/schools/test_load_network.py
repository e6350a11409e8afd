"""``manage.py load_network``: the real network from the seeds, loaded once however often it runs,
and a bad data file refused whole."""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from schools.models import (
    AgreementSignatory,
    CooperationAgreement,
    Industry,
    IndustrySchool,
    LearningCentre,
    OperatingLevel,
    PartnerAssociation,
)
from schools.network import network_data, network_facts

pytestmark = pytest.mark.django_db

OPENING = datetime.date(2013, 11, 26)

# Seed 000, in its own order: (school slug, partner, representative, title as the seed gives it).
SIGNED_2013 = [
    ("coal", "China National Coal Association", "Wang Hongqiao",
     "Deputy Chairman of China National Coal Association"),
    ("social-work", "China Association of Social Workers", "Zhao Pengqi",
     "Deputy Chairman of China Association of Social Workers"),
    ("logistics", "China Federation of Logistics and Purchasing", "Ren Haoxiang",
     "Deputy Chairman of China Federation of Logistics and Purchasing"),
    ("textiles", "China Textile Engineering Society", "Wang Zhulin",
     "Deputy Director of China Textile Engineering Society"),
    ("mechanical", "Education Development Center of Mechanical Industry", "Chen Xiaoming",
     "Director of Education Development Center of Mechanical Industry"),
    ("automobile-repair", "China Association of Automobile Maintenance Industry", "Sun Shouren",
     "Chairman of China Association of Automobile Maintenance Industry"),
    ("automobile-repair", "China's Automobile Culture Promotion Association", "Shen Chongming",
     "Chairman of China's Automobile Culture Promotion Association"),
    ("automobile-repair", "Beijing China and Germany Combined Technology Training Center",
     "Wu Tianren", "Director of Beijing China and Germany Combined Technology Training Center"),
    ("casting", "China Foundry Association", "Zhang Libo",
     "Deputy Executive Director of the China Foundry Association"),
    ("information-security",
     "Ministry of Public Security Information Security Rank Protection Assessment Center",
     "Zhou ZuoYing",
     "Deputy Director of the Ministry of Public Security Information Security rank protection "
     "assessment center"),
    ("information-security", "Beijing Excellence International Education Co. LTD", "Wang Yingbin",
     "Chairman of Beijing Excellence International Education Co. LTD"),
    ("circular-economy", "China Resources Recycling Association", "Liu Jianmin",
     "Chairman of China Resources Recycling Association"),
    ("software", "China Software Industry Association", "Xu Lei",
     "Deputy Director of China Software Industry Association"),
]  # fmt: skip

TABLES = [
    IndustrySchool,
    PartnerAssociation,
    LearningCentre,
    LearningCentre.schools.through,
    CooperationAgreement,
    AgreementSignatory,
]


def snapshot() -> dict[str, list[dict]]:
    """Every row of every network table, every column (timestamps included)."""
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in TABLES}


def row_count() -> int:
    return sum(model.objects.count() for model in TABLES)


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_network", *args, stdout=out)
    return out.getvalue()


def write(tmp_path, data, name: str = "network.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def loaded() -> str:
    return load()


def test_the_ten_industry_schools_of_2013(loaded):
    schools = {school.slug: school for school in IndustrySchool.objects.all()}

    assert len(schools) == 10
    assert {school.industry for school in schools.values()} == set(Industry.values)
    assert {school.founded_on for school in schools.values()} == {OPENING}
    assert schools["coal"].name_en == "OUC School of Coal Industry"
    assert schools["coal"].name_zh == "国家开放大学煤炭学院"
    assert schools["mechanical"].name_en == "OUC School of Mechanical Industry"
    assert schools["mechanical"].name_zh == "国家开放大学机械学院"
    assert all(school.description_en and school.description_zh for school in schools.values())
    # Seed 004's story of the mechanical school, in both languages.
    mechanical = schools["mechanical"]
    for fact in ("2005", "Numerical Control Technology", "Mechatronics",
                 "Mould Design and Manufacturing", "dual leadership", "management committee"):  # fmt: skip
        assert fact in mechanical.description_en
    for fact in ("2005", "数控技术", "机电一体化", "模具设计与制造", "双重领导", "管理委员会"):
        assert fact in mechanical.description_zh


def test_partners_and_their_2013_agreements_follow_the_signing_order(loaded):
    signed = CooperationAgreement.objects.filter(signed_on=OPENING).select_related(
        "school", "association"
    )
    assert signed.count() == 13
    assert PartnerAssociation.objects.filter(agreements__signed_on=OPENING).distinct().count() == 13
    assert PartnerAssociation.objects.count() == 14  # and BAIC

    for slug, partner, representative, title in SIGNED_2013:
        agreement = signed.get(association__name_en=partner)
        assert agreement.school.slug == slug, partner
        assert agreement.learning_centre is None
        by_side = {s.side: s for s in agreement.signatories.all()}
        assert set(by_side) == {"ouc", "partner"}
        assert (by_side["partner"].name_en, by_side["partner"].title_en) == (representative, title)
        ouc = by_side["ouc"]
        assert (ouc.name_en, ouc.name_zh) == ("Yang Zhijian", "杨志坚")
        assert (ouc.title_en, ouc.title_zh) == (
            "President of the Open University of China",
            "国家开放大学校长",
        )
        assert "Ten industry schools open in Beijing (OUC news, 2013)" in agreement.source


def test_named_facts(loaded):
    wang = AgreementSignatory.objects.get(name_en="Wang Hongqiao")
    assert wang.side == AgreementSignatory.Side.PARTNER
    assert wang.title_en == "Deputy Chairman of China National Coal Association"
    assert wang.agreement.association.name_zh == "中国煤炭工业协会"
    assert AgreementSignatory.objects.filter(name_en="Yang Zhijian", side="ouc").count() == 13
    assert AgreementSignatory.objects.count() == 26

    mechanical_centre = PartnerAssociation.objects.get(
        name_en="Education Development Center of Mechanical Industry"
    )
    assert mechanical_centre.kind == PartnerAssociation.Kind.PUBLIC_INSTITUTION
    assert "Mechanical Industries Education Development Centre" in mechanical_centre.description_en
    assert mechanical_centre.agreements.get().school.slug == "mechanical"
    # No website is invented: the seeds give none.
    assert not PartnerAssociation.objects.exclude(website="").exists()


def test_baic_learning_centre_and_its_agreement(loaded):
    baic = PartnerAssociation.objects.get(slug="baic")
    assert baic.kind == PartnerAssociation.Kind.ENTERPRISE
    assert baic.name_zh == "北京汽车集团有限公司"

    agreement = CooperationAgreement.objects.get(association=baic)
    assert agreement.signed_on == datetime.date(2014, 12, 25)
    assert agreement.school is None
    centre = agreement.learning_centre
    assert centre.name_en == "BAIC Learning Centre of the OUC Beijing Experimental School"
    assert centre.kind == LearningCentre.Kind.LEARNING_CENTRE
    assert centre.operator_en == "Beijing Automotive Education Investment Co. Ltd."
    assert centre.opened_on == datetime.date(2015, 3, 1)
    assert "spring 2015" in centre.description_en
    assert {s.slug for s in centre.schools.all()} == {"automobile-repair", "mechanical"}

    parent = centre.parent
    assert parent.name_en == "OUC Beijing Experimental School"
    assert (parent.kind, parent.level, parent.province) == ("branch", "provincial", "BJ")


def test_education_and_training_centre(loaded):
    centre = LearningCentre.objects.get(name_en="OUC Education and Training Centre")
    assert centre.kind == LearningCentre.Kind.TRAINING_CENTRE
    assert centre.level == OperatingLevel.NATIONAL
    assert centre.province == "BJ"
    assert centre.host_en == "Open University of China"
    for fact in ("Credit Bank", "Social Examination Service Centre", "2020",
                 "School of Vocational Education and Training"):  # fmt: skip
        assert fact in centre.description_en
    assert "学分银行" in centre.description_zh
    assert LearningCentre.objects.count() == 3


def test_the_command_reports_each_model(loaded):
    assert "industry schools: 10 created, 0 updated, 0 unchanged" in loaded
    assert "partner organisations: 14 created, 0 updated, 0 unchanged" in loaded
    assert "cooperation agreements: 14 created, 0 updated, 0 unchanged" in loaded
    assert "agreement signatories: 26 created, 0 updated, 0 unchanged" in loaded


def test_loading_twice_changes_nothing(loaded):
    before = snapshot()

    again = load()

    assert snapshot() == before  # updated_at included: unchanged rows are not saved
    assert " 0 created, 0 updated" in again
    assert again.count("0 created, 0 updated") == 6
    assert "industry schools: 0 created, 0 updated, 10 unchanged" in again


def test_a_changed_fact_updates_that_row_only(loaded, tmp_path):
    before = snapshot()
    data = network_data()
    data["schools"][0]["description_en"] += " Updated."

    output = load("--file", str(write(tmp_path, data)))

    assert "industry schools: 0 created, 1 updated, 9 unchanged" in output
    after = snapshot()
    changed = [
        (old, new)
        for old, new in zip(
            before["schools.IndustrySchool"], after["schools.IndustrySchool"], strict=True
        )
        if old != new
    ]
    assert len(changed) == 1
    old, new = changed[0]
    assert new["description_en"].endswith(" Updated.")
    assert new["updated_at"] > old["updated_at"]
    for label in before:
        if label != "schools.IndustrySchool":
            assert after[label] == before[label]


def test_invalid_json_is_refused_and_nothing_is_stored(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"schools": [', encoding="utf-8")

    with pytest.raises(CommandError, match=r"is not valid JSON \(line 1"):
        load("--file", str(path))

    assert row_count() == 0


def test_the_command_exits_non_zero_naming_the_problem(tmp_path, capsys, monkeypatch):
    # run_from_argv closes every connection when it ends; on PostgreSQL that would close the
    # connection holding this test's transaction.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    data = network_data()
    data["schools"][2]["industry"] = "coal-mining"
    path = write(tmp_path, data)

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "load_network", "--file", str(path)]).execute()

    assert exit_info.value.code != 0
    stderr = capsys.readouterr().err
    assert "nothing was stored" in stderr
    assert "schools[2] (slug 'logistics'): industry 'coal-mining' is not one of" in stderr
    assert row_count() == 0


def test_an_incomplete_file_is_refused_naming_every_problem(tmp_path):
    data = network_data()
    del data["schools"][0]["founded_on"]
    data["partners"][1]["kind"] = "club"
    data["centres"][2]["parent"] = "no-such-centre"
    data["agreements"][0]["signed_on"] = "26/11/2013"
    data["agreements"][1]["partner"] = "nobody"
    data["agreements"][2]["signatories"][0].pop("title_en")
    data["schools"][3]["name_zh_typo"] = "纺织"

    with pytest.raises(CommandError) as error:
        load("--file", str(write(tmp_path, data)))

    message = str(error.value)
    assert "schools[0] (slug 'coal'): missing founded_on" in message
    assert "partners[1] (slug 'china-association-of-social-workers'): kind 'club'" in message
    assert "parent 'no-such-centre' is not a centre in this file" in message
    assert "signed_on '26/11/2013' is not a date" in message
    assert "partner 'nobody' is not one of the partners in this file" in message
    assert "signatories[0]: missing title_en" in message
    assert "unknown field(s) name_zh_typo" in message
    assert row_count() == 0


def test_a_problem_found_while_saving_rolls_back_everything_before_it(tmp_path):
    # Checked only by the model (max_length), after schools, partners and centres were written.
    data = network_data()
    data["agreements"][-1]["title_en"] = "x" * 301

    with pytest.raises(
        CommandError,
        match=r"agreements\[13\] \(code 'baic-learning-centre--baic--2014'\): title_en",
    ):
        load("--file", str(write(tmp_path, data)))

    assert row_count() == 0


def test_a_refused_file_leaves_the_loaded_network_as_it_was(loaded, tmp_path):
    before = snapshot()
    data = network_data()
    data["schools"][0]["name_en"] = "Renamed"
    data["agreements"][0]["school"] = None
    data["agreements"][0].pop("learning_centre", None)

    with pytest.raises(CommandError, match="signed for a school or a learning centre"):
        load("--file", str(write(tmp_path, data)))

    assert snapshot() == before


@pytest.mark.parametrize(
    "content",
    ['["a list, not an object"]', '{"schools": []}', "{}"],
)
def test_the_wrong_shape_is_refused(tmp_path, content):
    path = tmp_path / "shape.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match="refused; nothing was stored"):
        load("--file", str(path))
    assert row_count() == 0


def test_every_record_names_its_seed(tmp_path):
    data = network_data()
    for section in ("schools", "partners", "centres", "agreements"):
        for record in data[section]:
            sources = [record["source"]] if isinstance(record["source"], str) else record["source"]
            assert sources and set(sources) <= set(data["sources"]), record
    data["schools"][0]["source"] = "999_unknown.txt"
    with pytest.raises(CommandError, match="source '999_unknown.txt' is not listed"):
        load("--file", str(write(tmp_path, data)))


def test_network_facts_for_the_home_page():
    facts = network_facts()
    assert facts["graduates_total"] == "20.31 million"
    assert facts["founded"] == "2013-11-26"
    assert facts["operating_levels"] == list(OperatingLevel.values)
    facts["graduates_total"] = "changed by a caller"
    assert network_facts()["graduates_total"] == "20.31 million"


def test_the_data_file_keeps_its_notes_and_network_block():
    data = network_data()
    assert {"schools", "partners", "centres", "agreements", "network", "sources", "notes"} <= set(
        data
    )
    assert any("signing order" in note for note in data["notes"])
