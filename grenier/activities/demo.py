"""The activities' part of the demo territory: a season of the Jardin des Sources' workshops (past ones attended
and closed, the next ones open, one full with a waiting list), the growers' food-education sessions at the school
and two farm visits with classes, two afternoons at the farm for families at a small price (one paid in euros, one
in food credit), a shared meal each month at a tiers-lieu, and volunteering at the member's pickup
point with its hours recorded, rewarded under the reciprocity rule the committee adopted. Invented names only.

Keys carry each session's day, so a second run the same day changes nothing."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Case, When
from django.utils import timezone

from grenier.activities import reciprocity, services
from grenier.activities.models import (
    Activity,
    ActivityKind,
    Audience,
    PaidIn,
    Session,
    Volunteering,
    VolunteeringStatus,
    VolunteerSlot,
)
from grenier.baskets.models import DistributionSheet, Garden, GardenMembership, PickupPoint
from grenier.core.holidays import is_public_holiday
from grenier.core.models import Household, Territory, User
from grenier.fund.models import Store, StoreStatus
from grenier.governance import services as governance
from grenier.governance.models import Ballot, Body, BodyKind, Choice, Majority, Proposal
from grenier.supply.models import Kitchen, PlanLine, Producer, WeekStatus

Log = Callable[[str], None]
DOMAIN = "demo.grenier.test"
GARDEN = "Jardin des Sources"
FARMERS_MARKET = "Marché paysan du samedi"  # an approved store of the fund's demo
TIERS_LIEU = "Tiers-lieu La Fabrique"
CLASSES = [
    "CE2 — école des Sources",
    "CM1 — école du Canal",
    "CP — école des Tilleuls",
    "CM2 — école du Moulin",
]


def _open_day(day: date) -> date:
    """``day``, or the next day that is neither a public holiday nor a Sunday: nobody runs a workshop on 1 May."""
    while is_public_holiday(day) or day.weekday() == 6:
        day += timedelta(days=1)
    return day


def _school_day(day: date, today: date) -> date:
    """``day``, or the nearest open day outside the school holidays of Christmas (19 December to 3 January) and
    summer (4 July to 31 August): the next one for a coming session, the one before for a past one (so that a past
    session stays past). A class does not visit a farm on 29 December. The dates are the usual ones, not one
    académie's calendar; enough for the demo."""
    step = timedelta(days=-1 if day < today else 1)
    while (
        (day.month == 12 and day.day >= 19)
        or (day.month == 1 and day.day <= 3)
        or (day.month == 7 and day.day >= 4)
        or day.month == 8
        or is_public_holiday(day)
        or day.weekday() >= 5
    ):
        day += step
    return day


def _at(day: date, hour: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, hour))


def _activity(
    territory: Territory,
    kinds: dict[str, ActivityKind],
    code: str,
    title: str,
    description: str,
    organiser: services.OrganiserInput,
    managers: list[User],
) -> Activity:
    return services.activity_create(
        territory=territory,
        kind=kinds[code],
        title=title,
        description=description,
        organisers=[organiser],
        managers=managers,
        actor=None,
        idempotency_key=f"demo-activity-{code}-{title[:40]}",
    )


def _session(
    activity: Activity, day: date, start: time, end: time, capacity: int, **kwargs: object
) -> Session:
    return services.session_create(
        activity=activity,
        day=day,
        starts_at=start,
        ends_at=end,
        capacity=capacity,
        actor=None,
        idempotency_key=f"demo-session-{day.isoformat()}-{start:%H%M}",
        **kwargs,  # type: ignore[arg-type]
    )


