"""Credit-bank API: the learner's own account, outcomes and audits; the officers' desk; the school's
read-only audits.

Same permissions as the pages. A learner sees only their own data, and another learner's object
answers 404. Every ``credit-bank/`` endpoint answers 404 to anyone who is not a credit-bank officer,
and a school's audits answer 404 to anyone who does not administer the school. Writes go through
``creditbank.services``; a refusal comes back as 400 ``{"detail": [...]}`` with the message the
pages show, and leaves nothing changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    Sum,
)
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from creditbank import audit, ledger, services
from creditbank.api import serializers
from creditbank.models import (
    Accreditation,
    Conversion,
    ConversionRule,
    CreditAccount,
    EntryKind,
    LearningOutcome,
    LedgerEntry,
    OutcomeKind,
    OutcomeStatus,
    OutcomeStatusChange,
    RecognitionStandard,
    Transfer,
)
from enrolment.models import Course, Enrolment, RequirementGroup
from enrolment.services import learner_register
from schools.api.schema import ErrorResponsesAutoSchema
from schools.models import IndustrySchool
from schools.roles import require_school_admin, roles_for

RECENT_ENTRIES = 20


def _refusal(exc: DjangoValidationError | ledger.LedgerError) -> ValidationError:
    """A service's refusal as a 400: ``detail`` carries its messages, field errors keep their field."""
    if isinstance(exc, DjangoValidationError) and hasattr(exc, "error_dict"):
        return ValidationError(
            {("detail" if name == NON_FIELD_ERRORS else name): messages for name, messages in exc.message_dict.items()}
        )
    messages = exc.messages if isinstance(exc, DjangoValidationError) else [str(exc)]
    return ValidationError({"detail": messages})


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except (DjangoValidationError, ledger.LedgerError) as exc:
        raise _refusal(exc) from None


def _unknown(field: str, message: str) -> ValidationError:
    """A request naming something that does not exist: 400 on the field that named it."""
    return ValidationError({field: [message]})


def _standard(code: str, version: int, *, field: str = "standard_code") -> RecognitionStandard:
    standard = RecognitionStandard.objects.filter(code=code, version=version).first()
    if standard is None:
        raise _unknown(field, _("No recognition standard %(code)s v%(version)s.") % {"code": code, "version": version})
    return standard


# What the URL converters (``<str:code>/<int:version>``) match, said in the schema: a version is a
# whole number from 0 and a code one path segment. Anything else never reaches the API and gets the
# site's HTML 404, which a client generated from the schema should not have to expect.
VERSIONED_PATH = [
    OpenApiParameter(
        "code", {"type": "string", "pattern": "^[^/]+$"}, OpenApiParameter.PATH, description="The code."
    ),
    OpenApiParameter(
        "version", {"type": "integer", "minimum": 0}, OpenApiParameter.PATH, description="The version."
    ),
]


class IsCreditOfficer(BasePermission):
    """Credit-bank officers only. Anyone else who is signed in gets 404, as on the pages."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if not roles_for(request.user).is_credit_officer():
            raise Http404
        return True


# --- The learner's own ---------------------------------------------------------------------------


class MyCreditAccountViewSet(viewsets.GenericViewSet):
    """The signed-in learner's credit account and its balance."""

    permission_classes = [IsAuthenticated]
    schema = ErrorResponsesAutoSchema()
    serializer_class = serializers.CreditAccountSerializer
    filter_backends: list = []

    def get_object(self) -> CreditAccount:
        account = CreditAccount.objects.filter(learner__user=self.request.user).first()
        if account is None:
            raise Http404
        account.balance = ledger.balance(account)
        return account

    def retrieve(self, request):
        return Response(self.get_serializer(self.get_object()).data)


class MyLedgerViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in learner's ledger, newest entry first: every line with its reason and source."""

    permission_classes = [IsAuthenticated]
    schema = ErrorResponsesAutoSchema()
    serializer_class = serializers.LedgerEntrySerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return LedgerEntry.objects.none()
        return (
            LedgerEntry.objects.filter(account__learner__user=self.request.user)
            .select_related("outcome", "rule", "programme", "reverses")
            .order_by("-seq")
        )


class MyOutcomeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in learner's learning outcomes; submit one with its evidence."""

    permission_classes = [IsAuthenticated]
    schema = ErrorResponsesAutoSchema()
    parser_classes = [MultiPartParser, FormParser]
    lookup_field = "public_id"
    filter_backends: list = []

    def get_serializer_class(self):
        return serializers.OutcomeDetailSerializer if self.action == "retrieve" else serializers.OutcomeSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LearningOutcome.objects.none()
        return self._outcomes(detail=self.action == "retrieve")

    def _outcomes(self, *, detail: bool):
        outcomes = LearningOutcome.objects.filter(account__learner__user=self.request.user).select_related(
            "issuing_body"
        )
        if detail:
            outcomes = outcomes.select_related("accreditation__standard", "accreditation__officer").prefetch_related(
                Prefetch("history", queryset=OutcomeStatusChange.objects.select_related("actor")), "evidence"
            )
        return outcomes.order_by("-submitted_at", "-pk")

    @extend_schema(
        request={"multipart/form-data": serializers.OutcomeSubmitSerializer},
        responses={201: serializers.OutcomeDetailSerializer},
    )
    def create(self, request):
        """Submit an outcome for accreditation with one or more ``evidence`` files.

        A file that is not a PDF, JPEG or PNG by its content, is empty, or is over 5 MB is refused
        by name, and nothing is stored.
        """
        data = serializers.OutcomeSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        files = fields.pop("evidence", [])
        with _refusals():
            outcome = services.outcome_submit(learner=learner_register(user=request.user), files=files, **fields)
        body = serializers.OutcomeDetailSerializer(self._outcomes(detail=True).get(pk=outcome.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)


class AuditViewSetMixin:
    """Reads one enrolment's programme audit; subclasses say whose enrolments may be read."""

    lookup_field = "public_id"
    serializer_class = serializers.AuditSerializer
    filter_backends: list = []

    def retrieve(self, request, *args, **kwargs):
        """The programme audit: by requirement group, what is required, earned, exempted,
        transferred and missing, each course line citing its ledger entries and rule."""
        return Response(serializers.AuditSerializer(audit.programme_audit(self.get_object())).data)


class MyAuditViewSet(AuditViewSetMixin, viewsets.GenericViewSet):
    """The audit of the signed-in learner's own enrolments, and the what-if view."""

    permission_classes = [IsAuthenticated]
    schema = ErrorResponsesAutoSchema()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Enrolment.objects.none()
        return Enrolment.objects.filter(learner__user=self.request.user).select_related("programme")

    @extend_schema(
        parameters=[serializers.WhatIfQuerySerializer],
        responses=serializers.WhatIfSerializer,
    )
    @action(detail=True, methods=["get"], url_path="what-if", url_name="what-if")
    def what_if(self, request, public_id=None):
        """If an outcome at ``level`` were accredited under ``standard``, what would change?"""
        enrolment = self.get_object()
        query = serializers.WhatIfQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        code, level = query.validated_data["standard"], query.validated_data["level"]
        if not RecognitionStandard.objects.filter(code=code).exists():
            raise _unknown("standard", _("No recognition standard has the code %(code)s.") % {"code": code})
        result, rules = audit.what_if(enrolment, standard_code=code, level=level)
        body = {"standard": code, "level": level, "rules": rules, "audit": result}
        return Response(serializers.WhatIfSerializer(body).data)


class SchoolAuditViewSet(AuditViewSetMixin, viewsets.GenericViewSet):
    """Audits of a school's learners, read-only, for the school's administrators and the
    credit-bank officers (as the page ``creditbank:school_audit``)."""

    permission_classes = [IsAuthenticated]
    schema = ErrorResponsesAutoSchema()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Enrolment.objects.none()
        school = get_object_or_404(IndustrySchool, slug=self.kwargs["school_slug"])
        if not roles_for(self.request.user).is_credit_officer():
            require_school_admin(self.request.user, school.pk)
        return Enrolment.objects.filter(programme__school=school).select_related("programme")


# --- Credit-bank officers -------------------------------------------------------------------------


def _officer_outcomes():
    return LearningOutcome.objects.select_related("account__learner__user", "issuing_body").prefetch_related(
        "evidence"
    )


def _officer_outcome_detail(pk: int) -> LearningOutcome:
    return (
        _officer_outcomes()
        .select_related("accreditation__standard", "accreditation__officer")
        .prefetch_related(
            Prefetch("history", queryset=OutcomeStatusChange.objects.select_related("actor")),
            Prefetch(
                "conversions",
                queryset=Conversion.objects.select_related(
                    "second_outcome", "enrolment", "programme", "course", "rule", "approved_by"
                ).prefetch_related("entries"),
            ),
            Prefetch(
                "transfers",
                queryset=Transfer.objects.select_related("enrolment", "programme", "group", "approved_by")
                .prefetch_related("entries"),
            ),
        )
        .get(pk=pk)
    )


class OfficerOutcomeViewSet(viewsets.ReadOnlyModelViewSet):
    """The officers' queue of learning outcomes, and the decisions on them."""

    permission_classes = [IsAuthenticated, IsCreditOfficer]
    schema = ErrorResponsesAutoSchema()
    lookup_field = "public_id"
    filter_backends: list = []

    def get_serializer_class(self):
        return serializers.OfficerOutcomeSerializer if self.action == "list" else serializers.OfficerOutcomeDetailSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=OutcomeStatus.values, description="Outcome status."),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=OutcomeKind.values, description="Outcome kind."),
        ]
    )
    def list(self, request, *args, **kwargs):
        """Outcomes, oldest submission first."""
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        outcomes = _officer_outcomes()
        params = self.request.query_params
        if self.action == "list":
            if wanted := params.get("status"):
                if wanted not in OutcomeStatus.values:
                    raise ValidationError({"status": [_("Not one of %(values)s.") % {"values": ", ".join(OutcomeStatus.values)}]})
                outcomes = outcomes.filter(status=wanted)
            if kind := params.get("kind"):
                if kind not in OutcomeKind.values:
                    raise ValidationError({"kind": [_("Not one of %(values)s.") % {"values": ", ".join(OutcomeKind.values)}]})
                outcomes = outcomes.filter(kind=kind)
        return outcomes.order_by("submitted_at", "pk")

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    def _detail(self, outcome: LearningOutcome) -> Response:
        return Response(serializers.OfficerOutcomeDetailSerializer(_officer_outcome_detail(outcome.pk)).data)

    @extend_schema(request=None, responses=serializers.OfficerOutcomeDetailSerializer)
    @action(detail=True, methods=["post"], url_path="start-review", url_name="start-review")
    def start_review(self, request, public_id=None):
        """Take a submitted outcome into review."""
        outcome = self.get_object()
        with _refusals():
            services.outcome_start_review(outcome=outcome, officer=request.user)
        return self._detail(outcome)

    @extend_schema(request=serializers.AccreditSerializer, responses=serializers.OfficerOutcomeDetailSerializer)
    @action(detail=True, methods=["post"])
    def accredit(self, request, public_id=None):
        """Accredit the outcome under a recognition standard: its credits enter the ledger once."""
        outcome = self.get_object()
        data = serializers.AccreditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        standard = _standard(fields["standard_code"], fields["standard_version"])
        with _refusals():
            services.outcome_accredit(
                outcome=outcome, standard=standard, officer=request.user, reason=fields["reason"],
                credits=fields.get("credits"),
            )  # fmt: skip
        return self._detail(outcome)

    @extend_schema(request=serializers.OutcomeReasonSerializer, responses=serializers.OfficerOutcomeDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, public_id=None):
        """Reject the outcome, with a reason the learner sees."""
        outcome = self.get_object()
        data = serializers.OutcomeReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusals():
            services.outcome_reject(outcome=outcome, officer=request.user, reason=data.validated_data["reason"])
        return self._detail(outcome)

    @extend_schema(request=serializers.OutcomeReasonSerializer, responses=serializers.OfficerOutcomeDetailSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, public_id=None):
        """Revoke an accredited outcome: reversing entries, dependent conversions and transfers undone."""
        outcome = self.get_object()
        data = serializers.OutcomeReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusals():
            services.outcome_revoke(outcome=outcome, officer=request.user, reason=data.validated_data["reason"])
        return self._detail(outcome)


