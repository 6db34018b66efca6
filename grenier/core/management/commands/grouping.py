"""``grenier grouping create|add|remove|coordinator|list``: groupings of territories (a network, a département) and
their coordinators, who read the roll-up of the indicators (``/groupings/<slug>/reports/``) and nothing else."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grenier.core import groupings
from grenier.core.errors import GrenierError
from grenier.core.models import Grouping, Territory, User


class Command(BaseCommand):
    help = "Create groupings of territories, add or remove territories, grant or revoke their coordinators."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a grouping (asked again: the one there is kept).")
        create.add_argument("slug")
        create.add_argument("--name", required=True)
        create.add_argument("--kind", default=Grouping.Kind.NETWORK.value, choices=Grouping.Kind.values)
        create.add_argument(
            "--territory", action="append", default=[], help="A territory's slug (repeatable)."
        )
        add = sub.add_parser("add", help="Add a territory to a grouping.")
        add.add_argument("slug")
        add.add_argument("territory")
        remove = sub.add_parser("remove", help="Take a territory out of a grouping.")
        remove.add_argument("slug")
        remove.add_argument("territory")
        coordinator = sub.add_parser("coordinator", help="Grant (or --revoke) a grouping's coordinator.")
        coordinator.add_argument("slug")
        coordinator.add_argument("email")
        coordinator.add_argument("--revoke", action="store_true")
        sub.add_parser("list", help="Every grouping, its territories and coordinators.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except GrenierError as exc:
            raise CommandError(exc.detail) from exc

    def _territory(self, slug: str) -> Territory:
        territory = Territory.objects.filter(slug=slug).first()
        if territory is None:
            raise CommandError(f"No territory with the slug {slug!r}.")
        return territory

    def _create(self, options: dict[str, Any]) -> None:
        territories = [self._territory(slug) for slug in options["territory"]]
        grouping = groupings.grouping_create(
            slug=options["slug"], name=options["name"], kind=options["kind"], territories=territories
        )
        self.stdout.write(f"Grouping {grouping.slug}: {grouping.territories.count()} territories.")

    def _add(self, options: dict[str, Any]) -> None:
        grouping = groupings.grouping_by_slug(options["slug"])
        groupings.grouping_add_territory(grouping=grouping, territory=self._territory(options["territory"]))
        self.stdout.write(f"{options['territory']} is in {grouping.slug}.")

    def _remove(self, options: dict[str, Any]) -> None:
        grouping = groupings.grouping_by_slug(options["slug"])
        groupings.grouping_remove_territory(
            grouping=grouping, territory=self._territory(options["territory"])
        )
        self.stdout.write(f"{options['territory']} is not in {grouping.slug}.")

    def _coordinator(self, options: dict[str, Any]) -> None:
        grouping = groupings.grouping_by_slug(options["slug"])
        user = User.objects.filter(email=options["email"].strip().lower(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with the e-mail {options['email']!r}.")
        if options["revoke"]:
            groupings.grouping_coordinator_revoke(grouping=grouping, user=user)
            self.stdout.write(f"{user.email} no longer coordinates {grouping.slug}.")
        else:
            groupings.grouping_coordinator_grant(grouping=grouping, user=user)
            self.stdout.write(f"{user.email} coordinates {grouping.slug}.")

    def _list(self, options: dict[str, Any]) -> None:
        for grouping in Grouping.objects.prefetch_related("territories", "roles__user").order_by("slug"):
            territories = ", ".join(t.slug for t in grouping.territories.all()) or "-"
            coordinators = ", ".join(r.user.email for r in grouping.roles.all()) or "-"
            self.stdout.write(
                f"{grouping.slug}  {grouping.kind}  {territories}  {coordinators}  {grouping.name}"
            )
