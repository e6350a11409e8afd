"""Public verification of certificates and transcripts: no login, no private data beyond the facts.

Anyone holding a verification code (printed under the QR code, or in a shared link) sees who
holds what, issued by whom, and whether it is valid, revoked, expired or superseded. A code
that is unknown, or whose certificate or transcript is not issued in full yet, gets the same
friendly 404: the page never says which.

Every lookup by code — the page, the credential download and the API — counts against one rate
limit per client address (``VERIFY_RATE_LIMIT``, default 30 a minute), whether the code exists
or not, so codes cannot be enumerated. Issuer profiles and status lists are not lookups of a
code and are not limited: wallets and verifiers fetch them often.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_ratelimit.core import get_usage

from certificates.credentials import builders
from certificates.links import absolute
from certificates.models import Certificate, Transcript
from certificates.verify_cache import VERIFY_PAGE
from ouc_portal.pagecache import public_page

RATE_GROUP = "certificates.verify"
DEFAULT_RATE = "30/m"
# Verification codes are token_urlsafe(24): 32 URL-safe characters. Anything else cannot match.
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
JSON_LD = "application/ld+json; charset=utf-8"
# What a credential's id answers besides the page: the signed credential itself, in the type asked.
CREDENTIAL_TYPES = ("application/ld+json", "application/vc+ld+json", "application/vc", "application/json")

TRANSCRIPT_TITLE = ("OUC Credit Bank transcript", "国家开放大学学分银行成绩单")


# -- rate limit ----------------------------------------------------------------------------------


def verify_rate() -> str:
    return getattr(settings, "VERIFY_RATE_LIMIT", DEFAULT_RATE)


def lookup_limited(request: HttpRequest) -> int | None:
    """Count one lookup by this client; the seconds to wait if it is over the limit, else None.

    Counted once per request: the page cache (``certificates.verify_cache``) asks before it
    serves a stored page, and the view asks again only when the cache did not answer.
    """
    if hasattr(request, "_verify_lookup_wait"):
        return request._verify_lookup_wait
    request._verify_lookup_wait = _count_lookup(request)
    return request._verify_lookup_wait


def _count_lookup(request: HttpRequest) -> int | None:
    # A request without the client's address (a proxy that did not set RATELIMIT_IP_META_KEY's
    # header) shares one budget with every such request, rather than failing with a 500.
    key = "ip" if request.META.get(settings.RATELIMIT_IP_META_KEY) else (lambda group, r: "no-address")
    usage = get_usage(request, group=RATE_GROUP, key=key, rate=verify_rate(), increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))


# -- what a code verifies to ---------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """The public facts of one certificate or transcript, shared by the page and the API.

    ``learner_name`` is the name the credential was signed with (``holder_name``), never the
    learner's profile: nothing here reads the learner at all.
    """

    kind: str  # "certificate" | "transcript"
    code: str
    status: str  # valid | revoked | suspended | expired | superseded
    learner_name: str
    title_en: str
    title_zh: str
    issued_on: datetime.date
    issuer_slug: str
    issuer_name_en: str
    issuer_name_zh: str
    serial: str | None = None
    kind_label: str = ""
    expires_on: datetime.date | None = None
    revoked_on: datetime.date | None = None
    revocation_reason: str = ""
    superseded_on: datetime.date | None = None
    approver_name_en: str = ""
    approver_name_zh: str = ""
    recorded_at: datetime.datetime | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    credential: dict | None = None

    @property
    def status_text(self) -> str:
        if self.status == "revoked":
            return _("Revoked on %(date)s. Reason: %(reason)s") % {
                "date": _day(self.revoked_on), "reason": self.revocation_reason or _("not given"),
            }
        if self.status == "suspended":
            return _("Suspended while it is under review.")
        if self.status == "expired":
            return _("Expired on %(date)s.") % {"date": _day(self.expires_on)}
        if self.status == "superseded":
            return _("Superseded on %(date)s by a newer transcript.") % {"date": _day(self.superseded_on)}
        if self.kind == "transcript":
            return _("Valid: this transcript is genuine and is the learner's latest.")
        return _("Valid: this certificate is genuine and in force.")

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def credential_url(self) -> str:
        return absolute(reverse("verify:credential", args=[self.code]))


STATUS_LABELS = {
    "valid": gettext_lazy("Valid"),
    "revoked": gettext_lazy("Revoked"),
    "suspended": gettext_lazy("Suspended"),
    "expired": gettext_lazy("Expired"),
    "superseded": gettext_lazy("Superseded"),
}


def _day(value: datetime.date | None) -> str:
    return value.isoformat() if value else "—"


def _certificate(code: str, *, with_credential: bool) -> Verification | None:
    queryset = (
        Certificate.objects.select_related("request__type__school", "request__type__association")
        .filter(verification_code=code, credential__isnull=False)
        .exclude(pdf="")
    )
    if not with_credential:
        queryset = queryset.defer("credential")
    certificate = queryset.first()
    if certificate is None:
        return None
    cert_type = certificate.request.type
    return Verification(
        kind="certificate",
        code=code,
        status=certificate.status_on(),
        # What was signed, never the profile's name of today: a holder who renames their
        # profile must not have the portal vouch that the certificate is theirs under the new name.
        learner_name=certificate.holder_name,
        title_en=cert_type.name_en,
        title_zh=cert_type.name_zh,
        kind_label=cert_type.get_kind_display(),
        serial=certificate.serial,
        issued_on=certificate.issued_on,
        expires_on=certificate.expires_on,
        revoked_on=timezone.localdate(certificate.revoked_at) if certificate.revoked_at else None,
        revocation_reason=certificate.revocation_reason if certificate.status == Certificate.Status.REVOKED else "",
        issuer_slug=cert_type.school.slug,
        issuer_name_en=cert_type.school.name_en,
        issuer_name_zh=cert_type.school.name_zh,
        approver_name_en=cert_type.association.name_en,
        approver_name_zh=cert_type.association.name_zh,
        credential=certificate.credential if with_credential else None,
    )


def transcript_summary(credential: dict | None) -> dict[str, Any]:
    """Counts of the lines a transcript credential lists, and the credits accredited."""
    summary = {"outcomes": 0, "conversions": 0, "transfers": 0, "programmes": 0, "certificates": 0, "credits": None}
    if not credential:
        return summary
    base = credential.get("id", "") + "#"
    for nested in credential.get("credentialSubject", {}).get("verifiableCredential", []):
        nested_id = nested.get("id", "")
        if not nested_id.startswith(base):
            summary["certificates"] += 1
            continue
        anchor = nested_id[len(base):]
        if anchor == "account":
            summary["credits"] = nested.get("credentialSubject", {}).get("creditsEarned")
        for prefix, key in (("outcome-", "outcomes"), ("conversion-", "conversions"), ("transfer-", "transfers"),
                            ("programme-", "programmes")):
            if anchor.startswith(prefix):
                summary[key] += 1
    return summary


def _transcript(code: str) -> Verification | None:
    transcript = (
        Transcript.objects.filter(verification_code=code, status=Transcript.Status.READY, credential__isnull=False)
        .first()
    )
    if transcript is None:
        return None
    en, zh = builders.RESERVED_ISSUERS[builders.CREDIT_BANK]
    recorded = transcript.built_at or transcript.requested_at
    return Verification(
        kind="transcript",
        code=code,
        status=transcript.status_on(),
        learner_name=transcript.holder_name,  # as signed, like a certificate's
        title_en=TRANSCRIPT_TITLE[0],
        title_zh=TRANSCRIPT_TITLE[1],
        kind_label=_("Credit-bank transcript"),
        issued_on=timezone.localdate(recorded),
        recorded_at=recorded,
        superseded_on=timezone.localdate(transcript.superseded_at) if transcript.superseded_at else None,
        issuer_slug=builders.CREDIT_BANK,
        issuer_name_en=en,
        issuer_name_zh=zh,
        summary=transcript_summary(transcript.credential),
        credential=transcript.credential,
    )


def find(code: str, *, with_credential: bool = False) -> Verification | None:
    """What ``code`` verifies to, in at most two queries; None when nothing issued has it.

    A certificate counts once it is issued in full (credential and PDF stored), a transcript once
    it is ready. Transcripts always come with their credential (the page summarises it).
    """
    if not CODE_RE.match(code or ""):
        return None
    return _certificate(code, with_credential=with_credential) or _transcript(code)


# -- pages ---------------------------------------------------------------------------------------


def _noindex(response: HttpResponse) -> HttpResponse:
    # The pages name a person: they are for whoever holds the code, not for search engines.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _too_many(request: HttpRequest, wait: int) -> HttpResponse:
    response = render(request, "certificates/verify/rate_limited.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return _noindex(response)


def _not_found(request: HttpRequest) -> HttpResponse:
    form = LookupForm()
    return _noindex(render(request, "certificates/verify/not_found.html", {"form": form}, status=404))


class LookupForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Verification code"),
        max_length=300,
        help_text=gettext_lazy("The code printed under the QR code, or the whole verification link."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        value = self.cleaned_data["code"].strip()
        # A pasted link: keep what follows /verify/.
        match = re.search(r"/verify/([^/?#\s]+)", value)
        if match:
            value = match.group(1)
        if not CODE_RE.match(value):
            raise forms.ValidationError(
                _("This is not a verification code. Codes are 32 characters: letters, digits, '-' and '_'.")
            )
        return value


@require_safe
def lookup(request: HttpRequest) -> HttpResponse:
    """A form to type a code; ``?code=…`` goes to the verification page."""
    form = LookupForm(request.GET if "code" in request.GET else None)
    if form.is_bound and form.is_valid():
        return redirect("verify:page", code=form.cleaned_data["code"])
    return render(request, "certificates/verify/lookup.html", {"form": form})


# Anonymous visitors get the page whole from the cache (ouc_portal.pagecache) until anything it
# shows changes (certificates.verify_cache); the lookup is counted either way.
def wants_credential(request: HttpRequest) -> str | None:
    """The JSON type the client prefers to a page, if it does: a credential's ``id`` is this URL,
    and a verifier dereferencing it asks for JSON-LD. A browser (``text/html`` first) and a
    client that states no preference (``*/*``) get the page."""
    preferred = request.get_preferred_type(["text/html", *CREDENTIAL_TYPES])
    return preferred if preferred in CREDENTIAL_TYPES else None


# Anonymous visitors get the page whole from the cache (ouc_portal.pagecache) until anything it
# shows changes (certificates.verify_cache); the lookup is counted either way. The cache key
# carries the Accept header: the same URL answers the page or the signed credential.
@public_page(VERIFY_PAGE)
@require_safe
@never_cache
@vary_on_headers("Accept")
def page(request: HttpRequest, code: str) -> HttpResponse:
    wait = lookup_limited(request)
    if wait:
        return _too_many(request, wait)
    as_json = wants_credential(request)
    verification = find(code, with_credential=bool(as_json))
    if verification is None:
        return _not_found(request)
    if as_json:
        response = HttpResponse(
            json.dumps(verification.credential, ensure_ascii=False, indent=2), content_type=f"{as_json}; charset=utf-8"
        )
        response["Access-Control-Allow-Origin"] = "*"
        return _noindex(response)
    return _noindex(render(request, "certificates/verify/page.html", {"v": verification}))


@require_safe
@never_cache
def credential(request: HttpRequest, code: str) -> HttpResponse:
    """The stored signed credential, as issued, for download."""
    wait = lookup_limited(request)
    if wait:
        return _too_many(request, wait)
    verification = find(code, with_credential=True)
    if verification is None:
        return _not_found(request)
    if verification.kind == "certificate":
        filename = f"{verification.serial}.json"
    else:
        filename = f"transcript-{timezone.localtime(verification.recorded_at):%Y%m%d-%H%M}.json"
    response = HttpResponse(json.dumps(verification.credential, ensure_ascii=False, indent=2), content_type=JSON_LD)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"
    return _noindex(response)


def _json_ld(document: dict, *, cache_control: str) -> HttpResponse:
    response = HttpResponse(json.dumps(document, ensure_ascii=False, indent=2), content_type=JSON_LD)
    # Public, credential-free documents that browser-based verifiers fetch from other origins.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = cache_control
    return response


@require_safe
def issuer(request: HttpRequest, slug: str) -> HttpResponse:
    """An issuer's OB 3.0 Profile, with the public keys its credentials are signed with."""
    try:
        profile = builders.issuer_profile(slug)
    except builders.UnknownIssuer:
        raise Http404 from None
    return _json_ld(profile, cache_control="public, max-age=300")


@require_safe
def achievement(request: HttpRequest, path: str) -> HttpResponse:
    """An achievement a credential names, by its id: the OB 3.0 Achievement in JSON-LD."""
    try:
        document = builders.achievement_document(path)
    except LookupError:
        raise Http404 from None
    return _json_ld(document, cache_control="public, max-age=300")


@require_safe
def issuer_key(request: HttpRequest, slug: str, version: int) -> HttpResponse:
    """One issuer key, the Multikey a proof's ``verificationMethod`` names, fetched as it is."""
    try:
        document = builders.key_document(slug, version)
    except LookupError:
        raise Http404 from None
    return _json_ld(document, cache_control="public, max-age=300")


def _signed_list(request: HttpRequest, signed: dict) -> HttpResponse:
    etag = f'"{builders.status_list_etag(signed)}"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
        response["ETag"] = etag
        response["Access-Control-Allow-Origin"] = "*"
        return response
    response = _json_ld(signed, cache_control="public, no-cache")
    response["ETag"] = etag
    return response


@require_safe
def status_list(request: HttpRequest, list_number: int) -> HttpResponse:
    """The shared revocation list of before issue 17, kept for the credentials that name it.
    Built from the database on every request, so a revocation shows at once; only the signature
    is cached, keyed by the list's content."""
    if list_number > builders.last_status_list():
        raise Http404
    return _signed_list(request, builders.status_list_credential(list_number))


@require_safe
def issuer_status_list(request: HttpRequest, slug: str, purpose: str, list_number: int) -> HttpResponse:
    """An issuer's own signed Bitstring Status List (revocation or suspension), built like the above."""
    if purpose not in builders.STATUS_PURPOSES or not builders.issuer_exists(slug):
        raise Http404
    if list_number > builders.last_issuer_status_list(slug):
        raise Http404
    try:
        signed = builders.issuer_status_list_credential(slug, purpose, list_number)
    except builders.issuer_keys.NoIssuerKey:
        raise Http404 from None  # it has signed nothing, so no credential names this list
    return _signed_list(request, signed)
