"""Distributions: the week's sheets generated and booked, lines checked off, sheets closed and reopened."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.baskets import accounts, notifications, selectors
from grenier.baskets.models import (
    Agreement,
    DistributionLine,
    DistributionSheet,
    Garden,
    LineFunding,
    LineStatus,
    PickupPoint,
    Subscription,
)
from grenier.baskets.split import Funding, split_price
from grenier.core.errors import Conflict
from grenier.core.models import Territory, User
from grenier.core.months import monday_of
from grenier.core.services import audit
from grenier.ledger import services as ledger
from grenier.ledger.models import Entry
from grenier.ledger.services import EntrySpec


@dataclass
class Generated:
    sheets: list[DistributionSheet] = field(default_factory=list)
    lines_created: int = 0
    short_cents: int = 0
    warned: list[str] = field(default_factory=list)  # e-mail addresses told that budgets run short


# A line still to write, with what each agreement pays of it: (agreement id, cents).
Planned = tuple[DistributionLine, list[tuple[int, int]]]


def distribution_generate(
    *, garden: Garden, day: date, actor: User | None, at: datetime | None = None, warn: bool = True
) -> Generated:
    """The week's sheets of every pickup point of ``garden`` (the week that holds ``day``): one line per
    subscription due that day, its price split (``split.py``), the agreements' budgets taken, one ledger entry per
    basket. Generating again adds only what is missing (a line is unique per subscription and day).

    When the budget forecast then shows a week short within the territory's warning horizon, the garden's
    coordinators are mailed (once the transaction commits)."""
    territory = garden.territory
    monday = monday_of(day)
    cap = selectors.settings_of(territory).member_cap_bp
    result = Generated()
    with transaction.atomic():
        # One generation per garden at a time: the garden row is the lock; agreements are then read fresh.
        Garden.objects.select_for_update().filter(pk=garden.pk).first()
        agreements = list(
            Agreement.objects.select_for_update().filter(garden=garden).order_by("priority", "id")
        )
        points = list(PickupPoint.objects.filter(garden=garden, active=True).order_by("pk"))
        sheets = _week_sheets(points, monday)
        result.sheets = list(sheets.values())
        planned = _plan_lines(points, sheets, agreements, monday=monday, cap=cap)
        if planned:
            _record_lines(territory, garden, agreements, planned, actor, at)
            result.lines_created = len(planned)
            result.short_cents = sum(line.short_cents for line, _parts in planned)
            audit(
                territory=territory,
                actor=actor,
                action="baskets.distribution.generate",
                subject=f"garden:{garden.pk}",
                week=monday.isoformat(),
                lines=len(planned),
            )
        if warn:
            result.warned = _warn_if_short(garden, monday)
    return result


def _week_sheets(points: list[PickupPoint], monday: date) -> dict[int, DistributionSheet]:
    """Each pickup point's sheet of the week that starts on ``monday`` (on the point's weekday), created if
    missing; by point id."""
    sheets: dict[int, DistributionSheet] = {}
    for point in points:
        on = monday + timedelta(days=point.weekday)
        sheet, _created = DistributionSheet.objects.get_or_create(pickup_point=point, on=on)
        sheets[point.pk] = sheet
    return sheets


def _plan_lines(
    points: list[PickupPoint],
    sheets: dict[int, DistributionSheet],
    agreements: list[Agreement],
    *,
    monday: date,
    cap: int,
) -> list[Planned]:
    """The lines still to write: one per subscription due on its point's day (not stopped, not absent) that has
    no line that day yet, in the order of the subscriptions; each line takes from the agreements' budgets what the
    lines before it left."""
    rooms = {a.pk: a.left_cents for a in agreements}
    dates = {sheet.on for sheet in sheets.values()}
    subscriptions = list(
        Subscription.objects.filter(pickup_point__in=points, start_on__lte=max(dates, default=monday))
        .exclude(stopped_on__lte=monday)
        .select_related("offer", "household")
        .order_by("pk")
    )
    absent = selectors.absences_on([s.pk for s in subscriptions], dates)
    done = set(
        DistributionLine.objects.filter(
            subscription_id__in=[s.pk for s in subscriptions], on__in=dates
        ).values_list("subscription_id", "on")
    )
    planned: list[Planned] = []
    for subscription in subscriptions:
        sheet = sheets[subscription.pickup_point_id]
        if (subscription.pk, sheet.on) in done or not selectors.is_due(subscription, sheet.on, absent):
            continue
        planned.append(_planned_line(subscription, sheet, agreements, rooms, cap))
    return planned


def _planned_line(
    subscription: Subscription,
    sheet: DistributionSheet,
    agreements: list[Agreement],
    rooms: dict[int, int],
    cap: int,
) -> Planned:
    """A subscription's line on its sheet: its price split between the household (its share, at most the cap) and
    the agreements running that day, each up to what is left of its budget (``rooms``, taken here)."""
    on = sheet.on
    share = min(cap, subscription.member_share_bp if subscription.member_share_bp is not None else cap)
    fundings = [
        Funding(a.pk, a.share_bp, a.amount_per_basket_cents, rooms[a.pk])
        for a in agreements
        if a.starts_on <= on <= a.ends_on
    ]
    split = split_price(subscription.offer.price_cents, share, fundings)
    for key, cents in split.parts:
        rooms[key] -= cents
    line = DistributionLine(
        sheet=sheet,
        subscription=subscription,
        household=subscription.household,
        offer=subscription.offer,
        on=on,
        price_cents=split.price_cents,
        member_part_cents=split.member_cents,
        funded_cents=split.funded_cents,
        short_cents=split.short_cents,
    )
    return line, list(split.parts)


def _warn_if_short(garden: Garden, monday: date) -> list[str]:
    """The garden's coordinators mailed (the addresses) when its budget forecast shows a week short within the
    territory's warning horizon; nobody otherwise."""
    forecast = selectors.budget_forecast(garden, today=monday)
    horizon = monday + timedelta(weeks=selectors.settings_of(garden.territory).warn_weeks)
    if forecast.first_short is not None and forecast.first_short <= horizon:
        return notifications.budget_running_short(garden, forecast)
    return []


