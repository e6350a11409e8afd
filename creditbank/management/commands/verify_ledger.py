from django.core.management.base import BaseCommand, CommandError

from creditbank.ledger import verify_account
from creditbank.models import CreditAccount


class Command(BaseCommand):
    help = "Walk every credit account's hash chain and name the first broken entry."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="only this account number")

    def handle(self, *args, account=None, **options):
        accounts = CreditAccount.objects.order_by("pk")
        if account:
            accounts = accounts.filter(number=account)
            if not accounts.exists():
                raise CommandError(f"No credit account {account}.")
        checked, broken = 0, []
        for acc in accounts.iterator(chunk_size=1000):
            checked += 1
            problem = verify_account(acc)
            if problem:
                broken.append(problem)
                self.stderr.write(f"account {problem.account}: entry {problem.seq}: {problem.problem}")
        if broken:
            raise CommandError(f"{len(broken)} of {checked} accounts have a broken ledger.")
        self.stdout.write(self.style.SUCCESS(f"{checked} accounts checked: every ledger chain is intact."))
