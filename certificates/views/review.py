"""The partner-association reviewers' desk (/review/): the queue of certificate requests, decisions
on one request or hundreds at once, the progress of a batch, the certificates issued, revocation.

Only reviewers (and superusers, who review for every association, as ``schools.roles`` says) get
in; anyone else who is signed in gets a 404 on every page and every POST, and a visitor is sent
to log in. Inside, everything of another association is a 404 too: the reads in
``certificates.selectors`` are scoped, so another association's request, batch or certificate is
simply not found. Every write goes through ``certificates.services``; a refusal
(``CertificateError``) is shown next to the form with the reason the service gives, what was typed
is kept, and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certificates import selectors, services
from certificates.errors import CertificateError
from certificates.forms import (
    QUEUE_FAILED,
    QUEUE_WAITING,
    ApproveForm,
    BulkDecisionForm,
    CertificateFilter,
    ReasonForm,
    ReviewQueueFilter,
    refusal,
)
from certificates.models import (
    REQUEST_TRANSITIONS,
    Certificate,
    CertificateRequest,
    RequestStatus,
    ReviewBatch,
)
from schools.models import PartnerAssociation
from schools.roles import roles_for

R = RequestStatus
QUEUE_PAGE_SIZE = 50
CERTIFICATES_PAGE_SIZE = 50
# A bulk confirmation page lists this many of the requests it decides, and counts the rest.
PREVIEW_SIZE = 50

REJECT_REASON_REQUIRED = pgettext_lazy("certificate request", "Give the learner a reason for the rejection.")
BULK_REJECT_REASON_REQUIRED = pgettext_lazy("certificate request", "Give the learners a reason for the rejection.")
REVOKE_REASON_REQUIRED = gettext_lazy("Give a reason for the revocation.")


def reviewer_required(view):
    """Signed in (else to the log-in page) and a reviewer or superuser (else 404).

    The role is checked before the method, so an outsider's POST is a 404 too, not a 405.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        roles = roles_for(request.user)
        if not (roles.is_reviewer or roles.superuser):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _learner_label(cert_request: CertificateRequest) -> str:
    learner = cert_request.learner
    return learner.legal_name or learner.user.email


def _queue_url(query: str = "") -> str:
    url = reverse("review:queue")
    return f"{url}?{query}" if query else url


# --- The queue --------------------------------------------------------------------------------


