"""Decision 0004: a session's food credit is a fund payment at its activity's payee store, an approved store of the
territory a coordinator chose. The charge is a ``Payment`` there (all food credit, whatever the store's coverage),
the store's monthly settlement counts it and nets a refund; retries move nothing twice; a session is priced in food
credit only with a payee store; only a coordinator chooses it, and only an approved store of the territory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.activities import services
from grenier.activities.models import Activity, PaidIn, Registration, RegistrationStatus, Session
from grenier.activities.services import charges
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.months import first_of_month
from grenier.fund import services as fund_services
from grenier.fund.accounts import store_credit
from grenier.fund.models import Payment, Refund, Settlement, Store
from grenier.ledger import services as ledger
from grenier.ledger.models import Entry, Unit
from grenier.ledger.selectors import balance, ledger_check

from ..core.test_api import assert_problem, bearer, post
from .conftest import Workshop, make_session
from .test_prices import _register, give_credit, wallet


def _credit_session(w: Workshop, key: str = "credit", activity: Activity | None = None) -> Session:
    """A week from today, 3 € an adult and 1,50 € a child, in food credit."""
    return make_session(
        activity or w.activity,
        key=key,
        day=timezone.localdate() + timedelta(days=7),
        paid_in=PaidIn.CREDIT,
        price_adult_cents=300,
        price_child_cents=150,
    )


def _bare_activity(w: Workshop, key: str = "bare") -> Activity:
    """An activity without a payee store."""
    return services.activity_create(
        territory=w.cast.territory,
        kind=w.activity.kind,
        title="Visite de la ferme",
        organisers=[services.OrganiserInput(association="Les maraîchers")],
        managers=[w.cast["producer"]],
        actor=w.cast["coordinator"],
        idempotency_key=key,
    )


def _other_stores(w: Workshop) -> dict[str, Store]:
    """A store of the territory awaiting approval, one suspended, an approved one of another territory."""
    pending = fund_services.store_create(territory=w.cast.territory, name="Primeur en attente", actor=None)
    suspended = fund_services.store_suspend(
        store=fund_services.store_approve(
            store=fund_services.store_create(territory=w.cast.territory, name="Épicerie fermée", actor=None),
            actor=None,
        ),
        actor=None,
    )
    elsewhere = fund_services.store_approve(
        store=fund_services.store_create(territory=w.cast.elsewhere, name="Épicerie d'ailleurs", actor=None),
        actor=None,
    )
    return {"pending": pending, "suspended": suspended, "elsewhere": elsewhere}


# --- the money ---------------------------------------------------------------------------------------------------


def test_the_charge_is_a_payment_at_the_payee_store_counted_and_netted_by_its_settlement(
    workshop: Workshop, pinned_clock: time_machine.Traveller
) -> None:
    w = workshop
    first, second = w.cast.household, w.cast.other_household
    give_credit(first, 2_000)
    give_credit(second, 2_000)
    session = _credit_session(w)
    kept = _register(session, first, "kept")  # 2 adults, 1 child: 7,50 €
    cancelled = _register(session, second, "cancelled", adults=1, children=0)  # 3,00 €
    payments = Payment.objects.filter(store=w.store).order_by("pk")
    assert [(p.household_id, p.credit_cents, p.euro_cents) for p in payments] == [
        (first.pk, 750, 0),  # the store takes 80 % at its till; a session's price is all food credit
        (second.pk, 300, 0),
    ]
    assert [p.entry_id for p in payments] == [kept.charge_entry_id, cancelled.charge_entry_id]
    assert balance(store_credit(w.store)) == 1_050
    services.registration_cancel(registration=cancelled, actor=None)  # before the deadline
    cancelled.refresh_from_db()
    refund = Refund.objects.get(payment__store=w.store)
    assert (refund.credit_cents, refund.entry_id) == (300, cancelled.refund_entry_id)
    assert wallet(second) == 2_000 and wallet(first) == 2_000 - 750
    assert balance(store_credit(w.store)) == 750
    # The month over, the store's settlement counts both payments and nets the refund: the fund owes it 7,50 €.
    month = first_of_month(timezone.localdate())
    next_month = (month + timedelta(days=32)).replace(day=2)
    pinned_clock.move_to(timezone.make_aware(datetime.combine(next_month, time(9))))
    fund_services.settle(territory=w.cast.territory, month=month, actor=None)
    settlement = Settlement.objects.get(store=w.store, month=month)
    assert (
        settlement.payments_count,
        settlement.credit_received_cents,
        settlement.credit_refunded_cents,
        settlement.amount_cents,
    ) == (2, 1_050, 300, 750)
    assert balance(store_credit(w.store)) == 0  # the credit went back to the issuer
    assert not Entry.objects.filter(kind__in=["activities.charge.credit", "activities.refund"]).exists()
    assert ledger_check(w.cast.territory).ok


def test_a_charge_or_a_refund_retried_moves_the_credit_once(workshop: Workshop) -> None:
    w = workshop
    household = w.cast.household
    give_credit(household, 2_000)
    session = _credit_session(w)
    registration = _register(session, household, "reg")
    # A retry that lost the registration's row (a crash after the payment, before the row was saved) finds the
    # fund's payment under its key: no second payment, no second debit.
    charge_entry = registration.charge_entry_id
    Registration.objects.filter(pk=registration.pk).update(charge_entry=None, charged_at=None)
    registration.refresh_from_db()
    charges.credit_charge(registration, session, actor=None, now=timezone.now())
    assert registration.charge_entry_id == charge_entry
    assert Payment.objects.count() == 1 and wallet(household) == 2_000 - 750
    services.registration_cancel(registration=registration, actor=None)
    services.registration_cancel(registration=registration, actor=None)  # the phone sent it twice
    registration.refresh_from_db()
    refund_entry = registration.refund_entry_id
    Registration.objects.filter(pk=registration.pk).update(refund_entry=None)  # a retry that lost its row
    registration.refresh_from_db()
    charges.refund(registration, session, actor=None)
    assert registration.refund_entry_id == refund_entry
    assert Refund.objects.count() == 1 and wallet(household) == 2_000
    assert Payment.objects.get().refunded_credit_cents == 750
    assert ledger_check(w.cast.territory).ok


def test_a_short_wallet_is_still_refused_with_its_balance(workshop: Workshop) -> None:
    household = workshop.cast.household
    give_credit(household, 500)
    with pytest.raises(services.NotEnoughCredit) as refused:
        _register(_credit_session(workshop), household, "short")
    assert "7,50" in refused.value.detail and "5,00" in refused.value.detail
    assert not Payment.objects.exists() and wallet(household) == 500


def test_a_session_charged_before_decision_0004_stays_readable_and_is_refunded_by_its_entry(
    workshop: Workshop,
) -> None:
    """A charge of before: the credit taken to the session's own account. Nothing moves it; cancelling reverses it."""
    w = workshop
    household = w.cast.household
    give_credit(household, 2_000)
    session = _credit_session(w)
    registration = Registration.objects.create(
        session=session,
        household=household,
        adults=1,
        status=RegistrationStatus.CONFIRMED,
        price_cents=300,
        idempotency_key="before",
    )
    legacy = ledger.entry_record(
        territory=w.cast.territory,
        idempotency_key=f"activities:charge:{registration.pk}",
        kind="activities.charge.credit",
        legs=[
            (fund_services.household_credit(household), -300),
            (charges.session_account(session, Unit.CREDIT), 300),
        ],
    ).entry
    Registration.objects.filter(pk=registration.pk).update(charge_entry=legacy, charged_at=timezone.now())
    registration.refresh_from_db()
    assert balance(charges.session_account(session, Unit.CREDIT)) == 300  # readable, where it was
    services.registration_cancel(registration=registration, actor=None)
    registration.refresh_from_db()
    assert registration.refund_entry_id is not None
    reversing = Entry.objects.get(pk=registration.refund_entry_id)
    assert (reversing.kind, reversing.reverses_id) == ("activities.refund", legacy.pk)
    assert balance(charges.session_account(session, Unit.CREDIT)) == 0 and wallet(household) == 2_000
    assert not Payment.objects.exists()
    assert ledger_check(w.cast.territory).ok


