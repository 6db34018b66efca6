"""The fund's services: rules, the monthly run, payments, refunds, settlements, grants — and the ledger stays whole."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from grenier.core import services as core_services
from grenier.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from grenier.core.models import Household
from grenier.fund import rules, services
from grenier.fund.models import CarryOver, MonthLine, Payment, Settlement, SettlementStatus
from grenier.ledger.selectors import ledger_check

from ..conftest import Cast
from ..ledger.test_ledger import _in_threads
from .conftest import BRACKETS, Fund


def person(first: str, born: date) -> core_services.PersonInput:
    return core_services.PersonInput(first, born)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"base_cents": 10_000}, 10_000),  # Montpellier, Toulouse: 100 per household
        (
            {"base_cents": 15_000, "per_additional_person_cents": 15_000, "per_child_cents": 0},
            60_000,
        ),  # 150 per person
        (
            {"base_cents": 15_000, "per_additional_person_cents": 7_500, "per_child_cents": 4_500},
            46_500,
        ),  # Lyon
        ({"base_cents": 10_000, "per_additional_person_cents": 5_000}, 25_000),  # Nantes
    ],
)
def test_the_real_caisses_allocations(rule: dict[str, int], expected: int) -> None:
    # Two adults and two children under 14.
    composition = rules.Composition(persons=4, children=2, units_x10=26)
    arguments = {"per_additional_person_cents": 0, "per_child_cents": 0, **rule}
    assert rules.allocation_cents(composition=composition, **arguments) == expected


@pytest.mark.parametrize(
    ("resources", "units_x10", "expected"),
    [
        (None, 10, 100),  # not declared: the minimum, never more
        (0, 10, 100),
        (60_000, 10, 100),  # exactly at a bound: that bracket
        (60_001, 10, 1_000),
        (180_000, 20, 1_000),  # 1 800 € for 2 units is 900 € per unit
        (500_000, 10, 12_000),
    ],
)
def test_suggested_contribution_by_means(resources: int | None, units_x10: int, expected: int) -> None:
    assert (
        rules.suggested_contribution_cents(
            brackets=BRACKETS, minimum_cents=100, resources_cents=resources, units_x10=units_x10
        )
        == expected
    )


def test_a_gironde_minimum_lifts_the_lowest_bracket() -> None:
    assert (
        rules.suggested_contribution_cents(
            brackets=BRACKETS, minimum_cents=1_000, resources_cents=10_000, units_x10=10
        )
        == 1_000
    )


@pytest.mark.parametrize(
    "brackets",
    [[], [[100, 1]], [[None, 1], [100, 2]], [[200, 1], [100, 2], [None, 3]], [[100, -5], [None, 1]]],
)
def test_bad_scales_are_refused(cast: Cast, brackets: list) -> None:
    with pytest.raises(InvalidInput):
        services.scale_set(
            territory=cast.territory, effective_month=date(2026, 1, 1), brackets=brackets, actor=None
        )


def test_the_rule_in_force_is_the_latest_effective(cast: Cast) -> None:
    services.allocation_rule_set(
        territory=cast.territory, effective_month=date(2026, 1, 1), base_cents=10_000, actor=None
    )
    services.allocation_rule_set(
        territory=cast.territory, effective_month=date(2026, 6, 15), base_cents=12_000, actor=None
    )
    assert services.rule_for(cast.territory, date(2026, 5, 31)).base_cents == 10_000  # type: ignore[union-attr]
    assert services.rule_for(cast.territory, date(2026, 6, 1)).base_cents == 12_000  # type: ignore[union-attr]
    assert services.rule_for(cast.territory, date(2025, 12, 1)) is None


def test_the_monthly_run_counts_each_household_once(fund: Fund) -> None:
    cast = fund.cast
    lines = MonthLine.objects.filter(month=fund.month)
    assert lines.count() == 2
    assert services.credit_balance(cast.household) == 10_000
    again = services.monthly_run(territory=cast.territory, month=fund.month, actor=None)
    assert again.processed_now == 0 and again.households == 2
    assert again.credit_issued_cents == 20_000
    assert MonthLine.objects.filter(month=fund.month).count() == 2
    assert services.credit_balance(cast.household) == 10_000
    assert ledger_check(cast.territory).ok


def test_a_run_killed_half_way_completes_on_the_next(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    services.scale_set(
        territory=cast.territory, effective_month=date(2020, 1, 1), brackets=BRACKETS, actor=None
    )
    services.allocation_rule_set(
        territory=cast.territory, effective_month=date(2020, 1, 1), base_cents=10_000, actor=None
    )
    for index in range(5):
        core_services.household_join(
            territory=cast.territory,
            name=f"Foyer {index}",
            persons=[person("X", date(1990, 1, 1))],
            actor=None,
            joined_on=date(2026, 1, 1),
        )
    month = date(2026, 3, 1)
    calls = {"n": 0}
    real = services.ledger.transfers_record_batch

    def crash_on_second_batch(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return real(**kwargs)

    monkeypatch.setattr(services.ledger, "transfers_record_batch", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        services.monthly_run(territory=cast.territory, month=month, actor=None, batch_size=3)
    assert MonthLine.objects.filter(month=month).count() == 3  # the first batch, whole; the second, nothing
    monkeypatch.setattr(services.ledger, "transfers_record_batch", real)
    summary = services.monthly_run(territory=cast.territory, month=month, actor=None, batch_size=3)
    assert summary.processed_now == 2 and summary.households == 5  # the cast's households joined later
    assert MonthLine.objects.filter(month=month).count() == 5
    assert summary.credit_issued_cents == 5 * 10_000
    assert ledger_check(cast.territory).ok


def test_a_run_in_small_batches_among_another_territorys_households(cast: Cast) -> None:
    """The run reads each batch by the range of its ids: the other territory's households in between, their persons
    and their choices are left out, and each household's line is the one the preview computes."""
    other = core_services.territory_create(slug="elsewhere", name="Elsewhere")
    month = date(2026, 3, 1)
    for territory in (cast.territory, other):
        services.scale_set(territory=territory, effective_month=month, brackets=BRACKETS, actor=None)
        services.allocation_rule_set(
            territory=territory,
            effective_month=month,
            base_cents=10_000,
            per_additional_person_cents=5_000,
            per_child_cents=2_000,
            actor=None,
        )
    births = [date(1990, 1, 1), date(2012, 3, 1), date(2012, 3, 2), date(2012, 2, 29), date(2020, 6, 1)]
    ours = []
    for index in range(9):
        for territory in (cast.territory, other):  # ids interleaved between the two territories
            household = core_services.household_join(
                territory=territory,
                name=f"Foyer {index}",
                persons=[person("A", date(1980, 5, 5)), *(person("C", born) for born in births[: index % 5])],
                actor=None,
                monthly_resources_cents=None if index % 3 == 0 else 50_000 * index,
                joined_on=date(2026, 1, 1),
            )
            if index % 4 == 1:
                services.contribution_choose(
                    household=household, amount_cents=700 + index, effective_month=month, actor=None
                )
            if territory == cast.territory:
                ours.append(household.pk)
    preview = services.run_preview(territory=cast.territory, month=month)
    summary = services.monthly_run(territory=cast.territory, month=month, actor=None, batch_size=2)
    lines = MonthLine.objects.filter(month=month)
    active = services.active_households(cast.territory, month).values_list("pk", flat=True)
    assert set(ours) <= set(active)
    assert sorted(lines.values_list("household_id", flat=True)) == sorted(active)
    assert not lines.filter(household__territory=other).exists()
    assert (summary.credit_issued_cents, summary.contributions_due_cents) == (
        preview.credit_issued_cents,
        preview.contributions_due_cents,
    )
    chosen = MonthLine.objects.get(household_id=ours[1], month=month)
    assert chosen.contribution_due_cents == 701
    # three persons, the youngest born 1 March 2012: 14 on the run's month, so no child; with one more born
    # 2 March 2012, still 13: a child
    assert MonthLine.objects.get(household_id=ours[2], month=month).allocation_cents == 10_000 + 2 * 5_000
    assert (
        MonthLine.objects.get(household_id=ours[3], month=month).allocation_cents
        == 10_000 + 3 * 5_000 + 2_000
    )
    assert ledger_check(cast.territory).ok


