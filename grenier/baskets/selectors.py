"""Reads of the solidarity baskets: who is due a basket when, the budget forecast, balances, statements, the
yearly report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from grenier.baskets import accounts
from grenier.baskets.models import (
    DEFAULT_MEMBER_CAP_BP,
    Absence,
    Agreement,
    BasketSettings,
    DistributionLine,
    DistributionSheet,
    Frequency,
    FunderPayment,
    FunderPaymentPart,
    Garden,
    LineFunding,
    LineStatus,
    MemberPayment,
    Referral,
    Subscription,
    Workshop,
    WorkshopKind,
)
from grenier.baskets.split import Funding, split_price
from grenier.core.models import Household, Territory
from grenier.core.months import monday_of
from grenier.core.selectors import household_match
from grenier.fund.models import Funder
from grenier.ledger.models import Account


def settings_of(territory: Territory) -> BasketSettings:
    """The territory's basket settings; the defaults (30 %, warn 4 weeks ahead) when none were recorded."""
    found = BasketSettings.objects.filter(territory=territory).first()
    return found or BasketSettings(territory=territory)


def absences_on(subscription_ids: Collection[int], dates: Iterable[date]) -> set[tuple[int, date]]:
    return set(
        Absence.objects.filter(subscription_id__in=subscription_ids, on__in=list(dates)).values_list(
            "subscription_id", "on"
        )
    )


