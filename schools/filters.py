"""Filters shared by the pages and the API (django-filter).

An invalid value never filters silently: the page shows the form's error and ignores that filter,
the API answers 400 naming the parameter.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from schools.models import (
    Industry,
    IndustrySchool,
    LearningCentre,
    OperatingLevel,
    PartnerAssociation,
)
from schools.regions import Province


class CentreFilter(django_filters.FilterSet):
    """The learning-centre list page: where a learner can study, by level and by province."""

    level = django_filters.ChoiceFilter(
        label=_("Operating level"), choices=OperatingLevel.choices, empty_label=_("Any level")
    )
    province = django_filters.ChoiceFilter(
        label=_("Province"), choices=Province.choices, empty_label=_("Any province")
    )

    class Meta:
        model = LearningCentre
        fields = ["level", "province"]

    @property
    def is_filtering(self) -> bool:
        """Whether the visitor asked for any filter (valid or not)."""
        return self.is_bound and any(self.data.get(name) for name in self.filters)


class CentreApiFilter(CentreFilter):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=LearningCentre.Kind.choices)
    school = django_filters.CharFilter(
        label=_("Industry school (slug)"), field_name="schools__slug", distinct=True
    )

    class Meta(CentreFilter.Meta):
        fields = ["level", "province", "kind", "school"]


class SchoolFilter(django_filters.FilterSet):
    industry = django_filters.ChoiceFilter(label=_("Industry"), choices=Industry.choices)

    class Meta:
        model = IndustrySchool
        fields = ["industry"]


class AssociationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=PartnerAssociation.Kind.choices)
    school = django_filters.CharFilter(
        label=_("Industry school (slug)"), field_name="agreements__school__slug", distinct=True
    )

    class Meta:
        model = PartnerAssociation
        fields = ["kind", "school"]
