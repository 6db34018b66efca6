"""Which months each scheme reached a household, kept by the database as the schemes write (issue 19).

``reports_householdreach`` holds one row per territory, year and household the territory's common fund or solidarity
baskets reached that year: the months of the fund's month lines (``fund_months``) and of the baskets collected
(``basket_months``) as masks, month 1 the lowest bit; with what the households reached indicators group by: the
household's territory now, its persons now, its children at the end of each month of the year (five bits a month)
and its declared resources.

Every write is applied in the writing transaction, whoever writes:

* a month line inserted, or a basket line inserted as collected: its row is made if missing (its household's
  persons, children and resources read once then), and its month added to the mask (``|``);
* a line deleted, moved (household, run, month, sheet, day) or uncollected: the months of each key it left and
  joined are worked out again from the lines themselves (at most twelve month lines, a year of baskets, by the
  household's index);
* a household's territory or resources changed: its rows follow; a household deleted: its rows go;
* a person inserted, deleted or changed (household, birth date, child mark): the persons and children of the rows of
  the households concerned are counted again.

PostgreSQL: statement triggers over the transition tables (the monthly run's batch of 500 lines is one upsert and
one grouped update); SQLite: row triggers. What is there already is counted once, when this migration runs.
"""

import django.db.models.deletion
from django.db import migrations, models

from grenier.core.migrations._vendor import run_sql_by_vendor

TABLE = "reports_householdreach"
ALL_MONTHS_CHILD = ((1 << 60) - 1) // 31  # one child in each of the twelve five-bit fields
LATE_CHILD_AGE = 14  # core.models.CHILD_AGE_LIMIT, as it was when this migration was written


def _part(vendor: str, part: str, day: str) -> str:
    if vendor == "postgresql":
        return f"CAST(EXTRACT({part} FROM {day}) AS integer)"
    start, length = {"YEAR": (1, 4), "MONTH": (6, 2), "DAY": (9, 2)}[part]
    return f"CAST(substr({day}, {start}, {length}) AS integer)"


def _bit(vendor: str, day: str) -> str:
    return f"(1 << ({_part(vendor, 'MONTH', day)} - 1))"


# Each scheme: (table, the territory of a line, its day column, which lines count), ``{row}`` the line.
_SCHEMES = {
    "fund_months": (
        "fund_monthline",
        "(SELECT run.territory_id FROM fund_monthlyrun run WHERE run.id = {row}.run_id)",
        "{row}.month",
        "1 = 1",
    ),
    "basket_months": (
        "baskets_distributionline",
        "(SELECT g.territory_id FROM baskets_distributionsheet s "
        "JOIN baskets_pickuppoint pp ON pp.id = s.pickup_point_id "
        "JOIN baskets_garden g ON g.id = pp.garden_id WHERE s.id = {row}.sheet_id)",
        '{row}."on"',
        "{row}.status = 'collected'",
    ),
}


def scheme(column: str, row: str = "l") -> tuple[str, str, str, str]:
    table, territory, day, counts = _SCHEMES[column]
    return table, territory.format(row=row), day.format(row=row), counts.format(row=row)


SCHEMES = {column: scheme(column) for column in _SCHEMES}
WATCHED = {
    "fund_months": ("household_id", "run_id", "month"),
    "basket_months": ("household_id", "sheet_id", "on", "status"),
}


def _keys(vendor: str, column: str, rows: str) -> str:
    """The (territory_id, year, household_id) keys the lines ``rows`` count in."""
    _table, territory, day, counts = SCHEMES[column]
    return (
        f"SELECT DISTINCT {territory} AS territory_id, {_part(vendor, 'YEAR', day)} AS year, "  # noqa: S608 - constants
        f"l.household_id AS household_id FROM {rows} l WHERE {counts}"
    )


def persons(household: str) -> str:
    return f"(SELECT COUNT(*) FROM core_householdperson p WHERE p.household_id = {household})"  # noqa: S608


