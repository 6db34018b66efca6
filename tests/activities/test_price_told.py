"""The households registered on a session whose price changes are told once by e-mail, when the change commits:
what the price was and is, their part before and now, and until when they may cancel (with the link to their
registrations). A household whose part and way of paying stay the same, a cancelled registration, the same price
sent again and a change refused are told nothing."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from grenier.activities import services
from grenier.activities.models import PaidIn, RegistrationStatus
from grenier.core.errors import Conflict

from ..core.test_api import bearer, post
from .conftest import Workshop
from .test_prices import _register, farm_visit
from .test_session_price import _set


def test_the_households_registered_are_told_once_what_changed_and_how_to_cancel(
    workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    w = workshop
    session = farm_visit(w, paid_in=PaidIn.EUROS)  # 3 € an adult, 1,50 € a child
    family = _register(session, w.cast.household, "family")  # 2 adults, 1 child: 7,50 €
    alone = w.household("Foyer Seul-Test", "seul@test.grenier")
    _register(session, alone, "alone", adults=1, children=0)  # 3 €
    gone = w.household("Foyer Parti-Test", "parti@test.grenier")
    services.registration_cancel(registration=_register(session, gone, "gone", adults=1), actor=None)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _set(
            session, PaidIn.EUROS, 300, 0
        )  # children free now: the family's part changes, not the one adult's
    (told,) = mail.outbox
    assert told.to == ["martin@test.grenier"]
    assert told.subject == "Prix modifié : Atelier cuisine de saison"
    assert "3,00\xa0€ par adulte, 1,50\xa0€ par enfant, en euros" in told.body  # before
    assert "3,00\xa0€ par adulte, gratuit pour les enfants, en euros" in told.body  # now
    assert "7,50\xa0€ avant, 6,00\xa0€ maintenant" in told.body
    deadline = date_format(timezone.localtime(session.registration_deadline), "l j F Y, H:i")
    assert f"annulez votre inscription avant le {deadline}," in told.body and "2026" in deadline
    assert f"/t/{w.cast.territory.slug}/activities/mine/" in told.body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _set(session, PaidIn.EUROS, 300, 0)  # sent again: nothing changes, nobody told twice
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        _set(session, PaidIn.FREE, 0)  # free: every part changes
    assert sorted(m.to[0] for m in mail.outbox) == ["martin@test.grenier", "seul@test.grenier"]
    assert family.status == RegistrationStatus.CONFIRMED


def test_a_change_refused_tells_nobody(workshop: Workshop, django_capture_on_commit_callbacks: Any) -> None:
    w = workshop
    session = farm_visit(w, paid_in=PaidIn.EUROS)
    _register(session, w.cast.household, "family")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            _set(session, PaidIn.CREDIT, 300, 150)  # credit on places already confirmed: refused
        except Conflict:
            pass
        else:
            raise AssertionError("food credit on places already confirmed was accepted")
    assert mail.outbox == []


def test_the_api_change_tells_them_too(
    workshop: Workshop, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    w = workshop
    session = farm_visit(w, paid_in=PaidIn.EUROS)
    _register(session, w.cast.household, "family")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = post(
            client,
            f"/api/v1/activities/sessions/{session.pk}/price",
            {"paid_in": "euros", "price_adult_cents": 400, "price_child_cents": 200},
            headers=bearer(w.cast, "producer"),
        )
    assert answer.status_code == 200
    assert [m.to for m in mail.outbox] == [["martin@test.grenier"]]
    assert "7,50\xa0€ avant, 10,00\xa0€ maintenant" in mail.outbox[0].body
