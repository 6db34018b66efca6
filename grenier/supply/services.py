"""Every write of the supply platform's weekly cycle and reference data. Pages, API and CLI call these.

Each service is keyword-only, runs in one transaction and leaves an audit line. Permission is the callers' job
(:mod:`grenier.supply.access`); services check the input (``InvalidInput`` with field names) and the state of the
week (``Conflict``). Quantities are integers in the product's base unit (grams for kg products).

The week's life: ``week_ensure`` (OPEN, demand from the contracts' schedule) → ``demand_set`` /
``availability_declare`` → ``plan_compute`` (PLANNED; any later change of demand or availability sends it back to
OPEN) → ``plan_line_set`` (hand adjustments) → ``plan_publish`` (PUBLISHED; ProducerWeek rows carry each farm's gap
to its share) → ``shortfall_report`` (re-plan: the most demand met, then the fewest delivery lines changed, then
the least volume moved) and ``receipt_record``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Territory, User
from grenier.core.services import audit
from grenier.supply import notifications, optimiser
from grenier.supply.models import (
    Availability,
    Contract,
    ContractLine,
    ContractStatus,
    Demand,
    DemandSource,
    Distance,
    EgalimLabel,
    InvoiceLine,
    Kitchen,
    KitchenKind,
    PlanChange,
    PlanChangeReason,
    PlanLine,
    Platform,
    Producer,
    ProducerShare,
    ProducerWeek,
    Product,
    ProductFamily,
    SalesUnit,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.quantities import format_quantity

SOLVER_TIME_LIMIT = 30.0  # seconds for one week's solve (the group's week takes well under a second)
DEFAULT_KM = 50.0  # a farm or kitchen without coordinates nor a recorded distance: a valley's typical trip


# --- small checks ------------------------------------------------------------------------------------------------


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors={field: [message]})


def _quantity(value: object, field: str = "quantity", *, planned: bool = False) -> int:
    """A quantity in base units; ``planned``: one the planner counts (demand, availability, a lot, a plan line),
    at most ``optimiser.QUANTITY_MAX``, beyond which its numbers are no longer exact."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(field, _("A quantity is a whole number of zero or more (base units)."))
    if planned and value > optimiser.QUANTITY_MAX:
        raise _invalid(
            field,
            _("The planner counts up to %(max)s base units (1,000 t in grams) in one quantity; this is more.")
            % {"max": number_format(optimiser.QUANTITY_MAX, force_grouping=True)},
        )
    return value


def _same_territory(territory_id: int, **objects: Any) -> None:
    for field, obj in objects.items():
        if obj is not None and obj.territory_id != territory_id:
            raise _invalid(field, _("This belongs to another territory."))


def _day_in_week(week: SupplyWeek, day: date) -> None:
    if not isinstance(day, date) or not week.monday <= day <= week.monday + timedelta(days=6):
        raise _invalid(
            "day", _("The day must be in the week of %(monday)s.") % {"monday": f"{week.monday:%d/%m/%Y}"}
        )


def _locked_week(week: SupplyWeek) -> SupplyWeek:
    """The week's row, locked for the transaction: every write of the cycle on one week goes one at a time (the
    race: two growers declaring while the coordinator plans)."""
    locked = SupplyWeek.objects.select_for_update().select_related("territory").get(pk=week.pk)
    # keep the caller's object current too
    for name in ("status", "planned_at", "published_at", "solver", "version", "coordinator_id"):
        setattr(week, name, getattr(locked, name))
    return locked


def _refuse_published(week: SupplyWeek) -> None:
    if week.status == WeekStatus.PUBLISHED:
        raise Conflict(
            _(
                "The plan of this week is published: report a shortfall or ask the coordinator to adjust a line."
            )
        )


def _reopen_if_planned(week: SupplyWeek) -> None:
    """Demand or availability changed after planning: the plan must be computed again before publishing."""
    if week.status == WeekStatus.PLANNED:
        week.status = WeekStatus.OPEN
        week.save(update_fields=["status"])


def _subject(obj: Any) -> str:
    return f"{obj._meta.model_name}:{obj.pk}"


def _is_invoiced(lines: Iterable[PlanLine] | PlanLine) -> bool:
    if isinstance(lines, PlanLine):
        return InvoiceLine.objects.filter(plan_line=lines).exists()
    return InvoiceLine.objects.filter(plan_line__in=list(lines)).exists()


# --- reference data -----------------------------------------------------------------------------------------------


def platform_ensure(*, territory: Territory, name: str = "", actor: User | None) -> Platform:
    """The territory's supply platform, created if absent (named after the territory unless ``name``); a given
    ``name`` renames an existing one."""
    with transaction.atomic():
        platform, created = Platform.objects.get_or_create(
            territory=territory, defaults={"name": name.strip() or territory.name}
        )
        if not created and name.strip() and platform.name != name.strip():
            platform.name = name.strip()
            platform.save(update_fields=["name"])
        if created or name.strip():
            audit(territory=territory, actor=actor, action="supply.platform", subject=_subject(platform))
    return platform


def _location(latitude: Any, longitude: Any) -> tuple[Decimal | None, Decimal | None]:
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    try:
        lat, lon = Decimal(str(latitude)), Decimal(str(longitude))
    except (InvalidOperation, ValueError):
        raise _invalid("latitude", _("Latitude and longitude are decimal degrees.")) from None
    if not (-90 <= lat <= 90):
        raise _invalid("latitude", _("A latitude is between -90 and 90."))
    if not (-180 <= lon <= 180):
        raise _invalid("longitude", _("A longitude is between -180 and 180."))
    return lat.quantize(Decimal("0.000001")), lon.quantize(Decimal("0.000001"))


def _siret(siret: str) -> str:
    siret = siret.replace(" ", "").strip()
    if siret and (len(siret) != 14 or not siret.isdigit()):
        raise _invalid("siret", _("A SIRET has 14 digits."))
    return siret


def kitchen_create(
    *,
    territory: Territory,
    name: str,
    kind: str = KitchenKind.SCHOOL,
    meals_per_day: int = 0,
    siret: str = "",
    address: str = "",
    latitude: Decimal | float | str | None = None,
    longitude: Decimal | float | str | None = None,
    managers: Sequence[User] = (),
    actor: User | None,
) -> Kitchen:
    """A collective kitchen of the territory; ``managers`` act for it (enter demand, record receipts)."""
    if not name.strip():
        raise _invalid("name", _("A kitchen needs a name."))
    if kind not in KitchenKind.values:
        raise _invalid("kind", _("Unknown kind of kitchen."))
    if isinstance(meals_per_day, bool) or not isinstance(meals_per_day, int) or meals_per_day < 0:
        raise _invalid("meals_per_day", _("A number of meals is zero or more."))
    lat, lon = _location(latitude, longitude)
    with transaction.atomic():
        if Kitchen.objects.filter(territory=territory, name=name.strip()).exists():
            raise _invalid("name", _("A kitchen of this name already exists here."))
        kitchen = Kitchen.objects.create(
            territory=territory,
            name=name.strip(),
            kind=kind,
            meals_per_day=meals_per_day,
            siret=_siret(siret),
            address=address.strip(),
            latitude=lat,
            longitude=lon,
        )
        if managers:
            kitchen.managers.add(*managers)
        audit(territory=territory, actor=actor, action="supply.kitchen.create", subject=_subject(kitchen))
    return kitchen


