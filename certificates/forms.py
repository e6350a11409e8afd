"""Forms and filters of the certificates pages. They check the shape of what was sent;
``certificates.services`` decides, and its refusal (``CertificateError``) is shown as it is.

The filters live here rather than in a module of their own: they are the reviewers' GET forms.
An invalid filter value never filters silently: the page shows the error and ignores that filter.
"""

from __future__ import annotations

import datetime
import uuid

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from certificates import selectors
from certificates.models import RequestStatus, ReviewBatch
from ouc_portal.validators import REASON_MAX, PlainTextFormMixin

R = RequestStatus
TEXTAREA = forms.Textarea(attrs={"rows": 3})


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def refusal(exc: ValidationError) -> str:
    """A service's refusal in words, for a message or a form's non-field error."""
    return " ".join(exc.messages)


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the portal's time zone (so an index on the moment serves)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _learner_search(prefix: str, text: str) -> Q:
    return (
        Q(**{f"{prefix}learner__legal_name__icontains": text})
        | Q(**{f"{prefix}learner__user__name__icontains": text})
        | Q(**{f"{prefix}learner__user__email__icontains": text})
    )


class _DefaultsMixin:
    """Filter values a first visit gets (and the form shows), unless the reviewer chose others."""

    DEFAULTS: dict[str, str] = {}

    @staticmethod
    def _with_defaults(data: QueryDict | None, defaults: dict[str, str]) -> QueryDict:
        query = data.copy() if data is not None else QueryDict(mutable=True)
        for name, value in defaults.items():
            if not query.get(name):
                query[name] = value
        return query

    @property
    def is_filtering(self) -> bool:
        """Whether the reviewer asked for anything but the first visit's list."""
        return any(
            self.data.get(name) and self.data.get(name) != self.DEFAULTS.get(name)
            for name in self.filters
        )


# --- The reviewers' queue -----------------------------------------------------------------------

QUEUE_WAITING = "waiting"
QUEUE_ISSUING = "issuing"
QUEUE_FAILED = "failed"
QUEUE_ANY = "all"

QUEUE_STATUS_CHOICES = [
    (QUEUE_WAITING, _("Waiting for a decision (requested or under review)")),
    (R.REQUESTED.value, R.REQUESTED.label),
    (R.UNDER_REVIEW.value, R.UNDER_REVIEW.label),
    (QUEUE_ISSUING, _("Approved, being issued")),
    (QUEUE_FAILED, _("Failed to issue")),
    (R.REJECTED.value, R.REJECTED.label),
    (R.ISSUED.value, R.ISSUED.label),
    (R.REVOKED.value, R.REVOKED.label),
    (QUEUE_ANY, _("Any status")),
]

SORT_OLDEST = "oldest"
SORT_NEWEST = "newest"