def _record_lines(
    territory: Territory,
    garden: Garden,
    agreements: list[Agreement],
    planned: list[Planned],
    actor: User | None,
    at: datetime | None,
) -> None:
    """The agreements' budgets taken, one ledger entry per basket, then the lines (pointing at their entries) and
    what each agreement pays of each."""
    used: dict[int, int] = defaultdict(int)
    for _line, parts in planned:
        for key, cents in parts:
            used[key] += cents
    for agreement in agreements:
        if used[agreement.pk]:
            # Under the garden's lock; the condition and the check constraint keep the budget whole regardless.
            moved = Agreement.objects.filter(
                pk=agreement.pk, spent_cents__lte=F("budget_cents") - used[agreement.pk]
            ).update(spent_cents=F("spent_cents") + used[agreement.pk])
            if not moved:
                raise Conflict(_("An agreement's budget changed meanwhile: generate again."))
    codes = {accounts.garden_code(garden.pk)}
    codes |= {
        accounts.member_code(garden.pk, line.household_id) for line, _p in planned if line.member_part_cents
    }
    codes |= {accounts.agreement_code(key) for key in used}
    books = accounts.accounts(territory, codes)
    specs = []
    keys: dict[str, DistributionLine] = {}
    for line, parts in planned:
        earned = line.member_part_cents + line.funded_cents
        if earned == 0:
            continue  # nobody covers any of it: nothing owed, nothing earned
        legs = [(books[accounts.agreement_code(key)], -cents) for key, cents in parts]
        if line.member_part_cents:
            legs.append((books[accounts.member_code(garden.pk, line.household_id)], -line.member_part_cents))
        legs.append((books[accounts.garden_code(garden.pk)], earned))
        entry_key = f"baskets:due:{line.subscription_id}:{line.on.isoformat()}"
        keys[entry_key] = line
        specs.append(
            EntrySpec(entry_key, "baskets.due", legs, memo=f"{garden.name} {line.on:%d/%m/%Y}", at=at)
        )
    ledger.entries_record_batch(territory=territory, specs=specs, actor=actor)
    for entry_key, entry_id in Entry.objects.filter(
        territory=territory, idempotency_key__in=list(keys)
    ).values_list("idempotency_key", "pk"):
        keys[entry_key].entry_id = entry_id
    lines = DistributionLine.objects.bulk_create([line for line, _parts in planned])
    if any(line.pk is None for line in lines):  # a database that cannot return ids from a bulk insert
        ids = dict(
            DistributionLine.objects.filter(
                subscription_id__in=[line.subscription_id for line in lines],
                on__in={line.on for line in lines},
            ).values_list("subscription_id", "pk")
        )
        for line in lines:
            line.pk = ids[line.subscription_id]
    LineFunding.objects.bulk_create(
        LineFunding(line_id=line.pk, agreement_id=key, amount_cents=cents)
        for line, (_l, parts) in zip(lines, planned, strict=True)
        for key, cents in parts
    )


