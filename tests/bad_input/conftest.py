"""The bad-input sweep's world: the permission matrix's, plus the few rows its forms need.

Built once per module inside a transaction that is never committed; pytest-django runs each test
in a savepoint of it that is rolled back, so a form that accepts what it was sent changes nothing
for the next test.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests import factories

# The matrix's one client a module, signed out before each test (a new client loads the middleware
# again, and WhiteNoise scans every static file when it starts).
from tests.test_permission_matrix import (  # noqa: F401  (_module_client and client: fixtures)
    World,
    _module_client,
    build_world,
    client,
    world_never_committed,
)


def _extend(world: World) -> World:
    """A standard and a rule nothing uses yet (they may still be corrected), and the ids some
    forms name their inputs by."""
    from creditbank.models import RecognitionStandard
    from enrolment.models import Enrolment

    spare_standard = factories.RecognitionStandardFactory(
        code="SPARE-STD", level=3, credit_value=Decimal("6")
    )
    # The rule under a standard already in use: a rule under the spare one would freeze it.
    spare_rule = factories.ConversionRuleFactory(
        code="SPARE-RULE",
        standard=RecognitionStandard.objects.get(code=world.values["standard_code"]),
        credits=Decimal("2"),
    )
    enrolment = Enrolment.objects.get(public_id=world.values["enrolment"])
    world.values.update(
        {
            "enrolment_hex": enrolment.public_id.hex,
            "spare_standard_code": spare_standard.code,
            "spare_standard_version": str(spare_standard.version),
            "spare_rule_code": spare_rule.code,
            "spare_rule_version": str(spare_rule.version),
            "learner_email": "learner@example.org",
            "password": factories.PASSWORD,
        }
    )
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    with world_never_committed(django_db_blocker, lambda: _extend(build_world())) as built:
        yield built

