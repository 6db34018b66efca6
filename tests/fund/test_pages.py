"""The fund's pages: who may open each one, and the journeys they exist for (till, refund, statement, run,
settlement, grants, stores, projection)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from grenier.core.models import Role
from grenier.fund import services
from grenier.fund.models import Grant, MonthlyRun, Payment, Settlement, SettlementStatus, StoreStatus
from grenier.ledger.selectors import ledger_check

from .conftest import Fund

ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]
MANAGERS = {"coordinator"}
FIGURES = {"coordinator", "committee", "funder"}


def _pay(fund: Fund, cents: int = 2_000, key: str = "k-0001") -> Payment:
    return services.pay(
        store=fund.store,
        card=fund.cast.household.card_number,
        total_cents=cents,
        idempotency_key=key,
        actor=fund.cast["cashier"],
    ).payment


def _pages(fund: Fund) -> dict[str, tuple[str, set[str]]]:
    """url and who gets a 200 on GET; every other role gets 403 and people with no role here 404."""
    slug = fund.cast.territory.slug
    payment = _pay(fund)
    settlement = Settlement.objects.create(
        store=fund.store,
        month=date(2020, 1, 1),
        payments_count=0,
        credit_received_cents=0,
        credit_refunded_cents=0,
        amount_cents=0,
    )
    return {
        "till": (reverse("fund_till", args=[slug]), {"cashier"}),
        "receipt": (reverse("fund_receipt", args=[slug, payment.pk]), {"cashier"}),
        "refund": (reverse("fund_refund", args=[slug, payment.pk]), {"cashier"}),
        "my_credit": (reverse("fund_my_credit", args=[slug]), {"member"}),
        "dashboard": (reverse("fund_dashboard", args=[slug]), FIGURES),
        "projection": (reverse("fund_projection", args=[slug]) + "?months=6", FIGURES),
        "runs": (reverse("fund_runs", args=[slug]), MANAGERS),
        "stores": (reverse("fund_stores", args=[slug]), MANAGERS),
        "settlements": (reverse("fund_settlements", args=[slug]), MANAGERS),
        "settlements_csv": (reverse("fund_settlements_csv", args=[slug]), MANAGERS),
        "settlement_pdf": (
            reverse("fund_settlement_pdf", args=[slug, settlement.pk]),
            {"coordinator", "cashier"},
        ),
        "grants": (reverse("fund_grants", args=[slug]), MANAGERS),
    }


PAGES = [
    "till",
    "receipt",
    "refund",
    "my_credit",
    "dashboard",
    "projection",
    "runs",
    "stores",
    "settlements",
    "settlements_csv",
    "settlement_pdf",
    "grants",
]
# Pages whose object belongs to someone: a role that may use the page kind but is not that someone gets 404.
OWNED = {"receipt", "refund", "settlement_pdf"}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", EVERYONE)
def test_page_access(fund: Fund, login: Callable[..., Client], page: str, who: str) -> None:
    url, allowed = _pages(fund)[page]
    response = login(fund.cast[who]).get(url)
    if who in allowed:
        expected = 200
    elif who in ROLES:
        expected = 404 if page in OWNED and page == "settlement_pdf" else 403
    else:
        expected = 404
    assert response.status_code == expected, f"{who} on {page}"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("fund_my_code", []),
        ("fund_my_contribution", []),
        ("fund_rule_set", []),
        ("fund_store_approve", ["store"]),
        ("fund_store_suspend", ["store"]),
        ("fund_settlement_paid", ["settlement"]),
    ],
)
@pytest.mark.parametrize("who", EVERYONE)
def test_actions_refuse_the_wrong_people(
    fund: Fund, login: Callable[..., Client], name: str, args: list[str], who: str
) -> None:
    settlement = Settlement.objects.create(
        store=fund.store,
        month=date(2020, 1, 1),
        payments_count=0,
        credit_received_cents=0,
        credit_refunded_cents=0,
        amount_cents=0,
    )
    ids = {"store": fund.pending_store.pk, "settlement": settlement.pk}
    url = reverse(name, args=[fund.cast.territory.slug, *[ids[a] for a in args]])
    allowed = {"member"} if name.startswith("fund_my_") else MANAGERS
    response = login(fund.cast[who]).post(url, {})
    if who in allowed:
        assert response.status_code == 302, f"{who} on {name}"
    else:
        assert response.status_code == (403 if who in ROLES else 404), f"{who} on {name}"
    fund.pending_store.refresh_from_db()
    settlement.refresh_from_db()
    if who not in MANAGERS:
        assert fund.pending_store.status == StoreStatus.PENDING
        assert settlement.status == SettlementStatus.DUE


def test_a_cashier_takes_a_payment_at_the_till(fund: Fund, login: Callable[..., Client]) -> None:
    client = login(fund.cast["cashier"])
    url = reverse("fund_till", args=["vallee"])
    form = {
        "store": fund.store.pk,
        "card": fund.cast.household.card_number,
        "amount": "23,50",
        "code": "",
        "idempotency_key": "till-key-000001",
    }
    response = client.post(url, form)
    payment = Payment.objects.get(household=fund.cast.household)
    assert response.status_code == 302
    assert response["Location"] == reverse("fund_receipt", args=["vallee", payment.pk])
    assert payment.total_cents == 2350 and payment.credit_cents == 2350
    receipt = client.get(response["Location"]).content.decode()
    assert "23,50" in receipt and "76,50" in receipt  # paid, and what is left of the 100 € allocation
    assert "Martin-Test" not in receipt  # the cashier never sees who the household is
    client.post(url, form)  # the same form sent again: one payment
    assert Payment.objects.filter(household=fund.cast.household).count() == 1
    assert services.credit_balance(fund.cast.household) == 7650


def test_the_till_explains_a_refusal(fund: Fund, login: Callable[..., Client]) -> None:
    client = login(fund.cast["cashier"])
    url = reverse("fund_till", args=["vallee"])
    response = client.post(
        url, {"store": fund.store.pk, "card": fund.cast.household.card_number, "amount": "500", "code": ""}
    )
    assert response.status_code == 200
    assert "amount" in response.context["form"].errors
    assert Payment.objects.count() == 0
    response = client.post(url, {"store": fund.store.pk, "card": "0000 0000 0000", "amount": "5", "code": ""})
    assert "card" in response.context["form"].errors
    response = client.post(
        url, {"store": fund.store.pk, "card": fund.cast.household.card_number, "amount": "cinq", "code": ""}
    )
    assert "amount" in response.context["form"].errors


def test_the_till_says_each_refusal_once(fund: Fund, login: Callable[..., Client]) -> None:
    """A banner repeating the field's error is read twice by a screen reader: each refusal is shown once."""
    member = login(fund.cast["member"])
    member.post(reverse("fund_my_code", args=["vallee"]), {"code": "4821"})
    client = login(fund.cast["cashier"])
    url = reverse("fund_till", args=["vallee"])
    card = fund.cast.household.card_number
    for form, field, said in [
        ({"card": "0000 0000 0000", "amount": "5", "code": ""}, "card", "Aucun foyer membre n'a ce numéro"),
        ({"card": card, "amount": "500", "code": "4821"}, "amount", "Crédit alimentaire insuffisant"),
        ({"card": card, "amount": "5", "code": ""}, "code", "Ce foyer paie avec son code personnel"),
    ]:
        response = client.post(url, {"store": fund.store.pk, **form})
        page = response.content.decode()
        assert list(response.context["form"].errors) == [field], form
        assert page.count(said.replace("'", "&#x27;")) == 1, form
        assert page.count('role="alert"') == 1, form
    assert Payment.objects.count() == 0


