"""An activity names the approved store its sessions' food credit is paid at (decision 0004). Schema only: the credit
already taken to ``activities:session:<id>:credit`` stays there, readable; no balance is moved."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0008_volunteer_slots_on_platform_deliveries"),
        ("fund", "0009_households_touched"),
    ]

    operations = [
        migrations.AddField(
            model_name="activity",
            name="payee_store",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="fund.store",
                verbose_name="store receiving the food credit",
            ),
        ),
    ]