def line_check(*, line: DistributionLine, collected: bool, actor: User | None) -> DistributionLine:
    """A volunteer ticks a basket as collected (or unticks a mistake) while the sheet is open."""
    with transaction.atomic():
        sheet = DistributionSheet.objects.select_for_update().get(pk=line.sheet_id)
        if sheet.closed_at is not None:
            raise Conflict(_("This sheet is closed."))
        if collected and sheet.on > timezone.localdate():
            raise Conflict(
                _("The distribution is on %(day)s: a basket can be checked off from that day.")
                % {"day": sheet.on.strftime("%d/%m/%Y")},
                errors={"on": [_("The distribution day has not come yet.")]},
            )
        locked = DistributionLine.objects.select_for_update().get(pk=line.pk)
        status = LineStatus.COLLECTED if collected else LineStatus.DUE
        if locked.status != status:
            locked.status = status
            locked.checked_at = timezone.now() if collected else None
            locked.checked_by = actor if collected else None
            locked.save(update_fields=["status", "checked_at", "checked_by"])
            audit(
                territory=sheet.pickup_point.garden.territory,
                actor=actor,
                action="baskets.line.check",
                subject=f"line:{locked.pk}",
                collected=collected,
            )
    return locked


def sheet_close(*, sheet: DistributionSheet, actor: User | None) -> DistributionSheet:
    """The distribution is over: every basket not collected is recorded unclaimed. Closing twice changes nothing."""
    with transaction.atomic():
        locked = (
            DistributionSheet.objects.select_for_update()
            .select_related("pickup_point__garden")
            .get(pk=sheet.pk)
        )
        if locked.closed_at is not None:
            return locked
        if locked.on > timezone.localdate():
            raise Conflict(
                _("The distribution is on %(day)s: the sheet can be closed from that day.")
                % {"day": locked.on.strftime("%d/%m/%Y")},
                errors={"on": [_("The distribution day has not come yet.")]},
            )
        unclaimed = DistributionLine.objects.filter(sheet=locked, status=LineStatus.DUE).update(
            status=LineStatus.UNCLAIMED
        )
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        locked.save(update_fields=["closed_at", "closed_by"])
        audit(
            territory=locked.pickup_point.garden.territory,
            actor=actor,
            action="baskets.sheet.close",
            subject=f"sheet:{locked.pk}",
            unclaimed=unclaimed,
        )
    return locked


REOPEN_DAYS = 7  # a coordinator may reopen a sheet closed by mistake within this many days of its closing


def sheet_reopen(*, sheet: DistributionSheet, actor: User | None) -> DistributionSheet:
    """A coordinator reopens a sheet closed by mistake, within ``REOPEN_DAYS`` of its closing: the baskets recorded
    unclaimed are to collect again. Reopening an open sheet changes nothing."""
    with transaction.atomic():
        locked = (
            DistributionSheet.objects.select_for_update()
            .select_related("pickup_point__garden")
            .get(pk=sheet.pk)
        )
        if locked.closed_at is None:
            return locked
        if timezone.now() - locked.closed_at > timedelta(days=REOPEN_DAYS):
            raise Conflict(
                _("This sheet was closed more than %(days)s days ago: it can no longer be reopened.")
                % {"days": REOPEN_DAYS},
                errors={"closed_at": [_("Closed too long ago.")]},
            )
        reopened = DistributionLine.objects.filter(sheet=locked, status=LineStatus.UNCLAIMED).update(
            status=LineStatus.DUE
        )
        locked.closed_at = None
        locked.closed_by = None
        locked.save(update_fields=["closed_at", "closed_by"])
        audit(
            territory=locked.pickup_point.garden.territory,
            actor=actor,
            action="baskets.sheet.reopen",
            subject=f"sheet:{locked.pk}",
            reopened=reopened,
        )
    return locked
