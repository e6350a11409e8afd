"""Shapes of enrolment data in the API. No workflow here: writes go through enrolment.services."""

from __future__ import annotations

from rest_framework import serializers

from enrolment.models import (
    Course,
    CourseResult,
    Enrolment,
    EnrolmentStatusChange,
    GroupCourse,
    Intake,
    Programme,
    RequirementGroup,
)
from ouc_portal.validators import MULTI_LINE, PlainTextSerializerMixin


class CourseSerializer(serializers.ModelSerializer):
    school = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Course
        fields = ["code", "school", "name_en", "name_zh", "credits", "study_hours", "level", "description_en", "description_zh"]


class GroupCourseSerializer(serializers.ModelSerializer):
    course = CourseSerializer()

    class Meta:
        model = GroupCourse
        fields = ["course"]


class RequirementGroupSerializer(serializers.ModelSerializer):
    courses = GroupCourseSerializer(source="memberships", many=True)

    class Meta:
        model = RequirementGroup
        fields = ["name_en", "name_zh", "kind", "min_credits", "courses"]


class IntakeSerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    centre = serializers.SlugRelatedField(slug_field="code", read_only=True)
    seats_left = serializers.SerializerMethodField()
    waitlisted = serializers.IntegerField(read_only=True)

    class Meta:
        model = Intake
        fields = [
            "public_id", "programme", "year", "season", "centre", "opens_at", "closes_at",
            "starts_on", "capacity", "seats_left", "waitlisted", "requires_approval",
        ]

    def get_seats_left(self, intake: Intake) -> int:
        return max(intake.capacity - intake.seats_taken, 0)


class ProgrammeSerializer(serializers.ModelSerializer):
    school = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    open_now = serializers.BooleanField(source="is_open", read_only=True)

    class Meta:
        model = Programme
        fields = [
            "slug", "code", "school", "name_en", "name_zh", "kind", "qf_level", "total_credits",
            "duration_months", "delivery_mode", "open_now",
        ]


class ProgrammeDetailSerializer(ProgrammeSerializer):
    groups = RequirementGroupSerializer(many=True)
    intakes = IntakeSerializer(many=True)

    class Meta(ProgrammeSerializer.Meta):
        fields = [
            f for f in ProgrammeSerializer.Meta.fields if f != "open_now"
        ] + [
            "description_en", "description_zh", "outcomes_en", "outcomes_zh",
            "entry_requirements_en", "entry_requirements_zh", "groups", "intakes",
        ]


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = EnrolmentStatusChange
        fields = ["from_status", "to_status", "reason", "at"]


class ResultSerializer(serializers.ModelSerializer):
    course = serializers.CharField(source="course.code")

    class Meta:
        model = CourseResult
        fields = ["course", "score", "grade", "passed", "assessed_on"]


class EnrolmentSerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    intake = serializers.UUIDField(source="intake.public_id", read_only=True)
    waitlist_position = serializers.IntegerField(read_only=True, allow_null=True, required=False)

    class Meta:
        model = Enrolment
        fields = ["public_id", "programme", "intake", "status", "applied_at", "status_changed_at", "waitlist_position"]


class EnrolmentDetailSerializer(EnrolmentSerializer):
    history = StatusChangeSerializer(many=True)
    results = ResultSerializer(many=True)

    class Meta(EnrolmentSerializer.Meta):
        fields = EnrolmentSerializer.Meta.fields + ["history", "results"]


class ApplySerializer(PlainTextSerializerMixin, serializers.Serializer):
    intake = serializers.UUIDField()


class ReasonSerializer(PlainTextSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="", style=MULTI_LINE)


class StaffEnrolmentSerializer(EnrolmentSerializer):
    learner_email = serializers.EmailField(source="learner.user.email", read_only=True)
    learner_name = serializers.CharField(source="learner.legal_name", read_only=True)
    employer = serializers.CharField(source="learner.employer", read_only=True)

    class Meta(EnrolmentSerializer.Meta):
        fields = EnrolmentSerializer.Meta.fields + ["learner_email", "learner_name", "employer"]


class DecisionSerializer(PlainTextSerializerMixin, serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "reject"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="", style=MULTI_LINE)


class ResultInputSerializer(PlainTextSerializerMixin, serializers.Serializer):
    learner_email = serializers.EmailField()
    course_code = serializers.CharField(max_length=30)
    score = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
    assessed_on = serializers.DateField()
