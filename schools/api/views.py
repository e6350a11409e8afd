"""The network as public, read-only JSON: list and detail for schools, associations, centres."""

from __future__ import annotations

from rest_framework import viewsets
from rest_framework.permissions import AllowAny

from schools import selectors
from schools.api import serializers
from schools.api.schema import ErrorResponsesAutoSchema
from schools.filters import AssociationFilter, CentreApiFilter, SchoolFilter


class _PublicReadOnly(viewsets.ReadOnlyModelViewSet):
    """Public data: anyone may read, nobody writes here (changes go through the admin)."""

    permission_classes = [AllowAny]
    schema = ErrorResponsesAutoSchema()
    list_serializer_class: type
    detail_serializer_class: type

    def get_serializer_class(self):
        return (
            self.detail_serializer_class
            if self.action == "retrieve"
            else self.list_serializer_class
        )


class SchoolViewSet(_PublicReadOnly):
    """Industry schools of the Open University of China."""

    lookup_field = "slug"
    filterset_class = SchoolFilter
    ordering_fields = ["founded_on", "name_en", "slug"]
    list_serializer_class = serializers.SchoolSerializer
    detail_serializer_class = serializers.SchoolDetailSerializer

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.school_detail_queryset()
        return selectors.school_list_queryset()


class AssociationViewSet(_PublicReadOnly):
    """National partner associations that co-run the industry schools."""

    lookup_field = "slug"
    filterset_class = AssociationFilter
    ordering_fields = ["name_en", "slug"]
    list_serializer_class = serializers.AssociationSerializer
    detail_serializer_class = serializers.AssociationDetailSerializer

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.association_detail_queryset()
        return selectors.association_list_queryset()


class CentreViewSet(_PublicReadOnly):
    """Learning centres and teaching points, within OUC's four operating levels."""

    lookup_field = "code"
    filterset_class = CentreApiFilter
    ordering_fields = ["name_en", "code", "province", "opened_on"]
    list_serializer_class = serializers.CentreSerializer
    detail_serializer_class = serializers.CentreDetailSerializer

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.centre_detail_queryset()
        return selectors.centre_list_queryset()
