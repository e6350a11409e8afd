"""Forms of the credit bank's pages. They check the shape of what was sent; the services decide."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditbank.errors import CreditBankError
from creditbank.evidence import check_evidence
from creditbank.models import OutcomeKind, RecognitionStandard
from enrolment.models import QF_LEVELS
from ouc_portal.validators import NumberRangeFormMixin, PlainTextFormMixin
from schools.models import PartnerAssociation

MAX_EVIDENCE_FILES = 5
EVIDENCE_ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


class MultipleFileInput(forms.FileInput):
    # Django refuses ``multiple`` on a file input unless the widget says it returns a list.
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field whose ``clean`` returns the list of uploaded files (possibly several)."""

    def __init__(self, *args, max_files: int = MAX_EVIDENCE_FILES, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        # Empty files are refused by the evidence check, which names the file.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploads = [d for d in (data if isinstance(data, list | tuple) else [data]) if d]
        if not uploads:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        if len(uploads) > self.max_files:
            raise ValidationError(
                _("Attach at most %(max)s files; you chose %(n)s.") % {"max": self.max_files, "n": len(uploads)},
                code="max_files",
            )
        single = super().clean
        return [single(upload, initial) for upload in uploads]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class OutcomeSubmitForm(PlainTextFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(value, label) for value, label in OutcomeKind.choices if value != OutcomeKind.COURSE_RESULT],
    )
    title = forms.CharField(
        label=_("Title"), max_length=200, help_text=_("As printed on the certificate, e.g. CNC Lathe Operator (intermediate).")
    )
    issuing_body = forms.ModelChoiceField(
        label=_("Issuing partner association"),
        queryset=PartnerAssociation.objects.none(),
        required=False,
        empty_label=_("Another organisation (name it below)"),
    )
    issuing_body_name = forms.CharField(
        label=_("Issuing body"),
        max_length=200,
        required=False,
        help_text=_("The organisation that issued it, if it is not one of the partner associations."),
    )
    achieved_on = forms.DateField(label=_("Achieved on"), widget=DateInput())
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=DateInput())
    level = forms.TypedChoiceField(label=_("Level"), coerce=int, choices=QF_LEVELS)
    study_hours = forms.IntegerField(label=_("Study hours"), min_value=0, max_value=100000, required=False)
    grade = forms.CharField(label=_("Grade"), max_length=20, required=False)
    certificate_number = forms.CharField(label=_("Certificate number"), max_length=60, required=False)
    files = MultipleFileField(
        label=_("Evidence files"),
        help_text=_("One to five files: PDF, JPEG or PNG, at most 5 MB each."),
        widget=MultipleFileInput(attrs={"multiple": True, "accept": EVIDENCE_ACCEPT}),
        error_messages={"required": _("Attach at least one evidence file (PDF, JPEG or PNG).")},
    )

    # The fields handed to creditbank.services.outcome_submit as they are.
    OUTCOME_FIELDS = (
        "kind", "title", "issuing_body", "issuing_body_name", "achieved_on", "expires_on",
        "level", "study_hours", "grade", "certificate_number",
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issuing_body"].queryset = PartnerAssociation.objects.order_by("name_en")
        self.fields["issuing_body"].label_from_instance = lambda body: body.name

    def clean_files(self) -> list:
        """Every refused file is named, so the learner knows which one to replace."""
        uploads = self.cleaned_data["files"]
        problems = []
        for upload in uploads:
            try:
                check_evidence(upload)
            except CreditBankError as exc:
                problems.append(ValidationError(exc.message, code="evidence"))
        if problems:
            raise ValidationError(problems)
        return uploads

    # The service refuses these dates too; checked here as well, the message sits by its field.
    def clean_achieved_on(self):
        achieved = self.cleaned_data["achieved_on"]
        if achieved > timezone.localdate():
            raise ValidationError(_("The date achieved is in the future."), code="future")
        return achieved

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("issuing_body") and not (cleaned.get("issuing_body_name") or "").strip():
            if "issuing_body_name" not in self.errors:
                self.add_error(
                    "issuing_body_name", _("Choose the partner association that issued it, or name the issuing body.")
                )
        achieved, expires = cleaned.get("achieved_on"), cleaned.get("expires_on")
        if achieved and expires and expires <= achieved:
            self.add_error("expires_on", _("The expiry date must come after the date it was achieved."))
        return cleaned

    def outcome_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in self.OUTCOME_FIELDS}
        fields["issuing_body_name"] = (fields["issuing_body_name"] or "").strip()
        return fields


class WhatIfForm(NumberRangeFormMixin, forms.Form):
    standard = forms.ModelChoiceField(
        label=_("Recognition standard"), queryset=RecognitionStandard.objects.none(), empty_label=None
    )
    level = forms.TypedChoiceField(label=_("Level of the outcome"), coerce=int, choices=QF_LEVELS)

    def __init__(self, *args, standards=None, **kwargs):
        super().__init__(*args, **kwargs)
        if standards is not None:
            self.fields["standard"].queryset = standards
        self.fields["standard"].label_from_instance = lambda s: f"{s.code} v{s.version} — {s.title}"
