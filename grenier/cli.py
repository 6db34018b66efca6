"""The ``grenier`` command: every Django management command, plus Grenier's own (demo, serve, token, ...)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grenier.settings")
    command = argv[1] if len(argv) > 1 else "help"
    if command in {"demo", "runserver"}:
        # The demo and the development server run in debug mode: static files served, development secret allowed.
        os.environ.setdefault("GRENIER_DEBUG", "1")
    elif command != "serve":
        # Management commands sign nothing a browser will see; only the production server insists on a real secret.
        os.environ.setdefault("GRENIER_ALLOW_DEV_SECRET", "1")
    argv[0] = "grenier"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
