"""A household may be a member of the territory (a garden, a buying group) without being in the common fund:
``fund_joined_on`` says from which day it is in the fund. Every household recorded before was in the fund from the
day it joined."""

from django.db import migrations, models


def in_the_fund_since_joining(apps, schema_editor):  # type: ignore[no-untyped-def]
    Household = apps.get_model("core", "Household")
    Household.objects.update(fund_joined_on=models.F("joined_on"))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_household_request_fingerprint"),
    ]

    operations = [
        migrations.AddField(
            model_name="household",
            name="fund_joined_on",
            field=models.DateField(blank=True, null=True, verbose_name="in the common fund from"),
        ),
        migrations.RunPython(in_the_fund_since_joining, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="household",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("fund_joined_on__isnull", True),
                    ("fund_joined_on__gte", models.F("joined_on")),
                    _connector="OR",
                ),
                name="core_household_in_the_fund_after_joining",
            ),
        ),
    ]
