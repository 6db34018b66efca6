"""Buying groups' services: producers always get the full price, the pot never ends a close below zero (unless a
funder covers), closed cycles never change, case rounding, idempotent orders and payments."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from grenier.core.errors import Conflict, Forbidden, InvalidInput
from grenier.core.idempotency import KeyReused
from grenier.core.models import PaymentMethod
from grenier.fund import services as fund_services
from grenier.fund.models import Funder, FunderKind, Payment
from grenier.ledger import services as ledger
from grenier.ledger.models import Account, Entry
from grenier.ledger.selectors import ledger_check
from grenier.orders import accounts, services
from grenier.orders.models import Order, OrderChange, OrderLine, OrderPayment

from .conftest import Groups, open_cycle


def _order(g: Groups, household, bread: int = 0, honey: int = 0, key: str = "k-1", cycle=None):
    cycle = cycle or g.cycle
    quantities = {}
    if bread:
        quantities[g.product(cycle, g.bread).pk] = bread
    if honey:
        quantities[g.product(cycle, g.honey).pk] = honey
    return services.order_place(
        cycle=cycle, household=household, quantities=quantities, idempotency_key=key, actor=None
    )


def _balance(g: Groups, code: str) -> int:
    return accounts.balance(g.cast.territory, code)


def _funder(g: Groups) -> Funder:
    return fund_services.funder_create(
        territory=g.cast.territory, name="Fondation", kind=FunderKind.PRIVATE, actor=None
    )


def test_producers_get_the_full_price_and_the_pot_the_difference(groups: Groups) -> None:
    g = groups
    services.tier_set(
        membership=g.membership(g.cast.household), tier=g.tiers[130], actor=None, by_household=True
    )
    _order(g, g.cast.household, bread=3, honey=1, key="a")  # full 2 200 → pays 2 860 (+660)
    services.tier_set(
        membership=g.membership(g.cast.other_household), tier=g.tiers[70], actor=None, by_household=True
    )
    _order(g, g.cast.other_household, bread=1, honey=2, key="b")  # full 2 400 → pays 1 680 (-720)
    _funder_cover = services.cover_record(
        cycle=g.cycle, funder=_funder(g), amount_cents=100, idempotency_key="c-1", actor=None
    )
    result = services.cycle_close(cycle=g.cycle, actor=g.cast["coordinator"], early=True)
    assert result.closed_now and result.orders == 2
    assert _balance(g, accounts.producer_code(g.group.pk, g.fournil.pk)) == 4 * 400
    assert _balance(g, accounts.producer_code(g.group.pk, g.rucher.pk)) == 3 * 1_000
    assert _balance(g, accounts.household_code(g.group.pk, g.cast.household.pk)) == -2_860
    assert _balance(g, accounts.household_code(g.group.pk, g.cast.other_household.pk)) == -1_680
    assert _balance(g, accounts.pot_code(g.group.pk)) == 100 + 660 - 720 == 40
    assert result.full_cents == 4_600 and result.paid_by_households_cents == 4_540
    assert ledger_check(g.cast.territory).ok


def test_a_close_that_would_leave_the_pot_below_zero_is_refused_until_a_funder_covers(groups: Groups) -> None:
    g = groups
    services.tier_set(
        membership=g.membership(g.cast.household), tier=g.tiers[70], actor=None, by_household=True
    )
    result = _order(g, g.cast.household, bread=3, key="a")  # full 1 200 → pays 840: the pot gives 360
    assert result.flagged and result.pot_after_cents == -360
    assert Order.objects.get(pk=result.order.pk).pot_flagged
    entries = Entry.objects.count()
    with pytest.raises(services.PotBelowZero) as refused:
        services.cycle_close(cycle=g.cycle, actor=None, early=True)
    assert refused.value.extra["gap_cents"] == 360
    g.cycle.refresh_from_db()
    assert g.cycle.closed_at is None and Entry.objects.count() == entries
    assert not OrderLine.objects.filter(order__cycle=g.cycle, final_quantity__isnull=False).exists()
    services.cover_record(
        cycle=g.cycle, funder=_funder(g), amount_cents=300, idempotency_key="c-1", actor=None
    )
    with pytest.raises(services.PotBelowZero):
        services.cycle_close(cycle=g.cycle, actor=None, early=True)  # 60 still missing
    services.cover_record(
        cycle=g.cycle, funder=_funder(g), amount_cents=60, idempotency_key="c-2", actor=None
    )
    services.cover_record(
        cycle=g.cycle, funder=_funder(g), amount_cents=60, idempotency_key="c-2", actor=None
    )
    services.cycle_close(cycle=g.cycle, actor=None, early=True)
    assert _balance(g, accounts.pot_code(g.group.pk)) == 0
    assert _balance(g, accounts.COVERS_IN) == -360
    pot = Account.objects.get(territory=g.cast.territory, code=accounts.pot_code(g.group.pk))
    assert pot.guarded  # and the database's check constraint keeps it at zero or above


def test_the_close_rounds_each_product_down_to_whole_cases_trimming_the_latest_orders(groups: Groups) -> None:
    g = groups
    cycle = open_cycle(g, "Cases", round_to_cases=True)
    now = timezone.now()
    honey = g.product(cycle, g.honey)
    services.order_place(
        cycle=cycle,
        household=g.cast.household,
        quantities={honey.pk: 5},
        idempotency_key="a",
        actor=None,
        now=now,
    )
    services.order_place(
        cycle=cycle,
        household=g.cast.other_household,
        quantities={honey.pk: 3},
        idempotency_key="b",
        actor=None,
        now=now + timedelta(minutes=1),
    )
    result = services.cycle_close(cycle=cycle, actor=None, early=True)
    assert result.trimmed_units == 2
    finals = dict(
        OrderLine.objects.filter(order__cycle=cycle).values_list("order__household_id", "final_quantity")
    )
    assert finals == {g.cast.household.pk: 5, g.cast.other_household.pk: 1}
    mine = Order.objects.get(cycle=cycle, household=g.cast.other_household)
    assert mine.full_cents == 1_000 and mine.due_cents == 1_000
    assert _balance(g, accounts.producer_code(g.group.pk, g.rucher.pk)) == 6 * 1_000
    g.honey.refresh_from_db()
    assert g.honey.stock == 4  # 10 in stock, 6 delivered


def test_orders_are_idempotent_changeable_and_cancellable_while_open(groups: Groups) -> None:
    g = groups
    first = _order(g, g.cast.household, bread=2, key="same")
    again = _order(g, g.cast.household, bread=2, key="same")
    assert first.created and not again.created
    with pytest.raises(KeyReused):  # the same key for another order is not a retry: refused, nothing changes
        _order(g, g.cast.household, bread=5, key="same")
    assert OrderLine.objects.get(order=first.order).quantity == 2
    changed = _order(g, g.cast.household, honey=1, key="other")
    assert changed.created
    assert list(changed.order.lines.values_list("cycle_product__name", "quantity")) == [("Miel", 1)]
    services.order_cancel(order=changed.order, idempotency_key="cancel", actor=None)
    assert not changed.order.lines.exists()
    assert OrderChange.objects.filter(order=changed.order).count() == 3


def test_a_limited_stock_refuses_orders_beyond_it(groups: Groups) -> None:
    g = groups
    _order(g, g.cast.household, honey=8, key="a")
    with pytest.raises(InvalidInput) as refused:
        _order(g, g.cast.other_household, honey=3, key="b")
    assert f"quantity_{g.product(g.cycle, g.honey).pk}" in refused.value.errors


def test_a_household_not_in_the_group_cannot_order(groups: Groups) -> None:
    with pytest.raises(Forbidden):
        _order(groups, groups.other_household, bread=1)


def test_a_tier_set_by_a_referral_is_a_floor_for_the_household(groups: Groups) -> None:
    g = groups
    membership = g.membership(g.cast.household)
    services.tier_set(
        membership=membership, tier=g.tiers[100], actor=None, by_household=False, referral="CCAS"
    )
    with pytest.raises(Forbidden) as refused:
        services.tier_set(membership=membership, tier=g.tiers[70], actor=None, by_household=True)
    assert refused.value.code == "tier-set-by-referral" and "tier" in refused.value.errors
    assert g.membership(g.cast.household).tier == g.tiers[100]
    services.tier_set(membership=membership, tier=g.tiers[130], actor=None, by_household=True)  # pays more
    after = g.membership(g.cast.household)
    assert (after.tier, after.tier_source, after.referral_percent) == (g.tiers[130], "referral", 100)
    services.tier_set(membership=membership, tier=g.tiers[100], actor=None, by_household=True)  # back to it
    assert g.membership(g.cast.household).tier == g.tiers[100]


def test_a_closed_cycle_never_changes(groups: Groups) -> None:
    g = groups
    placed = _order(g, g.cast.household, bread=2, key="a")
    services.cycle_close(cycle=g.cycle, actor=None, early=True)
    line = OrderLine.objects.get(order=placed.order)
    with pytest.raises(Conflict):
        _order(g, g.cast.household, bread=9, key="b")
    with pytest.raises(Conflict):
        services.order_cancel(order=placed.order, idempotency_key="c", actor=None)
    with pytest.raises(Conflict):
        services.cover_record(
            cycle=g.cycle, funder=_funder(g), amount_cents=100, idempotency_key="x", actor=None
        )
    services.product_save(
        producer=g.fournil, product=g.bread, name="Pain", unit="loaf", price_cents=999, actor=None
    )
    assert g.product(g.cycle, g.bread).price_cents == 400  # frozen at the opening
    again = services.cycle_close(cycle=g.cycle, actor=None, early=True)
    assert not again.closed_now
    line.refresh_from_db()
    assert (line.quantity, line.final_quantity) == (2, 2)
    if connection.vendor == "postgresql":  # the database refuses too
        for statement in (
            lambda: OrderLine.objects.filter(pk=line.pk).update(quantity=7),
            lambda: OrderLine.objects.filter(pk=line.pk).delete(),
            lambda: Order.objects.filter(pk=placed.order.pk).update(due_cents=1),
            lambda: g.product(g.cycle, g.bread).__class__.objects.filter(cycle=g.cycle).update(price_cents=1),
            lambda: type(g.cycle).objects.filter(pk=g.cycle.pk).update(closed_at=None),
        ):
            with pytest.raises(IntegrityError), transaction.atomic():
                statement()
    line.refresh_from_db()
    assert line.quantity == 2


def test_payments_are_recorded_once_and_never_above_what_is_due(groups: Groups) -> None:
    g = groups
    placed = _order(g, g.cast.household, bread=3, key="a")
    with pytest.raises(Conflict):
        services.payment_record(
            order=placed.order, method="cash", amount_cents=100, idempotency_key="p", actor=None
        )
    services.cycle_close(cycle=g.cycle, actor=None, early=True)
    order = Order.objects.get(pk=placed.order.pk)
    first = services.payment_record(
        order=order, method=PaymentMethod.CASH, amount_cents=700, idempotency_key="p1", actor=None
    )
    again = services.payment_record(
        order=order, method=PaymentMethod.CASH, amount_cents=700, idempotency_key="p1", actor=None
    )
    assert first.pk == again.pk and OrderPayment.objects.filter(order=order).count() == 1
    with pytest.raises(InvalidInput):
        services.payment_record(
            order=order, method=PaymentMethod.CASH, amount_cents=501, idempotency_key="p2", actor=None
        )
    services.payment_record(
        order=order, method=PaymentMethod.TRANSFER, amount_cents=500, idempotency_key="p2", actor=None
    )
    assert _balance(g, accounts.household_code(g.group.pk, g.cast.household.pk)) == 0
    assert _balance(g, accounts.PAYMENTS_IN) == -1_200


def test_food_credit_is_paid_through_the_fund_only_where_the_group_is_an_approved_store(
    groups: Groups,
) -> None:
    g = groups
    territory = g.cast.territory
    placed = _order(g, g.cast.household, bread=2, key="a")
    services.cycle_close(cycle=g.cycle, actor=None, early=True)
    order = Order.objects.get(pk=placed.order.pk)
    with pytest.raises(Forbidden):
        services.payment_record(
            order=order, method=PaymentMethod.CREDIT, amount_cents=800, idempotency_key="c", actor=None
        )
    store = fund_services.store_create(territory=territory, name="Groupement", actor=None)
    store = fund_services.store_approve(store=store, actor=None)
    services.group_store_set(group=g.group, store=store, actor=None)
    ledger.entry_record(
        territory=territory,
        idempotency_key="test-credit",
        kind="test",
        legs=[
            (fund_services.credit_issuer(territory), -5_000),
            (fund_services.household_credit(g.cast.household), 5_000),
        ],
    )
    order = Order.objects.select_related("cycle__group__store").get(pk=order.pk)
    paid = services.payment_record(
        order=order, method=PaymentMethod.CREDIT, amount_cents=800, idempotency_key="c", actor=None
    )
    again = services.payment_record(
        order=order, method=PaymentMethod.CREDIT, amount_cents=800, idempotency_key="c", actor=None
    )
    assert paid.pk == again.pk and paid.fund_payment is not None
    assert Payment.objects.filter(store=store).count() == 1
    assert fund_services.credit_balance(g.cast.household) == 4_200
    assert _balance(g, accounts.fund_code(g.group.pk)) == -800


def test_close_due_closes_what_is_due_and_says_why_it_refuses(
    groups: Groups, capsys: pytest.CaptureFixture[str]
) -> None:
    g = groups
    _order(g, g.cast.household, bread=1, key="a")
    other = open_cycle(g, "Short")
    services.tier_set(
        membership=g.membership(g.cast.other_household), tier=g.tiers[70], actor=None, by_household=True
    )
    _order(g, g.cast.other_household, bread=2, key="b", cycle=other)
    later = timezone.now() + timedelta(days=6)
    with pytest.raises(CommandError):
        from unittest import mock

        with mock.patch("django.utils.timezone.now", return_value=later):
            call_command("orders", "close-due", "--territory", g.cast.territory.slug)
    out = capsys.readouterr().out
    g.cycle.refresh_from_db()
    other.refresh_from_db()
    assert g.cycle.closed_at is not None and other.closed_at is None
    assert "NOT CLOSED" in out and f"#{other.pk}" in out
    call_command("orders", "cycle", "--group", str(g.group.pk))
    assert "Short" in capsys.readouterr().out


def test_a_member_s_households_are_found_from_its_person_not_by_reading_the_territory_s_households(
    groups: Groups,
) -> None:
    from grenier.core.models import Household, HouseholdPerson
    from grenier.orders import access

    g = groups
    territory = g.cast.territory
    many = Household.objects.bulk_create(
        Household(
            territory=territory, name=f"Foyer {n:04d}", card_number=f"99{n:010d}", joined_on=date(2025, 1, 1)
        )
        for n in range(300)
    )
    HouseholdPerson.objects.bulk_create(HouseholdPerson(household=h, first_name="P") for h in many)
    mine = access.my_households(g.cast["member"], territory)
    assert list(mine) == [g.cast.household]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE"
        )  # statistics: most persons have no user (the index on user_id looks useless)
        sql, params = mine.query.sql_with_params()
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " / ".join(row[-1] for row in cursor.fetchall())
    assert "user_id" in plan and "(territory_id=? AND left_on=?)" not in plan, plan
