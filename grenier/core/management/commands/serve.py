"""``grenier serve``: the production server (gunicorn), after collecting static files."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Serve Grenier with gunicorn (production). Set GRENIER_SECRET_KEY and GRENIER_ALLOWED_HOSTS first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("GRENIER_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("GRENIER_WORKERS", "3")))
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply migrations before serving."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=1)
        call_command("collectstatic", interactive=False, verbosity=0)
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
        if gunicorn is None:
            raise CommandError("gunicorn is not installed in this environment.")
        arguments = [
            gunicorn,
            "grenier.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
        ]
        self.stdout.write(f"Serving on http://{options['bind']}/ with {options['workers']} workers.")
        sys.stdout.flush()
        os.execv(gunicorn, arguments)  # noqa: S606 - replaces this process with gunicorn, arguments are ours
