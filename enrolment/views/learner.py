"""Catalogue pages for everyone and the learner's own area (/me/)."""

from __future__ import annotations

from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from enrolment import cache as catalogue_cache
from enrolment import selectors, services
from enrolment.forms import CatalogueForm, ProfileForm, WithdrawForm
from enrolment.models import Enrolment, EnrolmentStatus, Intake, Learner
from enrolment.selectors import CatalogueQuery
from enrolment.services import EnrolmentError
from ouc_portal.pagecache import cached_fragment, public_page
from schools.models import LearningCentre

CATALOGUE_PAGE_SIZE = 20


# Anonymous visitors get the whole page from the cache (ouc_portal.pagecache), per language,
# until the catalogue changes; signed-in people get it rendered, from the cached fragments.
@public_page(catalogue_cache.CATALOGUE_PAGE)
def programme_list(request: HttpRequest) -> HttpResponse:
    # The school and centre choices and the result cards come from the catalogue cache
    # (enrolment/cache.py), per language; the form is bound to this request's query string.
    choices = catalogue_cache.catalogue_choices()
    # Always bound: an empty query string is a valid search for everything.
    form = CatalogueForm(
        request.GET,
        schools=[SimpleNamespace(slug=slug, name=name) for slug, name in choices["schools"]],
        centres=[SimpleNamespace(code=code, name=name) for code, name in choices["centres"]],
    )
    query = form.query()
    count, number, cards = catalogue_cache.catalogue_results(
        query,
        page=catalogue_cache.page_number(request.GET.get("page")),
        page_size=CATALOGUE_PAGE_SIZE,
    )
    return render(
        request,
        "enrolment/programme_list.html",
        {
            "form": form,
            "query": query,
            "page_obj": _catalogue_page(query, count=count, number=number),
            "cards": mark_safe(cards),  # noqa: S308 (our own template's output, escaped there)
            "filtered": any(v for k, v in request.GET.items() if k not in {"page", "sort"}),
            # The search form submits every select, the sort at its default "name" too: only a
            # chosen filter or another order opens the folded filters (on a phone they fill a screen).
            "filters_in_use": query.sort != "name"
            or any(v for k, v in request.GET.items() if k not in {"page", "q", "sort"}),
        },
    )


def _catalogue_page(query: CatalogueQuery, *, count: int, number: int) -> Page:
    """The page's numbers from the cached count, its programmes as a query run only if read.

    The template renders the cached cards and never reads ``object_list``, so a warm page runs
    no catalogue query; code that does read it (tests, a future template) still gets programmes.
    """
    paginator = Paginator(range(count), CATALOGUE_PAGE_SIZE)
    start = (number - 1) * CATALOGUE_PAGE_SIZE
    return Page(selectors.catalogue(query)[start : start + CATALOGUE_PAGE_SIZE], number, paginator)


@public_page(catalogue_cache.PROGRAMME_PAGE)
def programme_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # The body (facts, description, structure) is cached per language; the intakes, open or
    # closed by the clock and with seats that every application changes, are read fresh.
    page = catalogue_cache.programme_page(slug=slug)
    if page is None:
        raise Http404
    return render(
        request,
        "enrolment/programme_detail.html",
        {
            "programme_name": page["name"],
            "programme_body": mark_safe(page["body"]),  # noqa: S308 (our own template's output)
            "intakes": catalogue_cache.programme_intakes(programme_id=page["id"]),
        },
    )


def _learner(request: HttpRequest) -> Learner | None:
    # Read only: staff who never signed up see the learner area empty, with the way to begin;
    # saving the profile (a POST) is what makes them a learner.
    return selectors.learner_of(request.user)