class ReviewQueueFilter(_DefaultsMixin, django_filters.FilterSet):
    """The reviewers' queue: by status (waiting by default), type, school, programme, dates and
    learner, oldest first. The choices offered are the reviewer's own associations' alone."""

    DEFAULTS = {"status": QUEUE_WAITING, "sort": SORT_OLDEST}

    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=QUEUE_STATUS_CHOICES, empty_label=None, method="filter_status"
    )
    association = django_filters.ModelChoiceFilter(
        label=_("Partner association"),
        field_name="type__association",
        queryset=None,
        to_field_name="slug",
        empty_label=_("Any association"),
    )
    type = django_filters.ModelChoiceFilter(
        label=_("Certificate type"),
        field_name="type",
        queryset=None,
        to_field_name="code",
        empty_label=_("Any certificate type"),
    )
    school = django_filters.ModelChoiceFilter(
        label=_("Industry school"),
        field_name="type__school",
        queryset=None,
        to_field_name="slug",
        empty_label=_("Any school"),
    )
    programme = django_filters.ModelChoiceFilter(
        label=_("Programme"),
        field_name="enrolment__programme",
        queryset=None,
        to_field_name="code",
        empty_label=_("Any programme"),
    )
    requested_from = django_filters.DateFilter(
        label=_("Requested from"), method="filter_requested_from", widget=DateInput()
    )
    requested_to = django_filters.DateFilter(
        label=_("Requested until"), method="filter_requested_to", widget=DateInput()
    )
    q = django_filters.CharFilter(
        label=_("Learner name or email"), method="filter_learner", max_length=100
    )
    batch = django_filters.UUIDFilter(field_name="batch__public_id", widget=forms.HiddenInput)
    sort = django_filters.ChoiceFilter(
        label=_("Order"),
        choices=[(SORT_OLDEST, _("Oldest first")), (SORT_NEWEST, _("Newest first"))],
        empty_label=None,
        method="order",
    )

    def __init__(self, data=None, queryset=None, *, reviewer, **kwargs):
        queryset = selectors.reviewer_requests(reviewer=reviewer) if queryset is None else queryset
        super().__init__(self._with_defaults(data, self.DEFAULTS), queryset, **kwargs)
        associations = selectors.reviewer_associations(reviewer=reviewer)
        # One association: nothing to choose, and no select to read past on a phone.
        self.several_associations = associations.count() > 1
        if not self.several_associations:
            del self.filters["association"]
        else:
            self.filters["association"].queryset = associations
        self.filters["type"].queryset = selectors.reviewer_types(reviewer=reviewer)
        self.filters["school"].queryset = selectors.reviewer_schools(reviewer=reviewer)
        self.filters["programme"].queryset = selectors.reviewer_programmes(reviewer=reviewer)
        fields = self.form.fields
        fields["type"].label_from_instance = lambda t: f"{t.name} · {t.school.name}"
        fields["school"].label_from_instance = lambda s: s.name
        fields["programme"].label_from_instance = lambda p: f"{p.code} {p.name}"
        if "association" in fields:
            fields["association"].label_from_instance = lambda a: a.name

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == QUEUE_WAITING:
            return queryset.filter(status__in=selectors.DECIDABLE_STATES)
        if value == QUEUE_ISSUING:
            return queryset.filter(status=R.APPROVED, issue_failed_at__isnull=True)
        if value == QUEUE_FAILED:
            return queryset.filter(status=R.APPROVED, issue_failed_at__isnull=False)
        if value == QUEUE_ANY:
            return queryset
        return queryset.filter(status=value)

    def filter_requested_from(
        self, queryset: QuerySet, name: str, value: datetime.date
    ) -> QuerySet:
        return queryset.filter(requested_at__gte=_day_start(value))

    def filter_requested_to(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(requested_at__lt=_day_start(value + datetime.timedelta(days=1)))

    def filter_learner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(_learner_search("", value.strip()))

    def order(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == SORT_NEWEST:
            return queryset.order_by("-requested_at", "-pk")
        return queryset.order_by("requested_at", "pk")

    # Folded away on a phone (the status and the learner search stay in view) unless one is in use.
    FOLDED = (
        "association",
        "type",
        "school",
        "programme",
        "requested_from",
        "requested_to",
        "sort",
    )

    @property
    def folded_in_use(self) -> bool:
        return any(
            self.data.get(name) and self.data.get(name) != self.DEFAULTS.get(name)
            for name in self.FOLDED
        )

    @property
    def query_string(self) -> str:
        """The filters as asked for (without the page), for links and for "all that match"."""
        query = self.data.copy()
        query.pop("page", None)
        return query.urlencode()


# --- Decisions ----------------------------------------------------------------------------------


class UUIDListField(forms.Field):
    """The public ids of the requests ticked in the queue."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": _("A selected request was not recognised: reload the queue and select again."),
    }

    def to_python(self, value) -> list[uuid.UUID]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        try:
            return list(dict.fromkeys(uuid.UUID(str(item)) for item in value))
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class BulkDecisionForm(PlainTextFormMixin, forms.Form):
    """A bulk decision from the queue: the ticked requests, or every waiting request that matches
    the queue's filter; then, on the confirmation page, the same again with ``confirmed``."""

    APPROVE_SELECTED = "approve-selected"
    REJECT_SELECTED = "reject-selected"
    APPROVE_MATCHING = "approve-matching"
    ACTIONS = {
        APPROVE_SELECTED: (ReviewBatch.Decision.APPROVE, "selected"),
        REJECT_SELECTED: (ReviewBatch.Decision.REJECT, "selected"),
        APPROVE_MATCHING: (ReviewBatch.Decision.APPROVE, "matching"),
    }

    action = forms.ChoiceField(
        choices=[
            (APPROVE_SELECTED, _("Approve selected")),
            (REJECT_SELECTED, _("Reject selected")),
            (APPROVE_MATCHING, _("Approve all matching")),
        ],
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose to approve or to reject."),
            "invalid_choice": _("Choose to approve or to reject."),
        },
    )
    requests = UUIDListField(required=False)
    filter = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    digest = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Note (optional; the learners see it)"),
        required=False,
        max_length=REASON_MAX,
        widget=TEXTAREA,
    )

    @property
    def decision(self) -> str:
        return self.ACTIONS[self.cleaned_data["action"]][0]

    @property
    def matching(self) -> bool:
        return self.ACTIONS[self.cleaned_data["action"]][1] == "matching"

    def use_reason_label(self) -> None:
        if self.decision == ReviewBatch.Decision.REJECT:
            self.fields["reason"].label = pgettext_lazy("certificate request", "Reason for the rejection (the learners see it)")
            self["reason"].label = self.fields[
                "reason"
            ].label  # the bound field was made when cleaning
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = pgettext_lazy(
                "certificate request", "Give the learners a reason for the rejection."
            )


