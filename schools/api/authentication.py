"""Partner systems sign in to the API with ``Authorization: Bearer <key>`` (``schools.tokens``).

Only DRF reads this header: Django's own authentication (the pages) never does, so a key opens
no page. A request that names no bearer key falls through to the session, exactly as before. A
request that names one is answered 401 when the key is malformed, unknown or revoked, with a
``WWW-Authenticate: Bearer`` challenge, and never falls back to a session (a partner must learn
that its key failed). A token's calls carry no CSRF check: no browser sends this header by itself.

The challenge is only offered to a caller who sent a bearer key, so a visitor without one (or
with another scheme's header, which is ignored) is still answered 403, as the schema says for the
session (see ``schools.api.schema``).

A key works only on the operations it was made for: the reviewers' API. A view takes partner
keys only when it says so (``accepts_partner_tokens = True``, on the review viewsets); anywhere
else a bearer key is refused with 403 and a message naming where keys work, before the key is
even looked up, so the service user never acts there (issue 14: a key once opened a credit
account and filed evidence through the learner API) and nothing is written, not even the
token's ``last_used_at``. The schema lists the bearer scheme only on those operations.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from schools import tokens

KEYWORD = "Bearer"
# The attribute a view sets to take partner keys; every other view refuses them.
ACCEPTS_PARTNER_TOKENS = "accepts_partner_tokens"


def accepts_partner_tokens(view) -> bool:
    """Whether ``view`` (an APIView instance or class) takes partner-system bearer keys."""
    return getattr(view, ACCEPTS_PARTNER_TOKENS, False) is True


class PartnerKeyNotAccepted(exceptions.PermissionDenied):
    default_code = "partner_key_not_accepted"


class PartnerTokenAuthentication(BaseAuthentication):
    keyword = KEYWORD

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # not ours: the session (or nobody) decides
        view = (getattr(request, "parser_context", None) or {}).get("view")
        if not accepts_partner_tokens(view):
            raise PartnerKeyNotAccepted(
                _(
                    "Partner API keys work only on the reviewers' API (/api/v1/review/requests/ and "
                    "/api/v1/review/certificates/); this operation does not accept them."
                )
            )
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Malformed Authorization header: send “Bearer <key>”, the key as one word.")
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Malformed API key: it holds characters no key has.")) from None
        token = tokens.token_by_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Unknown API key."))
        if token.revoked_at is not None or not token.user.is_active:
            revoked = timezone.localtime(token.revoked_at) if token.revoked_at else None
            raise exceptions.AuthenticationFailed(
                _("This API key was revoked on %(date)s.") % {"date": revoked.strftime("%Y-%m-%d %H:%M")}
                if revoked
                else _("This API key is disabled.")
            )
        tokens.partner_token_touch(token=token)
        return (token.user, token)

    def authenticate_header(self, request) -> str | None:
        # Offered only to a caller who sent a bearer key (see the module docstring). Another
        # scheme (Basic, from a proxy guarding a staging site) is not ours and changes nothing.
        parts = get_authorization_header(request).split()
        if parts and parts[0].lower() == self.keyword.lower().encode():
            return f'{self.keyword} realm="api"'
        return None


class PartnerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "schools.api.authentication.PartnerTokenAuthentication"
    name = "partnerToken"

    def get_security_requirement(self, auto_schema):
        # Only the operations that take partner keys list the scheme (the rest refuse them).
        if not accepts_partner_tokens(auto_schema.view):
            return None
        return super().get_security_requirement(auto_schema)

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A partner association's API token (oucpt_…), made by its reviewers at /review/tokens/. "
                "It acts as a reviewer of that association. A malformed, unknown or revoked key is "
                "answered 401."
            ),
        }