def _fill(
    session: Session, households: list[Household], persons: int, today: date, first: Household | None = None
) -> None:
    """Register households until about ``persons`` persons; a past session is then attended (most came) and
    closed."""
    if session.closed_at is not None:
        return  # filled by an earlier run
    # Drawn from the session's own day, so that a second run draws the same households with the same requests.
    rng = random.Random(f"{session.date}-{session.starts_at}")  # noqa: S311 - demo data, not secrets
    households = list(households)
    rng.shuffle(households)
    if first is not None:
        households.insert(0, first)
    past = session.date < today
    late = timezone.now() > session.registration_deadline  # registered while it was open
    when = session.registration_deadline - timedelta(days=2) if late else None
    taken = 0
    for household in households:
        if taken >= persons:
            break
        adults = rng.choice([1, 1, 2])
        children = rng.choice([0, 0, 1, 2])
        result = services.register(
            session=session,
            actor=None,
            idempotency_key=f"demo-{session.pk}-{household.pk}",
            adults=adults,
            children=children,
            household=household,
            now=when,
        )
        taken += adults + children
        if past and result.registration.status == "confirmed":
            services.attendance_mark(
                registration=result.registration, attended=rng.random() < 0.85, actor=None
            )
    if past:
        if rng.random() < 0.5:
            services.walk_in_record(
                session=session, actor=None, idempotency_key=f"demo-door-{session.pk}", adults=1, children=1
            )
        services.session_close(session=session, actor=None, now=_at(session.date, session.ends_at))


def extend(territory: Territory, log: Log) -> None:
    today = timezone.localdate()
    kinds = {kind.code: kind for kind in services.kinds_ensure(territory=territory)}
    people = {u.email: u for u in User.objects.filter(email__endswith=f"@{DOMAIN}")}
    organiser = people.get(f"cashier@{DOMAIN}")  # the garden's volunteer runs its workshops
    grower = people.get(f"producer@{DOMAIN}")
    coordinator = people.get(f"coordinator@{DOMAIN}")
    teacher = people.get(f"school@{DOMAIN}")  # the school registers its classes
    garden = Garden.objects.filter(territory=territory, name=GARDEN).first()
    households = list(Household.objects.filter(territory=territory, left_on__isnull=True).order_by("pk"))
    member = next((h for h in households if h.email == f"member@{DOMAIN}"), None)
    garden_members = (
        list(
            Household.objects.filter(
                pk__in=GardenMembership.objects.filter(garden=garden, left_on__isnull=True).values(
                    "household"
                )
            ).order_by("pk")
        )
        if garden
        else []
    )
    with transaction.atomic():
        counts = _garden_season(
            territory, kinds, garden, organiser, households, garden_members, member, today
        )
        counts += _school(territory, kinds, grower, coordinator, teacher, today)
        counts += _family_visits(territory, kinds, grower, households, member, today)
        counts += _shared_meals(territory, kinds, coordinator, households, member, today)
    log(f"  {counts} activity sessions")
    _delivery_slot(territory, people, today, log)
    _coming_delivery_slot(territory, people, today, log)
    _reciprocity(territory, people, member, today, log)


def _delivery_slot(territory: Territory, people: dict[str, User], today: date, log: Log) -> None:
    """The platform's last delivery to a kitchen before today called for a volunteer to receive and put away the
    crates: the garden's volunteer came, the kitchen's manager recorded the hour and a half (through the services,
    as on the page, at the times it happened). The demo kitchen's own delivery when it had one, so that its
    manager finds the slot on the week's deliveries page its home links to."""
    delivered = PlanLine.objects.filter(
        week__territory=territory, week__status=WeekStatus.PUBLISHED, day__lt=today, quantity__gt=0
    ).select_related("week", "kitchen")
    kitchen_manager = people.get(f"kitchen@{DOMAIN}")
    own = delivered.filter(kitchen__managers=kitchen_manager) if kitchen_manager else delivered.none()
    line = (own if own.exists() else delivered).order_by("-day", "kitchen_id").first()
    helper = people.get(f"cashier@{DOMAIN}")
    if line is None or helper is None:
        return
    manager = line.kitchen.managers.order_by("pk").first() or people.get(f"coordinator@{DOMAIN}")
    the_day_before = _at(line.day - timedelta(days=1), time(12))
    slot = services.slot_create(
        territory=territory,
        delivery=services.Delivery(week=line.week, kitchen=line.kitchen, day=line.day),
        task="Réception et rangement des cagettes",
        starts_at=time(7, 30),
        ends_at=time(9, 0),
        places=1,
        actor=manager,
        idempotency_key=f"demo-delivery-slot-{line.kitchen_id}-{line.day.isoformat()}",
        now=the_day_before,
    )
    signed = services.sign_up(
        slot=slot, volunteer=helper, household=None, idempotency_key="demo-delivery", now=the_day_before
    )
    services.hours_record(
        volunteering=signed.volunteering, minutes=90, actor=manager, now=_at(line.day, time(9, 30))
    )
    log(f"  a volunteer at the delivery to {line.kitchen} on {line.day:%d/%m}")


