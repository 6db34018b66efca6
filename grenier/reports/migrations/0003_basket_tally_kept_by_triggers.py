"""The baskets collected, by household, size and period, kept by the database as the lines are written (issue 14).

``reports_baskettally`` holds, per territory (its gardens' pickup points), year, period (0: the whole year; 1 to 12: a
month), basket size and household, how many baskets the household collected then, their price and the members' part.
The indicators read a year or a month from it (a range of a few thousand rows) instead of the period's lines through
their sheets, pickup points and gardens, counting the households four times (in all and for each size).

Triggers, in the writing transaction, whoever writes:

* on ``baskets_distributionline``: a line inserted as collected adds its basket to its month and its year; deleted as
  collected takes it off; changed (household, sheet, day, offer, status, price, members' part) takes the line as it
  was off if it was collected and adds it as it is if it is;
* on ``baskets_basketoffer``: an offer whose size changes moves its collected lines from the old size to the new.

A sheet moved to another pickup point, or a pickup point to another garden, is not followed (nor is it by
``reports_householdreach``): the baskets' services do neither. PostgreSQL: statement triggers over the transition
tables, summed by key; SQLite: row triggers. What is there already is counted once, when this migration runs.
"""

import django.db.models.deletion
from django.db import migrations, models

from grenier.core.migrations._vendor import run_sql_by_vendor

TALLY = "reports_baskettally"
LINES = "baskets_distributionline"
OFFERS = "baskets_basketoffer"
KEY = ("territory_id", "year", "period", "size", "household_id")
SUMS = ("n", "price_cents", "member_cents")


def _part(vendor: str, part: str, day: str) -> str:
    if vendor == "postgresql":
        return f"CAST(EXTRACT({part} FROM {day}) AS integer)"
    start, length = {"YEAR": (1, 4), "MONTH": (6, 2)}[part]
    return f"CAST(substr({day}, {start}, {length}) AS integer)"


def _territory(row: str) -> str:
    return (
        "(SELECT g.territory_id FROM baskets_distributionsheet s "  # noqa: S608 - constants
        "JOIN baskets_pickuppoint pp ON pp.id = s.pickup_point_id "
        f"JOIN baskets_garden g ON g.id = pp.garden_id WHERE s.id = {row}.sheet_id)"
    )


def _size(row: str) -> str:
    return f"(SELECT o.size FROM {OFFERS} o WHERE o.id = {row}.offer_id)"  # noqa: S608 - constants


def _baskets(vendor: str, row: str, source: str, sign: int, size: str | None = None, where: str = "") -> str:
    """The collected lines of ``source`` (``row`` its alias, or SQLite's NEW or OLD with a one-row ``source``)
    summed by key for their month and their year, times ``sign``; ``size`` instead of each line's offer's."""
    day = f'{row}."on"'
    return (
        f"SELECT {_territory(row)} AS territory_id, {_part(vendor, 'YEAR', day)} AS year, "  # noqa: S608 - constants
        f"CASE WHEN p.whole = 1 THEN 0 ELSE {_part(vendor, 'MONTH', day)} END AS period, "
        f"{size or _size(row)} AS size, {row}.household_id AS household_id, "
        f"{sign} * COUNT(*) AS n, {sign} * SUM({row}.price_cents) AS price_cents, "
        f"{sign} * SUM({row}.member_part_cents) AS member_cents "
        f"FROM {source} CROSS JOIN (SELECT 1 AS whole UNION ALL SELECT 0) p "
        f"WHERE {row}.status = 'collected'{where} GROUP BY 1, 2, 3, 4, 5"
    )


def _upsert(select: str) -> str:
    names = ", ".join(KEY)
    return (
        f"INSERT INTO {TALLY} ({names}, {', '.join(SUMS)}) "  # noqa: S608 - constants
        f"SELECT {names}, SUM(n), SUM(price_cents), SUM(member_cents) FROM ({select}) d "
        f"WHERE territory_id IS NOT NULL GROUP BY {names} "
        "HAVING SUM(n) <> 0 OR SUM(price_cents) <> 0 OR SUM(member_cents) <> 0 "
        f"ON CONFLICT ({names}) DO UPDATE SET "
        + ", ".join(f"{column} = {TALLY}.{column} + excluded.{column}" for column in SUMS)
        + ";"
    )


WATCHED = ("household_id", "sheet_id", '"on"', "status", "offer_id", "price_cents", "member_part_cents")