def test_a_household_code_is_asked_at_the_till(fund: Fund, login: Callable[..., Client]) -> None:
    member = login(fund.cast["member"])
    member.post(reverse("fund_my_code", args=["vallee"]), {"code": "4821"})
    client = login(fund.cast["cashier"])
    url = reverse("fund_till", args=["vallee"])
    base = {"store": fund.store.pk, "card": fund.cast.household.card_number, "amount": "5"}
    response = client.post(url, {**base, "code": "", "idempotency_key": "code-key-01"})
    assert "code" in response.context["form"].errors
    response = client.post(url, {**base, "code": "1111", "idempotency_key": "code-key-02"})
    assert "code" in response.context["form"].errors
    response = client.post(url, {**base, "code": "4821", "idempotency_key": "code-key-03"})
    assert response.status_code == 302
    assert Payment.objects.count() == 1


def test_a_cashier_refunds_part_of_a_payment(fund: Fund, login: Callable[..., Client]) -> None:
    payment = _pay(fund, 3_000)
    client = login(fund.cast["cashier"])
    url = reverse("fund_refund", args=["vallee", payment.pk])
    assert (
        client.post(url, {"amount": "40", "idempotency_key": "refund-key-1"}).status_code == 200
    )  # too much
    response = client.post(url, {"amount": "10", "idempotency_key": "refund-key-2"})
    assert response.status_code == 302
    client.post(url, {"amount": "10", "idempotency_key": "refund-key-2"})  # resent: once
    payment.refresh_from_db()
    assert payment.refunded_credit_cents == 1_000
    assert services.credit_balance(fund.cast.household) == 10_000 - 3_000 + 1_000