def _coming_delivery_slot(territory: Territory, people: dict[str, User], today: date, log: Log) -> None:
    """The platform's next delivery to a kitchen after today calls for two volunteers to unload the truck; the
    garden's volunteer signed up. The demo kitchen's canteen when the published weeks deliver it after today, so
    that it reads the slot on its delivery page (one place left); else the next delivery to another kitchen (on a
    Thursday the canteen's next delivery is in a week not published yet, and in the school holidays it orders
    nothing). None when no published week delivers anything after today: from Friday's last delivery to the
    Sunday, next week's plan is still open in the supply demo."""
    manager = people.get(f"kitchen@{DOMAIN}")
    helper = people.get(f"cashier@{DOMAIN}")
    coming = PlanLine.objects.filter(
        week__territory=territory, week__status=WeekStatus.PUBLISHED, day__gt=today, quantity__gt=0
    ).select_related("week", "kitchen")
    own = coming.filter(kitchen__managers=manager) if manager else coming.none()
    line = (own if own.exists() else coming).order_by("day", "kitchen_id").first()
    if line is None or helper is None:
        return
    slot = services.slot_create(
        territory=territory,
        delivery=services.Delivery(week=line.week, kitchen=line.kitchen, day=line.day),
        task="Déchargement du camion",
        starts_at=time(7, 0),
        ends_at=time(8, 30),
        places=2,
        actor=line.kitchen.managers.order_by("pk").first(),
        idempotency_key=f"demo-delivery-slot-{line.kitchen_id}-{line.day.isoformat()}-coming",
    )
    services.sign_up(slot=slot, volunteer=helper, household=None, idempotency_key="demo-delivery-coming")
    log(f"  two volunteers wanted at the delivery to {line.kitchen} on {line.day:%d/%m}")


def _garden_season(
    territory: Territory,
    kinds: dict[str, ActivityKind],
    garden: Garden | None,
    organiser: User | None,
    households: list[Household],
    garden_members: list[Household],
    member: Household | None,
    today: date,
) -> int:
    by = services.OrganiserInput(garden=garden) if garden else services.OrganiserInput(association=GARDEN)
    managers = [organiser] if organiser else []
    cooking = _activity(
        territory,
        kinds,
        "cooking",
        "Cuisiner les légumes du jardin",
        "On cuisine ensemble les légumes de la semaine, puis on partage le repas. Recettes à emporter.",
        by,
        managers,
    )
    gardening = _activity(
        territory,
        kinds,
        "gardening",
        "Atelier jardinage : semis et repiquage",
        "Au potager du jardin : semer, repiquer, arroser. Bottes conseillées, outils prêtés.",
        by,
        managers,
    )
    place = {"place": garden, "address": ""} if garden else {"address": "Chemin des Sources"}
    count = 0
    # Every other week, from eight weeks ago to six weeks ahead, alternately cooking and gardening.
    monday = today - timedelta(days=today.weekday())
    for index, week in enumerate(range(-8, 7, 2)):
        day = _open_day(monday + timedelta(weeks=week, days=2))  # Wednesday afternoons
        activity = cooking if index % 2 == 0 else gardening
        start, end = (time(14, 0), time(16, 30)) if activity is cooking else (time(10, 0), time(12, 0))
        session = _session(
            activity,
            day,
            start,
            end,
            12,
            audience=Audience.TERRITORY,
            accessibility="Accès de plain-pied par le portail du bas ; toilettes adaptées.",
            **place,
        )
        count += 1
        pool = households[10:200]
        first = member if week in (-4, 2) else None
        if day >= today and week == 2:
            _fill(session, pool, 16, today, first)  # the full one: a waiting list behind it
        elif day < today:
            _fill(session, pool, 9, today, first)
        else:
            _fill(session, pool, 3 + index % 5, today, first)
    if garden_members and garden is not None:
        members_only = _session(
            cooking,
            _open_day(monday + timedelta(weeks=1, days=4)),
            time(18, 0),
            time(20, 0),
            10,
            audience=Audience.GARDEN,
            audience_garden=garden,
            place=garden,
        )
        _fill(members_only, garden_members[:6], 5, today)
        count += 1
    return count


