"""Enrolment API: the public catalogue, the learner's own enrolments, and the school's queue.

Refusals from the services come back as 400 with the same message the pages show. Staff endpoints
answer 404 for schools and intakes the person does not administer.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from enrolment import cache as catalogue_cache
from enrolment import selectors, services
from enrolment.api import serializers
from enrolment.forms import CatalogueForm
from enrolment.models import Course, Enrolment, EnrolmentStatus, Intake, Learner, Programme
from enrolment.results import results_import_csv
from enrolment.services import EnrolmentError
from schools.api.schema import ErrorResponsesAutoSchema
from schools.models import IndustrySchool
from schools.roles import require_school_admin

S = EnrolmentStatus
CATALOGUE_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.STR, description=description)
    for name, description in [
        ("q", "Words to search for in names and codes, Chinese or English."),
        ("school", "Industry school slug."),
        ("industry", "Industry of the school."),
        ("kind", "Programme kind."),
        ("level", "Qualification-framework level, 1-8."),
        ("delivery", "Delivery mode."),
        ("province", "Province code of an intake's learning centre."),
        ("centre", "Learning-centre code of an intake."),
        ("open_now", "true: only programmes with an intake open for application now."),
        ("sort", "name, level, credits, -credits or newest."),
    ]
]


def _refusal(exc: EnrolmentError) -> ValidationError:
    return ValidationError({"detail": exc.messages})


class ProgrammeViewSet(viewsets.ReadOnlyModelViewSet):
    """Published programmes, searched and filtered like the catalogue page."""

    permission_classes = [AllowAny]
    schema = ErrorResponsesAutoSchema()
    lookup_field = "slug"
    filter_backends: list = []
    # Anonymous requests of the list are answered whole from the cache (ouc_portal.pagecache).
    page_cache_actions = {"list": catalogue_cache.API_PROGRAMME_LIST}

    def get_serializer_class(self):
        return serializers.ProgrammeDetailSerializer if self.action == "retrieve" else serializers.ProgrammeSerializer

    @extend_schema(parameters=CATALOGUE_PARAMETERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if self.action == "retrieve":
            return Programme.objects.published()
        form = CatalogueForm(self.request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        return selectors.catalogue(form.query())

    def get_object(self):
        try:
            return selectors.programme_for_page(slug=self.kwargs["slug"])
        except Programme.DoesNotExist:
            from django.http import Http404

            raise Http404 from None


class CourseViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Courses of published programmes."""

    permission_classes = [AllowAny]
    schema = ErrorResponsesAutoSchema()
    serializer_class = serializers.CourseSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("programme", OpenApiTypes.STR, description="Programme slug."),
            OpenApiParameter("school", OpenApiTypes.STR, description="Industry school slug."),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        courses = Course.objects.filter(group_memberships__programme__status="published").select_related("school")
        if programme := self.request.query_params.get("programme"):
            courses = courses.filter(group_memberships__programme__slug=programme)
        if school := self.request.query_params.get("school"):
            courses = courses.filter(school__slug=school)
        return courses.distinct().order_by("school__slug", "code")


class IntakeViewSet(viewsets.ReadOnlyModelViewSet):
    """Intakes of published programmes, with their seats left."""

    permission_classes = [AllowAny]
    schema = ErrorResponsesAutoSchema()
    serializer_class = serializers.IntakeSerializer
    lookup_field = "public_id"
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("programme", OpenApiTypes.STR, description="Programme slug."),
            OpenApiParameter("centre", OpenApiTypes.STR, description="Learning-centre code."),
            OpenApiParameter("open_now", OpenApiTypes.BOOL, description="Only intakes open for application now."),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        intakes = selectors.intakes_with_seats(
            Intake.objects.filter(programme__status="published").select_related("programme", "centre")
        )
        params = self.request.query_params
        if programme := params.get("programme"):
            intakes = intakes.filter(programme__slug=programme)
        if centre := params.get("centre"):
            intakes = intakes.filter(centre__code=centre)
        if params.get("open_now") in {"true", "1", "on"}:
            from django.utils import timezone

            intakes = intakes.open_at(timezone.now())
        return intakes.order_by("-opens_at", "pk")


