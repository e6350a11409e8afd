"""The learner's certificates and transcripts (/me/certificates/).

A learner reaches only their own requests, certificates and transcripts: anything else looked up
by id is a 404, never a 403. Files are served through these views only, never from a public folder.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certificates import selectors, services
from certificates.errors import CertificateError
from certificates.links import verify_url
from certificates.models import Certificate, CertificateType, Transcript
from enrolment import selectors as enrolment_selectors
from enrolment import services as enrolment_services
from enrolment.models import Learner


def _learner(request: HttpRequest) -> Learner | None:
    # Read only: someone without a learner record has no certificates (an empty page, or 404 for
    # one looked up); asking for a transcript (a POST) is what makes the record.
    return enrolment_selectors.learner_of(request.user)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    if learner is None:
        return render(request, "certificates/learner/home.html", {"requests": [], "eligible": [], "transcripts": []})
    return render(
        request,
        "certificates/learner/home.html",
        {
            "requests": selectors.learner_requests(learner=learner),
            "eligible": selectors.eligible_types(learner=learner),
            "transcripts": selectors.learner_transcripts(learner=learner)[:10],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_certificate(request: HttpRequest, code: str) -> HttpResponse:
    """Confirm, then open a request for a certificate the learner is eligible for."""
    learner = _learner(request)
    cert_type = get_object_or_404(
        CertificateType.objects.select_related("school", "association", "programme", "rule"), code=code
    )
    if request.method == "POST":
        try:
            if learner is None:
                raise CertificateError(
                    _("Only learners ask for certificates: this one needs a completed programme or a credit-bank conversion.")
                )
            services.request_open(learner=learner, type=cert_type)
        except CertificateError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Your request for %(name)s is with %(body)s for review. We will email you when it is decided.")
                % {"name": cert_type.name, "body": cert_type.association.name},
            )
            return redirect("certs:home")
    return render(request, "certificates/learner/request_confirm.html", {"type": cert_type})


def _own_certificate(request: HttpRequest, serial: str) -> Certificate:
    learner = _learner(request)
    certificate = selectors.learner_certificate(learner=learner, serial=serial) if learner else None
    if certificate is None or not certificate.is_ready:
        raise Http404
    return certificate


@login_required
@require_GET
def certificate_detail(request: HttpRequest, serial: str) -> HttpResponse:
    certificate = _own_certificate(request, serial)
    return render(
        request,
        "certificates/learner/certificate.html",
        {"certificate": certificate, "type": certificate.request.type, "verify_url": verify_url(certificate.verification_code)},
    )


def _file_response(field, filename: str) -> FileResponse:
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
@never_cache
def certificate_pdf(request: HttpRequest, serial: str) -> FileResponse:
    certificate = _own_certificate(request, serial)
    return _file_response(certificate.pdf, f"{certificate.serial}.pdf")


@login_required
@require_POST
def transcript_request(request: HttpRequest) -> HttpResponse:
    # Asking is an explicit act: it makes the learner record if need be.
    learner = _learner(request) or enrolment_services.learner_register(user=request.user)
    transcript = services.transcript_request(learner=learner)
    messages.success(request, _("Your transcript is being prepared. This page updates itself when it is ready."))
    return redirect("certs:transcript", public_id=transcript.public_id)


def _own_transcript(request: HttpRequest, public_id) -> Transcript:
    learner = _learner(request)
    if learner is None:
        raise Http404
    return get_object_or_404(Transcript.objects.select_related("superseded_by"), public_id=public_id, learner=learner)


@login_required
@require_GET
def transcript_detail(request: HttpRequest, public_id) -> HttpResponse:
    transcript = _own_transcript(request, public_id)
    return render(
        request,
        "certificates/learner/transcript.html",
        {
            "transcript": transcript,
            "verify_url": verify_url(transcript.verification_code) if transcript.status == Transcript.Status.READY else "",
        },
    )


@login_required
@require_GET
@never_cache
def transcript_status(request: HttpRequest, public_id) -> JsonResponse:
    """What the transcript page polls: its state in words, and where to go once it is ready."""
    transcript = _own_transcript(request, public_id)
    return JsonResponse(
        {
            "status": transcript.status,
            "label": transcript.get_status_display(),
            "ready": transcript.status == Transcript.Status.READY,
            "failed": transcript.status == Transcript.Status.FAILED,
        }
    )


@login_required
@require_GET
@never_cache
def transcript_pdf(request: HttpRequest, public_id) -> FileResponse:
    transcript = _own_transcript(request, public_id)
    if transcript.status != Transcript.Status.READY:
        raise Http404
    return _file_response(transcript.pdf, f"transcript-{transcript.built_at:%Y%m%d-%H%M}.pdf")
