"""The baskets' settings and reference data: a territory's settings, gardens, basket offers, pickup points and
their volunteers."""

from __future__ import annotations

from datetime import date, time

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils.translation import gettext as _

from grenier.baskets.models import (
    BP,
    BasketOffer,
    BasketSettings,
    BasketSize,
    DistributionLine,
    Garden,
    PickupPoint,
    Subscription,
)
from grenier.baskets.services.common import _create_once, _period_errors, _raise, _taken
from grenier.core.idempotency import replay
from grenier.core.models import Role, Territory, TerritoryRole, User
from grenier.core.services import audit
from grenier.fund.models import Store

# --- settings and reference data --------------------------------------------------------------------------------
#
# Creating: with an ``idempotency_key`` (pages, API), the same key again returns what the first call made, and a
# name already taken is refused; without one (demo, commands, tests), the thing of that name is returned as it is.
# Editing changes what is due from now on only: a basket already booked keeps the price and split it was booked at
# (``DistributionLine`` holds them), and an agreement keeps paying for the baskets it already paid for.

WARN_WEEKS_MAX = 52


def settings_set(
    *, territory: Territory, member_cap_bp: int, warn_weeks: int = 4, actor: User | None
) -> BasketSettings:
    """The territory's cap on the member's part (basis points, 0 to 10 000) and the warning horizon (weeks).

    Only baskets booked from now on use a new cap; those already booked keep their split."""
    errors: dict[str, list[str]] = {}
    if not isinstance(member_cap_bp, int) or not 0 <= member_cap_bp <= BP:
        errors["member_cap_bp"] = [_("Between 0 and 10000 basis points.")]
    if not isinstance(warn_weeks, int) or not 0 <= warn_weeks <= WARN_WEEKS_MAX:
        errors["warn_weeks"] = [_("Between 0 and 52 weeks.")]
    _raise(errors, _("The member's part is between 0 and 100 %."))
    with transaction.atomic():
        before = BasketSettings.objects.select_for_update().filter(territory=territory).first()
        if before and (before.member_cap_bp, before.warn_weeks) == (member_cap_bp, warn_weeks):
            return before
        found, _created = BasketSettings.objects.update_or_create(
            territory=territory, defaults={"member_cap_bp": member_cap_bp, "warn_weeks": warn_weeks}
        )
        audit(
            territory=territory,
            actor=actor,
            action="baskets.settings",
            member_cap_bp=member_cap_bp,
            warn_weeks=warn_weeks,
            was_cap_bp=before.member_cap_bp if before else None,
        )
    return found


def _store_errors(territory: Territory, store: Store | None, errors: dict[str, list[str]]) -> None:
    if store is not None and store.territory_id != territory.pk:
        errors["store"] = [_("Not a store of this territory.")]


def garden_create(
    *,
    territory: Territory,
    name: str,
    address: str = "",
    store: Store | None = None,
    actor: User | None,
    idempotency_key: str | None = None,
) -> Garden:
    request = {"name": name.strip(), "address": address.strip(), "store": store}
    found = replay(Garden.objects.filter(territory=territory), key=idempotency_key, **request)
    if found is not None:
        return found
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("This field is required.")]
    _store_errors(territory, store, errors)
    _raise(errors, _("The garden could not be recorded."))
    name = name.strip()[:200]
    garden: Garden = _create_once(
        Garden,
        scope={"territory": territory},
        name=name,
        fields={"address": address.strip()[:300], "store": store},
        idempotency_key=idempotency_key,
        request=request,
        territory=territory,
        actor=actor,
        action="baskets.garden.create",
        subject="garden",
    )
    return garden


def garden_update(
    *, garden: Garden, name: str, address: str, store: Store | None, actor: User | None
) -> Garden:
    territory = garden.territory
    errors: dict[str, list[str]] = {}
    name = name.strip()[:200]
    if not name:
        errors["name"] = [_("This field is required.")]
    _store_errors(territory, store, errors)
    _raise(errors, _("The garden could not be recorded."))
    try:
        with transaction.atomic():
            locked = Garden.objects.select_for_update().get(pk=garden.pk)
            changed = {
                k: v
                for k, v in {
                    "name": name,
                    "address": address.strip()[:300],
                    "store_id": store and store.pk,
                }.items()
                if getattr(locked, k) != v
            }
            if changed:
                Garden.objects.filter(pk=locked.pk).update(**changed)
                audit(
                    territory=territory,
                    actor=actor,
                    action="baskets.garden.update",
                    subject=f"garden:{locked.pk}",
                    fields=sorted(changed),
                )
    except IntegrityError as exc:
        raise _taken() from exc
    return Garden.objects.select_related("store").get(pk=garden.pk)


