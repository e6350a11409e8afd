"""The learner's credit bank (/me/credits/): balance and ledger, outcomes, audit, lifelong file.

A learner reaches only their own records: anything else looked up by id is a 404, never a 403,
so nobody learns that another person's outcome, file or enrolment exists.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from creditbank import ledger, selectors, services
from creditbank.audit import audit_page_body, programme_audit
from creditbank.errors import CreditBankError
from creditbank.forms import OutcomeSubmitForm, WhatIfForm
from creditbank.models import LearningOutcome, OutcomeEvidence
from enrolment import selectors as enrolment_selectors
from enrolment import services as enrolment_services
from enrolment.models import Enrolment, Learner
from schools.roles import roles_for

LEDGER_PAGE_SIZE = 50


def _learner(request: HttpRequest) -> Learner | None:
    # Read only: someone without a learner record (staff who never signed up) sees an empty
    # credit bank with the way to begin; submitting an outcome (a POST) makes the record.
    return enrolment_selectors.learner_of(request.user)


def _learner_or_404(request: HttpRequest) -> Learner:
    learner = _learner(request)
    if learner is None:
        raise Http404
    return learner


def _enrolment_or_404(learner: Learner | None, public_id) -> Enrolment:
    if learner is None:
        raise Http404
    try:
        return selectors.learner_enrolment(learner=learner, public_id=public_id)
    except Enrolment.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    # Read, never opened here: an account opens with the learner record (an explicit action).
    account = selectors.learner_account(learner=learner) if learner is not None else None
    if account is None:
        return render(
            request,
            "creditbank/learner/home.html",
            {
                "account": None,
                "page_obj": Paginator([], LEDGER_PAGE_SIZE).get_page(1),
                "outcomes": [],
                "enrolments": selectors.learner_enrolments_for_audit(learner=learner) if learner is not None else [],
            },
        )
    page = Paginator(selectors.account_ledger(account=account), LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "creditbank/learner/home.html",
        {
            "account": account,
            "balance": ledger.balance(account),
            "page_obj": page,
            "outcomes": selectors.account_outcomes(account=account),
            "enrolments": selectors.learner_enrolments_for_audit(learner=learner),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def outcome_submit(request: HttpRequest) -> HttpResponse:
    form = OutcomeSubmitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            # Submitting is an explicit act: it makes the learner record (and account) if need be.
            learner = _learner(request) or enrolment_services.learner_register(user=request.user)
            outcome = services.outcome_submit(
                learner=learner, files=form.cleaned_data["files"], **form.outcome_fields()
            )
        except CreditBankError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your learning outcome is submitted. The credit bank will review it."))
            return redirect("credits:outcome_detail", public_id=outcome.public_id)
    return render(request, "creditbank/learner/outcome_submit.html", {"form": form})


@login_required
@require_GET
def outcome_detail(request: HttpRequest, public_id) -> HttpResponse:
    learner = _learner_or_404(request)
    try:
        page = selectors.learner_outcome(learner=learner, public_id=public_id)
    except LearningOutcome.DoesNotExist:
        raise Http404 from None
    return render(request, "creditbank/learner/outcome_detail.html", {"page": page, "outcome": page.outcome})


@login_required
@require_GET
@never_cache
def evidence_download(request: HttpRequest, public_id) -> FileResponse:
    try:
        learner = request.user.learner
    except Learner.DoesNotExist:
        learner = None
    try:
        evidence = selectors.evidence_for_download(
            public_id=public_id, learner=learner, officer=roles_for(request.user).is_credit_officer()
        )
        handle = evidence.file.open("rb")
    except (OutcomeEvidence.DoesNotExist, FileNotFoundError):
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=evidence.original_name, content_type=evidence.content_type
    )
    # The type was read from the content when it was uploaded; the browser must not guess another.
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def audit(request: HttpRequest, public_id) -> HttpResponse:
    enrolment = _enrolment_or_404(_learner(request), public_id)
    # The body comes from the cache while nothing it shows changed (creditbank.audit); the audit
    # itself is computed only if something reads it.
    return render(
        request,
        "creditbank/learner/audit.html",
        {
            "enrolment": enrolment,
            "body": mark_safe(audit_page_body(enrolment, request=request)),  # noqa: S308 (our template's output)
            "audit": SimpleLazyObject(lambda: programme_audit(enrolment)),
        },
    )


@login_required
@require_GET
def what_if(request: HttpRequest, public_id) -> HttpResponse:
    enrolment = _enrolment_or_404(_learner(request), public_id)
    standards = selectors.standards_in_force()
    # A GET form: choosing a standard only reads, so the result can be bookmarked and shared.
    form = WhatIfForm(request.GET or None, standards=standards)
    result = None
    if form.is_bound and form.is_valid():
        result = selectors.audit_what_if(
            enrolment=enrolment, standard=form.cleaned_data["standard"], level=form.cleaned_data["level"]
        )
    return render(
        request,
        "creditbank/learner/what_if.html",
        {"enrolment": enrolment, "form": form, "result": result, "has_standards": standards.exists()},
    )


@login_required
@require_GET
@never_cache
def lifelong_file(request: HttpRequest) -> HttpResponse:
    # Someone without a learner record has no file (404); the download opens nothing.
    learner = _learner_or_404(request)
    account = selectors.learner_account(learner=learner)
    data = selectors.lifelong_file(learner=learner)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    name = f"lifelong-learning-file-{account.number}.json" if account else "lifelong-learning-file.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
