"""The buying groups' side of the scale benchmark (``benchmarks/scale.py``, issue 14): groups at solidarity prices
in the fund's territory of N households, a year of monthly order cycles, and their roles' pages.

Sizes, for N households (figures of the territory's people and groups, not of any real one):

* **3 % of the households that have not left** are members of a buying group (about 2,900 at N = 100,000, 291 at
  10,000, 58 at 2,000): the seeds speak of a programme run "on its 4 buying groups" in one town (Paniers de Thau,
  Gourmands engagés), open to every household at its tier; a few percent of a territory's households is what such
  groups reach once they exist in each neighbourhood.
* **one group per 4,000 households, at least 4** (25 at N = 100,000), each with its pickup point and 5 or 6 of the
  12 farms of ``grenier.orders.demo.FARMS`` (the demo's invented catalogues, 28 products); the first group is the
  big one, three times the others' size (about 320 households at N = 100,000, 146 at 10,000): its pages are the
  ones timed. Every other group rounds its products to whole cases at the close, as the demo does.
* tiers 70 / 100 / 130 % chosen by 35 / 40 / 25 % of the members (more households at the solidarity tier than at
  the support tier: the pot drains and a funder covers it), one member in ten at the solidarity tier set by a
  referral.
* **monthly cycles**: one a month over the ``months - 1`` whole months before this one (open from the 1st to the 8th,
  delivered on the 12th), closed through ``cycle_close``; and this month's, open now (opened three days ago, closing
  in four days). In each cycle **60 % of the members order** (``member@`` always), 2 to 5 products, 1 to 3 units of
  each; one order in twenty is changed once, one in forty cancelled.
* the group's start endowed by a cover of the public funder (``funder@`` is one of its people), 50 EUR per ten
  members, and every gap of the pot at a close covered by it (``cover_record``), as a group does before closing.
* after each close: **every household pays** its due at the pickup (cash, cheque or transfer; in the big group, a
  point of sale of the common fund, a third of the latest cycle's payments are in food credit through the fund's
  ``pay``, at the growth's time: the months before are settled with the stores) and collects its order; in the
  latest closed cycle one household in ten has neither paid nor collected yet. Every producer is paid what each
  cycle owes it a week after the delivery, but for the latest cycle's.

Everything is written through the real services (``grenier.orders.services``), the clock set by ``time_machine`` to
the moment each thing happens (orders during the cycle's week, the close at its time, payments and pickups on the
delivery day): a year is 2,128 orders (7,216 lines, 1,916 payments, 220 payouts) at N = 10,000, grown in about
3 minutes, ten times as many at N = 100,000. No money moves outside the services, so ``ledger_check`` holds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

MARK = "bench.grown.orders"
MEMBER_SHARE = 0.03  # of the active households
HOUSEHOLDS_PER_GROUP = 4_000
BIG_GROUP_WEIGHT = 3  # the first group is three times the others' size
ORDERING_SHARE = 0.6  # of a group's members, each cycle
TIERS = ((70, 35), (100, 40), (130, 25))  # percent, weight
FARMS_PER_GROUP = (6, 5)  # alternately


@dataclass
class _Group:
    group: Any
    point: Any
    products: list[Any]
    members: list[Any]  # GroupMembership
    round_cases: bool


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _travel(moment: datetime) -> Any:
    import time_machine

    return time_machine.travel(moment, tick=False)


def grow(territory: Any, households: int, months: int) -> None:
    """All or nothing: a failed growth leaves no half of it (the next run grows it again)."""
    from django.db import transaction

    with transaction.atomic():
        _grow(territory, households, months)


def _grow(territory: Any, households: int, months: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from grenier.core import services as core
    from grenier.core.models import Household, Role
    from grenier.core.months import months_back
    from grenier.fund.models import Funder, FunderKind

    rng = random.Random(households + 6006)  # noqa: S311 - test data
    slug = territory.slug
    today = timezone.localdate()
    past = months_back(today, max(0, months - 1))
    started = past[0] if past else today.replace(day=1)
    coordinator = core.user_ensure(email=f"coordinator@{slug}.bench", display_name="Coordinator")
    member = core.user_ensure(email=f"member@{slug}.bench", display_name="Member")
    volunteer = core.user_ensure(email=f"group-coordinator@{slug}.bench", display_name="Group coordinator")
    core.role_grant(user=volunteer, territory=territory, role=Role.MEMBER)
    grower = core.user_ensure(email=f"producer@{slug}.bench", display_name="Producer")
    core.role_grant(user=grower, territory=territory, role=Role.PRODUCER)
    funder = Funder.objects.filter(territory=territory, kind=FunderKind.PUBLIC).order_by("pk").first()
    assert funder is not None  # noqa: S101 - grown by scale.py

    active = list(
        Household.objects.filter(territory=territory, left_on__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    mine = (
        Household.objects.filter(persons__user=member, territory=territory)
        .values_list("pk", flat=True)
        .first()
    )
    count = max(4, households // HOUSEHOLDS_PER_GROUP)
    total = max(10 * (count + BIG_GROUP_WEIGHT - 1), round(len(active) * MEMBER_SHARE))
    chosen = rng.sample([pk for pk in active if pk != mine], total - 1)
    if mine is not None:
        chosen.insert(0, mine)  # member@'s household in the big group
    unit = total / (count + BIG_GROUP_WEIGHT - 1)
    sizes = [round(unit * BIG_GROUP_WEIGHT)] + [round(unit)] * (count - 1)
    sizes[-1] = total - sum(sizes[:-1])

    with _travel(_at(started - timedelta(days=20), 10)), transaction.atomic():
        farms = _farms(territory, grower)
        groups = []
        offset = 0
        for index, size in enumerate(sizes):
            households_of = chosen[offset : offset + size]
            offset += size
            groups.append(_group(territory, index, farms, households_of, rng, coordinator, volunteer))
    print(f"    {count} groups, {total:,} member households, {len(farms)} farms", flush=True)

    for number, month in enumerate(past):
        with transaction.atomic():
            for grown in groups:
                _cycle_closed(grown, month, rng, funder, first=number == 0, latest=month == past[-1])
        print(f"    cycles of {month:%Y-%m}", flush=True)
    now = timezone.now()
    with transaction.atomic():
        for grown in groups:
            _cycle_open(grown, now, rng, funder, first=not past)
    print("    this month's cycles, open", flush=True)


def _farms(territory: Any, grower: Any) -> list[tuple[Any, list[Any]]]:
    """The demo's farms and catalogues; ``producer@`` acts for the first."""
    from grenier.orders import services
    from grenier.orders.demo import FARMS
    from grenier.supply import services as supply

    farms = []
    for number, (name, catalogue) in enumerate(FARMS.items()):
        producer = supply.producer_create(
            territory=territory,
            farm_name=name,
            address="Vallée du Grenier",
            users=[grower] if number == 0 else [],
            actor=None,
        )
        producer.on_platform = False  # sells to buying groups, not a grower of the supply platform
        producer.save(update_fields=["on_platform"])
        products = [
            services.product_save(
                producer=producer,
                name=product,
                unit=unit,
                price_cents=price,
                case_size=case,
                stock=stock,
                actor=None,
            )
            for product, unit, price, case, stock in catalogue
        ]
        farms.append((producer, products))
    return farms


