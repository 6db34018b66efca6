"""``grenier demo``: migrate, load the demo territory (again and again, adding nothing twice), print the logins, serve."""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from grenier.core import demo


class Command(BaseCommand):
    help = (
        "Create or complete the demo territory, print the demo logins, and serve it on http://127.0.0.1:8000."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="Load the demo and stop; do not serve.")
        parser.add_argument("--addr", default="127.0.0.1:8000", help="Where to serve (HOST:PORT).")
        parser.add_argument(
            "--households",
            type=int,
            default=demo.HOUSEHOLD_COUNT,
            help="How many generated households (default 450).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        self.stdout.write("Migrating the database…")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Loading the demo territory…")
        territory = demo.build(log=self.stdout.write, household_count=options["households"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo territory “{territory.name}” ready in {time.monotonic() - started:.1f} s."
            )
        )
        addr = options["addr"]
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for login in demo.LOGINS:
            self.stdout.write(f"  {login.role.value:<14} {login.email}")
        self.stdout.write(
            f"  {'network':<14} {demo.GROUPING_LOGIN[0]}  (the network's roll-up of both territories)"
        )
        self.stdout.write("")
        if options["no_serve"]:
            return
        self.stdout.write(self.style.SUCCESS(f"Serving at http://{addr}/ — stop with Ctrl+C."))
        call_command("runserver", addr, use_reloader=False, skip_checks=True)
