"""``grenier supply week|plan|publish|invoice|egalim``: the weekly cycle, the month's invoices and EGalim shares.

Thin: every write goes through ``grenier.supply.services`` or ``grenier.supply.billing``; ``invoice --dry-run``
writes nothing. Quantities are printed in sales units (kg, pieces, bunches).
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.money import format_cents


def _month(raw: str) -> date:
    try:
        year, month = raw.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise CommandError(f"--month must be YYYY-MM, not {raw!r}") from exc


def _monday(raw: str) -> date:
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"--monday must be a date YYYY-MM-DD, not {raw!r}") from exc
    if day.weekday() != 0:
        raise CommandError(f"{day:%Y-%m-%d} is not a Monday.")
    return day


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "—"


class Command(BaseCommand):
    help = "The supply platform: open a week, plan and publish it, issue a month's invoices, EGalim shares."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        week = sub.add_parser(
            "week", help="Open a week (demand from the contracts' schedule) if not yet open."
        )
        week.add_argument("--monday", required=True, help="The week's Monday, YYYY-MM-DD.")
        plan = sub.add_parser(
            "plan", help="Compute a week's plan with the solver; --publish to publish it too."
        )
        plan.add_argument("--monday", required=True, help="The week's Monday, YYYY-MM-DD.")
        plan.add_argument("--publish", action="store_true", help="Publish the plan once computed.")
        publish = sub.add_parser(
            "publish", help="Publish a planned week: farms and kitchens see their lines."
        )
        publish.add_argument("--monday", required=True, help="The week's Monday, YYYY-MM-DD.")
        invoice = sub.add_parser(
            "invoice", help="Issue a month's invoices to kitchens and statements to producers."
        )
        invoice.add_argument("--month", required=True, help="YYYY-MM")
        invoice.add_argument(
            "--dry-run", action="store_true", help="Show what would be issued; write nothing."
        )
        egalim = sub.add_parser("egalim", help="A kitchen's EGalim shares over a year; --csv for ma-cantine.")
        egalim.add_argument("--kitchen", required=True, type=int, help="The kitchen's id.")
        egalim.add_argument("--year", required=True, type=int)
        egalim.add_argument("--csv", help="Write the purchases in ma-cantine's import columns to this file.")
        for command in (week, plan, publish, invoice, egalim):
            command.add_argument("--territory", default="demo")

    def handle(self, *args: Any, **options: Any) -> None:
        territory = Territory.objects.filter(slug=options["territory"]).first()
        if territory is None:
            raise CommandError(f"No territory with the slug {options['territory']!r}.")
        try:
            getattr(self, f"_{options['action']}")(territory, options)
        except GrenierError as exc:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items())
            raise CommandError(f"{exc.detail} {details}".strip()) from exc

    def _progress(self, text: str) -> None:
        self.stderr.write(text)
        self.stderr.flush()

    # --- the weekly cycle ------------------------------------------------------------------------------------

    def _week(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.supply import services
        from grenier.supply.models import Availability, Demand, SupplyWeek

        monday = _monday(options["monday"])
        existed = SupplyWeek.objects.filter(territory=territory, monday=monday).exists()
        week = services.week_ensure(territory=territory, monday=monday, actor=None)
        demand = Demand.objects.filter(week=week).count()
        declared = Availability.objects.filter(week=week).count()
        self.stdout.write(
            f"Week of {monday:%Y-%m-%d} {'already open' if existed else 'opened'}: {week.get_status_display()}, "
            f"{demand} demand lines, {declared} declarations."
        )

    def _plan(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.supply import selectors, services
        from grenier.supply.quantities import format_quantity
        from grenier.supply.reasons import reason_words

        monday = _monday(options["monday"])
        week = services.week_ensure(territory=territory, monday=monday, actor=None)
        self._progress(f"Solving the week of {monday:%Y-%m-%d} in {territory.name}…")
        started = time.monotonic()
        plan = services.plan_compute(week=week, actor=None)
        rows = selectors.week_table(week)
        met = sum(1 for row in rows if row.demand and not row.unmet)
        asked = sum(1 for row in rows if row.demand)
        self.stdout.write(
            f"Demand met: {met} of {asked} lines in full, {_percent(plan.supplied_total, plan.demand_total)} "
            f"of the quantity asked."
        )
        unmet = [row for row in rows if row.unmet]
        if unmet:
            self.stdout.write(f"{len(unmet)} lines not met in full:")
        for row in unmet:
            self.stdout.write(
                f"  {row.kitchen.name} · {row.product.name} · {row.day:%a %Y-%m-%d}: "
                f"{format_quantity(row.unmet, row.product)} unmet of {format_quantity(row.demand, row.product)} "
                f"[{row.reason_code}] {reason_words(row.reason_code, row.product, row.numbers)}"
            )
        self.stdout.write(
            f"Proven optimal: {'yes' if plan.proven_optimal else 'no'} (status {plan.status}, "
            f"gap {plan.mip_gap:.2%}), solver {plan.seconds:.2f} s, {time.monotonic() - started:.2f} s in all."
        )
        for stage in plan.stages:  # in the order they come first, each on the delivered plan
            self.stdout.write(
                f"  {stage.name}: {stage.objective:,.0f} (bound {stage.bound:,.0f}, gap {stage.gap:.4%}"
                f"{', proven' if stage.proven else ''}), {stage.seconds:.2f} s"
            )
        if options["publish"]:
            services.plan_publish(week=week, actor=None)
            self.stdout.write(f"Week of {monday:%Y-%m-%d} published.")

    def _publish(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.supply import selectors, services

        monday = _monday(options["monday"])
        week = selectors.week_of(territory, monday)
        if week is None:
            raise CommandError(f"The week of {monday:%Y-%m-%d} is not open: plan it first.")
        services.plan_publish(week=week, actor=None)
        self.stdout.write(f"Week of {monday:%Y-%m-%d} published.")

    # --- money -----------------------------------------------------------------------------------------------

    def _invoice(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.supply import billing

        month = _month(options["month"])
        if options["dry_run"]:
            preview = billing.billing_preview(territory=territory, month=month)
            self.stdout.write(f"Dry run for {month:%Y-%m}: nothing is written.")
            for kitchen in preview.kitchens:
                as_planned = f", {kitchen.as_planned} at the planned quantity" if kitchen.as_planned else ""
                self.stdout.write(
                    f"  invoice   {kitchen.kitchen.name:<36} {len(kitchen.lines):>4} lines  "
                    f"{format_cents(kitchen.total_cents):>14}  (fee {format_cents(kitchen.service_fee_cents)}, "
                    f"levy {format_cents(kitchen.levy_cents)}{as_planned})"
                )
            for producer in preview.producers:
                self.stdout.write(
                    f"  statement {producer.producer.farm_name:<36}       {format_cents(producer.total_cents):>14}"
                    f"  (advance deduction {format_cents(producer.deduction_cents)})"
                )
            if preview.unpriced:
                self.stdout.write(f"  {len(preview.unpriced)} delivered lines have no contract price.")
            self.stdout.write(
                f"Would issue {len(preview.kitchens)} invoices ({format_cents(preview.total_cents)}) and "
                f"{sum(1 for p in preview.producers if p.total_cents)} statements."
            )
            return
        self._progress(f"Issuing {month:%Y-%m} in {territory.name}…")
        issued = billing.invoices_issue(territory=territory, month=month, actor=None)
        for invoice in issued:
            party = invoice.kitchen.name if invoice.kitchen_id else invoice.producer.farm_name  # type: ignore[union-attr]
            self.stdout.write(
                f"  {invoice.reference:<18} {invoice.get_kind_display():<12} {party:<36} "
                f"{format_cents(invoice.net_cents):>14}"
            )
        self.stdout.write(f"{len(issued)} documents issued for {month:%Y-%m}.")

    # --- EGalim ----------------------------------------------------------------------------------------------

    def _egalim(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.supply import egalim
        from grenier.supply.models import Kitchen

        kitchen = Kitchen.objects.filter(territory=territory, pk=options["kitchen"]).first()
        if kitchen is None:
            raise CommandError(f"No kitchen {options['kitchen']} in {territory.name}.")
        start, end = egalim.year_period(options["year"])
        shares = egalim.kitchen_shares(kitchen, start, end)
        spend = shares.spend

        def line(label: str, part: int, percent: Any, target: int, met: bool) -> str:
            shown = "—" if percent is None else f"{percent} %"
            return (
                f"  {label:<8} {format_cents(part):>14}  {shown:>8}  target {target} %: "
                f"{'met' if met else 'not met'}"
            )

        self.stdout.write(
            f"{kitchen.name}, {options['year']}: bought {format_cents(spend.total_cents)} before tax."
        )
        self.stdout.write(
            line(
                "organic",
                spend.organic_cents,
                spend.organic_percent,
                egalim.ORGANIC_TARGET_PERCENT,
                spend.organic_met,
            )
        )
        self.stdout.write(
            line(
                "quality",
                spend.quality_cents,
                spend.quality_percent,
                egalim.QUALITY_TARGET_PERCENT,
                spend.quality_met,
            )
        )
        for month, part in shares.months:
            self.stdout.write(
                f"  {month:%Y-%m}  {format_cents(part.total_cents):>14}  organic {part.organic_percent} %  "
                f"quality {part.quality_percent} %"
            )
        if options.get("csv"):
            text = egalim.ma_cantine_csv(kitchen, start, end)
            if options["csv"] == "-":
                self.stdout.write(text, ending="")
            else:
                Path(options["csv"]).write_text(text, encoding="utf-8")
                self.stdout.write(f"{shares.lines} purchase lines written to {options['csv']}.")
