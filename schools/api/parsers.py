"""The API's JSON parser: DRF's, refusing two bodies that would otherwise end in a server error.

- Nesting deep enough to exhaust Python's recursion (``[[[[...]]]]``, a few hundred kilobytes)
  raises ``RecursionError``, which is not the ``ValueError`` DRF turns into a 400.
- JSON may escape a lone surrogate (``"\\ud800"``): it parses to a Python string that no UTF-8
  encoder takes, so an error message that quotes it (``"…" is not a valid choice``) cannot be
  rendered, and PostgreSQL cannot store it. It is refused here, naming the field.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate_at(value, path: str = "") -> str | None:
    """The path of the first string (key or value) holding a lone surrogate, or None."""
    if isinstance(value, str):
        return path if SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if SURROGATE.search(str(key)):
                return SURROGATE.sub("\ufffd", where)
            found = _lone_surrogate_at(item, where)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _lone_surrogate_at(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - the body is nested too deeply.")) from None
        where = _lone_surrogate_at(data)
        if where is not None:
            raise ParseError(
                _("JSON parse error - “%(field)s” holds a lone surrogate, which is not text.")
                % {"field": where or _("the body")}
            )
        return data