def _child(vendor: str, year: str) -> str:
    """What one person ``p`` adds to its household's ``children`` in ``year``: one in the field of each month at
    whose end it is a child, i.e. born after that day 14 years before (a birth on 29 February is after the last day
    of February of a year without one), or without a birth date and marked as a child."""
    born = "p.birth_date"
    born_year, born_month = _part(vendor, "YEAR", born), _part(vendor, "MONTH", born)
    # Born in the year 14 years before: a child at the end of the months before its birth month.
    month = (
        f"({born_month} + CASE WHEN {born_month} = 2 AND {_part(vendor, 'DAY', born)} = 29 THEN 1 ELSE 0 END)"
    )
    return (
        f"CASE WHEN {born} IS NULL THEN CASE WHEN p.is_child THEN {ALL_MONTHS_CHILD} ELSE 0 END "
        f"WHEN {born_year} > {year} - {LATE_CHILD_AGE} THEN {ALL_MONTHS_CHILD} "
        f"WHEN {born_year} < {year} - {LATE_CHILD_AGE} THEN 0 "
        f"ELSE ((CAST(1 AS BIGINT) << (5 * ({month} - 1))) - 1) / 31 END"
    )


def children(vendor: str, household: str, year: str) -> str:
    """A household's children at the end of each month of ``year``, five bits a month."""
    return (
        f"(SELECT COALESCE(SUM({_child(vendor, year)}), 0) "  # noqa: S608 - constants
        f"FROM core_householdperson p WHERE p.household_id = {household})"
    )


def _ensure(vendor: str, keys: str) -> str:
    """The rows of ``keys`` made where missing, with their household's persons, children and resources."""
    return (
        f"INSERT INTO {TABLE} (territory_id, year, household_id, home_territory_id, fund_months, basket_months, "  # noqa: S608
        "persons, children, resources_cents) "
        f"SELECT k.territory_id, k.year, k.household_id, h.territory_id, 0, 0, {persons('h.id')}, "
        f"{children(vendor, 'h.id', 'k.year')}, h.monthly_resources_cents "
        f"FROM ({keys}) k JOIN core_household h ON h.id = k.household_id "
        f"WHERE k.territory_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {TABLE} r WHERE r.territory_id = "
        "k.territory_id AND r.year = k.year AND r.household_id = k.household_id) "
        "ON CONFLICT (territory_id, year, household_id) DO NOTHING;"
    )


def _add(vendor: str, column: str, rows: str) -> str:
    """The months of the lines ``rows`` added to their rows' mask."""
    _table, territory, day, counts = SCHEMES[column]
    months = (
        f"SELECT {territory} AS territory_id, {_part(vendor, 'YEAR', day)} AS year, "  # noqa: S608 - constants
        f"l.household_id AS household_id, SUM(DISTINCT {_bit(vendor, day)}) AS months FROM {rows} l "
        f"WHERE {counts} GROUP BY 1, 2, 3"
    )
    return (
        f"UPDATE {TABLE} SET {column} = {TABLE}.{column} | d.months FROM ({months}) d "  # noqa: S608 - constants
        f"WHERE {TABLE}.territory_id = d.territory_id AND {TABLE}.year = d.year AND {TABLE}.household_id = d.household_id;"
    )


def _again(vendor: str, column: str, keys: str) -> str:
    """The mask of the rows of ``keys`` worked out again from the lines."""
    table, territory, day, counts = SCHEMES[column]
    return (
        f"UPDATE {TABLE} SET {column} = COALESCE((SELECT SUM(DISTINCT {_bit(vendor, day)}) FROM {table} l "  # noqa: S608
        f"WHERE l.household_id = {TABLE}.household_id AND {counts} AND {_part(vendor, 'YEAR', day)} = {TABLE}.year "
        f"AND {territory} = {TABLE}.territory_id), 0) "
        f"WHERE ({TABLE}.territory_id, {TABLE}.year, {TABLE}.household_id) IN ({keys});"
    )


