"""Reads of the common fund: a household's statement, a store's payments, the fund's figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import BigIntegerField, Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from grenier.core.models import Household, Territory
from grenier.fund.models import (
    Funder,
    Grant,
    MonthLine,
    MonthlyRun,
    Payment,
    Refund,
    RunTotals,
    Settlement,
    SettlementStatus,
    Store,
    StoreHour,
    StoreStatus,
)
from grenier.fund.services import (
    CONTRIBUTIONS,
    CREDIT_ISSUER,
    FUND_EUR,
    GRANTS,
    credit_balance,
    first_of_month,
    month_bounds,
    rule_for,
    scale_for,
)
from grenier.ledger.models import Account


def store_payments(store: Store, *, limit: int = 50) -> QuerySet[Payment]:
    return Payment.objects.filter(store=store).order_by("-created_at", "-id")[:limit]


@dataclass
class StatementLine:
    when: date
    label: str
    store: str
    credit_cents: int  # + received, - spent


@dataclass
class Statement:
    household: Household
    month: date
    balance_cents: int
    allocation_cents: int = 0
    returned_cents: int = 0
    contribution_cents: int = 0
    spent_cents: int = 0
    refunded_cents: int = 0
    by_store: list[tuple[str, int, int]] = field(default_factory=list)  # name, payments, credit spent
    lines: list[StatementLine] = field(default_factory=list)


def household_statement(household: Household, month: date) -> Statement:
    """What a household received, spent and contributed in ``month``, and its credit now."""
    month = first_of_month(month)
    start, end = month_bounds(month)
    statement = Statement(household=household, month=month, balance_cents=credit_balance(household))
    line = MonthLine.objects.filter(household=household, month=month).first()
    if line is not None:
        statement.allocation_cents = line.allocation_cents
        statement.returned_cents = line.returned_cents
        statement.contribution_cents = line.contribution_paid_cents
        statement.lines.append(StatementLine(month, "allocation", "", line.allocation_cents))
        if line.returned_cents:
            statement.lines.append(StatementLine(month, "returned", "", -line.returned_cents))
    payments = Payment.objects.filter(
        household=household, created_at__gte=start, created_at__lt=end
    ).select_related("store")
    by_store: dict[str, list[int]] = {}
    for payment in payments.order_by("created_at"):
        statement.spent_cents += payment.credit_cents
        statement.lines.append(
            StatementLine(payment.created_at.date(), "payment", payment.store.name, -payment.credit_cents)
        )
        totals = by_store.setdefault(payment.store.name, [0, 0])
        totals[0] += 1
        totals[1] += payment.credit_cents
    for refund in Refund.objects.filter(
        payment__household=household, created_at__gte=start, created_at__lt=end
    ).select_related("payment__store"):
        statement.refunded_cents += refund.credit_cents
        statement.lines.append(
            StatementLine(refund.created_at.date(), "refund", refund.payment.store.name, refund.credit_cents)
        )
    statement.lines.sort(key=lambda item: item.when)
    statement.by_store = sorted(
        ((name, n, total) for name, (n, total) in by_store.items()), key=lambda row: -row[2]
    )
    return statement


@dataclass(frozen=True)
class MonthFigures:
    month: date
    households: int
    allocation: int  # cents of credit issued
    contributions: int
    spent: int
    grants: int


@dataclass
class FundFigures:
    euro_balance_cents: int
    outstanding_credit_cents: int  # credit issued and not yet reimbursed to stores
    settlements_due_cents: int
    contributions_total_cents: int
    grants_total_cents: int
    months_covered: float | None  # how many months of allocations the euros cover, at the last run's pace
    last_run: MonthlyRun | None
    last_run_credit_cents: int
    last_run_contributions_cents: int
    spending_by_store: list[tuple[str, int]]  # last 3 months, credit spent
    monthly: list[MonthFigures]
    stores_approved: int
    active_wallets: int
    scale_minimum_cents: int | None
    allocation_base_cents: int | None


def _balance(territory: Territory, code: str) -> int:
    return (
        Account.objects.filter(territory=territory, code=code).values_list("balance_cents", flat=True).first()
        or 0
    )


def fund_figures(territory: Territory, *, months: int = 6) -> FundFigures:
    """Aggregates only — what the committee and funders read. Never a household."""
    euro = _balance(territory, FUND_EUR)
    outstanding = -_balance(territory, CREDIT_ISSUER)
    due = (
        Settlement.objects.filter(store__territory=territory, status=SettlementStatus.DUE).aggregate(
            t=Sum("amount_cents")
        )["t"]
        or 0
    )
    contributions = -_balance(territory, CONTRIBUTIONS)
    grants = -_balance(territory, GRANTS)
    last_run = (
        MonthlyRun.objects.filter(territory=territory, finished_at__isnull=False).order_by("-month").first()
    )
    runs = list(MonthlyRun.objects.filter(territory=territory).order_by("-month")[:months])
    # Each run's totals as the database keeps them (``RunTotals``, one row a run), never its lines.
    wanted = [run.pk for run in runs] + ([last_run.pk] if last_run else [])
    line_totals: dict[int, tuple[int, int, int]] = {
        run: (households, credit, contributions)
        for run, households, credit, contributions in RunTotals.objects.filter(run__in=wanted).values_list(
            "run", "households", "allocation_cents", "contribution_paid_cents"
        )
    }
    _households, last_credit, last_contributions = (
        line_totals.get(last_run.pk, (0, 0, 0)) if last_run else (0, 0, 0)
    )
    run_totals = {"credit": last_credit, "contrib": last_contributions}
    liabilities = outstanding + due
    monthly_need = run_totals["credit"] - run_totals["contrib"]
    covered = None
    if monthly_need > 0:
        covered = round(max(euro - liabilities, 0) / monthly_need, 1)
    monthly: list[MonthFigures] = []
    spending: list[tuple[str, int]] = []
    if runs:
        oldest = runs[-1].month
        recent_start, _end = month_bounds(runs[min(2, len(runs) - 1)].month)
        spent, spending = _credit_spent(territory, [run.month for run in runs], recent_start)
        granted = {
            row["m"]: row["t"]
            for row in Grant.objects.filter(funder__territory=territory, received_on__gte=oldest)
            .annotate(m=TruncMonth("received_on"))
            .values("m")
            .annotate(t=Sum("amount_cents"))
        }
        for run in reversed(runs):
            households, allocation, contributions = line_totals.get(run.pk, (0, 0, 0))
            monthly.append(
                MonthFigures(
                    month=run.month,
                    households=households,
                    allocation=allocation,
                    contributions=contributions,
                    spent=spent.get(run.month, 0),
                    grants=int(granted.get(run.month, 0) or 0),
                )
            )
    scale = scale_for(territory, timezone.localdate())
    rule = rule_for(territory, timezone.localdate())
    return FundFigures(
        euro_balance_cents=euro,
        outstanding_credit_cents=outstanding,
        settlements_due_cents=due,
        contributions_total_cents=contributions,
        grants_total_cents=grants,
        months_covered=covered,
        last_run=last_run,
        last_run_credit_cents=run_totals["credit"],
        last_run_contributions_cents=run_totals["contrib"],
        spending_by_store=spending,
        monthly=monthly,
        stores_approved=Store.objects.filter(territory=territory, status=StoreStatus.APPROVED).count(),
        active_wallets=Account.objects.filter(
            territory=territory, code__startswith="household:", balance_cents__gt=0
        ).count(),
        scale_minimum_cents=scale.minimum_cents if scale else None,
        allocation_base_cents=rule.base_cents if rule else None,
    )


def _credit_spent(
    territory: Territory, months: list[date], recent_start: datetime
) -> tuple[dict[date, int], list[tuple[str, int]]]:
    """The credit spent in each of ``months`` and, since ``recent_start``, at each store (largest first): one
    query over the stores' hours (``StoreHour``, kept by the database as payments are written), grouped by store,
    each month's slice summed by its bounds. A month reads its stores' hours (at most 24 x 31 per store), never
    its payments."""
    start = min(month_bounds(month)[0] for month in months)
    slices = {}
    for index, month in enumerate(months):
        month_start, month_end = month_bounds(month)
        slices[f"m{index}"] = Sum("credit_cents", filter=Q(hour__gte=month_start, hour__lt=month_end))
    rows = list(
        StoreHour.objects.filter(territory=territory, hour__gte=min(start, recent_start))
        .values("store_id")
        .annotate(recent=Sum("credit_cents", filter=Q(hour__gte=recent_start)), **slices)
        .order_by()
    )
    names = dict(Store.objects.filter(territory=territory).values_list("pk", "name"))
    spent = {month: sum(int(row[f"m{index}"] or 0) for row in rows) for index, month in enumerate(months)}
    by_store = sorted(
        ((names[row["store_id"]], int(row["recent"])) for row in rows if row["recent"]),
        key=lambda item: (-item[1], item[0]),
    )
    return spent, by_store


def credit_spent_since(territory: Territory, since: datetime) -> int:
    """The credit spent in the territory since ``since`` (a whole hour), from the stores' hours."""
    return int(
        StoreHour.objects.filter(territory=territory, hour__gte=since).aggregate(t=Sum("credit_cents"))["t"]
        or 0
    )


