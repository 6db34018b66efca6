"""``grenier baskets distribute|statement|forecast``: the week's sheets, a funder's statement, the budget forecast."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.money import format_cents


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"Dates are YYYY-MM-DD, not {raw!r}") from exc


class Command(BaseCommand):
    help = (
        "Solidarity baskets: prepare a week's distribution sheets, print a funder's statement, the forecast."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        distribute = sub.add_parser(
            "distribute", help="The sheets of the week holding --date, for every garden (or --garden)."
        )
        distribute.add_argument("--date", required=True, help="YYYY-MM-DD, any day of the week")
        distribute.add_argument("--territory", default="demo")
        distribute.add_argument("--garden", type=int, help="Only this garden (id).")
        statement = sub.add_parser("statement", help="What a funder's agreements paid over a period.")
        statement.add_argument("--funder", type=int, required=True, help="The funder's id.")
        statement.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
        statement.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD")
        statement.add_argument("--territory", default="demo")
        statement.add_argument(
            "--csv", action="store_true", help="One table as CSV, amounts in euros (see --part)."
        )
        statement.add_argument(
            "--part",
            choices=["baskets", "agreements", "payments"],
            default="baskets",
            help="With --csv: baskets per day and pickup point, dues per agreement, or the payments received.",
        )
        forecast = sub.add_parser("forecast", help="Whether the budgets cover the season, week by week.")
        forecast.add_argument("--territory", default="demo")

    def handle(self, *args: Any, **options: Any) -> None:
        territory = Territory.objects.filter(slug=options["territory"]).first()
        if territory is None:
            raise CommandError(f"No territory with the slug {options['territory']!r}.")
        try:
            getattr(self, f"_{options['action']}")(territory, options)
        except GrenierError as exc:
            raise CommandError(exc.detail) from exc

    def _distribute(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.baskets import services
        from grenier.baskets.models import Garden

        day = _day(options["date"])
        gardens = Garden.objects.filter(territory=territory).order_by("name")
        if options.get("garden"):
            gardens = gardens.filter(pk=options["garden"])
            if not gardens.exists():
                raise CommandError(f"No garden {options['garden']} in {territory.slug}.")
        for garden in gardens:
            result = services.distribution_generate(garden=garden, day=day, actor=None)
            self.stdout.write(
                f"{garden.name}: {len(result.sheets)} sheets, {result.lines_created} new baskets"
                + (f", {format_cents(result.short_cents)} not covered" if result.short_cents else "")
            )
            for sheet in result.sheets:
                self.stdout.write(
                    f"  {sheet.on:%Y-%m-%d} {sheet.pickup_point.name}: {sheet.lines.count()} baskets"
                )
            if result.warned:
                self.stdout.write(f"  budgets run short soon: told {', '.join(result.warned)}")

    def _statement(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.baskets import documents, selectors
        from grenier.fund.models import Funder

        funder = Funder.objects.filter(territory=territory, pk=options["funder"]).first()
        if funder is None:
            raise CommandError(f"No funder {options['funder']} in {territory.slug}.")
        start, end = _day(options["start"]), _day(options["end"])
        if end < start:
            raise CommandError("--to is before --from.")
        found = selectors.statement(funder, start, end)
        if options["csv"]:
            csv.writer(self.stdout, delimiter=";").writerows(
                documents.statement_csv_rows(found, options["part"])
            )
            return
        self.stdout.write(f"{funder.name}, {start:%Y-%m-%d} to {end:%Y-%m-%d}")
        for row in found.agreements:
            a = row.agreement
            self.stdout.write(
                f"  {a.name} ({a.garden.name}): {row.baskets} baskets, {format_cents(row.funded_cents)}; "
                f"budget {format_cents(a.budget_cents)}, used {format_cents(a.spent_cents)}, "
                f"left {format_cents(a.left_cents)}"
            )
        self.stdout.write(
            f"  total: {found.baskets} baskets, {format_cents(found.funded_cents)}; "
            f"paid {format_cents(found.paid_cents)}, left to pay {format_cents(found.left_cents)}"
        )

    def _forecast(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.baskets import selectors
        from grenier.baskets.models import Garden

        today = timezone.localdate()
        for garden in Garden.objects.filter(territory=territory).order_by("name"):
            forecast = selectors.budget_forecast(garden, today)
            first = forecast.first_short
            self.stdout.write(
                f"{garden.name}: "
                + (
                    f"short from the week of {first:%Y-%m-%d} ({format_cents(forecast.short_cents)} by season end)"
                    if first
                    else "budgets cover the season"
                )
            )
