"""Read-only representations of the network. Every text comes in both languages (``_en``/``_zh``);
labels of coded values (industry, level, province) follow the request's language."""

from __future__ import annotations

from rest_framework import serializers

from schools.models import (
    AgreementSignatory,
    CooperationAgreement,
    IndustrySchool,
    LearningCentre,
    PartnerAssociation,
)


class SchoolSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = IndustrySchool
        fields = ["slug", "name_en", "name_zh"]


class AssociationSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerAssociation
        fields = ["slug", "name_en", "name_zh"]


class CentreSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = LearningCentre
        fields = ["code", "name_en", "name_zh", "level", "province"]


class SignatorySerializer(serializers.ModelSerializer):
    class Meta:
        model = AgreementSignatory
        fields = ["side", "name_en", "name_zh", "title_en", "title_zh"]


class AgreementSerializer(serializers.ModelSerializer):
    school = SchoolSummarySerializer(read_only=True, allow_null=True)
    learning_centre = CentreSummarySerializer(read_only=True, allow_null=True)
    association = AssociationSummarySerializer(read_only=True)
    signatories = SignatorySerializer(many=True, read_only=True)

    class Meta:
        model = CooperationAgreement
        fields = [
            "code",
            "signed_on",
            "title_en",
            "title_zh",
            "summary_en",
            "summary_zh",
            "school",
            "learning_centre",
            "association",
            "signatories",
        ]


class SchoolSerializer(serializers.ModelSerializer):
    industry_label = serializers.CharField(source="get_industry_display", read_only=True)
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = IndustrySchool
        fields = [
            "slug",
            "name_en",
            "name_zh",
            "industry",
            "industry_label",
            "founded_on",
            "web_url",
        ]


class SchoolDetailSerializer(SchoolSerializer):
    agreements = AgreementSerializer(many=True, read_only=True)
    centres = CentreSummarySerializer(many=True, read_only=True)

    class Meta(SchoolSerializer.Meta):
        fields = [
            *SchoolSerializer.Meta.fields,
            "description_en",
            "description_zh",
            "agreements",
            "centres",
        ]


class AssociationSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = PartnerAssociation
        fields = ["slug", "name_en", "name_zh", "kind", "kind_label", "website", "web_url"]


class AssociationDetailSerializer(AssociationSerializer):
    agreements = AgreementSerializer(many=True, read_only=True)

    class Meta(AssociationSerializer.Meta):
        fields = [
            *AssociationSerializer.Meta.fields,
            "description_en",
            "description_zh",
            "agreements",
        ]


class CentreSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    province_label = serializers.CharField(source="get_province_display", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    schools = SchoolSummarySerializer(many=True, read_only=True)
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = LearningCentre
        fields = [
            "code",
            "name_en",
            "name_zh",
            "kind",
            "kind_label",
            "level",
            "level_label",
            "province",
            "province_label",
            "city",
            "host_en",
            "host_zh",
            "operator_en",
            "operator_zh",
            "parent",
            "opened_on",
            "schools",
            "web_url",
        ]


class CentreDetailSerializer(CentreSerializer):
    children = CentreSummarySerializer(many=True, read_only=True)
    agreements = AgreementSerializer(many=True, read_only=True)

    class Meta(CentreSerializer.Meta):
        fields = [
            *CentreSerializer.Meta.fields,
            "description_en",
            "description_zh",
            "children",
            "agreements",
        ]
