"""The map's services: actors taken from what Grenier knows once, levels changed as dated events with the old level
kept, bookings that never overlap (two requests at once on PostgreSQL: one wins), and the cooperations Grenier
already runs proposed once, for a coordinator to confirm."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone

from grenier.core.errors import Conflict, GrenierError, InvalidInput
from grenier.core.idempotency import KeyReused
from grenier.network import selectors, services
from grenier.network.models import (
    Actor,
    Booking,
    BookingStatus,
    Cooperation,
    CooperationStatus,
    LevelChange,
)

from .conftest import Map, new_cooperation


def test_a_level_change_keeps_the_old_level_in_the_history(net: Map) -> None:
    cooperation = new_cooperation(net, level=2)
    later = timezone.localdate()
    change = services.cooperation_level_set(
        cooperation=cooperation,
        level=3,
        by=net.cast["coordinator"],
        reason="Chambre froide partagée",
        idempotency_key="level-0001",
    )
    cooperation.refresh_from_db()
    assert cooperation.level == 3
    history = list(
        cooperation.changes.order_by("on", "id").values_list("level_from", "level_to", "on", "reason")
    )
    assert history == [
        (None, 2, cooperation.starts_on, ""),
        (2, 3, later, "Chambre froide partagée"),
    ]
    assert change.recorded_by == net.cast["coordinator"]
    # the level on a day before the change is still the old one
    changes = list(cooperation.changes.order_by("on", "id"))
    assert selectors.level_on(changes, later - timedelta(days=1)) == 2
    assert selectors.level_on(changes, later) == 3


def test_a_level_change_sent_again_is_recorded_once_and_a_key_means_one_request(net: Map) -> None:
    cooperation = new_cooperation(net, level=2)
    args: dict[str, Any] = {
        "cooperation": cooperation,
        "by": net.cast["coordinator"],
        "reason": "Mutualisation",
    }
    first = services.cooperation_level_set(level=3, idempotency_key="level-0002", **args)
    again = services.cooperation_level_set(level=3, idempotency_key="level-0002", **args)
    assert first.pk == again.pk and LevelChange.objects.filter(cooperation=cooperation).count() == 2
    with pytest.raises(KeyReused):
        services.cooperation_level_set(level=4, idempotency_key="level-0002", **args)


@pytest.mark.parametrize(
    ("level", "reason", "days", "field"),
    [
        (2, "x", 0, "level"),
        (6, "x", 0, "level"),
        (3, "", 0, "reason"),
        (3, "x", 3, "on"),
        (3, "x", -60, "on"),
    ],
)
def test_a_level_change_is_refused_with_the_field_to_fix(
    net: Map, level: int, reason: str, days: int, field: str
) -> None:
    cooperation = new_cooperation(net, level=2)
    with pytest.raises(InvalidInput) as refused:
        services.cooperation_level_set(
            cooperation=cooperation,
            level=level,
            by=None,
            reason=reason,
            idempotency_key="level-bad",
            on=timezone.localdate() + timedelta(days=days),
        )
    assert field in refused.value.errors
    assert LevelChange.objects.filter(cooperation=cooperation).count() == 1


def test_an_ended_cooperation_keeps_its_level(net: Map) -> None:
    cooperation = new_cooperation(net, level=4)
    services.cooperation_end(cooperation=cooperation, by=None)
    services.cooperation_end(cooperation=cooperation, by=None)  # again: nothing changes
    with pytest.raises(Conflict):
        services.cooperation_level_set(
            cooperation=cooperation, level=5, by=None, reason="x", idempotency_key="level-ended"
        )


def test_a_cooperation_needs_two_actors_of_the_territory_and_a_start_not_to_come(net: Map) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_cooperation(net, actors=[net.food_bank], starts_on=timezone.localdate() + timedelta(days=2))
    assert set(refused.value.errors) == {"actors", "starts_on"}


def test_an_actor_known_to_grenier_is_never_duplicated(net: Map) -> None:
    territory = net.cast.territory
    # a coordinator had already typed the store on the map by hand: it is linked, not typed twice
    typed = services.actor_create(
        territory=territory,
        fields=services.ActorFields(name="épicerie du lavoir", kind="store"),
        by=None,
        idempotency_key="typed-store",
    )
    first = services.actors_from_grenier(territory=territory, by=net.cast["coordinator"])
    count = Actor.objects.filter(territory=territory).count()
    assert {a.linked_to.split(":")[0] for a in first} == {
        "store",
        "funder",
        "producer",
        "kitchen",
        "garden",
        "group",
    }
    typed.refresh_from_db()
    assert typed.store == net.store
    assert services.actors_from_grenier(territory=territory, by=None) == []
    assert Actor.objects.filter(territory=territory).count() == count
    assert services.known_missing(territory) == []
    farm = Actor.objects.get(producer=net.farm)
    assert (farm.kind, farm.latitude) == ("farm", net.farm.latitude)


def test_the_same_name_twice_is_refused_and_a_retry_answers_the_same_actor(net: Map) -> None:
    fields = services.ActorFields(name="Centre social Les Tilleuls", kind="social_centre")
    first = services.actor_create(
        territory=net.cast.territory, fields=fields, by=None, idempotency_key="cs-1"
    )
    assert (
        services.actor_create(territory=net.cast.territory, fields=fields, by=None, idempotency_key="cs-1")
        == first
    )
    with pytest.raises(Conflict):
        services.actor_create(territory=net.cast.territory, fields=fields, by=None, idempotency_key="cs-2")


def test_cooperations_grenier_runs_are_proposed_once_for_a_coordinator_to_confirm(net: Map) -> None:
    territory = net.cast.territory
    proposed = services.cooperations_from_grenier(territory=territory, by=net.cast["coordinator"])
    sources = {c.source.split(":")[0]: c for c in proposed if c.source}
    assert set(sources) == {
        "baskets-agreement",
        "supply-contract",
        "fund-store",
    }  # the group has no producer yet
    assert all(c.status == CooperationStatus.PROPOSED for c in proposed)
    assert (
        sources["baskets-agreement"].level,
        sources["supply-contract"].level,
        sources["fund-store"].level,
    ) == (
        3,
        5,
        2,
    )
    contract = sources["supply-contract"]
    assert {a.kitchen_id or a.producer_id or a.builtin for a in contract.actors.all()} == {
        net.kitchen.pk,
        net.farm.pk,
        "platform",
    }
    # not on the map until confirmed
    assert selectors.links(territory, selectors.Filters(), timezone.localdate()) == []
    services.cooperation_confirm(cooperation=contract, by=net.cast["coordinator"])
    services.cooperation_dismiss(cooperation=sources["fund-store"], by=net.cast["coordinator"])
    assert services.cooperations_from_grenier(territory=territory, by=None) == []
    assert Cooperation.objects.filter(territory=territory).count() == 3
    shown = selectors.links(territory, selectors.Filters(), timezone.localdate())
    assert [link.cooperation for link in shown] == [contract]


def _book(net: Map, key: str, start: int, end: int, requester: Actor | None = None) -> Booking:
    today = timezone.localdate()
    return services.booking_request(
        resource=net.cold_room,
        requester=requester or net.town_hall,
        starts_on=today + timedelta(days=start),
        ends_on=today + timedelta(days=end),
        by=net.cast["coordinator"],
        idempotency_key=key,
    )


def test_overlapping_bookings_are_refused_and_the_owner_decides_once(net: Map) -> None:
    booking = _book(net, "book-1", 3, 5)
    assert _book(net, "book-1", 3, 5) == booking  # a retry
    with pytest.raises(Conflict) as refused:
        _book(net, "book-2", 5, 8)
    assert refused.value.extra == {"booking": booking.pk}
    _book(net, "book-3", 6, 8)  # the next day is free
    services.booking_decide(booking=booking, accept=True, by=net.cast["social_worker"])
    services.booking_decide(booking=booking, accept=True, by=net.cast["social_worker"])  # again: nothing
    with pytest.raises(Conflict):
        services.booking_decide(booking=booking, accept=False, by=net.cast["social_worker"], reason="Non")
    with pytest.raises(InvalidInput):
        services.booking_decide(
            booking=_book(net, "book-4", 20, 21), accept=False, by=net.cast["coordinator"]
        )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.ACCEPTED


def test_a_refused_booking_frees_its_dates(net: Map) -> None:
    booking = _book(net, "book-5", 3, 5)
    services.booking_decide(booking=booking, accept=False, by=net.cast["social_worker"], reason="Fermé")
    assert _book(net, "book-6", 4, 4).status == BookingStatus.PENDING


def test_a_withdrawn_request_frees_its_dates_until_its_first_day(net: Map) -> None:
    booking = _book(net, "book-w1", 3, 5)
    services.booking_decide(booking=booking, accept=True, by=net.cast["social_worker"])
    withdrawn = services.booking_withdraw(booking=booking, by=net.cast["coordinator"])
    assert withdrawn.status == BookingStatus.WITHDRAWN
    assert (
        services.booking_withdraw(booking=booking, by=net.cast["coordinator"]) == withdrawn
    )  # again: nothing
    assert _book(net, "book-w2", 4, 4).status == BookingStatus.PENDING  # the dates are free again
    refused = _book(net, "book-w3", 10, 11)
    services.booking_decide(booking=refused, accept=False, by=net.cast["social_worker"], reason="Fermé")
    with pytest.raises(Conflict):
        services.booking_withdraw(booking=refused, by=net.cast["coordinator"])
    started = _book(net, "book-w4", 20, 22)
    with time_machine.travel(timezone.now() + timedelta(days=20)), pytest.raises(Conflict):
        services.booking_withdraw(booking=started, by=net.cast["coordinator"])
    started.refresh_from_db()
    assert started.status == BookingStatus.PENDING


@pytest.mark.parametrize(
    ("start", "end", "field"), [(-1, 2, "starts_on"), (5, 3, "ends_on"), (1, 400, "ends_on")]
)
def test_a_booking_with_impossible_dates_is_refused(net: Map, start: int, end: int, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        _book(net, "book-bad", start, end)
    assert field in refused.value.errors


def test_an_actor_does_not_book_its_own_resource(net: Map) -> None:
    with pytest.raises(InvalidInput) as refused:
        _book(net, "book-own", 1, 2, requester=net.food_bank)
    assert "requester" in refused.value.errors


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_for_the_same_dates_one_wins(net: Map) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes one at a time: the race needs PostgreSQL")
    other = services.actor_create(
        territory=net.cast.territory,
        fields=services.ActorFields(name="École du Pont", kind="school"),
        by=None,
        idempotency_key="school",
    )
    barrier = threading.Barrier(2)
    outcomes: list[object] = []
    today = timezone.localdate()

    def ask(requester: Actor, key: str) -> None:
        try:
            with time_machine.travel(today, tick=True):
                barrier.wait(timeout=10)
                outcomes.append(_book(net, key, 10, 12, requester=requester))
        except GrenierError as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()  # this thread's connection, or the test database cannot be dropped

    threads = [
        threading.Thread(target=ask, args=(net.town_hall, "race-a")),
        threading.Thread(target=ask, args=(other, "race-b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(type(o).__name__ for o in outcomes) == ["Booking", "Conflict"]
    assert Booking.objects.filter(resource=net.cold_room).count() == 1


def test_how_the_territory_moved_this_year(net: Map, pinned_clock: time_machine.Traveller) -> None:
    year = timezone.localdate().year
    old = new_cooperation(net, key="old", level=3, starts_on=date(year - 1, 3, 1), title="Ancienne")
    risen = new_cooperation(net, key="risen", level=1, starts_on=date(year - 1, 4, 1), title="Montée")
    services.cooperation_level_set(
        cooperation=risen, level=2, by=None, reason="Échanges", idempotency_key="r1", on=date(year - 1, 9, 1)
    )
    services.cooperation_level_set(
        cooperation=risen,
        level=4,
        by=None,
        reason="Action commune",
        idempotency_key="r2",
        on=date(year, 2, 1),
    )
    services.cooperation_level_set(
        cooperation=old, level=2, by=None, reason="Moins de moyens", idempotency_key="o1", on=date(year, 3, 1)
    )
    services.cooperation_end(cooperation=old, by=None, on=date(year, 6, 1))
    moved = selectors.moves(net.cast.territory, year)
    assert [(c.cooperation.title, c.level_from, c.level_to) for c in moved.rose] == [("Montée", 2, 4)]
    assert [(c.cooperation.title, c.level_from, c.level_to) for c in moved.fell] == [("Ancienne", 3, 2)]
    assert moved.ended == [old]
    assert {a.name for a in moved.new_actors} >= {"Banque alimentaire de la Vallée", "Mairie de la Vallée"}
    last_year = selectors.moves(net.cast.territory, year - 1)
    assert [c.level_to for c in last_year.rose] == [2] and set(last_year.new_cooperations) == {old, risen}
    # the map of last year's last day shows the levels of then
    then = selectors.links(
        net.cast.territory, selectors.Filters(until=date(year - 1, 12, 31)), timezone.localdate()
    )
    assert {(link.cooperation.title, link.level) for link in then} == {("Ancienne", 3), ("Montée", 2)}
