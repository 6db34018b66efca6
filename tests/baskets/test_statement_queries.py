"""A funder's statement and dues (issue 14): the same figures as they were computed before (the reference below,
kept verbatim), read in as many queries whatever the number of its agreements; what an agreement owes for every
basket it ever paid for is its budget used (``spent_cents``), kept in the transaction that writes the baskets'
fundings, and equal to their recount."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from django.db.models import Count, QuerySet, Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.baskets import selectors, services
from grenier.baskets.models import Agreement, FunderPayment, FunderPaymentPart, LineFunding
from grenier.baskets.selectors import AgreementDue, AgreementStatement, Statement
from grenier.fund.models import Funder

from .conftest import Baskets, page_and_queries
from .test_forecast import _garden
from .test_services import _subscribe_many

WEEK = timedelta(weeks=1)

# --- the computation as it was (reference) ------------------------------------------------------------------------


def _old_funder_dues(funder: Funder, start: date, end: date) -> list[AgreementDue]:
    agreements = list(
        Agreement.objects.filter(funder=funder)
        .select_related("garden")
        .order_by("garden__name", "priority", "id")
    )
    ids = [a.pk for a in agreements]

    def by_agreement(rows: QuerySet) -> dict[int, int]:
        return dict(
            rows.values_list("agreement_id")
            .annotate(total=Sum("amount_cents"))
            .values_list("agreement_id", "total")
        )

    fundings = LineFunding.objects.filter(agreement_id__in=ids)
    parts = FunderPaymentPart.objects.filter(agreement_id__in=ids)
    due = by_agreement(fundings.filter(line__on__gte=start, line__on__lte=end))
    paid = by_agreement(parts.filter(payment__period_start__lte=end, payment__period_end__gte=start))
    total_due = by_agreement(fundings)
    total_paid = by_agreement(parts)
    return [
        AgreementDue(
            agreement=a,
            due_cents=due.get(a.pk) or 0,
            paid_cents=paid.get(a.pk) or 0,
            total_due_cents=total_due.get(a.pk) or 0,
            total_paid_cents=total_paid.get(a.pk) or 0,
        )
        for a in agreements
    ]


def _old_statement(funder: Funder, start: date, end: date) -> Statement:
    rows = []
    dues = {d.agreement.pk: d for d in _old_funder_dues(funder, start, end)}
    for agreement in (
        Agreement.objects.filter(funder=funder)
        .select_related("garden")
        .order_by("garden__name", "priority", "id")
    ):
        fundings = LineFunding.objects.filter(agreement=agreement, line__on__gte=start, line__on__lte=end)
        by_day = list(
            fundings.values_list("line__on", "line__sheet__pickup_point__name")
            .annotate(n=Count("id"), cents=Sum("amount_cents"))
            .order_by("line__on", "line__sheet__pickup_point__name")
        )
        months: dict[date, list[int]] = {}
        for day, _point, n, cents in by_day:
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
                by_day=by_day,
                paid_cents=dues[agreement.pk].paid_cents,
                left_cents=dues[agreement.pk].left_cents,
                ahead_cents=LineFunding.objects.filter(
                    agreement=agreement, line__on__gt=timezone.localdate()
                ).aggregate(cents=Sum("amount_cents"))["cents"]
                or 0,
            )
        )
    payments = list(
        FunderPayment.objects.filter(funder=funder, period_start__lte=end, period_end__gte=start)
        .prefetch_related("parts__agreement")
        .order_by("received_on", "id")
    )
    return Statement(funder=funder, start=start, end=end, agreements=rows, payments=payments)


# --- the figures ---------------------------------------------------------------------------------------------------


def _season(baskets: Baskets) -> None:
    """Three gardens with the department's agreements (one runs out), four weeks of sheets from this one (three
    of them ahead), a payment of the department for this week's baskets."""
    _subscribe_many(baskets, 3, point=baskets.gare)
    _garden(baskets, "Jardin B", 4, 9_000)
    _garden(baskets, "Jardin C", 2, 500_000)
    Agreement.objects.filter(pk=baskets.first.pk).update(budget_cents=15_000)
    for garden in baskets.territory.gardens.order_by("pk"):
        for weeks in range(4):
            services.distribution_generate(
                garden=garden, day=baskets.thursday + weeks * WEEK, actor=None, warn=False
            )
    services.funder_payment_record(
        funder=baskets.department,
        start=baskets.thursday - WEEK,
        end=baskets.thursday,
        amount_cents=4_000,
        idempotency_key="this-week",
        actor=None,
    )


def test_a_statement_and_its_dues_are_as_they_were(baskets: Baskets) -> None:
    _season(baskets)
    for funder in (baskets.department, baskets.foundation):
        for start, end in (
            (baskets.thursday - 8 * WEEK, baskets.thursday),
            (baskets.thursday - WEEK, baskets.thursday),
            (baskets.thursday, baskets.thursday + 2 * WEEK),
            (baskets.thursday + 3 * WEEK, baskets.thursday + 5 * WEEK),
        ):
            found, expected = selectors.statement(funder, start, end), _old_statement(funder, start, end)
            assert found == expected
            assert selectors.funder_dues(funder, start, end) == _old_funder_dues(funder, start, end)
    department = selectors.statement(
        baskets.department, baskets.thursday - 8 * WEEK, baskets.thursday + 4 * WEEK
    )
    assert len(department.agreements) == 3 and department.paid_cents == 4_000
    assert department.baskets > 20 and department.left_cents > 0
    assert any(row.ahead_cents for row in department.agreements)


def test_an_agreements_budget_used_is_its_baskets_fundings_recounted(baskets: Baskets) -> None:
    _season(baskets)
    recounted = dict(
        LineFunding.objects.values_list("agreement_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("agreement_id", "total")
    )
    kept = dict(Agreement.objects.values_list("pk", "spent_cents"))
    assert len(recounted) == len(kept) == 4
    assert kept == recounted
    first = Agreement.objects.get(pk=baskets.first.pk)
    assert first.spent_cents == first.budget_cents  # it ran out: what it used is its budget, to the cent


def _statements_page(baskets: Baskets, login: Callable[..., Client]) -> tuple[str, int]:
    url = reverse("baskets_statements", args=[baskets.territory.slug])
    return page_and_queries(login(baskets.cast["coordinator"]), url, {"funder": baskets.department.pk})


def test_a_statement_reads_its_agreements_in_as_many_queries(
    baskets: Baskets, login: Callable[..., Client]
) -> None:
    _html, one = _statements_page(baskets, login)
    _garden(baskets, "Jardin B", 2, 9_000)
    _garden(baskets, "Jardin C", 2, 9_000)
    html, three = _statements_page(baskets, login)
    assert "Convention Jardin B" in html and "Convention Jardin C" in html
    assert three == one
