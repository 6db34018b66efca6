"""Every write of the solidarity baskets. Pages, API and CLI call these; each runs in one transaction with its audit
line, and moves money only through the ledger (``accounts.py`` for the accounts and their sign rule)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.baskets import accounts, notifications, selectors
from grenier.baskets.models import (
    BP,
    Absence,
    Agreement,
    BasketOffer,
    BasketSettings,
    BasketSize,
    DistributionLine,
    DistributionSheet,
    Frequency,
    FunderPayment,
    FunderPaymentPart,
    Garden,
    GardenMembership,
    LineFunding,
    LineStatus,
    MemberPayment,
    PaymentMethod,
    PickupPoint,
    Referral,
    ReferralStatus,
    Subscription,
    Workshop,
    WorkshopKind,
)
from grenier.baskets.split import Funding, split_price
from grenier.baskets.wording import in_sentence
from grenier.core import services as core_services
from grenier.core.cards import normalise_card_number
from grenier.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Household, Role, Territory, TerritoryRole, User
from grenier.core.money import format_cents
from grenier.core.months import monday_of
from grenier.core.services import NewHousehold, audit
from grenier.fund import services as fund_services
from grenier.fund.models import Funder, Store
from grenier.ledger import services as ledger
from grenier.ledger.models import Entry
from grenier.ledger.services import EntrySpec

# --- settings and reference data --------------------------------------------------------------------------------
#
# Creating: with an ``idempotency_key`` (pages, API), the same key again returns what the first call made, and a
# name already taken is refused; without one (demo, commands, tests), the thing of that name is returned as it is.
# Editing changes what is due from now on only: a basket already booked keeps the price and split it was booked at
# (``DistributionLine`` holds them), and an agreement keeps paying for the baskets it already paid for.

PERIOD_MAX_DAYS = 3 * 366  # an agreement or a season runs at most about three years
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
PRIORITY_MAX = 99
WARN_WEEKS_MAX = 52


def _raise(errors: dict[str, list[str]], detail: str) -> None:
    if errors:
        raise InvalidInput(detail, errors=errors)


def _period_errors(
    start: date,
    end: date,
    *,
    start_field: str,
    end_field: str,
    errors: dict[str, list[str]],
    max_days: int | None = PERIOD_MAX_DAYS,
) -> None:
    """A period starts before it ends, lasts at most ``max_days``, and lies between 2000 and 2100."""
    if not EARLIEST <= start <= LATEST:
        errors.setdefault(start_field, []).append(_("A date between 2000 and 2100."))
    if not EARLIEST <= end <= LATEST:
        errors.setdefault(end_field, []).append(_("A date between 2000 and 2100."))
    if end < start:
        errors.setdefault(end_field, []).append(_("The period must end after it starts."))
    elif max_days is not None and (end - start).days > max_days:
        errors.setdefault(end_field, []).append(_("At most three years."))


def _taken(name_field: str = "name") -> Conflict:
    return Conflict(
        _("This name is already used."), errors={name_field: [_("Already used: choose another.")]}
    )


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


def _create_once(
    model: Any,
    *,
    scope: dict[str, Any],
    name: str,
    fields: dict[str, Any],
    idempotency_key: str | None,
    request: dict[str, Any],
) -> tuple[Any, bool]:
    """A named row under ``scope`` (a territory, a garden), created once. With a key (a form shown once): a name
    already taken is refused, and the same form sent twice at once returns the row the first one wrote (another
    ``request`` under that key is refused). Without a key (demo, commands): the row of that name, created if
    absent. Runs in the caller's transaction (a savepoint), so the caller's audit line goes with it."""
    try:
        with transaction.atomic():
            if idempotency_key:
                if model.objects.filter(**scope, name=name).exists():
                    raise _taken()
                return model.objects.create(
                    **scope,
                    name=name,
                    idempotency_key=idempotency_key,
                    request_fingerprint=fingerprint(**request),
                    **fields,
                ), True
            return model.objects.get_or_create(**scope, name=name, defaults=fields)
    except IntegrityError as exc:  # the same form sent twice at once, or the name taken meanwhile
        won = (
            model.objects.filter(**scope, idempotency_key=idempotency_key).first()
            if idempotency_key
            else None
        )
        if won is not None:
            return replayed(won, key=idempotency_key or "", **request), False
        raise _taken() from exc


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
    if idempotency_key:
        found = Garden.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
        if found is not None:
            return replayed(found, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("This field is required.")]
    _store_errors(territory, store, errors)
    _raise(errors, _("The garden could not be recorded."))
    name = name.strip()[:200]
    with transaction.atomic():
        garden, created = _create_once(
            Garden,
            scope={"territory": territory},
            name=name,
            fields={"address": address.strip()[:300], "store": store},
            idempotency_key=idempotency_key,
            request=request,
        )
        if created:
            audit(
                territory=territory,
                actor=actor,
                action="baskets.garden.create",
                subject=f"garden:{garden.pk}",
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
    if idempotency_key:
        found = BasketOffer.objects.filter(garden=garden, idempotency_key=idempotency_key).first()
        if found is not None:
            return replayed(found, key=idempotency_key, **request)
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
    with transaction.atomic():
        offer, created = _create_once(
            BasketOffer,
            scope={"garden": garden},
            name=name.strip(),
            fields=fields,
            idempotency_key=idempotency_key,
            request=request,
        )
        if created:
            audit(
                territory=garden.territory,
                actor=actor,
                action="baskets.offer.create",
                subject=f"offer:{offer.pk}",
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
    if idempotency_key:
        found = PickupPoint.objects.filter(garden=garden, idempotency_key=idempotency_key).first()
        if found is not None:
            return replayed(found, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("This field is required.")]
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        errors["weekday"] = [_("A day of the week, 0 (Monday) to 6.")]
    _volunteer_errors(garden.territory, volunteers, errors)
    _raise(errors, _("The pickup point could not be recorded."))
    fields = {"weekday": weekday, "opens_at": opens_at, "address": address.strip()[:300]}
    with transaction.atomic():
        point, created = _create_once(
            PickupPoint,
            scope={"garden": garden},
            name=name.strip(),
            fields=fields,
            idempotency_key=idempotency_key,
            request=request,
        )
        if created:
            if volunteers:
                point.volunteers.set(volunteers)
            audit(
                territory=garden.territory,
                actor=actor,
                action="baskets.pickup.create",
                subject=f"pickup:{point.pk}",
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


def _agreement_errors(
    *,
    garden: Garden,
    funder: Funder,
    name: str,
    budget_cents: int,
    starts_on: date,
    ends_on: date,
    priority: int,
    share_bp: int | None,
    amount_per_basket_cents: int | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("This field is required.")]
    if (share_bp is None) == (amount_per_basket_cents is None):
        errors["share_bp"] = [_("Give either a share of the price or a fixed amount per basket.")]
    if share_bp is not None and not 0 < share_bp <= BP:
        errors["share_bp"] = [_("Between 1 and 10000 basis points.")]
    if amount_per_basket_cents is not None and not 0 < amount_per_basket_cents <= 1_000_00:
        errors["amount_per_basket_cents"] = [_("A positive number of cents, at most 1000 €.")]
    if not isinstance(budget_cents, int) or not 0 < budget_cents <= 100_000_000_00:
        errors["budget_cents"] = [_("A positive budget.")]
    _period_errors(starts_on, ends_on, start_field="starts_on", end_field="ends_on", errors=errors)
    if not isinstance(priority, int) or not 1 <= priority <= PRIORITY_MAX:
        errors["priority"] = [_("From 1 (pays first) to 99.")]
    if funder.territory_id != garden.territory_id:
        errors["funder"] = [_("Not a funder of this territory.")]
    return errors


def agreement_create(
    *,
    garden: Garden,
    funder: Funder,
    name: str,
    budget_cents: int,
    starts_on: date,
    ends_on: date,
    priority: int = 1,
    share_bp: int | None = None,
    amount_per_basket_cents: int | None = None,
    actor: User | None,
    idempotency_key: str | None = None,
) -> Agreement:
    """A co-financing agreement: ``share_bp`` of each basket's price, or ``amount_per_basket_cents``, never both;
    a positive budget; a period of at most three years."""
    request = {
        "funder": funder,
        "name": name.strip(),
        "budget_cents": budget_cents,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "priority": priority,
        "share_bp": share_bp,
        "amount_per_basket_cents": amount_per_basket_cents,
    }
    if idempotency_key:
        found = Agreement.objects.filter(garden=garden, idempotency_key=idempotency_key).first()
        if found is not None:
            return replayed(found, key=idempotency_key, **request)
    errors = _agreement_errors(
        garden=garden,
        funder=funder,
        name=name,
        budget_cents=budget_cents,
        starts_on=starts_on,
        ends_on=ends_on,
        priority=priority,
        share_bp=share_bp,
        amount_per_basket_cents=amount_per_basket_cents,
    )
    _raise(errors, _("The agreement could not be recorded."))
    fields = {
        "territory": garden.territory,
        "funder": funder,
        "share_bp": share_bp,
        "amount_per_basket_cents": amount_per_basket_cents,
        "budget_cents": budget_cents,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "priority": priority,
    }
    with transaction.atomic():
        agreement, created = _create_once(
            Agreement,
            scope={"garden": garden},
            name=name.strip(),
            fields=fields,
            idempotency_key=idempotency_key,
            request=request,
        )
        if created:
            audit(
                territory=garden.territory,
                actor=actor,
                action="baskets.agreement.create",
                subject=f"agreement:{agreement.pk}",
                funder=funder.pk,
                budget_cents=budget_cents,
            )
    return agreement


def agreement_update(
    *,
    agreement: Agreement,
    funder: Funder,
    name: str,
    budget_cents: int,
    starts_on: date,
    ends_on: date,
    priority: int,
    share_bp: int | None,
    amount_per_basket_cents: int | None,
    actor: User | None,
) -> Agreement:
    """Change an agreement for the baskets booked from now on. The budget never drops below what baskets already
    used; the period keeps every basket the agreement already paid for; the funder changes only before the
    agreement paid for any basket."""
    garden = agreement.garden
    errors = _agreement_errors(
        garden=garden,
        funder=funder,
        name=name,
        budget_cents=budget_cents,
        starts_on=starts_on,
        ends_on=ends_on,
        priority=priority,
        share_bp=share_bp,
        amount_per_basket_cents=amount_per_basket_cents,
    )
    _raise(errors, _("The agreement could not be recorded."))
    try:
        with transaction.atomic():
            # The garden's lock first, as ``distribution_generate`` takes it: no generation runs meanwhile.
            Garden.objects.select_for_update().filter(pk=garden.pk).first()
            locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
            if budget_cents < locked.spent_cents:
                errors["budget_cents"] = [
                    _("Baskets already used %(used)s of it.") % {"used": format_cents(locked.spent_cents)}
                ]
            paid = LineFunding.objects.filter(agreement=locked).aggregate(
                first=Min("line__on"), last=Max("line__on")
            )
            if paid["first"] is not None and (starts_on > paid["first"] or ends_on < paid["last"]):
                errors["ends_on" if ends_on < paid["last"] else "starts_on"] = [
                    _("It already paid for baskets from %(first)s to %(last)s.")
                    % {"first": paid["first"], "last": paid["last"]}
                ]
            if funder.pk != locked.funder_id and paid["first"] is not None:
                errors["funder"] = [_("It already paid for baskets: record a new agreement instead.")]
            _raise(errors, _("The agreement could not be recorded."))
            values = {
                "funder_id": funder.pk,
                "name": name.strip()[:200],
                "budget_cents": budget_cents,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "priority": priority,
                "share_bp": share_bp,
                "amount_per_basket_cents": amount_per_basket_cents,
            }
            changed = {k: v for k, v in values.items() if getattr(locked, k) != v}
            if changed:
                Agreement.objects.filter(pk=locked.pk).update(**changed)
                audit(
                    territory=garden.territory,
                    actor=actor,
                    action="baskets.agreement.update",
                    subject=f"agreement:{locked.pk}",
                    fields=sorted(changed),
                    budget_cents=budget_cents,
                    was_budget_cents=locked.budget_cents,
                )
    except IntegrityError as exc:
        raise _taken() from exc
    return Agreement.objects.select_related("funder", "garden").get(pk=agreement.pk)


# --- referrals and memberships ------------------------------------------------------------------------------------


def membership_ensure(*, garden: Garden, household: Household, on: date | None = None) -> GardenMembership:
    """The household's open membership of the garden, opened if it has none (inside the caller's transaction)."""
    found = GardenMembership.objects.filter(garden=garden, household=household, left_on__isnull=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return GardenMembership.objects.create(
                garden=garden, household=household, joined_on=on or timezone.localdate()
            )
    except IntegrityError:  # opened by a concurrent request in between
        return GardenMembership.objects.get(garden=garden, household=household, left_on__isnull=True)


def referral_create(
    *,
    garden: Garden,
    social_worker: User,
    consent: bool,
    idempotency_key: str,
    card: str = "",
    new_household: NewHousehold | None = None,
    member_share_bp: int | None = None,
    note: str = "",
) -> Referral:
    """A social worker refers a household to ``garden`` with its consent: an existing household named by its card
    number, or a new one created with minimal data. The household becomes a full member of the garden; a new one
    is not in the common fund (its monthly credit is the fund's to grant: a referral to the fund, ``fund.referrals``)."""
    territory = garden.territory
    request = {
        "garden": garden,
        "consent": consent,
        "card": normalise_card_number(card) or card.strip(),
        "new_household": None if new_household is None else new_household.as_request(),
        "member_share_bp": member_share_bp,
        "note": note.strip(),
    }
    existing = Referral.objects.filter(social_worker=social_worker, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if not consent:
        errors["consent"] = [_("The household must agree to be referred.")]
    cap = selectors.settings_of(territory).member_cap_bp
    if member_share_bp is not None and not 0 <= member_share_bp <= cap:
        errors["member_share_bp"] = [
            _("At most the territory's cap (%(cap)s %%).") % {"cap": f"{cap / 100:g}"}
        ]
    if bool(card.strip()) == (new_household is not None):
        errors["card"] = [_("Give the card number of a member household, or create a new household.")]
    household: Household | None = None
    if card.strip() and "card" not in errors:
        number = normalise_card_number(card)
        household = (
            Household.objects.filter(territory=territory, card_number=number, left_on__isnull=True).first()
            if number
            else None
        )
        if household is None:
            errors["card"] = [_("No member household has this card number.")]
    if new_household is not None and not new_household.name.strip():
        errors["name"] = [_("A household needs a name.")]
    if household is not None and "card" not in errors:
        _refuse_open_referral(garden, household)
    if errors:
        raise InvalidInput(_("The referral could not be recorded."), errors=errors)
    today = timezone.localdate()
    try:
        with transaction.atomic():
            if household is None:
                assert new_household is not None  # noqa: S101 - checked above
                household = core_services.household_join(
                    territory=territory,
                    name=new_household.name,
                    persons=new_household.person_inputs(),
                    phone=new_household.phone,
                    email=new_household.email,
                    actor=social_worker,
                    idempotency_key=f"referral:{social_worker.pk}:{idempotency_key}"[:100],
                    in_fund=False,  # a member of the garden; in the common fund once a coordinator takes it in
                )
            membership = membership_ensure(garden=garden, household=household, on=today)
            referral = Referral.objects.create(
                territory=territory,
                garden=garden,
                household=household,
                social_worker=social_worker,
                consent_on=today,
                member_share_bp=member_share_bp,
                note=note.strip()[:300],
                membership=membership,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(
                territory=territory,
                actor=social_worker,
                action="baskets.referral.create",
                subject=f"referral:{referral.pk}",
                household=household.pk,
            )
    except IntegrityError:
        won = Referral.objects.filter(social_worker=social_worker, idempotency_key=idempotency_key).first()
        if won is None:
            if household is not None and household.pk:
                _refuse_open_referral(garden, household)  # referred by someone else in between
            raise
        return replayed(won, key=idempotency_key, **request)
    return referral


def _refuse_open_referral(garden: Garden, household: Household) -> None:
    """One open referral of a household to a garden: a second one is refused, naming the first."""
    open_ = (
        Referral.objects.filter(garden=garden, household=household, status=ReferralStatus.OPEN)
        .select_related("social_worker")
        .first()
    )
    if open_ is not None:
        raise Conflict(
            _("This household is already referred to this garden (by %(who)s on %(day)s).")
            % {"who": str(open_.social_worker), "day": open_.consent_on.strftime("%d/%m/%Y")},
            errors={"card": [_("Already referred to this garden.")]},
        )


def referral_withdraw(*, referral: Referral, actor: User) -> Referral:
    """Its social worker withdraws a referral (made by mistake, or the household changed its mind). A subscription
    already taken stays; it is for the garden's coordinator to stop. Withdrawing twice changes nothing."""
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.status == ReferralStatus.WITHDRAWN:
            return locked
        locked.status = ReferralStatus.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.save(update_fields=["status", "withdrawn_at"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="baskets.referral.withdraw",
            subject=f"referral:{locked.pk}",
            household=locked.household_id,
        )
    return locked


# --- subscriptions ------------------------------------------------------------------------------------------------


def _next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def subscription_create(
    *,
    household: Household,
    offer: BasketOffer,
    pickup_point: PickupPoint,
    frequency: Frequency,
    start_on: date,
    actor: User | None,
    idempotency_key: str | None = None,
) -> Subscription:
    """The household takes ``offer`` at ``pickup_point`` from ``start_on`` (moved to the offer's distribution day).

    The household becomes a member of the garden if it was not; the member's part is the one its referral set, if
    lower than the territory's cap."""
    garden = offer.garden
    territory = garden.territory
    request = {"offer": offer, "pickup_point": pickup_point, "frequency": frequency, "start_on": start_on}
    if idempotency_key:
        found = Subscription.objects.filter(household=household, idempotency_key=idempotency_key).first()
        if found is not None:
            return replayed(found, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if household.territory_id != territory.pk or household.left_on is not None:
        errors["household"] = [_("Not a member household of this territory.")]
    if pickup_point.garden_id != garden.pk or not pickup_point.active:
        errors["pickup_point"] = [_("Not a pickup point of this garden.")]
    elif pickup_point.weekday != offer.weekday:
        errors["pickup_point"] = [_("This pickup point is not open on the offer's distribution day.")]
    if frequency not in Frequency.values:
        errors["frequency"] = [_("Every week or every other week.")]
    if not offer.active:
        errors["offer"] = [_("This offer takes no new subscriptions.")]
    first = _next_weekday(max(start_on, offer.season_start), offer.weekday)
    if first > offer.season_end:
        errors["start_on"] = [_("The season is over for this offer.")]
    if errors:
        raise InvalidInput(_("The subscription could not be recorded."), errors=errors)
    _refuse_second_basket(household, offer)
    referral = (
        Referral.objects.filter(
            garden=garden, household=household, member_share_bp__isnull=False, status=ReferralStatus.OPEN
        )
        .order_by("-created_at", "-id")
        .first()
    )
    try:
        with transaction.atomic():
            membership_ensure(garden=garden, household=household)
            subscription = Subscription.objects.create(
                territory=territory,
                household=household,
                offer=offer,
                pickup_point=pickup_point,
                frequency=frequency,
                start_on=first,
                member_share_bp=referral.member_share_bp if referral else None,
                idempotency_key=idempotency_key or None,
                request_fingerprint=fingerprint(**request) if idempotency_key else "",
            )
            audit(
                territory=territory,
                actor=actor,
                action="baskets.subscription.create",
                subject=f"subscription:{subscription.pk}",
                household=household.pk,
            )
    except IntegrityError as exc:
        if idempotency_key:
            found = Subscription.objects.filter(household=household, idempotency_key=idempotency_key).first()
            if found is not None:
                return replayed(found, key=idempotency_key, **request)
        raise Conflict(
            _("This household already has this basket."),
            errors={"offer": [_("Already subscribed: pause or stop the current subscription instead.")]},
        ) from exc
    return subscription


def _refuse_second_basket(household: Household, offer: BasketOffer) -> None:
    """One running basket per household and garden: the same offer again, or another offer of the same garden, is
    refused (the field says which); change the current one (pause, stop) instead."""
    current = (
        Subscription.objects.filter(
            household=household, offer__garden_id=offer.garden_id, stopped_on__isnull=True
        )
        .select_related("offer")
        .first()
    )
    if current is None:
        return
    if current.offer_id == offer.pk:
        raise Conflict(
            _("This household already has this basket."),
            errors={"offer": [_("Already subscribed: pause or stop the current subscription instead.")]},
        )
    raise Conflict(
        _("This household already has a basket at this garden (%(offer)s).") % {"offer": current.offer.name},
        errors={"household": [_("Already subscribed at this garden: stop the current basket first.")]},
    )


def _open(subscription: Subscription) -> Subscription:
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.stopped_on is not None:
        raise Conflict(_("This subscription is stopped."))
    return locked


def absence_add(*, subscription: Subscription, on: date, actor: User | None) -> Absence:
    """The household will not collect its basket on ``on``: no basket is due that day."""
    if on < timezone.localdate():
        raise InvalidInput(_("An absence must be announced ahead."), errors={"on": [_("This day is past.")]})
    if on.weekday() != subscription.offer.weekday:
        raise InvalidInput(
            _("This is not a distribution day."),
            errors={
                "on": [_("Pick a %(day)s.") % {"day": in_sentence(subscription.offer.get_weekday_display())}]
            },
        )
    with transaction.atomic():
        locked = _open(subscription)
        if DistributionLine.objects.filter(subscription=locked, on=on).exists():
            raise Conflict(
                _("The sheet of this day is already out: tell the pickup point's volunteers."),
                errors={"on": [_("Already on a distribution sheet.")]},
            )
        absence, created = Absence.objects.get_or_create(subscription=locked, on=on)
        if created:
            audit(
                territory=locked.territory,
                actor=actor,
                action="baskets.absence.add",
                subject=f"subscription:{locked.pk}",
                on=on.isoformat(),
            )
    return absence


def absence_remove(*, subscription: Subscription, on: date, actor: User | None) -> None:
    with transaction.atomic():
        deleted, _rows = Absence.objects.filter(
            subscription=subscription, on=on, on__gte=timezone.localdate()
        ).delete()
        if deleted:
            audit(
                territory=subscription.territory,
                actor=actor,
                action="baskets.absence.remove",
                subject=f"subscription:{subscription.pk}",
                on=on.isoformat(),
            )


def subscription_pause(
    *, subscription: Subscription, actor: User | None, on: date | None = None, until: date | None = None
) -> Subscription:
    """No basket from ``on`` (today by default) until resumed, or until ``until`` (baskets again from that day) if
    given. Pausing a paused subscription changes nothing."""
    on = max(on or timezone.localdate(), timezone.localdate())
    if until is not None and until <= on:
        raise InvalidInput(
            _("The pause must end after it starts."), errors={"until": [_("Pick a later day.")]}
        )
    with transaction.atomic():
        locked = _open(subscription)
        if locked.paused_from is None:
            locked.paused_from = on
            locked.resume_on = until
            locked.save(update_fields=["paused_from", "resume_on"])
            audit(
                territory=locked.territory,
                actor=actor,
                action="baskets.subscription.pause",
                subject=f"subscription:{locked.pk}",
            )
    return locked


def subscription_resume(*, subscription: Subscription, actor: User | None) -> Subscription:
    with transaction.atomic():
        locked = _open(subscription)
        if locked.paused_from is not None:
            locked.paused_from = None
            locked.resume_on = None
            locked.save(update_fields=["paused_from", "resume_on"])
            audit(
                territory=locked.territory,
                actor=actor,
                action="baskets.subscription.resume",
                subject=f"subscription:{locked.pk}",
            )
    return locked


def subscription_stop(
    *, subscription: Subscription, actor: User | None, on: date | None = None
) -> Subscription:
    """No basket from ``on`` on, for good: always possible. Stopping twice changes nothing."""
    on = max(on or timezone.localdate(), timezone.localdate())
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if locked.stopped_on is not None:
            return locked
        locked.stopped_on = max(on, locked.start_on)
        locked.save(update_fields=["stopped_on"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="baskets.subscription.stop",
            subject=f"subscription:{locked.pk}",
        )
    return locked


# --- distributions ------------------------------------------------------------------------------------------------


@dataclass
class Generated:
    sheets: list[DistributionSheet] = field(default_factory=list)
    lines_created: int = 0
    short_cents: int = 0
    warned: list[str] = field(default_factory=list)  # e-mail addresses told that budgets run short


def distribution_generate(
    *, garden: Garden, day: date, actor: User | None, at: datetime | None = None, warn: bool = True
) -> Generated:
    """The week's sheets of every pickup point of ``garden`` (the week that holds ``day``): one line per
    subscription due that day, its price split (``split.py``), the agreements' budgets taken, one ledger entry per
    basket. Generating again adds only what is missing (a line is unique per subscription and day).

    When the budget forecast then shows a week short within the territory's warning horizon, the garden's
    coordinators are mailed (once the transaction commits)."""
    territory = garden.territory
    monday = monday_of(day)
    cap = selectors.settings_of(territory).member_cap_bp
    result = Generated()
    with transaction.atomic():
        # One generation per garden at a time: the garden row is the lock; agreements are then read fresh.
        Garden.objects.select_for_update().filter(pk=garden.pk).first()
        agreements = list(
            Agreement.objects.select_for_update().filter(garden=garden).order_by("priority", "id")
        )
        rooms = {a.pk: a.left_cents for a in agreements}
        points = list(PickupPoint.objects.filter(garden=garden, active=True).order_by("pk"))
        sheets: dict[int, DistributionSheet] = {}
        for point in points:
            on = monday + timedelta(days=point.weekday)
            sheet, _created = DistributionSheet.objects.get_or_create(pickup_point=point, on=on)
            sheets[point.pk] = sheet
        result.sheets = list(sheets.values())
        dates = {sheet.on for sheet in sheets.values()}
        subscriptions = list(
            Subscription.objects.filter(pickup_point__in=points, start_on__lte=max(dates, default=monday))
            .exclude(stopped_on__lte=monday)
            .select_related("offer", "household")
            .order_by("pk")
        )
        absent = selectors.absences_on([s.pk for s in subscriptions], dates)
        done = set(
            DistributionLine.objects.filter(
                subscription_id__in=[s.pk for s in subscriptions], on__in=dates
            ).values_list("subscription_id", "on")
        )
        planned: list[tuple[DistributionLine, list[tuple[int, int]]]] = []
        for subscription in subscriptions:
            sheet = sheets[subscription.pickup_point_id]
            on = sheet.on
            if (subscription.pk, on) in done or not selectors.is_due(subscription, on, absent):
                continue
            share = min(
                cap, subscription.member_share_bp if subscription.member_share_bp is not None else cap
            )
            fundings = [
                Funding(a.pk, a.share_bp, a.amount_per_basket_cents, rooms[a.pk])
                for a in agreements
                if a.starts_on <= on <= a.ends_on
            ]
            split = split_price(subscription.offer.price_cents, share, fundings)
            for key, cents in split.parts:
                rooms[key] -= cents
            planned.append(
                (
                    DistributionLine(
                        sheet=sheet,
                        subscription=subscription,
                        household=subscription.household,
                        offer=subscription.offer,
                        on=on,
                        price_cents=split.price_cents,
                        member_part_cents=split.member_cents,
                        funded_cents=split.funded_cents,
                        short_cents=split.short_cents,
                    ),
                    list(split.parts),
                )
            )
        if planned:
            _record_lines(territory, garden, agreements, planned, actor, at)
            result.lines_created = len(planned)
            result.short_cents = sum(line.short_cents for line, _parts in planned)
            audit(
                territory=territory,
                actor=actor,
                action="baskets.distribution.generate",
                subject=f"garden:{garden.pk}",
                week=monday.isoformat(),
                lines=len(planned),
            )
        if warn:
            forecast = selectors.budget_forecast(garden, today=monday)
            horizon = monday + timedelta(weeks=selectors.settings_of(territory).warn_weeks)
            if forecast.first_short is not None and forecast.first_short <= horizon:
                result.warned = notifications.budget_running_short(garden, forecast)
    return result


def _record_lines(
    territory: Territory,
    garden: Garden,
    agreements: list[Agreement],
    planned: list[tuple[DistributionLine, list[tuple[int, int]]]],
    actor: User | None,
    at: datetime | None,
) -> None:
    """The agreements' budgets taken, one ledger entry per basket, then the lines (pointing at their entries) and
    what each agreement pays of each."""
    used: dict[int, int] = defaultdict(int)
    for _line, parts in planned:
        for key, cents in parts:
            used[key] += cents
    for agreement in agreements:
        if used[agreement.pk]:
            # Under the garden's lock; the condition and the check constraint keep the budget whole regardless.
            moved = Agreement.objects.filter(
                pk=agreement.pk, spent_cents__lte=F("budget_cents") - used[agreement.pk]
            ).update(spent_cents=F("spent_cents") + used[agreement.pk])
            if not moved:
                raise Conflict(_("An agreement's budget changed meanwhile: generate again."))
    codes = {accounts.garden_code(garden.pk)}
    codes |= {
        accounts.member_code(garden.pk, line.household_id) for line, _p in planned if line.member_part_cents
    }
    codes |= {accounts.agreement_code(key) for key in used}
    books = accounts.accounts(territory, codes)
    specs = []
    keys: dict[str, DistributionLine] = {}
    for line, parts in planned:
        earned = line.member_part_cents + line.funded_cents
        if earned == 0:
            continue  # nobody covers any of it: nothing owed, nothing earned
        legs = [(books[accounts.agreement_code(key)], -cents) for key, cents in parts]
        if line.member_part_cents:
            legs.append((books[accounts.member_code(garden.pk, line.household_id)], -line.member_part_cents))
        legs.append((books[accounts.garden_code(garden.pk)], earned))
        entry_key = f"baskets:due:{line.subscription_id}:{line.on.isoformat()}"
        keys[entry_key] = line
        specs.append(
            EntrySpec(entry_key, "baskets.due", legs, memo=f"{garden.name} {line.on:%d/%m/%Y}", at=at)
        )
    ledger.entries_record_batch(territory=territory, specs=specs, actor=actor)
    for entry_key, entry_id in Entry.objects.filter(
        territory=territory, idempotency_key__in=list(keys)
    ).values_list("idempotency_key", "pk"):
        keys[entry_key].entry_id = entry_id
    lines = DistributionLine.objects.bulk_create([line for line, _parts in planned])
    if any(line.pk is None for line in lines):  # a database that cannot return ids from a bulk insert
        ids = dict(
            DistributionLine.objects.filter(
                subscription_id__in=[line.subscription_id for line in lines],
                on__in={line.on for line in lines},
            ).values_list("subscription_id", "pk")
        )
        for line in lines:
            line.pk = ids[line.subscription_id]
    LineFunding.objects.bulk_create(
        LineFunding(line_id=line.pk, agreement_id=key, amount_cents=cents)
        for line, (_l, parts) in zip(lines, planned, strict=True)
        for key, cents in parts
    )


def line_check(*, line: DistributionLine, collected: bool, actor: User | None) -> DistributionLine:
    """A volunteer ticks a basket as collected (or unticks a mistake) while the sheet is open."""
    with transaction.atomic():
        sheet = DistributionSheet.objects.select_for_update().get(pk=line.sheet_id)
        if sheet.closed_at is not None:
            raise Conflict(_("This sheet is closed."))
        if collected and sheet.on > timezone.localdate():
            raise Conflict(
                _("The distribution is on %(day)s: a basket can be checked off from that day.")
                % {"day": sheet.on.strftime("%d/%m/%Y")},
                errors={"on": [_("The distribution day has not come yet.")]},
            )
        locked = DistributionLine.objects.select_for_update().get(pk=line.pk)
        status = LineStatus.COLLECTED if collected else LineStatus.DUE
        if locked.status != status:
            locked.status = status
            locked.checked_at = timezone.now() if collected else None
            locked.checked_by = actor if collected else None
            locked.save(update_fields=["status", "checked_at", "checked_by"])
            audit(
                territory=sheet.pickup_point.garden.territory,
                actor=actor,
                action="baskets.line.check",
                subject=f"line:{locked.pk}",
                collected=collected,
            )
    return locked


def sheet_close(*, sheet: DistributionSheet, actor: User | None) -> DistributionSheet:
    """The distribution is over: every basket not collected is recorded unclaimed. Closing twice changes nothing."""
    with transaction.atomic():
        locked = (
            DistributionSheet.objects.select_for_update()
            .select_related("pickup_point__garden")
            .get(pk=sheet.pk)
        )
        if locked.closed_at is not None:
            return locked
        if locked.on > timezone.localdate():
            raise Conflict(
                _("The distribution is on %(day)s: the sheet can be closed from that day.")
                % {"day": locked.on.strftime("%d/%m/%Y")},
                errors={"on": [_("The distribution day has not come yet.")]},
            )
        unclaimed = DistributionLine.objects.filter(sheet=locked, status=LineStatus.DUE).update(
            status=LineStatus.UNCLAIMED
        )
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        locked.save(update_fields=["closed_at", "closed_by"])
        audit(
            territory=locked.pickup_point.garden.territory,
            actor=actor,
            action="baskets.sheet.close",
            subject=f"sheet:{locked.pk}",
            unclaimed=unclaimed,
        )
    return locked


REOPEN_DAYS = 7  # a coordinator may reopen a sheet closed by mistake within this many days of its closing


def sheet_reopen(*, sheet: DistributionSheet, actor: User | None) -> DistributionSheet:
    """A coordinator reopens a sheet closed by mistake, within ``REOPEN_DAYS`` of its closing: the baskets recorded
    unclaimed are to collect again. Reopening an open sheet changes nothing."""
    with transaction.atomic():
        locked = (
            DistributionSheet.objects.select_for_update()
            .select_related("pickup_point__garden")
            .get(pk=sheet.pk)
        )
        if locked.closed_at is None:
            return locked
        if timezone.now() - locked.closed_at > timedelta(days=REOPEN_DAYS):
            raise Conflict(
                _("This sheet was closed more than %(days)s days ago: it can no longer be reopened.")
                % {"days": REOPEN_DAYS},
                errors={"closed_at": [_("Closed too long ago.")]},
            )
        reopened = DistributionLine.objects.filter(sheet=locked, status=LineStatus.UNCLAIMED).update(
            status=LineStatus.DUE
        )
        locked.closed_at = None
        locked.closed_by = None
        locked.save(update_fields=["closed_at", "closed_by"])
        audit(
            territory=locked.pickup_point.garden.territory,
            actor=actor,
            action="baskets.sheet.reopen",
            subject=f"sheet:{locked.pk}",
            reopened=reopened,
        )
    return locked


# --- members' payments --------------------------------------------------------------------------------------------


def member_payment_record(
    *,
    garden: Garden,
    household: Household,
    amount_cents: int,
    method: PaymentMethod,
    idempotency_key: str,
    actor: User | None,
    reference: str = "",
    code: str | None = None,
) -> MemberPayment:
    """A household pays member parts: cash, cheque or transfer (with its reference), or food credit at the
    garden's store when it is an approved point of sale (through ``fund.services.pay``, the personal code rules
    included). The same key again returns the first payment."""
    territory = garden.territory
    request = {
        "household": household,
        "amount_cents": amount_cents,
        "method": method,
        "reference": reference.strip(),
    }
    found = MemberPayment.objects.filter(garden=garden, idempotency_key=idempotency_key).first()
    if found is not None:
        return replayed(found, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        errors["amount_cents"] = [_("A positive number of cents.")]
    if method not in PaymentMethod.values:
        errors["method"] = [_("Cash, cheque, transfer or food credit.")]
    if method in (PaymentMethod.CHEQUE, PaymentMethod.TRANSFER) and not reference.strip():
        errors["reference"] = [_("The cheque number or the transfer's reference.")]
    if household.territory_id != territory.pk:
        errors["household"] = [_("Not a household of this territory.")]
    if errors:
        raise InvalidInput(_("The payment could not be recorded."), errors=errors)
    if method == PaymentMethod.CREDIT and (garden.store is None or not garden.store.is_approved):
        raise Forbidden(_("This garden is not an approved point of sale: it cannot take food credit."))
    try:
        with transaction.atomic():
            fund_payment = None
            if method == PaymentMethod.CREDIT:
                assert garden.store is not None  # noqa: S101 - checked above
                fund_payment = fund_services.pay(
                    store=garden.store,
                    card=household.card_number,
                    total_cents=amount_cents,
                    idempotency_key=f"baskets:{garden.pk}:{idempotency_key}"[:100],
                    actor=actor,
                    code=code,
                ).payment
            outside = accounts.FOOD_CREDIT_IN if method == PaymentMethod.CREDIT else accounts.PAYMENTS_IN
            entry = ledger.entry_record(
                territory=territory,
                idempotency_key=f"baskets:payment:{garden.pk}:{idempotency_key}",
                kind="baskets.payment",
                legs=[
                    (accounts.account(territory, outside), -amount_cents),
                    (
                        accounts.account(territory, accounts.member_code(garden.pk, household.pk)),
                        amount_cents,
                    ),
                ],
                memo=f"{method} {reference}".strip(),
                actor=actor,
            ).entry
            payment = MemberPayment.objects.create(
                garden=garden,
                household=household,
                amount_cents=amount_cents,
                method=method,
                reference=reference.strip()[:100],
                fund_payment=fund_payment,
                entry=entry,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
                recorded_by=actor,
            )
            audit(
                territory=territory,
                actor=actor,
                action="baskets.payment",
                subject=f"household:{household.pk}",
                amount_cents=amount_cents,
                method=str(method),
            )
    except IntegrityError:
        won = MemberPayment.objects.filter(garden=garden, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return payment


# --- funders' payments --------------------------------------------------------------------------------------------


def funder_payment_record(
    *,
    funder: Funder,
    start: date,
    end: date,
    amount_cents: int,
    idempotency_key: str,
    actor: User | None,
    reference: str = "",
    received_on: date | None = None,
    agreement: Agreement | None = None,
) -> FunderPayment:
    """A funder paid ``amount_cents`` for the baskets from ``start`` to ``end``: never more than its agreements
    (or the one ``agreement``) have left to pay for that period (``selectors.funder_dues``); split among them by
    garden and priority, each up to what it has left. One ledger entry from ``external:baskets-funders`` to the
    agreements' accounts. The same key again returns the first payment."""
    territory = funder.territory
    request = {
        "start": start,
        "end": end,
        "amount_cents": amount_cents,
        "reference": reference.strip(),
        "received_on": received_on,
        "agreement": agreement,
    }
    found = FunderPayment.objects.filter(funder=funder, idempotency_key=idempotency_key).first()
    if found is not None:
        return replayed(found, key=idempotency_key, **request)
    today = timezone.localdate()
    received_on = received_on or today
    errors: dict[str, list[str]] = {}
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        errors["amount_cents"] = [_("A positive number of cents.")]
    _period_errors(start, end, start_field="start", end_field="end", errors=errors, max_days=None)
    if received_on > today:
        errors["received_on"] = [_("A payment is recorded once received.")]
    if agreement is not None and agreement.funder_id != funder.pk:
        errors["agreement"] = [_("Not an agreement of this funder.")]
    _raise(errors, _("The payment could not be recorded."))
    try:
        with transaction.atomic():
            # One payment of a funder at a time: two payments must not both see the same amount left to pay.
            Funder.objects.select_for_update().filter(pk=funder.pk).first()
            found = FunderPayment.objects.filter(funder=funder, idempotency_key=idempotency_key).first()
            if found is not None:
                return replayed(found, key=idempotency_key, **request)
            dues = [
                d
                for d in selectors.funder_dues(funder, start, end)
                if agreement is None or d.agreement.pk == agreement.pk
            ]
            left = sum(d.left_cents for d in dues)
            if amount_cents > left:
                raise Conflict(
                    _("More than what is left to pay for this period."),
                    errors={"amount_cents": [_("At most %(left)s.") % {"left": format_cents(left)}]},
                )
            parts: list[tuple[Agreement, int]] = []
            rest = amount_cents
            for due in dues:
                take = min(due.left_cents, rest)
                if take > 0:
                    parts.append((due.agreement, take))
                    rest -= take
            books = accounts.accounts(
                territory, {accounts.FUNDERS_IN} | {accounts.agreement_code(a.pk) for a, _c in parts}
            )
            entry = ledger.entry_record(
                territory=territory,
                idempotency_key=f"baskets:funder-payment:{funder.pk}:{idempotency_key}"[:100],
                kind="baskets.funder_payment",
                legs=[(books[accounts.FUNDERS_IN], -amount_cents)]
                + [(books[accounts.agreement_code(a.pk)], cents) for a, cents in parts],
                memo=f"{funder.name} {start:%d/%m/%Y}-{end:%d/%m/%Y} {reference}".strip()[:200],
                actor=actor,
            ).entry
            payment = FunderPayment.objects.create(
                territory=territory,
                funder=funder,
                period_start=start,
                period_end=end,
                received_on=received_on,
                amount_cents=amount_cents,
                reference=reference.strip()[:100],
                entry=entry,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
                recorded_by=actor,
            )
            FunderPaymentPart.objects.bulk_create(
                FunderPaymentPart(payment=payment, agreement=a, amount_cents=cents) for a, cents in parts
            )
            audit(
                territory=territory,
                actor=actor,
                action="baskets.funder_payment",
                subject=f"funder:{funder.pk}",
                amount_cents=amount_cents,
                start=start.isoformat(),
                end=end.isoformat(),
                parts={str(a.pk): cents for a, cents in parts},
            )
    except IntegrityError:
        won = FunderPayment.objects.filter(funder=funder, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return payment


# --- workshops ----------------------------------------------------------------------------------------------------


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


def household_by_card(territory: Territory, card: str) -> Household:
    number = normalise_card_number(card)
    household = (
        Household.objects.filter(territory=territory, card_number=number, left_on__isnull=True).first()
        if number
        else None
    )
    if household is None:
        raise NotFound(_("No member household has this card number."))
    return household