def _offer_errors(
    *, name: str, price_cents: int, season_start: date, season_end: date, weekday: int, size: str
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("This field is required.")]
    if not isinstance(price_cents, int) or isinstance(price_cents, bool) or not 0 < price_cents <= 1_000_00:
        errors["price_cents"] = [_("A positive number of cents, at most 1000 €.")]
    _period_errors(
        season_start, season_end, start_field="season_start", end_field="season_end", errors=errors
    )
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        errors["weekday"] = [_("A day of the week, 0 (Monday) to 6.")]
    if size not in BasketSize.values:
        errors["size"] = [_("Small, medium or large.")]
    return errors


def offer_create(
    *,
    garden: Garden,
    name: str,
    price_cents: int,
    season_start: date,
    season_end: date,
    weekday: int,
    size: BasketSize = BasketSize.SMALL,
    actor: User | None,
    idempotency_key: str | None = None,
) -> BasketOffer:
    request = {
        "name": name.strip(),
        "price_cents": price_cents,
        "season_start": season_start,
        "season_end": season_end,
        "weekday": weekday,
        "size": size,
    }
    found = replay(BasketOffer.objects.filter(garden=garden), key=idempotency_key, **request)
    if found is not None:
        return found
    errors = _offer_errors(
        name=name,
        price_cents=price_cents,
        season_start=season_start,
        season_end=season_end,
        weekday=weekday,
        size=size,
    )
    _raise(errors, _("The offer could not be recorded."))
    fields = {
        "size": size,
        "price_cents": price_cents,
        "season_start": season_start,
        "season_end": season_end,
        "weekday": weekday,
    }
    offer: BasketOffer = _create_once(
        BasketOffer,
        scope={"garden": garden},
        name=name.strip(),
        fields=fields,
        idempotency_key=idempotency_key,
        request=request,
        territory=garden.territory,
        actor=actor,
        action="baskets.offer.create",
        subject="offer",
        price_cents=price_cents,
    )
    return offer


def offer_update(
    *,
    offer: BasketOffer,
    name: str,
    price_cents: int,
    season_start: date,
    season_end: date,
    weekday: int,
    size: BasketSize,
    active: bool,
    actor: User | None,
) -> BasketOffer:
    """Change an offer. A new price applies to the baskets booked from now on: those already on a sheet keep the
    price they were booked at. The season keeps the baskets already booked inside it; the distribution day
    changes only while no open subscription relies on it."""
    errors = _offer_errors(
        name=name,
        price_cents=price_cents,
        season_start=season_start,
        season_end=season_end,
        weekday=weekday,
        size=size,
    )
    _raise(errors, _("The offer could not be recorded."))
    try:
        with transaction.atomic():
            locked = (
                BasketOffer.objects.select_for_update().select_related("garden__territory").get(pk=offer.pk)
            )
            booked = DistributionLine.objects.filter(offer=locked).aggregate(first=Min("on"), last=Max("on"))
            if booked["first"] is not None and season_start > booked["first"]:
                errors["season_start"] = [
                    _("Baskets are already booked from %(d)s.") % {"d": booked["first"]}
                ]
            if booked["last"] is not None and season_end < booked["last"]:
                errors["season_end"] = [_("Baskets are already booked until %(d)s.") % {"d": booked["last"]}]
            if (
                weekday != locked.weekday
                and Subscription.objects.filter(offer=locked, stopped_on__isnull=True).exists()
            ):
                errors["weekday"] = [_("Open subscriptions take this basket on its current day.")]
            _raise(errors, _("The offer could not be recorded."))
            values = {
                "name": name.strip(),
                "size": size,
                "price_cents": price_cents,
                "season_start": season_start,
                "season_end": season_end,
                "weekday": weekday,
                "active": bool(active),
            }
            changed = {k: v for k, v in values.items() if getattr(locked, k) != v}
            if changed:
                BasketOffer.objects.filter(pk=locked.pk).update(**changed)
                audit(
                    territory=locked.garden.territory,
                    actor=actor,
                    action="baskets.offer.update",
                    subject=f"offer:{locked.pk}",
                    fields=sorted(changed),
                    price_cents=price_cents,
                    was_price_cents=locked.price_cents,
                )
    except IntegrityError as exc:
        raise _taken() from exc
    return BasketOffer.objects.select_related("garden").get(pk=offer.pk)


