"""Two people prepare the same week's sheets at once, or two funders' payments arrive at once: on PostgreSQL in
real threads (the garden's and the funder's row locks serialise them); SQLite serialises writers by itself, so
there the same calls run one after the other and the same outcome is checked."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db.models import Count, Sum

from grenier.baskets import services
from grenier.baskets.models import Agreement, DistributionLine, Frequency, FunderPayment, LineFunding
from grenier.core import services as core_services
from grenier.core.errors import Conflict
from grenier.ledger.models import Entry

from ..concurrency import at_once
from .conftest import Baskets


def _more_subscribers(baskets: Baskets, count: int) -> None:
    points = [baskets.halle, baskets.ecole, baskets.gare]
    for index in range(count):
        household = core_services.household_join(
            territory=baskets.territory,
            name=f"Foyer Course {index}",
            persons=[core_services.PersonInput(f"P{index}", date(1985, 1, 1))],
            actor=None,
        )
        services.subscription_create(
            household=household,
            offer=baskets.large if index % 2 else baskets.small,
            pickup_point=points[index % 3],
            frequency=Frequency.WEEKLY,
            start_on=baskets.thursday - timedelta(weeks=2),
            actor=None,
        )


def _assert_books_whole() -> None:
    """Each basket once; each agreement's budget used as its fundings say, never above it; one entry a basket."""
    assert not DistributionLine.objects.values("subscription", "on").annotate(n=Count("id")).filter(n__gt=1)
    for agreement in Agreement.objects.all():
        funded = LineFunding.objects.filter(agreement=agreement).aggregate(s=Sum("amount_cents"))["s"] or 0
        assert agreement.spent_cents == funded <= agreement.budget_cents, agreement.name
    earning = DistributionLine.objects.exclude(member_part_cents=0, funded_cents=0)
    assert earning.filter(entry__isnull=True).count() == 0
    assert Entry.objects.filter(kind="baskets.due").count() == earning.count()


@pytest.mark.django_db(transaction=True)
def test_the_same_week_prepared_twice_at_once_books_each_basket_once(baskets: Baskets) -> None:
    _more_subscribers(baskets, 11)
    # budgets that run out within the week: the department's after a few baskets, the foundation's soon after
    Agreement.objects.filter(pk=baskets.first.pk).update(budget_cents=3_000)
    Agreement.objects.filter(pk=baskets.second.pk).update(budget_cents=1_000)
    results = at_once(
        4, lambda _i: services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    )
    assert all(isinstance(r, services.Generated) for r in results), results
    created = sorted(r.lines_created for r in results if isinstance(r, services.Generated))
    assert created == [0, 0, 0, 12]  # the member's basket and eleven more, booked by one of them
    assert DistributionLine.objects.filter(on=baskets.thursday).count() == 12
    _assert_books_whole()
    assert Agreement.objects.get(pk=baskets.first.pk).spent_cents == 3_000  # spent to the cent, not beyond
    assert DistributionLine.objects.filter(short_cents__gt=0).exists()  # the rest is carried by the garden


@pytest.mark.django_db(transaction=True)
def test_two_weeks_prepared_at_once_never_exceed_a_budget(baskets: Baskets) -> None:
    _more_subscribers(baskets, 9)
    Agreement.objects.filter(pk=baskets.first.pk).update(budget_cents=5_000)
    Agreement.objects.filter(pk=baskets.second.pk).update(budget_cents=2_000)
    weeks = [baskets.thursday + timedelta(weeks=i) for i in range(4)]
    results = at_once(
        4, lambda i: services.distribution_generate(garden=baskets.garden, day=weeks[i], actor=None)
    )
    assert all(isinstance(r, services.Generated) for r in results), results
    assert DistributionLine.objects.count() == 4 * 10
    _assert_books_whole()
    assert Agreement.objects.get(pk=baskets.first.pk).spent_cents == 5_000
    assert Agreement.objects.get(pk=baskets.second.pk).spent_cents == 2_000


@pytest.mark.django_db(transaction=True)
def test_funders_payments_at_once_never_pay_more_than_owed(baskets: Baskets) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    start, end = baskets.thursday - timedelta(days=3), baskets.thursday + timedelta(days=3)

    def pay(key: str, amount: int = 500) -> FunderPayment:
        return services.funder_payment_record(
            funder=baskets.department,
            start=start,
            end=end,
            amount_cents=amount,
            idempotency_key=key,
            actor=None,
        )

    # four different payments of 5 € against 7,50 € owed: exactly one goes through
    results = at_once(4, lambda i: pay(f"race-{i}"))
    assert sum(isinstance(r, FunderPayment) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 3
    # the rest, sent four times at once with one key: recorded once, the same payment for each
    same = at_once(4, lambda _i: pay("retried", 250))
    assert all(isinstance(r, FunderPayment) for r in same), same
    assert len({r.pk for r in same if isinstance(r, FunderPayment)}) == 1
    assert FunderPayment.objects.count() == 2
    assert FunderPayment.objects.aggregate(s=Sum("amount_cents"))["s"] == 750
