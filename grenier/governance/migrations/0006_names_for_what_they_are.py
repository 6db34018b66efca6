"""Models named for what they are: a body's, a garden's or a buying group's membership, a group's pickup point
(issue 15). Only names change; rows, constraints and related names stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("governance", "0005_any_number_of_bodies")]

    operations = [
        migrations.RenameModel("Membership", "BodyMembership"),
    ]
