"""Workshops: a garden records a workshop and how many took part."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from grenier.baskets.models import Garden, Workshop, WorkshopKind
from grenier.core.errors import InvalidInput
from grenier.core.models import User
from grenier.core.services import audit


def workshop_record(
    *, garden: Garden, on: date, title: str, kind: WorkshopKind, participants: int, actor: User | None
) -> Workshop:
    if not title.strip():
        raise InvalidInput(_("A workshop needs a title."), errors={"title": [_("This field is required.")]})
    if participants < 0:
        raise InvalidInput(
            _("The number of participants cannot be negative."), errors={"participants": [_("Not negative.")]}
        )
    with transaction.atomic():
        workshop, created = Workshop.objects.get_or_create(
            garden=garden, on=on, title=title.strip(), defaults={"kind": kind, "participants": participants}
        )
        if created:
            audit(
                territory=garden.territory,
                actor=actor,
                action="baskets.workshop",
                subject=f"workshop:{workshop.pk}",
            )
    return workshop
