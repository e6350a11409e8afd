"""Public verification pages (placeholder until the verification work lands)."""

from django.http import Http404


def page(request, code):
    raise Http404
