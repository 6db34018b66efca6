"""A territory's households and persons counted by day, kept by the database as they are written (issue 14).

``core_territorycount`` holds, per territory, kind and day, how many: persons of the households that have not left,
by birth date (9999-12-31 for a person without one marked as a child, 0001-01-01 for one not marked); households by
the day they joined; households that left by the day they left. A home counts children as those born after the day
14 years ago, on whatever day it is read, by summing these rows (``core.selectors.territory_figures``).

Every write's *delta* is applied in the writing transaction, whoever writes: the rows a statement removed count
minus one, the rows it brought plus one, summed by (territory, kind, day), and added to the counts
(``INSERT … ON CONFLICT DO UPDATE``). A household's write moves its persons too (leaving takes them out of the
persons counted, coming back or moving to another territory moves them). On PostgreSQL statement triggers over the
transition tables (a bulk insert of persons is one upsert); on SQLite row triggers. What is there already is
counted once, when this migration runs.
"""

from collections.abc import Callable

import django.db.models.deletion
from django.db import migrations, models

from ._vendor import run_sql_by_vendor

_TABLE = "core_territorycount"
# (vendor, rows, sign) -> a SELECT of (territory_id, kind, day, n): what rows count, each sign.
Delta = Callable[[str, str, int], str]


def _born(vendor: str, person: str) -> str:
    """The day a person is counted on: the birth date, or the undated child's or adult's day."""
    late, early = (
        ("DATE '9999-12-31'", "DATE '0001-01-01'")
        if vendor == "postgresql"
        else ("'9999-12-31'", "'0001-01-01'")
    )
    return f"COALESCE({person}.birth_date, CASE WHEN {person}.is_child THEN {late} ELSE {early} END)"


def _households(vendor: str, rows: str, sign: int) -> str:
    """What the households ``rows`` count, each ``sign``: (territory_id, kind, day, n) rows."""
    return (
        f"SELECT r.territory_id AS territory_id, 2 AS kind, r.joined_on AS day, {sign} AS n FROM {rows} r "  # noqa: S608 - constants
        f"UNION ALL SELECT r.territory_id, 3, r.left_on, {sign} FROM {rows} r WHERE r.left_on IS NOT NULL "
        f"UNION ALL SELECT r.territory_id, 1, {_born(vendor, 'p')}, {sign} FROM {rows} r "
        "JOIN core_householdperson p ON p.household_id = r.id WHERE r.left_on IS NULL"
    )


def _persons(vendor: str, rows: str, sign: int) -> str:
    """What the persons ``rows`` count, each ``sign``, in their households as they are now."""
    return (
        f"SELECT h.territory_id AS territory_id, 1 AS kind, {_born(vendor, 'r')} AS day, {sign} AS n FROM {rows} r "  # noqa: S608
        "JOIN core_household h ON h.id = r.household_id WHERE h.left_on IS NULL"
    )


def _apply(deltas: list[str]) -> str:
    """Add the summed ``deltas`` to the counts; nothing for a key whose delta is zero."""
    union = " UNION ALL ".join(deltas)
    return (
        f"INSERT INTO {_TABLE} (territory_id, kind, day, n) SELECT d.territory_id, d.kind, d.day, SUM(d.n) "  # noqa: S608
        f"FROM ({union}) d GROUP BY d.territory_id, d.kind, d.day HAVING SUM(d.n) <> 0 "
        f"ON CONFLICT (territory_id, kind, day) DO UPDATE SET n = {_TABLE}.n + excluded.n;"
    )


_HOUSEHOLD_COLUMNS = ("territory_id", "joined_on", "left_on")
_PERSON_COLUMNS = ("household_id", "birth_date", "is_child")