def _volunteer_errors(
    territory: Territory, volunteers: list[User] | None, errors: dict[str, list[str]]
) -> None:
    """Volunteers are chosen among the territory's cashiers (the role that checks sheets off)."""
    if not volunteers:
        return
    cashiers = set(
        TerritoryRole.objects.filter(
            territory=territory, role=Role.CASHIER, user__in=volunteers, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    if any(v.pk not in cashiers for v in volunteers):
        errors["volunteers"] = [_("Volunteers are chosen among the territory's cashiers.")]


def pickup_point_create(
    *,
    garden: Garden,
    name: str,
    weekday: int,
    opens_at: time,
    address: str = "",
    volunteers: list[User] | None = None,
    actor: User | None,
    idempotency_key: str | None = None,
) -> PickupPoint:
    request = {
        "name": name.strip(),
        "weekday": weekday,
        "opens_at": opens_at,
        "address": address.strip(),
        "volunteers": {volunteer.pk for volunteer in volunteers or []},
    }
    found = replay(PickupPoint.objects.filter(garden=garden), key=idempotency_key, **request)
    if found is not None:
        return found
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("This field is required.")]
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        errors["weekday"] = [_("A day of the week, 0 (Monday) to 6.")]
    _volunteer_errors(garden.territory, volunteers, errors)
    _raise(errors, _("The pickup point could not be recorded."))
    fields = {"weekday": weekday, "opens_at": opens_at, "address": address.strip()[:300]}
    point: PickupPoint = _create_once(
        PickupPoint,
        scope={"garden": garden},
        name=name.strip(),
        fields=fields,
        idempotency_key=idempotency_key,
        request=request,
        territory=garden.territory,
        actor=actor,
        action="baskets.pickup.create",
        subject="pickup",
        then=lambda created: created.volunteers.set(volunteers) if volunteers else None,
        volunteers=sorted(v.pk for v in volunteers or []),
    )
    return point


def pickup_point_update(
    *,
    pickup_point: PickupPoint,
    name: str,
    address: str,
    weekday: int,
    opens_at: time,
    volunteers: list[User],
    active: bool,
    actor: User | None,
) -> PickupPoint:
    """Change a pickup point and who serves it. Its day changes, or it closes, only while no open subscription
    collects there (move those subscriptions first)."""
    territory = pickup_point.garden.territory
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("This field is required.")]
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        errors["weekday"] = [_("A day of the week, 0 (Monday) to 6.")]
    _volunteer_errors(territory, volunteers, errors)
    _raise(errors, _("The pickup point could not be recorded."))
    try:
        with transaction.atomic():
            locked = PickupPoint.objects.select_for_update().get(pk=pickup_point.pk)
            open_here = Subscription.objects.filter(pickup_point=locked, stopped_on__isnull=True)
            if weekday != locked.weekday and open_here.exists():
                errors["weekday"] = [_("Open subscriptions collect here on the current day.")]
            if not active and locked.active and open_here.exists():
                errors["active"] = [_("Open subscriptions collect here: move or stop them first.")]
            _raise(errors, _("The pickup point could not be recorded."))
            values = {
                "name": name.strip()[:200],
                "address": address.strip()[:300],
                "weekday": weekday,
                "opens_at": opens_at,
                "active": bool(active),
            }
            changed = {k: v for k, v in values.items() if getattr(locked, k) != v}
            if changed:
                PickupPoint.objects.filter(pk=locked.pk).update(**changed)
            before = set(locked.volunteers.values_list("pk", flat=True))
            after = {v.pk for v in volunteers}
            if before != after:
                locked.volunteers.set(volunteers)
            if changed or before != after:
                audit(
                    territory=territory,
                    actor=actor,
                    action="baskets.pickup.update",
                    subject=f"pickup:{locked.pk}",
                    fields=sorted(changed),
                    volunteers=sorted(after),
                )
    except IntegrityError as exc:
        raise _taken() from exc
    return PickupPoint.objects.get(pk=pickup_point.pk)


def volunteer_add(*, pickup_point: PickupPoint, user: User, actor: User | None) -> None:
    with transaction.atomic():
        pickup_point.volunteers.add(user)
        audit(
            territory=pickup_point.garden.territory,
            actor=actor,
            action="baskets.volunteer.add",
            subject=f"pickup:{pickup_point.pk}",
            user=user.pk,
        )