class MyEnrolmentViewSet(viewsets.ReadOnlyModelViewSet):
    """The signed-in learner's own applications and enrolments."""

    permission_classes = [IsAuthenticated]
    schema = ErrorResponsesAutoSchema()
    lookup_field = "public_id"
    filter_backends: list = []

    def _learner(self) -> Learner | None:
        # Read only: a signed-in person without a learner record has no enrolments (an empty
        # list, a 404 for one), and applying needs a finished profile, which makes the record.
        return selectors.learner_of(self.request.user)

    def get_serializer_class(self):
        return serializers.EnrolmentDetailSerializer if self.action == "retrieve" else serializers.EnrolmentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Enrolment.objects.none()
        learner = self._learner()
        if learner is None:
            return Enrolment.objects.none()
        enrolments = selectors.learner_enrolments(learner).select_related("programme")
        if self.action == "retrieve":
            enrolments = enrolments.prefetch_related("history", "results__course")
        return enrolments

    @extend_schema(request=serializers.ApplySerializer, responses={201: serializers.EnrolmentSerializer})
    def create(self, request):
        """Apply for an intake: a free seat, or the waitlist with a position."""
        data = serializers.ApplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The intake is named by the body, not the URL: an unknown one is bad input (400), not 404.
        intake = Intake.objects.filter(
            public_id=data.validated_data["intake"], programme__status="published"
        ).first()
        if intake is None:
            raise ValidationError({"intake": [_("No open intake has this id.")]})
        learner = self._learner()
        try:
            if learner is None:  # as for any unfinished profile; saving the profile makes the record
                raise EnrolmentError(_("Finish your learner profile before you apply."))
            outcome = services.enrolment_apply(learner=learner, intake=intake)
        except EnrolmentError as exc:
            raise _refusal(exc) from None
        enrolment = outcome.enrolment
        enrolment.waitlist_position = outcome.waitlist_position
        return Response(serializers.EnrolmentSerializer(enrolment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.EnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, public_id=None):
        enrolment = self.get_object()
        data = serializers.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            enrolment = services.enrolment_withdraw(
                enrolment=enrolment, actor=request.user, reason=data.validated_data["reason"]
            )
        except EnrolmentError as exc:
            raise _refusal(exc) from None
        return Response(serializers.EnrolmentSerializer(enrolment).data)


class SchoolApplicationViewSet(viewsets.ReadOnlyModelViewSet):
    """A school's applications and enrolments, for its administrators only."""

    permission_classes = [IsAuthenticated]
    schema = ErrorResponsesAutoSchema()
    serializer_class = serializers.StaffEnrolmentSerializer
    lookup_field = "public_id"
    filter_backends: list = []

    def _school(self) -> IndustrySchool:
        school = get_object_or_404(IndustrySchool, slug=self.kwargs["school_slug"])
        require_school_admin(self.request.user, school.pk)
        return school

    @extend_schema(
        parameters=[
            OpenApiParameter("intake", OpenApiTypes.UUID, description="Intake public id."),
            OpenApiParameter("status", OpenApiTypes.STR, description="Enrolment status."),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Enrolment.objects.none()
        school = self._school()
        enrolments = Enrolment.objects.filter(programme__school=school).select_related(
            "learner__user", "programme", "intake"
        )
        params = self.request.query_params
        if intake := params.get("intake"):
            try:
                enrolments = enrolments.filter(intake__public_id=intake)
            except Exception:  # a malformed UUID
                raise ValidationError({"intake": ["Not a valid intake id."]}) from None
        if wanted := params.get("status"):
            if wanted not in S.values:
                raise ValidationError({"status": [f"Not one of {', '.join(S.values)}."]})
            enrolments = enrolments.filter(status=wanted)
        return enrolments.order_by("applied_at", "pk")

    @extend_schema(request=serializers.DecisionSerializer, responses=serializers.StaffEnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, school_slug=None, public_id=None):
        """Accept or reject an application (a rejection needs a reason)."""
        enrolment = self.get_object()
        data = serializers.DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            if data.validated_data["decision"] == "accept":
                services.enrolment_accept(enrolment=enrolment, actor=request.user, reason=data.validated_data["reason"])
            else:
                services.enrolment_reject(enrolment=enrolment, actor=request.user, reason=data.validated_data["reason"])
        except EnrolmentError as exc:
            raise _refusal(exc) from None
        enrolment.refresh_from_db()
        return Response(serializers.StaffEnrolmentSerializer(enrolment).data)


class IntakeResultsViewSet(viewsets.GenericViewSet):
    """Upload an intake's results as CSV: all rows or none."""

    permission_classes = [IsAuthenticated]
    schema = ErrorResponsesAutoSchema()
    parser_classes = [MultiPartParser]
    serializer_class = inline_serializer("ResultsUpload", {"file": drf_serializers.FileField()})

    @extend_schema(
        request={"multipart/form-data": inline_serializer("ResultsUploadForm", {"file": drf_serializers.FileField()})},
        responses={
            200: inline_serializer("ResultsImported", {"created": drf_serializers.IntegerField(), "unchanged": drf_serializers.IntegerField()}),
            400: inline_serializer(
                "ResultsRefused",
                {"errors": drf_serializers.ListField(child=drf_serializers.DictField())},
            ),
        },
    )
    def create(self, request, intake_public_id=None):
        intake = get_object_or_404(Intake.objects.select_related("programme"), public_id=intake_public_id)
        require_school_admin(request.user, intake.programme.school_id)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["Attach the CSV file as 'file'."]})
        try:
            report = results_import_csv(intake=intake, data=upload.read(), actor=request.user)
        except EnrolmentError as exc:
            raise ValidationError({"errors": [{"line": None, "message": m} for m in exc.messages]}) from None
        if not report.ok:
            return Response(
                {"errors": [{"line": e.line, "message": e.message} for e in report.errors]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response({"created": report.created, "unchanged": report.unchanged})