def _changed(columns: tuple[str, ...], side: str) -> str:
    """The transition table ``side`` (old or new) restricted to the rows whose ``columns`` changed."""
    old = ", ".join(f"o.{column}" for column in columns)
    new = ", ".join(f"n.{column}" for column in columns)
    keep = "o" if side == "old" else "n"
    return (
        f"(SELECT {keep}.* FROM old_rows o JOIN new_rows n ON n.id = o.id "  # noqa: S608 - constants
        f"WHERE ({old}) IS DISTINCT FROM ({new}))"
    )


def _postgresql(table: str, make: Delta, columns: tuple[str, ...]) -> str:
    bodies = {
        "add": _apply([make("postgresql", "new_rows", 1)]),
        "take": _apply([make("postgresql", "old_rows", -1)]),
        "move": _apply(
            [
                make("postgresql", _changed(columns, "old"), -1),
                make("postgresql", _changed(columns, "new"), 1),
            ]
        ),
    }
    functions = "".join(
        f"CREATE OR REPLACE FUNCTION {table}_count_{name}() RETURNS trigger AS $$\n"
        f"BEGIN\n    {body}\n    RETURN NULL;\nEND\n$$ LANGUAGE plpgsql;\n"
        for name, body in bodies.items()
    )
    return functions + (
        f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_count_add();\n"
        f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_count_take();\n"
        f"CREATE TRIGGER {table}_count_update AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_count_move();\n"
    )


def _row(columns: tuple[str, ...], row: str) -> str:
    """SQLite's ``NEW`` or ``OLD`` as a one-row source."""
    return "(SELECT " + ", ".join(f"{row}.{column} AS {column}" for column in ("id", *columns)) + ")"


def _sqlite(table: str, make: Delta, columns: tuple[str, ...]) -> list[str]:
    old, new = _row(columns, "OLD"), _row(columns, "NEW")
    watched = ", ".join(columns)
    return [
        f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} "
        f"BEGIN {_apply([make('sqlite', new, 1)])} END",
        f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} "
        f"BEGIN {_apply([make('sqlite', old, -1)])} END",
        f"CREATE TRIGGER {table}_count_update AFTER UPDATE OF {watched} ON {table} "
        f"BEGIN {_apply([make('sqlite', old, -1), make('sqlite', new, 1)])} END",
    ]


# Everything there already, counted once: the households as rows of themselves (their persons with them).
_BACKFILL = {
    vendor: _apply([_households(vendor, "core_household", 1)]) for vendor in ("postgresql", "sqlite")
}

POSTGRESQL = [
    _postgresql("core_household", _households, _HOUSEHOLD_COLUMNS),
    _postgresql("core_householdperson", _persons, _PERSON_COLUMNS),
    _BACKFILL["postgresql"],
]
POSTGRESQL_DROP = [
    statement
    for table in ("core_household", "core_householdperson")
    for statement in (
        *(
            f"DROP TRIGGER IF EXISTS {table}_count_{event} ON {table}"
            for event in ("insert", "delete", "update")
        ),
        *(f"DROP FUNCTION IF EXISTS {table}_count_{name}()" for name in ("add", "take", "move")),
    )
]
SQLITE = [
    *_sqlite("core_household", _households, _HOUSEHOLD_COLUMNS),
    *_sqlite("core_householdperson", _persons, _PERSON_COLUMNS),
    _BACKFILL["sqlite"],
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {table}_count_{event}"
    for table in ("core_household", "core_householdperson")
    for event in ("insert", "delete", "update")
]


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_household_fund_joined_on"),
    ]

    operations = [
        migrations.CreateModel(
            name="TerritoryCount",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "territory",
                        "kind",
                        "day",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "territory",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.territory",
                    ),
                ),
                (
                    "kind",
                    models.PositiveSmallIntegerField(
                        choices=[(1, "person born"), (2, "household joined"), (3, "household left")]
                    ),
                ),
                ("day", models.DateField()),
                ("n", models.BigIntegerField(default=0)),
            ],
        ),
        run_sql_by_vendor(
            {"postgresql": POSTGRESQL, "sqlite": SQLITE},
            {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP},
        ),
    ]
