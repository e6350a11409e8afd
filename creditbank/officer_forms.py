"""Forms of the credit-bank officers' pages (/credit-bank/). They check the shape of what was sent;
``creditbank.services`` decides, and its refusal (``CreditBankError``) is shown as it is."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditbank.ledger import credits
from creditbank.models import (
    CREDITS,
    ConversionMode,
    ConversionRule,
    LearningOutcome,
    OutcomeKind,
    OutcomeStatus,
    RecognitionStandard,
)
from enrolment.models import QF_LEVELS, Course, Programme, ProgrammeStatus, RequirementGroup
from ouc_portal.i18n import pick
from ouc_portal.validators import LONG_TEXT_MAX, REASON_MAX, PlainTextFormMixin
from schools.models import PartnerAssociation

TEXTAREA = forms.Textarea(attrs={"rows": 3})
QUEUE_WAITING = "waiting"
# What an officer writes: a reason the learner reads (as certificates' reviewers have), and the
# criteria of a standard. The database takes any length; a megabyte pasted by mistake is refused.
CRITERIA_MAX = LONG_TEXT_MAX


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def credits_field(**kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        max_digits=CREDITS["max_digits"], decimal_places=CREDITS["decimal_places"], **kwargs
    )


def add_service_error(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal next to the field it names, or at the top of the form.

    ``full_clean`` in a service may name model fields the form does not show (the version, the
    code of a frozen row); those go to the top rather than raising in ``add_error``.
    """
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields and name != NON_FIELD_ERRORS else None
            for error in errors:
                form.add_error(target, error)
        return
    for message in exc.messages:
        form.add_error(None, message)


def standard_label(standard: RecognitionStandard) -> str:
    return f"{standard.code} v{standard.version} — {standard.title} ({standard.credit_value})"


# --- The queue --------------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (QUEUE_WAITING, _("Waiting for a decision (submitted or under review)")),
            (OutcomeStatus.SUBMITTED, OutcomeStatus.SUBMITTED.label),
            (OutcomeStatus.UNDER_REVIEW, OutcomeStatus.UNDER_REVIEW.label),
        ]
        self.fields["kind"].choices = [("", _("Any kind")), *OutcomeKind.choices]

    def values(self) -> tuple[list[str], str | None]:
        """The statuses and kind to show; a bad value falls back to the default (all waiting)."""
        self.is_valid()
        status = self.cleaned_data.get("status") if "status" not in self.errors else ""
        kind = self.cleaned_data.get("kind") if "kind" not in self.errors else ""
        if status in (OutcomeStatus.SUBMITTED, OutcomeStatus.UNDER_REVIEW):
            statuses = [status]
        else:
            statuses = [OutcomeStatus.SUBMITTED, OutcomeStatus.UNDER_REVIEW]
        return statuses, kind or None


# --- Decisions on one outcome -----------------------------------------------------------------


class AccreditForm(PlainTextFormMixin, forms.Form):
    standard = forms.ModelChoiceField(
        label=_("Recognition standard"),
        queryset=RecognitionStandard.objects.none(),
        error_messages={"required": _("Choose the standard the outcome meets.")},
    )
    credits = credits_field(
        label=_("Credits granted"),
        required=False,
        min_value=Decimal(0),
        help_text=_("Leave empty to grant the standard's full credit value; at most that value."),
    )
    reason = forms.CharField(
        label=_("Why the outcome meets the standard (the learner sees it)"),
        max_length=REASON_MAX,
        widget=TEXTAREA,
        error_messages={"required": _("Say why the outcome meets the standard.")},
    )

    def __init__(self, *args, standards=None, **kwargs):
        super().__init__(*args, **kwargs)
        if standards is not None:
            self.fields["standard"].queryset = standards
        self.fields["standard"].label_from_instance = standard_label


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


# --- Standards --------------------------------------------------------------------------------


def outcome_kinds_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("Kinds of outcome accepted"),
        choices=OutcomeKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every kind is accepted."),
    )


