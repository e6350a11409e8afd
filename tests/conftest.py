"""Shared fixtures: the fixed cast of people every permission test uses, and the service rule.

The service rule: a test marked ``needs_services`` needs the real stack (PostgreSQL, Redis, a
Celery worker). When DATABASE_URL and REDIS_URL promise that stack (``.ci/run`` sets both), such a
test runs and fails loudly if a service is missing. Only a run that was promised nothing
(``make test`` on a bare machine) skips it, and says so in the summary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from schools.models import Membership
from tests import factories

SERVICES_PROMISED = bool(os.environ.get("DATABASE_URL", "").strip()) and bool(
    os.environ.get("REDIS_URL", "").strip()
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_services") and not SERVICES_PROMISED:
        pytest.skip(
            "needs PostgreSQL, Redis and a Celery worker: DATABASE_URL and REDIS_URL are not set "
            "(.ci/run sets both)"
        )


def pytest_report_header(config: pytest.Config) -> str:
    stack = "PostgreSQL + Redis + Celery worker" if SERVICES_PROMISED else "SQLite, eager Celery"
    return f"ouc-portal stack under test: {stack}"


@dataclass
class Cast:
    """A learner, another learner, and one staff member of each kind, of this and of another scope."""

    school: object
    other_school: object
    association: object
    other_association: object
    learner: object
    other_learner: object
    school_admin: object
    other_school_admin: object
    reviewer: object
    other_reviewer: object
    credit_officer: object
    superuser: object


@pytest.fixture
def cast(db) -> Cast:
    school = factories.IndustrySchoolFactory(slug="mechanical", name_en="School of Mechanical Industry")
    other_school = factories.IndustrySchoolFactory(slug="coal", name_en="School of Coal Industry")
    association = factories.PartnerAssociationFactory(slug="miedc")
    other_association = factories.PartnerAssociationFactory(slug="cnca")

    def staff(email: str, **membership) -> object:
        user = factories.UserFactory(email=email, is_staff=True)
        factories.MembershipFactory(user=user, **membership)
        return user

    return Cast(
        school=school,
        other_school=other_school,
        association=association,
        other_association=other_association,
        learner=factories.LearnerFactory(user__email="learner@example.org").user,
        other_learner=factories.LearnerFactory(user__email="other.learner@example.org").user,
        school_admin=staff("admin@example.org", role=Membership.Role.SCHOOL_ADMIN, school=school),
        other_school_admin=staff(
            "other.admin@example.org", role=Membership.Role.SCHOOL_ADMIN, school=other_school
        ),
        reviewer=staff(
            "reviewer@example.org",
            role=Membership.Role.REVIEWER,
            school=None,
            association=association,
        ),
        other_reviewer=staff(
            "other.reviewer@example.org",
            role=Membership.Role.REVIEWER,
            school=None,
            association=other_association,
        ),
        credit_officer=staff(
            "officer@example.org", role=Membership.Role.CREDIT_OFFICER, school=None, association=None
        ),
        superuser=factories.UserFactory(
            email="root@example.org", is_staff=True, is_superuser=True
        ),
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # PBKDF2's work factor protects real accounts; in tests it only costs seconds per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def require_postgres(transactional_db) -> None:
    """Race tests need PostgreSQL's row locks; on a run promised PostgreSQL, never skip."""
    from django.db import connection

    if connection.vendor != "postgresql":
        if SERVICES_PROMISED:
            pytest.fail("DATABASE_URL promised PostgreSQL but the tests run on " + connection.vendor)
        pytest.skip("needs PostgreSQL (DATABASE_URL is not set; .ci/run sets it)")
