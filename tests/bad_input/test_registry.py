"""The registry covers every HTML form that writes, and each entry's valid payload is accepted.

A route that takes a POST (its row in ``tests/permission_matrix.py`` says someone may write to
it, or it is an allauth view with a ``post`` method) fails ``test_every_form_route_is_swept``
until it has an entry in ``tests/bad_input/registry.py`` or a reason there why not.
"""

from __future__ import annotations

import pytest

from tests import permission_matrix as pm
from tests.bad_input import registry
from tests.bad_input.sweep import DONE, changed, fingerprint, read, send, valid_data
from tests.test_permission_matrix import rule_for, walk

pytestmark = pytest.mark.django_db


def _takes_post(route) -> tuple[bool, str | None]:
    """(whether the route takes a POST, the exemption's reason when a rule exempts it)."""
    rule = rule_for(route)
    if rule is not None and rule.name == "admin":
        return True, registry.ADMIN_EXEMPT_REASON
    if rule is not None and rule.name == "allauth":
        view_class = getattr(route.callback, "view_class", None)
        return bool(view_class and hasattr(view_class, "post")), registry.ALLAUTH_EXEMPT_REASON
    if rule is not None and rule.name == "api docs":
        return False, None  # the schema and its docs answer GET alone
    if rule is not None:
        return True, registry.EXEMPT.get(route.name)
    if route.api_view is not None:
        return False, None  # the API: tests/test_schemathesis.py
    if route.module.endswith(".tokens") or (route.name or "").startswith("review:token"):
        return True, registry.TOKENS_EXEMPT_REASON
    row = pm.PAGES.get(route.name)
    if row is None:
        raise AssertionError(
            f"route {route.name} ({route.pattern}) has no row in tests/permission_matrix.py: "
            "add it there first (tests/test_permission_matrix.py says so too)"
        )
    return row.writes and bool({pm.OK, pm.INVALID} & set(row.write.values())), None


def test_every_form_route_is_swept():
    swept = {entry.route for entry in registry.ENTRIES}
    missing = []
    for route in walk():
        takes_post, reason = _takes_post(route)
        if not takes_post or route.name in swept:
            continue
        if not (reason or registry.EXEMPT.get(route.name)):
            missing.append(
                f"{route.name} ({route.pattern}) takes a POST: add an Entry to ENTRIES in "
                "tests/bad_input/registry.py, or its name and the reason to EXEMPT"
            )
    names = {route.name for route in walk()}
    missing += [
        f"entry {e.id} names no route {e.route}" for e in registry.ENTRIES if e.route not in names
    ]
    assert not missing, "the bad-input sweep does not cover every form:\n" + "\n".join(missing)


@pytest.mark.parametrize("entry", registry.ENTRIES, ids=lambda e: e.id)
def test_valid_payload_is_accepted(client, world, entry):
    """The baseline every mutation is measured against: unmutated, the form does its work."""
    before = fingerprint()
    answer = read(send(client, world, entry, valid_data(world, entry)), entry)
    assert answer.verdict == DONE, f"{entry.id}: the valid payload was {answer}"
    if entry.method == "POST" and entry.route not in ("account_login",):
        assert changed(before, fingerprint()), f"{entry.id}: the valid payload stored nothing"
