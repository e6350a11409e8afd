"""Forms of the school staff area (/manage/). They check input; the services decide and write."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from enrolment.models import Course, EnrolmentStatus, Intake, Programme, RequirementGroup
from ouc_portal.validators import LONG_TEXT_MAX, NumberRangeFormMixin, PlainTextFormMixin
from schools.models import LearningCentre

S = EnrolmentStatus
TEXTAREA = forms.Textarea(attrs={"rows": 4})
# Long texts of the catalogue (descriptions, outcomes, entry requirements) are limited to
# LONG_TEXT_MAX (ouc_portal.validators), as they are in the API.


def limit_length(form: forms.BaseForm, names, limit: int = LONG_TEXT_MAX) -> None:
    """Give model text fields without a length (TextField) one, checked and shown to the browser."""
    for name in names:
        field = form.fields.get(name)
        if field is None:
            continue
        field.max_length = limit
        field.validators.append(MaxLengthValidator(limit))
        field.widget.attrs["maxlength"] = str(limit)


def add_service_error(form: forms.Form, exc: ValidationError, *, field: str | None = None) -> None:
    """Put a service's refusal next to the field it names, or at the top of the form.

    ``full_clean`` in a service may name model fields the form does not show (the school, the
    search text); those errors go to the top rather than raising in ``add_error``.
    """
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields and name != NON_FIELD_ERRORS else None
            for error in errors:
                form.add_error(target, error)
        return
    form.add_error(field if field in form.fields else None, exc)


# --- Programmes, courses, structure ---------------------------------------------------------------


class ProgrammeForm(PlainTextFormMixin, forms.ModelForm):
    class Meta:
        model = Programme
        fields = [
            "code",
            "slug",
            "name_en",
            "name_zh",
            "kind",
            "qf_level",
            "total_credits",
            "duration_months",
            "delivery_mode",
            "description_en",
            "description_zh",
            "outcomes_en",
            "outcomes_zh",
            "entry_requirements_en",
            "entry_requirements_zh",
        ]
        help_texts = {
            "code": _("The programme's code in OUC's catalogue, e.g. NCT-A."),
            "slug": _("Lower-case letters, digits and hyphens; used in the web address."),
        }
        widgets = {
            "description_en": TEXTAREA,
            "description_zh": TEXTAREA,
            "outcomes_en": TEXTAREA,
            "outcomes_zh": TEXTAREA,
            "entry_requirements_en": TEXTAREA,
            "entry_requirements_zh": TEXTAREA,
        }

    LONG_TEXTS = (
        "description_en", "description_zh", "outcomes_en", "outcomes_zh",
        "entry_requirements_en", "entry_requirements_zh",
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_length(self, self.LONG_TEXTS)


class CourseForm(PlainTextFormMixin, forms.ModelForm):
    class Meta:
        model = Course
        fields = [
            "code",
            "name_en",
            "name_zh",
            "credits",
            "study_hours",
            "level",
            "description_en",
            "description_zh",
        ]
        widgets = {"description_en": TEXTAREA, "description_zh": TEXTAREA}

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.school = school
        limit_length(self, ("description_en", "description_zh"))

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        # The database holds "one code per school"; say so next to the field, not at the top.
        taken = Course.objects.filter(school=self.school, code__iexact=code).exclude(
            pk=self.instance.pk
        )
        if taken.exists():
            raise ValidationError(_("The school already has a course %(code)s.") % {"code": code})
        return code


class GroupForm(PlainTextFormMixin, forms.ModelForm):
    class Meta:
        model = RequirementGroup
        fields = ["name_en", "name_zh", "kind", "min_credits", "position"]

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("kind") == RequirementGroup.Kind.ELECTIVE
            and not (cleaned.get("min_credits") or Decimal("0")) > 0
        ):
            self.add_error(
                "min_credits", _("An elective group needs the credits a learner must earn from it.")
            )
        return cleaned


class GroupCourseForm(PlainTextFormMixin, forms.Form):
    course = forms.ModelChoiceField(
        label=_("Course"), queryset=Course.objects.none(), to_field_name="code"
    )

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.filter(school=school).order_by("code")
        self.fields["course"].label_from_instance = lambda c: f"{c.code} {c.name} ({c.credits})"


# --- Intakes --------------------------------------------------------------------------------------

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class IntakeForm(PlainTextFormMixin, forms.ModelForm):
    opens_at = forms.DateTimeField(
        label=_("Applications open"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    closes_at = forms.DateTimeField(
        label=_("Applications close"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )

    class Meta:
        model = Intake
        fields = [
            "programme",
            "year",
            "season",
            "centre",
            "opens_at",
            "closes_at",
            "starts_on",
            "capacity",
            "requires_approval",
        ]
        widgets = {"starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = Programme.objects.filter(school=school).order_by("code")
        self.fields["programme"].label_from_instance = lambda p: f"{p.code} {p.name}"
        self.fields["centre"].queryset = LearningCentre.objects.order_by("province", "name_en")
        self.fields["centre"].label_from_instance = lambda c: c.name
        if self.instance.pk and self.instance.enrolments.exists():
            # Enrolments copy the intake's programme: once people applied, it is fixed.
            self.fields["programme"].disabled = True
            self.fields["programme"].help_text = _(
                "Learners have applied: the programme can no longer change."
            )

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("Applications must close after they open."))
        return cleaned


# --- Applications and enrolments ------------------------------------------------------------------

ALL_STATUSES = "all"


class QueueFilterForm(NumberRangeFormMixin, forms.Form):
    intake = forms.ModelChoiceField(
        label=_("Intake"),
        queryset=Intake.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label=_("All intakes"),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["intake"].queryset = (
            Intake.objects.filter(programme__school=school)
            .select_related("programme", "centre")
            .order_by("-year", "season", "programme__code", "centre__code")
        )
        self.fields["intake"].label_from_instance = lambda i: (
            f"{i.programme.code} · {i.term_label} · {i.centre.name}"
        )
        self.fields["status"].choices = [(ALL_STATUSES, _("Any status")), *S.choices]

    def values(self) -> tuple[Intake | None, str | None]:
        """The intake and status to show; bad values fall back to the defaults (applied)."""
        self.is_valid()
        intake = self.cleaned_data.get("intake") if "intake" not in self.errors else None
        status = self.cleaned_data.get("status") if "status" not in self.errors else ""
        status = status or S.APPLIED
        return intake, (None if status == ALL_STATUSES else status)


class BulkDecisionForm(PlainTextFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("accept", _("Accept")),
            ("reject", _("Reject")),
            ("activate", _("Start studying (accepted learners)")),
        ],
    )
    enrolments = forms.ModelMultipleChoiceField(
        label=_("Applications"),
        queryset=None,
        to_field_name="public_id",
        error_messages={"required": _("Select at least one application.")},
    )
    reason = forms.CharField(
        label=_("Reason (needed for a rejection; the learner sees it)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, enrolments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enrolments"].queryset = enrolments
        # The inputs sit below the queue's table, outside the form element their checkboxes share.
        for name in ("decision", "reason"):
            self.fields[name].widget.attrs["form"] = "bulk-form"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Give the learners a reason for the rejection."))
        return cleaned


class EnrolmentActionForm(PlainTextFormMixin, forms.Form):
    """One staff action on one enrolment; rejecting and withdrawing need a reason."""

    ACTIONS = {
        "accept": S.ACCEPTED,
        "reject": S.REJECTED,
        "activate": S.ACTIVE,
        "complete": S.COMPLETED,
        "withdraw": S.WITHDRAWN,
    }
    NEEDS_REASON = frozenset({"reject", "withdraw"})

    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            ("accept", _("Accept")),
            ("reject", _("Reject")),
            ("activate", _("Start studying")),
            ("complete", _("Complete")),
            ("withdraw", _("Withdraw")),
        ],
        error_messages={
            "required": _("Choose one of the actions on the page."),
            "invalid_choice": _("Choose one of the actions on the page."),
        },
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        cleaned = super().clean()
        # The action is the button pressed, not an input the page shows with its errors: a
        # refusal of it goes to the top of the form, where the page shows it.
        for error in self.errors.pop("action", []):
            self.add_error(None, error)
        if cleaned.get("action") in self.NEEDS_REASON and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Give the learner a reason."))
        return cleaned


# --- Results --------------------------------------------------------------------------------------


class ResultsCourseForm(PlainTextFormMixin, forms.Form):
    course = forms.ModelChoiceField(
        label=_("Course"),
        queryset=Course.objects.none(),
        to_field_name="code",
        empty_label=_("Choose a course"),
    )

    def __init__(self, *args, courses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = courses
        self.fields["course"].label_from_instance = lambda c: f"{c.code} {c.name}"


class CourseResultsForm(PlainTextFormMixin, forms.Form):
    """Score and date inputs for each learner of an intake in one course (empty rows are skipped)."""

    assessed_on = forms.DateField(
        label=_("Assessment date for every row without its own"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, enrolments, **kwargs):
        super().__init__(*args, **kwargs)
        self.enrolments = list(enrolments)
        for enrolment in self.enrolments:
            name = enrolment.learner.legal_name or enrolment.learner.user.email
            self.fields[self.score_name(enrolment)] = forms.DecimalField(
                label=_("Score of %(name)s") % {"name": name},
                required=False,
                min_value=Decimal("0"),
                max_value=Decimal("100"),
                max_digits=5,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            )
            self.fields[self.date_name(enrolment)] = forms.DateField(
                label=_("Assessment date of %(name)s") % {"name": name},
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
            )

    @staticmethod
    def score_name(enrolment) -> str:
        return f"score_{enrolment.public_id.hex}"

    @staticmethod
    def date_name(enrolment) -> str:
        return f"date_{enrolment.public_id.hex}"

    def clean(self):
        cleaned = super().clean()
        default_day = cleaned.get("assessed_on")
        for enrolment in self.enrolments:
            score_name, date_name = self.score_name(enrolment), self.date_name(enrolment)
            if score_name in self.errors or date_name in self.errors:
                continue
            score, day = cleaned.get(score_name), cleaned.get(date_name)
            if score is None and day is not None:
                self.add_error(score_name, _("Enter the score, or clear the date."))
            elif score is not None and day is None and default_day is None:
                self.add_error(
                    date_name, _("Enter the assessment date (here or for every row above).")
                )
        return cleaned

    def filled_rows(self):
        """(enrolment, score, date) for every row with a score."""
        default_day = self.cleaned_data.get("assessed_on")
        for enrolment in self.enrolments:
            score = self.cleaned_data.get(self.score_name(enrolment))
            if score is not None:
                yield (
                    enrolment,
                    score,
                    self.cleaned_data.get(self.date_name(enrolment)) or default_day,
                )


CSV_CONTENT_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "application/csv",
        "application/vnd.ms-excel",
        "text/comma-separated-values",
        "application/octet-stream",
    }
)


class ResultsUploadForm(PlainTextFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Results file (CSV, UTF-8)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.RESULTS_CSV_MAX_BYTES
        if not upload.name.lower().endswith(".csv"):
            raise ValidationError(
                _(
                    "%(name)s is not a CSV file. Save the sheet as “CSV UTF-8 (.csv)” and upload that."
                )
                % {"name": upload.name}
            )
        if upload.size > limit:
            raise ValidationError(
                _("The file is %(size)s; the limit is %(limit)s. Split it into smaller files.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        content_type = (upload.content_type or "").split(";")[0].strip().lower()
        if content_type and content_type not in CSV_CONTENT_TYPES:
            raise ValidationError(_("The file is %(type)s, not CSV text.") % {"type": content_type})
        head = upload.read(4096)
        upload.seek(0)
        if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            # xlsx is a zip, xls an OLE file: a spreadsheet renamed to .csv.
            raise ValidationError(
                _(
                    "The file is a spreadsheet, not CSV text. Save it as “CSV UTF-8 (.csv)” and upload that."
                )
            )
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ValidationError(
                _("The file is UTF-16 text (“Unicode text”). Save it as “CSV UTF-8 (.csv)”.")
            )
        if b"\x00" in head:
            raise ValidationError(_("The file is not CSV text: it contains binary data."))
        return upload
