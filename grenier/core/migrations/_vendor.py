"""What a migration runs on each database (Django's loader skips this module: its name starts with ``_``)."""

from collections.abc import Callable
from typing import Any

from django.db import migrations


def run_sql_by_vendor(create: dict[str, list[str]], drop: dict[str, list[str]]) -> migrations.RunPython:
    """A ``RunPython`` that executes ``create[vendor]`` (and ``drop[vendor]`` backwards) on the connection's
    database; nothing on a database neither names."""

    def runner(statements: dict[str, list[str]]) -> Callable[[Any, Any], None]:
        def run(apps: Any, schema_editor: Any) -> None:
            for statement in statements.get(schema_editor.connection.vendor, []):
                schema_editor.execute(statement, params=None)

        return run

    return migrations.RunPython(runner(create), runner(drop))