def test_the_receipt_says_the_payment_was_refunded(fund: Fund, login: Callable[..., Client]) -> None:
    payment = _pay(fund, 3_000)
    client = login(fund.cast["cashier"])
    receipt = reverse("fund_receipt", args=["vallee", payment.pk])
    refund = reverse("fund_refund", args=["vallee", payment.pk])
    assert "<h1>Paiement accepté</h1>" in client.get(receipt).content.decode()
    client.post(refund, {"amount": "10", "idempotency_key": "refund-key-1"})
    page = client.get(receipt).content.decode()
    assert "<h1>Paiement en partie remboursé</h1>" in page and "Paiement accepté" not in page
    client.post(refund, {"amount": "20", "idempotency_key": "refund-key-2"})
    page = client.get(receipt).content.decode()
    assert "<h1>Paiement remboursé</h1>" in page and "Paiement accepté" not in page


def test_another_stores_cashier_cannot_see_or_refund_a_payment(
    fund: Fund, login: Callable[..., Client]
) -> None:
    from ..conftest import make_user

    payment = _pay(fund)
    other = make_user("other-cashier@test.grenier")
    services.store_cashier_add(store=fund.pending_store, user=other, actor=None)
    client = login(other)
    assert client.get(reverse("fund_receipt", args=["vallee", payment.pk])).status_code == 404
    response = client.post(
        reverse("fund_refund", args=["vallee", payment.pk]), {"amount": "5", "idempotency_key": "x-00000001"}
    )
    assert response.status_code == 404
    payment.refresh_from_db()
    assert payment.refunded_credit_cents == 0


def test_a_member_reads_their_credit_and_statement(fund: Fund, login: Callable[..., Client]) -> None:
    _pay(fund, 1_250)
    response = login(fund.cast["member"]).get(reverse("fund_my_credit", args=["vallee"]))
    statement = response.context["statement"]
    assert statement.balance_cents == 8_750
    assert statement.allocation_cents == 10_000
    assert statement.spent_cents == 1_250
    assert statement.by_store == [("Épicerie du Lavoir", 1, 1_250)]
    page = response.content.decode()
    assert "<svg" in page  # the card's QR code for the till
    assert "87,50" in page


def test_a_member_chooses_a_contribution_at_or_above_the_minimum(
    fund: Fund, login: Callable[..., Client]
) -> None:
    client = login(fund.cast["member"])
    url = reverse("fund_my_contribution", args=["vallee"])
    client.post(url, {"amount": "0,50"})
    assert not fund.cast.household.contribution_choices.exists()
    client.post(url, {"amount": "12"})
    assert fund.cast.household.contribution_choices.get().amount_cents == 1_200