def producer_create(
    *,
    territory: Territory,
    farm_name: str,
    legal_name: str = "",
    siret: str = "",
    address: str = "",
    latitude: Decimal | float | str | None = None,
    longitude: Decimal | float | str | None = None,
    certifications: Sequence[str] = (),
    certifier: str = "",
    users: Sequence[User] = (),
    admitted_on: date | None = None,
    actor: User | None,
) -> Producer:
    """A farm joins the group; ``users`` are its people (they declare availability, read its lines)."""
    if not farm_name.strip():
        raise _invalid("farm_name", _("A farm needs a name."))
    unknown = [c for c in certifications if c not in EgalimLabel.values]
    if unknown:
        raise _invalid("certifications", _("Unknown label: %(labels)s.") % {"labels": ", ".join(unknown)})
    lat, lon = _location(latitude, longitude)
    with transaction.atomic():
        if Producer.objects.filter(territory=territory, farm_name=farm_name.strip()).exists():
            raise _invalid("farm_name", _("A farm of this name already exists here."))
        producer = Producer.objects.create(
            territory=territory,
            farm_name=farm_name.strip(),
            legal_name=legal_name.strip(),
            siret=_siret(siret),
            address=address.strip(),
            latitude=lat,
            longitude=lon,
            certifications=list(dict.fromkeys(certifications)),
            certifier=certifier.strip(),
            admitted_on=admitted_on or timezone.localdate(),
        )
        if users:
            producer.users.add(*users)
        audit(territory=territory, actor=actor, action="supply.producer.create", subject=_subject(producer))
    return producer


def producer_person_add(*, producer: Producer, user: User, actor: User | None, decided_by: str = "") -> bool:
    """``user`` becomes one of the farm's people (declares its availability, reads its lines). Audited once:
    adding someone already there changes nothing and returns False. ``decided_by`` names the decision behind it,
    if any (a governance vote)."""
    with transaction.atomic():
        locked = Producer.objects.select_for_update().select_related("territory").get(pk=producer.pk)
        if locked.users.filter(pk=user.pk).exists():
            return False
        locked.users.add(user)
        audit(
            territory=locked.territory,
            actor=actor,
            action="supply.producer.person",
            subject=_subject(locked),
            user=user.pk,
            **({"decided_by": decided_by} if decided_by else {}),
        )
    return True