class StandardViewSet(viewsets.GenericViewSet):
    """Recognition standards, addressed by code and version. A standard in use is frozen: publish a
    new version instead."""

    permission_classes = [IsAuthenticated, IsCreditOfficer]
    schema = ErrorResponsesAutoSchema()
    serializer_class = serializers.StandardSerializer
    filter_backends: list = []

    def get_queryset(self):
        in_use = (
            Q(Exists(Accreditation.objects.filter(standard=OuterRef("pk"))))
            | Q(Exists(ConversionRule.objects.filter(standard=OuterRef("pk"))))
            | Q(Exists(ConversionRule.objects.filter(second_standard=OuterRef("pk"))))
        )
        return (
            RecognitionStandard.objects.annotate(in_use=ExpressionWrapper(in_use, output_field=BooleanField()))
            .prefetch_related("accepted_bodies")
            .order_by("code", "-version")
        )

    def get_object(self) -> RecognitionStandard:
        return get_object_or_404(self.get_queryset(), code=self.kwargs["code"], version=self.kwargs["version"])

    def _body(self, standard: RecognitionStandard, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=standard.pk)
        return Response(serializers.StandardSerializer(fresh).data, status=code)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(serializers.StandardSerializer(page, many=True).data)

    @extend_schema(request=serializers.StandardSerializer, responses={201: serializers.StandardSerializer})
    def create(self, request):
        """Publish version 1 of a new standard."""
        data = serializers.StandardSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        bodies = fields.pop("accepted_bodies", [])
        with _refusals():
            standard = services.standard_save(standard=RecognitionStandard(**fields), accepted_bodies=bodies)
        return self._body(standard, status.HTTP_201_CREATED)

    @extend_schema(parameters=VERSIONED_PATH)
    def retrieve(self, request, code=None, version=None):
        return Response(serializers.StandardSerializer(self.get_object()).data)

    @extend_schema(parameters=VERSIONED_PATH, request=serializers.StandardUpdateSerializer, responses=serializers.StandardSerializer)
    def update(self, request, code=None, version=None):
        """Correct a standard no accreditation or rule uses yet; one in use is refused (400)."""
        standard = self.get_object()
        data = serializers.StandardUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        bodies = fields.pop("accepted_bodies", None)
        for name, value in fields.items():
            setattr(standard, name, value)
        with _refusals():
            services.standard_save(standard=standard, accepted_bodies=bodies)
        return self._body(standard)

    @extend_schema(parameters=VERSIONED_PATH, request=serializers.StandardNewVersionSerializer, responses={201: serializers.StandardSerializer})
    def new_version(self, request, code=None, version=None):
        """Open the next version from ``effective_from``; the current one closes the day before."""
        standard = self.get_object()
        data = serializers.StandardNewVersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusals():
            successor = services.standard_new_version(standard=standard, **data.validated_data)
        return self._body(successor, status.HTTP_201_CREATED)


