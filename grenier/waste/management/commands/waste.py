"""``grenier waste campaigns|report``: the kitchens' weighing campaigns, and one campaign's report (its grams per
meal by kind and by service, the change since the campaign before, the national figures) as text or CSV.

Run by an operator, it reads every kitchen of the territory; ``--as EMAIL`` reads as that person would, through the
same rules as the pages and the API (a kitchen manager, its own kitchens only)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import QuerySet

from grenier.core.errors import GrenierError
from grenier.core.models import Territory, User
from grenier.waste import access, exports, figures, references
from grenier.waste.models import Campaign


class Command(BaseCommand):
    help = "Biowaste: the kitchens' weighing campaigns and their figures."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser(
            "campaigns", help="The weighing campaigns, newest first, with grams per meal."
        )
        report = sub.add_parser(
            "report", help="A campaign's figures: grams per meal by kind, by service, the change."
        )
        report.add_argument(
            "--campaign", type=int, required=True, help="The campaign's number (see `campaigns`)."
        )
        report.add_argument("--format", choices=["text", "csv", "ma-cantine"], default="text")
        for command in (listing, report):
            command.add_argument("--territory", default="demo")
            command.add_argument("--as", dest="as_email", help="Read as this person (their kitchens only).")

    def handle(self, *args: Any, **options: Any) -> None:
        territory = Territory.objects.filter(slug=options["territory"]).first()
        if territory is None:
            raise CommandError(f"No territory with the slug {options['territory']!r}.")
        try:
            campaigns = self._campaigns(territory, options["as_email"])
            if options["action"] == "campaigns":
                self._list(campaigns)
            else:
                campaign = (
                    campaigns.select_related("kitchen", "compares_with")
                    .filter(pk=options["campaign"])
                    .first()
                )
                if campaign is None:
                    raise CommandError(
                        f"No campaign {options['campaign']} that you may read in {territory.name}."
                    )
                self._report(campaign, options["format"])
        except GrenierError as exc:
            raise CommandError(exc.detail) from exc

    def _campaigns(self, territory: Territory, email: str | None) -> QuerySet[Campaign]:
        if not email:
            return Campaign.objects.filter(territory=territory)
        user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
        if user is None:
            raise CommandError(f"No person with the e-mail {email!r}.")
        access.require_waste(user, territory)
        return access.campaigns_of(user, territory)

    def _list(self, campaigns: QuerySet[Campaign]) -> None:
        found = figures.totals_by_campaign(campaigns)
        count = 0
        for campaign in campaigns.select_related("kitchen"):
            totals = found.get(campaign.pk, figures.Totals())
            self.stdout.write(
                f"{campaign.pk:>6}  {campaign.kitchen.name[:36]:<36} {campaign.name[:30]:<30} "
                f"{campaign.starts_on:%d/%m/%Y}-{campaign.ends_on:%d/%m/%Y}  {totals.weighings:>3} services  "
                f"{figures.grams_per_meal_text(totals.per_meal()):>10}/meal"
            )
            count += 1
        self.stdout.write(f"{count} campaigns.")

    def _report(self, campaign: Campaign, fmt: str) -> None:
        if fmt == "csv":
            self.stdout.write(exports.weighings_csv(campaign), ending="")
            return
        if fmt == "ma-cantine":
            self.stdout.write(exports.ma_cantine_csv([campaign]), ending="")
            return
        totals = figures.totals(campaign.weighings.all())
        write = self.stdout.write
        write(f"{campaign.name} — {campaign.kitchen.name}")
        write(
            f"{campaign.starts_on:%d/%m/%Y} to {campaign.ends_on:%d/%m/%Y}, {campaign.get_phase_display()}"
            + (f": {campaign.action}" if campaign.action else "")
        )
        write(
            f"{totals.weighings} services weighed, {totals.meals} meals, {figures.kilograms_text(totals.total_g)}"
        )
        write(f"{'':<28}{'weighed':>14}{'per meal':>14}")
        for _kind, label, grams, per_meal in totals.kinds():
            write(
                f"{label:<28}{figures.kilograms_text(grams):>14}{figures.grams_per_meal_text(per_meal):>14}"
            )
        write(
            f"{'Total':<28}{figures.kilograms_text(totals.total_g):>14}"
            f"{figures.grams_per_meal_text(totals.per_meal()):>14}"
        )
        for _service, label, found in figures.by_service(campaign):
            write(
                f"{label:<28}{figures.kilograms_text(found.total_g):>14}{figures.grams_per_meal_text(found.per_meal()):>14}"
            )
        comparison = figures.comparison(campaign)
        if comparison is not None and comparison.complete and campaign.compares_with is not None:
            write(
                f"Since {campaign.compares_with.name}: {figures.grams_per_meal_text(comparison.before.per_meal())} → "
                f"{figures.grams_per_meal_text(comparison.after.per_meal())} per meal, "
                f"{figures.grams_per_meal_text(comparison.change_per_meal())} "
                f"({figures.percent_text(comparison.change_share())}), "
                f"{figures.kilograms_text(comparison.change_a_year_g(), 0)} a year at "
                f"{campaign.kitchen.meals_per_day} meals a day, {comparison.days_a_year} days a year"
            )
        for reference in references.REFERENCES:
            figure = (
                f"{reference.low_g}-{reference.high_g} g" if reference.is_range else f"{reference.low_g} g"
            )
            write(f"National: {figure} per meal, {reference.label} ({reference.source})")
