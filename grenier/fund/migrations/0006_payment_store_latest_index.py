"""A store's latest payments by index (issue 14), and fresh statistics for the payments' new indexes.

Without statistics SQLite's planner takes a new index for a selective one: a member's statement then went through
every payment of each store (2.4 million rows, 12 s) instead of the household's 240. ``ANALYZE`` of the payments
(and of the stores' hours of 0005) lets it choose from what the table holds; PostgreSQL's autovacuum would do it
later, it is done now there too.
"""

from django.conf import settings
from django.db import migrations, models


def analyze(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor in ("sqlite", "postgresql"):
        for table in ("fund_payment", "fund_storehour"):
            schema_editor.execute(f"ANALYZE {table}", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_household_fund_joined_on"),
        ("fund", "0005_store_hours_kept_by_triggers"),
        ("ledger", "0003_refuse_truncate_on_postgresql"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(fields=["store", "created_at", "id"], name="fund_payment_store_latest"),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
