"""Cooperations and their level: a change of level is a dated event with who recorded it and why, the old level kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Territory, User
from grenier.core.services import audit
from grenier.network.models import (
    Actor,
    Cooperation,
    CooperationStatus,
    Level,
    LevelChange,
    People,
    Scale,
    Sort,
    Theme,
)

# --- cooperations ----------------------------------------------------------------------------------------------------


@dataclass
class CooperationFields:
    title: str
    sort: str
    level: int
    actors: Sequence[Actor]
    starts_on: date
    description: str = ""
    themes: Sequence[str] = field(default_factory=list)
    scale: str = ""
    people: Sequence[str] = field(default_factory=list)
    documents: str = ""

    def cleaned(self, territory: Territory) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        if not self.title.strip():
            errors["title"] = [_("A cooperation needs a title.")]
        if self.sort not in Sort.values:
            errors["sort"] = [_("Choose the sort of cooperation.")]
        if self.level not in Level.values:
            errors["level"] = [_("A level from 1 to 5.")]
        ids = {a.pk for a in self.actors}
        if len(ids) < 2:
            errors["actors"] = [_("A cooperation is between two actors or more.")]
        elif any(a.territory_id != territory.pk for a in self.actors):
            errors["actors"] = [_("Only actors of this territory.")]
        if any(t not in Theme.values for t in self.themes):
            errors["themes"] = [_("Unknown theme.")]
        if self.scale and self.scale not in Scale.values:
            errors["scale"] = [_("Choose a scale.")]
        if any(p not in People.values for p in self.people):
            errors["people"] = [_("Unknown people concerned.")]
        if self.starts_on > timezone.localdate():
            errors["starts_on"] = [_("A cooperation is recorded once it has begun.")]
        if errors:
            raise InvalidInput(_("The cooperation could not be recorded."), errors=errors)
        return {
            "title": self.title.strip()[:200],
            "sort": self.sort,
            "level": self.level,
            "actors": sorted(ids),
            "starts_on": self.starts_on,
            "description": self.description.strip()[:4000],
            "themes": sorted(set(self.themes)),
            "scale": self.scale,
            "people": sorted(set(self.people)),
            "documents": self.documents.strip()[:2000],
        }


def cooperation_create(
    *,
    territory: Territory,
    fields: CooperationFields,
    by: User | None,
    idempotency_key: str,
    reason: str = "",
    status: CooperationStatus = CooperationStatus.CONFIRMED,
    source: str | None = None,
) -> Cooperation:
    """Record a cooperation at its level from its first day: its first change of level says so. Sent again under
    the same key, answers the same cooperation."""
    values = fields.cleaned(territory)
    request = {"territory": territory, **values}
    existing = Cooperation.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    actor_ids = values.pop("actors")
    try:
        with transaction.atomic():
            cooperation = Cooperation.objects.create(
                territory=territory,
                status=status,
                source=source,
                created_by=by,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
                **values,
            )
            cooperation.actors.set(actor_ids)
            LevelChange.objects.create(
                cooperation=cooperation,
                level_from=None,
                level_to=values["level"],
                on=values["starts_on"],
                reason=reason.strip()[:300],
                recorded_by=by,
            )
            audit(
                territory=territory,
                actor=by,
                action="network.cooperation.create",
                subject=f"network-cooperation:{cooperation.pk}",
                level=values["level"],
            )
    except IntegrityError:
        won = Cooperation.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return cooperation


def cooperation_level_set(
    *,
    cooperation: Cooperation,
    level: int,
    by: User | None,
    reason: str,
    idempotency_key: str,
    on: date | None = None,
) -> LevelChange:
    """The cooperation rose or fell to ``level`` on ``on`` (today by default), for ``reason``: a new change in its
    history, the old level kept. Sent again under the same key, answers the same change."""
    on = on or timezone.localdate()
    request = {"cooperation": cooperation, "level": level, "on": on, "reason": reason.strip()}
    existing = LevelChange.objects.filter(cooperation=cooperation, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if level not in Level.values:
        errors["level"] = [_("A level from 1 to 5.")]
    if not reason.strip():
        errors["reason"] = [_("Say why the level changes: the history keeps it.")]
    if on > timezone.localdate():
        errors["on"] = [_("A change is recorded once it happened.")]
    if errors:
        raise InvalidInput(_("The change of level could not be recorded."), errors=errors)
    try:
        with transaction.atomic():
            # Two changes at once must not both read the same "from" level: the cooperation's row is locked.
            locked = Cooperation.objects.select_for_update().get(pk=cooperation.pk)
            again = LevelChange.objects.filter(cooperation=locked, idempotency_key=idempotency_key).first()
            if again is not None:
                return replayed(again, key=idempotency_key, **request)
            _check_change(locked, level, on)
            change = LevelChange.objects.create(
                cooperation=locked,
                level_from=locked.level,
                level_to=level,
                on=on,
                reason=reason.strip()[:300],
                recorded_by=by,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            locked.level = level
            locked.save(update_fields=["level"])
            cooperation.level = level
            audit(
                territory=locked.territory,
                actor=by,
                action="network.cooperation.level",
                subject=f"network-cooperation:{locked.pk}",
                level_from=change.level_from,
                level_to=level,
                on=on.isoformat(),
            )
    except IntegrityError:
        won = LevelChange.objects.filter(cooperation=cooperation, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return change


def _check_change(cooperation: Cooperation, level: int, on: date) -> None:
    if cooperation.ends_on is not None:
        raise Conflict(_("This cooperation ended: its level no longer changes."))
    if level == cooperation.level:
        raise InvalidInput(
            _("The cooperation is already at level %(level)s.") % {"level": level},
            errors={"level": [_("Already its level.")]},
        )
    last = cooperation.changes.order_by("-on", "-id").first()
    if last is not None and on < last.on:
        raise InvalidInput(
            _("The last change was on %(day)s: a change comes after it.")
            % {"day": last.on.strftime("%d/%m/%Y")},
            errors={"on": [_("Before the last change.")]},
        )


def cooperation_end(
    *, cooperation: Cooperation, by: User | None, on: date | None = None, reason: str = ""
) -> Cooperation:
    """The cooperation ended on ``on`` (today by default); ending it again changes nothing."""
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = Cooperation.objects.select_for_update().get(pk=cooperation.pk)
        if locked.ends_on is not None:
            return locked
        last = locked.changes.order_by("-on", "-id").first()
        if on > timezone.localdate() or (last is not None and on < last.on):
            raise InvalidInput(
                _("A cooperation ends after its last change and no later than today."),
                errors={"on": [_("Not a possible day.")]},
            )
        locked.ends_on = on
        locked.save(update_fields=["ends_on"])
        audit(
            territory=locked.territory,
            actor=by,
            action="network.cooperation.end",
            subject=f"network-cooperation:{locked.pk}",
            on=on.isoformat(),
            reason=reason.strip()[:300],
        )
    return locked


def cooperation_confirm(*, cooperation: Cooperation, by: User) -> Cooperation:
    """A coordinator confirms a cooperation Grenier proposed; confirming again changes nothing."""
    with transaction.atomic():
        locked = Cooperation.objects.select_for_update().get(pk=cooperation.pk)
        if locked.status == CooperationStatus.CONFIRMED:
            return locked
        locked.status = CooperationStatus.CONFIRMED
        locked.save(update_fields=["status"])
        audit(
            territory=locked.territory,
            actor=by,
            action="network.cooperation.confirm",
            subject=f"network-cooperation:{locked.pk}",
        )
    return locked


def cooperation_dismiss(*, cooperation: Cooperation, by: User) -> None:
    """A coordinator dismisses a proposal that is not a cooperation; the row is kept, dismissed, so its source is
    not proposed again. Only a proposal may be dismissed."""
    with transaction.atomic():
        locked = Cooperation.objects.select_for_update().get(pk=cooperation.pk)
        if locked.status != CooperationStatus.PROPOSED:
            raise Conflict(_("Only a proposed cooperation may be dismissed; end a confirmed one."))
        locked.status = CooperationStatus.DISMISSED
        locked.save(update_fields=["status"])
        audit(
            territory=locked.territory,
            actor=by,
            action="network.cooperation.dismiss",
            subject=f"network-cooperation:{locked.pk}",
        )
