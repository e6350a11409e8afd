"""``manage.py seed_scale --learners N``: the benchmark dataset, built fast (see certificates/scale.py)."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from certificates import scale


class Command(BaseCommand):
    help = (
        "Build a realistic dataset of N learners (accounts, enrolments, results, credit ledger, "
        "certificates) for benchmarks, in a fresh database. Reports rows per second."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--learners", type=int, required=True, help="how many learners (at least 1)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed for names, choices and dates (ids and verification codes stay random)")
        parser.add_argument(
            "--heavy-entries", type=int, default=1000,
            help="ledger entries of heavy@scale.example, the credit-audit benchmark's learner (default 1000)",
        )
        parser.add_argument(
            "--signed-certificates", type=int, default=200,
            help="certificates issued in full with a signed credential and PDF (default 200; ~0.1 s each)",
        )
        parser.add_argument("--chunk-size", type=int, default=5_000, help="learners built per chunk (memory is bounded by it)")

    def handle(self, *args, learners: int, seed: int, heavy_entries: int, signed_certificates: int,
               chunk_size: int, **options) -> None:
        # Refuse bad values and a seeded database before spending time on the loaders.
        if learners < 1:
            raise CommandError(f"--learners must be at least 1 (got {learners}).")
        if heavy_entries < 1:
            raise CommandError(f"--heavy-entries must be at least 1 (got {heavy_entries}).")
        if signed_certificates < 0:
            raise CommandError(f"--signed-certificates cannot be negative (got {signed_certificates}).")
        if chunk_size < 1:
            raise CommandError(f"--chunk-size must be at least 1 (got {chunk_size}).")
        if scale.scale_learners_exist():
            raise CommandError(f"Scale learners (@{scale.DOMAIN}) are already seeded; use a fresh database.")
        verbose = options["verbosity"] >= 1
        for loader in scale.REFERENCE_LOADERS:  # idempotent: they update in place
            call_command(loader, stdout=self.stdout if options["verbosity"] > 1 else io.StringIO())
        log = self.stdout.write if verbose else (lambda message: None)
        log(f"seed_scale: {learners} learners, seed {seed}")
        try:
            report = scale.seed_scale(
                learners=learners, seed=seed, heavy_entries=heavy_entries,
                signed_certificates=signed_certificates, chunk_size=chunk_size, log=log,
            )
        except scale.ScaleError as exc:
            raise CommandError(str(exc)) from None
        if verbose:
            width = max(len(label) for label in report.counts)
            for label, count in report.counts.items():
                self.stdout.write(f"  {label:<{width}}  {count:>10}")
            self.stdout.write(
                f"  {report.learners} learners (with {scale.HEAVY_EMAIL}: {report.heavy_entries} ledger entries); "
                f"{report.certificates} certificates, {report.signed} signed with a credential and PDF "
                f"(the others are issued without files: not verifiable)"
            )
            self.stdout.write(f"  password of every @{scale.DOMAIN} account: {scale.PASSWORD}")
            bulk_rate = report.rows / report.bulk_seconds if report.bulk_seconds else 0.0
            self.stdout.write(
                f"  rows written in {report.bulk_seconds:.1f} s ({bulk_rate:.0f} rows/s); "
                f"{report.signed} certificates signed in {report.seconds - report.bulk_seconds:.1f} s"
            )
        rate = report.rows / report.seconds if report.seconds else 0.0
        self.stdout.write(f"seed_scale: {report.rows} rows in {report.seconds:.1f} s ({rate:.0f} rows/s)")