class RuleViewSet(viewsets.GenericViewSet):
    """Conversion rules ("Replacement of Courses"), addressed by code and version. A rule a
    conversion used is frozen: publish a new version instead."""

    permission_classes = [IsAuthenticated, IsCreditOfficer]
    schema = ErrorResponsesAutoSchema()
    serializer_class = serializers.RuleSerializer
    filter_backends: list = []

    def get_queryset(self):
        return (
            ConversionRule.objects.annotate(in_use=Exists(Conversion.objects.filter(rule=OuterRef("pk"))))
            .select_related("standard", "second_standard", "programme", "approving_body")
            .prefetch_related("courses")
            .order_by("code", "-version")
        )

    def get_object(self) -> ConversionRule:
        return get_object_or_404(self.get_queryset(), code=self.kwargs["code"], version=self.kwargs["version"])

    def _body(self, rule: ConversionRule, code: int = status.HTTP_200_OK) -> Response:
        return Response(serializers.RuleSerializer(self.get_queryset().get(pk=rule.pk)).data, status=code)

    def _terms(self, fields: dict) -> tuple[dict, list[Course]]:
        """The rule's model fields and courses, with the standards and courses named looked up."""
        fields = dict(fields)
        fields["standard"] = _standard(fields.pop("standard_code"), fields.pop("standard_version"))
        second_code = fields.pop("second_standard_code", "")
        second_version = fields.pop("second_standard_version", None)
        if second_code:
            if second_version is None:
                raise _unknown("second_standard_version", _("Give the second standard's version."))
            fields["second_standard"] = _standard(second_code, second_version, field="second_standard_code")
        else:
            fields["second_standard"] = None
        codes = fields.pop("courses")
        programme = fields["programme"]
        courses = list(Course.objects.filter(code__in=codes, group_memberships__programme=programme).distinct())
        unknown = sorted(set(codes) - {course.code for course in courses})
        if unknown:
            raise _unknown("courses", _("Not courses of %(programme)s: %(codes)s") % {"programme": programme.code, "codes": ", ".join(unknown)})
        return fields, courses

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(serializers.RuleSerializer(page, many=True).data)

    @extend_schema(request=serializers.RuleCreateSerializer, responses={201: serializers.RuleSerializer})
    def create(self, request):
        """Publish version 1 of a new rule."""
        data = serializers.RuleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields, courses = self._terms(data.validated_data)
        with _refusals():
            rule = services.rule_save(rule=ConversionRule(**fields), courses=courses)
        return self._body(rule, status.HTTP_201_CREATED)

    @extend_schema(parameters=VERSIONED_PATH)
    def retrieve(self, request, code=None, version=None):
        return Response(serializers.RuleSerializer(self.get_object()).data)

    @extend_schema(parameters=VERSIONED_PATH, request=serializers.RuleUpdateSerializer, responses=serializers.RuleSerializer)
    def update(self, request, code=None, version=None):
        """Correct a rule no conversion used yet; one in use is refused (400)."""
        rule = self.get_object()
        data = serializers.RuleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields, courses = self._terms(data.validated_data)
        for name, value in fields.items():
            setattr(rule, name, value)
        with _refusals():
            services.rule_save(rule=rule, courses=courses)
        return self._body(rule)

    @extend_schema(parameters=VERSIONED_PATH, request=serializers.RuleNewVersionSerializer, responses={201: serializers.RuleSerializer})
    def new_version(self, request, code=None, version=None):
        """Open the next version from ``effective_from``; the current one closes the day before."""
        rule = self.get_object()
        data = serializers.RuleNewVersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusals():
            successor = services.rule_new_version(rule=rule, **data.validated_data)
        return self._body(successor, status.HTTP_201_CREATED)


