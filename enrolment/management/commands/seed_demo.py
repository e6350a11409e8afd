"""``manage.py seed_demo [--force]``: demo accounts for every role, for trying the portal locally.

Every account shares one published password, so the command refuses to run with DEBUG off unless
told ``--force`` (a throw-away staging machine, say). Running it again creates nothing twice and
never resets a password someone changed. Needs ``load_network`` first: the staff act for real
schools and partners.

It lives in ``enrolment``, the lowest app that holds both kinds of account it makes: staff
memberships (``schools``, below) and learner profiles (``enrolment.services.learner_register``).
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from enrolment.services import learner_register
from ouc_portal.accounts.totp import totp_authenticator_ensure
from schools.models import IndustrySchool, Membership, PartnerAssociation
from schools.services import membership_grant

DEMO_PASSWORD = "ouc-demo-2026"  # noqa: S105  (public on purpose: local demo accounts only)
# Staff must log in with a second factor: every demo staff account has an authenticator app with
# this published secret. Add it to an authenticator app, or ask `manage.py demo_code`.
DEMO_TOTP_SECRET = "OUCDEMOSTAFFSECONDFACTOROUCDEMO2"  # noqa: S105  (public on purpose)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    kind: str  # superuser, school-admin, reviewer, credit-officer, learner
    scope: str = ""  # a school slug for school-admin, a partner slug for reviewer

    @property
    def staff(self) -> bool:
        return self.kind != "learner"


DEMO_ACCOUNTS = [
    DemoAccount("admin@ouc.example", "Portal Administrator", "superuser"),
    DemoAccount("mech.admin@ouc.example", "王建国", Membership.Role.SCHOOL_ADMIN, "mechanical"),
    DemoAccount(
        "auto.admin@ouc.example", "刘海燕", Membership.Role.SCHOOL_ADMIN, "automobile-repair"
    ),
    DemoAccount(
        "reviewer@ouc.example",
        "周立新",
        Membership.Role.REVIEWER,
        "mechanical-industry-education-development-centre",
    ),
    DemoAccount(
        "auto.reviewer@ouc.example",
        "赵丽娟",
        Membership.Role.REVIEWER,
        "china-association-of-automobile-maintenance-industry",
    ),
    DemoAccount("officer@ouc.example", "孙敏", Membership.Role.CREDIT_OFFICER),
    DemoAccount("learner1@ouc.example", "张伟", "learner"),
    DemoAccount("learner2@ouc.example", "李娜", "learner"),
    DemoAccount("learner3@ouc.example", "王芳", "learner"),
    DemoAccount("learner4@ouc.example", "刘洋", "learner"),
    DemoAccount("learner5@ouc.example", "陈静", "learner"),
]


class Command(BaseCommand):
    help = "Create demo accounts for every role (local use only: they share a public password)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even with DEBUG off (the demo password is public: never on a real site)",
        )

    def handle(self, *args, force: bool, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts whose password is published in the README, so it "
                "refuses to run with DEBUG off. Pass --force only on a throw-away machine."
            )
        with transaction.atomic():
            schools, partners = self._network()
            rows = [self._account(account, schools, partners) for account in DEMO_ACCOUNTS]
        width = max(len(account.email) for account in DEMO_ACCOUNTS)
        for account, (role, status) in zip(DEMO_ACCOUNTS, rows, strict=True):
            self.stdout.write(f"{account.email:<{width}}  {status:<9}  {role}")
        self.stdout.write(
            f"Password for every demo account: {DEMO_PASSWORD}  (local use only; never on a real site)"
        )
        self.stdout.write(
            "Staff log in with a second factor too: the code `manage.py demo_code` prints, or an "
            f"authenticator app with the secret {DEMO_TOTP_SECRET}"
        )

    def _network(self) -> tuple[dict[str, IndustrySchool], dict[str, PartnerAssociation]]:
        wanted_schools = {a.scope for a in DEMO_ACCOUNTS if a.kind == Membership.Role.SCHOOL_ADMIN}
        wanted_partners = {a.scope for a in DEMO_ACCOUNTS if a.kind == Membership.Role.REVIEWER}
        schools = {s.slug: s for s in IndustrySchool.objects.filter(slug__in=wanted_schools)}
        partners = {p.slug: p for p in PartnerAssociation.objects.filter(slug__in=wanted_partners)}
        missing = sorted((wanted_schools - schools.keys()) | (wanted_partners - partners.keys()))
        if missing:
            raise CommandError(
                "The network is not loaded (missing: "
                + ", ".join(missing)
                + "). Run `manage.py load_network` first."
            )
        return schools, partners

    def _account(
        self,
        account: DemoAccount,
        schools: dict[str, IndustrySchool],
        partners: dict[str, PartnerAssociation],
    ) -> tuple[str, str]:
        """Create (or find) one demo account; returns (what it is, created/unchanged)."""
        User = get_user_model()
        user = User.objects.filter(email=account.email).first()
        status = "unchanged"
        if user is None:
            user = User(
                email=account.email,
                name=account.name,
                is_staff=account.staff,
                is_superuser=account.kind == "superuser",
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            status = "created"
        # allauth requires a verified address (ACCOUNT_EMAIL_VERIFICATION = "mandatory"): mark it,
        # so a demo account can log in without a confirmation email.
        address, made = EmailAddress.objects.get_or_create(
            user=user, email=account.email, defaults={"verified": True, "primary": True}
        )
        if not made and not (address.verified and address.primary):
            address.verified = address.primary = True
            address.save(update_fields=["verified", "primary"])

        if account.staff:
            totp_authenticator_ensure(user=user, secret=DEMO_TOTP_SECRET)
        if account.kind == "superuser":
            return "superuser (Django admin, everything)", status
        if account.kind == "learner":
            learner_register(user=user)
            return "learner", status
        school = (
            schools.get(account.scope) if account.kind == Membership.Role.SCHOOL_ADMIN else None
        )
        partner = partners.get(account.scope) if account.kind == Membership.Role.REVIEWER else None
        membership_grant(user=user, role=account.kind, school=school, association=partner)
        scope = school or partner
        return f"{Membership.Role(account.kind).label}" + (f" — {scope}" if scope else ""), status