def test_contributions_follow_the_scale_or_the_choice(fund: Fund) -> None:
    cast = fund.cast
    line = MonthLine.objects.get(household=cast.household, month=fund.month)
    # 1 200 € for 1.3 units = 923 € per unit: the 1 200 € bracket suggests 30 €.
    assert line.contribution_due_cents == 3_000 and line.contribution_paid_cents == 3_000
    neighbour = MonthLine.objects.get(household=cast.other_household, month=fund.month)
    assert neighbour.contribution_due_cents == 100  # resources not declared: the minimum
    next_month = (fund.month + timedelta(days=32)).replace(day=1)
    services.contribution_choose(
        household=cast.household, amount_cents=2_000, effective_month=next_month, actor=None
    )
    with pytest.raises(InvalidInput):
        services.contribution_choose(
            household=cast.household, amount_cents=50, effective_month=next_month, actor=None
        )


def test_carry_over_policies(cast: Cast) -> None:
    territory = cast.territory
    services.scale_set(territory=territory, effective_month=date(2026, 1, 1), brackets=BRACKETS, actor=None)
    services.allocation_rule_set(
        territory=territory, effective_month=date(2026, 1, 1), base_cents=10_000, actor=None
    )
    services.allocation_rule_set(
        territory=territory,
        effective_month=date(2026, 2, 1),
        base_cents=10_000,
        carry_over=CarryOver.CAP,
        carry_over_cap_cents=3_000,
        actor=None,
    )
    services.allocation_rule_set(
        territory=territory,
        effective_month=date(2026, 3, 1),
        base_cents=10_000,
        carry_over=CarryOver.RETURN,
        actor=None,
    )
    household = core_services.household_join(
        territory=territory,
        name="Foyer Ancien",
        persons=[person("A", date(1970, 1, 1))],
        actor=None,
        joined_on=date(2025, 6, 1),
    )
    services.monthly_run(territory=territory, month=date(2026, 1, 1), actor=None)
    assert services.credit_balance(household) == 10_000
    services.monthly_run(territory=territory, month=date(2026, 2, 1), actor=None)  # keeps 30 of 100, gets 100
    assert services.credit_balance(household) == 13_000
    assert MonthLine.objects.get(household=household, month=date(2026, 2, 1)).returned_cents == 7_000
    services.monthly_run(territory=territory, month=date(2026, 3, 1), actor=None)  # returns all, gets 100
    assert services.credit_balance(household) == 10_000
    assert ledger_check(territory).ok


