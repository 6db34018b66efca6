"""A priced session on the pages: the organiser sets its price on the session's form, a member reads it and what
their household has left, a short wallet is told so on the form, the member's history shows what was paid and
given back, the organiser ticks euros paid (nobody else may)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from grenier.activities.models import PaidIn, Registration, Session
from grenier.core.models import Role
from grenier.ledger.selectors import ledger_check

from .conftest import Workshop
from .test_prices import _register, farm_visit, give_credit, wallet


def test_the_organiser_sets_a_price_on_the_session_s_form(
    workshop: Workshop, login: Callable[..., Client]
) -> None:
    w = workshop
    client = login(w.cast["producer"])
    url = reverse("activities_session_new", args=[w.cast.territory.slug, w.activity.pk])
    form = {
        "day": "2026-12-09",
        "starts_at": "10:00",
        "ends_at": "12:00",
        "address": "Ferme des Sources",
        "capacity": 20,
        "audience": "territory",
        "paid_in": "credit",
        "price_adult": "3,50",
        "price_child": "",
        "idempotency_key": "price-1",
    }
    refused = client.post(url, {**form, "price_adult": "", "idempotency_key": "price-0"})
    assert refused.status_code == 200 and "Indiquez le prix pour un adulte" in refused.content.decode()
    sent = client.post(url, form)
    assert sent.status_code == 302
    session = Session.objects.get(idempotency_key="price-1")
    assert (session.paid_in, session.price_adult_cents, session.price_child_cents) == ("credit", 350, 0)
    page = login(w.cast["member"]).get(sent["Location"]).content.decode()
    assert "3,50\xa0€ par adulte, gratuit pour les enfants, payé en crédit alimentaire" in page
    assert "Votre foyer a 0,00\xa0€ de crédit alimentaire." in page


def test_a_member_pays_in_credit_sees_it_and_is_refunded(
    workshop: Workshop, login: Callable[..., Client]
) -> None:
    w = workshop
    slug = w.cast.territory.slug
    session = farm_visit(w)
    client = login(w.cast["member"])
    url = reverse("activities_session", args=[slug, session.pk])
    form = {"household": w.cast.household.pk, "adults": 2, "children": 1, "idempotency_key": "page-1"}
    short = client.post(url, form)
    assert short.status_code == 200
    assert "Crédit alimentaire insuffisant : cette inscription coûte 7,50" in short.content.decode()
    assert not Registration.objects.filter(session=session).exists()
    give_credit(w.cast.household, 1_000)
    sent = client.post(url, {**form, "idempotency_key": "page-2"})
    assert sent.status_code == 302
    mine = client.get(sent["Location"]).content.decode()
    assert "7,50\xa0€ de crédit alimentaire payés" in mine
    registration = Registration.objects.get(session=session)
    client.post(reverse("activities_cancel", args=[slug, registration.pk]))
    assert wallet(w.cast.household) == 1_000
    session.date = session.date.replace(year=2025)  # now in the past: the history shows it
    session.save(update_fields=["date"])
    assert "7,50\xa0€ rendus" in client.get(reverse("activities_mine", args=[slug])).content.decode()
    assert ledger_check(w.cast.territory).ok


@pytest.mark.parametrize("who", [role.value for role in Role])
def test_only_the_organisers_tick_euros_paid(
    workshop: Workshop, login: Callable[..., Client], who: str
) -> None:
    w = workshop
    session = farm_visit(w, paid_in=PaidIn.EUROS)
    registration = _register(session, w.cast.household, "reg-1")
    slug = w.cast.territory.slug
    if who == "producer":
        page = (
            login(w.cast[who]).get(reverse("activities_attendance", args=[slug, session.pk])).content.decode()
        )
        assert f'id="euros-paid-{registration.pk}"' in page and "7,50\xa0€ à payer en euros" in page
    response = login(w.cast[who]).post(
        reverse("activities_euros_paid", args=[slug, session.pk, registration.pk])
    )
    registration.refresh_from_db()
    if who in {"coordinator", "producer"}:
        assert response.status_code == 302 and registration.charge_entry_id is not None
    else:
        assert response.status_code == 403 and registration.charge_entry_id is None
