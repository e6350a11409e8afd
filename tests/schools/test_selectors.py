"""Reads of the network, and the network builder the view and API tests share.

``build_network(size)`` makes a network shaped so every public page shows ``size`` related rows;
the query-count tests build it with 3 and with 60 and compare: a page whose query count grows with
the rows has an N+1 somewhere.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from schools import selectors
from schools.models import AgreementSignatory, OperatingLevel
from schools.regions import Province
from tests import factories

LEVELS = list(OperatingLevel.values)
PROVINCES = [Province.BEIJING, Province.SHANGHAI, Province.GUANGDONG]


@dataclass
class Network:
    school: object  # the hub school: `size` agreements and `size` centres
    association: object  # the hub association: `size` agreements with `size` schools
    centre: object  # the hub centre: `size` children, schools and agreements


def build_network(size: int, prefix: str = "hub") -> Network:
    hub_school = factories.IndustrySchoolFactory(slug=f"{prefix}-school")
    hub_association = factories.PartnerAssociationFactory(slug=f"{prefix}-association")
    hub_centre = factories.LearningCentreFactory(
        code=f"{prefix}-centre", level=OperatingLevel.PROVINCIAL, province=Province.BEIJING
    )
    for i in range(size):
        school = factories.IndustrySchoolFactory()
        association = factories.PartnerAssociationFactory()
        agreements = [
            factories.CooperationAgreementFactory(school=hub_school, association=association),
            factories.CooperationAgreementFactory(school=school, association=hub_association),
            factories.CooperationAgreementFactory(
                school=None, learning_centre=hub_centre, association=association
            ),
        ]
        for agreement in agreements:
            factories.AgreementSignatoryFactory(
                agreement=agreement, side=AgreementSignatory.Side.OUC, title_en="President"
            )
            factories.AgreementSignatoryFactory(agreement=agreement)
        centre = factories.LearningCentreFactory(
            parent=hub_centre, level=LEVELS[i % 4], province=PROVINCES[i % 3]
        )
        centre.schools.add(hub_school, school)
        hub_centre.schools.add(school)
    return Network(school=hub_school, association=hub_association, centre=hub_centre)


pytestmark = pytest.mark.django_db


def test_network_counts_lists_every_level_in_operating_order():
    factories.LearningCentreFactory(level=OperatingLevel.COUNTY)
    factories.LearningCentreFactory(level=OperatingLevel.COUNTY)
    factories.LearningCentreFactory(level=OperatingLevel.NATIONAL)
    factories.CooperationAgreementFactory()

    counts = selectors.network_counts()

    assert counts.schools == 1
    assert counts.associations == 1
    assert counts.agreements == 1
    assert counts.centres == 3
    assert [(row.level, row.count) for row in counts.centres_by_level] == [
        ("national", 1),
        ("provincial", 0),
        ("prefectural", 0),
        ("county", 2),
    ]


def test_network_counts_costs_four_queries(django_assert_num_queries):
    build_network(3)
    with django_assert_num_queries(4):
        selectors.network_counts()


def test_school_list_in_founding_order_with_partners_once_each():
    later = factories.IndustrySchoolFactory(slug="later", founded_on=datetime.date(2020, 1, 1))
    first = factories.IndustrySchoolFactory(slug="first")
    association = factories.PartnerAssociationFactory()
    factories.CooperationAgreementFactory(school=first, association=association)
    factories.CooperationAgreementFactory(school=first, association=association)
    factories.LearningCentreFactory().schools.add(first)

    schools = selectors.school_list()

    assert [s.slug for s in schools] == ["first", "later"]
    assert schools[0].partners == [association]
    assert schools[0].centre_count == 1
    assert later.pk == schools[1].pk and schools[1].partners == []


def test_association_list_gives_schools_and_centres_it_co_runs():
    association = factories.PartnerAssociationFactory()
    school = factories.IndustrySchoolFactory()
    centre = factories.LearningCentreFactory()
    factories.CooperationAgreementFactory(school=school, association=association)
    factories.CooperationAgreementFactory(school=school, association=association)
    factories.CooperationAgreementFactory(
        school=None, learning_centre=centre, association=association
    )

    [listed] = selectors.association_list()

    assert listed.schools == [school]
    assert listed.centres == [centre]


def test_centres_are_listed_national_first_then_down_to_county():
    for level in ["county", "prefectural", "national", "provincial"]:
        factories.LearningCentreFactory(code=level, level=level, province=Province.BEIJING)

    codes = [c.code for c in selectors.centre_list_queryset()]

    assert codes == ["national", "provincial", "prefectural", "county"]


def test_agreement_signatories_come_ouc_side_first():
    agreement = factories.CooperationAgreementFactory()
    factories.AgreementSignatoryFactory(agreement=agreement, side="partner", name_en="Partner")
    factories.AgreementSignatoryFactory(agreement=agreement, side="ouc", name_en="President")

    [loaded] = selectors.agreement_queryset().filter(pk=agreement.pk)

    assert [s.side for s in loaded.signatories.all()] == ["ouc", "partner"]


def _touch_agreements(agreements) -> list:
    return [
        (a.school, a.learning_centre, a.association, list(a.signatories.all())) for a in agreements
    ]


def test_school_pages_reads_are_complete_up_front(django_assert_num_queries):
    """Touching every related row a page shows costs nothing once the selector has run."""
    net = build_network(3)
    schools = selectors.school_list()
    [school] = selectors.with_partners([selectors.school_detail_queryset().get(pk=net.school.pk)])
    with django_assert_num_queries(0):
        for listed in schools:
            [a.association for a in listed.agreements.all()]  # noqa: B018
        _touch_agreements(school.agreements.all())
        [centre.parent for centre in school.centres.all()]  # noqa: B018
    assert len(school.partners) == 3 and len(school.centres.all()) == 3


def test_association_pages_reads_are_complete_up_front(django_assert_num_queries):
    net = build_network(3)
    associations = selectors.association_list()
    [association] = selectors.with_partnered(
        [selectors.association_detail_queryset().get(pk=net.association.pk)]
    )
    with django_assert_num_queries(0):
        for listed in associations:
            [(a.school, a.learning_centre) for a in listed.agreements.all()]  # noqa: B018
        _touch_agreements(association.agreements.all())
    assert len(association.schools) == 3


def test_centre_pages_reads_are_complete_up_front(django_assert_num_queries):
    net = build_network(3)
    centres = list(selectors.centre_list_queryset())
    centre = selectors.centre_detail_queryset().get(pk=net.centre.pk)
    with django_assert_num_queries(0):
        for listed in centres:
            (listed.parent, list(listed.schools.all()))  # noqa: B018
        (centre.parent, list(centre.children.all()), list(centre.schools.all()))  # noqa: B018
        _touch_agreements(centre.agreements.all())
    assert len(centre.children.all()) == 3 and len(centre.agreements.all()) == 3