def test_a_coordinator_runs_a_month_from_the_page(
    fund: Fund, login: Callable[..., Client], pinned_clock: time_machine.Traveller
) -> None:
    client = login(fund.cast["coordinator"])
    url = reverse("fund_runs", args=["vallee"])
    response = client.post(url, {"month": "2019-12"})  # before any rule: refused with a reason
    assert response.status_code == 200 and response.context["form"].errors
    month = fund.month
    next_month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    response = client.post(url, {"month": f"{next_month:%Y-%m}", "confirm": "1"})
    assert response.status_code == 200 and response.context["form"].errors  # not begun yet
    assert not MonthlyRun.objects.filter(territory=fund.cast.territory, month=next_month).exists()
    pinned_clock.move_to(next_month + timedelta(days=1))
    client = login(fund.cast["coordinator"])  # up to five weeks on: the session of before may have expired
    response = client.post(url, {"month": f"{next_month:%Y-%m}", "confirm": "1"})
    assert response.status_code == 302 and response["Location"] == url
    assert MonthlyRun.objects.filter(territory=fund.cast.territory, month=next_month).exists()
    assert services.credit_balance(fund.cast.household) == 20_000
    client.post(url, {"month": f"{next_month:%Y-%m}", "confirm": "1"})  # twice: nothing more
    assert services.credit_balance(fund.cast.household) == 20_000
    assert ledger_check(fund.cast.territory).ok


def test_a_coordinator_sets_an_allocation_rule(fund: Fund, login: Callable[..., Client]) -> None:
    client = login(fund.cast["coordinator"])
    client.post(
        reverse("fund_rule_set", args=["vallee"]),
        {
            "effective_month": "2031-01",
            "base": "150",
            "per_additional_person": "75",
            "per_child": "45",
            "child_age_limit": "14",
            "carry_over": "cap",
            "carry_over_cap": "50",
        },
    )
    rule = services.rule_for(fund.cast.territory, date(2031, 1, 1))
    assert rule is not None
    assert (rule.base_cents, rule.per_additional_person_cents, rule.per_child_cents) == (15_000, 7_500, 4_500)
    assert rule.carry_over_cap_cents == 5_000


def test_a_coordinator_approves_and_suspends_a_store(fund: Fund, login: Callable[..., Client]) -> None:
    client = login(fund.cast["coordinator"])
    client.post(
        reverse("fund_store_approve", args=["vallee", fund.pending_store.pk]), {"coverage_percent": "70"}
    )
    fund.pending_store.refresh_from_db()
    assert fund.pending_store.status == StoreStatus.APPROVED and fund.pending_store.coverage_percent == 70
    client.post(reverse("fund_store_suspend", args=["vallee", fund.store.pk]))
    fund.store.refresh_from_db()
    assert fund.store.status == StoreStatus.SUSPENDED
    cashier = login(fund.cast["cashier"])
    response = cashier.post(
        reverse("fund_till", args=["vallee"]),
        {"store": fund.store.pk, "card": fund.cast.household.card_number, "amount": "5", "code": ""},
    )
    assert response.status_code == 200 and Payment.objects.count() == 0  # a suspended store takes nothing