def _group(
    territory: Any,
    index: int,
    farms: list[tuple[Any, list[Any]]],
    households: list[int],
    rng: random.Random,
    coordinator: Any,
    volunteer: Any,
) -> _Group:
    from grenier.core.models import Household
    from grenier.fund import services as fund
    from grenier.orders import services

    store = None
    name = f"Groupement {index + 1:02d}"
    if index == 0:  # the big group is a point of sale of the common fund: members may pay in food credit
        store = fund.store_create(
            territory=territory, name=f"Groupement d'achat — {name}", kind="groupement", actor=None
        )
        store = fund.store_approve(store=store, coverage_percent=100, actor=coordinator)
    group = services.group_create(
        territory=territory,
        name=name,
        description="Commandes groupées mensuelles à prix solidaires, en direct des producteurs.",
        coordinators=[volunteer] if index == 0 else [],
        store=store,
        actor=coordinator,
    )
    point = services.pickup_point_create(
        group=group,
        name=f"Maison de quartier {index + 1:02d}",
        address="1 place du Marché",
        hours="jeudi 17 h à 19 h",
        actor=coordinator,
    )
    take = FARMS_PER_GROUP[index % 2]
    picked = [farms[0], *rng.sample(farms[1:], take - 1)] if index == 0 else rng.sample(farms, take)
    products = [p for _producer, catalogue in picked for p in catalogue]
    tiers = {t.percent: t for t in group.tiers.all()}
    members = []
    for number, household in enumerate(Household.objects.filter(pk__in=households).order_by("pk")):
        percent = rng.choices([p for p, _w in TIERS], weights=[w for _p, w in TIERS])[0]
        membership = services.membership_join(
            group=group, household=household, tier=tiers[percent], actor=None
        )
        if number % 10 == 3:
            membership = services.tier_set(
                membership=membership,
                tier=tiers[70],
                actor=coordinator,
                by_household=False,
                referral="Orientation du CCAS",
            )
        members.append(membership)
    return _Group(group, point, products, members, round_cases=index % 2 == 1)