class StandardForm(PlainTextFormMixin, forms.ModelForm):
    """Create a standard (version 1), or correct one no accreditation or rule uses yet."""

    outcome_kinds = outcome_kinds_field()
    accepted_bodies = forms.ModelMultipleChoiceField(
        label=_("Issuing bodies accepted"),
        queryset=PartnerAssociation.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("None chosen: outcomes of any issuing body are accepted."),
    )

    class Meta:
        model = RecognitionStandard
        fields = [
            "code", "title_en", "title_zh", "outcome_kinds", "level", "credit_value", "criteria_en",
            "criteria_zh", "currency_years", "effective_from", "effective_to",
        ]  # fmt: skip
        widgets = {
            "criteria_en": TEXTAREA,
            "criteria_zh": TEXTAREA,
            "effective_from": DateInput(),
            "effective_to": DateInput(),
        }
        help_texts = {"code": _("The accreditation unit's code, e.g. CNC-OP-4. Versions share it.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("criteria_en", "criteria_zh"):
            # A TextField has no length of its own: the form gives it one.
            field = self.fields[name]
            field.max_length = CRITERIA_MAX
            field.validators.append(MaxLengthValidator(CRITERIA_MAX))
            field.widget.attrs["maxlength"] = str(CRITERIA_MAX)
        self.fields["accepted_bodies"].queryset = PartnerAssociation.objects.order_by("name_en")
        self.fields["accepted_bodies"].label_from_instance = lambda body: body.name
        if self.instance.pk:
            # A version keeps its code: another code is another standard.
            del self.fields["code"]
            self.fields["accepted_bodies"].initial = list(self.instance.accepted_bodies.all())


class StandardNewVersionForm(PlainTextFormMixin, forms.Form):
    """The next version of a standard: when it starts, and its terms (prefilled with the current)."""

    effective_from = forms.DateField(
        label=_("New version in force from"),
        widget=DateInput(),
        help_text=_("The current version closes the day before."),
    )
    title_en = forms.CharField(label=_("Title (English)"), max_length=200)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    outcome_kinds = outcome_kinds_field()
    level = forms.TypedChoiceField(label=_("Level"), coerce=int, choices=QF_LEVELS)
    credit_value = credits_field(label=_("Credit value"), min_value=Decimal(0))
    criteria_en = forms.CharField(
        label=_("Criteria (English)"), max_length=CRITERIA_MAX, widget=TEXTAREA, required=False
    )
    criteria_zh = forms.CharField(
        label=_("Criteria (Chinese)"), max_length=CRITERIA_MAX, widget=TEXTAREA, required=False
    )
    currency_years = forms.IntegerField(
        label=_("Years an outcome stays current"), min_value=0, max_value=100
    )

    CHANGES = (
        "title_en",
        "title_zh",
        "outcome_kinds",
        "level",
        "credit_value",
        "criteria_en",
        "criteria_zh",
        "currency_years",
    )

    def __init__(self, *args, standard: RecognitionStandard, **kwargs):
        initial = {name: getattr(standard, name) for name in self.CHANGES}
        initial["effective_from"] = next_start(standard.effective_from)
        super().__init__(*args, initial=initial, **kwargs)

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.CHANGES}


def next_start(current_from: datetime.date) -> datetime.date:
    """A sensible first day for a successor: today, unless the current version started today or later."""
    today = timezone.localdate()
    return today if today > current_from else current_from + datetime.timedelta(days=1)


# --- Conversion rules -------------------------------------------------------------------------


class RuleForm(PlainTextFormMixin, forms.ModelForm):
    """Create a conversion rule (version 1), or correct one no conversion used yet.

    The courses list is grouped by programme; the service refuses a course that is not in the
    chosen programme's structure.
    """

    courses = forms.ModelMultipleChoiceField(
        label=_("Courses replaced"),
        queryset=Course.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("Courses of the chosen programme the outcome exempts."),
    )

    class Meta:
        model = ConversionRule
        fields = [
            "code", "standard", "second_standard", "min_grade", "max_age_years", "programme", "courses", "mode",
            "credits", "effective_from", "effective_to", "approving_body",
        ]  # fmt: skip
        widgets = {"effective_from": DateInput(), "effective_to": DateInput()}
        help_texts = {
            "code": _("The rule's code, e.g. NCT-CNC. Versions share it."),
            "second_standard": _(
                'Only for "Convergence of Two Certificates": the second outcome must be accredited under it.'
            ),
            "min_grade": _("Grades compare as text: A is better than B."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        standards = RecognitionStandard.objects.order_by("code", "-version")
        for name in ("standard", "second_standard"):
            self.fields[name].queryset = standards
            self.fields[name].label_from_instance = standard_label
        # Published programmes, and the rule's own programme should it have been archived since.
        published = Q(status=ProgrammeStatus.PUBLISHED)
        if self.instance.programme_id:
            published |= Q(pk=self.instance.programme_id)
        programmes = Programme.objects.filter(published).order_by("code")
        self.fields["programme"].queryset = programmes
        self.fields["programme"].label_from_instance = lambda p: f"{p.code} {p.name}"
        self.fields["approving_body"].queryset = PartnerAssociation.objects.order_by("name_en")
        self.fields["approving_body"].label_from_instance = lambda body: body.name
        courses = self.fields["courses"]
        courses.queryset = Course.objects.filter(
            group_memberships__programme__in=programmes
        ).distinct()
        courses.widget.choices = course_choices_by_programme(programmes)
        if self.instance.pk:
            del self.fields["code"]
            courses.initial = list(self.instance.courses.all())


def course_choices_by_programme(programmes) -> list:
    """Courses as option groups, one per programme, so the officer sees which course is whose."""
    groups: dict[int, list] = {}
    labels = {}
    for programme in programmes:
        labels[programme.pk] = f"{programme.code} {programme.name}"
        groups[programme.pk] = []
    rows = (
        Course.objects.filter(group_memberships__programme__in=list(labels))
        .values_list("group_memberships__programme_id", "pk", "code", "name_en", "name_zh")
        .order_by("group_memberships__programme__code", "code")
    )
    for programme_id, pk, code, name_en, name_zh in rows:
        groups[programme_id].append((pk, f"{code} {pick(name_en, name_zh)}"))
    return [(labels[pk], options) for pk, options in groups.items() if options]


class RuleNewVersionForm(PlainTextFormMixin, forms.Form):
    effective_from = forms.DateField(
        label=_("New version in force from"),
        widget=DateInput(),
        help_text=_("The current version closes the day before."),
    )
    min_grade = forms.CharField(label=_("Minimum grade"), max_length=20, required=False)
    max_age_years = forms.IntegerField(
        label=_("Maximum age of the outcome (years)"), min_value=0, max_value=100, required=False
    )
    mode = forms.ChoiceField(label=_("Mode"), choices=ConversionMode.choices)
    credits = credits_field(label=_("Credits per course"), min_value=Decimal(0))
    approving_body = forms.ModelChoiceField(
        label=_("Approving body"), queryset=PartnerAssociation.objects.none(), required=False
    )

    CHANGES = ("min_grade", "max_age_years", "mode", "credits", "approving_body")

    def __init__(self, *args, rule: ConversionRule, **kwargs):
        initial = {name: getattr(rule, name) for name in self.CHANGES}
        initial["approving_body"] = rule.approving_body_id
        initial["effective_from"] = next_start(rule.effective_from)
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["approving_body"].queryset = PartnerAssociation.objects.order_by("name_en")
        self.fields["approving_body"].label_from_instance = lambda body: body.name

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.CHANGES}


# --- Applying credits to a learner's enrolment ------------------------------------------------


def outcome_label(outcome: LearningOutcome) -> str:
    available = getattr(outcome, "available", None)
    if available is None:
        return outcome.title
    return _("%(title)s (%(available)s credits left)") % {
        "title": outcome.title,
        "available": credits(available),
    }


class ConversionApplyForm(PlainTextFormMixin, forms.Form):
    outcome = forms.ModelChoiceField(
        label=_("Accredited outcome"),
        queryset=LearningOutcome.objects.none(),
        to_field_name="public_id",
    )
    rule = forms.ModelChoiceField(
        label=_("Conversion rule in force"), queryset=ConversionRule.objects.none()
    )
    course = forms.ModelChoiceField(label=_("Course exempted"), queryset=Course.objects.none())
    second_outcome = forms.ModelChoiceField(
        label=_("Second outcome (two-certificate rules only)"),
        queryset=LearningOutcome.objects.none(),
        to_field_name="public_id",
        required=False,
    )

    def __init__(self, *args, outcomes, second_outcomes, rules, courses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].queryset = outcomes
        self.fields["outcome"].label_from_instance = outcome_label
        self.fields["second_outcome"].queryset = second_outcomes
        self.fields["second_outcome"].label_from_instance = outcome_label
        self.fields["rule"].queryset = rules
        self.fields["rule"].label_from_instance = rule_label
        self.fields["course"].queryset = courses
        self.fields["course"].label_from_instance = lambda c: f"{c.code} {c.name} ({c.credits})"


def rule_label(rule: ConversionRule) -> str:
    if rule.second_standard_id:
        return _("%(rule)s: %(std)s + %(second)s, %(credits)s credits a course") % {
            "rule": str(rule), "std": rule.standard.code, "second": rule.second_standard.code, "credits": rule.credits,
        }  # fmt: skip
    return _("%(rule)s: %(std)s, %(credits)s credits a course") % {
        "rule": str(rule), "std": rule.standard.code, "credits": rule.credits,
    }  # fmt: skip


class TransferApplyForm(PlainTextFormMixin, forms.Form):
    outcome = forms.ModelChoiceField(
        label=_("Accredited outcome"),
        queryset=LearningOutcome.objects.none(),
        to_field_name="public_id",
    )
    group = forms.ModelChoiceField(
        label=_("Requirement group"), queryset=RequirementGroup.objects.none()
    )
    credits = credits_field(label=_("Credits to transfer"), min_value=Decimal("0.1"))

    def __init__(self, *args, outcomes, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].queryset = outcomes
        self.fields["outcome"].label_from_instance = outcome_label
        self.fields["group"].queryset = groups
        self.fields["group"].label_from_instance = lambda g: g.name

    def clean_credits(self) -> Decimal:
        # As the ledger keeps them (one decimal place), so refusals quote "5.0", not "5".
        return self.cleaned_data["credits"].quantize(Decimal("0.1"))
