"""``grenier governance close-due|bodies|body-create``: what cron runs for votes, and the bodies of a territory."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Q

from grenier.core.errors import GrenierError
from grenier.core.models import Territory


class Command(BaseCommand):
    help = "Governance: close the votes whose time is over and apply their effects; list the bodies."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        due = sub.add_parser(
            "close-due",
            help=(
                "Tell members about opened votes and votes closing tomorrow, close the votes whose time is over "
                "and apply the effects whose month has come. Safe to run as often as wanted (cron). Exits with "
                "status 1 when an effect failed."
            ),
        )
        due.add_argument("--territory", help="Only this territory (default: every territory).")
        bodies = sub.add_parser("bodies", help="The bodies of a territory and how many members each has.")
        bodies.add_argument("--territory", required=True)
        create = sub.add_parser(
            "body-create", help="Open a body: any number of each kind, each with its own name."
        )
        create.add_argument("--territory", required=True)
        create.add_argument(
            "--kind", required=True, choices=["committee", "growers", "assembly", "commission", "follow_up"]
        )
        create.add_argument("--name", default="", help="What tells it apart in the territory.")

    def handle(self, *args: Any, **options: Any) -> None:
        territory: Territory | None = None
        if options.get("territory"):
            territory = Territory.objects.filter(slug=options["territory"]).first()
            if territory is None:
                raise CommandError(f"No territory with the slug {options['territory']!r}.")
        try:
            if options["action"] == "close-due":
                self._close_due(territory)
            elif options["action"] == "body-create":
                assert territory is not None  # noqa: S101 - argparse requires --territory
                self._body_create(territory, options)
            else:
                assert territory is not None  # noqa: S101 - argparse requires --territory
                self._bodies(territory)
        except GrenierError as exc:
            raise CommandError(exc.detail) from exc

    def _close_due(self, territory: Territory | None) -> None:
        from grenier.governance import services
        from grenier.governance.models import Decision, EffectStatus

        failed = Decision.objects.filter(effect_status=EffectStatus.FAILED)
        if territory is not None:
            failed = failed.filter(proposal__territory=territory)
        failed_before = set(failed.values_list("pk", flat=True))
        summary = services.close_due(territory=territory)
        self.stdout.write(
            f"{summary.opened_notified} opened notified, {summary.reminded} reminders, {summary.closed} closed, "
            f"{summary.effects_applied} effects applied, {summary.effects_failed} effects failed."
        )
        # Effects applied at the close itself are reported here too, whatever the summary counted.
        failed_now = list(failed.exclude(pk__in=failed_before).select_related("proposal__territory"))
        for decision in failed_now:
            proposal = decision.proposal
            self.stderr.write(
                f"Effect failed: {proposal.territory.slug} proposal {proposal.pk} “{proposal.title}”: "
                f"{decision.effect_error}"
            )
        count = max(summary.effects_failed, len(failed_now))
        if count:
            raise CommandError(f"{count} effect(s) failed.", returncode=1)

    def _body_create(self, territory: Territory, options: dict[str, Any]) -> None:
        from grenier.governance import services
        from grenier.governance.models import BodyKind

        body = services.body_create(
            territory=territory, kind=BodyKind(options["kind"]), name=options["name"], actor=None
        )
        self.stdout.write(f"Opened body {body.pk}: {body.name} ({body.kind}) in {territory.name}.")

    def _bodies(self, territory: Territory) -> None:
        from grenier.governance.models import Body

        rows = (
            Body.objects.filter(territory=territory)
            .annotate(
                members=Count("memberships__user", filter=Q(memberships__left_at__isnull=True), distinct=True)
            )
            .order_by("kind", "name")
        )
        for body in rows:
            self.stdout.write(f"{body.pk:>5}  {body.kind:<10}  {body.members:>6} members  {body.name}")
        self.stdout.write(f"{len(rows)} bodies in {territory.name}.")
