"""The public catalogue's cache: rendered fragments per language, replaced on every change.

What is cached: the parts of /programmes/ and /programmes/<slug>/ that are the same for every
visitor and cost the queries (the result cards of a search, the programme's body and structure,
the search form's school and centre choices). Never a whole response: the header names the
logged-in user, and the CSRF tokens differ per visitor.

Keys: ``catalogue:<version>:<language>:<what>:<digest of the normalised query>``. The version is
one counter in the shared cache (Redis in a deployment, so every web process sees it). The
receivers in ``enrolment.cache_signals`` bump it on every save or delete of anything these pages
show, so the next request in any process, in either language, misses and renders afresh; the
old entries are never read again and expire on their own.

Dates: whether an intake is open depends on the clock, not only on rows. The result cards carry
an "Open for application" badge, so a cards entry lives no longer than the next intake boundary
(the next ``opens_at`` or ``closes_at`` still to come); it also stores that moment and is refused
once it has passed, whatever the backend's timer says. The programme page's intakes (open or not,
seats left, which change with every application) are never cached: they are one cheap query.

The cache failing (Redis away) must not take the catalogue with it: every cache call falls back
to rendering from the database and logs a warning.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import astuple
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Min, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from enrolment import selectors
from enrolment.models import Intake, Programme, ProgrammeStatus
from ouc_portal.pagecache import VersionCounter
from schools.models import IndustrySchool, LearningCentre

logger = logging.getLogger(__name__)

VERSION_KEY = "catalogue:version"


def _enabled() -> bool:
    return settings.CATALOGUE_CACHE_SECONDS > 0


CATALOGUE = VersionCounter(VERSION_KEY, "catalogue cache")


def catalogue_version() -> int:
    """The current catalogue version, starting one if the cache holds none (new, flushed)."""
    return CATALOGUE.current()


def catalogue_changed(*, using: str | None = None) -> None:
    """Make every cached catalogue fragment stale: now, and again when the transaction commits.

    Now, so the writing process (and a test inside one transaction) sees the change at once;
    after the commit, because another process may have cached the old rows in between, under
    the version bumped now.
    """
    CATALOGUE.changed(using=using)


def _key(what: str, parts: tuple[Any, ...], version: int) -> str:
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"catalogue:{version}:{translation.get_language()}:{what}:{digest}"


def _cached(
    what: str,
    parts: tuple[Any, ...],
    build: Callable[[], Any],
    *,
    valid_until: Callable[[], datetime.datetime | None] | None = None,
) -> Any:
    """``build()``'s value from the cache, or built, stored and returned.

    ``valid_until`` (asked before building) bounds the entry's life by a moment in time.
    """
    if not _enabled():
        return build()
    try:
        key = _key(what, parts, catalogue_version())
        entry = cache.get(key)
    except Exception:
        logger.warning("catalogue cache unavailable; rendering %s from the database", what, exc_info=True)
        return build()
    now = timezone.now()
    if entry is not None:
        expires, value = entry
        if expires is None or now < expires:
            return value
    # The boundary is read before the rows: a boundary passed while building only shortens life.
    expires = valid_until() if valid_until else None
    value = build()
    timeout = settings.CATALOGUE_CACHE_SECONDS
    if expires is not None:
        timeout = min(timeout, max(math.ceil((expires - now).total_seconds()), 1))
    try:
        cache.set(key, (expires, value), timeout)
    except Exception:
        logger.warning("catalogue cache: could not store %s", what, exc_info=True)
    return value


def next_intake_boundary(now: datetime.datetime | None = None) -> datetime.datetime | None:
    """The next moment an intake of a published programme opens or closes (None: no such)."""
    now = now or timezone.now()
    bounds = Intake.objects.filter(programme__status=ProgrammeStatus.PUBLISHED).aggregate(
        next_open=Min("opens_at", filter=Q(opens_at__gt=now)),
        next_close=Min("closes_at", filter=Q(closes_at__gt=now)),
    )
    moments = [moment for moment in bounds.values() if moment is not None]
    return min(moments) if moments else None


# --- /programmes/ -------------------------------------------------------------------------------


def catalogue_choices() -> dict[str, list[tuple[str, str]]]:
    """The search form's school and centre choices, (value, name in the active language)."""

    def build() -> dict[str, list[tuple[str, str]]]:
        return {
            "schools": [
                (s.slug, s.name) for s in IndustrySchool.objects.only("slug", "name_en", "name_zh")
            ],
            "centres": [
                (c.code, c.name) for c in LearningCentre.objects.only("code", "name_en", "name_zh")
            ],
        }

    return _cached("choices", (), build)


