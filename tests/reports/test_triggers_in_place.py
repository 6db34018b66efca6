"""The triggers that keep the reports' aggregates true (``HouseholdReach``, its tallies, ``BasketTally``) are in
the database once every migration has run. On SQLite a migration that rebuilds a table (Django's way of altering a
column there) drops that table's triggers without a word, and the kept figures would then drift from the lines; it
fails outright when another table's trigger reads the table (tried: altering a column of the baskets' lines stops
at the offers' trigger). Such a migration drops the triggers first and creates them again after (each migration's
``*_DROP`` lists and its ``_sqlite()``/``_postgresql()``); this test fails until they are all back."""

from __future__ import annotations

import importlib
import re

import pytest
from django.db import connection

MIGRATIONS = (
    "grenier.reports.migrations.0001_household_reach_kept_by_triggers",
    "grenier.reports.migrations.0002_reach_tallies_kept_by_triggers",
    "grenier.reports.migrations.0003_basket_tally_kept_by_triggers",
)


def _expected() -> set[str]:
    names: set[str] = set()
    for path in MIGRATIONS:
        module = importlib.import_module(path)
        statements = module._postgresql() if connection.vendor == "postgresql" else module._sqlite()
        for statement in statements:
            names.update(re.findall(r"CREATE TRIGGER (\w+)", statement))
    return names


def _in_database() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_the_triggers_that_keep_the_reports_figures_are_in_the_database() -> None:
    expected = _expected()
    # 0001 keeps the reach from the month lines (3), the baskets' lines (3), the households (update, delete) and
    # the persons (3); 0002 the tallies from the reach (3); 0003 the baskets' tally from the lines and offers (4).
    assert len(expected) == 11 + 3 + 4
    assert expected - _in_database() == set()
