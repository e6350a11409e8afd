from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

# The redirect field the portal's and allauth's forms post alongside what was typed.
REDIRECT_FIELD = "next"


def portal(request: HttpRequest) -> dict:
    return {"PORTAL_NAME": settings.PORTAL_NAME, "language_next": language_next(request)}


def language_next(request: HttpRequest) -> str:
    """Where the header's language switch lands: this page again, as a GET shows it.

    A page that answers a POST (a refused sign-up, say) has the address its form posted to, and
    the form's own ``next`` travelled in the body, not the address: switching language there
    must not forget where the person was going, so a posted ``next`` joins the query. A view whose
    POST address takes no GET at all names another page in its context (``language_next``),
    which wins over this one.
    """
    here = request.get_full_path()
    if request.method in ("GET", "HEAD") or REDIRECT_FIELD in request.GET:
        return here
    posted = request.POST.get(REDIRECT_FIELD, "")
    if not posted or not url_has_allowed_host_and_scheme(
        posted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return here
    return here + ("&" if "?" in here else "?") + urlencode({REDIRECT_FIELD: posted})
