"""``grenier reports indicators|open-data``: the territory's indicators over a year or a month as CSV, JSON or XLSX,
and the open-data package (``datapackage.json``, ``indicators.csv``, ``definitions.csv``) a researcher loads in a
spreadsheet.

Run by an operator, ``indicators`` gives the exact figures, as a coordinator reads them; ``--public`` hides small
counts as every public output does. ``open-data`` always hides them. ``--as EMAIL`` reads as that person would,
through the same rules as the pages and the API (a member is refused; a committee member or a funder reads small
counts hidden)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grenier.core.errors import GrenierError
from grenier.core.models import Territory, User
from grenier.reports import access, exports, registry
from grenier.reports.registry import Period


class Command(BaseCommand):
    help = "Indicators: the territory's figures over a year or a month, and its open-data package."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("indicators", help="Every indicator of the period as CSV, JSON or XLSX.")
        listing.add_argument("--format", choices=["csv", "json", "xlsx"], default="csv")
        listing.add_argument("--public", action="store_true", help="Hide small counts, as public outputs do.")
        listing.add_argument(
            "--output", help="Write to this file (required for xlsx unless stdout is a pipe)."
        )
        package = sub.add_parser("open-data", help="The open-data package, small counts hidden.")
        package.add_argument("--output", required=True, help="A directory, or a file name ending in .zip.")
        for command in (listing, package):
            command.add_argument("--territory", default="demo")
            command.add_argument("--year", type=int, required=True)
            command.add_argument("--month", type=int, help="1 to 12: that month only.")
            command.add_argument("--as", dest="as_email", help="Read as this person would.")

    def handle(self, *args: Any, **options: Any) -> None:
        territory = Territory.objects.filter(slug=options["territory"]).first()
        if territory is None:
            raise CommandError(f"No territory with the slug {options['territory']!r}.")
        try:
            period = Period.parse(
                f"{options['year']}-{options['month']:02d}" if options["month"] else str(options["year"])
            )
            exact = self._exact(territory, options["as_email"])
            if options["action"] == "indicators":
                self._indicators(
                    territory,
                    period,
                    exact=exact and not options["public"],
                    fmt=options["format"],
                    output=options["output"],
                )
            else:
                self._open_data(territory, period, Path(options["output"]))
        except GrenierError as exc:
            raise CommandError(exc.detail) from exc

    def _exact(self, territory: Territory, email: str | None) -> bool:
        if not email:
            return True
        user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
        if user is None:
            raise CommandError(f"No person with the e-mail {email!r}.")
        access.require_read(user, territory)
        return access.exact_for(user, territory)

    def _indicators(
        self, territory: Territory, period: Period, *, exact: bool, fmt: str, output: str | None
    ) -> None:
        found = exports.lines(territory, period, exact=exact)
        if fmt == "xlsx":
            data = exports.xlsx_bytes(found, registry.indicators())
            if output:
                Path(output).write_bytes(data)
            elif sys.stdout.isatty():
                raise CommandError("XLSX is binary: say --output FILE.xlsx, or pipe it.")
            else:
                sys.stdout.buffer.write(data)
            return
        text = exports.csv_text(found) if fmt == "csv" else exports.json_text(found)
        if output:
            Path(output).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")

    def _open_data(self, territory: Territory, period: Period, output: Path) -> None:
        if output.suffix == ".zip":
            output.write_bytes(exports.open_data_zip(territory, period, registry.indicators()))
            self.stdout.write(f"Wrote {output}.")
            return
        output.mkdir(parents=True, exist_ok=True)
        for name, text in exports.open_data_files(territory, period, registry.indicators()).items():
            (output / name).write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {output}/datapackage.json, indicators.csv and definitions.csv.")
