"""The OpenAPI schema documents the errors the API really answers, not only its successes.

drf-spectacular lists an operation's success response and nothing else, so a client generated
from ``/api/schema/`` (and schemathesis, which holds the API to its schema) meets 400, 403 and 404
answers the contract never mentioned. ``ErrorResponsesAutoSchema`` adds them where the framework
can produce them, with the bodies DRF writes:

- 400 when the request carries a body or query filters: field name → list of messages;
- 403 unless the operation is open to anyone and cannot fail a CSRF check, or when it refuses
  partner-system bearer keys (every operation outside the reviewers' API that reads
  credentials at all): ``{"detail": ...}``.
  The API signs people in with Django sessions, which have no ``WWW-Authenticate`` challenge, so
  DRF answers a visitor 403, not 401;
- 401 when the operation takes partner-system bearer keys (the reviewers' API), for a
  malformed, unknown or revoked key (``schools.api.authentication``): ``{"detail": ...}``. Any
  other operation refuses every bearer key with 403, documented wherever 403 is;
- 404 when the path names a record (not found, or not the caller's to see), the list is
  paginated (a page past the end), or the operation is not open to anyone (a signed-in person of
  the wrong kind is told the thing does not exist, as on the pages): ``{"detail": ...}``.

A response an operation documents itself (``@extend_schema(responses=...)``) is kept as it is.
Schools is the lowest app, so every API can use this class; it belongs in ``DEFAULT_SCHEMA_CLASS``
(settings), and until then each API view names it as its ``schema``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

# Query parameters whose bad values never answer 400: DRF ignores an unknown ordering, and a page
# past the end is a 404 (documented for every paginated list).
_LENIENT_QUERY_PARAMETERS = {"page", "ordering", "format"}


class ErrorDetailSerializer(serializers.Serializer):
    """DRF's body for a refusal that concerns the whole request (403, 404, 429)."""

    detail = serializers.CharField(read_only=True)


class ErrorResponsesAutoSchema(AutoSchema):
    """AutoSchema that adds the 400, 403 and 404 answers an operation can give (module docstring)."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, response in self._error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses

    def _error_responses(self) -> dict[str, OpenApiResponse]:
        errors: dict[str, OpenApiResponse] = {}
        parameters = self._get_parameters()
        query = {p["name"] for p in parameters if p.get("in") == "query"}
        has_body = self.method in ("POST", "PUT", "PATCH")
        if has_body or query - _LENIENT_QUERY_PARAMETERS:
            errors["400"] = OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=_(
                    "The request was refused as invalid: each field named maps to its messages "
                    "(non_field_errors for the request as a whole), or detail says why."
                ),
            )
        open_to_anyone = self._open_to_anyone()
        if not open_to_anyone:
            errors["403"] = OpenApiResponse(
                ErrorDetailSerializer,
                description=_("Not signed in, not allowed to do this, or the CSRF check failed."),
            )
        elif self._refuses_bearer_keys():
            errors["403"] = OpenApiResponse(
                ErrorDetailSerializer,
                description=_("A partner API key was sent: keys work only on the reviewers' API."),
            )
        if self._takes_bearer_keys():
            errors["401"] = OpenApiResponse(
                ErrorDetailSerializer,
                description=_("The bearer API key sent is malformed, unknown or revoked."),
            )
        paginated = self.method == "GET" and self._is_list_view() and self._get_paginator()
        # Staff-only and learner-only operations answer 404 to a signed-in person of another kind
        # (as the pages do), and to a body naming a record the caller may not see.
        restricted = not open_to_anyone
        if any(p.get("in") == "path" for p in parameters) or paginated or restricted:
            errors["404"] = OpenApiResponse(
                ErrorDetailSerializer,
                description=_("No such record that the caller may see, or no such page."),
            )
        return errors

    def _takes_bearer_keys(self) -> bool:
        """A partner's bearer key is taken here, so a bad one is answered 401 (schools.api.authentication)."""
        from schools.api.authentication import PartnerTokenAuthentication, accepts_partner_tokens

        return accepts_partner_tokens(self.view) and any(
            isinstance(a, PartnerTokenAuthentication) for a in self.view.get_authenticators()
        )

    def _refuses_bearer_keys(self) -> bool:
        """A partner's bearer key is read here only to be refused with 403 (schools.api.authentication)."""
        from schools.api.authentication import PartnerTokenAuthentication, accepts_partner_tokens

        return not accepts_partner_tokens(self.view) and any(
            isinstance(a, PartnerTokenAuthentication) for a in self.view.get_authenticators()
        )

    def _open_to_anyone(self) -> bool:
        """True when no caller can be refused: anyone may, and no CSRF check can fail."""
        permissions = self.view.get_permissions()
        if not all(isinstance(permission, AllowAny) for permission in permissions):
            return False
        # Session authentication checks CSRF on writes; reads and views without it never do.
        return self.method in ("GET", "HEAD", "OPTIONS") or not self.view.get_authenticators()