def _one(vendor: str, column: str, row: str) -> tuple[str, str, str, str]:
    """The key of the one line ``row`` (SQLite's NEW or OLD): its territory, year and household, and whether it
    counts."""
    _table, territory, day, counts = scheme(column, row)
    return territory, _part(vendor, "YEAR", day), f"{row}.household_id", counts


def _ensure_one(vendor: str, column: str, row: str) -> str:
    """``_ensure`` for the one line ``row``: no grouping, no temporary table (a row trigger runs once a line)."""
    territory, year, household, counts = _one(vendor, column, row)
    return (
        f"INSERT INTO {TABLE} (territory_id, year, household_id, home_territory_id, fund_months, basket_months, "  # noqa: S608
        "persons, children, resources_cents) "
        f"SELECT {territory}, {year}, h.id, h.territory_id, 0, 0, {persons('h.id')}, "
        f"{children(vendor, 'h.id', year)}, h.monthly_resources_cents FROM core_household h "
        f"WHERE h.id = {household} AND {counts} AND {territory} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {TABLE} r "
        f"WHERE r.territory_id = {territory} AND r.year = {year} AND r.household_id = h.id) "
        "ON CONFLICT (territory_id, year, household_id) DO NOTHING;"
    )


def _add_one(vendor: str, column: str, row: str) -> str:
    territory, year, household, counts = _one(vendor, column, row)
    bit = _bit(vendor, scheme(column, row)[2])
    return (
        f"UPDATE {TABLE} SET {column} = {column} | {bit} WHERE territory_id = {territory} AND year = {year} "  # noqa: S608
        f"AND household_id = {household} AND {counts};"
    )


def _again_one(vendor: str, column: str, row: str) -> str:
    territory, year, household, _counts = _one(vendor, column, row)
    keys = f"SELECT {territory}, {year}, {household}"
    return _again(vendor, column, keys)


def _recount_persons(vendor: str, households: str) -> str:
    return (
        f"UPDATE {TABLE} SET persons = {persons(f'{TABLE}.household_id')}, "  # noqa: S608 - constants
        f"children = {children(vendor, f'{TABLE}.household_id', f'{TABLE}.year')} WHERE {TABLE}.household_id IN ({households});"
    )


def _household_moved(rows: str) -> str:
    return (
        f"UPDATE {TABLE} SET home_territory_id = n.territory_id, "  # noqa: S608 - constants
        f"resources_cents = n.monthly_resources_cents FROM {rows} n WHERE {TABLE}.household_id = n.id;"
    )


def _household_gone(rows: str) -> str:
    return f"DELETE FROM {TABLE} WHERE household_id IN (SELECT o.id FROM {rows} o);"  # noqa: S608


# -- PostgreSQL: statement triggers over the transition tables ------------------------------------------------------


def _changed(columns: tuple[str, ...], side: str) -> str:
    """The transition table ``side`` restricted to the rows whose ``columns`` changed."""
    old = ", ".join(f'o."{column}"' for column in columns)
    new = ", ".join(f'n."{column}"' for column in columns)
    keep = "o" if side == "old" else "n"
    return (
        f"(SELECT {keep}.* FROM old_rows o JOIN new_rows n ON n.id = o.id "  # noqa: S608 - constants
        f"WHERE ({old}) IS DISTINCT FROM ({new}))"
    )


def _postgresql_function(name: str, body: list[str]) -> str:
    statements = "\n    ".join(body)
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$\nBEGIN\n    {statements}\n"
        "    RETURN NULL;\nEND\n$$ LANGUAGE plpgsql;\n"
    )