def is_due(subscription: Subscription, on: date, absent: Collection[tuple[int, date]] = ()) -> bool:
    """Is a basket due to ``subscription`` on ``on``: its distribution day, within its season, started, not paused,
    not stopped, the right week for a fortnightly one, the household still a member, no absence announced."""
    offer = subscription.offer
    if on.weekday() != offer.weekday:
        return False
    if not offer.season_start <= on <= offer.season_end or on < subscription.start_on:
        return False
    if subscription.stopped_on is not None and on >= subscription.stopped_on:
        return False
    if (
        subscription.paused_from is not None
        and on >= subscription.paused_from
        and (subscription.resume_on is None or on < subscription.resume_on)
    ):
        return False
    if subscription.frequency == Frequency.FORTNIGHTLY and ((on - subscription.start_on).days // 7) % 2:
        return False
    household = subscription.household
    if household.left_on is not None and on >= household.left_on:
        return False
    return (subscription.pk, on) not in absent


def next_baskets(subscription: Subscription, today: date, count: int = 4) -> list[tuple[date, bool]]:
    """The next ``count`` distribution days of ``subscription`` from ``today``: (day, absent?), skipping days when
    nothing is due for another reason (pause, fortnight)."""
    absent = set(subscription.absences.filter(on__gte=today).values_list("on", flat=True))
    days: list[tuple[date, bool]] = []
    on = today + timedelta(days=(subscription.offer.weekday - today.weekday()) % 7)
    while len(days) < count and on <= subscription.offer.season_end:
        if on in absent:
            days.append((on, True))
        elif is_due(subscription, on):
            days.append((on, False))
        on += timedelta(days=7)
    return days


# --- the budget forecast ------------------------------------------------------------------------------------------


@dataclass
class ForecastWeek:
    monday: date
    baskets: int = 0
    to_fund_cents: int = 0  # the prices minus the members' parts
    covered_cents: int = 0
    short_cents: int = 0
    generated: bool = False  # the week's sheets are out: figures as recorded


@dataclass
class Forecast:
    weeks: list[ForecastWeek] = field(default_factory=list)
    left_now: dict[int, int] = field(default_factory=dict)  # agreement id → budget left today
    left_at_end: dict[int, int] = field(default_factory=dict)  # … once the season's baskets are paid
    runs_out: dict[int, date] = field(default_factory=dict)  # agreement id → the week its budget runs out

    @property
    def first_short(self) -> date | None:
        return next((week.monday for week in self.weeks if week.short_cents > 0), None)

    @property
    def short_cents(self) -> int:
        return sum(week.short_cents for week in self.weeks)


def budget_forecast(garden: Garden, today: date) -> Forecast:
    """Week by week from ``today``'s week to the end of the season: the baskets the active subscriptions will be
    due (announced absences and pauses counted), split as ``split.py`` does against what is left of each
    agreement's budget. The first week nobody covers in full is the first short week."""
    return budget_forecasts([garden], today)[garden.pk]


def budget_forecasts(gardens: Iterable[Garden], today: date) -> dict[int, Forecast]:
    """``budget_forecast`` of each garden (by id), read in five queries whatever the number of gardens: their
    territories' settings, agreements, subscriptions, absences and this season's lines already generated."""
    found = {garden.pk: garden for garden in gardens}
    if not found:
        return {}
    start = monday_of(today)
    caps = dict(
        BasketSettings.objects.filter(territory_id__in={g.territory_id for g in found.values()}).values_list(
            "territory_id", "member_cap_bp"
        )
    )
    agreements: dict[int, list[Agreement]] = {pk: [] for pk in found}
    for agreement in Agreement.objects.filter(garden_id__in=list(found)).order_by("priority", "id"):
        agreements[agreement.garden_id].append(agreement)
    active = (
        Subscription.objects.filter(offer__garden_id__in=list(found), offer__season_end__gte=start)
        .exclude(stopped_on__lte=start)
        .order_by("pk")
    )
    subscriptions: dict[int, list[Subscription]] = {pk: [] for pk in found}
    for subscription in active.select_related("offer", "pickup_point", "household").only(*_FORECAST_FIELDS):
        subscriptions[subscription.offer.garden_id].append(subscription)
    absent: set[tuple[int, date]] = set()
    recorded: list[tuple[int, date, int, int, int, int]] = []
    if any(subscriptions.values()):
        ids = active.values("pk")
        absent = set(
            Absence.objects.filter(subscription_id__in=ids, on__gte=start).values_list(
                "subscription_id", "on"
            )
        )
        recorded = list(
            DistributionLine.objects.filter(subscription_id__in=ids, on__gte=start).values_list(
                "subscription_id", "on", "price_cents", "member_part_cents", "funded_cents", "short_cents"
            )
        )
    return {
        pk: _forecast(
            start,
            caps.get(garden.territory_id, DEFAULT_MEMBER_CAP_BP),
            agreements[pk],
            subscriptions[pk],
            absent,
            recorded,
        )
        for pk, garden in found.items()
    }


# What the forecast reads of a subscription (``is_due`` included), its offer, pickup point and household.
_FORECAST_FIELDS = (
    "frequency",
    "start_on",
    "member_share_bp",
    "paused_from",
    "resume_on",
    "stopped_on",
    "offer__garden_id",
    "offer__price_cents",
    "offer__season_start",
    "offer__season_end",
    "offer__weekday",
    "pickup_point__weekday",
    "household__left_on",
)
_UNLIMITED = 1 << 62  # a budget no week can use up


def _forecast(
    start: date,
    cap: int,
    agreements: list[Agreement],
    subscriptions: list[Subscription],
    absent: Collection[tuple[int, date]],
    recorded: Iterable[tuple[int, date, int, int, int, int]],
) -> Forecast:
    """One garden's forecast from the week of ``start`` (a Monday): ``agreements`` by priority, ``subscriptions``
    by id, the absences announced and the lines already generated (subscription, day, price, member's part,
    funded, short) from ``start`` on.

    The same figures as splitting each basket due in turn (by week, then by subscription id), without doing it
    basket by basket: the baskets of a week are counted by what splits them alike (day, price, member's share)
    from each subscription's run of weeks, and each kind is split once against the budgets as they stand, every
    budget left taken as unlimited. While a week's demand on each budget fits in what is left of it, every basket
    of the week splits exactly so, in any order (``split_price`` takes a budget's room only where it is smaller
    than its part); a week where a budget runs out is split basket by basket, as before, in id order."""
    rooms = {a.pk: a.left_cents for a in agreements}
    forecast = Forecast(left_now=dict(rooms))
    if not subscriptions:
        forecast.left_at_end = dict(rooms)
        return forecast
    end = max(s.offer.season_end for s in subscriptions)
    weeks = [ForecastWeek(monday=start + timedelta(weeks=i)) for i in range((end - start).days // 7 + 1)]
    by_id = {s.pk: s for s in subscriptions}
    done: set[tuple[int, int]] = set()  # (subscription, week) with a line generated
    for subscription_id, on, price, member, funded, short in recorded:
        subscription = by_id.get(subscription_id)
        if subscription is None or on > end or on.weekday() != subscription.pickup_point.weekday:
            continue  # not a day the weeks below look at
        index = (on - start).days // 7
        week = weeks[index]
        week.generated = True
        week.baskets += 1
        week.to_fund_cents += price - member
        week.covered_cents += funded
        week.short_cents += short
        done.add((subscription_id, index))
    skipped: dict[int, set[int]] = defaultdict(set)  # subscription → weeks not counted: a line out, or away
    for subscription_id, index in done:
        skipped[subscription_id].add(index)
    for subscription_id, on in absent:
        subscription = by_id.get(subscription_id)
        if subscription is not None and on >= start and on.weekday() == subscription.pickup_point.weekday:
            skipped[subscription_id].add((on - start).days // 7)
    due: dict[tuple[int, int, int], list[int]] = {}  # (day, price, member's share) → baskets each week
    for subscription in subscriptions:
        share = min(cap, subscription.member_share_bp if subscription.member_share_bp is not None else cap)
        weekday = subscription.pickup_point.weekday
        counts = due.setdefault((weekday, subscription.offer.price_cents, share), [0] * len(weeks))
        found = _due_weeks(subscription, start + timedelta(days=weekday), len(weeks))
        for index in found:
            counts[index] += 1
        for index in skipped.get(subscription.pk, ()):
            if index in found:
                counts[index] -= 1
    for index, week in enumerate(weeks):
        splits = []
        demand: dict[int, int] = defaultdict(int)
        for (weekday, price, share), counts in due.items():
            count = counts[index]
            if not count:
                continue
            split = split_price(
                price,
                share,
                _fundings(agreements, week.monday + timedelta(days=weekday), rooms, unlimited=True),
            )
            for key, cents in split.parts:
                demand[key] += count * cents
            splits.append((split, count))
        if all(cents <= rooms[key] for key, cents in demand.items()):
            for split, count in splits:
                for key, cents in split.parts:
                    rooms[key] -= count * cents
                week.baskets += count
                week.to_fund_cents += count * (split.price_cents - split.member_cents)
                week.covered_cents += count * split.funded_cents
                week.short_cents += count * split.short_cents
            for key in demand:
                if rooms[key] <= 0 and key not in forecast.runs_out:
                    forecast.runs_out[key] = week.monday
        else:
            _split_one_by_one(week, index, cap, agreements, subscriptions, absent, done, rooms, forecast)
    forecast.weeks = weeks
    forecast.left_at_end = dict(rooms)
    return forecast


def _fundings(agreements: list[Agreement], on: date, rooms: dict[int, int], unlimited: bool) -> list[Funding]:
    """The agreements that pay for a basket of ``on``, by priority, with what is left of their budgets (or, with
    ``unlimited``, any budget not used up taken as unlimited)."""
    return [
        Funding(
            a.pk,
            a.share_bp,
            a.amount_per_basket_cents,
            (_UNLIMITED if rooms[a.pk] > 0 else 0) if unlimited else rooms[a.pk],
        )
        for a in agreements
        if a.starts_on <= on <= a.ends_on
    ]


def _split_one_by_one(
    week: ForecastWeek,
    index: int,
    cap: int,
    agreements: list[Agreement],
    subscriptions: list[Subscription],
    absent: Collection[tuple[int, date]],
    done: set[tuple[int, int]],
    rooms: dict[int, int],
    forecast: Forecast,
) -> None:
    """A week where a budget runs out: each basket due split in turn, by subscription id."""
    for subscription in subscriptions:
        on = week.monday + timedelta(days=subscription.pickup_point.weekday)
        if (subscription.pk, index) in done or not is_due(subscription, on, absent):
            continue
        share = min(cap, subscription.member_share_bp if subscription.member_share_bp is not None else cap)
        split = split_price(
            subscription.offer.price_cents, share, _fundings(agreements, on, rooms, unlimited=False)
        )
        for key, cents in split.parts:
            rooms[key] -= cents
            if rooms[key] <= 0 and key not in forecast.runs_out:
                forecast.runs_out[key] = week.monday
        week.baskets += 1
        week.to_fund_cents += split.price_cents - split.member_cents
        week.covered_cents += split.funded_cents
        week.short_cents += split.short_cents


def _due_weeks(subscription: Subscription, first: date, weeks: int) -> Collection[int]:
    """The indexes ``i`` of the ``weeks`` days ``first + 7 i`` on which ``is_due(subscription, day)`` holds, absences
    aside: the days within its season, started, before it stops and before the household left, not paused, and
    every other week for a fortnightly one."""
    offer = subscription.offer
    if first.weekday() != offer.weekday:
        return ()

    def at_or_after(day: date) -> int:  # the first index whose day is ``day`` or later
        return -((first - day).days // 7)

    low = max(0, at_or_after(offer.season_start), at_or_after(subscription.start_on))
    high = min(weeks, at_or_after(offer.season_end + timedelta(days=1)))  # exclusive
    for until in (subscription.stopped_on, subscription.household.left_on):
        if until is not None:
            high = min(high, at_or_after(until))
    found: Collection[int] = range(low, max(low, high))
    if subscription.frequency == Frequency.FORTNIGHTLY:
        # due when (day - start_on) // 7 is even, and (first + 7 i - start_on) // 7 = i + (first - start_on) // 7
        odd = (first - subscription.start_on).days // 7 % 2
        found = range(low + (low + odd) % 2, max(low, high), 2)
    if subscription.paused_from is not None:
        paused_low = at_or_after(subscription.paused_from)
        paused_high = at_or_after(subscription.resume_on) if subscription.resume_on is not None else weeks
        found = {i for i in found if not paused_low <= i < paused_high}
    return found


# --- people and money ---------------------------------------------------------------------------------------------


def referral_status(referral: Referral) -> str:
    """Where a referral stands, for the social worker: ``left`` (the household left the territory), ``subscribed``,
    ``paused``, ``stopped``, ``withdrawn`` (by its social worker), or ``member`` (a member of the garden, no basket
    yet)."""
    return referral_statuses([referral])[referral.pk]


def referral_statuses(referrals: Collection[Referral]) -> dict[int, str]:
    """``referral_status`` of each referral (by id; their households read with them), the subscriptions of their
    households at their gardens read in one query."""
    subscriptions: dict[tuple[int, int], list[tuple[date | None, date | None]]] = defaultdict(list)
    if any(r.status != "withdrawn" and r.household.left_on is None for r in referrals):
        for household_id, garden_id, stopped_on, paused_from in Subscription.objects.filter(
            household_id__in={r.household_id for r in referrals},
            offer__garden_id__in={r.garden_id for r in referrals},
        ).values_list("household_id", "offer__garden_id", "stopped_on", "paused_from"):
            subscriptions[(household_id, garden_id)].append((stopped_on, paused_from))
    return {
        r.pk: _referral_status(r, subscriptions.get((r.household_id, r.garden_id), [])) for r in referrals
    }


def _referral_status(referral: Referral, subscriptions: list[tuple[date | None, date | None]]) -> str:
    if referral.status == "withdrawn":
        return "withdrawn"
    if referral.household.left_on is not None:
        return "left"
    if any(stopped_on is None and paused_from is None for stopped_on, paused_from in subscriptions):
        return "subscribed"
    if any(stopped_on is None for stopped_on, _paused_from in subscriptions):
        return "paused"
    if subscriptions:
        return "stopped"
    return "member"


def member_balance(garden: Garden, household: Household) -> int:
    """What the household has paid minus what its baskets' member parts came to (negative: it owes)."""
    return (
        Account.objects.filter(
            territory_id=garden.territory_id, code=accounts.member_code(garden.pk, household.pk)
        )
        .values_list("balance_cents", flat=True)
        .first()
        or 0
    )


@dataclass
class MemberRow:
    household: Household
    due_cents: int
    paid_cents: int

    @property
    def balance_cents(self) -> int:
        return self.paid_cents - self.due_cents


def household_label(household: Household) -> str:
    """A household's name with what tells it from a namesake: its card number's last four digits (its id if it
    has no card)."""
    card = (household.card_number or "").strip()
    tail = f"n° …{card[-4:]}" if card else f"H-{household.pk}"
    return f"{household.display_name} · {tail}"


def households_matching(households: QuerySet[Household], q: str) -> QuerySet[Household]:
    """Households whose name holds ``q``, or whose card number holds its digits (any number of them)."""
    match = household_match(q, card_digits=1)
    return households if match is None else households.filter(match)


def member_rows(garden: Garden, q: str = "") -> list[MemberRow]:
    """Each household with baskets or payments at ``garden``: member parts due, paid, balance."""
    due = dict(
        DistributionLine.objects.filter(sheet__pickup_point__garden=garden)
        .values_list("household_id")
        .annotate(total=Sum("member_part_cents"))
        .values_list("household_id", "total")
    )
    paid = dict(
        MemberPayment.objects.filter(garden=garden)
        .values_list("household_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("household_id", "total")
    )
    households = households_matching(Household.objects.filter(pk__in=set(due) | set(paid)), q).order_by(
        "name", "pk"
    )
    return [MemberRow(h, due.get(h.pk, 0) or 0, paid.get(h.pk, 0) or 0) for h in households]


def sheets_for_points(points: QuerySet, around: date) -> QuerySet[DistributionSheet]:
    """Sheets of ``points`` from two weeks before ``around`` on, nearest first."""
    return (
        DistributionSheet.objects.filter(pickup_point__in=points, on__gte=around - timedelta(days=14))
        .select_related("pickup_point__garden")
        .annotate(
            lines_count=Count("lines"),
            collected_count=Count("lines", filter=Q(lines__status=LineStatus.COLLECTED)),
            unclaimed_count=Count("lines", filter=Q(lines__status=LineStatus.UNCLAIMED)),
        )
        .order_by("on", "pickup_point__name")
    )


# --- statements and the yearly report -----------------------------------------------------------------------------


@dataclass
class AgreementDue:
    """What an agreement owes for the baskets of a period (``due_cents``), what its funder paid for that period,
    and what is left to pay."""

    agreement: Agreement
    due_cents: int
    paid_cents: int
    total_due_cents: int  # for every basket it ever paid for
    total_paid_cents: int

    @property
    def left_cents(self) -> int:
        """Never more than the period's due, nor more than the agreement owes in all."""
        return max(0, min(self.due_cents - self.paid_cents, self.total_due_cents - self.total_paid_cents))


def funder_dues(funder: Funder, start: date, end: date) -> list[AgreementDue]:
    """For each agreement of ``funder`` (by garden, then priority): due for the baskets from ``start`` to ``end``,
    paid for that period, left.

    The rule: a payment counts for every period its own period overlaps. So a payment for the first quarter
    shows in the statement of January and in the statement of the year; and what is left for a period is never
    more than its baskets came to minus every payment that may have been meant for them, so a funder is never
    asked, nor allowed, to pay twice for the same baskets."""
    agreements = _agreements_of(funder)
    due = dict(
        LineFunding.objects.filter(
            agreement_id__in=[a.pk for a in agreements], line__on__gte=start, line__on__lte=end
        )
        .values_list("agreement_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("agreement_id", "total")
    )
    return _dues(agreements, start, end, due)


def _agreements_of(funder: Funder) -> list[Agreement]:
    return list(
        Agreement.objects.filter(funder=funder)
        .select_related("garden")
        .order_by("garden__name", "priority", "id")
    )


def _dues(agreements: list[Agreement], start: date, end: date, due: dict[int, int]) -> list[AgreementDue]:
    """``funder_dues`` from what each agreement's baskets of the period came to (``due``): what it owes for every
    basket it ever paid for is its budget used (``spent_cents``, moved in the same transaction as the baskets'
    fundings are written, and by nothing else), its payments read in one query."""
    paid: dict[int, tuple[int, int]] = {
        agreement_id: (period or 0, total or 0)
        for agreement_id, period, total in FunderPaymentPart.objects.filter(
            agreement_id__in=[a.pk for a in agreements]
        )
        .values_list("agreement_id")
        .annotate(
            period=Sum(
                "amount_cents", filter=Q(payment__period_start__lte=end, payment__period_end__gte=start)
            ),
            total=Sum("amount_cents"),
        )
        .values_list("agreement_id", "period", "total")
    }
    return [
        AgreementDue(
            agreement=a,
            due_cents=due.get(a.pk) or 0,
            paid_cents=paid.get(a.pk, (0, 0))[0],
            total_due_cents=a.spent_cents,
            total_paid_cents=paid.get(a.pk, (0, 0))[1],
        )
        for a in agreements
    ]


@dataclass
class AgreementStatement:
    agreement: Agreement
    baskets: int
    funded_cents: int  # what its part of the period's baskets came to: due by the funder
    by_month: list[tuple[date, int, int]]  # month, baskets, cents
    by_day: list[tuple[date, str, int, int]]  # day, pickup point, baskets, cents
    paid_cents: int = 0  # paid by the funder for the period (see ``funder_dues``)
    left_cents: int = 0  # left to pay for the period
    ahead_cents: int = 0  # of its budget used, what the baskets of sheets still to come (after today) took


@dataclass
class Statement:
    funder: Funder
    start: date
    end: date
    agreements: list[AgreementStatement]
    payments: list[FunderPayment] = field(default_factory=list)  # those counted for the period

    @property
    def baskets(self) -> int:
        return sum(a.baskets for a in self.agreements)

    @property
    def funded_cents(self) -> int:
        return sum(a.funded_cents for a in self.agreements)

    @property
    def due_cents(self) -> int:
        return self.funded_cents

    @property
    def paid_cents(self) -> int:
        return sum(a.paid_cents for a in self.agreements)

    @property
    def left_cents(self) -> int:
        return sum(a.left_cents for a in self.agreements)


def statement(funder: Funder, start: date, end: date) -> Statement:
    """What ``funder``'s agreements paid for baskets due from ``start`` to ``end`` (inclusive), with each budget's
    total, used and left (to date).

    Its baskets by agreement, day and pickup point in one grouped query for all the agreements, over the days of
    the period and those still to come (what the sheets ahead took): the months and the totals are summed from the
    days (truncating each line's day to its month is a Python function per row on SQLite)."""
    today = timezone.localdate()
    agreements = _agreements_of(funder)
    by_day: dict[int, list[tuple[date, str, int, int]]] = {a.pk: [] for a in agreements}
    ahead: dict[int, int] = defaultdict(int)
    for agreement_id, day, point, n, cents in (
        LineFunding.objects.filter(agreement_id__in=list(by_day))
        .filter(Q(line__on__gte=start, line__on__lte=end) | Q(line__on__gt=today))
        .values_list("agreement_id", "line__on", "line__sheet__pickup_point__name")
        .annotate(n=Count("id"), cents=Sum("amount_cents"))
        .order_by("agreement_id", "line__on", "line__sheet__pickup_point__name")
    ):
        if start <= day <= end:
            by_day[agreement_id].append((day, point, n, cents))
        if day > today:
            ahead[agreement_id] += cents
    dues = {
        d.agreement.pk: d
        for d in _dues(
            agreements,
            start,
            end,
            {pk: sum(cents for _day, _point, _n, cents in days) for pk, days in by_day.items()},
        )
    }
    rows = []
    for agreement in agreements:
        months: dict[date, list[int]] = {}
        for day, _point, n, cents in by_day[agreement.pk]:
            month = months.setdefault(day.replace(day=1), [0, 0])
            month[0] += n
            month[1] += cents
        by_month = [(month, n, cents) for month, (n, cents) in sorted(months.items())]
        rows.append(
            AgreementStatement(
                agreement=agreement,
                baskets=sum(n for _month, n, _cents in by_month),
                funded_cents=sum(cents for _month, _n, cents in by_month),
                by_month=by_month,
                by_day=by_day[agreement.pk],
                paid_cents=dues[agreement.pk].paid_cents,
                left_cents=dues[agreement.pk].left_cents,
                ahead_cents=ahead[agreement.pk],
            )
        )
    payments = list(
        FunderPayment.objects.filter(funder=funder, period_start__lte=end, period_end__gte=start)
        .prefetch_related("parts__agreement")
        .order_by("received_on", "id")
    )
    return Statement(funder=funder, start=start, end=end, agreements=rows, payments=payments)


@dataclass
class YearReport:
    year: int
    baskets_due: int = 0
    baskets_distributed: int = 0
    baskets_unclaimed: int = 0
    members: int = 0
    value_cents: int = 0
    member_part_cents: int = 0
    members_paid_cents: int = 0
    short_cents: int = 0
    partners: list[tuple[str, int, int, int]] = field(
        default_factory=list
    )  # funder, baskets, cents, received
    partners_received_cents: int = 0  # what funders paid in the year (for baskets of any period)
    workshops: int = 0
    workshop_participants: int = 0
    workshops_by_kind: list[tuple[str, int]] = field(default_factory=list)  # (kind's label, workshops)
    workshops_since: date | None = (
        None  # counted from the activities' sessions from this day (typed before it)
    )
    workshops_typed: int = 0  # of ``workshops``, those typed on the gardens' pages before ``workshops_since``
    baskets_ahead: int = 0  # booked on sheets of days still to come (not counted above)
    ahead_funded_cents: int = 0


@dataclass(frozen=True)
class HeldWorkshops:
    """The gardens' workshops held in a period as another app counts them (the activities' sessions): from
    ``since`` (the first one it knows in the territory) on; the typed ``Workshop`` rows count only before it."""

    since: date | None
    held: int = 0
    participants: int = 0
    by_kind: list[tuple[str, int]] = field(default_factory=list)


# Filled when Django starts by the app that counts the workshops held (``activities.figures``): baskets imports it
# not. Empty: the typed workshops only.
workshop_sources: list[Callable[[Territory, date, date], HeldWorkshops]] = []


def _capital(label: str) -> str:
    """A kind's label as a heading (« Jardinage »), so that a typed kind and the activities' one share a line."""
    return label[:1].upper() + label[1:]


def _workshops(territory: Territory, start: date, end: date, report: YearReport) -> None:
    """The workshops held from ``start`` to ``end``: the activities' sessions once they exist, the workshops typed
    on the gardens' pages before that."""
    held = workshop_sources[0](territory, start, end) if workshop_sources else HeldWorkshops(since=None)
    typed = Workshop.objects.filter(garden__territory=territory, on__gte=start, on__lte=end)
    if held.since is not None:
        typed = typed.filter(on__lt=held.since)
    counted = typed.aggregate(n=Count("id"), people=Sum("participants"))
    kinds = dict(WorkshopKind.choices)
    by_kind: dict[str, int] = {
        _capital(str(kinds.get(kind, kind))): n
        for kind, n in typed.values_list("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
        .values_list("kind", "n")
    }
    for label, n in held.by_kind:
        by_kind[label] = by_kind.get(label, 0) + n
    report.workshops_typed = counted["n"] or 0
    report.workshops = report.workshops_typed + held.held
    report.workshop_participants = (counted["people"] or 0) + held.participants
    report.workshops_by_kind = sorted(by_kind.items())
    report.workshops_since = held.since


def year_report(territory: Territory, year: int, funders: QuerySet[Funder] | None = None) -> YearReport:
    """The year in the seeds' terms: baskets distributed, members, the part paid by members and by each partner,
    workshops held. ``funders`` limits the partners listed (a funder reads its own line only).

    Only the baskets of days gone (today included) count; those of sheets still to come are counted apart
    (``baskets_ahead``), so that the baskets distributed and the partners' baskets add up."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    today = timezone.localdate()
    booked = DistributionLine.objects.filter(
        sheet__pickup_point__garden__territory=territory, on__gte=start, on__lte=end
    )
    lines = booked.filter(on__lte=today)
    ahead = booked.filter(on__gt=today).aggregate(
        n=Count("id"), cents=Sum(F("price_cents") - F("member_part_cents") - F("short_cents"))
    )
    totals = lines.aggregate(
        due=Count("id"),
        collected=Count("id", filter=Q(status=LineStatus.COLLECTED)),
        unclaimed=Count("id", filter=Q(status=LineStatus.UNCLAIMED)),
        members=Count("household", distinct=True),
        value=Sum("price_cents"),
        member=Sum("member_part_cents"),
        short=Sum("short_cents"),
    )
    report = YearReport(
        year=year,
        baskets_due=totals["due"] or 0,
        baskets_distributed=totals["collected"] or 0,
        baskets_unclaimed=totals["unclaimed"] or 0,
        members=totals["members"] or 0,
        value_cents=totals["value"] or 0,
        member_part_cents=totals["member"] or 0,
        short_cents=totals["short"] or 0,
        baskets_ahead=ahead["n"] or 0,
        ahead_funded_cents=ahead["cents"] or 0,
    )
    # The year's local days as a range of instants (casting each payment's instant to its local day is a Python
    # function per row on SQLite).
    since = timezone.make_aware(datetime.combine(start, time.min))
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
    report.members_paid_cents = (
        MemberPayment.objects.filter(
            garden__territory=territory, created_at__gte=since, created_at__lt=until
        ).aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )
    partners = LineFunding.objects.filter(line__in=lines)
    if funders is not None:
        partners = partners.filter(agreement__funder__in=funders)
    received_rows = FunderPayment.objects.filter(
        territory=territory, received_on__gte=start, received_on__lte=end
    )
    if funders is not None:
        received_rows = received_rows.filter(funder__in=funders)
    received = dict(
        received_rows.values_list("funder__name")
        .annotate(cents=Sum("amount_cents"))
        .values_list("funder__name", "cents")
    )
    due = {
        name: (n, cents)
        for name, n, cents in partners.values_list("agreement__funder__name")
        .annotate(n=Count("id"), cents=Sum("amount_cents"))
        .values_list("agreement__funder__name", "n", "cents")
    }
    report.partners = sorted(
        (
            (name, due.get(name, (0, 0))[0], due.get(name, (0, 0))[1] or 0, received.get(name) or 0)
            for name in set(due) | set(received)
        ),
        key=lambda row: (-row[2], row[0]),
    )
    report.partners_received_cents = sum(received.values())
    _workshops(territory, start, end, report)
    return report
