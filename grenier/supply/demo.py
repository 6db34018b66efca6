"""The supply platform of the demo territory: six organic growers of a mountain valley jointly supplying the
cité scolaire's central kitchen and the EHPAD Les Tilleuls with 26 vegetables, a year of weekly plans.

What a newcomer finds: the year's weeks planned by the solver and published (on the Friday before), the school's
holidays (no demand), the nursing home's steady demand, a few deliveries received short, monthly invoices and the
growers' statements, two cash advances at the season start and one granted last month still being repaid, the
development fund; this week published with a shortfall (hail on lettuces, or frost in winter) reported on Monday and
handled by re-planning; next week open, with availability partly declared (the demo grower's part is left for you to fill
in). The contracts' lines follow each vegetable's season (``ContractLine.months``).

Past weeks' demand and availability rows are written in bulk (they are history, as the fund's demo payments are);
planning, publishing, the shortfall, receipts, invoices and advances go through the services. Idempotent: a week
that exists is not generated again.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.test.utils import override_settings
from django.utils import timezone

from grenier.core.models import Territory, User
from grenier.core.months import shift_month
from grenier.supply import billing, services
from grenier.supply.models import (
    Availability,
    Contract,
    ContractStatus,
    Demand,
    DemandSource,
    Invoice,
    Kitchen,
    KitchenKind,
    PlanLine,
    Producer,
    Product,
    SalesUnit,
    SupplyWeek,
)

Log = Callable[[str], None]
DOMAIN = "demo.grenier.test"
WEEKS = 52  # of history before this week


@dataclass(frozen=True)
class Vegetable:
    name: str
    unit: SalesUnit
    months: frozenset[int]  # months it is harvested (or sold from store)
    price_cents: int  # the full unit price paid by a kitchen, per kg / piece / bunch
    school_weekly: int  # sales units a week in season
    ehpad_weekly: int
    grams: int = 1000  # per piece or bunch


def _months(*spans: tuple[int, int]) -> frozenset[int]:
    out: set[int] = set()
    for first, last in spans:
        month = first
        while True:
            out.add(month)
            if month == last:
                break
            month = month % 12 + 1
    return frozenset(out)


KG, PIECE, BUNCH = SalesUnit.KG, SalesUnit.PIECE, SalesUnit.BUNCH
# A valley at 600 m: a short summer, stored roots in winter. Prices are organic, delivered, per sales unit.
VEGETABLES = [
    Vegetable("Carottes", KG, _months((1, 12)), 210, 40, 25),
    Vegetable("Pommes de terre", KG, _months((1, 12)), 180, 60, 40),
    Vegetable("Poireaux", KG, _months((9, 4)), 320, 20, 12),
    Vegetable("Oignons", KG, _months((7, 4)), 240, 10, 8),
    Vegetable("Courge butternut", KG, _months((9, 3)), 260, 25, 15),
    Vegetable("Potimarron", KG, _months((9, 2)), 280, 20, 12),
    Vegetable("Betteraves", KG, _months((6, 3)), 260, 12, 8),
    Vegetable("Céleri-rave", KG, _months((10, 3)), 300, 8, 6),
    Vegetable("Chou vert", PIECE, _months((10, 3)), 250, 15, 8, 1200),
    Vegetable("Chou-fleur", PIECE, _months((5, 6)) | _months((9, 11)), 300, 12, 6, 900),
    Vegetable("Navets", KG, _months((10, 4)), 260, 10, 6),
    Vegetable("Panais", KG, _months((11, 3)), 360, 8, 5),
    Vegetable("Radis", BUNCH, _months((4, 10)), 150, 30, 10, 250),
    Vegetable("Salade", PIECE, _months((4, 11)), 110, 60, 30, 400),
    Vegetable("Mâche", KG, _months((11, 3)), 1400, 3, 2),
    Vegetable("Épinards", KG, _months((3, 5)) | _months((9, 11)), 650, 10, 6),
    Vegetable("Blettes", KG, _months((5, 11)), 380, 10, 8),
    Vegetable("Courgettes", KG, _months((6, 9)), 260, 35, 20),
    Vegetable("Haricots verts", KG, _months((7, 9)), 750, 15, 10),
    Vegetable("Tomates", KG, _months((7, 9)), 420, 30, 18),
    Vegetable("Concombres", PIECE, _months((6, 9)), 120, 40, 15, 400),
    Vegetable("Poivrons", KG, _months((8, 9)), 550, 8, 5),
    Vegetable("Aubergines", KG, _months((8, 9)), 420, 8, 5),
    Vegetable("Petits pois", KG, _months((6, 7)), 800, 8, 5),
    Vegetable("Fenouil", KG, _months((6, 10)), 380, 8, 5),
    Vegetable("Ail", KG, _months((7, 12)), 1200, 2, 1),
]


@dataclass(frozen=True)
class Farm:
    name: str
    email: str
    lat: str
    lon: str
    share_bp: int
    grows: tuple[str, ...]
    scale: float  # how much of the group's needs it can grow
    certifications: tuple[str, ...] = ("BIO",)


FARMS = [
    Farm(
        "Ferme des Trois Sources",
        f"producer@{DOMAIN}",
        "42.7905",
        "0.6010",
        2000,
        (
            "Carottes",
            "Pommes de terre",
            "Poireaux",
            "Salade",
            "Radis",
            "Courgettes",
            "Tomates",
            "Mâche",
            "Épinards",
            "Courge butternut",
            "Haricots verts",
            "Betteraves",
            "Chou vert",
            "Fenouil",
        ),
        1.1,
    ),
    Farm(
        "Les Jardins du Ruisseau",
        f"maraicher-2@{DOMAIN}",
        "42.8120",
        "0.6230",
        1800,
        (
            "Carottes",
            "Pommes de terre",
            "Oignons",
            "Salade",
            "Courgettes",
            "Concombres",
            "Tomates",
            "Poivrons",
            "Aubergines",
            "Potimarron",
            "Navets",
            "Blettes",
            "Ail",
        ),
        1.0,
    ),
    Farm(
        "Ferme de la Combe",
        f"maraicher-3@{DOMAIN}",
        "42.8890",
        "0.6620",
        1700,
        (
            "Pommes de terre",
            "Poireaux",
            "Courge butternut",
            "Potimarron",
            "Céleri-rave",
            "Panais",
            "Chou vert",
            "Chou-fleur",
            "Navets",
            "Betteraves",
            "Petits pois",
        ),
        1.0,
    ),
    Farm(
        "Le Potager Haut",
        f"maraicher-4@{DOMAIN}",
        "42.8320",
        "0.5520",
        1600,
        (
            "Carottes",
            "Salade",
            "Radis",
            "Épinards",
            "Mâche",
            "Blettes",
            "Haricots verts",
            "Petits pois",
            "Fenouil",
            "Concombres",
        ),
        0.9,
    ),
    Farm(
        "Maraîchage des Prés",
        f"maraicher-5@{DOMAIN}",
        "42.9110",
        "0.6350",
        1500,
        (
            "Carottes",
            "Oignons",
            "Tomates",
            "Courgettes",
            "Aubergines",
            "Poivrons",
            "Chou-fleur",
            "Céleri-rave",
            "Poireaux",
            "Ail",
            "Salade",
        ),
        0.9,
    ),
    Farm(
        "Ferme du Moulin",
        f"maraicher-6@{DOMAIN}",
        "42.8610",
        "0.6810",
        1400,
        (
            "Pommes de terre",
            "Carottes",
            "Courge butternut",
            "Betteraves",
            "Panais",
            "Navets",
            "Radis",
            "Salade",
            "Haricots verts",
            "Tomates",
        ),
        0.8,
        ("BIO", "FERMIER"),
    ),
]


@dataclass(frozen=True)
class Canteen:
    name: str
    kind: KitchenKind
    meals: int
    email: str
    siret: str
    lat: str
    lon: str
    weekdays: tuple[int, ...]
    tender_lot: str
    starts_on: date
    ends_on: date
    attr: str  # which weekly figure of a Vegetable it orders


KITCHENS = [
    Canteen(
        "Cuisine centrale de la cité scolaire",
        KitchenKind.SCHOOL,
        340,
        f"kitchen@{DOMAIN}",
        "21310000000014",
        "42.7930",
        "0.5950",
        (0, 3),
        "Marché 2025-RC-07, lot 3 : légumes biologiques",
        date(2025, 9, 1),
        date(2028, 8, 31),
        "school_weekly",
    ),
    Canteen(
        "EHPAD Les Tilleuls",
        KitchenKind.NURSING_HOME,
        170,
        f"cuisine-ehpad@{DOMAIN}",
        "26310000000017",
        "42.8010",
        "0.6080",
        (1, 4),
        "",
        date(2025, 1, 1),
        date(2027, 12, 31),
        "ehpad_weekly",
    ),
]


def _school_closed(monday: date) -> bool:
    """French school holidays, approximately (zone C): the school orders nothing those weeks."""
    day = monday + timedelta(days=2)
    md = (day.month, day.day)
    holidays = [((12, 20), (12, 31)), ((1, 1), (1, 4)), ((2, 14), (3, 1)), ((4, 11), (4, 27))]
    holidays += [((7, 4), (8, 31)), ((10, 17), (11, 2))]
    return any(start <= md <= end for start, end in holidays)


def _season(vegetable: Vegetable, monday: date) -> float:
    """1 in the heart of its season, less at its edges, 0 out of it."""
    month = (monday + timedelta(days=3)).month
    if month not in vegetable.months:
        return 0.0
    before = (month - 2) % 12 + 1
    after = month % 12 + 1
    edge = (before not in vegetable.months) + (after not in vegetable.months)
    return 1.0 if edge == 0 else 0.6 if edge == 1 else 0.4


def extend(territory: Territory, log: Log) -> None:
    rng = random.Random(5353)  # noqa: S311 - demo data, not secrets
    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    first_monday = _history_start(this_monday, today)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        coordinator = User.objects.filter(email=f"coordinator@{DOMAIN}").first()
        platform = services.platform_ensure(
            territory=territory, name="PIAL — légumerie paysanne de la Vallée", actor=coordinator
        )
        if not platform.siret:
            platform.siret = "90000000000019"
            platform.address = "Maison des associations, 1 place du Marché, Vallée du Grenier"
            platform.save(update_fields=["siret", "address"])
        products = _products(territory, coordinator)
        producers = _producers(territory, first_monday, coordinator)
        kitchens = _kitchens(territory, products, coordinator)
        _advances(territory, producers, today, coordinator)

        weeks_before = (this_monday - first_monday).days // 7
        mondays = [first_monday + timedelta(weeks=n) for n in range(weeks_before + 2)]
        for monday in mondays:
            if SupplyWeek.objects.filter(territory=territory, monday=monday).exists():
                continue
            week = _week(territory, monday, products, producers, kitchens, rng, coordinator)
            if monday > this_monday:
                log(f"    week of {monday}: open, availability partly declared")
                continue
            services.plan_compute(week=week, actor=coordinator)
            week = services.plan_publish(week=week, actor=coordinator)
            # planned and published on the Friday before, as the coordinator would have
            friday = monday - timedelta(days=3)
            SupplyWeek.objects.filter(pk=week.pk).update(
                planned_at=_at(friday, 10), published_at=_at(friday, 16)
            )
            if monday < this_monday:
                _receive(week, rng, coordinator)
            else:
                _hail(week, products, coordinator)
            if monday.month != (monday + timedelta(weeks=1)).month or monday == this_monday:
                log(f"    weeks to {monday}: planned and published")

        # Whole months only: the history starts on the Monday of a month's first week, so the month before is
        # a stub of a few days that is not invoiced (its statement would be a few euros, eaten by an advance).
        months = sorted({(m + timedelta(days=d)).replace(day=1) for m in mondays[:-2] for d in range(7)})
        for month in months:
            if month < first_monday or month >= today.replace(day=1):
                continue
            if not Invoice.objects.filter(territory=territory, month=month).exists():
                issued = billing.invoices_issue(
                    territory=territory, month=month, actor=coordinator, issued_on=shift_month(month, 1)
                )
                for invoice in issued:
                    if month < shift_month(today, -1):
                        billing.invoice_mark_paid(
                            invoice=invoice, reference=f"VIR-{invoice.reference}", actor=coordinator
                        )
                        # paid within the month after it was issued (the ledger entry is dated today)
                        Invoice.objects.filter(pk=invoice.pk).update(
                            paid_at=_at(invoice.issued_on + timedelta(days=20), 11)
                        )
        log(f"    invoices: {Invoice.objects.filter(territory=territory).count()}")


def _history_start(this_monday: date, today: date) -> date:
    """The Monday of the week holding the 1st of a month: at least ``WEEKS`` weeks back, and never after the 1st
    of last month, so that last month is always whole (its invoices issued this month, still to pay)."""
    first = min((this_monday - timedelta(weeks=WEEKS)).replace(day=1), shift_month(today, -1))
    return first - timedelta(days=first.weekday())


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _products(territory: Territory, actor: User | None) -> dict[str, Product]:
    out: dict[str, Product] = {}
    for veg in VEGETABLES:
        existing = Product.objects.filter(territory=territory, name=veg.name).first()
        out[veg.name] = existing or services.product_create(
            territory=territory,
            name=veg.name,
            unit=veg.unit,
            grams_per_unit=veg.grams,
            step=500 if veg.unit == KG and veg.price_cents >= 600 else 1000 if veg.unit == KG else 1,
            actor=actor,
        )
    return out


def _producers(territory: Territory, since: date, actor: User | None) -> dict[str, Producer]:
    out: dict[str, Producer] = {}
    for farm in FARMS:
        producer = Producer.objects.filter(territory=territory, farm_name=farm.name).first()
        if producer is None:
            user = User.objects.filter(email=farm.email).first()
            producer = services.producer_create(
                territory=territory,
                farm_name=farm.name,
                siret=f"8{zlib.crc32(farm.name.encode()) % 10**13:013d}",
                latitude=Decimal(farm.lat),
                longitude=Decimal(farm.lon),
                certifications=list(farm.certifications),
                certifier="Ecocert" if "BIO" in farm.certifications else "",
                users=[user] if user else [],
                admitted_on=since - timedelta(days=400),
                actor=actor,
            )
            services.share_set(producer=producer, share_bp=farm.share_bp, valid_from=since, actor=actor)
        out[farm.name] = producer
    return out


def _kitchens(territory: Territory, products: dict[str, Product], actor: User | None) -> dict[str, Kitchen]:
    out: dict[str, Kitchen] = {}
    for canteen in KITCHENS:
        kitchen = Kitchen.objects.filter(territory=territory, name=canteen.name).first()
        if kitchen is None:
            manager = User.objects.filter(email=canteen.email).first()
            kitchen = services.kitchen_create(
                territory=territory,
                name=canteen.name,
                kind=canteen.kind,
                meals_per_day=canteen.meals,
                siret=canteen.siret,
                latitude=Decimal(canteen.lat),
                longitude=Decimal(canteen.lon),
                managers=[manager] if manager else [],
                actor=actor,
            )
            contract = services.contract_create(
                territory=territory,
                kitchen=kitchen,
                title=f"Légumes biologiques — {canteen.name}",
                tender_lot=canteen.tender_lot,
                starts_on=canteen.starts_on,
                ends_on=canteen.ends_on,
                delivery_weekdays=list(canteen.weekdays),
                status=ContractStatus.ACTIVE,
                actor=actor,
            )
            for veg in VEGETABLES:
                weekly = getattr(veg, canteen.attr) * (1000 if veg.unit == KG else 1)
                price = veg.price_cents
                fee, levy = round(price * 0.08), round(price * 0.04)
                margin = round(price * 0.12)
                services.contract_line_set(
                    contract=contract,
                    product=products[veg.name],
                    weekly_quantity=weekly,
                    minimum_quantity=weekly * 10,
                    maximum_quantity=weekly * 40 * 3,
                    cost_cents=price - fee - levy - margin,
                    margin_cents=margin,
                    service_fee_cents=fee,
                    levy_cents=levy,
                    months=sorted(veg.months),  # the vegetable's season: no courgettes in December
                    actor=actor,
                )
        out[canteen.name] = kitchen
    return out


def _week(
    territory: Territory,
    monday: date,
    products: dict[str, Product],
    producers: dict[str, Producer],
    kitchens: dict[str, Kitchen],
    rng: random.Random,
    actor: User | None,
) -> SupplyWeek:
    week = services.week_ensure(territory=territory, monday=monday, actor=actor)
    with transaction.atomic():
        # The kitchens' menus: in-season vegetables only, a little variation, none in school holidays.
        Demand.objects.filter(week=week).delete()
        rows = []
        for canteen in KITCHENS:
            kitchen = kitchens[canteen.name]
            if canteen.kind == KitchenKind.SCHOOL and _school_closed(monday):
                continue
            contract = Contract.objects.get(kitchen=kitchen)
            lines = {line.product_id: line for line in contract.lines.all()}
            for veg in VEGETABLES:
                season = _season(veg, monday)
                if season == 0 or rng.random() < 0.15:
                    continue
                product = products[veg.name]
                weekly = getattr(veg, canteen.attr) * season * rng.uniform(0.8, 1.2)
                per_day = weekly / len(canteen.weekdays)
                for weekday in canteen.weekdays:
                    quantity = _rounded(per_day, veg, product)
                    if quantity:
                        rows.append(
                            Demand(
                                week=week,
                                kitchen=kitchen,
                                product=product,
                                day=monday + timedelta(days=weekday),
                                quantity=quantity,
                                source=DemandSource.KITCHEN,
                                contract_line=lines[product.pk],
                            )
                        )
        Demand.objects.bulk_create(rows)
        # What the farms expect to have. Next week, the demo grower has not declared yet.
        supply = []
        next_week = monday > timezone.localdate()
        for farm in FARMS:
            if next_week and farm.email.startswith("producer@"):
                continue
            for name in farm.grows:
                veg = next(v for v in VEGETABLES if v.name == name)
                season = _season(veg, monday)
                if season == 0:
                    continue
                need = (veg.school_weekly + veg.ehpad_weekly) / 3.2
                quantity = _rounded(need * season * farm.scale * rng.uniform(0.6, 1.4), veg, products[name])
                if quantity:
                    lot = _rounded(min(need * 0.25, 10), veg, products[name]) if rng.random() < 0.3 else 0
                    supply.append(
                        Availability(
                            week=week,
                            producer=producers[farm.name],
                            product=products[name],
                            quantity=quantity,
                            minimum_lot=min(lot, quantity),
                        )
                    )
        Availability.objects.bulk_create(supply)
    return week


def _rounded(sales_units: float, veg: Vegetable, product: Product) -> int:
    """Sales units → base units, a multiple of the product's planning step."""
    base = sales_units * (1000 if veg.unit == KG else 1)
    return round(base / product.step) * product.step


