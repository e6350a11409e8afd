from __future__ import annotations

import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from enrolment.models import QF_LEVELS, DeliveryMode, Learner, ProgrammeKind
from enrolment.selectors import SORTS, CatalogueQuery
from ouc_portal.validators import PlainTextFormMixin
from schools.models import Industry, IndustrySchool, LearningCentre
from schools.regions import Province


def _blank(label):
    return [("", label)]


class CatalogueForm(forms.Form):
    """The catalogue's search and filters. Invalid values are reported and ignored, never a 500."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    school = forms.ChoiceField(label=_("Industry school"), required=False)
    industry = forms.ChoiceField(label=_("Industry"), required=False, choices=_blank(_("Any industry")) + list(Industry.choices))
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=_blank(_("Any kind")) + list(ProgrammeKind.choices))
    level = forms.TypedChoiceField(
        label=_("Level"), required=False, coerce=int, empty_value=None, choices=_blank(_("Any level")) + QF_LEVELS
    )
    delivery = forms.ChoiceField(
        label=_("Delivery"), required=False, choices=_blank(_("Any delivery")) + list(DeliveryMode.choices)
    )
    province = forms.ChoiceField(
        label=_("Province"), required=False, choices=_blank(_("Any province")) + list(Province.choices)
    )
    centre = forms.ChoiceField(label=_("Learning centre"), required=False)
    open_now = forms.BooleanField(label=_("Open for application now"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("name", _("Name")),
            ("level", _("Level")),
            ("credits", _("Credits, fewest first")),
            ("-credits", _("Credits, most first")),
            ("newest", _("Newest")),
        ],
    )

    def __init__(self, *args, schools=None, centres=None, **kwargs):
        super().__init__(*args, **kwargs)
        schools = schools if schools is not None else IndustrySchool.objects.all()
        centres = centres if centres is not None else LearningCentre.objects.all()
        self.fields["school"].choices = _blank(_("Any school")) + [(s.slug, s.name) for s in schools]
        self.fields["centre"].choices = _blank(_("Any centre")) + [(c.code, c.name) for c in centres]

    def query(self) -> CatalogueQuery:
        """The query from the valid fields only: one bad filter does not throw the others away."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        sort = data.get("sort") or "name"
        return CatalogueQuery(
            q=(data.get("q") or "").strip(),
            school=data.get("school") or "",
            industry=data.get("industry") or "",
            kind=data.get("kind") or "",
            level=data.get("level"),
            delivery=data.get("delivery") or "",
            province=data.get("province") or "",
            centre=data.get("centre") or "",
            open_now=bool(data.get("open_now")),
            sort=sort if sort in SORTS else "name",
        )


class ProfileForm(PlainTextFormMixin, forms.ModelForm):
    # clean_phone takes ASCII digits only, and says so in words a learner knows.
    plain_text_exempt = ("phone",)
    consent = forms.BooleanField(
        label=_("I have read and agree to the privacy notice"),
        required=True,
        error_messages={"required": _("Agree to the privacy notice to keep a learner profile.")},
    )

    class Meta:
        model = Learner
        fields = ["legal_name", "phone", "employer", "job_title", "industry", "province", "centre"]
        widgets = {
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            "legal_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "employer": forms.TextInput(attrs={"autocomplete": "organization"}),
            "job_title": forms.TextInput(attrs={"autocomplete": "organization-title"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ["legal_name", "phone", "employer", "job_title", "industry", "province"]:
            self.fields[name].required = True
        self.fields["consent"].initial = bool(self.instance.privacy_consent_at)
        # In the page's language (a centre without a Chinese name keeps its English one).
        self.fields["centre"].label_from_instance = lambda centre: centre.name

    def clean_phone(self) -> str:
        # NFKC first: a Chinese input method types fullwidth digits (１３８…), kept as 138….
        phone = "".join(unicodedata.normalize("NFKC", self.cleaned_data["phone"]).split())
        digits = phone[1:] if phone.startswith("+") else phone
        # ASCII digits only: str.isdigit() would take superscripts and other scripts' digits.
        if not (digits.isascii() and digits.isdigit()) or not 7 <= len(digits) <= 15:
            raise forms.ValidationError(_("Enter a phone number of 7 to 15 digits, e.g. 13800138000."))
        return phone


class WithdrawForm(PlainTextFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
