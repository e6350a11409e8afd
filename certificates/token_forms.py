"""The form reviewers make a partner-system API token with (``certificates.views.tokens``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from certificates import selectors
from ouc_portal.validators import PlainTextFormMixin
from schools.tokens import NAME_MAX_LENGTH


class TokenCreateForm(PlainTextFormMixin, forms.Form):
    # Stripped by the field: a name of blanks is no name.
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=_("Which partner system will use it, e.g. “Training records sync”. Everyone who reviews for the association sees it."),
        error_messages={"required": _("Give the token a name, e.g. the partner system that will use it.")},
    )
    association = forms.ModelChoiceField(
        label=_("Partner association"),
        queryset=None,
        to_field_name="slug",
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of your partner associations.")},
    )

    def __init__(self, *args, reviewer, **kwargs):
        super().__init__(*args, **kwargs)
        associations = selectors.reviewer_associations(reviewer=reviewer)
        self.fields["association"].queryset = associations
        self.fields["association"].label_from_instance = lambda a: a.name
        # One association: nothing to choose, and no select to read past on a phone.
        self.only_association = associations.first() if associations.count() == 1 else None
        if self.only_association is not None:
            del self.fields["association"]

    def chosen_association(self):
        return self.only_association or self.cleaned_data["association"]
