"""``grenier ledger check [--territory SLUG]``: prove the ledger's invariants; exit non-zero on any breach."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grenier.core.models import Territory
from grenier.ledger.selectors import ledger_check


class Command(BaseCommand):
    help = (
        "Check the ledger: every entry has two postings or more, sums to zero per unit and posts in its accounts' "
        "units; zero-sum per territory and unit; kept balances equal their postings; no guarded account negative."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="Check every invariant.")
        check.add_argument("--territory", help="Only this territory (its slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        territory = None
        if options.get("territory"):
            territory = Territory.objects.filter(slug=options["territory"]).first()
            if territory is None:
                raise CommandError(f"No territory with the slug {options['territory']!r}.")
        report = ledger_check(territory)
        self.stdout.write(
            f"Checked {report.territories} territories, {report.entries} entries, {report.accounts} accounts, "
            f"{report.postings} postings: each entry (two postings or more, zero sum per unit, its accounts' "
            "units and territory), zero sum per unit, kept balances, guarded accounts."
        )
        for breach in report.breaches:
            self.stderr.write(f"BREACH {breach}")
        if not report.ok:
            raise CommandError(f"{len(report.breaches)} breaches found.")
        self.stdout.write(self.style.SUCCESS("Ledger consistent."))
