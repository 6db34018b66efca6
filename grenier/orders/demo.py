"""Buying groups of the demo territory: four groups of about five producers each (bakers, cheesemakers, orchards, a
mill, a beekeeper… invented farms, distinct from the supply platform's market gardeners), monthly cycles over the
last three months (closed, paid, collected; producers paid but for the latest) and one open now in which ``member@``'s household orders.

Idempotent: groups, farms, products and cycles are found by name; orders, covers and payments carry stable keys.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.utils import timezone, translation

from grenier.core.errors import GrenierError
from grenier.core.models import Household, Territory, User
from grenier.core.months import month_name, months_back
from grenier.fund import services as fund_services
from grenier.fund.models import Funder, FunderKind, PaymentCode
from grenier.orders import services
from grenier.orders.models import (
    BuyingGroup,
    CatalogueProduct,
    GroupMembership,
    OrderCycle,
    OrderStatus,
    PaymentMethod,
    PayoutMethod,
    Pickup,
    Unit,
)
from grenier.orders.services import PotBelowZero
from grenier.supply.models import Producer

Log = Callable[[str], None]
DOMAIN = "demo.grenier.test"
HISTORY_MONTHS = 3
TRIPLE_SOURCES = "Ferme des Trois Sources"  # the supply demo's farm of producer@, if it exists

# farm → its catalogue: (product, unit, price in cents, units per case, stock or None)
FARMS: dict[str, list[tuple[str, str, int, int, int | None]]] = {
    "Fournil des Cardabelles": [
        ("Pain de campagne 1 kg", Unit.LOAF, 520, 1, None),
        ("Pain complet 750 g", Unit.LOAF, 460, 1, None),
        ("Brioche au levain", Unit.PIECE, 650, 1, 30),
    ],
    "Fromagerie du Causse Vert": [
        ("Tomme de brebis 250 g", Unit.PIECE, 690, 6, None),
        ("Yaourts de brebis (4)", Unit.PIECE, 380, 12, None),
        ("Faisselle 500 g", Unit.PIECE, 290, 1, None),
    ],
    "Vergers de la Garrigue": [
        ("Pommes 1 kg", Unit.BAG, 290, 10, None),
        ("Poires 1 kg", Unit.BAG, 340, 10, None),
        ("Jus de pomme 1 L", Unit.BOTTLE, 350, 6, None),
    ],
    "Moulin de la Font Claire": [
        ("Farine T80 1 kg", Unit.BAG, 230, 10, None),
        ("Farine de petit épeautre 1 kg", Unit.BAG, 540, 5, None),
        ("Lentilles vertes 500 g", Unit.BAG, 340, 1, None),
    ],
    "Rucher des Aspres": [
        ("Miel de garrigue 500 g", Unit.JAR, 950, 12, None),
        ("Miel de châtaignier 500 g", Unit.JAR, 990, 12, 40),
    ],
    "Chèvrerie des Combes Hautes": [
        ("Crottin de chèvre", Unit.PIECE, 260, 10, None),
        ("Lait de chèvre 1 L", Unit.BOTTLE, 190, 6, None),
    ],
    "Boulangerie paysanne du Plateau": [
        ("Pain au petit épeautre", Unit.LOAF, 620, 1, None),
        ("Fougasse aux olives", Unit.PIECE, 420, 1, None),
    ],
    "Huilerie des Oliviers d'Or": [
        ("Huile d'olive 75 cl", Unit.BOTTLE, 1450, 6, None),
        ("Olives vertes 250 g", Unit.JAR, 480, 1, None),
    ],
    "Poulailler de la Bergerie": [
        ("Œufs (boîte de 6)", Unit.PIECE, 290, 10, None),
        ("Œufs (boîte de 12)", Unit.PIECE, 540, 5, None),
    ],
    "Confitures de la Treille": [
        ("Confiture d'abricot 350 g", Unit.JAR, 520, 6, None),
        ("Compote de pommes 600 g", Unit.JAR, 450, 6, None),
    ],
    "Vergers du Ruisseau Blanc": [
        ("Abricots 1 kg", Unit.BAG, 420, 5, None),
        ("Kiwis 1 kg", Unit.BAG, 380, 5, None),
    ],
    "Pâtes de l'Atelier du Blé": [
        ("Pâtes fraîches 500 g", Unit.BAG, 450, 1, None),
        ("Pâtes sèches au blé ancien 500 g", Unit.BAG, 390, 10, None),
    ],
}
TRIPLE_SOURCES_PRODUCTS: list[tuple[str, str, int, int, int | None]] = [
    ("Panier de légumes de saison", Unit.PIECE, 1200, 1, 25),
    ("Carottes 1 kg", Unit.BAG, 260, 10, None),
]

# name, description, pickup point (name, address, hours), coordinators, farms, food credit accepted
GROUPS: list[tuple[str, str, tuple[str, str, str], list[str], list[str], bool]] = [
    (
        "Gourmands engagés du Centre",
        "Commandes groupées mensuelles à prix solidaires, en direct des producteurs.",
        ("Maison de quartier des Tilleuls", "3 place des Tilleuls", "jeudi 17 h à 19 h"),
        [f"coordinator@{DOMAIN}", f"comite-2@{DOMAIN}"],
        [
            "Fournil des Cardabelles",
            "Fromagerie du Causse Vert",
            "Vergers de la Garrigue",
            "Moulin de la Font Claire",
            "Rucher des Aspres",
            TRIPLE_SOURCES,
        ],
        True,
    ),
    (
        "Groupement de la Gare",
        "Des habitants du quartier de la gare, cinq producteurs trouvés par eux.",
        ("Local associatif de la Gare", "12 avenue de la Gare", "vendredi 18 h à 19 h 30"),
        [f"coordinatrice-2@{DOMAIN}", f"comite-3@{DOMAIN}"],
        [
            "Boulangerie paysanne du Plateau",
            "Chèvrerie des Combes Hautes",
            "Vergers de la Garrigue",
            "Poulailler de la Bergerie",
            "Confitures de la Treille",
        ],
        False,
    ),
    (
        "Panier paysan du Plateau",
        "Le groupement des villages du plateau.",
        ("Salle des fêtes du Plateau", "route du Plateau", "samedi 10 h à 12 h"),
        [f"coordinator@{DOMAIN}"],
        [
            "Boulangerie paysanne du Plateau",
            "Huilerie des Oliviers d'Or",
            "Vergers du Ruisseau Blanc",
            "Moulin de la Font Claire",
            "Rucher des Aspres",
        ],
        False,
    ),
    (
        "Épicerie mobile des Berges",
        "Une commande par mois, retirée au centre social des Berges.",
        ("Centre social des Berges", "5 quai des Berges", "mercredi 16 h à 18 h"),
        [f"coordinatrice-2@{DOMAIN}"],
        [
            "Fournil des Cardabelles",
            "Pâtes de l'Atelier du Blé",
            "Poulailler de la Bergerie",
            "Fromagerie du Causse Vert",
            "Vergers du Ruisseau Blanc",
        ],
        False,
    ),
]
MEMBERS_PER_GROUP = 12
COVER_FUNDER = ("Fondation Terres Solidaires", FunderKind.PRIVATE)


def _cycle_name(month: date) -> str:
    """A cycle is named by its month in words, as people say it: « Commande de décembre 2026 » (the demo is French)."""
    with translation.override("fr"):
        return f"Commande de {month_name(month)}"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def extend(territory: Territory, log: Log) -> None:
    rng = random.Random(6006)  # noqa: S311 - demo data, not secrets
    today = timezone.localdate()
    farms = _farms(territory)
    funder = Funder.objects.filter(
        territory=territory, name=COVER_FUNDER[0]
    ).first() or fund_services.funder_create(
        territory=territory, name=COVER_FUNDER[0], kind=COVER_FUNDER[1], actor=None
    )
    households = list(
        Household.objects.filter(territory=territory, left_on__isnull=True)
        .exclude(email=f"member@{DOMAIN}")
        .order_by("pk")
    )
    lemoine = Household.objects.filter(
        territory=territory, name="Foyer Lemoine", left_on__isnull=True
    ).first()
    for index, (name, description, point, coordinators, farm_names, credit) in enumerate(GROUPS):
        group = _group(territory, name, description, point, coordinators, credit)
        tiers = {t.percent: t for t in group.tiers.all()}
        chosen = households[index::4][:MEMBERS_PER_GROUP]
        for number, household in enumerate(chosen):
            percent = rng.choices([70, 100, 130], weights=[30, 40, 30])[0]
            membership = services.membership_join(
                group=group, household=household, tier=tiers[percent], actor=None
            )
            if number % 7 == 3 and membership.tier_source != "referral":
                services.tier_set(
                    membership=membership,
                    tier=tiers[70],
                    actor=None,
                    by_household=False,
                    referral="Orientation du CCAS",
                )
        if index == 0 and lemoine is not None:
            membership = services.membership_join(group=group, household=lemoine, tier=tiers[70], actor=None)
        products = [
            p
            for farm in farm_names
            if farm in farms
            for p in CatalogueProduct.objects.filter(producer=farms[farm], is_active=True)
        ]
        members = list(
            GroupMembership.objects.filter(group=group, left_on__isnull=True)
            .select_related("household")
            .order_by("pk")
        )
        point_obj = group.pickup_points.get(name=point[0])
        for month_index, month in enumerate(months_back(today, HISTORY_MONTHS)):
            cycle = _cycle(group, _cycle_name(month), month, point_obj, products, round_cases=index % 2 == 0)
            _orders(cycle, members, rng, (cycle.opens_at + timedelta(hours=2)))
            _close(cycle, funder, first=month_index == 0)
            _settle(cycle, rng, last=month_index == HISTORY_MONTHS - 1)
            if month_index < HISTORY_MONTHS - 1:  # the latest closed cycle's producers are still to be paid
                _pay_producers(cycle)
        opens = timezone.now() - timedelta(days=2)
        name_now = _cycle_name(today + timedelta(days=9))  # named by its delivery month
        current = OrderCycle.objects.filter(group=group, name=name_now).first()
        if current is None:
            current = services.cycle_open(
                group=group,
                name=name_now,
                opens_at=opens,
                closes_at=_at(today + timedelta(days=6), 20),
                delivery_date=today + timedelta(days=9),
                pickup_point=point_obj,
                products=products,
                round_to_cases=index % 2 == 0,
                actor=None,
            )
        if not current.is_closed:
            others = [m for m in members if m.household_id != (lemoine.pk if lemoine else 0)][
                : len(members) // 2
            ]
            _orders(current, others, rng, min(timezone.now(), current.opens_at + timedelta(hours=3)))
        log(
            f"    {group.name}: {len(members)} households, {len(farm_names)} producers, pot {services.pot_balance(group) / 100:.2f} €"
        )


def _farms(territory: Territory) -> dict[str, Producer]:
    farms: dict[str, Producer] = {}
    for farm_name, catalogue in FARMS.items():
        producer = Producer.objects.filter(territory=territory, farm_name=farm_name).first()
        if producer is None:
            producer = Producer.objects.create(
                territory=territory,
                farm_name=farm_name,
                address="Vallée du Grenier",
                admitted_on=date(2024, 1, 15),
                on_platform=False,  # sells to buying groups, not a grower of the supply platform
            )
        _catalogue(producer, catalogue)
        farms[farm_name] = producer
    sources = Producer.objects.filter(territory=territory, farm_name=TRIPLE_SOURCES).first()
    if sources is not None:
        _catalogue(sources, TRIPLE_SOURCES_PRODUCTS)
        farms[TRIPLE_SOURCES] = sources
    return farms


def _catalogue(producer: Producer, catalogue: list[tuple[str, str, int, int, int | None]]) -> None:
    existing = set(CatalogueProduct.objects.filter(producer=producer).values_list("name", flat=True))
    for name, unit, price, case, stock in catalogue:
        if name not in existing:
            services.product_save(
                producer=producer,
                name=name,
                unit=unit,
                price_cents=price,
                case_size=case,
                stock=stock,
                actor=None,
            )


def _group(
    territory: Territory,
    name: str,
    description: str,
    point: tuple[str, str, str],
    coordinators: list[str],
    credit: bool,
) -> BuyingGroup:
    group = BuyingGroup.objects.filter(territory=territory, name=name).first()
    if group is None:
        store = None
        if credit:
            store = fund_services.store_create(
                territory=territory,
                name=f"Groupement d'achat — {name}",
                kind="groupement d'achat",
                actor=None,
            )
            if not store.is_approved:
                store = fund_services.store_approve(store=store, coverage_percent=100, actor=None)
        group = services.group_create(
            territory=territory,
            name=name,
            description=description,
            coordinators=list(User.objects.filter(email__in=coordinators)),
            store=store,
            actor=None,
        )
    services.pickup_point_create(group=group, name=point[0], address=point[1], hours=point[2], actor=None)
    return group


def _cycle(
    group: BuyingGroup,
    name: str,
    month: date,
    point: object,
    products: list[CatalogueProduct],
    *,
    round_cases: bool,
) -> OrderCycle:
    cycle = OrderCycle.objects.filter(group=group, name=name).first()
    if cycle is None:
        cycle = services.cycle_open(
            group=group,
            name=name,
            opens_at=_at(month, 9),
            closes_at=_at(month + timedelta(days=9), 20),
            delivery_date=month + timedelta(days=13),
            pickup_point=point,  # type: ignore[arg-type]
            products=products,
            round_to_cases=round_cases,
            actor=None,
        )
    return cycle


def _orders(cycle: OrderCycle, members: list[GroupMembership], rng: random.Random, at: datetime) -> None:
    """Members' orders. In a cycle rounded to cases, the products sold by cases are ordered together up to whole
    cases (as a group does when members agree in advance), so that rounding changes little."""
    if cycle.is_closed or cycle.orders.exists():
        return  # ordered on an earlier run: a second run adds nothing
    products = list(cycle.products.all())
    by_cases = [p for p in products if cycle.round_to_cases and p.case_size > 1]
    loose = [p for p in products if p not in by_cases]
    wanted: dict[int, dict[int, int]] = {m.household_id: {} for m in members}
    for membership in members:
        chosen = rng.sample(loose, k=min(len(loose), rng.randint(1, 3) if by_cases else rng.randint(2, 4)))
        wanted[membership.household_id].update({p.pk: rng.randint(1, 3) for p in chosen})
    for product in by_cases:
        if not members or rng.random() < 0.4:
            continue  # not every product every month
        total = product.case_size * (2 if product.case_size <= 6 else 1)
        if product.max_quantity is not None:
            total = min(total, product.max_quantity - product.max_quantity % product.case_size)
        if total <= 0:
            continue
        buyers = rng.sample(members, k=min(len(members), total, rng.randint(2, 5)))
        cuts = sorted(rng.sample(range(1, total), len(buyers) - 1)) if len(buyers) > 1 else []
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
        for membership, part in zip(buyers, parts, strict=True):
            wanted[membership.household_id][product.pk] = part
    for number, membership in enumerate(members):
        quantities = wanted[membership.household_id]
        if not quantities:
            continue
        try:
            services.order_place(
                cycle=cycle,
                household=membership.household,
                quantities=quantities,
                idempotency_key=f"demo-{cycle.pk}-{membership.household_id}",
                actor=None,
                now=at + timedelta(minutes=7 * number),
            )
        except GrenierError:
            continue  # a limited stock ran out: this household orders less, as in life


def _close(cycle: OrderCycle, funder: Funder, *, first: bool) -> None:
    if cycle.is_closed:
        return
    if first:  # the group's start: a foundation endows the pot
        services.cover_record(
            cycle=cycle, funder=funder, amount_cents=15_000, idempotency_key="demo-endowment", actor=None
        )
    try:
        services.cycle_close(cycle=cycle, actor=None, now=cycle.closes_at)
    except PotBelowZero as exc:
        services.cover_record(
            cycle=cycle,
            funder=funder,
            amount_cents=int(exc.extra["gap_cents"]),
            idempotency_key="demo-gap",
            actor=None,
        )
        services.cycle_close(cycle=cycle, actor=None, now=cycle.closes_at)


def _settle(cycle: OrderCycle, rng: random.Random, *, last: bool) -> None:
    """Most households paid at the pickup (cash, cheque, transfer, or food credit where accepted) and collected."""
    cycle.refresh_from_db()
    credit = bool(cycle.group.store and cycle.group.store.is_approved)
    for order in cycle.orders.filter(status=OrderStatus.PLACED).select_related("household"):
        if last and order.household_id % 3 == 0:
            continue  # the latest pickup: a few have not come yet
        Pickup.objects.get_or_create(order=order, defaults={"collected_at": _at(cycle.delivery_date, 18)})
        due = order.due_cents or 0
        if due <= 0 or order.payments.exists():
            continue
        method = rng.choice(
            [PaymentMethod.CASH, PaymentMethod.CASH, PaymentMethod.CHEQUE, PaymentMethod.TRANSFER]
        )
        if (
            credit
            and rng.random() < 0.5
            and order.household.email
            != f"member@{DOMAIN}"  # the demo member's credit stays for the till's demo
            and not PaymentCode.objects.filter(household=order.household_id).exists()
        ):
            # members with a personal code type it at the pickup; the demo pays by credit only for the others
            method = PaymentMethod.CREDIT
        try:
            services.payment_record(
                order=order,
                method=method,
                amount_cents=due,
                idempotency_key="demo-pickup",
                actor=None,
            )
        except GrenierError:
            services.payment_record(
                order=order,
                method=PaymentMethod.CASH,
                amount_cents=due,
                idempotency_key="demo-pickup-cash",
                actor=None,
            )


def _pay_producers(cycle: OrderCycle) -> None:
    """The group paid each producer what the cycle owed it, by transfer, a week after the delivery."""
    for producer in Producer.objects.filter(pk__in=cycle.products.values("producer_id")):
        owed = services.producer_owed_cents(cycle, producer) - services.producer_paid_cents(cycle, producer)
        if owed > 0:
            services.producer_pay(
                cycle=cycle,
                producer=producer,
                amount_cents=owed,
                method=PayoutMethod.TRANSFER,
                reference=f"VIR {cycle.delivery_date:%d/%m}",
                idempotency_key=f"demo-payout-{producer.pk}",
                actor=None,
            )