def settlements_of(territory: Territory, month: date | None = None) -> QuerySet[Settlement]:
    rows = Settlement.objects.filter(store__territory=territory).select_related("store")
    if month:
        rows = rows.filter(month=first_of_month(month))
    return rows.order_by("-month", "store__name")


ACTIVITY_DAYS = 365  # the stores page counts the payments of the last year


def stores_with_activity(territory: Territory) -> QuerySet[Store]:
    """The territory's stores, each with the payments it took over the last ``ACTIVITY_DAYS`` days (summed from
    its kept hours, ``StoreHour``: a year of one store is at most 8,760 rows, whatever the number of payments) and
    what the fund owes it (its settlements due). One subquery each: joined together, the payments and the
    settlements would multiply each other's rows."""
    since = timezone.now() - timedelta(days=ACTIVITY_DAYS)
    hours = (
        StoreHour.objects.filter(store=OuterRef("pk"), hour__gte=since)
        .order_by()
        .values("store")
        .annotate(total=Sum("payments"))
        .values("total")
    )
    due = (
        Settlement.objects.filter(store=OuterRef("pk"), status=SettlementStatus.DUE)
        .order_by()
        .values("store")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    return Store.objects.filter(territory=territory).annotate(
        payments_count=Coalesce(Subquery(hours, output_field=BigIntegerField()), 0),
        due_cents=Subquery(due, output_field=BigIntegerField()),
    )


def runs_of(territory: Territory, limit: int = 24) -> list[dict[str, object]]:
    """The latest monthly runs with their totals, newest first."""
    runs = list(MonthlyRun.objects.filter(territory=territory).order_by("-month")[:limit])
    # The totals the database keeps as the lines are written (``RunTotals``): one row a run, never its lines.
    totals: dict[int, tuple[int, int, int, int]] = {
        run: (households, credit, contributions, returned)
        for run, households, credit, contributions, returned in RunTotals.objects.filter(
            run__in=runs
        ).values_list("run", "households", "allocation_cents", "contribution_paid_cents", "returned_cents")
    }
    return [
        dict(
            zip(
                ("run", "households", "credit_cents", "contributions_cents", "returned_cents"),
                (run, *totals.get(run.pk, (0, 0, 0, 0))),
                strict=True,
            )
        )
        for run in runs
    ]


def funders_with_totals(territory: Territory) -> QuerySet[Funder]:
    return (
        Funder.objects.filter(territory=territory)
        .annotate(total_cents=Sum("grants__amount_cents"), grants_count=Count("grants"))
        .order_by("name")
    )


def recent_grants(territory: Territory, limit: int = 30) -> QuerySet[Grant]:
    return (
        Grant.objects.filter(funder__territory=territory)
        .select_related("funder")
        .order_by("-received_on", "-id")[:limit]
    )
