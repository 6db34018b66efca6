"""The credit spent at each store in each hour, kept by the database as payments are written (issue 14).

``fund_storehour`` holds, per store and UTC hour, how many payments and how much credit. Triggers on
``fund_payment`` keep it true in the transaction that writes a payment, whoever writes it — the ORM on SQLite and
PostgreSQL, ``fund_pay`` (migration 0003) on PostgreSQL, a script: after an insert the payment is added to its hour,
after an update of its store, time or credit it leaves the old hour and joins the new one, after a delete it
leaves. Rows already there are counted once, when this migration runs. Hours are UTC: on PostgreSQL
``date_trunc('hour', created_at AT TIME ZONE 'UTC')``, on SQLite the stored UTC text cut at the hour, which is how
Django writes and compares datetimes there.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL = r"""
CREATE OR REPLACE FUNCTION fund_store_hour_apply() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE fund_storehour
           SET payments = payments - 1, credit_cents = credit_cents - OLD.credit_cents
         WHERE store_id = OLD.store_id
           AND hour = date_trunc('hour', OLD.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO fund_storehour (territory_id, store_id, hour, payments, credit_cents)
        VALUES (NEW.territory_id, NEW.store_id,
                date_trunc('hour', NEW.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 1, NEW.credit_cents)
        ON CONFLICT (store_id, hour) DO UPDATE
           SET payments = fund_storehour.payments + 1,
               credit_cents = fund_storehour.credit_cents + EXCLUDED.credit_cents;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER fund_store_hour_insert AFTER INSERT OR DELETE ON fund_payment
    FOR EACH ROW EXECUTE FUNCTION fund_store_hour_apply();
CREATE TRIGGER fund_store_hour_update AFTER UPDATE OF store_id, created_at, credit_cents ON fund_payment
    FOR EACH ROW EXECUTE FUNCTION fund_store_hour_apply();
INSERT INTO fund_storehour (territory_id, store_id, hour, payments, credit_cents)
SELECT territory_id, store_id, date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', COUNT(*),
       SUM(credit_cents)
  FROM fund_payment GROUP BY 1, 2, 3;
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS fund_store_hour_insert ON fund_payment;
DROP TRIGGER IF EXISTS fund_store_hour_update ON fund_payment;
DROP FUNCTION IF EXISTS fund_store_hour_apply();
"""

_SQLITE_HOUR = "strftime('%Y-%m-%d %H:00:00', {row}.created_at)"
_SQLITE_ADD = (
    "INSERT INTO fund_storehour (territory_id, store_id, hour, payments, credit_cents) "
    "VALUES (NEW.territory_id, NEW.store_id, " + _SQLITE_HOUR.format(row="NEW") + ", 1, NEW.credit_cents) "
    "ON CONFLICT (store_id, hour) DO UPDATE SET payments = payments + 1, "
    "credit_cents = credit_cents + excluded.credit_cents;"
)
_SQLITE_OLD_HOUR = _SQLITE_HOUR.format(row="OLD")
_SQLITE_TAKE = (
    "UPDATE fund_storehour SET payments = payments - 1, credit_cents = credit_cents - OLD.credit_cents "
)
_SQLITE_TAKE += f"WHERE store_id = OLD.store_id AND hour = {_SQLITE_OLD_HOUR};"
SQLITE = [
    f"CREATE TRIGGER fund_store_hour_insert AFTER INSERT ON fund_payment BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER fund_store_hour_update AFTER UPDATE OF store_id, created_at, credit_cents ON fund_payment "
    f"BEGIN {_SQLITE_TAKE} {_SQLITE_ADD} END",
    f"CREATE TRIGGER fund_store_hour_delete AFTER DELETE ON fund_payment BEGIN {_SQLITE_TAKE} END",
    "INSERT INTO fund_storehour (territory_id, store_id, hour, payments, credit_cents) "
    "SELECT territory_id, store_id, "
    + _SQLITE_HOUR.format(row="fund_payment")
    + ", COUNT(*), SUM(credit_cents) "
    "FROM fund_payment GROUP BY 1, 2, 3",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS fund_store_hour_insert",
    "DROP TRIGGER IF EXISTS fund_store_hour_update",
    "DROP TRIGGER IF EXISTS fund_store_hour_delete",
]


def triggers_create(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": [POSTGRESQL], "sqlite": SQLITE}.get(vendor, []):
        schema_editor.execute(statement, params=None)


def triggers_drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": [POSTGRESQL_DROP], "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_household_fund_joined_on"),
        ("fund", "0004_fund_referral"),
    ]

    operations = [
        migrations.CreateModel(
            name="StoreHour",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("hour", models.DateTimeField()),
                ("payments", models.BigIntegerField(default=0)),
                ("credit_cents", models.BigIntegerField(default=0)),
                (
                    "store",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="fund.store",
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
                "indexes": [
                    models.Index(
                        fields=["territory", "hour", "store", "credit_cents"], name="fund_store_hour_spending"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("store", "hour"), name="fund_store_hour_once")
                ],
            },
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
