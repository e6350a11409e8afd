"""The credit-bank officers' desk (/credit-bank/): the queue of outcomes, decisions on them,
recognition standards and conversion rules, and credits applied to a learner's enrolments.

Only credit-bank officers (and superusers) get in; anyone else who is signed in gets a 404, never
a 403, on every page and every POST, so nobody learns what the desk holds. Every write goes
through ``creditbank.services``; a refusal (``CreditBankError``, or the ledger's own refusal to
go below zero) is shown with the reason the service gives, and nothing is written.

One page here is not the officers' alone: a school's administrators read their own learners'
programme audits (``school_audit``), read-only, at /manage/<school>/enrolments/<id>/audit/.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from creditbank import ledger, selectors, services
from creditbank.audit import programme_audit
from creditbank.errors import CreditBankError
from creditbank.models import (
    OUTCOME_TRANSITIONS,
    ConversionRule,
    LearningOutcome,
    OutcomeEvidence,
    OutcomeStatus,
    RecognitionStandard,
)
from creditbank.officer_forms import (
    AccreditForm,
    ConversionApplyForm,
    QueueFilterForm,
    ReasonForm,
    RuleForm,
    RuleNewVersionForm,
    StandardForm,
    StandardNewVersionForm,
    TransferApplyForm,
    add_service_error,
)
from creditbank.selectors import OutcomePage
from enrolment.models import Enrolment, Learner
from schools.models import IndustrySchool
from schools.roles import require_school_admin, roles_for

OS = OutcomeStatus
QUEUE_PAGE_SIZE = 50


def officer_required(view):
    """Signed in (else to the log-in page) and a credit-bank officer or superuser (else 404).

    The role is checked before the method, so an outsider's POST is a 404 too, not a 405.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not roles_for(request.user).is_credit_officer():
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _refusal(exc: CreditBankError | ledger.LedgerError) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


REFUSALS = (CreditBankError, ledger.LedgerError)


# --- The queue --------------------------------------------------------------------------------


@officer_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    filters = QueueFilterForm(request.GET)
    statuses, kind = filters.values()
    page = Paginator(selectors.officer_queue(statuses=statuses, kind=kind), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "creditbank/officer/queue.html", {"filters": filters, "page_obj": page})


# --- One outcome ------------------------------------------------------------------------------


def _outcome_or_404(public_id) -> OutcomePage:
    try:
        return selectors.officer_outcome(public_id=public_id)
    except LearningOutcome.DoesNotExist:
        raise Http404 from None


def _outcome_url(outcome: LearningOutcome) -> str:
    return reverse("creditbank:outcome_review", kwargs={"public_id": outcome.public_id})


REJECT_REASON_REQUIRED = pgettext_lazy("learning outcome", "Give the learner a reason for the rejection.")
REVOKE_REASON_REQUIRED = gettext_lazy("Give a reason for the revocation.")