def _postgresql_triggers(table: str, prefix: str, events: dict[str, list[str]]) -> str:
    transition = {
        "insert": "REFERENCING NEW TABLE AS new_rows",
        "delete": "REFERENCING OLD TABLE AS old_rows",
        "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    }
    made = ""
    for event, body in events.items():
        made += _postgresql_function(f"{prefix}_{event}", body)
        made += (
            f"CREATE TRIGGER {prefix}_{event} AFTER {event.upper()} ON {table} {transition[event]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_{event}();\n"
        )
    return made


def _postgresql() -> list[str]:
    made = []
    for column, (table, *_rest) in SCHEMES.items():
        old, new = _changed(WATCHED[column], "old"), _changed(WATCHED[column], "new")
        both = f"{_keys('postgresql', column, old)} UNION {_keys('postgresql', column, new)}"
        made.append(
            _postgresql_triggers(
                table,
                f"{table}_reach",
                {
                    "insert": [
                        _ensure("postgresql", _keys("postgresql", column, "new_rows")),
                        _add("postgresql", column, "new_rows"),
                    ],
                    "delete": [_again("postgresql", column, _keys("postgresql", column, "old_rows"))],
                    "update": [
                        _ensure("postgresql", _keys("postgresql", column, new)),
                        _again("postgresql", column, both),
                    ],
                },
            )
        )
    moved = _changed(("territory_id", "monthly_resources_cents"), "new")
    made.append(
        _postgresql_triggers(
            "core_household",
            "core_household_reach",
            {"update": [_household_moved(moved)], "delete": [_household_gone("old_rows")]},
        )
    )
    changed = _changed(("household_id", "birth_date", "is_child"), "old")
    changed_new = _changed(("household_id", "birth_date", "is_child"), "new")
    made.append(
        _postgresql_triggers(
            "core_householdperson",
            "core_householdperson_reach",
            {
                "insert": [_recount_persons("postgresql", "SELECT household_id FROM new_rows")],
                "delete": [_recount_persons("postgresql", "SELECT household_id FROM old_rows")],
                "update": [
                    _recount_persons(
                        "postgresql",
                        f"SELECT household_id FROM {changed} c UNION SELECT household_id FROM {changed_new} c",  # noqa: S608
                    )
                ],
            },
        )
    )
    return made


_TRIGGERS = {
    "fund_monthline": "fund_monthline_reach",
    "baskets_distributionline": "baskets_distributionline_reach",
    "core_household": "core_household_reach",
    "core_householdperson": "core_householdperson_reach",
}
POSTGRESQL_DROP = [
    statement
    for table, prefix in _TRIGGERS.items()
    for event in ("insert", "delete", "update")
    for statement in (
        f"DROP TRIGGER IF EXISTS {prefix}_{event} ON {table}",
        f"DROP FUNCTION IF EXISTS {prefix}_{event}()",
    )
]


# -- SQLite: row triggers -------------------------------------------------------------------------------------------


def _row(columns: tuple[str, ...], row: str) -> str:
    """SQLite's ``NEW`` or ``OLD`` as a one-row source."""
    return "(SELECT " + ", ".join(f'{row}."{column}" AS "{column}"' for column in ("id", *columns)) + ")"


def _sqlite_trigger(name: str, event: str, table: str, body: list[str], when: str = "") -> str:
    return f"CREATE TRIGGER {name} AFTER {event} ON {table}{when} BEGIN {' '.join(body)} END"


def _sqlite() -> list[str]:
    made = []
    for column, (table, *_rest) in SCHEMES.items():
        watched = WATCHED[column]
        prefix = f"{table}_reach"
        made += [
            _sqlite_trigger(
                f"{prefix}_insert",
                "INSERT",
                table,
                [_ensure_one("sqlite", column, "NEW"), _add_one("sqlite", column, "NEW")],
            ),
            _sqlite_trigger(f"{prefix}_delete", "DELETE", table, [_again_one("sqlite", column, "OLD")]),
            _sqlite_trigger(
                f"{prefix}_update",
                "UPDATE OF " + ", ".join(f'"{c}"' for c in watched),
                table,
                [
                    _ensure_one("sqlite", column, "NEW"),
                    _again_one("sqlite", column, "OLD"),
                    _again_one("sqlite", column, "NEW"),
                ],
            ),
        ]
    household = ("territory_id", "monthly_resources_cents")
    made += [
        _sqlite_trigger(
            "core_household_reach_update",
            "UPDATE OF territory_id, monthly_resources_cents",
            "core_household",
            [_household_moved(_row(household, "NEW"))],
        ),
        _sqlite_trigger(
            "core_household_reach_delete", "DELETE", "core_household", [_household_gone(_row((), "OLD"))]
        ),
    ]
    made += [
        _sqlite_trigger(
            "core_householdperson_reach_insert",
            "INSERT",
            "core_householdperson",
            [_recount_persons("sqlite", "NEW.household_id")],
        ),
        _sqlite_trigger(
            "core_householdperson_reach_delete",
            "DELETE",
            "core_householdperson",
            [_recount_persons("sqlite", "OLD.household_id")],
        ),
        _sqlite_trigger(
            "core_householdperson_reach_update",
            "UPDATE OF household_id, birth_date, is_child",
            "core_householdperson",
            [_recount_persons("sqlite", "OLD.household_id, NEW.household_id")],
        ),
    ]
    return made


SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {prefix}_{event}"
    for prefix in _TRIGGERS.values()
    for event in ("insert", "delete", "update")
]


