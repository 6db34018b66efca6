"""A session's price changed by its organisers or a coordinator while nobody has paid it: the registrations not
cancelled take their part at the new price; once a household has paid, refused with a clear message (what was
paid would disagree); a session cannot start asking for food credit from households already holding places. The
page and the API, and everyone else refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from grenier.activities import services
from grenier.activities.models import PaidIn, RegistrationStatus, Session
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.models import AuditEvent
from grenier.ledger.selectors import ledger_check

from ..core.test_api import assert_problem, bearer, post
from .conftest import Workshop
from .test_pages import EVERYONE, ROLES
from .test_prices import _register, farm_visit, give_credit, wallet

MANAGERS = {"coordinator", "producer"}  # a coordinator, the activity's manager


def _set(session: Session, paid_in: str, adult: int, child: int = 0) -> Session:
    return services.session_price_set(
        session=session, paid_in=paid_in, price_adult_cents=adult, price_child_cents=child, actor=None
    )


def test_before_anyone_paid_the_registrations_take_the_new_price(workshop: Workshop) -> None:
    w = workshop
    session = farm_visit(w, paid_in=PaidIn.EUROS)  # 3 € an adult, 1,50 € a child, paid at the session
    confirmed = _register(session, w.cast.household, "a")  # 2 adults, 1 child: 7,50 €
    changed = _set(session, PaidIn.EUROS, 400, 200)
    confirmed.refresh_from_db()
    assert (changed.price_adult_cents, changed.price_child_cents) == (400, 200)
    assert confirmed.price_cents == 1_000 and confirmed.charge_entry_id is None
    _set(session, PaidIn.FREE, 0)
    confirmed.refresh_from_db()
    assert confirmed.price_cents == 0
    assert (
        AuditEvent.objects.filter(action="activities.session.price", subject=f"session:{session.pk}").count()
        == 2
    )
    _set(session, PaidIn.FREE, 0)  # the same price again: nothing changes, nothing recorded
    assert AuditEvent.objects.filter(action="activities.session.price").count() == 2


def test_after_a_payment_the_price_is_refused_and_nothing_changes(workshop: Workshop) -> None:
    w = workshop
    give_credit(w.cast.household, 2_000)
    session = farm_visit(w)  # in food credit: paid at registration
    paid = _register(session, w.cast.household, "a")
    with pytest.raises(Conflict) as refused:
        _set(session, PaidIn.CREDIT, 100, 50)
    assert "1 foyer a déjà payé cette séance" in refused.value.detail
    session.refresh_from_db()
    paid.refresh_from_db()
    assert (session.price_adult_cents, session.price_child_cents, paid.price_cents) == (300, 150, 750)
    assert wallet(w.cast.household) == 2_000 - 750
    # Euros recorded paid count as well.
    euros = farm_visit(w, paid_in=PaidIn.EUROS)
    services.euros_paid_record(registration=_register(euros, w.cast.household, "b"), actor=None)
    with pytest.raises(Conflict):
        _set(euros, PaidIn.FREE, 0)
    # Once the payer cancelled and was refunded, nothing paid disagrees: the price may change.
    services.registration_cancel(registration=paid, actor=None)
    assert _set(session, PaidIn.CREDIT, 100, 50).price_adult_cents == 100
    assert ledger_check(w.cast.territory).ok


def test_food_credit_is_not_asked_of_places_already_given(workshop: Workshop) -> None:
    w = workshop
    confirmed = _register(w.session, w.cast.household, "a")  # a free workshop
    with pytest.raises(Conflict) as refused:
        _set(w.session, PaidIn.CREDIT, 300)
    assert "crédit alimentaire" in refused.value.detail and "euros" in refused.value.detail
    w.session.refresh_from_db()
    assert w.session.paid_in == PaidIn.FREE
    assert _set(w.session, PaidIn.EUROS, 300).paid_in == PaidIn.EUROS  # euros, paid at the session: fine
    confirmed.refresh_from_db()
    assert confirmed.price_cents == 600 and confirmed.charge_entry_id is None


def test_a_waiting_household_pays_the_new_price_when_it_gets_its_place(workshop: Workshop) -> None:
    w = workshop
    give_credit(w.cast.other_household, 1_000)
    session = farm_visit(w, capacity=3, paid_in=PaidIn.EUROS)
    taken = _register(session, w.cast.household, "a")  # 3 persons: full
    waiting = _register(session, w.cast.other_household, "b", adults=1, children=0)
    assert waiting.status == RegistrationStatus.WAITING
    _set(session, PaidIn.EUROS, 200, 100)
    services.registration_cancel(registration=taken, actor=None)
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.CONFIRMED and waiting.price_cents == 200


@pytest.mark.parametrize(
    ("paid_in", "adult", "child", "field"),
    [
        ("free", 300, 0, "paid_in"),
        ("credit", 0, 0, "price_adult_cents"),
        ("euros", 50_001, 0, "price_adult_cents"),
    ],
)
def test_a_price_that_makes_no_sense_is_refused(
    workshop: Workshop, paid_in: str, adult: int, child: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _set(workshop.session, paid_in, adult, child)
    assert field in refused.value.errors


def test_a_closed_or_cancelled_session_keeps_its_price(workshop: Workshop) -> None:
    w = workshop
    Session.objects.filter(pk=w.session.pk).update(closed_at=w.session.created_at)
    with pytest.raises(Conflict):
        _set(w.session, PaidIn.EUROS, 300)


# --- the page ------------------------------------------------------------------------------------------------------


def test_the_organiser_changes_the_price_on_its_page(
    workshop: Workshop, login: Callable[..., Client]
) -> None:
    w = workshop
    slug = w.cast.territory.slug
    client = login(w.cast["producer"])
    session_page = client.get(reverse("activities_session", args=[slug, w.session.pk])).content.decode()
    url = reverse("activities_session_price", args=[slug, w.session.pk])
    assert f'href="{url}"' in session_page
    form = client.get(url).content.decode()
    assert '<option value="free" selected>' in form  # the price it has
    done = client.post(url, {"paid_in": "euros", "price_adult": "3", "price_child": "1,50"})
    assert done.status_code == 302
    w.session.refresh_from_db()
    assert (w.session.paid_in, w.session.price_adult_cents, w.session.price_child_cents) == (
        "euros",
        300,
        150,
    )
    page = client.get(done["Location"]).content.decode()
    assert "3,00\xa0€ par adulte, 1,50\xa0€ par enfant" in page
    again = client.get(url).content.decode()
    assert '<option value="euros" selected>' in again and 'value="1,50"' in again


def test_after_a_payment_the_page_says_why(workshop: Workshop, login: Callable[..., Client]) -> None:
    w = workshop
    give_credit(w.cast.household, 2_000)
    session = farm_visit(w)
    _register(session, w.cast.household, "a")
    client = login(w.cast["coordinator"])
    url = reverse("activities_session_price", args=[w.cast.territory.slug, session.pk])
    refused = client.post(url, {"paid_in": "credit", "price_adult": "1", "price_child": ""})
    assert refused.status_code == 200
    assert "1 foyer a déjà payé cette séance" in refused.content.decode()
    session.refresh_from_db()
    assert session.price_adult_cents == 300


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_change_a_price_on_the_page(
    workshop: Workshop, login: Callable[..., Client], who: str
) -> None:
    w = workshop
    url = reverse("activities_session_price", args=[w.cast.territory.slug, w.session.pk])
    client = login(w.cast[who])
    expected = 200 if who in MANAGERS else 403 if who in ROLES else 404
    assert client.get(url).status_code == expected
    response = client.post(url, {"paid_in": "euros", "price_adult": "5", "price_child": ""})
    assert response.status_code == (302 if who in MANAGERS else expected)
    w.session.refresh_from_db()
    assert (w.session.paid_in == PaidIn.EUROS) == (who in MANAGERS)


# --- the API -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_who_may_change_a_price_through_the_api(workshop: Workshop, client: Client, who: str) -> None:
    w = workshop
    url = f"/api/v1/activities/sessions/{w.session.pk}/price"
    body = {"paid_in": "credit", "price_adult_cents": 300, "price_child_cents": 100}
    response = post(client, url, body, headers=bearer(w.cast, who))
    if who in MANAGERS:
        assert response.status_code == 200
        assert (response.json()["paid_in"], response.json()["price_child_cents"]) == ("credit", 100)
    else:
        assert_problem(response, 403)
    w.session.refresh_from_db()
    assert (w.session.paid_in == PaidIn.CREDIT) == (who in MANAGERS)


def test_the_api_refuses_a_price_after_a_payment_and_odd_bodies(workshop: Workshop, client: Client) -> None:
    w = workshop
    give_credit(w.cast.household, 2_000)
    session = farm_visit(w)
    _register(session, w.cast.household, "a")
    url = f"/api/v1/activities/sessions/{session.pk}/price"
    coordinator = bearer(w.cast, "coordinator")
    refused = post(client, url, {"paid_in": "credit", "price_adult_cents": 100}, headers=coordinator)
    assert_problem(refused, 409)
    assert "déjà payé" in refused.json()["detail"]
    for body in (
        {"paid_in": "gold", "price_adult_cents": 100},
        {"paid_in": "euros", "price_adult_cents": -1},
        {"paid_in": "euros", "price_adult_cents": "trois"},
        {"paid_in": "free", "price_adult_cents": 100},
        {},
    ):
        assert_problem(post(client, url, body, headers=coordinator), 422)
    assert_problem(
        post(client, "/api/v1/activities/sessions/999999/price", {"paid_in": "free"}, headers=coordinator),
        404,
    )
    same = post(
        client,
        url,
        {"paid_in": "credit", "price_adult_cents": 300, "price_child_cents": 150},
        headers=coordinator,
    )
    assert same.status_code == 200  # the price it has: a retry is harmless even after a payment