def test_a_coordinator_settles_pays_and_downloads(fund: Fund, login: Callable[..., Client]) -> None:
    from datetime import datetime

    from django.utils import timezone
    from django.utils.formats import date_format

    from grenier.fund.models import FunderKind

    payment = _pay(fund, 4_000)
    last_month = date(fund.month.year - (fund.month.month == 1), (fund.month.month - 2) % 12 + 1, 1)
    Payment.objects.filter(pk=payment.pk).update(
        created_at=datetime(last_month.year, last_month.month, 15, 11, tzinfo=timezone.get_current_timezone())
    )
    client = login(fund.cast["coordinator"])
    services.grant_record(
        funder=services.funder_create(
            territory=fund.cast.territory, name="Département", kind=FunderKind.PUBLIC, actor=None
        ),
        amount_cents=100_000,
        received_on=last_month,
        idempotency_key="grant-1",
        actor=None,
    )
    response = client.get(reverse("fund_settlements", args=["vallee"]))
    assert "janvier 2027" in response.content.decode()  # the month field says how to write a month
    # typed as people write it, said back in words
    typed = f"{date_format(last_month, 'F')} {last_month:%Y}".capitalize()
    response = client.post(reverse("fund_settlements", args=["vallee"]), {"month": typed}, follow=True)
    assert response.redirect_chain
    assert f"réglés pour {date_format(last_month, 'F Y')}" in response.content.decode()
    assert f"{last_month:%m/%Y}" not in response.content.decode()
    settlement = Settlement.objects.get(store=fund.store, month=last_month)
    assert settlement.amount_cents == 4_000
    csv_text = client.get(reverse("fund_settlements_csv", args=["vallee"])).content.decode("utf-8-sig")
    assert "Épicerie du Lavoir" in csv_text and "4000" in csv_text
    pdf = client.get(reverse("fund_settlement_pdf", args=["vallee", settlement.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    client.post(reverse("fund_settlement_paid", args=["vallee", settlement.pk]), {"reference": "VIR-0042"})
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.PAID and settlement.paid_reference == "VIR-0042"
    assert ledger_check(fund.cast.territory).ok


def test_a_coordinator_records_funders_and_grants(fund: Fund, login: Callable[..., Client]) -> None:
    client = login(fund.cast["coordinator"])
    url = reverse("fund_grants", args=["vallee"])
    client.post(url, {"form": "funder", "name": "Fondation Test", "kind": "private"})
    funder = fund.cast.territory.funders.get(name="Fondation Test")
    form = {
        "funder": funder.pk,
        "amount": "2 500",
        "received_on": "2026-10-01",
        "purpose": "hiver",
        "idempotency_key": "grant-form-0001",
    }
    assert client.post(url, form).status_code == 302
    client.post(url, form)  # resent
    assert Grant.objects.get(funder=funder).amount_cents == 250_000
    assert services.fund_account(fund.cast.territory).balance_cents >= 250_000


def test_the_dashboard_shows_figures_and_no_household(fund: Fund, login: Callable[..., Client]) -> None:
    _pay(fund, 1_500)
    for who in sorted(FIGURES):
        response = login(fund.cast[who]).get(reverse("fund_dashboard", args=["vallee"]))
        page = response.content.decode()
        figures = response.context["figures"]
        assert figures.outstanding_credit_cents == 20_000  # spent or not, until the stores are settled
        assert figures.monthly[-1].spent == 1_500 and figures.monthly[-1].allocation == 20_000
        assert 'role="img"' in page  # the chart
        assert "Martin-Test" not in page and fund.cast.household.card_number not in page


def test_the_projection_page_tries_other_rules(fund: Fund, login: Callable[..., Client]) -> None:
    client = login(fund.cast["committee"])
    url = reverse("fund_projection", args=["vallee"])
    current = client.get(url + "?months=6").context["projected"]
    generous = client.get(url + "?months=6&base=300").context["projected"]
    assert generous.monthly_allocation_cents > current.monthly_allocation_cents
    assert generous.balance_p50_cents[-1] < current.balance_p50_cents[-1]
    assert client.get(url + "?months=99").context["form"].errors


def test_the_settlements_come_a_phone_page_at_a_time(fund: Fund, login: Callable[..., Client]) -> None:
    """Issue 13, item 11: the second page shows the next settlements, none twice; any page number is answered."""
    from grenier.core.months import shift_month
    from grenier.core.pages import PAGE_SIZE

    months = [shift_month(date(2024, 1, 1), n) for n in range(PAGE_SIZE + 2)]
    for month in months:
        Settlement.objects.create(
            store=fund.store,
            month=month,
            payments_count=1,
            credit_received_cents=100,
            credit_refunded_cents=0,
            amount_cents=100,
        )
    client = login(fund.cast["coordinator"])
    url = reverse("fund_settlements", args=[fund.cast.territory.slug])
    first, second = client.get(url), client.get(url, {"page": "2"})
    newest_first = sorted(months, reverse=True)
    assert [s.month for s in first.context["rows"]] == newest_first[:PAGE_SIZE]
    assert [s.month for s in second.context["rows"]] == newest_first[PAGE_SIZE:]
    assert "Page 1 sur 2" in first.content.decode() and "Page 2 sur 2" in second.content.decode()
    assert 'rel="next"' in first.content.decode() and 'rel="next"' not in second.content.decode()
    for bad in ("0", "-1", "999", "nonsense", "1e9", "99999999999999999999999"):
        response = client.get(url, {"page": bad})
        assert response.status_code == 200, bad
        assert len(response.context["rows"]) in {PAGE_SIZE, 2}, (
            bad
        )  # the first page or the last, never an error