def _outcome(public_id, field: str) -> LearningOutcome:
    outcome = LearningOutcome.objects.select_related("accreditation__standard").filter(public_id=public_id).first()
    if outcome is None:
        raise _unknown(field, _("No learning outcome has this id."))
    return outcome


def _enrolment(public_id) -> Enrolment:
    enrolment = Enrolment.objects.select_related("programme").filter(public_id=public_id).first()
    if enrolment is None:
        raise _unknown("enrolment", _("No enrolment has this id."))
    return enrolment


class ConversionViewSet(viewsets.GenericViewSet):
    """Apply a conversion rule: an accredited outcome exempts a course of the learner's programme."""

    permission_classes = [IsAuthenticated, IsCreditOfficer]
    schema = ErrorResponsesAutoSchema()
    serializer_class = serializers.ConversionSerializer
    filter_backends: list = []

    @extend_schema(request=serializers.ConversionApplySerializer, responses={201: serializers.ConversionSerializer})
    def create(self, request):
        data = serializers.ConversionApplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        outcome = _outcome(fields["outcome"], "outcome")
        second = _outcome(fields["second_outcome"], "second_outcome") if fields.get("second_outcome") else None
        enrolment = _enrolment(fields["enrolment"])
        course = Course.objects.filter(
            code=fields["course_code"], group_memberships__programme=enrolment.programme
        ).first()
        if course is None:
            message = _("%(course)s is not a course of %(programme)s.")
            raise _unknown("course_code", message % {"course": fields["course_code"], "programme": enrolment.programme.code})
        rule = ConversionRule.objects.filter(code=fields["rule_code"], version=fields["rule_version"]).first()
        if rule is None:
            message = _("No conversion rule %(code)s v%(version)s.")
            raise _unknown("rule_code", message % {"code": fields["rule_code"], "version": fields["rule_version"]})
        with _refusals():
            conversion = services.conversion_apply(
                outcome=outcome, enrolment=enrolment, course=course, rule=rule, officer=request.user,
                second_outcome=second,
            )  # fmt: skip
        conversion = (
            Conversion.objects.select_related(
                "outcome", "second_outcome", "enrolment", "programme", "course", "rule", "approved_by"
            )
            .prefetch_related("entries")
            .get(pk=conversion.pk)
        )
        return Response(serializers.ConversionSerializer(conversion).data, status=status.HTTP_201_CREATED)