def _cycle_closed(
    grown: _Group, month: date, rng: random.Random, funder: Any, *, first: bool, latest: bool
) -> None:
    """One month's cycle: opened, ordered, covered where the pot falls short, closed, paid, collected."""
    from grenier.orders import services

    opens = _at(month, 9)
    closes = _at(month + timedelta(days=7), 20)
    delivery = month + timedelta(days=11)
    with _travel(opens):
        cycle = services.cycle_open(
            group=grown.group,
            name=f"Commande du {delivery:%d/%m/%Y}",
            opens_at=opens,
            closes_at=closes,
            delivery_date=delivery,
            pickup_point=grown.point,
            products=grown.products,
            round_to_cases=grown.round_cases,
            actor=None,
        )
    _orders(cycle, grown, rng, opens)
    with _travel(closes - timedelta(hours=1)):
        if first:
            _endow(cycle, grown, funder)
    with _travel(closes):
        _close(cycle, funder)
    cycle.refresh_from_db()
    with _travel(_at(delivery, 18)):
        in_credit = _settle(cycle, rng, latest=latest)
    _pay_in_credit(in_credit)  # now: this month's credit (the months before are settled with the stores)
    if not latest:
        with _travel(_at(delivery + timedelta(days=7), 10)):
            _pay_producers(cycle)


def _cycle_open(grown: _Group, now: datetime, rng: random.Random, funder: Any, *, first: bool) -> Any:
    from grenier.orders import services

    opens = now - timedelta(days=3)
    delivery = (now + timedelta(days=8)).date()
    with _travel(opens):
        cycle = services.cycle_open(
            group=grown.group,
            name=f"Commande du {delivery:%d/%m/%Y}",
            opens_at=opens,
            closes_at=now + timedelta(days=4),
            delivery_date=delivery,
            pickup_point=grown.point,
            products=grown.products,
            round_to_cases=grown.round_cases,
            actor=None,
        )
    if first:
        with _travel(opens):
            _endow(cycle, grown, funder)
    _orders(cycle, grown, rng, opens, until=now)
    return cycle


