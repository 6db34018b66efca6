"""The households reached counted by period, kept by the database as ``reports_householdreach`` changes (issue 14).

``reports_reachcount`` holds, per territory, year, household's territory and period (0: the whole year; 1 to 12: a
month), how many kept rows the fund or the baskets reached then, by whether the fund did, whether the baskets did and
the household's size class; ``reports_reachband`` the same rows by their resources per consumption unit at the
period's end in whole euros rounded up (-1: not declared). The indicators read a year or a month from them (a few
dozen rows) instead of passing over the territory's 100,000 kept rows; a scale's bands whose bounds are whole euros
are sums of the euro counts, so a scale decided changes nothing kept.

Triggers on ``reports_householdreach``, in the writing transaction, whoever writes (and whatever trigger of
``reports.0001`` wrote the row): a row inserted adds one to the keys of each period it counts in, a row deleted takes
one off, a row changed takes one off each key it left and adds one to each it joined (nothing when a period's key is
the same). PostgreSQL: statement triggers over the transition tables, each period's changes summed by key; SQLite:
row triggers. What is there already is counted once, when this migration runs.
"""

import django.db.models.deletion
from django.db import migrations, models

from grenier.core.migrations._vendor import run_sql_by_vendor

SOURCE = "reports_householdreach"
COUNTS = "reports_reachcount"
BANDS = "reports_reachband"
# The periods as a table: (period, its months' mask, the shift of its last month's children field).
PERIODS = (
    "(SELECT 0 AS period, 4095 AS bits, 55 AS shift"
    + "".join(f" UNION ALL SELECT {m}, {1 << (m - 1)}, {5 * (m - 1)}" for m in range(1, 13))
    + ")"
)
# What a kept row ``{r}`` is counted by in the period ``p``.
REACHED = "(({r}.fund_months | {r}.basket_months) & p.bits) <> 0"
FUND = "CASE WHEN ({r}.fund_months & p.bits) <> 0 THEN 1 ELSE 0 END"
BASKETS = "CASE WHEN ({r}.basket_months & p.bits) <> 0 THEN 1 ELSE 0 END"
SIZE = "CASE WHEN {r}.persons <= 1 THEN 1 WHEN {r}.persons = 2 THEN 2 WHEN {r}.persons <= 4 THEN 3 ELSE 5 END"
# Its consumption units times ten at the period's end (``indicators.access._UNITS_X10_SQL``), and its resources a
# unit in whole cents then in whole euros rounded up (resources are never negative: ``core_household``'s check).
CHILDREN = "(({r}.children >> p.shift) & 31)"
UNITS_X10 = (
    "(CASE WHEN {r}.persons = 0 THEN 10 WHEN {r}.persons = {c} THEN 10 + 3 * ({c} - 1) "
    "ELSE 10 + 5 * ({r}.persons - {c} - 1) + 3 * {c} END)"
)
EUROS = "CASE WHEN {r}.resources_cents IS NULL THEN -1 ELSE ({r}.resources_cents * 10 / {u} + 99) / 100 END"
COUNT_KEY = ("territory_id", "year", "home_territory_id", "period", "fund", "baskets", "size")
BAND_KEY = ("territory_id", "year", "home_territory_id", "period", "euros")


def _columns(row: str) -> dict[str, str]:
    """Each tally's key columns for the kept row ``row`` in the period ``p``."""
    units = UNITS_X10.format(r=row, c=CHILDREN.format(r=row))
    return {
        "territory_id": f"{row}.territory_id",
        "year": f"{row}.year",
        "home_territory_id": f"{row}.home_territory_id",
        "period": "p.period",
        "fund": FUND.format(r=row),
        "baskets": BASKETS.format(r=row),
        "size": SIZE.format(r=row),
        "euros": EUROS.format(r=row, u=units),
    }


def _upsert(table: str, key: tuple[str, ...], select: str) -> str:
    """``select``'s (key…, n) added to ``table``'s counts."""
    names = ", ".join(key)
    return (
        f"INSERT INTO {table} ({names}, n) {select} "
        f"ON CONFLICT ({names}) DO UPDATE SET n = {table}.n + excluded.n;"
    )


def _rows(key: tuple[str, ...], row: str, source: str, n: str, where: str = "") -> str:
    """The keys of the kept rows ``source`` (``row`` its alias) in each period they count in, with ``n``."""
    columns = _columns(row)
    picked = ", ".join(f"{columns[name]} AS {name}" for name in key)
    return (
        f"SELECT {picked}, {n} AS n FROM {source} CROSS JOIN {PERIODS} p "  # noqa: S608 - constants
        f"WHERE {REACHED.format(r=row)}{where}"
    )