class ApproveForm(PlainTextFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Note (optional; the learner sees it)"),
        required=False,
        max_length=REASON_MAX,
        widget=TEXTAREA,
    )


class ReasonForm(PlainTextFormMixin, forms.Form):
    # Stripped by the field: a reason of blanks is no reason.
    reason = forms.CharField(
        label=_("Reason (the learner sees it)"), max_length=REASON_MAX, widget=TEXTAREA
    )

    def __init__(self, *args, required_message=None, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if required_message:
            self.fields["reason"].error_messages["required"] = required_message
        if label:
            self.fields["reason"].label = label


# --- Certificates issued ------------------------------------------------------------------------

CERTIFICATE_STATUS_CHOICES = [
    ("valid", _("Valid")),
    ("revoked", _("Revoked")),
    ("expired", _("Expired")),
]


class CertificateFilter(_DefaultsMixin, django_filters.FilterSet):
    """Certificates issued for the reviewer's associations, by status, flag, type, serial or learner."""

    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=CERTIFICATE_STATUS_CHOICES,
        empty_label=_("Any status"),
        method="filter_status",
    )
    flagged = django_filters.ChoiceFilter(
        label=_("Flagged for review"),
        choices=[("yes", _("Flagged")), ("no", _("Not flagged"))],
        empty_label=_("Flagged or not"),
        method="filter_flagged",
    )
    type = django_filters.ModelChoiceFilter(
        label=_("Certificate type"),
        field_name="request__type",
        queryset=None,
        to_field_name="code",
        empty_label=_("Any certificate type"),
    )
    q = django_filters.CharFilter(
        label=_("Serial number, learner name or email"), method="filter_search", max_length=100
    )

    def __init__(self, data=None, queryset=None, *, reviewer, **kwargs):
        queryset = (
            selectors.reviewer_certificates(reviewer=reviewer) if queryset is None else queryset
        )
        super().__init__(self._with_defaults(data, self.DEFAULTS), queryset, **kwargs)
        self.filters["type"].queryset = selectors.reviewer_types(reviewer=reviewer)
        self.form.fields["type"].label_from_instance = lambda t: f"{t.name} · {t.school.name}"

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(selectors.certificate_status_q(value))

    def filter_flagged(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(flagged_at__isnull=value != "yes")

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(serial__icontains=value) | _learner_search("request__", value))