def _endow(cycle: Any, grown: _Group, funder: Any) -> None:
    from grenier.orders import services

    services.cover_record(
        cycle=cycle,
        funder=funder,
        amount_cents=5_000 * max(1, len(grown.members) // 10),
        idempotency_key="bench-endowment",
        actor=None,
    )


def _orders(
    cycle: Any, grown: _Group, rng: random.Random, opens: datetime, until: datetime | None = None
) -> None:
    """60 % of the members order during the cycle's first days (member@'s household, the first, always); a few
    change their order later, fewer cancel it."""
    from grenier.core.errors import GrenierError
    from grenier.orders import services

    products = list(cycle.products.order_by("pk"))
    span = ((until or cycle.closes_at) - opens).total_seconds() - 3600
    placed = []
    for number, membership in enumerate(grown.members):
        if number and rng.random() >= ORDERING_SHARE:
            continue
        chosen = rng.sample(products, k=min(len(products), rng.randint(2, 5)))
        wanted = {p.pk: rng.randint(1, 3) for p in chosen}
        at = opens + timedelta(seconds=rng.uniform(60, span * 0.7))
        with _travel(at):
            try:
                result = services.order_place(
                    cycle=cycle,
                    household=membership.household,
                    quantities=wanted,
                    idempotency_key=f"bench-{cycle.pk}-{membership.household_id}",
                    actor=None,
                    now=at,
                )
            except GrenierError:  # a limited stock ran out: this household orders what is left without it
                limited = {p.pk for p in products if p.max_quantity is not None}
                wanted = {k: v for k, v in wanted.items() if k not in limited}
                if not wanted:
                    continue
                result = services.order_place(
                    cycle=cycle,
                    household=membership.household,
                    quantities=wanted,
                    idempotency_key=f"bench-{cycle.pk}-{membership.household_id}-b",
                    actor=None,
                    now=at,
                )
        placed.append((result.order, wanted, at))
    for number, (order, wanted, at) in enumerate(placed):
        later = at + timedelta(seconds=rng.uniform(600, span * 0.3))
        if number % 40 == 39:
            with _travel(later):
                services.order_cancel(
                    order=order, idempotency_key=f"bench-cancel-{order.pk}", actor=None, now=later
                )
        elif number % 20 == 7:
            changed = {k: v + 1 for k, v in wanted.items() if k not in _limited(products)} or wanted
            with _travel(later):
                services.order_place(
                    cycle=cycle,
                    household=order.household,
                    quantities=changed,
                    idempotency_key=f"bench-change-{order.pk}",
                    actor=None,
                    now=later,
                )


def _limited(products: list[Any]) -> set[int]:
    return {p.pk for p in products if p.max_quantity is not None}


def _close(cycle: Any, funder: Any) -> None:
    """The close, a funder covering the pot's gap first when it falls short (as the coordinator asks it to)."""
    from grenier.orders import services
    from grenier.orders.services import PotBelowZero

    try:
        services.cycle_close(cycle=cycle, actor=None, now=cycle.closes_at)
    except PotBelowZero as exc:
        services.cover_record(
            cycle=cycle,
            funder=funder,
            amount_cents=int(exc.extra["gap_cents"]),
            idempotency_key="bench-gap",
            actor=None,
        )
        services.cycle_close(cycle=cycle, actor=None, now=cycle.closes_at)


def _settle(cycle: Any, rng: random.Random, *, latest: bool) -> list[Any]:
    """Each household pays its due and collects its order at the pickup (in the latest cycle one in ten not yet);
    in the big group's latest cycle a third pay in food credit: those orders are returned, to be paid now."""
    from grenier.orders import services
    from grenier.orders.models import OrderStatus, PaymentMethod

    credit = latest and cycle.group.store is not None
    orders = (
        cycle.orders.filter(status=OrderStatus.PLACED)
        .select_related("household", "cycle__group")
        .order_by("pk")
    )
    in_credit = []
    for number, order in enumerate(orders):
        if latest and number % 10 == 9:
            continue
        due = order.due_cents or 0
        if due > 0 and credit and number % 3 == 0:
            in_credit.append(order)
        elif due > 0:
            method = rng.choices(
                [PaymentMethod.CASH, PaymentMethod.TRANSFER, PaymentMethod.CHEQUE], weights=[40, 35, 25]
            )[0]
            services.payment_record(
                order=order, method=method, amount_cents=due, idempotency_key="bench-pickup", actor=None
            )
        services.pickup_set(order=order, collected=True, actor=None)
    return in_credit


def _pay_in_credit(orders: list[Any]) -> None:
    """Orders paid in food credit through the fund's own payment at the group's store (in cash if it refuses)."""
    from grenier.core.errors import GrenierError
    from grenier.orders import services
    from grenier.orders.models import PaymentMethod

    for order in orders:
        due = order.due_cents or 0
        try:
            services.payment_record(
                order=order,
                method=PaymentMethod.CREDIT,
                amount_cents=due,
                idempotency_key="bench-credit",
                actor=None,
            )
        except GrenierError:
            services.payment_record(
                order=order,
                method=PaymentMethod.CASH,
                amount_cents=due,
                idempotency_key="bench-pickup",
                actor=None,
            )


def _pay_producers(cycle: Any) -> None:
    from grenier.orders import services
    from grenier.orders.models import PayoutMethod
    from grenier.supply.models import Producer

    for producer in Producer.objects.filter(pk__in=cycle.products.values("producer_id")).order_by("pk"):
        owed = services.producer_owed_cents(cycle, producer) - services.producer_paid_cents(cycle, producer)
        if owed > 0:
            services.producer_pay(
                cycle=cycle,
                producer=producer,
                amount_cents=owed,
                method=PayoutMethod.TRANSFER,
                reference=f"VIR {cycle.delivery_date:%d/%m}",
                idempotency_key=f"bench-payout-{producer.pk}",
                actor=None,
            )


def pages(grown: Any) -> list[tuple[str, str, Any, str]]:
    """The buying groups' pages of the big group, heaviest first: its coordinators' (the territory's coordinator,
    who also gets the form adding any household, and the group's volunteer), its member's, its producer's."""
    from grenier.core.models import User
    from grenier.orders.models import BuyingGroup, Order, OrderCycle

    slug = grown.slug
    group = BuyingGroup.objects.filter(territory__slug=slug).order_by("name", "pk").first()
    assert group is not None  # noqa: S101 - grown by grow()
    cycles = list(OrderCycle.objects.filter(group=group).order_by("-closes_at", "-pk")[:2])
    current, latest = cycles[0], cycles[1] if len(cycles) > 1 else cycles[0]
    volunteer = User.objects.get(email=f"group-coordinator@{slug}.bench")
    producer = User.objects.get(email=f"producer@{slug}.bench")
    farm = producer.producer_farms.order_by("pk").first()  # type: ignore[attr-defined,unused-ignore]
    assert farm is not None  # noqa: S101 - grown by grow()
    mine = Order.objects.filter(cycle=latest, household__persons__user=grown.member).first()
    base = f"/t/{slug}/orders"
    rows = [
        ("orders: open cycle", "coordinator", grown.coordinator, f"{base}/cycles/{current.pk}/"),
        ("orders: open cycle", "group coordinator", volunteer, f"{base}/cycles/{current.pk}/"),
        ("orders: closed cycle", "coordinator", grown.coordinator, f"{base}/cycles/{latest.pk}/"),
        ("orders: pickup list", "coordinator", grown.coordinator, f"{base}/cycles/{latest.pk}/pickup/"),
        ("orders: group", "coordinator", grown.coordinator, f"{base}/groups/{group.pk}/"),
        ("orders: group", "group coordinator", volunteer, f"{base}/groups/{group.pk}/"),
        ("orders: home", "coordinator", grown.coordinator, f"{base}/"),
        ("orders: home", "group coordinator", volunteer, f"{base}/"),
        ("orders: open cycle", "member", grown.member, f"{base}/cycles/{current.pk}/"),
        ("orders: group", "member", grown.member, f"{base}/groups/{group.pk}/"),
        ("orders: home", "member", grown.member, f"{base}/"),
        ("orders: home", "producer", producer, f"{base}/"),
        ("orders: catalogue", "producer", producer, f"{base}/farms/{farm.pk}/catalogue/"),
    ]
    if mine is not None:
        rows.insert(11, ("orders: receipt", "member", grown.member, f"{base}/orders/{mine.pk}/"))
    rows.append(
        (
            "orders: purchase order",
            "producer",
            producer,
            f"{base}/cycles/{latest.pk}/producers/{farm.pk}/purchase-order.pdf",
        )
    )
    return rows