def _school(
    territory: Territory,
    kinds: dict[str, ActivityKind],
    grower: User | None,
    coordinator: User | None,
    teacher: User | None,
    today: date,
) -> int:
    farm = Producer.objects.filter(territory=territory, farm_name="Ferme des Trois Sources").first()
    visited = Producer.objects.filter(territory=territory, farm_name="Ferme de la Combe").first()
    canteen = Kitchen.objects.filter(territory=territory).order_by("pk").first()
    managers = [person for person in (grower, coordinator) if person]
    lessons = _activity(
        territory,
        kinds,
        "school",
        "Le goût des légumes de saison",
        "Les maraîchers viennent en classe : goûter, reconnaître, cuisiner un légume de la saison.",
        services.OrganiserInput(producer=farm)
        if farm
        else services.OrganiserInput(association="Les maraîchers"),
        managers,
    )
    visits = _activity(
        territory,
        kinds,
        "farm-visit",
        "Visite de ferme pour les classes",
        "Une matinée à la ferme : les serres, les champs, les animaux, et un goûter des produits de la ferme.",
        services.OrganiserInput(producer=visited)
        if visited
        else services.OrganiserInput(association="Les maraîchers"),
        managers,
    )
    count = 0
    school_place: dict[str, object] = {"place": canteen} if canteen else {"address": "École des Sources"}
    for index, weeks in enumerate((-3, 1, 4)):
        day = _school_day(today + timedelta(weeks=weeks, days=1 - today.weekday()), today)  # Tuesdays
        session = _session(
            lessons, day, time(9, 30), time(11, 0), 30, audience=Audience.SCHOOL, **school_place
        )
        _class(session, CLASSES[index % len(CLASSES)], 24, grower, today, teacher)
        count += 1
    for index, weeks in enumerate((-2, 3)):
        day = _school_day(today + timedelta(weeks=weeks, days=3 - today.weekday()), today)  # Thursdays
        farm_place: dict[str, object] = {"place": visited} if visited else {"address": "Ferme de la Combe"}
        session = _session(visits, day, time(9, 0), time(12, 0), 32, audience=Audience.SCHOOL, **farm_place)
        _class(session, CLASSES[(index + 2) % len(CLASSES)], 26, grower, today, teacher)
        count += 1
    return count


def _family_visits(
    territory: Territory,
    kinds: dict[str, ActivityKind],
    grower: User | None,
    households: list[Household],
    member: Household | None,
    today: date,
) -> int:
    """Two Saturday afternoons at the farm for families, each at a small member's part: the past one paid in euros
    at the gate (recorded by the grower), the coming one in food credit when registering, paid at the farmers'
    market (the member's household among them; a household whose credit is short is not registered)."""
    farm = Producer.objects.filter(territory=territory, farm_name="Ferme de la Combe").first()
    visit = _activity(
        territory,
        kinds,
        "farm-visit",
        "Après-midi à la ferme en famille",
        "Nourrir les poules, cueillir des fraises, goûter le fromage de la ferme. Bottes conseillées.",
        services.OrganiserInput(producer=farm)
        if farm
        else services.OrganiserInput(association="Les maraîchers"),
        [grower] if grower else [],
    )
    # Its food credit is paid at the farmers' market where the farm sells (an approved store of the Vallée), chosen
    # by the coordinator (decision 0004); the fund settles it there each month.
    market = (
        Store.objects.filter(territory=territory, status=StoreStatus.APPROVED)
        .order_by(Case(When(name=FARMERS_MARKET, then=0), default=1), "pk")
        .first()
    )
    if market is not None:
        visit = services.activity_payee_store_set(activity=visit, store=market, actor=None)
    place: dict[str, object] = {"place": farm} if farm else {"address": "Ferme de la Combe"}
    count = 0
    for weeks, paid_in, adult, child in ((-2, PaidIn.EUROS, 300, 100), (2, PaidIn.CREDIT, 400, 200)):
        day = _open_day(today + timedelta(weeks=weeks, days=5 - today.weekday()))  # Saturdays
        session = _session(
            visit,
            day,
            time(14, 30),
            time(17, 0),
            25,
            audience=Audience.TERRITORY,
            paid_in=paid_in,
            price_adult_cents=adult,
            price_child_cents=child,
            **place,
        )
        count += 1
        if session.closed_at is not None:
            continue  # recorded by an earlier run
        late = timezone.now() > session.registration_deadline
        when = session.registration_deadline - timedelta(days=2) if late else None
        families = ([member] if member else []) + [h for h in households[3:9] if h != member]
        for household in families[:5]:
            try:
                registered = services.register(
                    session=session,
                    actor=None,
                    idempotency_key=f"demo-{session.pk}-{household.pk}",
                    adults=2,
                    children=1 + household.pk % 2,
                    household=household,
                    now=when,
                )
            except services.NotEnoughCredit:
                continue
            if session.date < today and registered.registration.status == "confirmed":
                services.attendance_mark(registration=registered.registration, attended=True, actor=None)
                services.euros_paid_record(registration=registered.registration, actor=grower)
        if session.date < today:
            services.session_close(session=session, actor=None, now=_at(session.date, session.ends_at))
    return count


