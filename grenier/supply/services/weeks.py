"""A week before its plan: created with the demand of the contracts' schedule, its coordinator, the kitchens'
demand and the growers' availability."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.models import Territory, User
from grenier.core.services import all_or_none, audit
from grenier.supply.models import (
    Availability,
    ContractLine,
    Demand,
    DemandSource,
    Kitchen,
    Producer,
    Product,
    SupplyWeek,
)
from grenier.supply.services.checks import (
    _day_in_week,
    _invalid,
    _locked_week,
    _quantity,
    _refuse_published,
    _reopen_if_planned,
    _same_territory,
    _subject,
)
from grenier.supply.services.reference import _contract_lines_on, contract_lines_in_force


def schedule_split(weekly_quantity: int, days: int, step: int) -> list[int]:
    """A weekly quantity over ``days`` delivery days: equal parts rounded down to ``step``, the remainder on the
    first day. ``schedule_split(30000, 2, 1000) == [15000, 15000]``, ``schedule_split(25, 2, 1) == [13, 12]``."""
    if days <= 0:
        return []
    per = (weekly_quantity // days) // step * step
    parts = [per] * days
    parts[0] += weekly_quantity - per * days
    return parts


def week_ensure(
    *, territory: Territory, monday: date, actor: User | None, coordinator: User | None = None
) -> SupplyWeek:
    """The week of ``monday``, created if absent. A new week gets the contracts' schedule as demand: each active
    contract line's ``weekly_quantity`` split over the contract's delivery weekdays (:func:`schedule_split`), on the
    days the contract covers that fall in the line's months (``ContractLine.months``, all year when empty). An existing week is returned unchanged (``coordinator`` is set only on creation)."""
    if not isinstance(monday, date) or monday.weekday() != 0:
        raise _invalid("monday", _("A week is named by its Monday."))
    existing = SupplyWeek.objects.filter(territory=territory, monday=monday).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            week = SupplyWeek.objects.create(territory=territory, monday=monday, coordinator=coordinator)
            rows = _schedule_demand(week)
            audit(
                territory=territory,
                actor=actor,
                action="supply.week.create",
                subject=_subject(week),
                monday=monday.isoformat(),
                demand_rows=rows,
            )
    except IntegrityError:
        # the same week created at the same moment by another request: that one is the week
        return SupplyWeek.objects.get(territory=territory, monday=monday)
    return week


def _schedule_demand(week: SupplyWeek) -> int:
    sunday = week.monday + timedelta(days=6)
    lines = (
        contract_lines_in_force(week.monday, sunday)
        .filter(contract__territory=week.territory, contract__kitchen__is_active=True, weekly_quantity__gt=0)
        .select_related("contract", "product")
        .order_by("contract__starts_on", "contract_id", "product_id")
    )
    wanted: dict[tuple[int, int, date], int] = defaultdict(int)
    line_of: dict[tuple[int, int, date], ContractLine] = {}
    for line in lines:
        contract = line.contract
        weekdays = sorted(set(contract.delivery_weekdays or []))
        parts = schedule_split(int(line.weekly_quantity), len(weekdays), line.product.step)
        for weekday, quantity in zip(weekdays, parts, strict=True):
            day = week.monday + timedelta(days=weekday)
            if quantity <= 0 or not contract.covers(day) or (line.months and day.month not in line.months):
                continue
            key = (contract.kitchen_id, line.product_id, day)
            wanted[key] += quantity  # two contracts for the same product and day add up
            line_of.setdefault(key, line)
    Demand.objects.bulk_create(
        Demand(
            week=week,
            kitchen_id=kitchen_id,
            product_id=product_id,
            day=day,
            quantity=quantity,
            source=DemandSource.CONTRACT,
            contract_line=line_of[kitchen_id, product_id, day],
        )
        for (kitchen_id, product_id, day), quantity in sorted(wanted.items())
    )
    return len(wanted)


