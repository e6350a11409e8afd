"""Public verification API: what a verification code verifies to, for machines.

Anonymous, read-only, and rate limited together with the verification pages (one budget per
client address), so codes cannot be enumerated through the API either. Unknown codes answer 404
and count against the limit like any other lookup.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from certificates.api import serializers
from certificates.credentials import builders
from certificates.views import public
from schools.api.schema import ErrorResponsesAutoSchema


class VerifyView(APIView):
    """Verify a certificate or transcript by its verification code."""

    permission_classes = [AllowAny]
    schema = ErrorResponsesAutoSchema()
    authentication_classes: list = []  # anonymous by design: no session, no CSRF, no user lookup

    @extend_schema(
        operation_id="verify_retrieve",
        summary="Verify a certificate or transcript",
        description=(
            "The public facts behind a verification code: who holds what, issued by whom, its status "
            "today (valid, revoked, suspended, expired or superseded) and whether the stored signed credential "
            "verifies now. No authentication. Rate limited per client address together with the "
            "verification pages; over the limit the answer is 429 with a Retry-After header."
        ),
        parameters=[OpenApiParameter("code", str, OpenApiParameter.PATH, description="The verification code.")],
        responses={
            200: serializers.VerificationSerializer,
            404: OpenApiResponse(serializers.VerifyErrorSerializer, description="No issued certificate or transcript has this code."),
            429: OpenApiResponse(serializers.VerifyErrorSerializer, description="Too many lookups; retry after the Retry-After seconds."),
        },
        tags=["verify"],
    )
    def get(self, request, code: str) -> Response:
        wait = public.lookup_limited(request)
        if wait:
            return Response(
                {"detail": _("Too many verification requests. Try again in %(seconds)d seconds.") % {"seconds": wait}},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(wait)},
            )
        verification = public.find(code, with_credential=True)
        if verification is None:
            return Response(
                {"detail": _("No certificate or transcript has this code.")}, status=status.HTTP_404_NOT_FOUND
            )
        data = serializers.VerificationSerializer(
            _Facts(verification, verified=builders.verify_credential(verification.credential))
        ).data
        return Response(data)


class _Facts:
    """A Verification with the two things only the API adds: the proof check and the profile URL."""

    def __init__(self, verification: public.Verification, *, verified: bool) -> None:
        self._verification = verification
        self.verified = verified
        self.profile_url = builders.issuer_url(verification.issuer_slug)

    def __getattr__(self, name: str):
        return getattr(self._verification, name)