@login_required
@require_http_methods(["GET", "POST"])
def intake_apply(request: HttpRequest, public_id) -> HttpResponse:
    intake = get_object_or_404(
        Intake.objects.select_related("programme__school", "centre"), public_id=public_id
    )
    if not intake.programme.is_published:
        raise Http404
    learner = _learner(request)
    if learner is None or not learner.profile_complete:
        messages.info(request, _("Finish your learner profile first; then confirm your application."))
        return redirect(f"{reverse('enrolment:my_profile')}?next={request.path}")
    if request.method == "POST":
        try:
            outcome = services.enrolment_apply(learner=learner, intake=intake)
        except EnrolmentError as exc:
            messages.error(request, exc.message)
        else:
            if outcome.waitlist_position:
                messages.warning(
                    request,
                    _("The intake is full: you are number %(n)s on the waitlist. We will email you when a seat frees.")
                    % {"n": outcome.waitlist_position},
                )
            elif outcome.enrolment.status == EnrolmentStatus.ACCEPTED:
                messages.success(request, _("You are accepted. Welcome!"))
            else:
                messages.success(request, _("Application received. The school will review it; we will email you."))
            return redirect(outcome.enrolment)
    intake.seats_left = max(intake.capacity - services.seats_taken(intake), 0)
    return render(request, "enrolment/apply_confirm.html", {"intake": intake, "programme": intake.programme})


@login_required
def my_dashboard(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    if learner is None:
        # Nobody's records to show: the profile section asks them to begin.
        records = render_to_string(
            "enrolment/includes/my_dashboard_records.html", {"enrolments": [], "results": []}, request=request
        )
        return render(request, "enrolment/my_dashboard.html", {"learner": None, "records": mark_safe(records)})  # noqa: S308
    # The enrolments and results come from the cache while their fingerprint (one query) and the
    # catalogue's names stay the same; the profile is read fresh with the learner.
    records = cached_fragment(
        "me",
        (learner.pk, catalogue_cache.catalogue_version(), selectors.learner_dashboard_fingerprint(learner)),
        lambda: render_to_string(
            "enrolment/includes/my_dashboard_records.html",
            {
                "enrolments": selectors.learner_dashboard_enrolments(learner),
                "results": selectors.learner_dashboard_results(learner)[:50],
            },
            request=request,
        ),
        timeout=settings.CATALOGUE_CACHE_SECONDS,
    )
    return render(
        request,
        "enrolment/my_dashboard.html",
        {"learner": learner, "records": mark_safe(records)},  # noqa: S308 (our own template's output)
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_profile(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    # Someone without a learner record fills in an empty profile; saving it makes the record.
    form = ProfileForm(request.POST or None, instance=learner or Learner(user=request.user))
    form.fields["centre"].queryset = LearningCentre.objects.order_by("province", "name_en")
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            services.learner_profile_save(user=request.user, consent=form.cleaned_data["consent"], **fields)
        except EnrolmentError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect(next_url or reverse("enrolment:my_dashboard"))
    return render(request, "enrolment/my_profile.html", {"form": form, "next": next_url})


@login_required
@require_http_methods(["GET", "POST"])
def my_enrolment(request: HttpRequest, public_id) -> HttpResponse:
    learner = _learner(request)
    if learner is None:
        raise Http404
    # Another learner's enrolment does not exist for this person: 404, never 403.
    enrolment = get_object_or_404(
        Enrolment.objects.select_related("intake__programme__school", "intake__centre"),
        public_id=public_id,
        learner=learner,
    )
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrolment_withdraw(enrolment=enrolment, actor=request.user, reason=form.cleaned_data["reason"])
        except EnrolmentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("You have withdrawn from this programme."))
        return redirect(enrolment)
    return render(
        request,
        "enrolment/my_enrolment.html",
        {
            "enrolment": enrolment,
            "history": enrolment.history.select_related("actor").order_by("at", "pk"),
            "results": enrolment.results.select_related("course").order_by("course__code"),
            "waitlist_position": services.waitlist_position(enrolment),
            "can_withdraw": enrolment.is_live,
            "form": form,
        },
    )