@officer_required
@require_http_methods(["GET", "POST"])
def outcome_review(request: HttpRequest, public_id) -> HttpResponse:
    page = _outcome_or_404(public_id)
    outcome = page.outcome
    standards = selectors.standards_for_outcome(outcome=outcome)
    posted = request.POST.get("action") if request.method == "POST" else None
    accredit_form = AccreditForm(
        request.POST if posted == "accredit" else None, standards=standards, prefix="accredit"
    )
    reject_form = ReasonForm(
        request.POST if posted == "reject" else None,
        prefix="reject",
        required_message=REJECT_REASON_REQUIRED,
        label=_("Reason for the rejection (the learner sees it)"),
    )
    if request.method == "POST":
        done = None
        try:
            if posted == "start_review":
                services.outcome_start_review(outcome=outcome, officer=request.user)
                done = _("%(title)s is now under review.")
            elif posted == "accredit":
                if accredit_form.is_valid():
                    services.outcome_accredit(
                        outcome=outcome,
                        standard=accredit_form.cleaned_data["standard"],
                        officer=request.user,
                        reason=accredit_form.cleaned_data["reason"],
                        credits=accredit_form.cleaned_data["credits"],
                    )
                    done = _("%(title)s is accredited; its credits are in the learner's account.")
            elif posted == "reject":
                if reject_form.is_valid():
                    services.outcome_reject(
                        outcome=outcome,
                        officer=request.user,
                        reason=reject_form.cleaned_data["reason"],
                    )
                    done = _("%(title)s is rejected.")
            else:
                messages.error(request, _("Choose to start the review, accredit or reject."))
        except REFUSALS as exc:
            messages.error(request, _("Refused: %(why)s") % {"why": _refusal(exc)})
        if done:
            messages.success(request, done % {"title": outcome.title})
            return redirect(_outcome_url(outcome))
        # Read afresh: a refusal changed nothing, but another officer may have in the meantime.
        page = _outcome_or_404(public_id)
    allowed = OUTCOME_TRANSITIONS.get(page.outcome.status, frozenset())
    return render(
        request,
        "creditbank/officer/outcome_review.html",
        {
            "page": page,
            "outcome": page.outcome,
            "learner": page.outcome.account.learner,
            "own": page.outcome.account.learner.user_id == request.user.pk,
            "balance": ledger.balance(page.outcome.account),
            "available": ledger.outcome_available(page.outcome),
            "can_start_review": OS.UNDER_REVIEW in allowed,
            "can_decide": OS.ACCREDITED in allowed and OS.REJECTED in allowed,
            "can_revoke": OS.REVOKED in allowed,
            "has_standards": bool(standards),
            "accredit_form": accredit_form,
            "reject_form": reject_form,
            "posted": posted,
        },
    )


