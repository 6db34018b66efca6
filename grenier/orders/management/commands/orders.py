"""``grenier orders close-due|cycle``: close the cycles whose closing time has passed; a group's cycles in short."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.money import format_cents


class Command(BaseCommand):
    help = "Buying groups: close the cycles that are due, summarise a group's cycles."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        close = sub.add_parser(
            "close-due",
            help="Close every cycle whose closing time has passed (a cycle whose pot would go below zero stays open).",
        )
        close.add_argument("--territory", help="Only this territory (slug); every territory by default.")
        cycle = sub.add_parser("cycle", help="A group's cycles: orders, amounts and the solidarity pot.")
        cycle.add_argument("--group", type=int, required=True, help="The buying group's id.")
        cycle.add_argument("--limit", type=int, default=6, help="How many cycles, newest first.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "close-due":
                self._close_due(options)
            else:
                self._cycle(options)
        except GrenierError as exc:
            raise CommandError(exc.detail) from exc

    def _close_due(self, options: dict[str, Any]) -> None:
        from grenier.orders import services

        territory = None
        if options.get("territory"):
            territory = Territory.objects.filter(slug=options["territory"]).first()
            if territory is None:
                raise CommandError(f"No territory with the slug {options['territory']!r}.")
        results = services.close_due(territory=territory)
        refused = 0
        for cycle, result, reason in results:
            if result is None:
                refused += 1
                self.stdout.write(f"NOT CLOSED  #{cycle.pk} {cycle.group.name} — {cycle.name}: {reason}")
            else:
                self.stdout.write(
                    f"closed      #{cycle.pk} {cycle.group.name} — {cycle.name}: {result.orders} orders, "
                    f"producers {format_cents(result.full_cents)}, households {format_cents(result.paid_by_households_cents)}, "
                    f"pot {format_cents(result.pot_delta_cents)} → {format_cents(result.pot_after_cents)}"
                    + (
                        f", {result.trimmed_units} units trimmed to whole cases"
                        if result.trimmed_units
                        else ""
                    )
                )
        self.stdout.write(f"{len(results) - refused} closed, {refused} refused.")
        if refused:
            raise CommandError(
                f"{refused} cycle(s) could not close: the solidarity pot needs a funder's cover."
            )

    def _cycle(self, options: dict[str, Any]) -> None:
        from grenier.orders import selectors, services
        from grenier.orders.models import BuyingGroup

        group = BuyingGroup.objects.filter(pk=options["group"]).first()
        if group is None:
            raise CommandError(f"No buying group with the id {options['group']}.")
        self.stdout.write(
            f"{group.name} ({group.territory.slug}) — solidarity pot {format_cents(services.pot_balance(group))}"
        )
        tiers = ", ".join(f"{t.name} {t.percent} %" for t in group.tiers.all())
        self.stdout.write(
            f"tiers: {tiers}; {group.memberships.filter(left_on__isnull=True).count()} households"
        )
        for cycle in group.cycles.select_related("pickup_point").order_by("-closes_at")[: options["limit"]]:
            figures = selectors.cycle_figures(cycle)
            closes = timezone.localtime(cycle.closes_at).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(
                f"#{cycle.pk:<5} {cycle.name:<24} {cycle.state:<9} closes {closes}  {figures.orders:>3} orders  "
                f"producers {format_cents(figures.full_cents):>12}  households {format_cents(figures.households_cents):>12}  "
                f"pot {format_cents(figures.pot_delta_cents):>10}"
                + (f"  FLAGGED {figures.flagged}" if figures.flagged else "")
                + (
                    f"  pot after close {format_cents(figures.pot_after_cents)}"
                    if not cycle.is_closed
                    else ""
                )
            )
