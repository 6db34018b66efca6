"""Which households changed since the projection's groups were read (issue 14): the households' stamp gets a
sequence number and each household written gets a row saying at which number it last changed.

``fund_householdsstamp.epoch`` is set once, when the territory's stamp row is written first (a database emptied
and filled again gives new epochs, so numbers read before are not compared with the new ones).
``fund_householdsstamp.seq`` grows by one at each write the stamp's triggers see (migration 0008), computed on the
stamp's row once it is locked (``ON CONFLICT DO UPDATE`` works on the row's latest version), so within a territory
it never goes back and a higher number is written by a transaction that took the row after the lower one's
committed. ``fund_householdtouch`` (territory, household, seq) is set to the territory's number by the same
triggers, in the same statement, for every household whose row, persons or chosen contributions were written (a
person moved or a household moved to another territory touches both sides). ``planning.household_arrays`` reads
the households touched after the number its groups were read at and reads only those again. The triggers of
migration 0008 are replaced by these (the token is renewed as before).
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

from ._vendor import run_sql_by_vendor

_BEFORE = importlib.import_module("grenier.fund.migrations.0008_households_stamp_kept_by_triggers")
_WATCHED = _BEFORE._WATCHED


def _households_of(table: str, row: str) -> str:
    """The territory and household of ``row`` (``NEW``/``OLD``) of ``table``, as a ``SELECT``'s source."""
    if table == "core_household":
        return f"SELECT {row}.territory_id AS territory_id, {row}.id AS household_id"
    return f"SELECT territory_id, id AS household_id FROM core_household WHERE id = {row}.household_id"  # noqa: S608


def _touch(table: str, row: str, token: str) -> str:
    """The territory's new token and number, then the household's number: two statements."""
    source = _households_of(table, row)
    return (
        f"INSERT INTO fund_householdsstamp (territory_id, token, seq, epoch) SELECT t.territory_id, {token}, 1, {token} "  # noqa: S608
        f"FROM ({source}) t WHERE t.territory_id IS NOT NULL "
        "ON CONFLICT (territory_id) DO UPDATE SET token = excluded.token, seq = fund_householdsstamp.seq + 1; "
        "INSERT INTO fund_householdtouch (territory_id, household_id, seq) SELECT t.territory_id, t.household_id, "
        f"s.seq FROM ({source}) t JOIN fund_householdsstamp s ON s.territory_id = t.territory_id "
        "WHERE t.territory_id IS NOT NULL "
        "ON CONFLICT (territory_id, household_id) DO UPDATE SET seq = excluded.seq;"
    )


def _postgresql(table: str) -> str:
    renewed = "nextval('fund_households_stamp_token')"
    return f"""
CREATE OR REPLACE FUNCTION {table}_stamp() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_touch(table, "OLD", renewed)}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_touch(table, "NEW", renewed)}
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


POSTGRESQL = [_postgresql(table) for table in _WATCHED]
SQLITE = [
    *(
        statement
        for table, columns in _WATCHED.items()
        for statement in (
            f"CREATE TRIGGER {table}_stamp_insert AFTER INSERT ON {table} BEGIN {_touch(table, 'NEW', 'random()')} END",
            f"CREATE TRIGGER {table}_stamp_delete AFTER DELETE ON {table} BEGIN {_touch(table, 'OLD', 'random()')} END",
            f"CREATE TRIGGER {table}_stamp_update AFTER UPDATE OF {', '.join(columns)} ON {table} "
            f"BEGIN {_touch(table, 'OLD', 'random()')} {_touch(table, 'NEW', 'random()')} END",
        )
    ),
]
# Backwards: migration 0008's triggers again (its functions on PostgreSQL, its triggers on SQLite).
POSTGRESQL_BACK = [_BEFORE._postgresql(table).split("CREATE TRIGGER")[0] for table in _WATCHED]
SQLITE_BACK = _BEFORE.SQLITE[:-1]
# SQLite rebuilds the stamp's table to add its columns (or remove them, backwards), which it refuses while triggers
# name the table: 0008's triggers are dropped first, and backwards these (same names) are dropped first and 0008's
# created again once the columns are gone.
SQLITE_DROP = _BEFORE.SQLITE_DROP


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_territory_counts_kept_by_triggers"),
        ("fund", "0008_households_stamp_kept_by_triggers"),
    ]

    operations = [
        run_sql_by_vendor({"sqlite": SQLITE_DROP}, {"sqlite": SQLITE_BACK}),
        migrations.AddField(
            model_name="householdsstamp",
            name="seq",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="householdsstamp",
            name="epoch",
            field=models.BigIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="HouseholdTouch",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "territory",
                        "household_id",
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
                ("household_id", models.BigIntegerField()),
                ("seq", models.BigIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["territory", "seq"], name="fund_householdtouch_seq")],
            },
        ),
        run_sql_by_vendor(
            {"postgresql": POSTGRESQL, "sqlite": SQLITE},
            {"postgresql": POSTGRESQL_BACK, "sqlite": SQLITE_DROP},
        ),
    ]