@officer_required
@require_http_methods(["GET", "POST"])
def outcome_revoke(request: HttpRequest, public_id) -> HttpResponse:
    page = _outcome_or_404(public_id)
    outcome = page.outcome
    if outcome.status != OS.ACCREDITED:
        messages.error(
            request,
            _("Only an accredited outcome can be revoked; this one is %(status)s.")
            % {"status": outcome.get_status_display()},
        )
        return redirect(_outcome_url(outcome))
    form = ReasonForm(
        request.POST or None,
        required_message=REVOKE_REASON_REQUIRED,
        label=_("Reason for the revocation (the learner sees it)"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            reversals = services.outcome_revoke(
                outcome=outcome, officer=request.user, reason=form.cleaned_data["reason"]
            )
        except REFUSALS as exc:
            messages.error(request, _("Refused: %(why)s") % {"why": _refusal(exc)})
        else:
            messages.success(
                request,
                _("%(title)s is revoked; %(n)s reversing ledger entries written.")
                % {"title": outcome.title, "n": len(reversals)},
            )
            return redirect(_outcome_url(outcome))
    preview = selectors.revocation_preview(outcome=outcome)
    balance = ledger.balance(outcome.account)
    return render(
        request,
        "creditbank/officer/outcome_revoke.html",
        {
            "outcome": outcome,
            "learner": outcome.account.learner,
            "preview": preview,
            "balance": balance,
            "balance_after": balance + preview.balance_change,
            "form": form,
        },
    )


@officer_required
@require_GET
@never_cache
def evidence_download(request: HttpRequest, public_id) -> FileResponse:
    try:
        evidence = selectors.evidence_for_download(public_id=public_id, learner=None, officer=True)
        handle = evidence.file.open("rb")
    except (OutcomeEvidence.DoesNotExist, FileNotFoundError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )
    # The type was read from the content at upload; the browser must not guess another.
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Recognition standards --------------------------------------------------------------------


def _standard_or_404(code: str, version: int) -> RecognitionStandard:
    return get_object_or_404(RecognitionStandard, code=code, version=version)


@officer_required
@require_GET
def standard_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "creditbank/officer/standard_list.html", {"standards": selectors.officer_standards()}
    )


def _standard_form_page(request: HttpRequest, standard: RecognitionStandard) -> HttpResponse:
    creating = standard.pk is None
    in_use = not creating and services.standard_in_use(standard)
    label = str(standard)
    form = StandardForm(request.POST or None, instance=standard)
    if request.method == "POST" and form.is_valid():
        try:
            standard = services.standard_save(
                standard=form.instance, accepted_bodies=form.cleaned_data["accepted_bodies"]
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Standard %(std)s saved.") % {"std": str(standard)})
            return redirect("creditbank:standard_list")
    return render(
        request,
        "creditbank/officer/standard_form.html",
        {
            "form": form,
            "creating": creating,
            "in_use": in_use,
            "label": label,
            "standard": standard,
        },
    )


@officer_required
@require_http_methods(["GET", "POST"])
def standard_create(request: HttpRequest) -> HttpResponse:
    return _standard_form_page(request, RecognitionStandard(version=1))


@officer_required
@require_http_methods(["GET", "POST"])
def standard_edit(request: HttpRequest, code: str, version: int) -> HttpResponse:
    return _standard_form_page(request, _standard_or_404(code, version))


@officer_required
@require_http_methods(["GET", "POST"])
def standard_new_version(request: HttpRequest, code: str, version: int) -> HttpResponse:
    standard = _standard_or_404(code, version)
    form = StandardNewVersionForm(request.POST or None, standard=standard)
    if request.method == "POST" and form.is_valid():
        try:
            successor = services.standard_new_version(
                standard=standard,
                effective_from=form.cleaned_data["effective_from"],
                **form.changes(),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Standard %(new)s is published from %(day)s; %(old)s closes the day before.")
                % {
                    "new": str(successor),
                    "day": successor.effective_from.isoformat(),
                    "old": str(standard),
                },
            )
            return redirect("creditbank:standard_list")
    return render(
        request,
        "creditbank/officer/standard_new_version.html",
        {"form": form, "standard": standard},
    )


# --- Conversion rules -------------------------------------------------------------------------


def _rule_or_404(code: str, version: int) -> ConversionRule:
    return get_object_or_404(
        ConversionRule.objects.select_related("programme"), code=code, version=version
    )


@officer_required
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "creditbank/officer/rule_list.html", {"rules": selectors.officer_rules()})


def _rule_form_page(request: HttpRequest, rule: ConversionRule) -> HttpResponse:
    creating = rule.pk is None
    in_use = not creating and services.rule_in_use(rule)
    label = str(rule)
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.rule_save(
                rule=form.instance, courses=list(form.cleaned_data["courses"])
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Rule %(rule)s saved.") % {"rule": str(rule)})
            return redirect("creditbank:rule_list")
    return render(
        request,
        "creditbank/officer/rule_form.html",
        {"form": form, "creating": creating, "in_use": in_use, "label": label, "rule": rule},
    )


@officer_required
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form_page(request, ConversionRule(version=1))


@officer_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, code: str, version: int) -> HttpResponse:
    return _rule_form_page(request, _rule_or_404(code, version))


@officer_required
@require_http_methods(["GET", "POST"])
def rule_new_version(request: HttpRequest, code: str, version: int) -> HttpResponse:
    rule = _rule_or_404(code, version)
    form = RuleNewVersionForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            successor = services.rule_new_version(
                rule=rule, effective_from=form.cleaned_data["effective_from"], **form.changes()
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Rule %(new)s is published from %(day)s; %(old)s closes the day before.")
                % {
                    "new": str(successor),
                    "day": successor.effective_from.isoformat(),
                    "old": str(rule),
                },
            )
            return redirect("creditbank:rule_list")
    return render(request, "creditbank/officer/rule_new_version.html", {"form": form, "rule": rule})


# --- Applying credits to a learner's enrolments ------------------------------------------------


def _enrolment_forms(request: HttpRequest, desk: selectors.LearnerDesk, posted: str | None) -> list[dict]:
    """Per open enrolment: its audit and the two forms, the one that was posted bound."""
    today = timezone.localdate()
    rows = []
    for enrolment in desk.enrolments:
        hex_id = enrolment.public_id.hex
        conversion_prefix, transfer_prefix = f"conversion-{hex_id}", f"transfer-{hex_id}"
        programme = enrolment.programme
        conversion = ConversionApplyForm(
            request.POST if posted == conversion_prefix else None,
            prefix=conversion_prefix,
            outcomes=desk.usable_outcomes,
            second_outcomes=desk.accredited_outcomes,
            rules=selectors.rules_in_force(programme=programme, day=today),
            courses=selectors.programme_courses(programme=programme),
        )
        transfer = TransferApplyForm(
            request.POST if posted == transfer_prefix else None,
            prefix=transfer_prefix,
            outcomes=desk.usable_outcomes,
            groups=selectors.programme_groups(programme=programme),
        )
        rows.append(
            {
                "enrolment": enrolment,
                "audit": programme_audit(enrolment),
                "conversion_form": conversion,
                "transfer_form": transfer,
            }
        )
    return rows


@officer_required
@require_http_methods(["GET", "POST"])
def learner(request: HttpRequest, public_id) -> HttpResponse:
    try:
        desk = selectors.learner_desk(public_id=public_id)
    except Learner.DoesNotExist:
        raise Http404 from None
    posted = request.POST.get("form") if request.method == "POST" else None
    rows = _enrolment_forms(request, desk, posted)
    if request.method == "POST":
        bound = next(
            (
                (row["enrolment"], kind, form)
                for row in rows
                for kind, form in (
                    ("conversion", row["conversion_form"]),
                    ("transfer", row["transfer_form"]),
                )
                if form.is_bound
            ),
            None,
        )
        if bound is None:
            messages.error(request, _("That form is not on this page any more: choose again."))
            return redirect(request.path)
        enrolment, kind, form = bound
        if form.is_valid():
            data = form.cleaned_data
            try:
                if kind == "conversion":
                    services.conversion_apply(
                        outcome=data["outcome"], enrolment=enrolment, course=data["course"], rule=data["rule"],
                        officer=request.user, second_outcome=data["second_outcome"],
                    )  # fmt: skip
                    done = _("%(course)s is exempted in %(programme)s under %(rule)s.") % {
                        "course": data["course"].code, "programme": enrolment.programme.code, "rule": str(data["rule"]),
                    }  # fmt: skip
                else:
                    services.transfer_apply(
                        outcome=data["outcome"], enrolment=enrolment, group=data["group"], credits=data["credits"],
                        officer=request.user,
                    )  # fmt: skip
                    done = _("%(credits)s credits transferred to %(programme)s (%(group)s).") % {
                        "credits": data["credits"], "programme": enrolment.programme.code, "group": data["group"].name,
                    }  # fmt: skip
            except REFUSALS as exc:
                form.add_error(None, _("Refused: %(why)s") % {"why": _refusal(exc)})
            else:
                messages.success(request, done)
                return redirect(request.path)
    return render(
        request,
        "creditbank/officer/learner.html",
        {
            "learner": desk.learner,
            "account": desk.account,
            "balance": desk.balance,
            "usable_outcomes": desk.usable_outcomes,
            "outcomes": desk.outcomes,
            "rows": rows,
        },
    )


# --- A school's read-only view of its learners' audits -----------------------------------------


@login_required
@require_GET
def school_audit(request: HttpRequest, school_slug: str, public_id) -> HttpResponse:
    school = get_object_or_404(IndustrySchool, slug=school_slug)
    roles = roles_for(request.user)
    if not roles.is_credit_officer():
        require_school_admin(request.user, school.pk)
    try:
        enrolment = selectors.school_enrolment_for_audit(school=school, public_id=public_id)
    except Enrolment.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "creditbank/officer/school_audit.html",
        {
            "school": school,
            "enrolment": enrolment,
            "learner": enrolment.learner,
            "audit": programme_audit(enrolment),
            "school_view": roles.administers(school.pk),
        },
    )