class TransferViewSet(viewsets.GenericViewSet):
    """Transfer credits of an outcome earned elsewhere toward a requirement group of a programme."""

    permission_classes = [IsAuthenticated, IsCreditOfficer]
    schema = ErrorResponsesAutoSchema()
    serializer_class = serializers.TransferSerializer
    filter_backends: list = []

    @extend_schema(request=serializers.TransferApplySerializer, responses={201: serializers.TransferSerializer})
    def create(self, request):
        data = serializers.TransferApplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        outcome = _outcome(fields["outcome"], "outcome")
        enrolment = _enrolment(fields["enrolment"])
        group = RequirementGroup.objects.filter(pk=fields["group"], programme=enrolment.programme).first()
        if group is None:
            message = _("No requirement group %(group)s in %(programme)s.")
            raise _unknown("group", message % {"group": fields["group"], "programme": enrolment.programme.code})
        with _refusals():
            transfer = services.transfer_apply(
                outcome=outcome, enrolment=enrolment, group=group, credits=fields["credits"], officer=request.user
            )
        transfer = (
            Transfer.objects.select_related("outcome", "enrolment", "programme", "group", "approved_by")
            .prefetch_related("entries")
            .get(pk=transfer.pk)
        )
        return Response(serializers.TransferSerializer(transfer).data, status=status.HTTP_201_CREATED)


class AccountViewSet(viewsets.GenericViewSet):
    """Any learner's credit account, by its number: the balance and the ledger in short."""

    permission_classes = [IsAuthenticated, IsCreditOfficer]
    schema = ErrorResponsesAutoSchema()
    serializer_class = serializers.AccountSummarySerializer
    lookup_field = "number"
    lookup_value_regex = r"[-\w]+"
    filter_backends: list = []

    def get_queryset(self):
        return CreditAccount.objects.select_related("learner__user")

    def retrieve(self, request, number=None):
        account = self.get_object()
        entries = LedgerEntry.objects.filter(account=account)
        totals = list(
            entries.values("kind").annotate(amount=Sum("amount"), entries=Count("pk")).order_by("kind")
        )
        summary = {
            "number": account.number,
            "opened_at": account.opened_at,
            "learner_name": account.learner.legal_name,
            "learner_email": account.learner.user.email,
            "balance": ledger.balance(account),
            "entry_count": sum(t["entries"] for t in totals),
            "totals": [{**t, "kind": EntryKind(t["kind"])} for t in totals],
            "recent_entries": entries.select_related("outcome", "rule", "programme", "reverses").order_by("-seq")[
                :RECENT_ENTRIES
            ],
        }
        return Response(serializers.AccountSummarySerializer(summary).data)
