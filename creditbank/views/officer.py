from django.http import Http404


def placeholder(request):
    raise Http404