def week_coordinator_set(*, week: SupplyWeek, coordinator: User | None, actor: User | None) -> SupplyWeek:
    """Who coordinates the week (the growers' rotation): that person may plan, adjust and publish it."""
    with transaction.atomic():
        locked = _locked_week(week)
        locked.coordinator = coordinator
        locked.save(update_fields=["coordinator"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="supply.week.coordinator",
            subject=_subject(locked),
            coordinator=coordinator.pk if coordinator else None,
        )
    week.coordinator = coordinator
    return locked


def demand_set(
    *,
    week: SupplyWeek,
    kitchen: Kitchen,
    product: Product,
    day: date,
    quantity: int,
    actor: User | None,
    source: str = DemandSource.KITCHEN,
) -> Demand | None:
    """What ``kitchen`` asks of ``product`` on ``day`` (base units); 0 removes the line. The product must be under
    an active contract of the kitchen covering the day. Allowed while the week is open or planned (a planned week
    goes back to open: the plan must be computed again); refused once published."""
    _quantity(quantity, planned=True)
    _same_territory(week.territory_id, kitchen=kitchen, product=product)
    _day_in_week(week, day)
    if source not in DemandSource.values:
        raise _invalid("source", _("Unknown source."))
    contract_line = _contract_lines_on(kitchen, product, day)
    if contract_line is None:
        raise _invalid(
            "product", _("This product is not under an active contract of this kitchen on that day.")
        )
    with transaction.atomic():
        locked = _locked_week(week)
        _refuse_published(locked)
        before = Demand.objects.filter(week=locked, kitchen=kitchen, product=product, day=day).first()
        previous = int(before.quantity) if before else 0
        if previous == quantity and (before is None or before.source == source):
            return before
        demand: Demand | None
        if quantity == 0:
            if before is not None:
                before.delete()
            demand = None
        else:
            demand, _created = Demand.objects.update_or_create(
                week=locked,
                kitchen=kitchen,
                product=product,
                day=day,
                defaults={"quantity": quantity, "source": source, "contract_line": contract_line},
            )
        _reopen_if_planned(locked)
        week.status = locked.status
        audit(
            territory=locked.territory,
            actor=actor,
            action="supply.demand",
            subject=_subject(locked),
            kitchen=kitchen.pk,
            product=product.pk,
            day=day.isoformat(),
            before=previous,
            after=quantity,
        )
    return demand


def _producer_active(producer: Producer, week: SupplyWeek) -> bool:
    return producer.on_platform and (producer.left_on is None or producer.left_on > week.monday)


def availability_declare(
    *,
    week: SupplyWeek,
    producer: Producer,
    product: Product,
    quantity: int,
    minimum_lot: int = 0,
    actor: User | None,
) -> Availability | None:
    """What ``producer`` expects to have of ``product`` this week and the smallest lot worth sending (base units);
    0 removes the declaration. Same state rules as :func:`demand_set`; after publication a farm that will have
    less reports a shortfall instead."""
    _quantity(quantity, planned=True)
    _quantity(minimum_lot, "minimum_lot", planned=True)
    _same_territory(week.territory_id, producer=producer, product=product)
    if quantity and minimum_lot > quantity:
        raise _invalid("minimum_lot", _("The minimum lot cannot be more than the quantity available."))
    if not producer.on_platform:
        raise _invalid("producer", _("This producer does not supply the platform."))
    if not _producer_active(producer, week):
        raise _invalid("producer", _("This farm has left the group."))
    if quantity and not product.is_active:
        raise _invalid("product", _("This product is no longer sold."))
    with transaction.atomic():
        locked = _locked_week(week)
        _refuse_published(locked)
        before = Availability.objects.filter(week=locked, producer=producer, product=product).first()
        if before is not None and (before.quantity, before.minimum_lot) == (quantity, minimum_lot):
            return before
        if before is None and quantity == 0:
            return None
        availability: Availability | None
        if quantity == 0:
            assert before is not None  # noqa: S101 - checked just above
            before.delete()
            availability = None
        else:
            availability, _created = Availability.objects.update_or_create(
                week=locked,
                producer=producer,
                product=product,
                defaults={
                    "quantity": quantity,
                    "minimum_lot": minimum_lot if quantity else 0,
                    "declared_by": actor,
                    "declared_at": timezone.now(),
                },
            )
        _reopen_if_planned(locked)
        week.status = locked.status
        audit(
            territory=locked.territory,
            actor=actor,
            action="supply.availability",
            subject=_subject(locked),
            producer=producer.pk,
            product=product.pk,
            before=int(before.quantity) if before else 0,
            after=quantity,
            minimum_lot=minimum_lot,
        )
    return availability


@dataclass(frozen=True)
class DemandItem:
    kitchen: Kitchen
    product: Product
    day: date
    quantity: int


@dataclass(frozen=True)
class AvailabilityItem:
    producer: Producer
    product: Product
    quantity: int
    minimum_lot: int = 0


def demand_set_many(*, week: SupplyWeek, items: Sequence[DemandItem], actor: User | None) -> None:
    """A kitchen's list of demand saved whole (:func:`demand_set` for each), or none of it: ``ItemsRefused`` names
    every refused item by its index. The page's table and the API's list both save through here."""
    all_or_none(
        items,
        lambda item: demand_set(
            week=week,
            kitchen=item.kitchen,
            product=item.product,
            day=item.day,
            quantity=item.quantity,
            actor=actor,
        ),
    )


def availability_declare_many(
    *, week: SupplyWeek, items: Sequence[AvailabilityItem], actor: User | None
) -> None:
    """A farm's availability saved whole (:func:`availability_declare` for each), or none of it; as
    :func:`demand_set_many`."""
    all_or_none(
        items,
        lambda item: availability_declare(
            week=week,
            producer=item.producer,
            product=item.product,
            quantity=item.quantity,
            minimum_lot=item.minimum_lot,
            actor=actor,
        ),
    )