def _receive(week: SupplyWeek, rng: random.Random, actor: User | None) -> None:
    """Kitchens record what arrived: almost always what was planned (written in bulk, as history); now and then a
    delivery a little short, recorded through the service."""
    lines = list(PlanLine.objects.filter(week=week).select_related("product"))
    short = [line for line in lines if rng.random() < 0.03]
    at = timezone.make_aware(datetime.combine(week.monday + timedelta(days=4), time(14)))
    PlanLine.objects.filter(week=week).exclude(pk__in=[line.pk for line in short]).update(
        received_quantity=F("quantity"), received_at=at, received_by=actor
    )
    for line in short:
        received = max(0, line.quantity - max(line.product.step, line.quantity // 5))
        services.receipt_record(line=line, received_quantity=received, note="Livré incomplet", actor=actor)


def _hail(week: SupplyWeek, products: dict[str, Product], actor: User | None) -> None:
    """This week: a storm on one farm's lettuces (in winter, frost on its carrots or leeks) in the night to Monday;
    the farm is left less than it was to deliver, and the week is re-planned around it."""
    winter = week.monday.month in (12, 1, 2)
    cause = (
        "Gel dans la nuit de dimanche : une bonne partie de la parcelle est perdue."
        if winter
        else "Grêle dans la nuit de dimanche : une bonne partie de la parcelle est perdue."
    )
    # the farm: the one with most lettuces to deliver this week (else courgettes, carrots, leeks, anything)
    preferred = [products[name].pk for name in ("Salade", "Courgettes", "Carottes", "Poireaux")]
    planned = (
        PlanLine.objects.filter(week=week, quantity__gt=0)
        .values_list("producer_id", "product_id")
        .annotate(total=Sum("quantity"))
    )
    ranked = sorted(
        planned,
        key=lambda row: (preferred.index(row[1]) if row[1] in preferred else len(preferred), -row[2], row[0]),
    )
    by_pk = {product.pk: product for product in products.values()}
    for producer_id, product_id, total in ranked:
        product = by_pk[product_id]
        declared = Availability.objects.filter(week=week, producer_id=producer_id, product=product).first()
        if declared is None:
            continue
        # what is left: a third of the declaration, and never as much as the farm was to deliver
        left = min(declared.quantity // 3, total // 2) // product.step * product.step
        services.shortfall_report(
            week=week,
            producer=declared.producer,
            product=product,
            available=left,
            cause=cause,
            idempotency_key=f"demo-hail-{week.monday}",
            actor=actor,
            reported_on=week.monday,  # on Monday morning, before the week's first delivery
        )
        return


def _advances(territory: Territory, producers: dict[str, Producer], today: date, actor: User | None) -> None:
    """The group's development fund: a start from the growers' association, then advances at season start."""
    billing.devfund_contribute(
        territory=territory,
        amount_cents=400_000,
        source="Apport initial du groupement et subvention LEADER",
        idempotency_key="demo-devfund-start",
        actor=actor,
    )
    # An advance is about a month or two of a farm's sales, repaid by deductions small enough to leave it most of
    # each statement (at most about half of its smallest month): two at the last season start (2 March), and one
    # granted at the start of last month, so that one is always being repaid whatever the day: at most one
    # statement (last month's) has taken its part yet.
    spring = date(today.year if (today.month, today.day) >= (3, 2) else today.year - 1, 3, 2)
    recent = shift_month(today, -1)
    recent_purpose = (
        "les plants et la protection des cultures d'hiver"
        if recent.month >= 9 or recent.month <= 2
        else "l'irrigation et les plants d'été"
    )
    for farm_name, amount, monthly, granted_on, purpose in (
        ("Le Potager Haut", 100_000, 12_500, spring, "les semences et plants de la saison"),
        ("Ferme du Moulin", 80_000, 8_000, spring, "les semences et plants de la saison"),
        ("Ferme de la Combe", 48_000, 8_000, recent, recent_purpose),
    ):
        billing.advance_grant(
            producer=producers[farm_name],
            amount_cents=amount,
            monthly_deduction_cents=monthly,
            granted_on=granted_on,
            purpose=f"Avance de trésorerie pour {purpose}",
            idempotency_key=f"demo-advance-{farm_name}",
            actor=actor,
        )