# --- no payee store, a wrong one -----------------------------------------------------------------------------------


def test_without_a_payee_store_a_session_cannot_be_priced_in_food_credit(
    workshop: Workshop, client: Client, login: Callable[..., Client]
) -> None:
    w = workshop
    bare = _bare_activity(w)
    with pytest.raises(charges.NoPayeeStore) as refused:
        _credit_session(w, activity=bare)
    assert refused.value.status == 409 and "coordina" in refused.value.detail
    assert refused.value.errors == {
        "paid_in": ["Aucun point de vente conventionné ne reçoit le crédit alimentaire."]
    }
    euros = make_session(
        bare, key="euros", paid_in=PaidIn.EUROS, price_adult_cents=300
    )  # euros stay possible
    with pytest.raises(charges.NoPayeeStore):
        services.session_price_set(
            session=euros, paid_in=PaidIn.CREDIT, price_adult_cents=300, price_child_cents=0, actor=None
        )
    euros.refresh_from_db()
    assert euros.paid_in == PaidIn.EUROS
    # The API answers 409 problem+json with the same message.
    url = f"/api/v1/activities/sessions/{euros.pk}/price"
    body = {"paid_in": "credit", "price_adult_cents": 300, "price_child_cents": 0}
    problem = assert_problem(post(client, url, body, headers=bearer(w.cast, "producer")), 409)
    assert "Demandez au coordinateur ou à la coordinatrice du territoire" in problem["detail"]
    # The organiser's form shows it on the price.
    page = login(w.cast["producer"]).post(
        reverse("activities_session_new", args=[w.cast.territory.slug, bare.pk]),
        {
            "day": (timezone.localdate() + timedelta(days=7)).isoformat(),
            "starts_at": "10:00",
            "ends_at": "12:00",
            "address": "Ferme des Sources",
            "capacity": 20,
            "audience": "territory",
            "paid_in": "credit",
            "price_adult": "3,00",
            "idempotency_key": "page-credit",
        },
    )
    assert page.status_code == 200
    assert "Demandez au coordinateur ou à la coordinatrice du territoire" in page.content.decode()
    assert not Session.objects.filter(idempotency_key="page-credit").exists()


