from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from schools.roles import roles_for


def roles(request: HttpRequest) -> dict:
    """``roles`` in every template, read from the database only if a template asks."""
    return {"roles": SimpleLazyObject(lambda: roles_for(getattr(request, "user", None)))}
