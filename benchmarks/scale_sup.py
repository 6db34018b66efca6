"""The supply side of the scale benchmark (``benchmarks/scale.py``'s ``COOPERATION``): a growers' group supplying
the territory's collective kitchens, a year of supply weeks, and the pages its people open.

The supply side does not scale with the number of households as the fund does: a kitchen cooks for pupils and
residents whether or not they are in the fund, and a growers' group is a handful of farms near the kitchens. The
seed (003, Luchon) is 6 to 7 organic growers for a school and a nursing home in a town of a few thousand households;
a territory of 100,000 households (a metropolis, a département) is sized as a big group of its own, not as 40 of
those towns:

* growers: the seed's 6, one more for each 5,000 households, at most 30 (8 at 10,000, 26 at
  100,000): "a handful to a few dozen growers";
* kitchens: the school's central kitchen and the nursing home, one more for each 25,000 households, at most
  8 (2 at 10,000, 6 at 100,000: two more school kitchens, a second nursing home, a hospital); meals a day as the
  seed's (340 and 170) for the first two, 300 to 1,200 for the others;
* products: the demo's 26 vegetables of a valley, each with its season (``grenier.supply.demo.VEGETABLES``);
  a contract per kitchen, a line per vegetable in its months, prices in four parts;
* a year of supply weeks: the 52 weeks before this one and this one (the weeks of whole months, as the demo), each
  created by ``week_ensure`` (the contracts' schedule as demand), the kitchens' menus entered over it
  (``demand_set_many``: about half the lines changed, none at the school in its holidays), every farm's
  availability declared (``availability_declare_many``), the plan computed by the solver (``plan_compute``) and
  published (``plan_publish``), a grower of the group coordinating each week in turn; past weeks' deliveries
  recorded by the kitchens (``receipt_record_many``, 3 % of lines a little short); this week a hail (frost in
  winter) shortfall reported and re-planned (``shortfall_report``); next week open, demand and availability
  declared, not planned;
* money through the billing services: the development fund's contribution, advances at the season start to a third
  of the farms, each whole month invoiced (an invoice per kitchen, a statement per farm, ``invoices_issue``), every
  month but the last paid (``invoice_mark_paid``): the ledger stays true.

Every row is written by the product's services (no set-based writes: the whole year is a few thousand service calls;
at 100,000: 9,116 availability lines, 6,453 demand lines, 11,130 delivery lines (up to 400 a week), 383 documents
with 21,796 lines; at 10,000: 2,866, 2,114, 3,079, 120 and 6,042). Growing it took 63 s at 2,000 households, 76 s at
10,000 and 190 s at 100,000 (SQLite, on a shared two-core machine), the solver's 53 plans included. The planned and
published times of a past week are moved to the Friday before it, as the demo does. Users: ``producer@<slug>.bench``
(the first farm's person, who also coordinates this week), ``kitchen@<slug>.bench`` (manager of the school's central
kitchen); the others ``producer-NN@`` and ``kitchen-NN@``.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

MARK = "bench.grown.sup"

SEED_GROWERS = 6
MAX_GROWERS = 30
MAX_KITCHENS = 8
FIRST_WEEKDAYS = ((0, 3), (1, 4), (0, 2), (1, 3), (2, 4), (0, 3), (1, 4), (0, 2))


def sizes(households: int) -> tuple[int, int]:
    """(growers, kitchens) for a territory of ``households``."""
    growers = min(MAX_GROWERS, SEED_GROWERS + households // 5_000)
    kitchens = min(MAX_KITCHENS, 2 + households // 25_000)
    return growers, kitchens


def _kitchen_specs(count: int, rng: random.Random) -> list[tuple[str, str, int]]:
    """(name, kind, meals a day) of each kitchen, the seed's two first."""
    from grenier.supply.models import KitchenKind

    specs: list[tuple[str, str, int]] = [
        ("Cuisine centrale de la cité scolaire", KitchenKind.SCHOOL, 340),
        ("EHPAD Les Tilleuls", KitchenKind.NURSING_HOME, 170),
    ]
    more: list[tuple[str, str, int]] = [
        ("Cuisine centrale des écoles", KitchenKind.SCHOOL, 1_200),
        ("EHPAD Les Cèdres", KitchenKind.NURSING_HOME, 140),
        ("Centre hospitalier", KitchenKind.HOSPITAL, 600),
        ("Collège des Vignes", KitchenKind.SCHOOL, 450),
    ]
    for index in range(count - 2):
        name, kind, meals = more[index % len(more)]
        specs.append((name if index < len(more) else f"{name} {index // len(more) + 1}", kind, meals))
    return specs[:count]


