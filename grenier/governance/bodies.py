"""Bodies (the citizen committee, thematic commissions, follow-up committees) and who is a member of each, when.

Joining and leaving are free and dated; a vote counts the members at its opening (``electorate_at``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import InvalidInput
from grenier.core.models import Territory, User
from grenier.core.services import audit
from grenier.governance.models import Body, BodyKind, BodyMembership


def body_ensure(*, territory: Territory, kind: BodyKind, name: str = "") -> Body:
    """The body of this name (by default the kind's), opened if missing: for the demo and scripts."""
    body, _created = Body.objects.get_or_create(
        territory=territory, name=name or str(BodyKind(kind).label), defaults={"kind": kind}
    )
    return body


def body_create(*, territory: Territory, kind: BodyKind, name: str, actor: User | None) -> Body:
    """Open a new body: any number of each kind (a thematic commission beside the citizen committee), each with its
    own members and votes. Its name tells it apart in the territory: a name already taken is refused, never
    answered with the body that has it."""
    name = " ".join(name.split())[:200] or str(BodyKind(kind).label)
    taken = InvalidInput(
        _("A body named %(name)s already exists in this territory: give the new one another name.")
        % {"name": name},
        errors={"name": [_("This name is taken.")]},
    )
    if Body.objects.filter(territory=territory, name__iexact=name).exists():
        raise taken
    try:
        with transaction.atomic():
            body = Body.objects.create(territory=territory, kind=kind, name=name)
            audit(
                territory=territory, actor=actor, action="governance.body.create", subject=f"body:{body.pk}"
            )
    except IntegrityError as exc:  # the same name opened twice at once: the other request won
        raise taken from exc
    return body


def membership_join(
    *, body: Body, user: User, actor: User | None, at: datetime | None = None
) -> BodyMembership:
    """Joining is free. Joining while already a member changes nothing."""
    current = BodyMembership.objects.filter(body=body, user=user, left_at__isnull=True).first()
    if current is not None:
        return current
    try:
        with transaction.atomic():
            membership = BodyMembership.objects.create(body=body, user=user, joined_at=at or timezone.now())
            audit(territory=body.territory, actor=actor, action="governance.join", subject=f"body:{body.pk}")
    except IntegrityError:  # joined twice at once: the other request won
        return BodyMembership.objects.get(body=body, user=user, left_at__isnull=True)
    return membership


def membership_leave(*, body: Body, user: User, actor: User | None, at: datetime | None = None) -> None:
    """Leaving is free. Ballots already cast stay; the person votes on nothing that opens afterwards."""
    with transaction.atomic():
        changed = BodyMembership.objects.filter(body=body, user=user, left_at__isnull=True).update(
            left_at=at or timezone.now()
        )
        if changed:
            audit(territory=body.territory, actor=actor, action="governance.leave", subject=f"body:{body.pk}")


def members_at(body: Body, moment: datetime) -> Q:
    return Q(body=body, joined_at__lte=moment) & (Q(left_at__isnull=True) | Q(left_at__gt=moment))


def is_member(body: Body, user: User, at: datetime | None = None) -> bool:
    if not user.is_authenticated:
        return False
    return BodyMembership.objects.filter(members_at(body, at or timezone.now()), user=user).exists()


def electorate_at(body: Body, moment: datetime) -> int:
    return BodyMembership.objects.filter(members_at(body, moment)).values("user").distinct().count()


def members_now(body: Body) -> list[User]:
    return list(
        User.objects.filter(memberships__body=body, memberships__left_at__isnull=True, is_active=True)
        .distinct()
        .order_by("display_name")
    )