def _class(
    session: Session, name: str, pupils: int, by: User | None, today: date, teacher: User | None = None
) -> None:
    """A class registered by its school (``teacher``; else by the organiser ``by``), marked present by ``by``."""
    if session.closed_at is not None:
        return  # filled by an earlier run
    past = session.date < today
    result = services.register(
        session=session,
        actor=teacher or by,
        idempotency_key=f"demo-class-{session.pk}",
        adults=2,
        children=pupils,
        class_name=name,
        now=session.registration_deadline - timedelta(days=3)
        if timezone.now() > session.registration_deadline
        else None,
    )
    if past:
        services.attendance_mark(registration=result.registration, attended=True, actor=by)
        services.session_close(session=session, actor=by, now=_at(session.date, session.ends_at))


def _shared_meals(
    territory: Territory,
    kinds: dict[str, ActivityKind],
    coordinator: User | None,
    households: list[Household],
    member: Household | None,
    today: date,
) -> int:
    meals = _activity(
        territory,
        kinds,
        "shared-meal",
        "Repas partagé du mois",
        "Chacun apporte un plat ou vient les mains vides : le tiers-lieu cuisine avec les invendus du marché.",
        services.OrganiserInput(association=TIERS_LIEU),
        [coordinator] if coordinator else [],
    )
    count = 0
    for months in range(-3, 3):
        month = date(today.year + (today.month - 1 + months) // 12, (today.month - 1 + months) % 12 + 1, 1)
        day = _open_day(month + timedelta(days=(4 - month.weekday()) % 7))  # the first Friday
        session = _session(
            meals,
            day,
            time(19, 0),
            time(22, 0),
            40,
            audience=Audience.TERRITORY,
            address="Tiers-lieu La Fabrique, 5 rue du Canal",
            accessibility="Salle au rez-de-chaussée, accessible en fauteuil.",
        )
        guest = member if months == -1 else None
        _fill(session, households[200:400], 25 if day < today else 8 + 4 * (months + 3), today, guest)
        count += 1
    return count


# --- volunteering at the pickup point, and the reciprocity rule ------------------------------------------------------

RECIPROCITY_WEEKS = 12  # the distributions of the last weeks that had volunteers


def _reciprocity(
    territory: Territory, people: dict[str, User], member: Household | None, today: date, log: Log
) -> None:
    """The committee adopted, before the first of these weeks, the rule "4 hours of volunteering give 15 € of food
    credit"; the member (the demo's login) and the garden's volunteer (no household here: hours, no reward) handed
    out baskets at the member's pickup point on past distributions; the rewards were paid; the next distribution
    calls for two volunteers."""
    volunteer = people.get(f"member@{DOMAIN}")
    helper = people.get(f"cashier@{DOMAIN}")
    garden = Garden.objects.filter(territory=territory, name=GARDEN).first()
    point = PickupPoint.objects.filter(garden=garden).order_by("pk").first() if garden else None
    if point is None or volunteer is None or member is None:
        return
    start = today - timedelta(weeks=RECIPROCITY_WEEKS)
    month = start.replace(day=1)
    with transaction.atomic():
        _reciprocity_vote(territory, month)
        sheets = DistributionSheet.objects.filter(pickup_point=point, on__gte=start, on__lt=today).order_by(
            "on"
        )
        for index, sheet in enumerate(sheets):
            slot = _past_slot(territory, sheet, helper)
            _past_volunteering(slot, helper, None, 150)
            if index % 2 == 0:  # the member every other week, two and a half hours
                _past_volunteering(slot, volunteer, member, 150)
        coming = DistributionSheet.objects.filter(
            pickup_point=point, on__gte=today, closed_at__isnull=True
        ).order_by("on")
        for sheet in coming[:1]:
            services.slot_create(
                territory=territory,
                sheet=sheet,
                task="Distribution des paniers",
                starts_at=time(16, 30),
                ends_at=time(19, 0),
                places=2,
                actor=helper,
                idempotency_key=f"demo-slot-{point.pk}-{sheet.on.isoformat()}",
                now=_at(sheet.on, time(8)) if sheet.on == today else None,
            )
    paid = reciprocity.rewards_pay(territory=territory, actor=None, today=today)
    log(
        f"  reciprocity: {paid.rewards} rewards paid now, {member.reciprocity_rewards.count()} to the member in all"
    )


def _reciprocity_vote(territory: Territory, month: date) -> None:
    """The committee's vote, held before ``month`` (public ballots, closed and applied by the services)."""
    body = Body.objects.filter(territory=territory, kind=BodyKind.COMMITTEE).order_by("pk").first()
    if (
        body is None
        or Proposal.objects.filter(territory=territory, idempotency_key="demo-vote-reciprocity").exists()
    ):
        return
    members = list(body.memberships.filter(left_at__isnull=True).select_related("user").order_by("pk"))
    if not members:
        return
    closes_at = _at(month - timedelta(days=10), time(20))
    proposal = Proposal.objects.create(
        territory=territory,
        body=body,
        author=members[0].user,
        title="Réciprocité : 4 heures de bénévolat donnent 15 € de crédit",
        text="Les tiers-lieux l'ont demandé : chaque tranche de 4 heures de bénévolat (distributions, ateliers, "
        "repas partagés) donne 15 € de crédit alimentaire au foyer du bénévole.",
        kind="reciprocity_rule",
        payload={"hours": 4, "reward": "credit", "credit_cents": 1_500, "garden_id": None, "basket_cents": 0},
        opens_at=closes_at - timedelta(days=10),
        closes_at=closes_at,
        quorum_percent=30,
        majority=Majority.SIMPLE,
        secret=False,
        effective_month=month,
        idempotency_key="demo-vote-reciprocity",
        notified_open_at=closes_at - timedelta(days=10),
        notified_reminder_at=closes_at - timedelta(days=1),
    )
    for index, membership in enumerate(members[:11]):
        Ballot.objects.create(
            proposal=proposal,
            voter=membership.user,
            choice=Choice.AGAINST if index in (3, 8) else Choice.ABSTAIN if index == 5 else Choice.FOR,
            cast_at=closes_at - timedelta(days=9 - index % 8),
        )
    governance.proposal_close(proposal=proposal, actor=None, now=closes_at + timedelta(hours=1))


def _past_slot(territory: Territory, sheet: DistributionSheet, helper: User | None) -> VolunteerSlot:
    """A past distribution's call for volunteers, as it was made (written as history: the sheet is closed)."""
    slot, _created = VolunteerSlot.objects.get_or_create(
        territory=territory,
        idempotency_key=f"demo-slot-{sheet.pickup_point_id}-{sheet.on.isoformat()}",
        defaults={
            "sheet": sheet,
            "task": "Distribution des paniers",
            "date": sheet.on,
            "starts_at": time(16, 30),
            "ends_at": time(19, 0),
            "places": 2,
            "created_by": helper,
        },
    )
    return slot


def _past_volunteering(
    slot: VolunteerSlot, person: User | None, household: Household | None, minutes: int
) -> None:
    if person is None:
        return
    Volunteering.objects.get_or_create(
        slot=slot,
        idempotency_key=f"demo-volunteering-{slot.pk}-{person.pk}",
        defaults={
            "volunteer": person,
            "household": household,
            "status": VolunteeringStatus.SIGNED_UP,
            "minutes": minutes,
            "recorded_by": slot.created_by,
            "recorded_at": _at(slot.date, time(19, 30)),
        },
    )
