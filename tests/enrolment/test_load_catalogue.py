import datetime
import json

import pytest
from django.core.management import CommandError, call_command

from enrolment.catalogue_loader import next_term
from enrolment.models import Course, GroupCourse, Intake, Programme, RequirementGroup

pytestmark = pytest.mark.django_db


def snapshot():
    return [
        list(model.objects.order_by("pk").values())
        for model in (Course, Programme, RequirementGroup, GroupCourse, Intake)
    ]


def test_the_demo_catalogue_loads_the_seed_programmes_once(capsys):
    call_command("load_network", verbosity=0)
    call_command("load_catalogue")
    nct = Programme.objects.get(slug="numerical-control-technology")
    assert (nct.name_zh, nct.school.slug, nct.status, nct.kind) == ("数控技术", "mechanical", "published", "associate")
    seeded = {"Numerical Control Technology", "Mechatronics Technology", "Mould Design and Manufacturing"}
    assert seeded <= set(Programme.objects.filter(school__slug="mechanical").values_list("name_en", flat=True))
    # Every industry school has something to browse.
    assert Programme.objects.values("school").distinct().count() == 10
    # Seed 003: the BAIC Learning Centre's first intake, spring 2015.
    baic = Intake.objects.filter(centre__code="baic-learning-centre", year=2015, season="spring")
    assert baic.exists()
    # A programme's credits are exactly what its structure requires.
    for programme in Programme.objects.prefetch_related("groups__courses"):
        required = sum(
            sum(c.credits for c in g.courses.all()) if g.kind == "compulsory" else g.min_credits
            for g in programme.groups.all()
        )
        assert required == programme.total_credits, programme.slug

    before = snapshot()
    call_command("load_catalogue")
    assert snapshot() == before
    assert "nothing to change" in capsys.readouterr().out


def test_it_refuses_to_run_without_the_network():
    with pytest.raises(CommandError, match="load_network"):
        call_command("load_catalogue")


def test_a_broken_file_changes_nothing(tmp_path):
    call_command("load_network", verbosity=0)
    broken = tmp_path / "catalogue.json"
    broken.write_text(json.dumps({"courses": {"mechanical": [{"code": "X1"}]}, "programmes": [], "intakes": []}))
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("load_catalogue", file=broken)
    not_json = tmp_path / "nope.json"
    not_json.write_text("{")
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("load_catalogue", file=not_json)
    assert not Course.objects.exists()


@pytest.mark.parametrize(
    "today, term",
    [
        (datetime.date(2026, 11, 23), (2027, "spring")),
        (datetime.date(2027, 1, 15), (2027, "spring")),
        (datetime.date(2027, 2, 10), (2027, "autumn")),
        (datetime.date(2027, 6, 1), (2027, "autumn")),
        (datetime.date(2027, 8, 10), (2028, "spring")),
    ],
)
def test_the_next_term_is_open_now_and_starts_at_least_a_month_ahead(today, term):
    year, season, opens, closes, starts = next_term(today)
    assert (year, season) == term
    assert opens.date() < today < closes.date() < starts
    assert (starts - today).days >= 30