# -- what is there already, counted once ---------------------------------------------------------------------------


def _backfill(vendor: str) -> list[str]:
    masks = " UNION ALL ".join(
        f"SELECT {territory} AS territory_id, {_part(vendor, 'YEAR', day)} AS year, "  # noqa: S608 - constants
        f"l.household_id AS household_id, "
        + (
            "SUM(DISTINCT {bit}) AS fund_months, 0 AS basket_months"
            if column == "fund_months"
            else "0, SUM(DISTINCT {bit})"
        ).format(bit=_bit(vendor, day))
        + f" FROM {table} l WHERE {counts} GROUP BY 1, 2, 3"
        for column, (table, territory, day, counts) in SCHEMES.items()
    )
    # One statement: the masks grouped by key, each key's household read by its primary key and its persons by
    # their household's index (an UPDATE … FROM a grouped subquery was planned as a nested scan on SQLite).
    return [
        f"INSERT INTO {TABLE} (territory_id, year, household_id, home_territory_id, fund_months, basket_months, "  # noqa: S608
        "persons, children, resources_cents) "
        f"SELECT m.territory_id, m.year, m.household_id, h.territory_id, m.fund_months, m.basket_months, "
        f"{persons('h.id')}, {children(vendor, 'h.id', 'm.year')}, h.monthly_resources_cents "
        "FROM (SELECT territory_id, year, household_id, SUM(fund_months) AS fund_months, "
        f"SUM(basket_months) AS basket_months FROM ({masks}) u WHERE territory_id IS NOT NULL "
        "GROUP BY territory_id, year, household_id) m JOIN core_household h ON h.id = m.household_id",
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_territory_role_school"),
        ("fund", "0009_households_touched"),
        ("baskets", "0005_names_for_what_they_are"),
    ]

    operations = [
        migrations.CreateModel(
            name="HouseholdReach",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "territory",
                        "year",
                        "household",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("year", models.PositiveSmallIntegerField()),
                ("fund_months", models.IntegerField(default=0)),
                ("basket_months", models.IntegerField(default=0)),
                ("persons", models.IntegerField(default=0)),
                ("children", models.BigIntegerField(default=0)),
                ("resources_cents", models.BigIntegerField(null=True)),
                (
                    "home_territory",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.territory",
                    ),
                ),
                (
                    "household",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="core.household",
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
            ],
            options={
                "indexes": [models.Index(fields=["household", "year"], name="reports_reach_household")],
            },
        ),
        run_sql_by_vendor(
            {
                "postgresql": [*_postgresql(), *_backfill("postgresql")],
                "sqlite": [*_sqlite(), *_backfill("sqlite")],
            },
            {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP},
        ),
    ]