def test_a_household_that_left_gets_nothing_the_next_month(fund: Fund) -> None:
    cast = fund.cast
    core_services.household_leave(household=cast.other_household, actor=None)
    next_month = (fund.month + timedelta(days=32)).replace(day=1)
    with time_machine.travel(next_month + timedelta(days=1)):  # a month is run once it has begun
        summary = services.monthly_run(territory=cast.territory, month=next_month, actor=None)
    assert summary.households == 1


def test_a_payment_debits_credit_once_per_key(fund: Fund, payment_path: str) -> None:
    cast = fund.cast
    result = services.pay(
        store=fund.store,
        card=cast.household.card_number,
        total_cents=2_350,
        idempotency_key="till-0001",
        actor=cast["cashier"],
    )
    assert result.created and result.remaining_credit_cents == 10_000 - 2_350
    again = services.pay(
        store=fund.store,
        card=cast.household.card_number,
        total_cents=2_350,
        idempotency_key="till-0001",
        actor=cast["cashier"],
    )
    assert not again.created and again.payment.pk == result.payment.pk
    assert services.credit_balance(cast.household) == 7_650


def test_not_enough_credit_is_a_conflict_and_nothing_moves(fund: Fund, payment_path: str) -> None:
    cast = fund.cast
    with pytest.raises(Conflict):
        services.pay(
            store=fund.store,
            card=cast.household.card_number,
            total_cents=10_001,
            idempotency_key="big-0001",
            actor=None,
        )
    assert services.credit_balance(cast.household) == 10_000
    assert not Payment.objects.exists()


def test_only_an_approved_store_takes_payments(fund: Fund, payment_path: str) -> None:
    cast = fund.cast
    with pytest.raises(Forbidden):
        services.pay(
            store=fund.pending_store,
            card=cast.household.card_number,
            total_cents=100,
            idempotency_key="pend-0001",
            actor=None,
        )
    services.store_suspend(store=fund.store, actor=None)
    fund.store.refresh_from_db()
    with pytest.raises(Forbidden):
        services.pay(
            store=fund.store,
            card=cast.household.card_number,
            total_cents=100,
            idempotency_key="susp-0001",
            actor=None,
        )


