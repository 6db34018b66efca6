"""``grenier network export|known``: the cooperation map as CSV, XLSX, GEXF or GraphML, and the rows Grenier already knows
put on the map (with the cooperations it runs proposed for a coordinator to confirm)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grenier.core.models import Territory
from grenier.network import exports, services


class Command(BaseCommand):
    help = "The cooperation map: exports for researchers (Gephi), and what Grenier already knows."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser(
            "export",
            help="The map as CSV (actors, cooperations or resources), XLSX (the three), GEXF or GraphML.",
        )
        export.add_argument("--territory", default="demo")
        export.add_argument("--format", choices=sorted(exports.EXPORTS), default="gexf")
        export.add_argument(
            "--what", choices=["actors", "cooperations", "resources"], default="cooperations", help="For CSV."
        )
        export.add_argument(
            "--contacts", action="store_true", help="CSV or XLSX: the actors with their contact person."
        )
        export.add_argument("--output", help="A file to write (standard output if not given).")
        known = sub.add_parser(
            "known",
            help="Put the stores, farms, kitchens, gardens, groups and funders Grenier knows on the map.",
        )
        known.add_argument("--territory", default="demo")
        known.add_argument(
            "--propose", action="store_true", help="Also propose the cooperations Grenier runs."
        )
        known.add_argument("--dry-run", action="store_true", help="Say what would be added; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        territory = Territory.objects.filter(slug=options["territory"]).first()
        if territory is None:
            raise CommandError(f"No territory {options['territory']!r}")
        if options["action"] == "export":
            self._export(territory, options)
        else:
            self._known(territory, options)

    def _export(self, territory: Territory, options: dict[str, Any]) -> None:
        body = exports.EXPORTS[options["format"]].write(territory, options["what"], options["contacts"])
        if options["output"]:
            with open(options["output"], "wb") as out:
                out.write(body)
            self.stdout.write(f"Written {options['output']} ({len(body)} bytes)")
        else:
            sys.stdout.buffer.write(body)
            sys.stdout.flush()

    def _known(self, territory: Territory, options: dict[str, Any]) -> None:
        missing = services.known_missing(territory)
        for row in missing:
            self.stdout.write(
                f"{'would add' if options['dry_run'] else 'add'} {row.link}:{row.row.pk} {row.name}"
            )
        if options["dry_run"]:
            return
        added = services.actors_from_grenier(territory=territory, by=None)
        self.stdout.write(f"{len(added)} actors put on the map")
        if options["propose"]:
            proposed = services.cooperations_from_grenier(territory=territory, by=None)
            for cooperation in proposed:
                self.stdout.write(
                    f"proposed {cooperation.source} level {cooperation.level}: {cooperation.title}"
                )
            self.stdout.write(f"{len(proposed)} cooperations proposed, waiting for a coordinator")
