"""The stores' hours (``StoreHour``) the fund's figures read are kept true by the database as payments are written
(issue 14): after any sequence of payments, refunds, payments moved in time or to another store and deleted, they
equal the slow recount of the payments, hour by hour and store by store; and the dashboard's month-by-month
spending equals the payments of each month."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.core.errors import GrenierError
from grenier.core.models import Household
from grenier.fund import selectors, services
from grenier.fund.models import Payment, Store, StoreHour
from grenier.ledger.models import Entry

from .conftest import Fund


def recount(fund: Fund) -> dict[tuple[int, datetime], tuple[int, int]]:
    """Per store and UTC hour, the payments and their credit, counted from the payments themselves."""
    found: dict[tuple[int, datetime], tuple[int, int]] = {}
    for store_id, created_at, credit in Payment.objects.filter(territory=fund.cast.territory).values_list(
        "store_id", "created_at", "credit_cents"
    ):
        hour = created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        count, total = found.get((store_id, hour), (0, 0))
        found[(store_id, hour)] = (count + 1, total + credit)
    return found


def kept(fund: Fund) -> dict[tuple[int, datetime], tuple[int, int]]:
    return {
        (store_id, hour.astimezone(UTC)): (count, total)
        for store_id, hour, count, total in StoreHour.objects.filter(
            territory=fund.cast.territory
        ).values_list("store_id", "hour", "payments", "credit_cents")
        if count or total
    }


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["pay", "pay", "pay", "refund", "move", "restore", "delete"]),
        st.integers(0, 10_000),
        st.integers(-24 * 70, 24 * 3),  # hours from now
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_the_stores_hours_equal_the_payments_after_any_operations(
    fund: Fund, payment_path: str, operations: list[tuple[str, int, int]]
) -> None:
    """On each payment path the database has: on PostgreSQL ``fund_pay`` writes the payments outside the ORM."""
    with transaction.atomic():
        coordinator = fund.cast["coordinator"]
        other = services.store_create(territory=fund.cast.territory, name="Marché", actor=coordinator)
        services.store_approve(store=other, actor=coordinator)
        stores = [fund.store, Store.objects.get(pk=other.pk)]
        cards = [fund.cast.household.card_number, fund.cast.other_household.card_number]
        # The households have credit to spend (the month was run before the other store existed).
        assert Household.objects.filter(card_number__in=cards).count() == 2
        for index, (operation, number, hours) in enumerate(operations):
            payments = list(Payment.objects.filter(territory=fund.cast.territory).order_by("pk"))
            if operation == "pay" or not payments:
                with contextlib.suppress(GrenierError):  # not enough credit: nothing written, nothing counted
                    services.pay(
                        store=stores[number % 2],
                        card=cards[number % 2],
                        total_cents=100 + number,
                        idempotency_key=f"op-{index}",
                        actor=None,
                    )
                continue
            payment = payments[number % len(payments)]
            if operation == "refund":
                room = payment.credit_cents - payment.refunded_credit_cents
                if room > 0:
                    services.refund(
                        payment=payment,
                        credit_cents=1 + number % room,
                        idempotency_key=f"op-{index}",
                        actor=None,
                    )
            elif operation == "move":  # a script backdating a payment, or changing its store
                Payment.objects.filter(pk=payment.pk).update(
                    created_at=payment.created_at + timedelta(hours=hours, minutes=number % 60),
                    store=stores[number % 2],
                )
            elif operation == "restore":
                payment.created_at += timedelta(minutes=number % 90)
                payment.save(update_fields=["created_at"])
            elif operation == "delete" and not payment.refunds.exists():
                entry = payment.entry_id
                Payment.objects.filter(pk=payment.pk).delete()
                assert Entry.objects.filter(pk=entry).exists()  # the entry stays (the ledger is append-only)
            assert kept(fund) == recount(fund), operation
        # What the dashboard shows, month by month and store by store, is the payments' own sums.
        figures = selectors.fund_figures(fund.cast.territory)
        for row in figures.monthly:
            start, end = services.month_bounds(row.month)
            assert row.spent == (
                Payment.objects.filter(
                    territory=fund.cast.territory, created_at__gte=start, created_at__lt=end
                ).aggregate(t=Sum("credit_cents"))["t"]
                or 0
            )
        transaction.set_rollback(True)


def test_a_payment_counts_once_in_its_hour(fund: Fund) -> None:
    services.pay(
        store=fund.store,
        card=fund.cast.household.card_number,
        total_cents=700,
        idempotency_key="a",
        actor=None,
    )
    assert kept(fund) == recount(fund)
    totals = StoreHour.objects.filter(territory=fund.cast.territory).aggregate(
        n=Sum("payments"), rows=Count("id")
    )
    assert totals["n"] == 1 and totals["rows"] == 1