def test_unknown_cards_and_left_households_are_not_found(fund: Fund, payment_path: str) -> None:
    cast = fund.cast
    card = cast.household.card_number
    wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
    for bad in [wrong, "1234", ""]:
        with pytest.raises(NotFound):
            services.pay(
                store=fund.store, card=bad, total_cents=100, idempotency_key=f"bad-{bad}-x", actor=None
            )
    core_services.household_leave(household=cast.household, actor=None)
    with pytest.raises(NotFound):
        services.pay(store=fund.store, card=card, total_cents=100, idempotency_key="left-0001", actor=None)


def test_partial_coverage_splits_the_purchase(fund: Fund, payment_path: str) -> None:
    cast = fund.cast
    services.store_approve(store=fund.store, coverage_percent=70, actor=None)
    fund.store.refresh_from_db()
    result = services.pay(
        store=fund.store,
        card=cast.household.card_number,
        total_cents=1_001,
        idempotency_key="cov-0001",
        actor=None,
    )
    assert (result.payment.credit_cents, result.payment.euro_cents) == (700, 301)
    assert result.remaining_credit_cents == 9_300


def test_the_personal_code(fund: Fund, payment_path: str) -> None:
    cast = fund.cast
    services.payment_code_set(household=cast.household, code="4821", actor=None)
    card = cast.household.card_number
    with pytest.raises(InvalidInput):
        services.pay(store=fund.store, card=card, total_cents=100, idempotency_key="code-0001", actor=None)
    with pytest.raises(InvalidInput):
        services.pay(
            store=fund.store, card=card, total_cents=100, idempotency_key="code-0002", actor=None, code="0000"
        )
    assert services.pay(
        store=fund.store, card=card, total_cents=100, idempotency_key="code-0003", actor=None, code="4821"
    ).created
    for attempt in range(5):
        with pytest.raises(InvalidInput):
            services.pay(
                store=fund.store,
                card=card,
                total_cents=100,
                idempotency_key=f"lock-{attempt}-x",
                actor=None,
                code="1111",
            )
    with pytest.raises(Forbidden):  # locked, even with the right code
        services.pay(
            store=fund.store, card=card, total_cents=100, idempotency_key="lock-ok-x", actor=None, code="4821"
        )


def test_refunds_whole_or_part_never_more(fund: Fund, payment_path: str) -> None:
    cast = fund.cast
    payment = services.pay(
        store=fund.store,
        card=cast.household.card_number,
        total_cents=3_000,
        idempotency_key="ref-0001",
        actor=None,
    ).payment
    services.refund(payment=payment, credit_cents=1_000, idempotency_key="r1-00001", actor=None)
    services.refund(
        payment=payment, credit_cents=1_000, idempotency_key="r1-00001", actor=None
    )  # retried: once
    assert services.credit_balance(cast.household) == 10_000 - 3_000 + 1_000
    with pytest.raises(Conflict):
        services.refund(payment=payment, credit_cents=2_001, idempotency_key="r2-00001", actor=None)
    services.refund(payment=payment, credit_cents=2_000, idempotency_key="r3-00001", actor=None)
    payment.refresh_from_db()
    assert payment.refunded_credit_cents == 3_000
    assert services.credit_balance(cast.household) == 10_000
    assert ledger_check(cast.territory).ok


def test_a_month_is_settled_only_once_it_is_over(fund: Fund) -> None:
    """Not on its last evening: a payment may still come before midnight (the check once allowed a day early)."""
    last_evening = services.month_bounds(fund.month)[1] - timedelta(minutes=30)
    with time_machine.travel(last_evening, tick=False), pytest.raises(InvalidInput):
        services.settle(territory=fund.cast.territory, month=fund.month, actor=None)
    with time_machine.travel(last_evening + timedelta(hours=1), tick=False):
        services.settle(territory=fund.cast.territory, month=fund.month, actor=None)  # over: no refusal