def page_number(raw: str | None) -> int:
    """The ``page`` query parameter as Paginator.get_page reads it, within a bounded range.

    Not a number: page 1; below 1: 0 (get_page shows the last page); huge: capped, so junk in
    the query string cannot grow the cache without bound.
    """
    try:
        number = int(raw or "1")
    except ValueError:
        return 1
    return min(max(number, 0), 1_000_000)


def catalogue_results(
    query: selectors.CatalogueQuery, *, page: int, page_size: int
) -> tuple[int, int, str]:
    """How many programmes match ``query``, the page number shown, and that page's cards (HTML).

    ``page`` comes from ``page_number``; the view builds its paginator from the count with the
    same ``get_page``, so the cards and the page links always agree.
    """

    def build() -> tuple[int, int, str]:
        programmes = selectors.catalogue(query)
        count = programmes.count()
        number = Paginator(range(count), page_size).get_page(page).number
        start = (number - 1) * page_size
        cards = render_to_string(
            "enrolment/includes/programme_cards.html",
            {
                "programmes": list(programmes[start : start + page_size]),
                "LANGUAGE_CODE": translation.get_language(),
            },
        )
        return count, number, cards

    return _cached(
        "results", (astuple(query), page, page_size), build, valid_until=next_intake_boundary
    )


# --- /programmes/<slug>/ ------------------------------------------------------------------------


def programme_page(*, slug: str) -> dict[str, Any] | None:
    """A published programme's name, id and rendered body (facts and structure); None if none.

    The intakes are left out on purpose: see the module's docstring.
    """

    def build() -> dict[str, Any] | None:
        try:
            # The structure only: the intakes are read fresh by the page (programme_intakes).
            programme = selectors.programme_body_for_page(slug=slug)
        except Programme.DoesNotExist:
            return None
        body = render_to_string(
            "enrolment/includes/programme_body.html",
            {
                "programme": programme,
                "groups": programme.groups.all(),
                "LANGUAGE_CODE": translation.get_language(),
            },
        )
        return {"id": programme.pk, "name": programme.name, "body": body}

    return _cached("programme", (slug,), build)


def programme_intakes(*, programme_id: int) -> list[Intake]:
    """The programme's intakes still to come or open now, newest first, read fresh: open now,
    seats left (not cached). Closed intakes are history: their seats are nobody's concern, and
    counting them would read every enrolment the programme ever had."""
    now = timezone.now()
    intakes = list(
        selectors.intakes_with_seats(Intake.objects.select_related("centre"))
        .filter(programme_id=programme_id, closes_at__gte=now)
        .order_by("-opens_at", "pk")
    )
    for intake in intakes:
        intake.seats_left = max(intake.capacity - intake.seats_taken, 0)
        intake.open_now = intake.is_open(now)
    return intakes


# --- Whole pages for anonymous visitors (ouc_portal.pagecache) ----------------------------------
#
# The catalogue, a programme's page and the API's programme list are stored whole for anonymous
# visitors, under the catalogue version (any change to what they show) and, for the programme
# page whose intakes show the seats left, the seats version too (any enrolment saved or deleted:
# ``seats_changed``). Both kinds of entry end at the next intake boundary, when an intake opens
# or closes by the clock.

SEATS_KEY = "catalogue:seats"


SEATS = VersionCounter(SEATS_KEY, "catalogue cache (seats)")


def seats_version() -> int:
    return SEATS.current()


def seats_changed(*, using: str | None = None) -> None:
    """The seats left of some intake may have changed: now, and again after the commit."""
    SEATS.changed(using=using)


def _page_max_age() -> int:
    return settings.CATALOGUE_CACHE_SECONDS


def _boundary_timestamp() -> float | None:
    moment = next_intake_boundary()
    return moment.timestamp() if moment is not None else None


def _catalogue_version(request, kwargs) -> str:
    return str(catalogue_version())


def _programme_version(request, kwargs) -> str:
    return f"{catalogue_version()}.{seats_version()}"


def _page_policies():
    from ouc_portal.pagecache import PagePolicy

    common = {"max_age": _page_max_age, "valid_until": _boundary_timestamp}
    return (
        PagePolicy(name="catalogue", version=_catalogue_version, **common),
        PagePolicy(name="programme", version=_programme_version, **common),
        PagePolicy(name="api-programmes", version=_catalogue_version, vary_accept=True, **common),
    )


CATALOGUE_PAGE, PROGRAMME_PAGE, API_PROGRAMME_LIST = _page_policies()
