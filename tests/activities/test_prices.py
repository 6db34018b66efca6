"""Session prices: a member's part per adult and child, paid in food credit when the place is confirmed (once,
even retried), refunded once on cancelling, refused when the wallet is short; a waiting household pays when it gets
its place; euros recorded paid by the organiser. The ledger stays consistent throughout."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from grenier.activities import services
from grenier.activities.models import PaidIn, Registration, RegistrationStatus, Session
from grenier.activities.services.charges import NotEnoughCredit, price_words
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.models import Household, Role
from grenier.fund.accounts import credit_issuer, household_credit, store_credit
from grenier.fund.models import Payment, Refund
from grenier.ledger import services as ledger
from grenier.ledger.models import Entry
from grenier.ledger.selectors import balance, ledger_check

from ..core.test_api import assert_problem, bearer, post
from .conftest import Workshop, make_session


def give_credit(household: Household, cents: int, key: str = "test-credit") -> None:
    ledger.entry_record(
        territory=household.territory,
        idempotency_key=f"{key}:{household.pk}",
        kind="test.credit",
        legs=[(credit_issuer(household.territory), -cents), (household_credit(household), cents)],
    )


def wallet(household: Household) -> int:
    return balance(household_credit(household))


def farm_visit(w: Workshop, capacity: int = 10, paid_in: str = PaidIn.CREDIT) -> Session:
    """3 € an adult, 1,50 € a child."""
    return make_session(
        w.activity,
        key=f"visit-{paid_in}-{capacity}",
        capacity=capacity,
        paid_in=paid_in,
        price_adult_cents=300,
        price_child_cents=150,
    )


def _register(
    session: Session, household: Household, key: str, adults: int = 2, children: int = 1
) -> Registration:
    return services.register(
        session=session,
        actor=None,
        idempotency_key=key,
        adults=adults,
        children=children,
        household=household,
    ).registration


def test_food_credit_is_taken_once_at_registration_even_when_retried(workshop: Workshop) -> None:
    household = workshop.cast.household
    give_credit(household, 2_000)
    session = farm_visit(workshop)
    first = _register(session, household, "reg-1")
    again = _register(session, household, "reg-1")  # the phone sent it twice
    other_key = _register(session, household, "reg-2")  # a second tap, another key: the same registration
    assert first.pk == again.pk == other_key.pk
    assert first.price_cents == 750 and first.charge_entry_id is not None
    assert wallet(household) == 2_000 - 750
    # A fund payment at the activity's store, all of it food credit (the store's 80 % coverage does not apply).
    payment = Payment.objects.get()
    assert (payment.store, payment.household, payment.idempotency_key) == (
        workshop.store,
        household,
        f"activities:charge:{first.pk}",
    )
    assert (payment.total_cents, payment.credit_cents, payment.euro_cents) == (750, 750, 0)
    assert payment.entry_id == first.charge_entry_id
    assert Entry.objects.filter(kind="fund.payment").count() == 1
    assert balance(store_credit(workshop.store)) == 750
    assert ledger_check(household.territory).ok


def test_cancelling_refunds_once_by_a_fund_refund(workshop: Workshop) -> None:
    household = workshop.cast.household
    give_credit(household, 2_000)
    registration = _register(farm_visit(workshop), household, "reg-1")
    services.registration_cancel(registration=registration, actor=None)
    services.registration_cancel(registration=registration, actor=None)  # retried
    registration.refresh_from_db()
    assert wallet(household) == 2_000
    assert balance(store_credit(workshop.store)) == 0
    refund = Refund.objects.get()
    assert (refund.payment.entry_id, refund.credit_cents) == (registration.charge_entry_id, 750)
    assert refund.idempotency_key == f"activities:refund:{registration.pk}"
    assert registration.refund_entry_id == refund.entry_id
    assert Entry.objects.filter(kind="fund.refund").count() == 1
    assert Payment.objects.get().refunded_credit_cents == 750
    assert ledger_check(household.territory).ok


def test_a_short_wallet_is_refused_with_the_balance_and_nothing_is_recorded(workshop: Workshop) -> None:
    household = workshop.cast.household
    give_credit(household, 500)
    session = farm_visit(workshop)
    with pytest.raises(NotEnoughCredit) as refused:
        _register(session, household, "reg-1")
    assert refused.value.status == 409
    assert "7,50" in refused.value.detail and "5,00" in refused.value.detail
    assert not Registration.objects.filter(session=session).exists()
    assert wallet(household) == 500
    smaller = _register(session, household, "reg-2", adults=1, children=1)  # 4,50 € fits
    assert smaller.status == RegistrationStatus.CONFIRMED and wallet(household) == 50
    assert ledger_check(household.territory).ok


def test_a_waiting_household_pays_only_when_it_gets_a_place(workshop: Workshop) -> None:
    w = workshop
    first, second, short = w.cast.household, w.cast.other_household, w.household("Foyer Court")
    for household in (first, second, short):
        give_credit(household, 1_000)
    session = farm_visit(w, capacity=3)
    taken = _register(session, first, "a")  # 3 persons: full
    broke = _register(session, short, "b", adults=1, children=0)
    waiting = _register(session, second, "c", adults=1, children=0)
    assert broke.status == waiting.status == RegistrationStatus.WAITING
    assert broke.charge_entry_id is None and wallet(second) == 1_000
    ledger.entry_record(  # the first in line spends its credit elsewhere meanwhile
        territory=short.territory,
        idempotency_key="spent",
        kind="test.spend",
        legs=[(household_credit(short), -900), (credit_issuer(short.territory), 900)],
    )
    services.registration_cancel(registration=taken, actor=None)
    broke.refresh_from_db()
    waiting.refresh_from_db()
    # The household that cannot pay stays waiting; the next one gets the place and pays.
    assert broke.status == RegistrationStatus.WAITING and broke.charge_entry_id is None
    assert waiting.status == RegistrationStatus.CONFIRMED and waiting.charge_entry_id is not None
    assert wallet(second) == 1_000 - 300 and wallet(first) == 1_000
    assert ledger_check(w.cast.territory).ok


def test_euros_are_recorded_paid_once_by_the_organiser(workshop: Workshop) -> None:
    household = workshop.cast.household
    session = farm_visit(workshop, paid_in=PaidIn.EUROS)
    registration = _register(session, household, "reg-1")
    assert registration.charge_entry_id is None  # paid at the session
    paid = services.euros_paid_record(registration=registration, actor=workshop.cast["producer"])
    again = services.euros_paid_record(registration=registration, actor=workshop.cast["producer"])
    assert paid.charge_entry_id == again.charge_entry_id is not None
    assert Entry.objects.filter(kind="activities.charge.euros").count() == 1
    assert ledger_check(household.territory).ok
    free = make_session(workshop.activity, key="free")
    gratis = _register(free, household, "reg-2")
    with pytest.raises(Conflict):
        services.euros_paid_record(registration=gratis, actor=None)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"paid_in": "free", "price_adult_cents": 300}, "paid_in"),
        ({"paid_in": "credit"}, "price_adult_cents"),
        ({"paid_in": "euros", "price_child_cents": -1}, "price_child_cents"),
        ({"paid_in": "euros", "price_adult_cents": 50_001}, "price_adult_cents"),
        ({"paid_in": "gold", "price_adult_cents": 300}, "paid_in"),
        ({"paid_in": "credit", "price_adult_cents": 300, "audience": "school"}, "paid_in"),
    ],
)
def test_a_price_that_makes_no_sense_is_refused(
    workshop: Workshop, arguments: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        make_session(workshop.activity, key="bad", day=date(2026, 12, 9), **arguments)
    assert field in refused.value.errors


def test_the_price_in_words(workshop: Workshop) -> None:
    assert "1,50" in price_words(farm_visit(workshop)) and "crédit" in price_words(farm_visit(workshop))
    assert price_words(workshop.session) == "Gratuit."


# --- the API ---------------------------------------------------------------------------------------------------------


def test_the_api_gives_the_price_charges_once_and_refuses_a_short_wallet(
    workshop: Workshop, client: Client
) -> None:
    w = workshop
    session = farm_visit(w)
    member = bearer(w.cast, "member")
    shown = client.get(f"/api/v1/activities/sessions/{session.pk}", headers=member).json()
    assert (shown["paid_in"], shown["price_adult_cents"], shown["price_child_cents"]) == ("credit", 300, 150)
    url = f"/api/v1/activities/sessions/{session.pk}/registrations"
    body = {"household_id": w.cast.household.pk, "adults": 2, "children": 1, "idempotency_key": "api-price-1"}
    refused = post(client, url, body, headers=member)
    assert_problem(refused, 409)
    assert refused.json()["remaining_credit_cents"] == 0 and refused.json()["price_cents"] == 750
    assert "Crédit alimentaire insuffisant" in refused.json()["detail"]
    give_credit(w.cast.household, 1_000)
    created = post(client, url, {**body, "idempotency_key": "api-price-2"}, headers=member)
    again = post(client, url, {**body, "idempotency_key": "api-price-2"}, headers=member)
    assert created.status_code == 201 and again.status_code == 200
    assert created.json()["price_cents"] == 750 and created.json()["paid_at"] is not None
    assert wallet(w.cast.household) == 250
    cancel = f"/api/v1/activities/registrations/{created.json()['id']}/cancel"
    assert post(client, cancel, {}, headers=member).json()["refunded"] is True
    assert post(client, cancel, {}, headers=member).json()["refunded"] is True
    assert wallet(w.cast.household) == 1_000
    assert ledger_check(w.cast.territory).ok


@pytest.mark.parametrize("who", [role.value for role in Role])
def test_only_organisers_record_euros_paid(workshop: Workshop, client: Client, who: str) -> None:
    w = workshop
    registration = _register(farm_visit(w, paid_in=PaidIn.EUROS), w.cast.household, "reg-1")
    response = post(
        client, f"/api/v1/activities/registrations/{registration.pk}/paid", {}, headers=bearer(w.cast, who)
    )
    if who in {"coordinator", "producer"}:  # a coordinator, the activity's manager
        assert response.status_code == 200 and response.json()["paid_at"] is not None
    elif who == "member":  # its own registration: seen, not recorded by it
        assert_problem(response, 403)
    else:
        assert response.status_code in {401, 403, 404}
        assert_problem(response, response.status_code)
    registration.refresh_from_db()
    assert (registration.charge_entry_id is not None) == (who in {"coordinator", "producer"})


def test_a_household_passed_over_for_want_of_credit_is_told_once(
    workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    w = workshop
    first, short, next_one = (
        w.household("Foyer Premier", email="premier@test.grenier"),
        w.household("Foyer Court", email="court@test.grenier"),
        w.household("Foyer Suivant", email="suivant@test.grenier"),
    )
    give_credit(first, 1_000)
    give_credit(short, 100)
    give_credit(next_one, 1_000)
    session = farm_visit(w, capacity=3)
    taken = _register(session, first, "a")  # 3 persons: full
    waiting_short = _register(session, short, "b", adults=1, children=0)  # 3 € owed, 1 € held
    _register(session, next_one, "c", adults=1, children=0)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_cancel(registration=taken, actor=None)
    told = [m for m in mail.outbox if m.to == ["court@test.grenier"]]
    assert len(told) == 1 and "crédit alimentaire insuffisant" in told[0].subject
    assert "1,00\xa0€" in told[0].body and "3,00\xa0€" in told[0].body and "Atelier cuisine" in told[0].body
    assert [m.to for m in mail.outbox if "Une place pour vous" in m.subject] == [["suivant@test.grenier"]]
    waiting_short.refresh_from_db()
    assert (
        waiting_short.status == RegistrationStatus.WAITING and waiting_short.short_credit_told_at is not None
    )
    # Another place frees up, the wallet is still short: passed over again, not told again.
    mail.outbox.clear()
    other = w.household("Foyer Autre", email="autre@test.grenier")
    give_credit(other, 1_000)
    _register(session, other, "d", adults=1, children=0)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_capacity_set(session=session, capacity=4, actor=None)
    assert [m.to for m in mail.outbox] == [
        ["autre@test.grenier"]
    ]  # the next one's place, nothing to Foyer Court
    waiting_short.refresh_from_db()
    assert waiting_short.status == RegistrationStatus.WAITING
    assert ledger_check(w.cast.territory).ok
