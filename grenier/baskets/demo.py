"""The solidarity baskets of the demo territory: one garden (an approved point of sale), two offers, about 120
subscribers at three pickup points, two funders' agreements (one running low, so the forecast warns), a season of
past distributions with a few baskets unclaimed, this week's sheets open to check off (even after the day),
referrals by two social workers, members' payments and workshops.

Idempotent: everything goes through the services with stable names and keys; history already generated is kept.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from grenier.baskets import selectors, services
from grenier.baskets.models import (
    Absence,
    Agreement,
    BasketOffer,
    BasketSize,
    DistributionLine,
    DistributionSheet,
    Frequency,
    FunderPayment,
    Garden,
    LineStatus,
    MemberPayment,
    PaymentMethod,
    PickupPoint,
    Referral,
    Subscription,
    WorkshopKind,
)
from grenier.core.models import Household, Territory, User
from grenier.fund import services as fund_services
from grenier.fund.models import Funder, FunderKind

Log = Callable[[str], None]
DOMAIN = "demo.grenier.test"
GARDEN = "Jardin des Sources"
SUBSCRIBERS = 120
THURSDAY = 3
SEASON_WEEKS_BEFORE = 26
SEASON_WEEKS_AFTER = 18
POINTS = [
    # name, address, opens at, volunteer
    ("Maison de quartier des Tilleuls", "2 place des Tilleuls", time(17, 0), f"cashier@{DOMAIN}"),
    ("Au jardin", "Chemin des Sources", time(16, 30), f"coordinator@{DOMAIN}"),
    ("Centre social du Canal", "14 quai du Canal", time(18, 0), f"epicerie-4@{DOMAIN}"),
]
WORKSHOPS = [
    ("Cuisiner les légumes d'hiver", WorkshopKind.COOKING),
    ("Semis et repiquage", WorkshopKind.GARDENING),
    ("Bien manger à petit budget", WorkshopKind.NUTRITION),
    ("Repas partagé au jardin", WorkshopKind.MEETING),
]


def extend(territory: Territory, log: Log) -> None:
    rng = random.Random(2010)  # noqa: S311 - demo data, not secrets
    today = timezone.localdate()
    # This week's distribution day: its sheets stay open, even once the day is past (Friday to Sunday), so that the
    # demo volunteer always has a sheet to tick.
    current = today - timedelta(days=today.weekday()) + timedelta(days=THURSDAY)
    season_start = current - timedelta(weeks=SEASON_WEEKS_BEFORE)
    season_end = current + timedelta(weeks=SEASON_WEEKS_AFTER)
    people = {u.email: u for u in User.objects.filter(email__endswith=f"@{DOMAIN}")}
    coordinator = people.get(f"coordinator@{DOMAIN}")

    store = fund_services.store_create(
        territory=territory,
        name=GARDEN,
        kind="jardin (paniers solidaires)",
        address="Chemin des Sources",
        actor=None,
    )
    if not store.is_approved:
        store = fund_services.store_approve(store=store, coverage_percent=100, on=season_start, actor=None)
    garden = services.garden_create(
        territory=territory, name=GARDEN, address="Chemin des Sources", store=store, actor=None
    )
    if coordinator is not None:
        garden.coordinators.add(coordinator)
    small = services.offer_create(
        garden=garden,
        name="Petit panier",
        size=BasketSize.SMALL,
        price_cents=1_250,
        season_start=season_start,
        season_end=season_end,
        weekday=THURSDAY,
        actor=None,
    )
    large = services.offer_create(
        garden=garden,
        name="Grand panier familial",
        size=BasketSize.LARGE,
        price_cents=1_890,
        season_start=season_start,
        season_end=season_end,
        weekday=THURSDAY,
        actor=None,
    )
    points = []
    for name, address, opens_at, volunteer in POINTS:
        point = services.pickup_point_create(
            garden=garden, name=name, address=address, weekday=THURSDAY, opens_at=opens_at, actor=None
        )
        if volunteer in people:
            point.volunteers.add(people[volunteer])
        points.append(point)

    created_agreements = not Agreement.objects.filter(garden=garden).exists()
    funders = {
        name: fund_services.funder_create(territory=territory, name=name, kind=kind, actor=None)
        for name, kind in (
            ("Fondation Terres Solidaires", FunderKind.PRIVATE),
            ("Conseil départemental", FunderKind.PUBLIC),
        )
    }
    _members(funders["Fondation Terres Solidaires"], people.get(f"funder@{DOMAIN}"))
    _members(funders["Conseil départemental"], people.get(f"financeur-2@{DOMAIN}"))
    foundation = services.agreement_create(
        garden=garden,
        funder=funders["Fondation Terres Solidaires"],
        name="Paniers solidaires — Fondation Terres Solidaires",
        share_bp=5_000,
        budget_cents=10_000_000_00,  # adjusted below, once the season's history is known
        starts_on=season_start,
        ends_on=season_end,
        priority=1,
        actor=None,
    )
    department = services.agreement_create(
        garden=garden,
        funder=funders["Conseil départemental"],
        name="Convention alimentation solidaire — Département",
        share_bp=2_000,
        budget_cents=10_000_000_00,
        starts_on=season_start,
        ends_on=season_end,
        priority=2,
        actor=None,
    )

    subscriptions = _subscribe(territory, garden, small, large, points, people, season_start, rng)
    log(f"    {len(subscriptions)} subscriptions at {len(points)} pickup points")

    made = 0
    week = season_start
    while week < current:
        made += _past_week(garden, week, rng)
        week += timedelta(weeks=1)
    if created_agreements:
        _size_budgets(garden, foundation, department, today)
    services.distribution_generate(garden=garden, day=current, actor=None, warn=False)
    _absences(subscriptions, current, rng)
    _payments(garden, subscriptions, rng)
    _funder_paid(funders["Fondation Terres Solidaires"], season_start, today)
    _workshops(garden, season_start, current)
    forecast = selectors.budget_forecast(garden, today)
    log(
        f"    {made} baskets of past weeks; this week's sheets open; "
        + (f"budgets short from {forecast.first_short:%Y-%m-%d}" if forecast.first_short else "budgets hold")
    )


def _members(funder: Funder, user: User | None) -> None:
    if user is not None:
        funder.members.add(user)


def _subscribe(
    territory: Territory,
    garden: Garden,
    small: BasketOffer,
    large: BasketOffer,
    points: list[PickupPoint],
    people: dict[str, User],
    season_start: date,
    rng: random.Random,
) -> list[Subscription]:
    """About 120 existing households (the member's first), most referred by ``social@`` or ``social-2@``."""
    households = list(Household.objects.filter(territory=territory, left_on__isnull=True).order_by("pk"))
    member = next((h for h in households if h.email == f"member@{DOMAIN}"), None)
    chosen = ([member] if member else []) + [h for h in households if h is not member][: SUBSCRIBERS - 1]
    workers = [people.get(f"social@{DOMAIN}"), people.get(f"social-2@{DOMAIN}")]
    result = []
    today = timezone.localdate()
    with transaction.atomic():
        for index, household in enumerate(chosen):
            worker = workers[index % 2] if index % 5 != 4 else None  # a few came by themselves
            referral = None
            if worker is not None:
                referral = services.referral_create(
                    garden=garden,
                    social_worker=worker,
                    consent=True,
                    card=household.card_number,
                    member_share_bp=2_000 if index % 9 == 3 else None,
                    idempotency_key=f"demo-referral-{household.pk}",
                )
            persons = household.persons.count()
            subscription = services.subscription_create(
                household=household,
                offer=large if persons >= 3 else small,
                pickup_point=points[0] if household is member else rng.choice(points),
                frequency=Frequency.FORTNIGHTLY if index % 6 == 5 else Frequency.WEEKLY,
                start_on=season_start + timedelta(weeks=rng.choice([0, 0, 0, 2, 4, 8])),
                actor=None,
                idempotency_key=f"demo-subscription-{household.pk}",
            )
            if referral is not None:  # the household agreed when it was referred, before its first basket
                consent_on = min(subscription.start_on, today)
                if referral.consent_on != consent_on:
                    Referral.objects.filter(pk=referral.pk).update(consent_on=consent_on)
            result.append(subscription)
    return result


def _past_week(garden: Garden, day: date, rng: random.Random) -> int:
    """A past week: its sheets generated (dated that day), most baskets collected, a few unclaimed, closed."""
    sheets = DistributionSheet.objects.filter(pickup_point__garden=garden, on=day)
    if sheets.exists() and not sheets.filter(closed_at__isnull=True).exists():
        return 0
    at = timezone.make_aware(datetime.combine(day, time(12, 0)))
    with transaction.atomic():
        result = services.distribution_generate(garden=garden, day=day, actor=None, at=at, warn=False)
        lines = list(DistributionLine.objects.filter(sheet__in=result.sheets).values_list("pk", flat=True))
        unclaimed = {pk for pk in lines if rng.random() < 0.05}
        closing = timezone.make_aware(datetime.combine(day, time(19, 30)))
        DistributionLine.objects.filter(pk__in=set(lines) - unclaimed).update(
            status=LineStatus.COLLECTED, checked_at=closing - timedelta(hours=1)
        )
        DistributionLine.objects.filter(pk__in=unclaimed).update(status=LineStatus.UNCLAIMED)
        DistributionSheet.objects.filter(pk__in=[s.pk for s in result.sheets]).update(closed_at=closing)
    return len(lines)


def _size_budgets(garden: Garden, foundation: Agreement, department: Agreement, today: date) -> None:
    """What is left of both budgets covers about the next six weeks: the department's runs out in three, the
    foundation then pays its part too and runs out in turn, so the forecast shows the coordinator the first short
    week ahead (and the e-mail goes out once it is within the warning horizon)."""
    forecast = selectors.budget_forecast(garden, today)
    weekly = max((w.to_fund_cents for w in forecast.weeks[:4]), default=0)
    for agreement in (foundation, department):
        agreement.refresh_from_db()
    foundation_budget = foundation.spent_cents + weekly * 5 // 7 * 4
    department_budget = department.spent_cents + weekly * 2 // 7 * 3
    Agreement.objects.filter(pk=foundation.pk).update(budget_cents=foundation_budget)
    Agreement.objects.filter(pk=department.pk).update(budget_cents=department_budget)


def _funder_paid(funder: Funder, season_start: date, today: date) -> None:
    """The foundation paid for the first three months of the season by transfer; the rest is still due."""
    if FunderPayment.objects.filter(funder=funder).exists():
        return
    end = min(season_start + timedelta(weeks=13), today)
    left = sum(d.left_cents for d in selectors.funder_dues(funder, season_start, end))
    if left > 0:
        services.funder_payment_record(
            funder=funder,
            start=season_start,
            end=end,
            amount_cents=left,
            received_on=min(end + timedelta(days=20), today),
            reference="VIR FTS T1",
            idempotency_key="demo-funder-payment-1",
            actor=None,
        )


def _absences(subscriptions: list[Subscription], current: date, rng: random.Random) -> None:
    if Absence.objects.filter(subscription__in=subscriptions).exists():
        return
    for subscription in subscriptions[1::17]:
        on = current + timedelta(weeks=rng.choice([1, 2, 3]))
        if selectors.is_due(subscription, on):
            services.absence_add(subscription=subscription, on=on, actor=None)


def _payments(garden: Garden, subscriptions: list[Subscription], rng: random.Random) -> None:
    """Most households paid their parts; a few owe."""
    if MemberPayment.objects.filter(garden=garden).exists():
        return
    for subscription in subscriptions:
        household = subscription.household
        owed = -selectors.member_balance(garden, household)
        if owed <= 0 or rng.random() < 0.1:
            continue
        amount = owed - (owed % 500) if rng.random() < 0.5 else owed
        if amount <= 0:
            continue
        method = rng.choice(
            [PaymentMethod.CASH, PaymentMethod.CASH, PaymentMethod.CHEQUE, PaymentMethod.TRANSFER]
        )
        services.member_payment_record(
            garden=garden,
            household=household,
            amount_cents=amount,
            method=method,
            reference="" if method == PaymentMethod.CASH else f"DEMO-{household.pk:05d}",
            idempotency_key=f"demo-payment-{household.pk}",
            actor=None,
        )


def _workshops(garden: Garden, season_start: date, current: date) -> None:
    day = season_start + timedelta(days=2)
    index = 0
    while day < current:
        title, kind = WORKSHOPS[index % len(WORKSHOPS)]
        services.workshop_record(
            garden=garden,
            on=day,
            title=title,
            kind=kind,
            participants=6 + (index * 7) % 11,
            actor=None,
        )
        day += timedelta(days=14)
        index += 1
