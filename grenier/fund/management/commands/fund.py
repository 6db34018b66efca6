"""``grenier fund run|settle|project|referrals|referral-confirm|referral-decline``: the month's run, the stores'
settlement, the fund's projection, and the households referred to the fund by social workers."""

from __future__ import annotations

import sys
import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.money import format_cents
from grenier.fund.models import ReferralStatus


def _month(raw: str) -> date:
    try:
        year, month = raw.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise CommandError(f"--month must be YYYY-MM, not {raw!r}") from exc


class Command(BaseCommand):
    help = "The common fund: run a month, settle stores, project the fund."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser(
            "run", help="Contributions, allocations and carry-over for every active household."
        )
        run.add_argument("--month", required=True, help="YYYY-MM")
        run.add_argument("--territory", default="demo")
        run.add_argument("--batch", type=int, default=2000, help="Households per transaction.")
        run.add_argument(
            "--dry-run", action="store_true", help="Print what the run would do and change nothing."
        )
        settle = sub.add_parser(
            "settle", help="What the fund owes each store for a month (credit spent minus refunds)."
        )
        settle.add_argument("--month", required=True, help="YYYY-MM")
        settle.add_argument("--territory", default="demo")
        project = sub.add_parser(
            "project", help="The fund month by month under the current (or given) rules."
        )
        project.add_argument("--territory", default="demo")
        project.add_argument("--months", type=int, default=12)
        project.add_argument("--scenarios", type=int, default=1000)
        project.add_argument("--base-cents", type=int, help="Try another allocation base (cents).")
        project.add_argument(
            "--per-person-cents", type=int, help="Try another amount per additional person (cents)."
        )
        project.add_argument(
            "--monthly-grants-cents",
            type=int,
            help="Expected grants per month (default: last 6 months' mean).",
        )
        project.add_argument("--seed", type=int, default=0)
        listing = sub.add_parser("referrals", help="Households referred to the fund, the waiting ones first.")
        listing.add_argument("--territory", default="demo")
        listing.add_argument("--status", choices=[s.value for s in ReferralStatus])
        for name, text in (
            ("referral-confirm", "Take a referred household into the fund."),
            ("referral-decline", "Decline a referral, saying why."),
        ):
            decide = sub.add_parser(name, help=text)
            decide.add_argument("referral", type=int, help="The referral's number (see `referrals`).")
            decide.add_argument("--by", required=True, help="The e-mail of the coordinator deciding.")
            decide.add_argument("--territory", default="demo")
            if name == "referral-decline":
                decide.add_argument("--reason", required=True, help="Why; the social worker reads it.")

    def handle(self, *args: Any, **options: Any) -> None:
        territory = Territory.objects.filter(slug=options["territory"]).first()
        if territory is None:
            raise CommandError(f"No territory with the slug {options['territory']!r}.")
        try:
            getattr(self, f"_{options['action'].replace('-', '_')}")(territory, options)
        except GrenierError as exc:
            raise CommandError(exc.detail) from exc

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} households")
        sys.stderr.flush()
        if done >= total:
            sys.stderr.write("\n")

    def _run(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.fund import services

        month = _month(options["month"])
        if options["dry_run"]:
            preview = services.run_preview(territory=territory, month=month)
            self.stdout.write(
                f"Dry run of {month:%Y-%m} in {territory.name}: {preview.households} households, "
                f"{preview.processed_now} to run now, credit issued {format_cents(preview.credit_issued_cents)}, "
                f"contributions {format_cents(preview.contributions_paid_cents)}, "
                f"unspent credit returned {format_cents(preview.returned_cents)}. Nothing was changed."
            )
            return
        started = time.monotonic()
        self.stdout.write(f"Running {month:%Y-%m} in {territory.name}…")
        summary = services.monthly_run(
            territory=territory, month=month, actor=None, progress=self._progress, batch_size=options["batch"]
        )
        self.stdout.write(
            f"{summary.households} households ({summary.processed_now} processed now), "
            f"credit issued {format_cents(summary.credit_issued_cents)}, "
            f"contributions {format_cents(summary.contributions_paid_cents)}, "
            f"unspent credit returned {format_cents(summary.returned_cents)} — {time.monotonic() - started:.1f} s"
        )

    def _settle(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.fund import services

        settlements = services.settle(territory=territory, month=_month(options["month"]), actor=None)
        for settlement in settlements:
            self.stdout.write(
                f"{settlement.store.name:<40} {settlement.payments_count:>6} payments  "
                f"{format_cents(settlement.amount_cents):>14}  {settlement.get_status_display()}"
            )
        total = sum(s.amount_cents for s in settlements)
        self.stdout.write(f"{len(settlements)} stores, {format_cents(total)} owed in euros.")

    def _project(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.fund import planning

        result = planning.project_territory(
            territory,
            months=options["months"],
            scenarios=options["scenarios"],
            seed=options["seed"],
            base_cents=options.get("base_cents"),
            per_additional_person_cents=options.get("per_person_cents"),
            monthly_grants_cents=options.get("monthly_grants_cents"),
        )
        projection = result.projection
        self.stdout.write(
            f"{result.households} households, allocation {format_cents(projection.monthly_allocation_cents)}"
            f"/month, contributions {format_cents(projection.monthly_contribution_cents)}/month, "
            f"grants {format_cents(result.assumptions.monthly_grants_cents)}/month expected."
        )
        self.stdout.write(
            f"{'month':>5}  {'pessimistic (5 %)':>20}  {'median':>16}  {'optimistic (95 %)':>20}"
        )
        for index in range(projection.months):
            self.stdout.write(
                f"{index + 1:>5}  {format_cents(projection.balance_p05_cents[index]):>20}  "
                f"{format_cents(projection.balance_p50_cents[index]):>16}  {format_cents(projection.balance_p95_cents[index]):>20}"
            )
        self.stdout.write(
            f"Probability the fund runs dry within {projection.months} months: {projection.depletion_probability:.0%}"
        )

    def _referrals(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.fund.models import FundReferral

        rows = FundReferral.objects.filter(territory=territory).select_related("household", "social_worker")
        if options["status"]:
            rows = rows.filter(status=options["status"])
        count = 0
        for referral in sorted(rows, key=lambda r: (r.status != ReferralStatus.PENDING, -r.pk)):
            name = referral.household.display_name if referral.household else referral.name
            self.stdout.write(
                f"{referral.pk:>6}  {referral.get_status_display():<28} {name:<30} "
                f"{referral.consent_on:%d/%m/%Y}  {referral.social_worker}"
            )
            count += 1
        self.stdout.write(f"{count} referrals.")

    def _decider(self, territory: Territory, options: dict[str, Any]) -> tuple[Any, Any]:
        from grenier.core import permissions
        from grenier.core.models import User
        from grenier.core.permissions import Action
        from grenier.fund.models import FundReferral

        user = User.objects.filter(email=options["by"].strip().lower()).first()
        if user is None or not permissions.can(user, territory, Action.FUND_MANAGE):
            raise CommandError(f"{options['by']} is not a coordinator of {territory.name}.")
        referral = FundReferral.objects.filter(territory=territory, pk=options["referral"]).first()
        if referral is None:
            raise CommandError(f"No referral {options['referral']} in {territory.name}.")
        return referral, user

    def _referral_confirm(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.fund import referrals

        referral, user = self._decider(territory, options)
        referral = referrals.referral_confirm(referral=referral, actor=user)
        household = referral.household
        if household is None:  # pragma: no cover - a confirmed referral always names its household
            raise CommandError(f"Referral {referral.pk} names no household.")
        self.stdout.write(
            f"Referral {referral.pk}: {household.display_name} is in the common fund "
            f"(card {household.card_number})."
        )

    def _referral_decline(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.fund import referrals

        referral, user = self._decider(territory, options)
        referral = referrals.referral_decline(referral=referral, actor=user, reason=options["reason"])
        self.stdout.write(f"Referral {referral.pk} declined.")
