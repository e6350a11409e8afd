"""A signed-in person's own data (/me/data/) and closing their account (/me/close/).

Thin on purpose: what is exported and what closing erases live in ``personal_data``.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from ouc_portal.accounts import personal_data
from ouc_portal.accounts.personal_data import AccountCloseError


@login_required
@require_safe
def my_data(request: HttpRequest) -> HttpResponse:
    """What the portal holds about the person, in words and numbers, with the download."""
    return render(
        request,
        "accounts/my_data.html",
        {"counts": personal_data.personal_data_summary(request.user)},
    )


@login_required
@require_safe
@never_cache
def my_data_download(request: HttpRequest) -> HttpResponse:
    """The whole export as a JSON file: only ever the signed-in person's own."""
    document = personal_data.personal_data_export(user=request.user)
    response = HttpResponse(
        json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{personal_data.export_filename()}"'
    )
    # Personal data: no shared cache may keep a copy, and the browser must not sniff another type.
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class CloseAccountForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=gettext_lazy("Type it again: closing cannot be undone."),
        error_messages={"required": gettext_lazy("Type your password to confirm it is you.")},
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I understand that my account is closed for good and my personal data is erased."
        ),
        error_messages={"required": gettext_lazy("Tick the box to confirm you want to close your account.")},
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("This is not your password. Nothing was changed."))
        return password


@login_required
@require_http_methods(["GET", "POST"])
def close_account(request: HttpRequest) -> HttpResponse:
    """Explain what closing erases and keeps; close it on a confirmed POST, then sign out."""
    user = request.user
    refusal = personal_data.staff_refusal(user)
    form = CloseAccountForm(request.POST or None, user=user)
    if request.method == "POST":
        if refusal:
            form.is_valid()  # bound, so the page shows the refusal next to the form
            form.add_error(None, refusal)
        elif form.is_valid():
            try:
                closed = personal_data.account_close(user=user)
            except AccountCloseError as exc:
                form.add_error(exc.field, exc.message)
            else:
                logout(request)
                return render(request, "accounts/closed.html", {"closed": closed})
    return render(request, "accounts/close.html", {"form": form, "refusal": refusal})


@require_safe
def admin_login(request: HttpRequest) -> HttpResponse:
    """Django admin's own log-in form checks the password alone; it is replaced by this, which
    sends everyone through the portal's log-in and its second-factor step (second_factor).

    A signed-in person the admin turned away (no staff flag) is told so once, on the home page,
    instead of being sent round between the two log-in pages.
    """
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("admin:index")
    if request.user.is_authenticated:
        messages.warning(request, _("Your account has no access to the administration."))
        return redirect("schools:home")
    return redirect(f"{reverse('account_login')}?{urlencode({'next': target})}")