def grow(territory: Any, households: int, months: int) -> None:
    """The group, its kitchens and a year of weeks in ``territory`` (``months`` is the fund's: the supply year is
    52 weeks whatever it is)."""
    from django.test.utils import override_settings

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        _grow(territory, households)


def _grow(territory: Any, households: int) -> None:
    from django.core import mail
    from django.utils import timezone

    from grenier.core import services as core
    from grenier.core.models import Role, User
    from grenier.supply import billing, services
    from grenier.supply.demo import VEGETABLES, _history_start
    from grenier.supply.models import ContractStatus

    rng = random.Random(households + 3)  # noqa: S311 - test data
    slug = territory.slug
    coordinator = User.objects.get(email=f"coordinator@{slug}.bench")
    growers, kitchen_count = sizes(households)
    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    first_monday = _history_start(this_monday, today)

    platform = services.platform_ensure(
        territory=territory, name="Plateforme des maraîchers", actor=coordinator
    )
    platform.siret = "90000000000019"
    platform.address = "1 place du Marché"
    platform.save(update_fields=["siret", "address"])

    products = {}
    for veg in VEGETABLES:
        products[veg.name] = services.product_create(
            territory=territory,
            name=veg.name,
            unit=veg.unit,
            grams_per_unit=veg.grams,
            step=500 if veg.unit == "kg" and veg.price_cents >= 600 else 1000 if veg.unit == "kg" else 1,
            actor=coordinator,
        )

    names = [veg.name for veg in VEGETABLES]
    farms = []
    people = []
    for index in range(growers):
        email = f"producer@{slug}.bench" if index == 0 else f"producer-{index:02d}@{slug}.bench"
        person = core.user_ensure(email=email, display_name=f"Maraîcher·ère {index + 1}")
        core.role_grant(user=person, territory=territory, role=Role.PRODUCER)
        people.append(person)
        farm = services.producer_create(
            territory=territory,
            farm_name=f"Ferme {index + 1:02d}",
            siret=f"8{index:013d}",
            latitude=Decimal("42.80") + Decimal(rng.randint(-2000, 2000)) / 10_000,
            longitude=Decimal("0.60") + Decimal(rng.randint(-2000, 2000)) / 10_000,
            certifications=["BIO"],
            certifier="Ecocert",
            users=[person],
            admitted_on=first_monday - timedelta(days=400),
            actor=coordinator,
        )
        # the first farm the largest; each grows 10 to 15 of the vegetables (every one grown by two farms at least)
        services.share_set(
            producer=farm,
            share_bp=2000 if index == 0 else rng.randint(800, 1800),
            valid_from=first_monday,
            actor=coordinator,
        )
        farms.append(
            (farm, set(rng.sample(names, rng.randint(10, 15))), 1.2 if index == 0 else rng.uniform(0.7, 1.1))
        )
    for name in names:
        missing = 2 - sum(name in grows for _farm, grows, _scale in farms)
        for _farm, grows, _scale in rng.sample([f for f in farms if name not in f[1]], max(0, missing)):
            grows.add(name)

    kitchens = []
    for index, (name, kind, meals) in enumerate(_kitchen_specs(kitchen_count, rng)):
        email = f"kitchen@{slug}.bench" if index == 0 else f"kitchen-{index:02d}@{slug}.bench"
        manager = core.user_ensure(email=email, display_name=f"Cuisine {index + 1}")
        core.role_grant(user=manager, territory=territory, role=Role.KITCHEN)
        kitchen = services.kitchen_create(
            territory=territory,
            name=name,
            kind=kind,
            meals_per_day=meals,
            siret=f"2{index:012d}" + "1",
            latitude=Decimal("42.80") + Decimal(rng.randint(-1000, 1000)) / 10_000,
            longitude=Decimal("0.60") + Decimal(rng.randint(-1000, 1000)) / 10_000,
            managers=[manager],
            actor=coordinator,
        )
        weekdays = FIRST_WEEKDAYS[index]
        contract = services.contract_create(
            territory=territory,
            kitchen=kitchen,
            title=f"Légumes biologiques — {name}",
            tender_lot="Marché 2025-RC-07, lot 3" if kind == "school" else "",
            starts_on=first_monday - timedelta(days=120),
            ends_on=first_monday + timedelta(days=3 * 365),
            delivery_weekdays=list(weekdays),
            status=ContractStatus.ACTIVE,
            actor=coordinator,
        )
        # the demo's weekly figures are for 340 (school) and 170 (nursing home) meals a day
        factor = meals / (340 if kind == "school" else 170)
        weekly = {}
        for veg in VEGETABLES:
            base = veg.school_weekly if kind == "school" else veg.ehpad_weekly
            quantity = round(base * factor * (1000 if veg.unit == "kg" else 1))
            step = products[veg.name].step
            weekly[veg.name] = max(step, quantity // step * step)
            price = veg.price_cents
            fee, levy, margin = round(price * 0.08), round(price * 0.04), round(price * 0.12)
            services.contract_line_set(
                contract=contract,
                product=products[veg.name],
                weekly_quantity=weekly[veg.name],
                minimum_quantity=weekly[veg.name] * 10,
                maximum_quantity=weekly[veg.name] * 40 * 3,
                cost_cents=price - fee - levy - margin,
                margin_cents=margin,
                service_fee_cents=fee,
                levy_cents=levy,
                months=sorted(veg.months),
                actor=coordinator,
            )
        kitchens.append((kitchen, kind, weekly))

    billing.devfund_contribute(
        territory=territory,
        amount_cents=400_000 * max(1, growers // SEED_GROWERS),
        source="Apport initial du groupement",
        idempotency_key="bench-devfund-start",
        actor=coordinator,
    )
    spring = date(today.year if (today.month, today.day) >= (3, 2) else today.year - 1, 3, 2)
    for farm, _grows, _scale in farms[1::3]:
        billing.advance_grant(
            producer=farm,
            amount_cents=80_000,
            monthly_deduction_cents=8_000,
            granted_on=max(spring, first_monday),
            purpose="Avance de trésorerie pour les semences et plants de la saison",
            idempotency_key=f"bench-advance-{farm.pk}",
            actor=coordinator,
        )

    weeks = (this_monday - first_monday).days // 7
    started = time.perf_counter()
    for n in range(weeks + 2):
        monday = first_monday + timedelta(weeks=n)
        _week(territory, monday, this_monday, products, farms, kitchens, people, rng, coordinator)
        mail.outbox = []
        if n % 13 == 12:
            print(f"    supply: {n + 1} weeks, {time.perf_counter() - started:.0f} s", flush=True)
    _invoices(territory, first_monday, today, coordinator)


def _week(
    territory: Any,
    monday: date,
    this_monday: date,
    products: dict[str, Any],
    farms: list[tuple[Any, set[str], float]],
    kitchens: list[tuple[Any, str, dict[str, int]]],
    people: list[Any],
    rng: random.Random,
    actor: Any,
) -> None:
    """One week through the services: opened, the menus entered, availability declared, then (up to this week)
    planned, published, received (before this week) or hit by a shortfall (this week)."""
    from grenier.supply import services
    from grenier.supply.demo import VEGETABLES, _at, _hail, _school_closed, _season
    from grenier.supply.models import Demand, PlanLine, SupplyWeek

    # the growers' rotation, the first farm's person on this week
    turn = people[((this_monday - monday).days // 7) % len(people)]
    week = services.week_ensure(territory=territory, monday=monday, actor=actor, coordinator=turn)
    scheduled = {
        (d.kitchen_id, d.product_id, d.day): int(d.quantity) for d in Demand.objects.filter(week=week)
    }
    for kitchen, kind, _weekly in kitchens:
        closed = kind == "school" and _school_closed(monday)
        items = []
        for veg in VEGETABLES:
            product = products[veg.name]
            season = _season(veg, monday)
            for day in [week.monday + timedelta(days=d) for d in range(5)]:
                before = scheduled.get((kitchen.pk, product.pk, day))
                if before is None:
                    continue
                if closed or season == 0 or rng.random() < 0.1:
                    wanted = 0
                elif rng.random() < 0.5 and season == 1.0:
                    continue  # the schedule as it is
                else:
                    wanted = round(before * season * rng.uniform(0.8, 1.2) / product.step) * product.step
                if wanted != before:
                    items.append(services.DemandItem(kitchen, product, day, wanted))
        services.demand_set_many(week=week, items=items, actor=actor)
    asked: dict[str, int] = {}
    for _kitchen, _kind, weekly in kitchens:
        for name, quantity in weekly.items():
            asked[name] = asked.get(name, 0) + quantity
    growing = {veg.name: sum(1 for _f, grows, _s in farms if veg.name in grows) for veg in VEGETABLES}
    for (farm, grows, scale), person in zip(farms, people, strict=True):
        declared = []
        for veg in VEGETABLES:
            season = _season(veg, monday)
            if veg.name not in grows or season == 0:
                continue
            product = products[veg.name]
            need = 1.3 * asked[veg.name] / growing[veg.name]
            quantity = round(need * season * scale * rng.uniform(0.6, 1.4) / product.step) * product.step
            if quantity:
                lot = round(need * 0.1 / product.step) * product.step if rng.random() < 0.3 else 0
                declared.append(services.AvailabilityItem(farm, product, quantity, min(lot, quantity)))
        services.availability_declare_many(week=week, items=declared, actor=person)
    if monday > this_monday:
        return  # next week: open
    services.plan_compute(week=week, actor=turn)
    services.plan_publish(week=week, actor=turn)
    friday = monday - timedelta(days=3)
    SupplyWeek.objects.filter(pk=week.pk).update(planned_at=_at(friday, 10), published_at=_at(friday, 16))
    week.refresh_from_db()
    if monday == this_monday:
        _hail(week, products, actor)
        return
    for kitchen, _kind, _weekly in kitchens:
        manager = kitchen.managers.first()
        receipts = []
        for line in PlanLine.objects.filter(week=week, kitchen=kitchen, quantity__gt=0).select_related(
            "product"
        ):
            short = rng.random() < 0.03
            received = (
                max(0, line.quantity - max(line.product.step, line.quantity // 5)) if short else line.quantity
            )
            receipts.append(services.ReceiptItem(line, received, "Livré incomplet" if short else ""))
        services.receipt_record_many(items=receipts, actor=manager)


def _invoices(territory: Any, first_monday: date, today: date, actor: Any) -> None:
    """Each whole month of the year invoiced on the 1st of the next, paid but the last."""
    from grenier.core.months import shift_month
    from grenier.supply import billing
    from grenier.supply.demo import _at
    from grenier.supply.models import Invoice

    month = shift_month(first_monday.replace(day=1), 1) if first_monday.day > 1 else first_monday
    last = shift_month(today.replace(day=1), -1)
    while month <= last:
        issued = billing.invoices_issue(
            territory=territory, month=month, actor=actor, issued_on=shift_month(month, 1)
        )
        if month < last:
            for invoice in issued:
                billing.invoice_mark_paid(invoice=invoice, reference=f"VIR-{invoice.reference}", actor=actor)
                Invoice.objects.filter(pk=invoice.pk).update(
                    paid_at=_at(invoice.issued_on + timedelta(days=20), 11)
                )
        month = shift_month(month, 1)


def pages(grown: Any) -> list[tuple[str, str, Any, str]]:
    """The supply pages of the coordinator, a grower (who coordinates this week), a kitchen manager and a funder,
    the heaviest first."""
    from django.utils import timezone

    from grenier.core.models import User
    from grenier.supply.models import Invoice, Kitchen, Producer

    slug = grown.slug
    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    next_monday = this_monday + timedelta(days=7)
    grower = User.objects.get(email=f"producer@{slug}.bench")
    cook = User.objects.get(email=f"kitchen@{slug}.bench")
    # the grower's farm of this group ("Ferme 01"): with the buying groups grown too, the same person acts for one
    # of their farms as well
    farm = Producer.objects.get(territory__slug=slug, users=grower, farm_name="Ferme 01")
    kitchen = Kitchen.objects.get(territory__slug=slug, managers=cook)
    last = (
        Invoice.objects.filter(territory__slug=slug)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    invoices = Invoice.objects.filter(territory__slug=slug, month=last or today).order_by("pk")
    invoice = invoices.filter(kitchen=kitchen).first()
    statement = invoices.filter(producer=farm).first()
    base = f"/t/{slug}/supply"
    week, coming = f"{base}/weeks/{this_monday}", f"{base}/weeks/{next_monday}"
    coordinator = grown.coordinator
    out = [
        ("supply week (published)", "coordinator", coordinator, f"{week}/"),
        ("supply week (open)", "coordinator", coordinator, f"{coming}/"),
        ("supply plan sheet", "coordinator", coordinator, f"{week}/sheet/"),
        ("supply home", "coordinator", coordinator, f"{base}/"),
        ("supply invoices", "coordinator", coordinator, f"{base}/invoices/"),
        ("supply invoices (all months)", "coordinator", coordinator, f"{base}/invoices/?month=all"),
        ("supply EGalim", "coordinator", coordinator, f"{base}/egalim/"),
        ("supply orders", "coordinator", coordinator, f"{coming}/demand/{kitchen.pk}/"),
        ("supply deliveries", "coordinator", coordinator, f"{week}/deliveries/{kitchen.pk}/"),
        ("supply advances", "coordinator", coordinator, f"{base}/advances/"),
        ("supply development fund", "coordinator", coordinator, f"{base}/development-fund/"),
        ("supply week (published)", "producer", grower, f"{week}/"),
        ("supply home", "producer", grower, f"{base}/"),
        ("supply availability", "producer", grower, f"{coming}/availability/{farm.pk}/"),
        ("supply invoices", "producer", grower, f"{base}/invoices/"),
        ("supply home", "kitchen", cook, f"{base}/"),
        ("supply orders", "kitchen", cook, f"{coming}/demand/{kitchen.pk}/"),
        ("supply deliveries", "kitchen", cook, f"{week}/deliveries/{kitchen.pk}/"),
        ("supply EGalim", "kitchen", cook, f"{base}/egalim/"),
        ("supply invoices", "kitchen", cook, f"{base}/invoices/"),
        ("supply home", "funder", grown.funder, f"{base}/"),
        ("supply development fund", "funder", grown.funder, f"{base}/development-fund/"),
    ]
    if invoice is not None:
        out.insert(6, ("supply invoice", "coordinator", coordinator, f"{base}/invoices/{invoice.pk}/"))
        out.append(("supply invoice", "kitchen", cook, f"{base}/invoices/{invoice.pk}/"))
    if statement is not None:
        out.append(("supply statement", "producer", grower, f"{base}/invoices/{statement.pk}/"))
    return out
