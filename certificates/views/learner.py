"""The learner's certificates and transcripts (/me/certificates/)."""

from django.http import Http404


def home(request):
    raise Http404