@pytest.mark.parametrize("which", ["pending", "suspended", "elsewhere"])
def test_only_an_approved_store_of_the_territory_may_receive_the_credit(
    workshop: Workshop, client: Client, which: str
) -> None:
    w = workshop
    store = _other_stores(w)[which]
    bare = _bare_activity(w)
    with pytest.raises(InvalidInput) as refused:
        services.activity_payee_store_set(activity=bare, store=store, actor=w.cast["coordinator"])
    assert "payee_store" in refused.value.errors
    with pytest.raises(InvalidInput):
        services.activity_create(
            territory=w.cast.territory,
            kind=w.activity.kind,
            title="Autre visite",
            organisers=[services.OrganiserInput(association="Les maraîchers")],
            actor=None,
            idempotency_key="with-store",
            payee_store=store,
        )
    url = f"/api/v1/activities/{bare.pk}/payee-store"
    problem = assert_problem(
        post(client, url, {"store_id": store.pk}, headers=bearer(w.cast, "coordinator")), 422
    )
    assert [error["field"] for error in problem["errors"]] == ["store_id"]
    bare.refresh_from_db()
    assert bare.payee_store_id is None


def test_a_payee_store_suspended_later_refuses_new_charges_but_not_a_cancellation(workshop: Workshop) -> None:
    w = workshop
    first, second = w.cast.household, w.cast.other_household
    give_credit(first, 2_000)
    give_credit(second, 2_000)
    session = make_session(
        w.activity,
        key="small",
        capacity=3,
        day=timezone.localdate() + timedelta(days=7),
        paid_in=PaidIn.CREDIT,
        price_adult_cents=300,
    )
    taken = _register(session, first, "a", adults=3, children=0)
    waiting = _register(session, second, "b", adults=1, children=0)
    assert waiting.status == RegistrationStatus.WAITING
    other = _credit_session(w, key="other")
    fund_services.store_suspend(store=w.store, actor=None)
    newcomer = w.household("Foyer Nouveau")
    give_credit(newcomer, 2_000)
    services.session_capacity_set(session=session, capacity=3, actor=None)  # nothing to serve: no change
    services.registration_cancel(registration=taken, actor=None)  # refunded at the store, even suspended
    taken.refresh_from_db()
    waiting.refresh_from_db()
    assert taken.refund_entry_id is not None and wallet(first) == 2_000
    assert (
        waiting.status == RegistrationStatus.WAITING and waiting.charge_entry_id is None
    )  # nobody can pay now
    with pytest.raises(charges.NoPayeeStore) as refused:
        _register(other, newcomer, "c", adults=1, children=0)
    assert "Épicerie du Jardin" in refused.value.detail and "coordina" in refused.value.detail
    assert ledger_check(w.cast.territory).ok


def test_the_payee_store_is_not_taken_away_while_sessions_ask_for_food_credit(workshop: Workshop) -> None:
    w = workshop
    session = _credit_session(w)
    with pytest.raises(Conflict):
        services.activity_payee_store_set(activity=w.activity, store=None, actor=w.cast["coordinator"])
    services.session_price_set(
        session=session, paid_in=PaidIn.EUROS, price_adult_cents=300, price_child_cents=0, actor=None
    )
    services.activity_payee_store_set(activity=w.activity, store=None, actor=w.cast["coordinator"])
    w.activity.refresh_from_db()
    assert w.activity.payee_store_id is None