def _sqlite() -> list[str]:
    one = "(SELECT 1) one"
    moved = f"SELECT l.* FROM {LINES} l WHERE l.offer_id = NEW.id"  # noqa: S608 - constants
    return [
        f"CREATE TRIGGER {LINES}_tally_insert AFTER INSERT ON {LINES} "
        f"BEGIN {_upsert(_baskets('sqlite', 'NEW', one, 1))} END",
        f"CREATE TRIGGER {LINES}_tally_delete AFTER DELETE ON {LINES} "
        f"BEGIN {_upsert(_baskets('sqlite', 'OLD', one, -1))} END",
        f"CREATE TRIGGER {LINES}_tally_update AFTER UPDATE OF {', '.join(WATCHED)} ON {LINES} "
        f"BEGIN {_upsert(_baskets('sqlite', 'OLD', one, -1) + ' UNION ALL ' + _baskets('sqlite', 'NEW', one, 1))} END",
        f"CREATE TRIGGER {OFFERS}_tally_update AFTER UPDATE OF size ON {OFFERS} WHEN OLD.size <> NEW.size "
        f"BEGIN {_upsert(_baskets('sqlite', 'l', f'({moved}) l', -1, 'OLD.size') + ' UNION ALL ' + _baskets('sqlite', 'l', f'({moved}) l', 1, 'NEW.size'))} END",
    ]


SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        f"{LINES}_tally_insert",
        f"{LINES}_tally_delete",
        f"{LINES}_tally_update",
        f"{OFFERS}_tally_update",
    )
]


def _function(name: str, table: str, event: str, transition: str, body: str) -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$\nBEGIN\n    {body}\n    RETURN NULL;\nEND\n"
        "$$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {name} AFTER {event} ON {table} {transition} FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    ]


def _postgresql() -> list[str]:
    lines_of = (
        f"(SELECT l.*, o.size AS old_size, n.size AS new_size FROM {LINES} l "  # noqa: S608 - constants
        "JOIN old_rows o ON o.id = l.offer_id JOIN new_rows n ON n.id = o.id WHERE o.size <> n.size) l"
    )
    return [
        *_function(
            f"{LINES}_tally_insert",
            LINES,
            "INSERT",
            "REFERENCING NEW TABLE AS new_rows",
            _upsert(_baskets("postgresql", "r", "new_rows r", 1)),
        ),
        *_function(
            f"{LINES}_tally_delete",
            LINES,
            "DELETE",
            "REFERENCING OLD TABLE AS old_rows",
            _upsert(_baskets("postgresql", "r", "old_rows r", -1)),
        ),
        *_function(
            f"{LINES}_tally_update",
            LINES,
            "UPDATE",
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            _upsert(
                _baskets("postgresql", "r", "old_rows r", -1)
                + " UNION ALL "
                + _baskets("postgresql", "r", "new_rows r", 1)
            ),
        ),
        *_function(
            f"{OFFERS}_tally_update",
            OFFERS,
            "UPDATE",
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            _upsert(
                _baskets("postgresql", "l", lines_of, -1, "l.old_size")
                + " UNION ALL "
                + _baskets("postgresql", "l", lines_of, 1, "l.new_size")
            ),
        ),
    ]


POSTGRESQL_DROP = [
    statement
    for table, name in (
        (LINES, f"{LINES}_tally_insert"),
        (LINES, f"{LINES}_tally_delete"),
        (LINES, f"{LINES}_tally_update"),
        (OFFERS, f"{OFFERS}_tally_update"),
    )
    for statement in (f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()")
]


def _fill(vendor: str) -> list[str]:
    return [_upsert(_baskets(vendor, "l", f"{LINES} l", 1))]


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_household_active_by_name"),
        ("reports", "0002_reach_tallies_kept_by_triggers"),
        ("baskets", "0005_names_for_what_they_are"),
    ]

    operations = [
        migrations.CreateModel(
            name="BasketTally",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "territory",
                        "year",
                        "period",
                        "size",
                        "household",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("year", models.PositiveSmallIntegerField()),
                ("period", models.PositiveSmallIntegerField()),
                ("size", models.CharField(max_length=10)),
                ("n", models.IntegerField(default=0)),
                ("price_cents", models.BigIntegerField(default=0)),
                ("member_cents", models.BigIntegerField(default=0)),
                (
                    "household",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.household",
                    ),
                ),
                (
                    "territory",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.territory",
                    ),
                ),
            ],
        ),
        run_sql_by_vendor(
            {"postgresql": [*_postgresql(), *_fill("postgresql")], "sqlite": [*_sqlite(), *_fill("sqlite")]},
            {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP},
        ),
    ]
