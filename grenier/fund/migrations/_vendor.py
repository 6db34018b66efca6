"""What a migration runs on each database: the helper lives with core's migrations (Django's loader skips this
module: its name starts with ``_``)."""

from grenier.core.migrations._vendor import run_sql_by_vendor

__all__ = ["run_sql_by_vendor"]
