"""Models named for what they are: a body's, a garden's or a buying group's membership, a group's pickup point
(issue 15). Only names change; rows, constraints and related names stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_request_fingerprint")]

    operations = [
        migrations.RenameModel("Membership", "GroupMembership"),
        migrations.RenameModel("PickupPoint", "GroupPickupPoint"),
    ]
