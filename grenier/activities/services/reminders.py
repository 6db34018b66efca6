"""The day-before reminders, sent once per registration (``grenier activities remind``, from cron)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from grenier.activities import notifications
from grenier.activities.models import Registration, RegistrationStatus
from grenier.core.models import Territory


def reminders_send(*, today: date | None = None, territory: Territory | None = None) -> int:
    """E-mail each household (or class) confirmed on a session of tomorrow, once: the registration is marked in
    the same transaction, and the e-mail leaves when it commits. A second run the same day sends nothing."""
    today = today or timezone.localdate()
    rows = Registration.objects.filter(
        session__date=today + timedelta(days=1),
        session__cancelled_at__isnull=True,
        status=RegistrationStatus.CONFIRMED,
        reminded_on__isnull=True,
    )
    if territory is not None:
        rows = rows.filter(session__territory=territory)
    sent = 0
    for pk in rows.values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic():
            registration = (
                Registration.objects.select_for_update().filter(Q(pk=pk), reminded_on__isnull=True).first()
            )
            if registration is None:
                continue  # another run took it
            registration.reminded_on = today
            registration.save(update_fields=["reminded_on"])
            transaction.on_commit(partial(notifications.reminder, pk))
            sent += 1
    return sent
