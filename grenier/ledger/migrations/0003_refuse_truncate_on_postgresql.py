"""On PostgreSQL the database also refuses TRUNCATE on the ledger's tables (0002's row triggers do not fire on it).

A statement trigger on each of accounts, entries and postings: a TRUNCATE of another table that cascades to them
is refused too. The one way through is a session that sets ``grenier.allow_ledger_truncate`` to ``on``: the test
suite's connections do (tests/settings.py), since Django empties a test database between tests with TRUNCATE.
"""

from django.db import migrations

TABLES = ("ledger_account", "ledger_entry", "ledger_posting")

FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('grenier.allow_ledger_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the ledger is append-only: TRUNCATE on % is refused', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = (
    "CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_truncate();"
)
DROP_TRIGGER = "DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};"
DROP_FUNCTION = "DROP FUNCTION IF EXISTS ledger_refuse_truncate();"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)
        for table in TABLES:
            schema_editor.execute(TRIGGER.format(table=table))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(DROP_TRIGGER.format(table=table))
        schema_editor.execute(DROP_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_append_only_on_postgresql")]
    operations = [migrations.RunPython(forwards, backwards)]
