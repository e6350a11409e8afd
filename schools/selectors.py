"""Reads of the network that the pages and the API share.

Every queryset here joins or prefetches the related rows its page shows, so a page costs the same
number of queries whether the network has three rows or three thousand. Views call these and add
nothing but ``get_object_or_404`` and pagination.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Prefetch, QuerySet, Value, When

from schools.models import (
    AgreementSignatory,
    CooperationAgreement,
    IndustrySchool,
    LearningCentre,
    OperatingLevel,
    PartnerAssociation,
)

# OUC's "four-level operation" runs from the national level down to the county; listings follow
# that order rather than the alphabetical order of the stored values.
LEVEL_RANK = Case(
    *[When(level=value, then=Value(rank)) for rank, value in enumerate(OperatingLevel.values)],
    default=Value(len(OperatingLevel.values)),
    output_field=IntegerField(),
)


def _unique(items: Iterable) -> list:
    seen: set[int] = set()
    unique = []
    for item in items:
        if item is not None and item.pk not in seen:
            seen.add(item.pk)
            unique.append(item)
    return unique


def agreement_queryset() -> QuerySet[CooperationAgreement]:
    """Agreements with both parties and every signatory (OUC side first, then the partner's)."""
    return CooperationAgreement.objects.select_related(
        "school", "learning_centre", "association"
    ).prefetch_related(
        Prefetch(
            "signatories",
            queryset=AgreementSignatory.objects.order_by("side", "position", "name_en"),
        )
    )


def _centres_in_operating_order() -> QuerySet[LearningCentre]:
    return LearningCentre.objects.annotate(level_rank=LEVEL_RANK).order_by(
        "level_rank", "province", "name_en"
    )


# --- Industry schools ---------------------------------------------------------------------------


def school_list_queryset() -> QuerySet[IndustrySchool]:
    # An aggregate drops Meta.ordering (GROUP BY queries are unordered), so order explicitly.
    return (
        IndustrySchool.objects.annotate(centre_count=Count("centres", distinct=True))
        .order_by("founded_on", "slug")
        .prefetch_related(
            Prefetch(
                "agreements",
                queryset=CooperationAgreement.objects.select_related("association"),
            )
        )
    )


def school_detail_queryset() -> QuerySet[IndustrySchool]:
    return IndustrySchool.objects.prefetch_related(
        Prefetch("agreements", queryset=agreement_queryset()),
        Prefetch("centres", queryset=_centres_in_operating_order().select_related("parent")),
    )


def with_partners(schools: Iterable[IndustrySchool]) -> list[IndustrySchool]:
    """Give each school ``partners``: the associations it runs with, once each.

    Expects ``agreements`` (with their association) to be prefetched, as both school querysets do.
    """
    schools = list(schools)
    for school in schools:
        school.partners = _unique(a.association for a in school.agreements.all())
    return schools


def school_list() -> list[IndustrySchool]:
    return with_partners(school_list_queryset())


# --- Partner associations ----------------------------------------------------------------------


def association_list_queryset() -> QuerySet[PartnerAssociation]:
    return PartnerAssociation.objects.prefetch_related(
        Prefetch(
            "agreements",
            queryset=CooperationAgreement.objects.select_related("school", "learning_centre"),
        )
    )


def association_detail_queryset() -> QuerySet[PartnerAssociation]:
    return PartnerAssociation.objects.prefetch_related(
        Prefetch("agreements", queryset=agreement_queryset())
    )


def with_partnered(associations: Iterable[PartnerAssociation]) -> list[PartnerAssociation]:
    """Give each association ``schools`` and ``centres``: what it co-runs, through its agreements."""
    associations = list(associations)
    for association in associations:
        agreements = association.agreements.all()
        association.schools = _unique(a.school for a in agreements)
        association.centres = _unique(a.learning_centre for a in agreements)
    return associations


def association_list() -> list[PartnerAssociation]:
    return with_partnered(association_list_queryset())


# --- Learning centres ---------------------------------------------------------------------------


def centre_list_queryset() -> QuerySet[LearningCentre]:
    return (
        _centres_in_operating_order()
        .select_related("parent")
        .prefetch_related(
            Prefetch("schools", queryset=IndustrySchool.objects.order_by("founded_on", "slug"))
        )
    )


def centre_detail_queryset() -> QuerySet[LearningCentre]:
    return LearningCentre.objects.select_related("parent").prefetch_related(
        Prefetch("children", queryset=_centres_in_operating_order()),
        "schools",
        Prefetch("agreements", queryset=agreement_queryset()),
    )


# --- The network at a glance ----------------------------------------------------------------------


@dataclass(frozen=True)
class LevelCount:
    level: str
    label: str
    count: int


@dataclass(frozen=True)
class NetworkCounts:
    schools: int
    associations: int
    agreements: int
    centres: int
    centres_by_level: list[LevelCount]


def network_counts() -> NetworkCounts:
    """How big the network is: four queries, whatever its size."""
    by_level = dict(
        LearningCentre.objects.order_by()
        .values_list("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    )
    return NetworkCounts(
        schools=IndustrySchool.objects.count(),
        associations=PartnerAssociation.objects.count(),
        agreements=CooperationAgreement.objects.count(),
        centres=sum(by_level.values()),
        # Every level is listed, an empty one with 0: the four levels are the structure itself.
        centres_by_level=[
            LevelCount(level=level.value, label=level.label, count=by_level.get(level.value, 0))
            for level in OperatingLevel
        ],
    )
