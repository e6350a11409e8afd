"""``manage.py partner_token create|revoke|list``: partner-system API tokens, for operators.

``create --association <slug> --name <name>`` prints the new key once (it is not stored);
``revoke <prefix>`` revokes the token whose key starts with ``prefix`` (at least the ``oucpt_``
part and a few characters: it must name exactly one token); ``list [--association <slug>]``
shows every token, active and revoked, with when it was last used. Reviewers do the same on the
desk at /review/tokens/. The operator's actions are audited without a person as actor.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from schools import tokens
from schools.models import PartnerAssociation, PartnerToken

MIN_PREFIX = len(tokens.KEY_PREFIX) + 4


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


class Command(BaseCommand):
    help = "Make, revoke or list partner-system API tokens."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="create|revoke|list")
        create = actions.add_parser("create", help="make a token; its key is printed once")
        create.add_argument("--association", required=True, help="the partner association's slug")
        create.add_argument("--name", required=True, help="which partner system will use it")
        revoke = actions.add_parser("revoke", help="revoke the token whose key starts with PREFIX")
        revoke.add_argument("prefix", help="the start of the key, as lists show it (oucpt_…)")
        listing = actions.add_parser("list", help="every token, active and revoked")
        listing.add_argument("--association", help="only this association's (slug)")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _association(self, slug: str) -> PartnerAssociation:
        association = PartnerAssociation.objects.filter(slug=slug).first()
        if association is None:
            raise CommandError(f"No partner association has the slug {slug!r}.")
        return association

    def _create(self, *, association: str, name: str, **options) -> None:
        try:
            made = tokens.partner_token_create(association=self._association(association), name=name)
        except tokens.TokenError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Token {made.token.prefix}… “{made.token.name}” for {association}.")
        self.stdout.write("Key (shown once, never stored; give it to the partner system now):")
        self.stdout.write(made.key)

    def _revoke(self, *, prefix: str, **options) -> None:
        prefix = prefix.rstrip("…").strip()
        if len(prefix) < MIN_PREFIX or not prefix.startswith(tokens.KEY_PREFIX):
            raise CommandError(
                f"Give the start of the key as lists show it: {tokens.KEY_PREFIX} and at least "
                f"{MIN_PREFIX - len(tokens.KEY_PREFIX)} more characters."
            )
        # A full key or its listed start: compare on the part that is stored.
        matches = list(PartnerToken.objects.filter(prefix__startswith=prefix[: tokens.VISIBLE_CHARS])[:2])
        if not matches:
            raise CommandError(f"No token's key starts with {prefix!r}.")
        if len(matches) > 1:
            raise CommandError(f"Several tokens' keys start with {prefix!r}: give more of it.")
        try:
            token = tokens.partner_token_revoke(token=matches[0])
        except tokens.TokenError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Token {token.prefix}… “{token.name}” revoked: its key no longer works.")

    def _list(self, *, association: str | None = None, **options) -> None:
        rows = PartnerToken.objects.select_related("association").order_by("association__slug", "-created_at")
        if association:
            rows = rows.filter(association=self._association(association))
        count = 0
        for token in rows:
            count += 1
            state = f"revoked {_when(token.revoked_at)}" if token.revoked_at else "active"
            self.stdout.write(
                f"{token.prefix}…\t{token.association.slug}\t{token.name}\t{state}\t"
                f"made {_when(token.created_at)}\tlast used {_when(token.last_used_at)}"
            )
        if not count:
            self.stdout.write("No tokens.")
