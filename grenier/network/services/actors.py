"""Actors of the map: typed by a coordinator, or taken from the rows Grenier already knows (never twice), and the
territory's own common structures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Territory, User
from grenier.core.services import audit
from grenier.network.models import (
    Actor,
    ActorKind,
    Builtin,
    Scale,
)

# --- actors ----------------------------------------------------------------------------------------------------------


@dataclass
class ActorFields:
    """What a person types about an actor (a new one, or a change)."""

    name: str
    kind: str
    scale: str = Scale.NON_PROFIT
    description: str = ""
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""

    def cleaned(self) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        name = self.name.strip()[:200]
        if not name:
            errors["name"] = [_("An actor needs a name.")]
        if self.kind not in ActorKind.values:
            errors["kind"] = [_("Choose a kind of actor.")]
        if self.scale not in Scale.values:
            errors["scale"] = [_("Choose a scale.")]
        if (self.latitude is None) != (self.longitude is None):
            errors["latitude"] = [_("Give both the latitude and the longitude, or neither.")]
        elif (
            self.latitude is not None
            and self.longitude is not None
            and not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180)
        ):
            errors["latitude"] = [_("A latitude between -90 and 90 and a longitude between -180 and 180.")]
        if errors:
            raise InvalidInput(_("The actor could not be recorded."), errors=errors)
        return {
            "name": name,
            "kind": self.kind,
            "scale": self.scale,
            "description": self.description.strip()[:2000],
            "address": self.address.strip()[:300],
            "latitude": None if self.latitude is None else round(Decimal(self.latitude), 6),
            "longitude": None if self.longitude is None else round(Decimal(self.longitude), 6),
            "contact_name": self.contact_name.strip()[:150],
            "contact_phone": self.contact_phone.strip()[:30],
            "contact_email": self.contact_email.strip().lower()[:254],
        }


def _named(territory: Territory, name: str) -> list[Actor]:
    """The territory's actors called ``name``, whatever the case and accents' case (SQLite's ``iexact`` folds ASCII
    only, so "épicerie" would miss "Épicerie"): compared in Python, a territory has a few hundred actors at most."""
    wanted = name.strip().casefold()
    return [a for a in Actor.objects.filter(territory=territory) if a.name.casefold() == wanted]


def _name_taken(territory: Territory, name: str, exclude: int | None = None) -> None:
    clash = next((a for a in _named(territory, name) if a.pk != exclude), None)
    if clash is not None:
        raise Conflict(
            _("An actor named “%(name)s” is already on the map.") % {"name": clash.name},
            errors={"name": [_("Already on the map.")]},
            extra={"actor": clash.pk},
        )


def actor_create(
    *,
    territory: Territory,
    fields: ActorFields,
    by: User | None,
    idempotency_key: str,
    joined_on: date | None = None,
) -> Actor:
    """Put an organisation on the map. Sent again under the same key, answers the same actor."""
    values = fields.cleaned()
    request = {"territory": territory, **values}
    existing = Actor.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    _name_taken(territory, values["name"])
    try:
        with transaction.atomic():
            actor = Actor.objects.create(
                territory=territory,
                joined_on=joined_on or timezone.localdate(),
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
                **values,
            )
            audit(
                territory=territory,
                actor=by,
                action="network.actor.create",
                subject=f"network-actor:{actor.pk}",
            )
    except IntegrityError:
        won = Actor.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
        if won is not None:
            return replayed(won, key=idempotency_key, **request)
        _name_taken(territory, values["name"])
        raise
    return actor


def actor_update(*, actor: Actor, fields: ActorFields, by: User) -> Actor:
    """Change what is known of an actor (its coordinators, or its own people)."""
    values = fields.cleaned()
    _name_taken(actor.territory, values["name"], exclude=actor.pk)
    with transaction.atomic():
        changed = [name for name, value in values.items() if getattr(actor, name) != value]
        for name in changed:
            setattr(actor, name, values[name])
        if changed:
            actor.save(update_fields=changed)
            audit(
                territory=actor.territory,
                actor=by,
                action="network.actor.update",
                subject=f"network-actor:{actor.pk}",
                fields=changed,
            )
    return actor


def actor_person_add(*, actor: Actor, user: User, by: User) -> Actor:
    """``user`` acts for ``actor`` in Grenier (edits it, answers its booking requests)."""
    with transaction.atomic():
        actor.people.add(user)
        audit(
            territory=actor.territory,
            actor=by,
            action="network.actor.person_add",
            subject=f"network-actor:{actor.pk}",
            user=user.pk,
        )
    return actor


@dataclass(frozen=True)
class KnownRow:
    """A row Grenier already knows that would be an actor: its link (``store``…), the row, and how it shows."""

    link: str
    row: Model
    name: str
    kind: str
    scale: str
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None


def _known_rows(territory: Territory) -> list[KnownRow]:
    from grenier.baskets.models import Garden
    from grenier.fund.models import Funder, FunderKind, Store, StoreStatus
    from grenier.orders.models import BuyingGroup
    from grenier.supply.models import Kitchen, Producer

    rows: list[KnownRow] = []
    for store in Store.objects.filter(territory=territory).exclude(status=StoreStatus.SUSPENDED):
        rows.append(KnownRow("store", store, store.name, ActorKind.STORE, Scale.PRIVATE, store.address))
    for funder in Funder.objects.filter(territory=territory):
        scale = Scale.PUBLIC if funder.kind == FunderKind.PUBLIC else Scale.PRIVATE
        rows.append(KnownRow("funder", funder, funder.name, ActorKind.FUNDER, scale))
    for farm in Producer.objects.filter(territory=territory, left_on__isnull=True):
        rows.append(
            KnownRow(
                "producer",
                farm,
                farm.farm_name,
                ActorKind.FARM,
                Scale.PRIVATE,
                farm.address,
                farm.latitude,
                farm.longitude,
            )
        )
    for kitchen in Kitchen.objects.filter(territory=territory, is_active=True):
        rows.append(
            KnownRow(
                "kitchen",
                kitchen,
                kitchen.name,
                ActorKind.KITCHEN,
                Scale.PUBLIC,
                kitchen.address,
                kitchen.latitude,
                kitchen.longitude,
            )
        )
    for garden in Garden.objects.filter(territory=territory):
        rows.append(
            KnownRow("garden", garden, garden.name, ActorKind.GARDEN, Scale.SOCIAL_ECONOMY, garden.address)
        )
    for group in BuyingGroup.objects.filter(territory=territory):
        rows.append(KnownRow("group", group, group.name, ActorKind.BUYING_GROUP, Scale.SELF_ORGANISED))
    return rows


def known_missing(territory: Territory) -> list[KnownRow]:
    """The rows Grenier knows that are not on the map yet (what ``actors_from_grenier`` would add)."""
    linked: dict[str, set[int]] = {}
    for row in Actor.objects.filter(territory=territory).values(
        "store_id", "funder_id", "producer_id", "kitchen_id", "garden_id", "group_id"
    ):
        for key, value in row.items():
            if value is not None:
                linked.setdefault(key.removesuffix("_id"), set()).add(value)  # type: ignore[arg-type]
    return [k for k in _known_rows(territory) if k.row.pk not in linked.get(k.link, set())]


BUILTINS = {
    Builtin.FUND: (ActorKind.COMMON, Scale.SOCIAL_ECONOMY),
    Builtin.PLATFORM: (ActorKind.COMMON, Scale.SOCIAL_ECONOMY),
}


def builtin_actor(*, territory: Territory, builtin: Builtin, by: User | None) -> Actor:
    """The territory's common fund or supply platform as an actor, created the first time it is asked for."""
    found = Actor.objects.filter(territory=territory, builtin=builtin).first()
    if found is not None:
        return found
    kind, scale = BUILTINS[builtin]
    name = str(builtin.label).capitalize()
    try:
        with transaction.atomic():
            actor = Actor.objects.create(
                territory=territory, builtin=builtin, name=name, kind=kind, scale=scale
            )
            audit(
                territory=territory,
                actor=by,
                action="network.actor.builtin",
                subject=f"network-actor:{actor.pk}",
            )
    except IntegrityError:
        return Actor.objects.get(territory=territory, builtin=builtin)
    return actor


