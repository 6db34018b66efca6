"""The platform's money: monthly invoices and statements, gapless numbers (under concurrency too), credit notes,
advances repaid by deduction, payments, the development fund — and the ledger stays whole after each of them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import KeyReused
from grenier.ledger.models import Account
from grenier.ledger.selectors import ledger_check
from grenier.supply import accounts, billing
from grenier.supply.models import (
    Advance,
    ContractLine,
    Invoice,
    InvoiceKind,
    InvoiceSeries,
    Kitchen,
    KitchenKind,
    PlanLine,
    Producer,
    SupplyWeek,
    WeekStatus,
)

from ..ledger.test_ledger import _in_threads
from .conftest import Pial

OCTOBER = date(2026, 10, 1)
MONDAY = date(2026, 10, 5)  # a Monday of October 2026


def week(pial: Pial, monday: date = MONDAY, status: str = WeekStatus.PUBLISHED) -> SupplyWeek:
    found, _created = SupplyWeek.objects.get_or_create(
        territory=pial.cast.territory, monday=monday, defaults={"status": status}
    )
    return found


def line(
    pial: Pial,
    producer: Producer,
    kitchen: Kitchen,
    product: str,
    quantity: int,
    *,
    day: date = MONDAY,
    received: int | None = None,
    status: str = WeekStatus.PUBLISHED,
    contract_line: ContractLine | None = None,
) -> PlanLine:
    monday = day - timedelta(days=day.weekday())
    return PlanLine.objects.create(
        week=week(pial, monday, status),
        producer=producer,
        kitchen=kitchen,
        product=pial.products[product],
        day=day,
        quantity=quantity,
        solver_quantity=quantity,
        received_quantity=received,
        contract_line=contract_line,
    )


def balance(pial: Pial, code: str) -> int:
    return (
        Account.objects.filter(territory=pial.cast.territory, code=code)
        .values_list("balance_cents", flat=True)
        .first()
        or 0
    )


def fund(pial: Pial, cents: int, key: str = "seed") -> None:
    billing.devfund_contribute(
        territory=pial.cast.territory,
        amount_cents=cents,
        source="Cotisations",
        idempotency_key=key,
        actor=None,
    )


def october(pial: Pial) -> dict[str, PlanLine]:
    """The school gets carrots from the Saules (9,5 kg received of 10) and leeks from the Pic (5 kg, no receipt);
    the nursing home 20 lettuces from the Terrasses. Lines that must not be billed: a receipt of zero, a week not
    published, a day in November."""
    return {
        "carrots": line(pial, pial.saules, pial.school, "carottes", 10_000, received=9_500),
        "leeks": line(pial, pial.pic, pial.school, "poireaux", 5_000, day=MONDAY + timedelta(days=3)),
        "lettuce": line(pial, pial.terrasses, pial.ehpad, "salade", 20, day=MONDAY + timedelta(days=1)),
        "nothing": line(pial, pial.saules, pial.school, "radis", 10, received=0),
        "draft": line(
            pial, pial.pic, pial.ehpad, "carottes", 3_000, day=date(2026, 10, 13), status="planned"
        ),
        "november": line(pial, pial.saules, pial.school, "carottes", 4_000, day=date(2026, 11, 2)),
    }


def test_a_month_bills_what_was_received_else_what_was_planned(pial: Pial) -> None:
    october(pial)
    issued = billing.invoices_issue(
        territory=pial.cast.territory, month=OCTOBER, actor=pial.cast["coordinator"]
    )
    kitchens = [doc for doc in issued if doc.kitchen_id]
    statements = [doc for doc in issued if doc.producer_id]
    assert [doc.kitchen for doc in kitchens] == [pial.ehpad, pial.school]  # by name
    assert {doc.producer for doc in statements} == {pial.saules, pial.pic, pial.terrasses}
    assert [doc.reference for doc in kitchens] == ["PIAL-00001", "PIAL-00002"]
    saules_statement = next(doc for doc in statements if doc.producer == pial.saules)
    assert saules_statement.reference == f"PIAL-P{pial.saules.pk}-00001"

    school = kitchens[1]
    rows = {row.product.name: row for row in school.lines.all()}
    assert set(rows) == {"Carottes", "Poireaux"}
    carrots, leeks = rows["Carottes"], rows["Poireaux"]
    assert (carrots.quantity, carrots.billed_as_planned) == (9_500, False)
    assert (leeks.quantity, leeks.billed_as_planned) == (5_000, True)
    # 9,5 kg at 2,20 €: 20,90 € = 18,05 (producer) + 1,90 (fee) + 0,95 (levy)
    assert (carrots.unit_price_cents, carrots.amount_cents) == (220, 2_090)
    assert (carrots.producers_cents, carrots.service_fee_cents, carrots.levy_cents) == (1_805, 190, 95)
    assert (leeks.amount_cents, leeks.producers_cents, leeks.service_fee_cents, leeks.levy_cents) == (
        1_575,
        1_400,
        125,
        50,
    )
    assert carrots.egalim_labels == ["BIO"]
    for doc in kitchens:
        lines = list(doc.lines.all())
        assert doc.total_cents == sum(row.amount_cents for row in lines)
        assert doc.total_cents == doc.producers_cents + doc.service_fee_cents + doc.levy_cents
        assert doc.producers_cents == sum(row.producers_cents for row in lines)
    assert school.total_cents == 3_665
    ehpad_line = kitchens[0].lines.get()
    assert ehpad_line.egalim_labels == ["HVE"] and ehpad_line.amount_cents == 20 * 100

    # the statement: the producer's part of what it delivered, at its price
    statement_line = saules_statement.lines.get()
    assert statement_line.unit_price_cents == 190 and statement_line.amount_cents == 1_805
    assert saules_statement.total_cents == saules_statement.net_cents == 1_805

    # the ledger: kitchens owe, producers are owed their parts, fees and levies retained
    territory = pial.cast.territory
    assert balance(pial, accounts.kitchen_code(pial.school.pk)) == -3_665
    assert balance(pial, accounts.producer_code(pial.saules.pk)) == 1_805
    assert balance(pial, accounts.producer_code(pial.pic.pk)) == 1_400
    assert balance(pial, accounts.producer_code(pial.terrasses.pk)) == 20 * 85
    assert balance(pial, accounts.FEES) == 190 + 125 + 20 * 10
    assert balance(pial, accounts.DEVFUND) == 95 + 50 + 20 * 5
    assert ledger_check(territory).ok


def test_issuing_twice_adds_nothing_and_a_late_week_gets_its_own_invoice(pial: Pial) -> None:
    october(pial)
    territory = pial.cast.territory
    first = billing.invoices_issue(territory=territory, month=OCTOBER, actor=None)
    assert len(first) == 5
    assert billing.invoices_issue(territory=territory, month=OCTOBER, actor=None) == []
    assert Invoice.objects.count() == 5
    assert InvoiceSeries.objects.get(territory=territory, producer=None).last_number == 2
    devfund = balance(pial, accounts.DEVFUND)

    late = line(pial, pial.saules, pial.school, "carottes", 2_000, day=date(2026, 10, 26))
    again = billing.invoices_issue(territory=territory, month=OCTOBER, actor=None)
    assert [doc.reference for doc in again] == ["PIAL-00003", f"PIAL-P{pial.saules.pk}-00002"]
    assert again[0].idempotency_key == f"invoice:2026-10:kitchen:{pial.school.pk}:2"
    assert again[0].lines.get().plan_line == late
    assert balance(pial, accounts.DEVFUND) == devfund + 20  # 2 kg at 0,10 €
    assert billing.invoices_issue(territory=territory, month=OCTOBER, actor=None) == []
    assert ledger_check(territory).ok


def test_nothing_to_bill_writes_nothing_and_the_future_is_refused(pial: Pial) -> None:
    territory = pial.cast.territory
    line(pial, pial.saules, pial.school, "carottes", 5_000, received=0)
    assert billing.invoices_issue(territory=territory, month=OCTOBER, actor=None) == []
    assert not Invoice.objects.exists()
    with pytest.raises(InvalidInput) as refused:
        next_month = (timezone.localdate().replace(day=1) + timedelta(days=32)).replace(day=1)
        billing.invoices_issue(territory=territory, month=next_month, actor=None)
    assert "month" in refused.value.errors


def test_the_preview_shows_what_issuing_will_write(pial: Pial) -> None:
    october(pial)
    territory = pial.cast.territory
    fund(pial, 10_000)
    billing.advance_grant(
        producer=pial.saules,
        amount_cents=5_000,
        monthly_deduction_cents=1_000,
        granted_on=date(2026, 9, 1),
        idempotency_key="a",
        actor=None,
    )
    preview = billing.billing_preview(territory=territory, month=OCTOBER)
    assert [k.kitchen for k in preview.kitchens] == [pial.ehpad, pial.school]
    assert preview.kitchens[1].total_cents == 3_665 and preview.kitchens[1].as_planned == 1
    saules = next(p for p in preview.producers if p.producer == pial.saules)
    assert (saules.total_cents, saules.deduction_cents, saules.net_cents) == (1_805, 1_000, 805)
    issued = billing.invoices_issue(territory=territory, month=OCTOBER, actor=None)
    assert sum(doc.total_cents for doc in issued if doc.kitchen_id) == preview.total_cents
    statement = next(doc for doc in issued if doc.producer == pial.saules)
    assert statement.advance_deduction_cents == 1_000
    assert billing.billing_preview(territory=territory, month=OCTOBER).is_empty


def test_a_line_without_a_contract_is_not_billed(pial: Pial) -> None:
    line(pial, pial.saules, pial.ehpad, "radis", 10)  # the nursing home has no radish line
    preview = billing.billing_preview(territory=pial.cast.territory, month=OCTOBER)
    assert [row.product.name for row in preview.unpriced] == ["Radis"]
    assert billing.invoices_issue(territory=pial.cast.territory, month=OCTOBER, actor=None) == []


def test_advances_are_repaid_oldest_first_over_the_months_until_zero(pial: Pial) -> None:
    territory = pial.cast.territory
    fund(pial, 100_000)
    older = billing.advance_grant(
        producer=pial.saules,
        amount_cents=5_000,
        monthly_deduction_cents=2_000,
        granted_on=date(2026, 3, 1),
        purpose="Semences",
        idempotency_key="older",
        actor=None,
    )
    newer = billing.advance_grant(
        producer=pial.saules,
        amount_cents=1_500,
        monthly_deduction_cents=1_000,
        granted_on=date(2026, 4, 1),
        idempotency_key="newer",
        actor=None,
    )
    assert balance(pial, accounts.DEVFUND) == 100_000 - 6_500
    assert balance(pial, accounts.PAYOUTS) == 6_500
    deductions = []
    for month in (5, 6, 7, 8):
        # 20 kg of carrots a month: the producer's part is 38,00 €
        line(pial, pial.saules, pial.school, "carottes", 20_000, day=date(2026, month, 4) + timedelta(days=0))
        issued = billing.invoices_issue(territory=territory, month=date(2026, month, 1), actor=None)
        statement = next(doc for doc in issued if doc.producer_id)
        assert statement.total_cents == 3_800
        assert statement.net_cents == statement.total_cents - statement.advance_deduction_cents
        deductions.append(statement.advance_deduction_cents)
        older.refresh_from_db()
        newer.refresh_from_db()
        assert 0 <= older.repaid_cents <= older.amount_cents
        assert 0 <= newer.repaid_cents <= newer.amount_cents
        assert ledger_check(territory).ok
    # May: 20 (older) + 10 (newer); June: 20 + 5 (newer done); July: 10 (older done); August: nothing left
    assert deductions == [3_000, 2_500, 1_000, 0]
    assert older.outstanding_cents == newer.outstanding_cents == 0
    assert list(billing.outstanding_advances(territory)) == []
    assert balance(pial, accounts.DEVFUND) == 100_000 + 4 * 20 * 10  # every advance back, plus the levies


def test_a_deduction_never_exceeds_the_statement(pial: Pial) -> None:
    fund(pial, 10_000)
    billing.advance_grant(
        producer=pial.pic,
        amount_cents=9_000,
        monthly_deduction_cents=9_000,
        granted_on=date(2026, 9, 1),
        idempotency_key="big",
        actor=None,
    )
    line(pial, pial.pic, pial.school, "poireaux", 2_000)  # 5,60 € for the producer
    issued = billing.invoices_issue(territory=pial.cast.territory, month=OCTOBER, actor=None)
    statement = next(doc for doc in issued if doc.producer_id)
    assert statement.total_cents == statement.advance_deduction_cents == 560 and statement.net_cents == 0
    assert Advance.objects.get().repaid_cents == 560
    assert balance(pial, accounts.producer_code(pial.pic.pk)) == 0
    assert ledger_check(pial.cast.territory).ok


def test_an_advance_is_refused_when_the_fund_holds_less(pial: Pial) -> None:
    fund(pial, 2_000)
    with pytest.raises(Conflict) as refused:
        billing.advance_grant(
            producer=pial.saules,
            amount_cents=2_001,
            monthly_deduction_cents=500,
            granted_on=date(2026, 9, 1),
            idempotency_key="too-much",
            actor=None,
        )
    assert refused.value.extra["devfund_balance_cents"] == 2_000
    assert not Advance.objects.exists()
    assert billing.devfund_balance(pial.cast.territory) == 2_000
    granted = billing.advance_grant(
        producer=pial.saules,
        amount_cents=2_000,
        monthly_deduction_cents=500,
        granted_on=date(2026, 9, 1),
        idempotency_key="all",
        actor=None,
    )
    again = billing.advance_grant(
        producer=pial.saules,
        amount_cents=2_000,
        monthly_deduction_cents=500,
        granted_on=date(2026, 9, 1),
        idempotency_key="all",
        actor=None,
    )
    assert again == granted and billing.devfund_balance(pial.cast.territory) == 0
    with pytest.raises(InvalidInput):
        billing.advance_grant(
            producer=pial.saules,
            amount_cents=0,
            monthly_deduction_cents=0,
            granted_on=date(2026, 9, 1),
            idempotency_key="zero",
            actor=None,
        )
    assert ledger_check(pial.cast.territory).ok


def _balances(pial: Pial) -> dict[str, int]:
    return dict(
        Account.objects.filter(territory=pial.cast.territory)
        .values_list("code", "balance_cents")
        .order_by("code")
    )


def test_a_full_credit_note_reverses_the_invoice_exactly(pial: Pial) -> None:
    october(pial)
    territory = pial.cast.territory
    before = _balances(pial)
    issued = billing.invoices_issue(territory=territory, month=OCTOBER, actor=None)
    school = next(doc for doc in issued if doc.kitchen == pial.school)
    note = billing.credit_note_issue(
        invoice=school, lines=None, reason="Livraison contestée", idempotency_key="k1", actor=None
    )
    assert note.kind == InvoiceKind.CREDIT_NOTE and note.corrects == school
    assert note.series == school.series and note.reference == "PIAL-00003"
    assert note.total_cents == -school.total_cents
    assert (note.producers_cents, note.service_fee_cents, note.levy_cents) == (
        -school.producers_cents,
        -school.service_fee_cents,
        -school.levy_cents,
    )
    after = _balances(pial)
    # the school's and the fees are back where they were; the producers' parts of the school's lines too
    assert after[accounts.kitchen_code(pial.school.pk)] == before.get(
        accounts.kitchen_code(pial.school.pk), 0
    )
    assert after[accounts.producer_code(pial.saules.pk)] == 0
    assert after[accounts.producer_code(pial.pic.pk)] == 0
    assert after[accounts.FEES] == 20 * 10  # only the nursing home's lettuces remain
    # the statements that stated these lines follow, without moving money
    followed = Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE, producer__isnull=False)
    assert {doc.producer for doc in followed} == {pial.saules, pial.pic}
    for doc in followed:
        assert doc.total_cents == -doc.corrects.total_cents  # type: ignore[union-attr]
        assert doc.entry is None
        assert doc.reference == f"PIAL-P{doc.producer_id}-00002"
    # the same request under the same key returns the same credit note; nothing is left to credit
    assert (
        billing.credit_note_issue(
            invoice=school, lines=None, reason="Livraison contestée", idempotency_key="k1", actor=None
        )
        == note
    )
    with pytest.raises(KeyReused):  # the key of another request
        billing.credit_note_issue(invoice=school, lines=None, reason="x", idempotency_key="k1", actor=None)
    with pytest.raises(InvalidInput):
        billing.credit_note_issue(invoice=school, lines=None, reason="x", idempotency_key="k2", actor=None)
    with pytest.raises(InvalidInput):
        billing.credit_note_issue(invoice=note, lines=None, reason="x", idempotency_key="k3", actor=None)
    assert ledger_check(territory).ok


def test_partial_credit_notes_never_take_back_more_than_the_line(pial: Pial) -> None:
    october(pial)
    territory = pial.cast.territory
    issued = billing.invoices_issue(territory=territory, month=OCTOBER, actor=None)
    school = next(doc for doc in issued if doc.kitchen == pial.school)
    carrots = school.lines.get(product__name="Carottes")
    first = billing.credit_note_issue(
        invoice=school, lines=[(carrots, 2_000)], reason="2 kg abîmés", idempotency_key="p1", actor=None
    )
    row = first.lines.get()
    assert row.quantity == -2_000 and row.amount_cents == -440  # 2 kg at 2,20 €
    assert row.amount_cents == row.producers_cents + row.service_fee_cents + row.levy_cents
    with pytest.raises(InvalidInput) as refused:
        billing.credit_note_issue(
            invoice=school, lines=[(carrots, 7_501)], reason="trop", idempotency_key="p2", actor=None
        )
    assert refused.value.extra["uncredited"] == 7_500
    series = InvoiceSeries.objects.get(territory=territory, producer=None)
    assert series.last_number == 3  # the refusal took no number
    rest = billing.credit_note_issue(
        invoice=school, lines=[(carrots, 7_500)], reason="le reste", idempotency_key="p3", actor=None
    )
    assert rest.reference == "PIAL-00004"
    taken = first.lines.get().amount_cents + rest.lines.get().amount_cents
    assert taken == -carrots.amount_cents  # exactly the line, not a cent more or less
    assert billing.uncredited(school)[carrots.pk].total == 0
    # the statement of the Saules followed both; its line is fully credited too
    statement = Invoice.objects.get(kind=InvoiceKind.INVOICE, producer=pial.saules)
    assert billing.uncredited(statement)[statement.lines.get().pk].total == 0
    assert balance(pial, accounts.producer_code(pial.saules.pk)) == 0
    assert ledger_check(territory).ok


def test_a_credit_note_the_fund_cannot_pay_back_is_refused_and_takes_no_number(pial: Pial) -> None:
    october(pial)
    territory = pial.cast.territory
    issued = billing.invoices_issue(territory=territory, month=OCTOBER, actor=None)
    school = next(doc for doc in issued if doc.kitchen == pial.school)
    levies = billing.devfund_balance(territory)
    billing.advance_grant(
        producer=pial.pic,
        amount_cents=levies,
        monthly_deduction_cents=levies,
        granted_on=date(2026, 11, 1),
        idempotency_key="empty",
        actor=None,
    )
    with pytest.raises(Conflict) as refused:
        billing.credit_note_issue(invoice=school, lines=None, reason="x", idempotency_key="c", actor=None)
    assert refused.value.extra["devfund_balance_cents"] == 0
    assert InvoiceSeries.objects.get(territory=territory, producer=None).last_number == 2
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()
    assert ledger_check(territory).ok


def test_a_statement_credit_note_gives_the_deduction_back(pial: Pial) -> None:
    territory = pial.cast.territory
    fund(pial, 10_000)
    advance = billing.advance_grant(
        producer=pial.saules,
        amount_cents=3_000,
        monthly_deduction_cents=1_000,
        granted_on=date(2026, 9, 1),
        idempotency_key="a",
        actor=None,
    )
    line(pial, pial.saules, pial.school, "carottes", 10_000)
    issued = billing.invoices_issue(territory=territory, month=OCTOBER, actor=None)
    statement = next(doc for doc in issued if doc.producer_id)
    assert statement.advance_deduction_cents == 1_000
    note = billing.credit_note_issue(
        invoice=statement, lines=None, reason="Relevé refait", idempotency_key="s", actor=None
    )
    assert note.advance_deduction_cents == -1_000 and note.total_cents == -1_900
    assert note.reference == f"PIAL-P{pial.saules.pk}-00002"
    advance.refresh_from_db()
    assert advance.repaid_cents == 0
    assert balance(pial, accounts.producer_code(pial.saules.pk)) == 1_900  # the deduction given back
    assert ledger_check(territory).ok


def test_paying_settles_accounts_once(pial: Pial) -> None:
    october(pial)
    territory = pial.cast.territory
    fund(pial, 10_000)
    billing.advance_grant(
        producer=pial.saules,
        amount_cents=1_000,
        monthly_deduction_cents=500,
        granted_on=date(2026, 9, 1),
        idempotency_key="a",
        actor=None,
    )
    issued = billing.invoices_issue(territory=territory, month=OCTOBER, actor=None)
    school = next(doc for doc in issued if doc.kitchen == pial.school)
    statement = next(doc for doc in issued if doc.producer == pial.saules)
    assert billing.amount_due(school) == 3_665
    paid = billing.invoice_mark_paid(invoice=school, reference="VIR-1", actor=None)
    assert paid.paid_at is not None and billing.amount_due(paid) == 0
    assert balance(pial, accounts.kitchen_code(pial.school.pk)) == 0
    assert balance(pial, accounts.PAYMENTS_IN) == -3_665
    again = billing.invoice_mark_paid(invoice=school, reference="VIR-1", actor=None)
    assert again.paid_at == paid.paid_at and balance(pial, accounts.PAYMENTS_IN) == -3_665

    assert statement.net_cents == 1_805 - 500
    billing.invoice_mark_paid(invoice=statement, actor=None)
    billing.invoice_mark_paid(invoice=statement, actor=None)
    assert balance(pial, accounts.producer_code(pial.saules.pk)) == 0
    assert balance(pial, accounts.PAYOUTS) == 1_000 + 1_305
    assert ledger_check(territory).ok


def test_an_invoice_is_paid_with_its_credit_notes(pial: Pial) -> None:
    october(pial)
    territory = pial.cast.territory
    issued = billing.invoices_issue(territory=territory, month=OCTOBER, actor=None)
    school = next(doc for doc in issued if doc.kitchen == pial.school)
    leeks = school.lines.get(product__name="Poireaux")
    note = billing.credit_note_issue(
        invoice=school, lines=[(leeks, 5_000)], reason="pas livré", idempotency_key="n", actor=None
    )
    assert billing.amount_due(school) == 3_665 - 1_575
    billing.invoice_mark_paid(invoice=school, actor=None)
    note.refresh_from_db()
    assert note.paid_at is not None
    assert balance(pial, accounts.kitchen_code(pial.school.pk)) == 0
    assert balance(pial, accounts.PAYMENTS_IN) == -(3_665 - 1_575)
    assert ledger_check(territory).ok


def test_reads_of_the_fund_and_of_what_was_retained(pial: Pial) -> None:
    october(pial)
    territory = pial.cast.territory
    fund(pial, 5_000)
    assert billing.devfund_contribute(
        territory=territory, amount_cents=5_000, source="Cotisations", idempotency_key="seed", actor=None
    )  # the same key again: recorded once
    billing.invoices_issue(territory=territory, month=OCTOBER, actor=None)
    assert billing.devfund_balance(territory) == 5_000 + 95 + 50 + 100
    movements = billing.devfund_movements(territory)
    assert sorted(m.amount_cents for m in movements) == sorted([5_000, 100, 95 + 50])
    [retained] = billing.retained_by_month(territory)
    assert (retained.month, retained.service_fee_cents, retained.levy_cents) == (OCTOBER, 515, 245)
    assert [doc.kitchen for doc in billing.kitchen_invoices(pial.school)] == [pial.school]
    assert billing.producer_statements(pial.pic).count() == 1


def _kitchens(pial: Pial, count: int) -> list[Kitchen]:
    made = []
    carrots = pial.line(pial.school_contract, "carottes")
    for i in range(count):
        kitchen = Kitchen.objects.create(
            territory=pial.cast.territory, name=f"Cantine {i:02d}", kind=KitchenKind.SCHOOL
        )
        line(pial, pial.saules, kitchen, "carottes", 1_000 * (i + 1), contract_line=carrots)
        made.append(kitchen)
    return made


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_gapless_when_invoices_and_credit_notes_are_issued_at_once(pial: Pial) -> None:
    territory = pial.cast.territory
    line(pial, pial.saules, pial.school, "carottes", 10_000)
    school = billing.kitchen_invoice_issue(kitchen=pial.school, month=OCTOBER, actor=None)
    assert school is not None
    carrots = school.lines.get()
    kitchens = _kitchens(pial, 6)
    jobs = [("invoice", kitchen) for kitchen in kitchens] + [("credit", i) for i in range(3)]

    def work(index: int) -> object:
        what, subject = jobs[index]
        if what == "invoice":
            return billing.kitchen_invoice_issue(kitchen=subject, month=OCTOBER, actor=None)  # type: ignore[arg-type]
        return billing.credit_note_issue(
            invoice=school,
            lines=[(carrots, 1_000)],
            reason="casse",
            idempotency_key=f"c{subject}",
            actor=None,
        )

    if connection.vendor == "postgresql":
        results = _in_threads(len(jobs), work)
    else:  # SQLite serialises writers: the same work, one after the other
        results = [work(i) for i in range(len(jobs))]
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(Invoice.objects.filter(series__producer=None).values_list("number", flat=True))
    assert numbers == list(range(1, len(jobs) + 2))
    assert InvoiceSeries.objects.get(territory=territory, producer=None).last_number == len(jobs) + 1
    references = set(Invoice.objects.values_list("reference", flat=True))
    assert len(references) == len(jobs) + 1
    assert billing.uncredited(school)[carrots.pk].quantity == 10_000 - 3_000
    # again at once: nothing new
    if connection.vendor == "postgresql":
        again = _in_threads(
            len(kitchens),
            lambda i: billing.kitchen_invoice_issue(kitchen=kitchens[i], month=OCTOBER, actor=None),
        )
    else:
        again = [billing.kitchen_invoice_issue(kitchen=k, month=OCTOBER, actor=None) for k in kitchens]
    assert again == [None] * len(kitchens)
    assert Invoice.objects.count() == len(jobs) + 1
    assert ledger_check(territory).ok


@pytest.mark.django_db(transaction=True)
def test_statements_of_a_producer_issued_at_once_share_no_number(pial: Pial) -> None:
    territory = pial.cast.territory
    for month in (6, 7, 8, 9):
        line(pial, pial.pic, pial.school, "poireaux", 1_000, day=date(2026, month, 1) + timedelta(days=7))
    for month in (6, 7, 8, 9):
        billing.kitchen_invoice_issue(kitchen=pial.school, month=date(2026, month, 1), actor=None)
    months = [date(2026, m, 1) for m in (6, 7, 8, 9)] * 2  # each month twice: once issued, once nothing

    def work(index: int) -> object:
        return billing.producer_statement_issue(producer=pial.pic, month=months[index], actor=None)

    if connection.vendor == "postgresql":
        results = _in_threads(len(months), work)
    else:
        results = [work(i) for i in range(len(months))]
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if r is not None) == 4
    numbers = sorted(Invoice.objects.filter(producer=pial.pic).values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4]
    assert ledger_check(territory).ok


def test_long_idempotency_keys_fit(pial: Pial) -> None:
    october(pial)
    territory = pial.cast.territory
    issued = billing.invoices_issue(territory=territory, month=OCTOBER, actor=None)
    school = next(doc for doc in issued if doc.kitchen == pial.school)
    key = "k" * 150
    note = billing.credit_note_issue(invoice=school, lines=None, reason="x", idempotency_key=key, actor=None)
    assert len(note.idempotency_key) <= 100
    assert (
        billing.credit_note_issue(invoice=school, lines=None, reason="x", idempotency_key=key, actor=None)
        == note
    )
    fund(pial, 1_000, key="f" * 150)
    fund(pial, 1_000, key="f" * 150)
    advance = billing.advance_grant(
        producer=pial.saules,
        amount_cents=500,
        monthly_deduction_cents=100,
        granted_on=date(2026, 9, 1),
        idempotency_key="a" * 150,
        actor=None,
    )
    assert len(advance.idempotency_key) <= 100
    # the school's levies went back with its credit note; the nursing home's remain
    assert billing.devfund_balance(territory) == 1_000 - 500 + 20 * 5
    assert ledger_check(territory).ok