def producer_leave(*, producer: Producer, on: date | None = None, actor: User | None) -> Producer:
    """A farm leaves the group from ``on`` (today by default): no more availability nor shares from then on. Its
    history (lines, invoices) stays."""
    with transaction.atomic():
        locked = Producer.objects.select_for_update().get(pk=producer.pk)
        locked.left_on = on or timezone.localdate()
        locked.save(update_fields=["left_on"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="supply.producer.leave",
            subject=_subject(locked),
            on=locked.left_on.isoformat(),
        )
    producer.left_on = locked.left_on
    return locked


def product_create(
    *,
    territory: Territory,
    name: str,
    unit: str = SalesUnit.KG,
    family: str = ProductFamily.FRUITS_LEGUMES,
    egalim_labels: Sequence[str] = (),
    grams_per_unit: int | None = None,
    step: int | None = None,
    actor: User | None,
) -> Product:
    """A product the group sells. ``step`` (base units) is what planned quantities are multiples of: whole kg
    (1000 g) by default for kg products, 1 for pieces and bunches. ``grams_per_unit`` weighs a piece or bunch for
    shares (ignored for kg)."""
    if not name.strip():
        raise _invalid("name", _("A product needs a name."))
    if unit not in SalesUnit.values:
        raise _invalid("unit", _("Unknown unit."))
    if family not in ProductFamily.values:
        raise _invalid("family", _("Unknown product family."))
    unknown = [c for c in egalim_labels if c not in EgalimLabel.values]
    if unknown:
        raise _invalid("egalim_labels", _("Unknown label: %(labels)s.") % {"labels": ", ".join(unknown)})
    if step is None:
        step = 1000 if unit == SalesUnit.KG else 1
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise _invalid("step", _("The planning step is a whole number of base units, at least 1."))
    if grams_per_unit is None:
        grams_per_unit = 1000
    if isinstance(grams_per_unit, bool) or not isinstance(grams_per_unit, int) or grams_per_unit < 1:
        raise _invalid("grams_per_unit", _("A weight is a whole number of grams, at least 1."))
    with transaction.atomic():
        if Product.objects.filter(territory=territory, name=name.strip()).exists():
            raise _invalid("name", _("A product of this name already exists here."))
        product = Product.objects.create(
            territory=territory,
            name=name.strip(),
            unit=unit,
            family=family,
            egalim_labels=list(dict.fromkeys(egalim_labels)),
            grams_per_unit=grams_per_unit,
            step=step,
        )
        audit(territory=territory, actor=actor, action="supply.product.create", subject=_subject(product))
    return product


def contract_create(
    *,
    territory: Territory,
    kitchen: Kitchen,
    title: str,
    starts_on: date,
    ends_on: date,
    delivery_weekdays: Sequence[int],
    tender_lot: str = "",
    producers: Sequence[Producer] = (),
    status: str = ContractStatus.ACTIVE,
    actor: User | None,
) -> Contract:
    """A contract between a kitchen and the group (or the named ``producers``). Its lines come with
    :func:`contract_line_set`. Active by default: a signed contract is recorded when it is signed."""
    _same_territory(territory.pk, kitchen=kitchen)
    if not title.strip():
        raise _invalid("title", _("A contract needs a title."))
    if ends_on < starts_on:
        raise _invalid("ends_on", _("A contract ends after it starts."))
    days = sorted(set(delivery_weekdays))
    if not days or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise _invalid("delivery_weekdays", _("Choose at least one delivery day (0 = Monday … 6 = Sunday)."))
    if status not in ContractStatus.values:
        raise _invalid("status", _("Unknown status."))
    for producer in producers:
        _same_territory(territory.pk, producers=producer)
    with transaction.atomic():
        contract = Contract.objects.create(
            territory=territory,
            kitchen=kitchen,
            title=title.strip(),
            tender_lot=tender_lot.strip(),
            starts_on=starts_on,
            ends_on=ends_on,
            delivery_weekdays=days,
            status=status,
        )
        if producers:
            contract.producers.add(*producers)
        audit(territory=territory, actor=actor, action="supply.contract.create", subject=_subject(contract))
    return contract


def _cents(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(field, _("A price part is a whole number of cents, zero or more."))
    return value


def contract_line_set(
    *,
    contract: Contract,
    product: Product,
    cost_cents: int,
    margin_cents: int,
    service_fee_cents: int,
    levy_cents: int,
    weekly_quantity: int = 0,
    minimum_quantity: int = 0,
    maximum_quantity: int | None = None,
    months: Sequence[int] = (),
    actor: User | None,
) -> ContractLine:
    """A product under ``contract`` (created or replaced): the unit price as its four parts (cents per sales unit),
    the weekly schedule and the period's minimum and maximum (base units). ``months`` (1 to 12) is the line's
    seasonal calendar, as a tender lot has: the weekly quantity is scheduled in those months only (all year when
    empty)."""
    _same_territory(contract.territory_id, product=product)
    parts = {
        "cost_cents": _cents(cost_cents, "cost_cents"),
        "margin_cents": _cents(margin_cents, "margin_cents"),
        "service_fee_cents": _cents(service_fee_cents, "service_fee_cents"),
        "levy_cents": _cents(levy_cents, "levy_cents"),
    }
    if sum(parts.values()) <= 0:
        raise _invalid("cost_cents", _("The unit price cannot be zero."))
    _quantity(weekly_quantity, "weekly_quantity", planned=True)
    _quantity(minimum_quantity, "minimum_quantity")
    if maximum_quantity is not None:
        _quantity(maximum_quantity, "maximum_quantity")
        if maximum_quantity < minimum_quantity:
            raise _invalid("maximum_quantity", _("The maximum cannot be below the minimum."))
    if any(isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 12 for m in months):
        raise _invalid("months", _("Months are numbered 1 (January) to 12 (December)."))
    calendar = sorted(set(months))
    with transaction.atomic():
        line, _created = ContractLine.objects.update_or_create(
            contract=contract,
            product=product,
            defaults={
                **parts,
                "weekly_quantity": weekly_quantity,
                "minimum_quantity": minimum_quantity,
                "maximum_quantity": maximum_quantity,
                "months": [] if len(calendar) == 12 else calendar,
            },
        )
        audit(
            territory=contract.territory,
            actor=actor,
            action="supply.contract.line",
            subject=_subject(contract),
            product=product.pk,
            weekly_quantity=weekly_quantity,
            unit_price_cents=sum(parts.values()),
            months=calendar,
        )
    return line


def share_set(*, producer: Producer, share_bp: int, valid_from: date, actor: User | None) -> ProducerShare:
    """The producer's agreed share of the group's volume from ``valid_from`` on, in basis points (100 = 1 %).
    Shares in force on a week are normalised over the farms that have one, so they need not sum to 10 000."""
    if isinstance(share_bp, bool) or not isinstance(share_bp, int) or not 0 <= share_bp <= 10000:
        raise _invalid("share_bp", _("A share is between 0 and 10 000 basis points (100 %)."))
    with transaction.atomic():
        share, _created = ProducerShare.objects.update_or_create(
            producer=producer, valid_from=valid_from, defaults={"share_bp": share_bp}
        )
        audit(
            territory=producer.territory,
            actor=actor,
            action="supply.share",
            subject=_subject(producer),
            share_bp=share_bp,
            valid_from=valid_from.isoformat(),
        )
    return share


def distance_set(
    *, producer: Producer, kitchen: Kitchen, km: Decimal | float | int | str, actor: User | None
) -> Distance:
    """The road distance from a farm to a kitchen (km, one decimal); else the planner uses the great circle."""
    _same_territory(producer.territory_id, kitchen=kitchen)
    try:
        value = Decimal(str(km).replace(",", ".")).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise _invalid("km", _("A distance is a number of km.")) from None
    if not value.is_finite() or value < 0 or value >= 100_000:
        raise _invalid("km", _("A distance is a number of km, zero or more."))
    with transaction.atomic():
        distance, _created = Distance.objects.update_or_create(
            producer=producer, kitchen=kitchen, defaults={"km": value}
        )
        audit(
            territory=producer.territory,
            actor=actor,
            action="supply.distance",
            subject=_subject(producer),
            kitchen=kitchen.pk,
            km=str(value),
        )
    return distance


# --- the week, demand, availability -------------------------------------------------------------------------------


def contract_lines_in_force(start: date, end: date | None = None) -> QuerySet[ContractLine]:
    """The lines of the active contracts that run on some day from ``start`` to ``end`` (``start`` alone: that
    day). Callers narrow them to a territory, a kitchen or a product."""
    return ContractLine.objects.filter(
        contract__status=ContractStatus.ACTIVE,
        contract__starts_on__lte=end or start,
        contract__ends_on__gte=start,
    )


def _contract_lines_on(kitchen: Kitchen, product: Product, day: date) -> ContractLine | None:
    """The line of ``kitchen``'s active contract covering ``day`` for ``product`` (the earliest contract first)."""
    return (
        contract_lines_in_force(day)
        .filter(contract__kitchen=kitchen, product=product)
        .select_related("contract", "product")
        .order_by("contract__starts_on", "contract_id")
        .first()
    )


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


# --- planning -----------------------------------------------------------------------------------------------------


def shares_in_force(territory: Territory, monday: date, also: Iterable[int] = ()) -> dict[int, Fraction]:
    """Each farm's agreed share on ``monday``, normalised to sum to 1: the latest ``ProducerShare`` from that day
    or before, of the farms still in the group with a share above zero. Farms in ``also`` (those that declared
    something) get 0 if they have no share. Without any share at all, the farms in ``also`` share equally."""
    latest: dict[int, int] = {}
    rows = (
        ProducerShare.objects.filter(producer__territory=territory, valid_from__lte=monday)
        .filter(Q(producer__left_on__isnull=True) | Q(producer__left_on__gt=monday))
        .order_by("producer_id", "-valid_from")
        .values_list("producer_id", "share_bp")
    )
    for producer_id, share_bp in rows:
        latest.setdefault(producer_id, share_bp)
    positive = {p: bp for p, bp in latest.items() if bp > 0}
    total = sum(positive.values())
    shares: dict[int, Fraction] = {p: Fraction(bp, total) for p, bp in positive.items()}
    extra = [p for p in also if p not in shares]
    if not shares and extra:
        return {p: Fraction(1, len(set(extra))) for p in set(extra)}
    for p in extra:
        shares[p] = Fraction(0)
    return shares


def _carried_gaps(territory: Territory, monday: date, producer_ids: Iterable[int]) -> dict[int, float]:
    """Each farm's gap after its latest published week before ``monday`` (0 if none)."""
    gaps: dict[int, float] = {}
    rows = (
        ProducerWeek.objects.filter(
            week__territory=territory,
            week__status=WeekStatus.PUBLISHED,
            week__monday__lt=monday,
            producer_id__in=list(producer_ids),
        )
        .order_by("producer_id", "-week__monday")
        .values_list("producer_id", "gap_after")
    )
    for producer_id, gap in rows:
        gaps.setdefault(producer_id, gap)
    return gaps


def week_shares(
    week: SupplyWeek, declared: Iterable[int] | None = None
) -> tuple[dict[int, Fraction], dict[int, float]]:
    """The shares and carried gaps the planner uses for ``week``: each farm's share in force on its Monday
    (``shares_in_force``, the farms that ``declared`` something this week included, by default those with a
    declaration above zero) and the gap each of them carries from its latest published week before."""
    if declared is None:
        declared = Availability.objects.filter(week=week, quantity__gt=0).values_list(
            "producer_id", flat=True
        )
    shares = shares_in_force(week.territory, week.monday, set(declared))
    return shares, _carried_gaps(week.territory, week.monday, shares)


def _location_of(obj: Producer | Kitchen) -> optimiser.Location | None:
    if obj.latitude is None or obj.longitude is None:
        return None
    return optimiser.Location(float(obj.latitude), float(obj.longitude))


def km_between(
    producer: Producer, kitchen: Kitchen, recorded: dict[tuple[int, int], float] | None = None
) -> float:
    """The distance the planner uses: the recorded road distance, else the great circle between the coordinates,
    else ``DEFAULT_KM``."""
    if recorded is not None and (producer.pk, kitchen.pk) in recorded:
        return recorded[producer.pk, kitchen.pk]
    if recorded is None:
        row = Distance.objects.filter(producer=producer, kitchen=kitchen).first()
        if row is not None:
            return float(row.km)
    a, b = _location_of(producer), _location_of(kitchen)
    if a is None or b is None:
        return DEFAULT_KM
    return a.km_to(b)


@dataclass
class Problem:
    """A week read from the database as the optimiser's input, with the rows behind its string ids."""

    week: optimiser.Week
    producers: dict[str, Producer]
    kitchens: dict[str, Kitchen]
    products: dict[str, Product]
    shares: dict[int, Fraction]
    gaps: dict[int, float]


def named_farms(contract_ids: Iterable[int]) -> dict[int, set[int]]:
    """The farms each contract names (a contract that names none is absent: the whole group serves it)."""
    out: dict[int, set[int]] = defaultdict(set)
    for contract_id, producer_id in Contract.producers.through.objects.filter(
        contract_id__in=list(contract_ids)
    ).values_list("contract_id", "producer_id"):
        out[contract_id].add(producer_id)
    return dict(out)


def week_problem(week: SupplyWeek) -> Problem:
    """The optimiser's ``Week`` for ``week``: its demand and availability, the farms with a share in force or a
    declaration, their carried gaps and the distances to the kitchens. Ids are the rows' primary keys as strings,
    days ISO dates."""
    demand = list(
        Demand.objects.filter(week=week, quantity__gt=0).select_related("kitchen", "product", "contract_line")
    )
    supply = list(
        Availability.objects.filter(week=week, quantity__gt=0).select_related("producer", "product")
    )
    shares, gaps = week_shares(week, {a.producer_id for a in supply})
    producer_rows = {p.pk: p for p in Producer.objects.filter(pk__in=list(shares))}
    named = named_farms({d.contract_line.contract_id for d in demand if d.contract_line is not None})

    def allowed(d: Demand) -> frozenset[str] | None:
        """The farms that may serve ``d``: those its contract names (that take part this week), or any."""
        farms = named.get(d.contract_line.contract_id) if d.contract_line is not None else None
        return None if not farms else frozenset(str(p) for p in farms if p in producer_rows)

    kitchen_rows = {d.kitchen_id: d.kitchen for d in demand}
    product_rows = {d.product_id: d.product for d in demand} | {a.product_id: a.product for a in supply}
    recorded = {
        (producer_id, kitchen_id): float(km)
        for producer_id, kitchen_id, km in Distance.objects.filter(
            producer_id__in=list(producer_rows), kitchen_id__in=list(kitchen_rows)
        ).values_list("producer_id", "kitchen_id", "km")
    }
    distances = {
        (str(p.pk), str(k.pk)): km_between(p, k, recorded)
        for p in producer_rows.values()
        for k in kitchen_rows.values()
    }
    problem = optimiser.Week(
        kitchens=[optimiser.Kitchen(str(k.pk), _location_of(k)) for k in kitchen_rows.values()],
        producers=[optimiser.Producer(str(p.pk), _location_of(p)) for p in producer_rows.values()],
        products=[
            optimiser.Product(str(g.pk), g.unit, share_factor=g.share_factor, step=g.step)
            for g in product_rows.values()
        ],
        demand=[
            optimiser.DemandLine(
                str(d.kitchen_id), str(d.product_id), d.day.isoformat(), int(d.quantity), allowed(d)
            )
            for d in demand
        ],
        supply=[
            optimiser.Supply(str(a.producer_id), str(a.product_id), int(a.quantity), int(a.minimum_lot))
            for a in supply
        ],
        shares={str(p): s for p, s in shares.items()},
        gaps={str(p): g for p, g in gaps.items() if p in producer_rows},
        distances=distances,
    )
    return Problem(
        week=problem,
        producers={str(k): v for k, v in producer_rows.items()},
        kitchens={str(k): v for k, v in kitchen_rows.items()},
        products={str(k): v for k, v in product_rows.items()},
        shares=shares,
        gaps=gaps,
    )


def _explanations(problem: Problem, plan: optimiser.Plan) -> list[dict[str, Any]]:
    """Each demand line left short, with its reason code and the numbers to word it: the product's total declared
    and asked (all kitchens and days), what was declared but not planned, and the minimum lots of farms left out."""
    declared: dict[str, int] = defaultdict(int)
    lots: dict[str, list[dict[str, int]]] = defaultdict(list)
    used: dict[tuple[str, str], int] = defaultdict(int)
    for line in plan.lines:
        used[line.producer, line.product] += line.quantity
    for s in problem.week.supply:
        declared[s.product] += s.available
        if s.minimum_lot and not used[s.producer, s.product]:
            lots[s.product].append({"producer": int(s.producer), "minimum_lot": s.minimum_lot})
    asked: dict[str, int] = defaultdict(int)
    for d in problem.week.demand:
        asked[d.product] += d.quantity
    planned: dict[str, int] = defaultdict(int)
    for (_p, g), q in used.items():
        planned[g] += q
    named = {(d.kitchen, d.product, d.day): d.producers for d in problem.week.demand}
    return [
        {
            "kitchen": int(r.kitchen),
            "product": int(r.product),
            "day": r.day,
            "demand": r.demand,
            "supplied": r.supplied,
            "unmet": r.unmet,
            "reason_code": r.reason_code,
            "numbers": {
                "declared": declared[r.product],
                "asked": asked[r.product],
                "left": declared[r.product] - planned[r.product],
                "lots": lots[r.product],
                "farms": sorted(int(p) for p in named.get((r.kitchen, r.product, r.day)) or ()),
            },
        }
        for r in plan.demand_lines
        if r.unmet > 0
    ]


def _figures(problem: Problem, plan: optimiser.Plan, kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "status": plan.status,
        "proven_optimal": plan.proven_optimal,
        "mip_gap": plan.mip_gap,
        "seconds": round(plan.seconds, 3),
        "objective": plan.objective,
        "demand_total": plan.demand_total,
        "supplied_total": plan.supplied_total,
        "total_distance": plan.total_distance,
        "explanations": _explanations(problem, plan),
        "stages": [
            {
                "name": st.name,
                "objective": st.objective,
                "bound": st.bound if math.isfinite(st.bound) else None,
                "gap": st.gap,
                "proven": st.proven,
                "seconds": round(st.seconds, 3),
            }
            for st in plan.stages
        ],
        "producers": [
            {
                "producer": int(r.producer),
                "share": r.share,
                "supplied": r.supplied,
                "target": r.target,
                "new_gap": r.new_gap,
            }
            for r in plan.producers
        ],
        "at": timezone.now().isoformat(),
    }


def _solve(problem: Problem, run: Any) -> Any:
    try:
        return run()
    except RuntimeError as exc:
        raise Conflict(_("The solver could not find a plan in time: %(why)s") % {"why": exc}) from exc
    except ValueError as exc:  # the database let through something the optimiser refuses
        raise InvalidInput(_("The week cannot be planned: %(why)s") % {"why": exc}) from exc


def _contract_line_map(week: SupplyWeek) -> dict[tuple[int, int, date], int | None]:
    return {
        (k, g, d): line_id
        for k, g, d, line_id in Demand.objects.filter(week=week).values_list(
            "kitchen_id", "product_id", "day", "contract_line_id"
        )
    }


def _contract_line_id(
    known: dict[tuple[int, int, date], int | None], kitchen: Kitchen, product: Product, day: date
) -> int | None:
    line_id = known.get((kitchen.pk, product.pk, day))
    if line_id is None:
        found = _contract_lines_on(kitchen, product, day)
        line_id = found.pk if found else None
    return line_id


def plan_compute(*, week: SupplyWeek, actor: User | None) -> optimiser.Plan:
    """Solve the week (HiGHS, proven optimum within the time limit) and replace its plan lines. The solve's
    figures and the reason of every unmet demand line go to ``week.solver``. The week becomes PLANNED; a published
    week is refused (a shortfall re-plans it)."""
    with transaction.atomic():
        locked = _locked_week(week)
        _refuse_published(locked)
        problem = week_problem(locked)
        plan: optimiser.Plan = _solve(
            problem, lambda: optimiser.solve(problem.week, time_limit=SOLVER_TIME_LIMIT)
        )
        PlanLine.objects.filter(week=locked).delete()
        known = _contract_line_map(locked)
        new_lines = []
        for x in plan.lines:
            kitchen, product = problem.kitchens[x.kitchen], problem.products[x.product]
            day = date.fromisoformat(x.day)
            new_lines.append(
                PlanLine(
                    week=locked,
                    producer=problem.producers[x.producer],
                    kitchen=kitchen,
                    product=product,
                    day=day,
                    quantity=x.quantity,
                    solver_quantity=x.quantity,
                    contract_line_id=_contract_line_id(known, kitchen, product, day),
                )
            )
        PlanLine.objects.bulk_create(new_lines)
        locked.solver = _figures(problem, plan, "plan")
        locked.status = WeekStatus.PLANNED
        locked.planned_at = timezone.now()
        locked.version += 1
        locked.save(update_fields=["solver", "status", "planned_at", "version"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="supply.plan.compute",
            subject=_subject(locked),
            status=plan.status,
            lines=len(new_lines),
            demand_total=plan.demand_total,
            supplied_total=plan.supplied_total,
        )
    _copy_week(locked, week)
    return plan


def _copy_week(source: SupplyWeek, target: SupplyWeek) -> None:
    if source is not target:
        for name in ("status", "planned_at", "published_at", "solver", "version"):
            setattr(target, name, getattr(source, name))


def _write_line(
    week: SupplyWeek,
    line: PlanLine | None,
    *,
    producer: Producer,
    kitchen: Kitchen,
    product: Product,
    day: date,
    quantity: int,
    known: dict[tuple[int, int, date], int | None],
    adjusted: bool | None = None,
    solver_quantity: int | None = None,
) -> PlanLine | None:
    """Set a plan line to ``quantity``: created, changed, or removed at 0 (kept at 0 when a receipt is on it)."""
    if line is None:
        if quantity == 0:
            return None
        return PlanLine.objects.create(
            week=week,
            producer=producer,
            kitchen=kitchen,
            product=product,
            day=day,
            quantity=quantity,
            solver_quantity=solver_quantity or 0,
            adjusted=bool(adjusted),
            contract_line_id=_contract_line_id(known, kitchen, product, day),
        )
    if quantity == 0 and line.received_quantity is None:
        line.delete()
        return None
    line.quantity = quantity
    fields = ["quantity"]
    if adjusted is not None:
        line.adjusted = adjusted
        fields.append("adjusted")
    if solver_quantity is not None:
        line.solver_quantity = solver_quantity
        fields.append("solver_quantity")
    line.save(update_fields=fields)
    return line


def plan_line_set(
    *,
    week: SupplyWeek,
    producer: Producer,
    kitchen: Kitchen,
    product: Product,
    day: date,
    quantity: int,
    actor: User | None,
) -> PlanLine | None:
    """The coordinator of the week sets a line by hand (0 removes it). Refused when the farm would send more of
    the product than it declared, or less than its minimum lot (yet something), or when the kitchen would get more
    than it asked that day. On a published week the change is recorded (PlanChange) and the farm and kitchen are
    told; the farms' gaps are recomputed."""
    _quantity(quantity, planned=True)
    _same_territory(week.territory_id, producer=producer, kitchen=kitchen, product=product)
    _day_in_week(week, day)
    with transaction.atomic():
        locked = _locked_week(week)
        if locked.status == WeekStatus.OPEN:
            raise Conflict(_("Compute the plan before adjusting it."))
        line = (
            PlanLine.objects.select_for_update()
            .filter(week=locked, producer=producer, kitchen=kitchen, product=product, day=day)
            .first()
        )
        before = int(line.quantity) if line else 0
        if before == quantity:
            return line
        if line is not None and _is_invoiced(line):
            raise Conflict(_("This line is already invoiced: correct it with a credit note."))
        declared = Availability.objects.filter(week=locked, producer=producer, product=product).first()
        line_pk = line.pk if line is not None else 0
        others = PlanLine.objects.filter(week=locked, producer=producer, product=product).exclude(pk=line_pk)
        total = sum(int(q) for q in others.values_list("quantity", flat=True)) + quantity
        available = int(declared.quantity) if declared else 0
        if total > available:
            raise _invalid(
                "quantity",
                _("The farm declared %(available)s of this product; its lines would total %(total)s.")
                % {
                    "available": format_quantity(available, product),
                    "total": format_quantity(total, product),
                },
            )
        lot = int(declared.minimum_lot) if declared else 0
        if 0 < total < lot:
            raise _invalid(
                "quantity",
                _("Below the farm's minimum lot (%(lot)s): its lines would total %(total)s.")
                % {"lot": format_quantity(lot, product), "total": format_quantity(total, product)},
            )
        asked = (
            Demand.objects.filter(week=locked, kitchen=kitchen, product=product, day=day)
            .select_related("contract_line")
            .first()
        )
        if quantity and asked is not None and asked.contract_line is not None:
            contract_id = asked.contract_line.contract_id
            farms = named_farms([contract_id]).get(contract_id)
            if farms and producer.pk not in farms:
                names = sorted(Producer.objects.filter(pk__in=farms).values_list("farm_name", flat=True))
                raise _invalid(
                    "producer",
                    _("The kitchen's contract names the farms that deliver it: %(farms)s.")
                    % {"farms": ", ".join(names)},
                )
        received = sum(
            int(q)
            for q in PlanLine.objects.filter(week=locked, kitchen=kitchen, product=product, day=day)
            .exclude(pk=line_pk)
            .values_list("quantity", flat=True)
        )
        wanted = int(asked.quantity) if asked else 0
        if received + quantity > wanted:
            raise _invalid(
                "quantity",
                _("The kitchen asked %(wanted)s that day; it would receive %(total)s.")
                % {
                    "wanted": format_quantity(wanted, product),
                    "total": format_quantity(received + quantity, product),
                },
            )
        result = _write_line(
            locked,
            line,
            producer=producer,
            kitchen=kitchen,
            product=product,
            day=day,
            quantity=quantity,
            known=_contract_line_map(locked),
            adjusted=True,
        )
        locked.version += 1
        locked.save(update_fields=["version"])
        if locked.status == WeekStatus.PUBLISHED:
            change = PlanChange.objects.create(
                week=locked,
                producer=producer,
                kitchen=kitchen,
                product=product,
                day=day,
                before=before,
                after=quantity,
                reason=PlanChangeReason.ADJUSTED,
                actor=actor,
            )
            _producer_weeks_recompute(locked.territory, locked.monday)
            notifications.lines_changed(locked, [change])
        audit(
            territory=locked.territory,
            actor=actor,
            action="supply.plan.adjust",
            subject=_subject(locked),
            producer=producer.pk,
            kitchen=kitchen.pk,
            product=product.pk,
            day=day.isoformat(),
            before=before,
            after=quantity,
        )
    _copy_week(locked, week)
    return result


def _volumes(week: SupplyWeek) -> dict[int, int]:
    """Each farm's volume in the week's lines, in grams-equivalent (``Product.share_factor``)."""
    volumes: dict[int, int] = defaultdict(int)
    for line in PlanLine.objects.filter(week=week).select_related("product"):
        volumes[line.producer_id] += int(line.quantity) * line.product.share_factor
    return volumes


def _producer_weeks_recompute(territory: Territory, from_monday: date) -> None:
    """The ProducerWeek rows of every published week from ``from_monday`` on, in order: each farm's share (as
    planned), volume and the gap carried after it (previous gap + share x group volume - volume)."""
    gaps: dict[int, float] = {}
    for producer_id, gap in (
        ProducerWeek.objects.filter(
            week__territory=territory, week__status=WeekStatus.PUBLISHED, week__monday__lt=from_monday
        )
        .order_by("week__monday")
        .values_list("producer_id", "gap_after")
    ):
        gaps[producer_id] = gap
    weeks = SupplyWeek.objects.filter(
        territory=territory, status=WeekStatus.PUBLISHED, monday__gte=from_monday
    ).order_by("monday")
    for week in weeks:
        volumes = _volumes(week)
        declared = set(Availability.objects.filter(week=week).values_list("producer_id", flat=True))
        shares = shares_in_force(territory, week.monday, declared | set(volumes))
        total = sum(volumes.values())
        keep: list[int] = []
        for producer_id in sorted(set(shares) | set(volumes)):
            share = float(shares.get(producer_id, 0))
            volume = volumes.get(producer_id, 0)
            gap = gaps.get(producer_id, 0.0) + share * total - volume
            gaps[producer_id] = gap
            ProducerWeek.objects.update_or_create(
                week=week,
                producer_id=producer_id,
                defaults={"share": share, "volume": volume, "gap_after": gap},
            )
            keep.append(producer_id)
        ProducerWeek.objects.filter(week=week).exclude(producer_id__in=keep).delete()


def plan_publish(*, week: SupplyWeek, actor: User | None) -> SupplyWeek:
    """Publish a planned week: farms and kitchens see their lines and are told by e-mail; each farm's volume and
    carried gap are recorded (ProducerWeek)."""
    with transaction.atomic():
        locked = _locked_week(week)
        if locked.status != WeekStatus.PLANNED:
            if locked.status == WeekStatus.PUBLISHED:
                raise Conflict(_("This week is already published."))
            raise Conflict(_("Compute the plan again before publishing: demand or availability changed."))
        locked.status = WeekStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.save(update_fields=["status", "published_at"])
        _producer_weeks_recompute(locked.territory, locked.monday)
        notifications.plan_published(locked)
        audit(
            territory=locked.territory,
            actor=actor,
            action="supply.plan.publish",
            subject=_subject(locked),
            version=locked.version,
        )
    _copy_week(locked, week)
    return locked


def shortfall_report(
    *,
    week: SupplyWeek,
    producer: Producer,
    product: Product,
    available: int,
    cause: str = "",
    idempotency_key: str,
    actor: User | None,
    reported_on: date | None = None,
) -> Shortfall:
    """A farm will have only ``available`` of ``product`` this published week (a crop failure). Its declaration
    is lowered and the week re-planned: the group covers as much of the demand as it can, changing as few
    delivery lines as it can (each is a delivery a farm and a kitchen must re-arrange), and among those moving as
    little volume as it can; shares and distance only then. Lines of
    days before the report's day (today; ``reported_on`` when recording history, as the demo does) stay as they
    are, like delivered and invoiced ones; a week whose delivery days are all past is refused (Conflict). Every
    changed line is recorded (PlanChange) and every farm and kitchen affected is told, with the coordinator of
    the week. The same ``idempotency_key`` again returns the first report and changes nothing."""
    today = reported_on or timezone.localdate()
    at = (
        timezone.now() if reported_on is None else timezone.make_aware(datetime.combine(reported_on, time(7)))
    )
    if not idempotency_key or len(idempotency_key) > 100:
        raise _invalid("idempotency_key", _("A key of 1 to 100 characters is required."))
    request = {"producer": producer, "product": product, "available": available, "cause": cause.strip()}
    existing = Shortfall.objects.filter(week=week, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    _quantity(available, "available", planned=True)
    _same_territory(week.territory_id, producer=producer, product=product)
    try:
        with transaction.atomic():
            locked = _locked_week(week)
            existing = Shortfall.objects.filter(week=locked, idempotency_key=idempotency_key).first()
            if existing is not None:
                return replayed(existing, key=idempotency_key, **request)
            if locked.status != WeekStatus.PUBLISHED:
                raise Conflict(_("The plan is not published yet: lower the declared availability instead."))
            declared = (
                Availability.objects.select_for_update()
                .filter(week=locked, producer=producer, product=product)
                .first()
            )
            if declared is None or declared.quantity == 0:
                raise _invalid("product", _("This farm declared none of this product this week."))
            if available >= declared.quantity:
                raise _invalid(
                    "available",
                    _("You declared %(declared)s; a shortfall is less than that.")
                    % {"declared": format_quantity(int(declared.quantity), product)},
                )
            if not _days_left(locked, today):
                raise Conflict(
                    _("Every delivery day of this week is past: a shortfall can no longer change its plan.")
                )
            shortfall = _replan(
                locked, declared, available, cause, idempotency_key, actor, today, at, fingerprint(**request)
            )
    except IntegrityError:
        # the same report raced in from another request (double submit): answer with the one that won
        won = Shortfall.objects.filter(week=week, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    _copy_week(locked, week)
    return shortfall


def _days_left(week: SupplyWeek, today: date) -> bool:
    """Whether the week has a delivery day (a day with demand or a plan line) from ``today`` on."""
    return (
        Demand.objects.filter(week=week, day__gte=today).exists()
        or PlanLine.objects.filter(week=week, day__gte=today).exists()
    )


def _fixed_lines(week: SupplyWeek, lines: Sequence[PlanLine], today: date) -> list[PlanLine]:
    """The lines a re-plan must leave exactly as they are: delivered (a receipt is recorded), invoiced, or of a
    day already past (before ``today``: the delivery happened, or not, whatever a re-plan says now)."""
    invoiced = set(
        InvoiceLine.objects.filter(plan_line__week=week, plan_line__isnull=False).values_list(
            "plan_line_id", flat=True
        )
    )
    return [x for x in lines if x.received_quantity is not None or x.pk in invoiced or x.day < today]


@dataclass
class _Held:
    """What the fixed lines hold, by the optimiser's string ids: per kitchen x product x day, per farm x product,
    per farm in volume (grams-equivalent) and in all."""

    day: dict[tuple[str, str, str], int]
    supply: dict[tuple[str, str], int]
    volume: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.volume.values())


def _held(fixed: Sequence[PlanLine]) -> _Held:
    held = _Held(defaultdict(int), defaultdict(int), defaultdict(int))
    for x in fixed:
        p, k, g, d = str(x.producer_id), str(x.kitchen_id), str(x.product_id), x.day.isoformat()
        held.day[k, g, d] += int(x.quantity)
        held.supply[p, g] += int(x.quantity)
        held.volume[p] += int(x.quantity) * x.product.share_factor
    return held


def _without_held(week: optimiser.Week, held: _Held, today: date) -> optimiser.Week:
    """The week left to plan once the fixed lines are taken out: each kitchen's demand that day and each farm's
    declaration lowered by what those lines hold (a farm's minimum lot by what it already sends of the product),
    and each farm's carried gap moved by what they count for fairness, so that fairness over the rest adds up
    to fairness over the whole week. Days before ``today`` are gone: nothing more can be sent on them."""
    demand = [
        optimiser.DemandLine(d.kitchen, d.product, d.day, rest, d.producers)
        for d in week.demand
        if d.day >= today.isoformat()
        and (rest := max(0, d.quantity - held.day.get((d.kitchen, d.product, d.day), 0))) > 0
    ]
    supply = [
        optimiser.Supply(
            s.producer,
            s.product,
            max(0, s.available - (h := held.supply.get((s.producer, s.product), 0))),
            max(0, s.minimum_lot - h) if h else s.minimum_lot,
        )
        for s in week.supply
    ]
    gaps = {
        p: float(week.gaps.get(p, 0.0)) + float(share) * held.total - held.volume.get(p, 0)
        for p, share in week.shares.items()
    }
    return optimiser.Week(
        kitchens=week.kitchens,
        producers=week.producers,
        products=week.products,
        demand=demand,
        supply=supply,
        shares=week.shares,
        gaps=gaps,
        distances=week.distances,
    )


def _with_held(
    week: optimiser.Week, plan: optimiser.Plan, fixed: Sequence[PlanLine], held: _Held
) -> optimiser.Plan:
    """The re-plan of the rest read over the whole week again (``week`` as it stands after the shortfall): the
    fixed lines back in, and every figure of the whole week — each demand line's supply and the reason of what is
    unmet, each farm's volume and target (its new gap is the same as over the rest)."""
    lines = (
        *plan.lines,
        *(
            optimiser.PlanLine(
                str(x.producer_id), str(x.kitchen_id), str(x.product_id), x.day.isoformat(), int(x.quantity)
            )
            for x in fixed
            if x.quantity > 0
        ),
    )
    return optimiser.report(
        week,
        lines,
        status=plan.status,
        proven_optimal=plan.proven_optimal,
        objective=plan.objective,
        mip_gap=plan.mip_gap,
        seconds=plan.seconds,
        stages=plan.stages,
    )


def _after_shortfall(week: optimiser.Week, producer: str, product: str, available: int) -> optimiser.Week:
    """``week`` with the farm's declaration of the product lowered to ``available`` (its lot at most that)."""
    return replace(
        week,
        supply=[
            optimiser.Supply(s.producer, s.product, available, min(s.minimum_lot, available))
            if (s.producer, s.product) == (producer, product)
            else s
            for s in week.supply
        ],
    )


def _replan(
    week: SupplyWeek,
    declared: Availability,
    available: int,
    cause: str,
    key: str,
    actor: User | None,
    today: date,
    at: datetime,
    request_fingerprint: str,
) -> Shortfall:
    """Re-plan the week after a shortfall. Lines already delivered or invoiced stay exactly as they are: they are
    taken out of the problem (``_without_held``), the rest is re-planned (the most demand met, then the fewest
    lines changed, then the least volume moved: ``optimiser.replan``), and only the rest is written back. The
    stages' figures describe that rest, the part of the week the re-plan could still change."""
    producer, product = declared.producer, declared.product
    problem = week_problem(week)
    current = list(PlanLine.objects.filter(week=week).select_related("producer", "kitchen", "product"))
    fixed = _fixed_lines(week, current, today)
    fixed_pks = {x.pk for x in fixed}
    held = _held(fixed)
    already = held.supply.get((str(producer.pk), str(product.pk)), 0)
    if available < already:
        raise _invalid(
            "available",
            _("The farm has already delivered %(already)s of this product this week.")
            % {"already": format_quantity(already, product)},
        )
    previous = optimiser.Plan(
        lines=tuple(
            optimiser.PlanLine(
                str(x.producer_id), str(x.kitchen_id), str(x.product_id), x.day.isoformat(), int(x.quantity)
            )
            for x in current
            if x.quantity > 0 and x.pk not in fixed_pks
        ),
        demand_lines=(),
        producers=(),
        status="published",
        proven_optimal=True,
        objective=0.0,
        mip_gap=0.0,
        seconds=0.0,
    )
    rest = _without_held(problem.week, held, today)
    result: optimiser.ReplanResult = _solve(
        problem,
        lambda: optimiser.replan(
            rest,
            previous,
            optimiser.Shortfall(str(producer.pk), str(product.pk), available - already),
            time_limit=SOLVER_TIME_LIMIT,
        ),
    )
    by_key = {
        (str(x.producer_id), str(x.kitchen_id), str(x.product_id), x.day.isoformat()): x for x in current
    }
    if any(
        by_key[c.producer, c.kitchen, c.product, c.day].pk in fixed_pks
        for c in result.changes
        if (c.producer, c.kitchen, c.product, c.day) in by_key
    ):
        # the rest of that day's demand went to the very farm whose line there is delivered or invoiced
        raise Conflict(
            _("This shortfall would change a line already delivered or invoiced: adjust the plan by hand.")
        )
    shortfall = Shortfall.objects.create(
        week=week,
        producer=producer,
        product=product,
        declared_before=declared.quantity,
        available=available,
        cause=cause.strip()[:300],
        reported_by=actor,
        reported_at=at,
        idempotency_key=key,
        request_fingerprint=request_fingerprint,
    )
    declared.quantity = available
    declared.minimum_lot = min(int(declared.minimum_lot), available)
    declared.save(update_fields=["quantity", "minimum_lot"])

    known = _contract_line_map(week)
    changes: list[PlanChange] = []
    for c in result.changes:
        p, k, g = problem.producers[c.producer], problem.kitchens[c.kitchen], problem.products[c.product]
        day = date.fromisoformat(c.day)
        _write_line(
            week,
            by_key.get((c.producer, c.kitchen, c.product, c.day)),
            producer=p,
            kitchen=k,
            product=g,
            day=day,
            quantity=c.after,
            known=known,
            solver_quantity=c.after,
        )
        changes.append(
            PlanChange(
                week=week,
                producer=p,
                kitchen=k,
                product=g,
                day=day,
                before=c.before,
                after=c.after,
                reason=PlanChangeReason.SHORTFALL,
                shortfall=shortfall,
                actor=actor,
                at=at,
            )
        )
    PlanChange.objects.bulk_create(changes)
    after = replace(
        problem, week=_after_shortfall(problem.week, str(producer.pk), str(product.pk), available)
    )
    figures = _figures(after, _with_held(after.week, result.plan, fixed, held), "replan")
    solver = dict(week.solver or {})
    history = [
        *solver.get("replans", []),
        {
            "shortfall": shortfall.pk,
            **{k: figures[k] for k in ("status", "proven_optimal", "mip_gap", "seconds", "at", "stages")},
            "changes": len(changes),
            "volume_moved": result.volume_moved,
            "farms_told": len({c.producer_id for c in changes}),
            "kitchens_told": len({c.kitchen_id for c in changes}),
        },
    ]
    solver.update(
        {
            "explanations": figures["explanations"],
            "demand_total": figures["demand_total"],
            "supplied_total": figures["supplied_total"],
            "replans": history,
        }
    )
    week.solver = solver
    week.version += 1
    week.save(update_fields=["solver", "version"])
    _producer_weeks_recompute(week.territory, week.monday)
    notifications.lines_changed(week, changes, shortfall=shortfall)
    audit(
        territory=week.territory,
        actor=actor,
        action="supply.shortfall",
        subject=_subject(week),
        producer=producer.pk,
        product=product.pk,
        declared_before=shortfall.declared_before,
        available=available,
        changes=len(changes),
    )
    return shortfall


def receipt_record(*, line: PlanLine, received_quantity: int, note: str = "", actor: User | None) -> PlanLine:
    """The kitchen records what it received on a line of a published week (recording again overwrites, audited).

    What arrived is a fact whatever the billing: a line already invoiced (the month was invoiced before the kitchen
    recorded its last deliveries) is recorded too, and less than was billed is the kitchen's request for a credit
    note on that line (``billing.credit_requested``), shown to the coordinator on the invoice, form filled in."""
    _quantity(received_quantity, "received_quantity")
    with transaction.atomic():
        locked = PlanLine.objects.select_for_update().select_related("week__territory").get(pk=line.pk)
        if locked.week.status != WeekStatus.PUBLISHED:
            raise Conflict(_("Deliveries are recorded on a published plan."))
        invoiced = _is_invoiced(locked)
        before = locked.received_quantity
        locked.received_quantity = received_quantity
        locked.receipt_note = note.strip()[:300]
        locked.received_at = timezone.now()
        locked.received_by = actor
        locked.save(update_fields=["received_quantity", "receipt_note", "received_at", "received_by"])
        audit(
            territory=locked.week.territory,
            actor=actor,
            action="supply.receipt",
            subject=_subject(locked),
            before=before,
            after=received_quantity,
            invoiced=invoiced,
        )
    for name in ("received_quantity", "receipt_note", "received_at", "received_by"):
        setattr(line, name, getattr(locked, name))
    return locked