def test_settlement_pays_stores_in_euros(fund: Fund) -> None:
    cast = fund.cast
    last_month = (fund.month - timedelta(days=1)).replace(day=1)
    with pytest.raises(InvalidInput):
        services.settle(territory=cast.territory, month=fund.month, actor=None)  # not over yet
    payment = services.pay(
        store=fund.store,
        card=cast.household.card_number,
        total_cents=4_000,
        idempotency_key="set-0001",
        actor=None,
    ).payment
    services.refund(payment=payment, credit_cents=500, idempotency_key="set-r-0001", actor=None)
    start, _end = services.month_bounds(last_month)
    Payment.objects.filter(pk=payment.pk).update(created_at=start + timedelta(days=3))
    payment.refunds.update(created_at=start + timedelta(days=4))
    settlements = services.settle(territory=cast.territory, month=last_month, actor=None)
    assert [(s.store, s.amount_cents, s.payments_count) for s in settlements] == [(fund.store, 3_500, 1)]
    assert services.settle(territory=cast.territory, month=last_month, actor=None)[0].pk == settlements[0].pk
    with pytest.raises(Conflict):  # the fund holds only the month's contributions (31 €) so far
        services.settlement_mark_paid(settlement=settlements[0], reference="VIR-1", actor=None)
    funder = services.funder_create(territory=cast.territory, name="Département", kind="public", actor=None)  # type: ignore[arg-type]
    services.grant_record(
        funder=funder, amount_cents=50_000, received_on=fund.month, idempotency_key="grant-0001", actor=None
    )
    services.grant_record(
        funder=funder, amount_cents=50_000, received_on=fund.month, idempotency_key="grant-0001", actor=None
    )
    paid = services.settlement_mark_paid(settlement=settlements[0], reference="VIR-1", actor=None)
    assert paid.status == SettlementStatus.PAID
    services.settlement_mark_paid(settlement=settlements[0], reference="VIR-1", actor=None)
    from grenier.fund import selectors

    figures = selectors.fund_figures(cast.territory)
    assert figures.euro_balance_cents == 3_100 + 50_000 - 3_500
    assert figures.grants_total_cents == 50_000 and figures.contributions_total_cents == 3_100
    assert figures.outstanding_credit_cents == 20_000 - 3_500
    assert Settlement.objects.count() == 1
    assert ledger_check(cast.territory).ok


def test_many_payments_at_once_never_overdraw(transactional_db: None, payment_path: str) -> None:
    """On PostgreSQL (and SQLite, which serialises writers): 12 tills charge the same household together."""
    territory = core_services.territory_create(slug="course", name="Course")
    services.scale_set(territory=territory, effective_month=date(2020, 1, 1), brackets=BRACKETS, actor=None)
    services.allocation_rule_set(
        territory=territory, effective_month=date(2020, 1, 1), base_cents=10_000, actor=None
    )
    household = core_services.household_join(
        territory=territory, name="Foyer Course", persons=[person("A", date(1990, 1, 1))], actor=None
    )
    store = services.store_create(territory=territory, name="Store", actor=None)
    services.store_approve(store=store, actor=None)
    store.refresh_from_db()
    services.monthly_run(territory=territory, month=timezone.localdate(), actor=None)
    results = _in_threads(
        12,
        lambda i: services.pay(
            store=store,
            card=household.card_number,
            total_cents=1_500,
            idempotency_key=f"race-{i:04d}",
            actor=None,
        ),
    )
    ok = [r for r in results if isinstance(r, services.PaymentResult)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(ok) == 6 and len(refused) == 6, results
    assert services.credit_balance(household) == 1_000
    retried = _in_threads(
        6,
        lambda i: services.pay(
            store=store, card=household.card_number, total_cents=100, idempotency_key="same-key-1", actor=None
        ),
    )
    assert len({r.payment.pk for r in retried}) == 1, retried  # type: ignore[union-attr]
    assert services.credit_balance(household) == 900
    assert Payment.objects.filter(household=household).count() == 7
    assert ledger_check(territory).ok
    assert connection.vendor in {"postgresql", "sqlite"}


def test_households_of_another_territory_cannot_pay_here(fund: Fund, payment_path: str) -> None:
    elsewhere = Household.objects.create(
        territory=fund.cast.elsewhere,
        name="Foyer Ailleurs",
        card_number="400000000006",
        joined_on=date(2026, 1, 1),
    )
    with pytest.raises(NotFound):
        services.pay(
            store=fund.store,
            card=elsewhere.card_number,
            total_cents=100,
            idempotency_key="else-0001",
            actor=None,
        )
