"""The reviewers' desk as an API (/api/v1/review/): for reviewers signed in with a session and for
partner systems with their association's bearer key (``schools.api.authentication``) alike.

Same permissions as the desk (``certificates.views.review``): reviewers and superusers only,
anyone else who is signed in gets 404, and everything is read through the scoped selectors
(``certificates.selectors.reviewer_*``), so another association's request or certificate is a
404 too. A partner token's service user holds a reviewer membership of its association, so the
same selectors and services scope and record it. Writes go through ``certificates.services``; a
refusal is a 400 ``{"detail": [...]}`` with the service's message, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import filters, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from certificates import selectors, services
from certificates.api import review_serializers as serializers
from certificates.models import Certificate, CertificateRequest, RequestStatus, RequestStatusChange
from schools.api.schema import ErrorResponsesAutoSchema
from schools.roles import roles_for

CERTIFICATE_STATES = [value for value, _label in serializers.CERTIFICATE_STATES]


class IsReviewer(BasePermission):
    """Reviewers (people or partner tokens) and superusers. Anyone else signed in gets 404."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        roles = roles_for(request.user)
        if not (roles.is_reviewer or roles.superuser):
            raise Http404
        return True


@contextmanager
def _refusals() -> Iterator[None]:
    """A service's refusal (``CertificateError``) as a 400 with its messages under ``detail``."""
    try:
        yield
    except DjangoValidationError as exc:
        raise ValidationError({"detail": exc.messages}) from None


def _one_of(field: str, value: str, allowed) -> str:
    allowed = list(allowed)
    if value not in allowed:
        raise ValidationError(
            {field: [_("“%(value)s” is not one of: %(values)s.") % {"value": value, "values": ", ".join(allowed)}]}
        )
    return value


class ReviewRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """Certificate requests of the caller's associations, and the decisions on them."""

    # Partner systems' bearer keys work here, and only here (schools.api.authentication).
    accepts_partner_tokens = True
    permission_classes = [IsAuthenticated, IsReviewer]
    schema = ErrorResponsesAutoSchema()
    lookup_field = "public_id"
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    filter_backends = [filters.OrderingFilter]
    ordering_fields = ["requested_at"]

    def get_serializer_class(self):
        return serializers.ReviewRequestSerializer if self.action == "list" else serializers.ReviewRequestDetailSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=RequestStatus.values, description="Request status."),
            OpenApiParameter("type", OpenApiTypes.STR, description="Certificate type code (one of the caller's)."),
            OpenApiParameter("programme", OpenApiTypes.STR, description="Programme code (one of the caller's)."),
        ]
    )
    def list(self, request, *args, **kwargs):
        """Requests, oldest first (``ordering=-requested_at`` for newest first), 20 a page."""
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return CertificateRequest.objects.none()
        reviewer = self.request.user
        requests = selectors.reviewer_requests(reviewer=reviewer).select_related("certificate")
        if self.action != "list":
            return requests.prefetch_related(
                Prefetch("history", queryset=RequestStatusChange.objects.select_related("actor").order_by("at", "pk"))
            )
        params = self.request.query_params
        if status := params.get("status"):
            requests = requests.filter(status=_one_of("status", status, RequestStatus.values))
        if code := params.get("type"):
            codes = selectors.reviewer_types(reviewer=reviewer).values_list("code", flat=True)
            requests = requests.filter(type__code=_one_of("type", code, codes))
        if code := params.get("programme"):
            codes = selectors.reviewer_programmes(reviewer=reviewer).values_list("code", flat=True)
            requests = requests.filter(enrolment__programme__code=_one_of("programme", code, codes))
        return requests

    def _detail(self, cert_request: CertificateRequest) -> Response:
        fresh = self.get_queryset().get(pk=cert_request.pk)
        return Response(serializers.ReviewRequestDetailSerializer(fresh).data)

    @extend_schema(request=None, responses=serializers.ReviewRequestDetailSerializer)
    @action(detail=True, methods=["post"], url_path="start-review", url_name="start-review")
    def start_review(self, request, public_id=None):
        """Take a requested certificate into review (optional: a request can be decided without)."""
        cert_request = self.get_object()
        with _refusals():
            services.request_start_review(request=cert_request, reviewer=request.user)
        return self._detail(cert_request)

    @extend_schema(request=serializers.ReviewApproveSerializer, responses=serializers.ReviewRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, public_id=None):
        """Approve, with an optional note; the certificate is then issued in the background."""
        cert_request = self.get_object()
        data = serializers.ReviewApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusals():
            services.request_approve(request=cert_request, reviewer=request.user, reason=data.validated_data["reason"])
        return self._detail(cert_request)

    @extend_schema(request=serializers.ReviewReasonSerializer, responses=serializers.ReviewRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, public_id=None):
        """Reject, with a reason the learner sees."""
        cert_request = self.get_object()
        data = serializers.ReviewReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusals():
            services.request_reject(request=cert_request, reviewer=request.user, reason=data.validated_data["reason"])
        return self._detail(cert_request)


class ReviewCertificateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Certificates issued for the caller's associations, and their revocation."""

    # Partner systems' bearer keys work here, and only here (schools.api.authentication).
    accepts_partner_tokens = True
    permission_classes = [IsAuthenticated, IsReviewer]
    schema = ErrorResponsesAutoSchema()
    serializer_class = serializers.ReviewCertificateSerializer
    lookup_field = "serial"
    lookup_value_regex = "[^/]+"
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=CERTIFICATE_STATES, description="State today."),
        ]
    )
    def list(self, request, *args, **kwargs):
        """Certificates, newest first, 20 a page."""
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Certificate.objects.none()
        certificates = selectors.reviewer_certificates(reviewer=self.request.user)
        if self.action == "list" and (status := self.request.query_params.get("status")):
            certificates = certificates.filter(selectors.certificate_status_q(_one_of("status", status, CERTIFICATE_STATES)))
        return certificates

    @extend_schema(
        parameters=[OpenApiParameter("serial", {"type": "string", "pattern": "^[^/]+$"}, OpenApiParameter.PATH)],
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("serial", {"type": "string", "pattern": "^[^/]+$"}, OpenApiParameter.PATH)],
        request=serializers.ReviewReasonSerializer,
        responses=serializers.ReviewCertificateSerializer,
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, serial=None):
        """Revoke an issued certificate, with a reason the learner sees; it then verifies as revoked."""
        certificate = self.get_object()
        data = serializers.ReviewReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusals():
            services.certificate_revoke(certificate=certificate, actor=request.user, reason=data.validated_data["reason"])
        return Response(self.get_serializer(self.get_queryset().get(pk=certificate.pk)).data)
