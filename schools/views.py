"""Public pages of the network: home, industry schools, partner associations, learning centres.

Thin on purpose: every read is a selector, every page a template.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from ouc_portal.i18n import pick
from schools import selectors
from schools.filters import CentreFilter

try:
    from schools.network import network_facts
except ImportError:  # the headline facts are optional: the home page works without them

    def network_facts() -> dict:
        return {}


CENTRES_PER_PAGE = 25


def _graduates_total() -> str:
    """Seed 002's headline number, in the active language ("" when the data file is unreadable)."""
    try:
        facts = network_facts()
    except (OSError, ValueError):
        return ""
    return pick(facts.get("graduates_total", ""), facts.get("graduates_total_zh", ""))


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "schools/home.html",
        {
            "schools": selectors.school_list(),
            "counts": selectors.network_counts(),
            "graduates_total": _graduates_total(),
        },
    )


def school_list(request: HttpRequest) -> HttpResponse:
    return render(request, "schools/school_list.html", {"schools": selectors.school_list()})


def school_detail(request: HttpRequest, slug: str) -> HttpResponse:
    school = get_object_or_404(selectors.school_detail_queryset(), slug=slug)
    selectors.with_partners([school])
    return render(request, "schools/school_detail.html", {"school": school})


def association_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "schools/association_list.html", {"associations": selectors.association_list()}
    )


def association_detail(request: HttpRequest, slug: str) -> HttpResponse:
    association = get_object_or_404(selectors.association_detail_queryset(), slug=slug)
    selectors.with_partnered([association])
    return render(request, "schools/association_detail.html", {"association": association})


def centre_list(request: HttpRequest) -> HttpResponse:
    # Bound only when the visitor sent something, so a first visit shows no errors.
    filterset = CentreFilter(
        request.GET or None, queryset=selectors.centre_list_queryset(), request=request
    )
    page = Paginator(filterset.qs, CENTRES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "schools/centre_list.html",
        {
            "filter": filterset,
            "form": filterset.form,
            "filter_errors": filterset.form.errors if filterset.is_bound else {},
            "page_obj": page,
            "centres": page.object_list,
        },
    )


def centre_detail(request: HttpRequest, code: str) -> HttpResponse:
    centre = get_object_or_404(selectors.centre_detail_queryset(), code=code)
    return render(request, "schools/centre_detail.html", {"centre": centre})