# --- who chooses -----------------------------------------------------------------------------------------------------


def test_only_a_coordinator_chooses_the_payee_store_on_the_page(
    workshop: Workshop, login: Callable[..., Client]
) -> None:
    w = workshop
    bare = _bare_activity(w)
    url = reverse("activities_payee_store", args=[w.cast.territory.slug, bare.pk])
    for who, status in (("producer", 403), ("member", 403), ("outsider", 404)):
        client = login(w.cast[who])
        assert client.get(url).status_code == status, who
        assert client.post(url, {"payee_store": w.store.pk}).status_code == status, who
    assert login(None).get(url).status_code in (302, 404)
    bare.refresh_from_db()
    assert bare.payee_store_id is None
    coordinator = login(w.cast["coordinator"])
    page = coordinator.get(url).content.decode()
    assert "Épicerie du Jardin" in page and "Primeur en attente" not in page  # approved stores only
    sent = coordinator.post(url, {"payee_store": w.store.pk})
    assert sent.status_code == 302
    bare.refresh_from_db()
    assert bare.payee_store_id == w.store.pk
    organise = coordinator.get(reverse("activities_organise", args=[w.cast.territory.slug])).content.decode()
    assert "Crédit alimentaire payé à Épicerie du Jardin." in organise


def test_only_a_coordinator_chooses_the_payee_store_through_the_api(
    workshop: Workshop, client: Client
) -> None:
    w = workshop
    bare = _bare_activity(w)
    url = f"/api/v1/activities/{bare.pk}/payee-store"
    for who, status in (("producer", 403), ("member", 403), ("social_worker", 403), ("cashier", 403)):
        assert_problem(post(client, url, {"store_id": w.store.pk}, headers=bearer(w.cast, who)), status)
    elsewhere = bearer(w.cast, "outsider", territory="elsewhere")  # a coordinator of another territory
    assert_problem(post(client, url, {"store_id": w.store.pk}, headers=elsewhere), 404)
    bare.refresh_from_db()
    assert bare.payee_store_id is None
    coordinator = bearer(w.cast, "coordinator")
    assert_problem(post(client, url, {"store_id": 10**9}, headers=coordinator), 422)
    assert_problem(post(client, url, {"store_id": "x"}, headers=coordinator), 422)
    chosen = post(client, url, {"store_id": w.store.pk}, headers=coordinator)
    assert chosen.status_code == 200
    assert chosen.json() == {
        "activity_id": bare.pk,
        "payee_store_id": w.store.pk,
        "payee_store": "Épicerie du Jardin",
    }
    bare.refresh_from_db()
    session = _credit_session(w, activity=bare)  # now it may be priced in food credit
    shown = client.get(f"/api/v1/activities/sessions/{session.pk}", headers=bearer(w.cast, "member")).json()
    assert (shown["payee_store_id"], shown["payee_store"]) == (w.store.pk, "Épicerie du Jardin")
    assert_problem(
        post(client, url, {"store_id": None}, headers=coordinator), 409
    )  # its session asks for credit


def test_the_session_page_says_where_the_credit_goes(
    workshop: Workshop, login: Callable[..., Client]
) -> None:
    w = workshop
    session = _credit_session(w)
    page = login(w.cast["member"]).get(
        reverse("activities_session", args=[w.cast.territory.slug, session.pk])
    )
    assert (
        "payé en crédit alimentaire à Épicerie du Jardin quand votre place est confirmée"
        in page.content.decode()
    )


def test_the_coordinator_names_the_payee_store_on_the_new_activity_form(
    workshop: Workshop, login: Callable[..., Client]
) -> None:
    w = workshop
    stores = _other_stores(w)
    client = login(w.cast["coordinator"])
    new = reverse("activities_activity_new", args=[w.cast.territory.slug])
    page = client.get(new).content.decode()
    assert "Épicerie du Jardin" in page  # approved here: offered
    assert all(store.name not in page for store in stores.values())  # pending, suspended, elsewhere: not
    form = {
        "kind": w.activity.kind_id,
        "title": "Visite de la ferme des Sources",
        "association": "Les Amis du Jardin",
        "idempotency_key": "new-with-store",
    }
    refused = client.post(new, {**form, "payee_store": stores["pending"].pk})
    assert (
        refused.status_code == 200 and not Activity.objects.filter(idempotency_key="new-with-store").exists()
    )
    sent = client.post(new, {**form, "payee_store": w.store.pk})
    assert sent.status_code == 302
    assert Activity.objects.get(idempotency_key="new-with-store").payee_store_id == w.store.pk