def _same(key: tuple[str, ...], one: str, other: str) -> str:
    """Whether the kept rows ``one`` and ``other`` count in period ``p`` under the same key."""
    first, second = _columns(one), _columns(other)
    same = " AND ".join(f"{first[name]} = {second[name]}" for name in key if name not in ("period",))
    return f"{REACHED.format(r=other)} AND {same}"


# -- SQLite: row triggers -------------------------------------------------------------------------------------------


def _sqlite_rows(key: tuple[str, ...], row: str, n: int, other: str | None = None) -> str:
    """One kept row's keys (SQLite's ``NEW`` or ``OLD``) as a source: its periods, less those where ``other``
    counts under the same key."""
    where = f" AND NOT ({_same(key, row, other)})" if other else ""
    source = f"(SELECT 1) {row.lower()}_one"
    return _upsert(
        COUNTS if "fund" in key else BANDS,
        key,
        _rows(key, row, source, str(n), where),
    )


WATCHED = ("home_territory_id", "fund_months", "basket_months", "persons", "children", "resources_cents")


def _sqlite() -> list[str]:
    triggers = {
        "insert": ("INSERT", [_sqlite_rows(key, "NEW", 1) for key in (COUNT_KEY, BAND_KEY)]),
        "delete": ("DELETE", [_sqlite_rows(key, "OLD", -1) for key in (COUNT_KEY, BAND_KEY)]),
        "update": (
            "UPDATE OF " + ", ".join(WATCHED),
            [
                statement
                for key in (COUNT_KEY, BAND_KEY)
                for statement in (_sqlite_rows(key, "OLD", -1, "NEW"), _sqlite_rows(key, "NEW", 1, "OLD"))
            ],
        ),
    }
    return [
        f"CREATE TRIGGER {SOURCE}_tally_{name} AFTER {event} ON {SOURCE} BEGIN {' '.join(body)} END"
        for name, (event, body) in triggers.items()
    ]


SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {SOURCE}_tally_{name}" for name in ("insert", "delete", "update")]


# -- PostgreSQL: statement triggers ---------------------------------------------------------------------------------


def _summed(key: tuple[str, ...], sides: list[tuple[str, int]]) -> str:
    """The transition tables ``sides`` (name, +1 or -1) summed by key: one upsert a key that changed."""
    names = ", ".join(key)
    union = " UNION ALL ".join(_rows(key, "r", f"{side} r", str(sign)) for side, sign in sides)
    return _upsert(
        COUNTS if "fund" in key else BANDS,
        key,
        f"SELECT {names}, SUM(n) FROM ({union}) d GROUP BY {names} HAVING SUM(n) <> 0",  # noqa: S608 - constants
    )


def _postgresql() -> list[str]:
    events = {
        "insert": ("REFERENCING NEW TABLE AS new_rows", [("new_rows", 1)]),
        "delete": ("REFERENCING OLD TABLE AS old_rows", [("old_rows", -1)]),
        "update": (
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            [("old_rows", -1), ("new_rows", 1)],
        ),
    }
    made = []
    for event, (transition, sides) in events.items():
        name = f"{SOURCE}_tally_{event}"
        body = "\n    ".join(_summed(key, sides) for key in (COUNT_KEY, BAND_KEY))
        made += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$\nBEGIN\n    {body}\n    RETURN NULL;\n"
            "END\n$$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON {SOURCE} {transition} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return made


POSTGRESQL_DROP = [
    statement
    for event in ("insert", "delete", "update")
    for statement in (
        f"DROP TRIGGER IF EXISTS {SOURCE}_tally_{event} ON {SOURCE}",
        f"DROP FUNCTION IF EXISTS {SOURCE}_tally_{event}()",
    )
]


def _fill() -> list[str]:
    """What is kept already, counted once."""
    return [_summed(key, [(SOURCE, 1)]) for key in (COUNT_KEY, BAND_KEY)]


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_household_active_by_name"),
        ("reports", "0001_household_reach_kept_by_triggers"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReachBand",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "territory",
                        "year",
                        "home_territory",
                        "period",
                        "euros",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("year", models.PositiveSmallIntegerField()),
                ("period", models.PositiveSmallIntegerField()),
                ("euros", models.IntegerField()),
                ("n", models.IntegerField(default=0)),
                (
                    "home_territory",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.territory",
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
        migrations.CreateModel(
            name="ReachCount",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "territory",
                        "year",
                        "home_territory",
                        "period",
                        "fund",
                        "baskets",
                        "size",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("year", models.PositiveSmallIntegerField()),
                ("period", models.PositiveSmallIntegerField()),
                ("fund", models.PositiveSmallIntegerField()),
                ("baskets", models.PositiveSmallIntegerField()),
                ("size", models.PositiveSmallIntegerField()),
                ("n", models.IntegerField(default=0)),
                (
                    "home_territory",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.territory",
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
            {"postgresql": [*_postgresql(), *_fill()], "sqlite": [*_sqlite(), *_fill()]},
            {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP},
        ),
    ]
