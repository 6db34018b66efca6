"""Registrations: never more persons than places, the waiting list served in order (and told), the deadline, the
same household registered once, classes, attendance and its record, reminders sent once."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from grenier.activities import selectors, services
from grenier.activities.models import ActivityKind, Registration, RegistrationStatus, WalkIn
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import KeyReused
from grenier.core.models import Household

from .conftest import Workshop, make_session

PARIS = ZoneInfo("Europe/Paris")


def _register(
    w: Workshop, key: str, adults: int = 1, children: int = 0, household: Household | None = None
) -> Registration:
    return services.register(
        session=w.session,
        actor=w.cast["member"],
        idempotency_key=key,
        adults=adults,
        children=children,
        household=household or w.household(f"Foyer {key}", email=f"{key}@test.grenier"),
    ).registration


def test_the_standard_kinds_are_created_once_and_a_coordinator_adds_one(workshop: Workshop) -> None:
    territory = workshop.cast.territory
    assert len(services.kinds_ensure(territory=territory)) == 8
    week = services.kind_create(
        territory=territory, name="Semaine du goût", actor=workshop.cast["coordinator"]
    )
    again = services.kind_create(territory=territory, name="Semaine du goût ", actor=None)
    assert week.pk == again.pk and str(week) == "Semaine du goût"
    assert ActivityKind.objects.filter(territory=territory).count() == 9
    assert str(ActivityKind.objects.get(territory=territory, code="cooking")) == "Atelier cuisine"


def test_places_are_never_exceeded_and_the_waiting_list_is_served_in_order(
    workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    w = workshop
    first = _register(w, "a", adults=2, children=1)  # 3
    second = _register(w, "b", adults=2, children=4)  # 6 → 9 of 10
    assert first.status == second.status == RegistrationStatus.CONFIRMED
    big = _register(w, "c", adults=2)  # does not fit: waits
    small = _register(w, "d", adults=1)  # would fit, but someone waits: waits behind
    assert big.status == small.status == RegistrationStatus.WAITING
    assert services.places_taken(w.session) == 9
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_cancel(registration=first, actor=None)  # frees 3: c (2) then d (1)
    big.refresh_from_db()
    small.refresh_from_db()
    assert big.status == small.status == RegistrationStatus.CONFIRMED
    assert services.places_taken(w.session) == 9
    assert sorted(m.to[0] for m in mail.outbox) == ["c@test.grenier", "d@test.grenier"]
    assert "Une place" in mail.outbox[0].subject


def test_the_first_in_line_keeps_its_rank_until_it_fits(workshop: Workshop) -> None:
    w = workshop
    one = _register(w, "a", adults=9)
    family = _register(w, "b", adults=2, children=3)
    single = _register(w, "c", adults=1)
    assert family.status == single.status == RegistrationStatus.WAITING
    one_more = _register(w, "d", adults=1)
    assert one_more.status == RegistrationStatus.WAITING  # 1 place left, but three wait before it
    services.session_capacity_set(session=w.session, capacity=14, actor=None)  # 5 free: the family
    family.refresh_from_db()
    single.refresh_from_db()
    assert family.status == RegistrationStatus.CONFIRMED and single.status == RegistrationStatus.WAITING
    services.registration_cancel(registration=one, actor=None)
    single.refresh_from_db()
    assert single.status == RegistrationStatus.CONFIRMED


def test_a_registration_larger_than_the_session_is_refused(workshop: Workshop) -> None:
    with pytest.raises(Conflict):
        _register(workshop, "a", adults=6, children=5)
    assert not Registration.objects.exists()


def test_registering_twice_is_the_same_registration(workshop: Workshop) -> None:
    w = workshop
    household = w.cast.household
    first = _register(w, "k1", adults=1, children=1, household=household)
    again = services.register(
        session=w.session, actor=w.cast["member"], idempotency_key="k2", adults=2, household=household
    )
    assert not again.created and again.registration.pk == first.pk
    assert _register(w, "k1", adults=1, children=1, household=household).pk == first.pk
    with pytest.raises(KeyReused):
        _register(w, "k1", adults=3, household=household)
    assert Registration.objects.count() == 1
    services.registration_cancel(registration=first, actor=None)
    assert _register(w, "k3", household=household).pk != first.pk  # cancelled, one may register again


def test_cancelling_after_the_deadline_is_refused_with_a_clear_message(workshop: Workshop) -> None:
    w = workshop
    registration = _register(w, "a")
    late = w.session.registration_deadline + timedelta(minutes=1)
    with time_machine.travel(late):
        with pytest.raises(Conflict) as refused:
            services.registration_cancel(registration=registration, actor=None)
        assert "L'annulation était possible jusqu'au 1 décembre 2026, 12:00" in refused.value.detail
        with pytest.raises(Conflict, match="inscriptions"):
            _register(w, "b")
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CONFIRMED
    assert services.registration_cancel(registration=registration, actor=None).status == "cancelled"


def test_the_audience_decides_who_may_register(workshop: Workshop) -> None:
    w = workshop
    school = make_session(w.activity, key="school", audience="school")
    with pytest.raises(Conflict):
        services.register(
            session=school, actor=None, idempotency_key="x", adults=1, household=w.cast.household
        )
    pupils = services.register(
        session=school,
        actor=w.cast["producer"],
        idempotency_key="y",
        adults=2,
        children=8,
        class_name="CE2 école des Sources",
    )
    assert (
        pupils.registration.status == RegistrationStatus.CONFIRMED and pupils.registration.household is None
    )
    with pytest.raises(Conflict):
        services.register(session=w.session, actor=None, idempotency_key="z", adults=1, class_name="CM1")
    with pytest.raises(InvalidInput):
        services.register(
            session=w.session, actor=None, idempotency_key="w", adults=0, household=w.cast.household
        )


def test_attendance_walk_ins_and_the_record(workshop: Workshop) -> None:
    w = workshop
    came = _register(w, "a", adults=2, children=1)
    absent = _register(w, "b", adults=1)
    services.attendance_mark(registration=came, attended=True, actor=w.cast["producer"])
    services.walk_in_record(session=w.session, actor=None, idempotency_key="door-1", adults=1, children=2)
    services.walk_in_record(session=w.session, actor=None, idempotency_key="door-1", adults=1, children=2)
    services.walk_in_record(
        session=w.session, actor=None, idempotency_key="door-2", adults=2, household=w.cast.other_household
    )
    assert WalkIn.objects.count() == 2
    with pytest.raises(Conflict):
        services.session_close(session=w.session, actor=None)  # not its day yet
    with time_machine.travel(datetime(2026, 12, 2, 17, tzinfo=PARIS)):
        closed = services.session_close(session=w.session, actor=w.cast["producer"])
        with pytest.raises(Conflict):
            services.attendance_mark(registration=came, attended=False, actor=None)
    absent.refresh_from_db()
    assert closed.closed_at is not None and absent.attended is False
    record = selectors.record(closed)
    assert (record.adults, record.children, record.walk_in_adults, record.walk_in_children) == (2, 1, 3, 2)
    assert record.households == 2 and record.absent == 1 and record.persons == 8


def test_a_walk_in_by_card_of_a_registered_household_ticks_it_present(workshop: Workshop) -> None:
    w = workshop
    registration = _register(w, "a", household=w.cast.household)
    services.walk_in_record(
        session=w.session, actor=None, idempotency_key="door", adults=1, household=w.cast.household
    )
    registration.refresh_from_db()
    assert registration.attended is True and not WalkIn.objects.exists()


def test_reminders_go_the_day_before_once(
    workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    w = workshop
    _register(w, "a")
    waiting_session = make_session(w.activity, key="later", day=w.session.date + timedelta(days=7))
    services.register(
        session=waiting_session, actor=None, idempotency_key="b", adults=1, household=w.cast.household
    )
    mail.outbox.clear()
    assert services.reminders_send(today=w.session.date - timedelta(days=2)) == 0
    with time_machine.travel(datetime(2026, 12, 1, 8, tzinfo=PARIS)):
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("activities", "remind", stdout=out)
            call_command("activities", "remind", stdout=out)
        assert out.getvalue().splitlines() == ["1 reminder sent.", "0 reminders sent."]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["a@test.grenier"]
    assert "Demain" in mail.outbox[0].subject and "12 rue des Sources" in mail.outbox[0].body
    assert "Pour 1 adulte." in mail.outbox[0].body  # not "1 adulte(s) et 0 enfant(s)"
