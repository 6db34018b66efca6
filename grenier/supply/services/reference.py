"""The platform's reference data: the platform, kitchens, farms and their people, products, contracts and their lines,
shares and road distances."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.models import Territory, User
from grenier.core.services import audit
from grenier.supply.models import (
    Contract,
    ContractLine,
    ContractStatus,
    Distance,
    EgalimLabel,
    Kitchen,
    KitchenKind,
    Platform,
    Producer,
    ProducerShare,
    Product,
    ProductFamily,
    SalesUnit,
)
from grenier.supply.services.checks import _cents, _invalid, _quantity, _same_territory, _subject


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