def actors_from_grenier(*, territory: Territory, by: User | None) -> list[Actor]:
    """Every store, funder, farm, kitchen, garden and buying group not yet on the map becomes an actor linked to its
    row; one already on the map by the same name (typed before) is linked rather than duplicated. Run again, adds
    only what is new: never two actors for one row (the links are one-to-one). Answers the actors added or linked."""
    done: list[Actor] = []
    for known in known_missing(territory):
        try:
            with transaction.atomic():
                same = [a.pk for a in _named(territory, known.name) if getattr(a, f"{known.link}_id") is None]
                actor = Actor.objects.select_for_update().filter(pk__in=same[:1]).first()
                if actor is None:
                    actor = Actor(
                        territory=territory,
                        name=_free_name(territory, known.name),
                        kind=known.kind,
                        scale=known.scale,
                        address=known.address,
                        latitude=known.latitude,
                        longitude=known.longitude,
                    )
                setattr(actor, known.link, known.row)
                actor.save()
                audit(
                    territory=territory,
                    actor=by,
                    action="network.actor.link",
                    subject=f"network-actor:{actor.pk}",
                    row=f"{known.link}:{known.row.pk}",
                )
        except IntegrityError:
            continue  # linked by someone else in between: it is on the map once
        done.append(actor)
    return done


def _free_name(territory: Territory, name: str) -> str:
    """``name``, or ``name (2)``… when another actor (linked to another row) already has it."""
    candidate, number = name[:200], 2
    while _named(territory, candidate):
        candidate = f"{name[:190]} ({number})"
        number += 1
    return candidate
