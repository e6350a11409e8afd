"""Partner-system API tokens on the reviewers' desk (/review/tokens/): the association's tokens,
active and revoked, with when each was last used; making one (its key shown once); revoking one.

Reviewers manage the tokens of the associations they review for; superusers every token. Another
association's token is a 404, as everything of another association on the desk. The writes are
``schools.tokens.partner_token_create`` and ``partner_token_revoke``, which audit them.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from certificates.token_forms import TokenCreateForm
from certificates.views.review import reviewer_required
from schools import tokens
from schools.models import PartnerToken
from schools.roles import roles_for

TOKENS_PAGE_SIZE = 50


@reviewer_required
@require_GET
def token_list(request: HttpRequest) -> HttpResponse:
    # Active tokens first, then the revoked ones, which only grow: a page at a time.
    page = Paginator(tokens.tokens_for(reviewer=request.user), TOKENS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    roles = roles_for(request.user)
    return render(
        request,
        "certificates/review/tokens.html",
        {
            "page_obj": page,
            "active": [t for t in rows if t.revoked_at is None],
            "revoked": [t for t in rows if t.revoked_at is not None],
            "several_associations": roles.superuser or len(roles.association_ids) > 1,
        },
    )


@reviewer_required
@require_http_methods(["GET", "POST"])
@never_cache  # the answer to a successful POST holds the key: no cache may keep it
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None, reviewer=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            made = tokens.partner_token_create(
                association=form.chosen_association(), name=form.cleaned_data["name"], created_by=request.user
            )
        except tokens.TokenError as exc:
            form.add_error(None, _("Refused: %(why)s") % {"why": " ".join(exc.messages)})
        else:
            # Shown here, once: the key is not stored, so no later page can show it again.
            return render(
                request, "certificates/review/token_created.html", {"token": made.token, "key": made.key}
            )
    return render(request, "certificates/review/token_create.html", {"form": form})


@reviewer_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, public_id) -> HttpResponse:
    try:
        token = tokens.token_for(reviewer=request.user, public_id=public_id)
    except PartnerToken.DoesNotExist:
        raise Http404 from None
    error = None
    if request.method == "POST":
        try:
            tokens.partner_token_revoke(token=token, revoked_by=request.user)
        except tokens.TokenError as exc:
            error = _("Refused: %(why)s") % {"why": " ".join(exc.messages)}
            messages.error(request, error)
        else:
            messages.success(
                request,
                _("The token “%(name)s” (%(prefix)s…) is revoked: its key no longer works.")
                % {"name": token.name, "prefix": token.prefix},
            )
            return redirect("review:tokens")
    return render(request, "certificates/review/token_revoke.html", {"token": token, "error": error})