@reviewer_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    filterset = ReviewQueueFilter(request.GET, reviewer=request.user)
    page = Paginator(filterset.qs, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    filterset.is_valid()  # an invalid value is shown and ignored; the others still filter
    status = filterset.form.cleaned_data.get("status")
    if status in (QUEUE_WAITING, R.REQUESTED, R.UNDER_REVIEW):
        matching = page.paginator.count  # every row listed can be decided
    else:
        matching = filterset.qs.filter(status__in=selectors.DECIDABLE_STATES).count()
    return render(
        request,
        "certificates/review/queue.html",
        {
            "filter": filterset,
            "form": filterset.form,
            "filter_errors": filterset.form.errors,
            "page_obj": page,
            "requests": page.object_list,
            "decidable": selectors.DECIDABLE_STATES,
            "any_decidable": any(r.status in selectors.DECIDABLE_STATES for r in page.object_list),
            "matching": matching,
            "max_batch": services.MAX_BATCH,
            "filter_query": filterset.query_string,
        },
    )


# --- Bulk decisions ---------------------------------------------------------------------------


class _Refused(Exception):
    """A bulk decision refused before the confirmation page: said at the queue, nothing stored."""


@dataclass
class _Chosen:
    association: PartnerAssociation
    pks: list[int]
    preview: list[CertificateRequest]
    digest: str

    @property
    def count(self) -> int:
        return len(self.pks)


def _chosen_requests(request: HttpRequest, form: BulkDecisionForm) -> _Chosen:
    """The requests a bulk decision is about, all of one association the reviewer reviews for."""
    if form.matching:
        filterset = ReviewQueueFilter(QueryDict(form.cleaned_data["filter"]), reviewer=request.user)
        if not filterset.is_valid():
            # An ignored filter would widen "all that match": refuse rather than guess.
            raise _Refused(_("The queue's filter was not understood: set it again and retry."))
        chosen = filterset.qs.filter(status__in=selectors.DECIDABLE_STATES)
        rows = list(chosen.values_list("pk", "type__association_id", "status"))
        if not rows:
            raise _Refused(_("No request that matches this filter is waiting for a decision."))
    else:
        ids = form.cleaned_data["requests"]
        if not ids:
            raise _Refused(_("Select at least one request."))
        chosen = selectors.reviewer_requests(reviewer=request.user).filter(public_id__in=ids)
        rows = list(chosen.values_list("pk", "type__association_id", "status"))
        if len(rows) != len(ids):
            raise _Refused(
                _("Some selected requests are not in your association's queue any more.")
            )
        decided = sum(
            1 for _pk, _association, status in rows if status not in selectors.DECIDABLE_STATES
        )
        if decided:
            raise _Refused(
                ngettext(
                    "%(n)d of the selected requests is already decided: select only requests waiting for a decision.",
                    "%(n)d of the selected requests are already decided: select only requests waiting for a decision.",
                    decided,
                )
                % {"n": decided}
            )
    if len(rows) > services.MAX_BATCH:
        raise _Refused(
            _(
                "%(n)d requests match, and at most %(max)d can be decided at once. Narrow the filter "
                "(by certificate type, school, programme or dates) and try again."
            )
            % {"n": len(rows), "max": services.MAX_BATCH}
        )
    associations = {association_id for _pk, association_id, _status in rows}
    if len(associations) > 1:
        raise _Refused(
            _(
                "These requests belong to %(n)d partner associations, and a batch decides for one. "
                "Filter the queue by association first."
            )
            % {"n": len(associations)}
        )
    pks = [pk for pk, _association, _status in rows]
    return _Chosen(
        association=PartnerAssociation.objects.get(pk=associations.pop()),
        pks=pks,
        preview=list(chosen.order_by("requested_at", "pk")[:PREVIEW_SIZE]),
        digest=selectors.requests_digest(pks),
    )


@reviewer_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """From the queue: a confirmation page (how many, which association, the reason); confirmed:
    one batch through ``requests_bulk_decide``, all or nothing, then the batch's progress page."""
    form = BulkDecisionForm(request.POST)
    form.is_valid()
    back = _queue_url(form.cleaned_data.get("filter", ""))
    problems = [
        error
        for name in ("action", "requests", "filter", "digest")
        for error in form.errors.get(name, [])
    ]
    if problems:
        for problem in problems:
            messages.error(request, problem)
        return redirect(back)
    try:
        chosen = _chosen_requests(request, form)
    except _Refused as exc:
        messages.error(request, str(exc))
        return redirect(back)
    decision = form.decision
    form.use_reason_label()
    if form.cleaned_data["confirmed"] and not form.errors:
        reason = form.cleaned_data["reason"]
        if form.matching and form.cleaned_data["digest"] != chosen.digest:
            form.add_error(
                None,
                _(
                    "The requests that match this filter changed since you looked: check the list again and confirm."
                ),
            )
        elif decision == ReviewBatch.Decision.REJECT and not reason:
            form.add_error("reason", BULK_REJECT_REASON_REQUIRED)
        else:
            try:
                batch = services.requests_bulk_decide(
                    reviewer=request.user,
                    association=chosen.association,
                    request_ids=chosen.pks,
                    decision=decision,
                    reason=reason,
                )
            except CertificateError as exc:
                form.add_error(None, _("Refused: %(why)s") % {"why": refusal(exc)})
            else:
                if decision == ReviewBatch.Decision.APPROVE:
                    done = ngettext(
                        "%(n)d request approved; its certificate is being issued.",
                        "%(n)d requests approved; their certificates are being issued.",
                        batch.size,
                    )
                else:
                    done = ngettext(
                        "%(n)d request rejected.", "%(n)d requests rejected.", batch.size
                    )
                messages.success(request, done % {"n": batch.size})
                return redirect("review:batch", public_id=batch.public_id)
    return render(
        request,
        "certificates/review/bulk_confirm.html",
        {
            "form": form,
            "action": form.cleaned_data["action"],
            "decision": decision,
            "approve": decision == ReviewBatch.Decision.APPROVE,
            "matching": form.matching,
            "chosen": chosen,
            "more": chosen.count - len(chosen.preview),
            "request_ids": form.cleaned_data["requests"],
            "filter_query": form.cleaned_data["filter"],
            "back": back,
            # The confirmation answers a POST only: switching language goes back to the queue.
            "language_next": back,
        },
    )


# --- One request --------------------------------------------------------------------------------


def _request_or_404(request: HttpRequest, public_id) -> CertificateRequest:
    try:
        return selectors.reviewer_request(reviewer=request.user, public_id=public_id)
    except CertificateRequest.DoesNotExist:
        raise Http404 from None


@reviewer_required
@require_http_methods(["GET", "POST"])
def request_detail(request: HttpRequest, public_id) -> HttpResponse:
    cert_request = _request_or_404(request, public_id)
    here = reverse("review:request", kwargs={"public_id": cert_request.public_id})
    posted = request.POST.get("action") if request.method == "POST" else None
    approve_form = ApproveForm(request.POST if posted == "approve" else None, prefix="approve")
    reject_form = ReasonForm(
        request.POST if posted == "reject" else None,
        prefix="reject",
        required_message=REJECT_REASON_REQUIRED,
        label=pgettext_lazy("certificate request", "Reason for the rejection (the learner sees it)"),
    )
    if request.method == "POST":
        done = None
        try:
            if posted == "start_review":
                services.request_start_review(request=cert_request, reviewer=request.user)
                done = _("The request of %(learner)s is now under review.")
            elif posted == "approve":
                if approve_form.is_valid():
                    services.request_approve(
                        request=cert_request,
                        reviewer=request.user,
                        reason=approve_form.cleaned_data["reason"],
                    )
                    done = _(
                        "The request of %(learner)s is approved; the certificate is being issued."
                    )
            elif posted == "reject":
                if reject_form.is_valid():
                    services.request_reject(
                        request=cert_request,
                        reviewer=request.user,
                        reason=reject_form.cleaned_data["reason"],
                    )
                    done = _("The request of %(learner)s is rejected.")
            elif posted == "retry":
                services.certificate_retry_issue(request=cert_request, actor=request.user)
                done = _("Issuing the certificate of %(learner)s is being tried again.")
            else:
                messages.error(request, _("Choose to start the review, approve or reject."))
        except CertificateError as exc:
            target = {"approve": approve_form, "reject": reject_form}.get(posted)
            if target is not None:
                target.add_error(None, _("Refused: %(why)s") % {"why": refusal(exc)})
            else:
                messages.error(request, _("Refused: %(why)s") % {"why": refusal(exc)})
        if done:
            messages.success(request, done % {"learner": _learner_label(cert_request)})
            return redirect(here)
        # Read afresh: a refusal changed nothing, but another reviewer may have in the meantime.
        cert_request = _request_or_404(request, public_id)
    evidence = selectors.request_evidence(request=cert_request)
    allowed = REQUEST_TRANSITIONS.get(cert_request.status, frozenset())
    can_decide = R.APPROVED in allowed and R.REJECTED in allowed
    approved = cert_request.status == R.APPROVED
    if not can_decide:
        # The decision forms are not shown any more (someone decided meanwhile): say why here.
        for form in (approve_form, reject_form):
            for error in form.non_field_errors():
                messages.error(request, error)
    certificate = evidence.certificate
    return render(
        request,
        "certificates/review/request.html",
        {
            "cert_request": cert_request,
            "evidence": evidence,
            "learner": cert_request.learner,
            "enrolment": evidence.enrolment,
            "audit": evidence.audit,
            "certificate": certificate,
            "certificate_state": certificate.status_on() if certificate is not None else "",
            "own": cert_request.learner.user_id == request.user.pk,
            "can_start_review": R.UNDER_REVIEW in allowed,
            "can_decide": can_decide,
            "can_retry": approved and cert_request.issue_failed_at is not None,
            "issuing": approved and cert_request.issue_failed_at is None,
            "approve_form": approve_form,
            "reject_form": reject_form,
            "posted": posted,
        },
    )


# --- A batch and its progress -------------------------------------------------------------------


def _batch_or_404(request: HttpRequest, public_id) -> ReviewBatch:
    try:
        return selectors.reviewer_batch(reviewer=request.user, public_id=public_id)
    except ReviewBatch.DoesNotExist:
        raise Http404 from None


def _failed_url(batch: ReviewBatch) -> str:
    return _queue_url(urlencode({"status": QUEUE_FAILED, "batch": str(batch.public_id)}))


def batch_state(batch: ReviewBatch) -> dict:
    """A batch's progress, in numbers and in words: queued, working, ready, or n failed."""
    counts = selectors.batch_progress(batch=batch)
    total, waiting, failed = counts["total"], counts["waiting"], counts["failed"]
    processed = counts[
        "done"
    ]  # issued, revoked since, or failed: nothing more will happen by itself
    issued = counts[R.ISSUED] + counts[R.REVOKED]
    if waiting == 0:
        state = "failed" if failed else "ready"
    elif processed == 0:
        state = "queued"
    else:
        state = "working"
    if batch.decision == ReviewBatch.Decision.REJECT:
        label = ngettext(
            "Ready: %(n)d request rejected.", "Ready: all %(n)d requests rejected.", total
        ) % {"n": total}
    elif state == "queued":
        label = ngettext(
            "Queued: %(n)d certificate waiting to be issued.",
            "Queued: %(n)d certificates waiting to be issued.",
            total,
        ) % {"n": total}
    elif state == "working":
        label = _("Working: %(issued)d of %(total)d issued, %(waiting)d waiting.") % {
            "issued": issued, "total": total, "waiting": waiting,
        }  # fmt: skip
        if failed:
            label += " " + ngettext("%(n)d failed.", "%(n)d failed.", failed) % {"n": failed}
    elif state == "ready":
        label = ngettext(
            "Ready: %(n)d certificate issued.", "Ready: all %(n)d certificates issued.", total
        ) % {"n": total}
    else:
        label = ngettext(
            "%(n)d failed to issue; %(issued)d of %(total)d issued.",
            "%(n)d failed to issue; %(issued)d of %(total)d issued.",
            failed,
        ) % {"n": failed, "issued": issued, "total": total}
    state_labels = {
        "queued": _("Queued"),
        "working": _("Working"),
        "ready": _("Ready"),
        "failed": ngettext("%(n)d failed", "%(n)d failed", failed) % {"n": failed},
    }
    return {
        "state": state,
        "state_label": state_labels[state],
        "label": label,
        "finished": waiting == 0,
        "total": total,
        "processed": processed,
        "issued": issued,
        "waiting": waiting,
        "failed": failed,
        "counts": {status: counts[status] for status in R.values},
        "failed_url": _failed_url(batch),
    }


@reviewer_required
@require_GET
def batch(request: HttpRequest, public_id) -> HttpResponse:
    review_batch = _batch_or_404(request, public_id)
    return render(
        request,
        "certificates/review/batch.html",
        {"batch": review_batch, "progress": batch_state(review_batch), "statuses": R.choices},
    )


@reviewer_required
@require_GET
@never_cache
def batch_progress(request: HttpRequest, public_id) -> JsonResponse:
    """What the batch page polls every two seconds until the batch is finished."""
    return JsonResponse(batch_state(_batch_or_404(request, public_id)))


# --- Certificates issued ------------------------------------------------------------------------


@reviewer_required
@require_GET
def certificates(request: HttpRequest) -> HttpResponse:
    filterset = CertificateFilter(request.GET, reviewer=request.user)
    page = Paginator(filterset.qs, CERTIFICATES_PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for certificate in page.object_list:
        certificate.state = certificate.status_on(today)
    return render(
        request,
        "certificates/review/certificates.html",
        {
            "filter": filterset,
            "form": filterset.form,
            "filter_errors": filterset.form.errors,
            "page_obj": page,
            "certificates": page.object_list,
        },
    )


@reviewer_required
@require_http_methods(["GET", "POST"])
def revoke(request: HttpRequest, serial: str) -> HttpResponse:
    try:
        certificate = selectors.reviewer_certificate(reviewer=request.user, serial=serial)
    except Certificate.DoesNotExist:
        raise Http404 from None
    form = ReasonForm(
        request.POST or None,
        required_message=REVOKE_REASON_REQUIRED,
        label=_("Reason for the revocation (the learner sees it)"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.certificate_revoke(
                certificate=certificate, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except CertificateError as exc:
            form.add_error(None, _("Refused: %(why)s") % {"why": refusal(exc)})
        else:
            messages.success(
                request, _("Certificate %(serial)s is revoked.") % {"serial": certificate.serial}
            )
            return redirect(
                f"{reverse('review:certificates')}?{urlencode({'q': certificate.serial})}"
            )
    return render(
        request,
        "certificates/review/revoke.html",
        {
            "certificate": certificate,
            "cert_request": certificate.request,
            "learner": certificate.request.learner,
            "state": certificate.status_on(),
            "form": form,
        },
    )
