"""A monthly run's totals, kept by the database as its month lines are written (issue 14).

``fund_runtotals`` holds, per run, how many lines (households) and the sums of their contributions due and paid,
allocations and credit returned. Triggers on ``fund_monthline`` keep it true in the transaction that writes the
lines, whoever writes them: after an insert the lines are added to their run, after an update of a line's run or
amounts the old values leave and the new ones join, after a delete they leave. On PostgreSQL the triggers run once
per statement over its transition tables (``monthly_run`` inserts a batch of lines in one ``INSERT … SELECT``: one
update of the run's row per batch, not per line); on SQLite, which has no statement triggers, once per row. Lines
already there are counted once, when this migration runs.
"""

import django.db.models.deletion
from django.db import migrations, models

from ._vendor import run_sql_by_vendor

_COLUMNS = ("contribution_due_cents", "contribution_paid_cents", "allocation_cents", "returned_cents")
_SUMS = ", ".join(f"SUM({column})" for column in _COLUMNS)
_INSERT = "INSERT INTO fund_runtotals (run_id, households, " + ", ".join(_COLUMNS) + ") "


def _postgresql_apply(sign: str, rows: str) -> str:
    """Add (``sign`` empty) or take out (``-``) the lines of the transition table ``rows``, grouped by run."""
    summed = ", ".join(f"{sign}SUM({column})" for column in _COLUMNS)
    added = ", ".join(f"{column} = fund_runtotals.{column} + EXCLUDED.{column}" for column in _COLUMNS)
    return (
        f"{_INSERT}SELECT run_id, {sign}COUNT(*), {summed} FROM {rows} GROUP BY run_id "  # noqa: S608 - constants
        f"ON CONFLICT (run_id) DO UPDATE SET households = fund_runtotals.households + EXCLUDED.households, {added};"
    )


POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION fund_run_totals_add() RETURNS trigger AS $$
BEGIN
    {_postgresql_apply("", "new_lines")}
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION fund_run_totals_take() RETURNS trigger AS $$
BEGIN
    {_postgresql_apply("-", "old_lines")}
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION fund_run_totals_move() RETURNS trigger AS $$
BEGIN
    {_postgresql_apply("-", "old_lines")}
    {_postgresql_apply("", "new_lines")}
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER fund_run_totals_insert AFTER INSERT ON fund_monthline
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION fund_run_totals_add();
CREATE TRIGGER fund_run_totals_delete AFTER DELETE ON fund_monthline
    REFERENCING OLD TABLE AS old_lines FOR EACH STATEMENT EXECUTE FUNCTION fund_run_totals_take();
CREATE TRIGGER fund_run_totals_update AFTER UPDATE ON fund_monthline
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION fund_run_totals_move();
{_INSERT}SELECT run_id, COUNT(*), {_SUMS} FROM fund_monthline GROUP BY run_id;
"""  # noqa: S608 - the module's own constants

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS fund_run_totals_insert ON fund_monthline;
DROP TRIGGER IF EXISTS fund_run_totals_delete ON fund_monthline;
DROP TRIGGER IF EXISTS fund_run_totals_update ON fund_monthline;
DROP FUNCTION IF EXISTS fund_run_totals_add();
DROP FUNCTION IF EXISTS fund_run_totals_take();
DROP FUNCTION IF EXISTS fund_run_totals_move();
"""

_SQLITE_ADD = (
    f"{_INSERT}VALUES (NEW.run_id, 1, "
    + ", ".join(f"NEW.{column}" for column in _COLUMNS)
    + ") ON CONFLICT (run_id) DO UPDATE SET households = households + 1, "
    + ", ".join(f"{column} = {column} + excluded.{column}" for column in _COLUMNS)
    + ";"
)
_SQLITE_TAKE = (
    "UPDATE fund_runtotals SET households = households - 1, "  # noqa: S608 - constants
    + ", ".join(f"{column} = {column} - OLD.{column}" for column in _COLUMNS)
    + " WHERE run_id = OLD.run_id;"
)
SQLITE = [
    f"CREATE TRIGGER fund_run_totals_insert AFTER INSERT ON fund_monthline BEGIN {_SQLITE_ADD} END",
    "CREATE TRIGGER fund_run_totals_update AFTER UPDATE OF run_id, "
    + ", ".join(_COLUMNS)
    + f" ON fund_monthline BEGIN {_SQLITE_TAKE} {_SQLITE_ADD} END",
    f"CREATE TRIGGER fund_run_totals_delete AFTER DELETE ON fund_monthline BEGIN {_SQLITE_TAKE} END",
    f"{_INSERT}SELECT run_id, COUNT(*), {_SUMS} FROM fund_monthline GROUP BY run_id",  # noqa: S608 - constants
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS fund_run_totals_insert",
    "DROP TRIGGER IF EXISTS fund_run_totals_update",
    "DROP TRIGGER IF EXISTS fund_run_totals_delete",
]


class Migration(migrations.Migration):
    dependencies = [
        ("fund", "0006_payment_store_latest_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="RunTotals",
            fields=[
                (
                    "run",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="fund.monthlyrun",
                    ),
                ),
                ("households", models.BigIntegerField(default=0)),
                ("contribution_due_cents", models.BigIntegerField(default=0)),
                ("contribution_paid_cents", models.BigIntegerField(default=0)),
                ("allocation_cents", models.BigIntegerField(default=0)),
                ("returned_cents", models.BigIntegerField(default=0)),
            ],
        ),
        run_sql_by_vendor(
            {"postgresql": [POSTGRESQL], "sqlite": SQLITE},
            {"postgresql": [POSTGRESQL_DROP], "sqlite": SQLITE_DROP},
        ),
    ]
