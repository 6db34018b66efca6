"""A territory's households' stamp, changed by the database whenever what the projection reads of them changes
(issue 14).

``fund_householdsstamp`` holds one token per territory. Row triggers on ``core_household`` (insert, delete, update
of its territory, resources or dates in the fund), ``core_householdperson`` (insert, delete, update of its household,
birth date or child mark) and ``fund_contributionchoice`` (insert, delete, update) give the territory of the old and
the new row a new token in the writing transaction: on PostgreSQL the next value of the sequence
``fund_households_stamp_token``, never handed out twice, not even by a rolled-back transaction; on SQLite
``random()`` (64 bits). Every territory gets a first token when this migration runs.
"""

import django.db.models.deletion
from django.db import migrations, models

from ._vendor import run_sql_by_vendor

_WATCHED = {
    "core_household": ("territory_id", "monthly_resources_cents", "fund_joined_on", "left_on"),
    "core_householdperson": ("household_id", "birth_date", "is_child"),
    "fund_contributionchoice": ("household_id", "effective_month", "amount_cents"),
}


def _territory_of(table: str, row: str) -> str:
    """The territory of ``row`` (``NEW``/``OLD``) of ``table``, as a ``SELECT``'s source (no row if it has none)."""
    if table == "core_household":
        return f"SELECT {row}.territory_id AS territory_id"
    return f"SELECT territory_id FROM core_household WHERE id = {row}.household_id"  # noqa: S608 - constants


def _postgresql(table: str) -> str:
    stamp = (
        "INSERT INTO fund_householdsstamp (territory_id, token) SELECT t.territory_id, "
        "nextval('fund_households_stamp_token') FROM ({source}) t WHERE t.territory_id IS NOT NULL "
        "ON CONFLICT (territory_id) DO UPDATE SET token = EXCLUDED.token;"
    )
    columns = ", ".join(_WATCHED[table])
    return f"""
CREATE OR REPLACE FUNCTION {table}_stamp() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {stamp.format(source=_territory_of(table, "OLD"))}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {stamp.format(source=_territory_of(table, "NEW"))}
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_stamp AFTER INSERT OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_stamp();
CREATE TRIGGER {table}_stamp_update AFTER UPDATE OF {columns} ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_stamp();
"""  # noqa: S608 - the module's own constants


POSTGRESQL = [
    "CREATE SEQUENCE IF NOT EXISTS fund_households_stamp_token",
    *(_postgresql(table) for table in _WATCHED),
    "INSERT INTO fund_householdsstamp (territory_id, token) "
    "SELECT id, nextval('fund_households_stamp_token') FROM core_territory",
]
POSTGRESQL_DROP = [
    statement
    for table in _WATCHED
    for statement in (
        f"DROP TRIGGER IF EXISTS {table}_stamp ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_stamp_update ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_stamp()",
    )
] + ["DROP SEQUENCE IF EXISTS fund_households_stamp_token"]


def _sqlite_stamp(table: str, row: str) -> str:
    # A WHERE before ON CONFLICT: SQLite's parser needs one after INSERT … SELECT.
    return (
        f"INSERT INTO fund_householdsstamp (territory_id, token) SELECT t.territory_id, random() "  # noqa: S608
        f"FROM ({_territory_of(table, row)}) t WHERE t.territory_id IS NOT NULL "
        "ON CONFLICT (territory_id) DO UPDATE SET token = excluded.token;"
    )


SQLITE = [
    statement
    for table, columns in _WATCHED.items()
    for statement in (
        f"CREATE TRIGGER {table}_stamp_insert AFTER INSERT ON {table} BEGIN {_sqlite_stamp(table, 'NEW')} END",
        f"CREATE TRIGGER {table}_stamp_delete AFTER DELETE ON {table} BEGIN {_sqlite_stamp(table, 'OLD')} END",
        f"CREATE TRIGGER {table}_stamp_update AFTER UPDATE OF {', '.join(columns)} ON {table} "
        f"BEGIN {_sqlite_stamp(table, 'OLD')} {_sqlite_stamp(table, 'NEW')} END",
    )
] + ["INSERT INTO fund_householdsstamp (territory_id, token) SELECT id, random() FROM core_territory"]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {table}_stamp_{event}"
    for table in _WATCHED
    for event in ("insert", "delete", "update")
]


class Migration(migrations.Migration):
    dependencies = [
        ("fund", "0007_run_totals_kept_by_triggers"),
    ]

    operations = [
        migrations.CreateModel(
            name="HouseholdsStamp",
            fields=[
                (
                    "territory",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="core.territory",
                    ),
                ),
                ("token", models.BigIntegerField()),
            ],
        ),
        run_sql_by_vendor(
            {"postgresql": POSTGRESQL, "sqlite": SQLITE},
            {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP},
        ),
    ]
