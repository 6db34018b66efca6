"""Groupings of territories (a network, a département) and their coordinators: every write, one transaction each.

A grouping gives its coordinators the roll-up of its territories' indicators (``reports.rollup``) and nothing in
the territories themselves. Each change is written in the audit log of the territories it concerns (the log is kept
per territory): a territory joining or leaving in its own, a coordinator granted or revoked in every territory of
the grouping, since they read that territory's aggregates from then on.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils.translation import gettext as _

from grenier.core.errors import InvalidInput, NotFound
from grenier.core.models import Grouping, GroupingRole, Territory, User
from grenier.core.services import audit


def _territories(grouping: Grouping) -> list[Territory]:
    return list(grouping.territories.order_by("slug"))


def grouping_create(
    *,
    slug: str,
    name: str,
    kind: str = Grouping.Kind.NETWORK,
    territories: Iterable[Territory] = (),
    actor: User | None = None,
) -> Grouping:
    """The grouping ``slug``, created with ``name`` and ``kind`` if absent (asked again, the one there is answered,
    unchanged); ``territories`` are added to it."""
    slug = (slug or "").strip()
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    try:
        validate_slug(slug)
    except ValidationError:
        errors["slug"] = [_("Letters, digits, hyphens and underscores only.")]
    if not name:
        errors["name"] = [_("This field is required.")]
    if kind not in Grouping.Kind.values:
        errors["kind"] = [_("One of: %(kinds)s.") % {"kinds": ", ".join(Grouping.Kind.values)}]
    if errors:
        raise InvalidInput(_("The grouping could not be created."), errors=errors)
    with transaction.atomic():
        grouping, _created = Grouping.objects.get_or_create(slug=slug, defaults={"name": name, "kind": kind})
        for territory in territories:
            _add(grouping, territory, actor)
    return grouping


def _add(grouping: Grouping, territory: Territory, actor: User | None) -> None:
    if not grouping.territories.filter(pk=territory.pk).exists():
        grouping.territories.add(territory)
        audit(territory=territory, actor=actor, action="grouping.join", subject=f"grouping:{grouping.slug}")


def grouping_add_territory(*, grouping: Grouping, territory: Territory, actor: User | None = None) -> None:
    """``territory`` joins ``grouping`` (already in it: nothing changes)."""
    with transaction.atomic():
        _add(grouping, territory, actor)


def grouping_remove_territory(*, grouping: Grouping, territory: Territory, actor: User | None = None) -> None:
    """``territory`` leaves ``grouping`` (not in it: nothing changes)."""
    with transaction.atomic():
        if grouping.territories.filter(pk=territory.pk).exists():
            grouping.territories.remove(territory)
            audit(
                territory=territory, actor=actor, action="grouping.leave", subject=f"grouping:{grouping.slug}"
            )


def grouping_coordinator_grant(*, grouping: Grouping, user: User, actor: User | None = None) -> GroupingRole:
    """``user`` coordinates ``grouping`` (already: nothing changes)."""
    with transaction.atomic():
        grant, created = GroupingRole.objects.get_or_create(
            user=user, grouping=grouping, role=GroupingRole.Role.COORDINATOR
        )
        if created:
            _audit_everywhere(grouping, actor, "grouping.coordinator.grant", user)
    return grant


def grouping_coordinator_revoke(*, grouping: Grouping, user: User, actor: User | None = None) -> None:
    """``user`` no longer coordinates ``grouping`` (did not: nothing changes)."""
    with transaction.atomic():
        deleted, _rows = GroupingRole.objects.filter(
            user=user, grouping=grouping, role=GroupingRole.Role.COORDINATOR
        ).delete()
        if deleted:
            _audit_everywhere(grouping, actor, "grouping.coordinator.revoke", user)


def _audit_everywhere(grouping: Grouping, actor: User | None, action: str, user: User) -> None:
    for territory in _territories(grouping):
        audit(
            territory=territory, actor=actor, action=action, subject=f"user:{user.pk}", grouping=grouping.slug
        )


def grouping_by_slug(slug: str) -> Grouping:
    """For the operator's command: the grouping ``slug`` or ``NotFound``."""
    grouping = Grouping.objects.filter(slug=slug).first()
    if grouping is None:
        raise NotFound(_("No grouping has this slug."))
    return grouping
