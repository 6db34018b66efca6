"""The map's pages: who opens each (every role reads the map, only coordinators edit, an actor's people edit their
actor and answer for its resource, a person's contact only for coordinators), and a coordinator's afternoon."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from grenier.core.models import Role
from grenier.network import services
from grenier.network.models import Actor, Booking, BookingStatus, Cooperation, CooperationStatus

from ..conftest import Cast
from .conftest import Map, new_cooperation

ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]


def _pages(m: Map) -> dict[str, str]:
    slug = m.cast.territory.slug
    cooperation = new_cooperation(m)
    return {
        "map": reverse("network_map", args=[slug]),
        "actor": reverse("network_actor", args=[slug, m.food_bank.pk]),
        "cooperation": reverse("network_cooperation", args=[slug, cooperation.pk]),
        "resource": reverse("network_resource", args=[slug, m.cold_room.pk]),
        "export": reverse("network_export", args=[slug, "network.gexf"]),
        "known": reverse("network_known", args=[slug]),
        "actor_new": reverse("network_actor_new", args=[slug]),
        "cooperation_new": reverse("network_cooperation_new", args=[slug]),
    }


READ = {"map", "actor", "cooperation", "resource", "export"}


@pytest.mark.parametrize("who", EVERYONE)
def test_who_opens_each_page(net: Map, login: Callable[..., Client], who: str) -> None:
    client = login(net.cast[who])
    for name, url in _pages(net).items():
        status = client.get(url).status_code
        if who in {"outsider", "nobody"}:
            assert status == 404, (name, status)
        elif name in READ or who == "coordinator":
            assert status == 200, (name, status)
        else:
            assert status == 403, (name, status)


def test_nobody_logged_in_is_sent_to_log_in(net: Map, client: Client) -> None:
    for url in _pages(net).values():
        assert client.get(url).status_code == 302


@pytest.mark.parametrize("who", ["committee", "member", "coordinator"])
def test_a_person_s_contact_is_shown_only_to_coordinators(
    net: Map, login: Callable[..., Client], who: str
) -> None:
    client = login(net.cast[who])
    page = client.get(
        reverse("network_actor", args=[net.cast.territory.slug, net.food_bank.pk])
    ).content.decode()
    csv = client.get(reverse("network_export", args=[net.cast.territory.slug, "actors.csv"])).content.decode()
    xlsx = client.get(reverse("network_export", args=[net.cast.territory.slug, "network.xlsx"]))
    actors = load_workbook(io.BytesIO(xlsx.content), read_only=True)["actors"]
    cells = {str(cell) for row in actors.iter_rows(values_only=True) for cell in row}
    shown = who == "coordinator"
    assert ("06 11 22 33 44" in page) is shown
    assert ("banque@test.grenier" in csv) is shown
    assert ("banque@test.grenier" in cells) is shown and "Banque alimentaire de la Vallée" in cells


def test_an_actor_s_people_edit_it_and_no_one_else_but_coordinators(
    net: Map, login: Callable[..., Client]
) -> None:
    url = reverse("network_actor", args=[net.cast.territory.slug, net.food_bank.pk])
    body = {"action": "edit", "name": "Banque alimentaire", "kind": "food_aid", "scale": "non_profit"}
    assert login(net.cast["member"]).post(url, body).status_code == 403
    response = login(net.cast["social_worker"]).post(url, body)  # one of its people
    assert response.status_code == 302
    net.food_bank.refresh_from_db()
    assert net.food_bank.name == "Banque alimentaire"
    assert net.food_bank.contact_phone == "06 11 22 33 44"  # not theirs to read, nor to erase
    # a store's cashiers act for the store's actor without being typed again
    services.actors_from_grenier(territory=net.cast.territory, by=None)
    store_actor = Actor.objects.get(store=net.store)
    store_url = reverse("network_actor", args=[net.cast.territory.slug, store_actor.pk])
    page = login(net.cast["cashier"]).get(store_url).content.decode()
    assert 'id="resource-form"' in page


def test_a_booking_asked_on_the_page_is_answered_by_the_owner(net: Map, login: Callable[..., Client]) -> None:
    services.actors_from_grenier(territory=net.cast.territory, by=None)
    store_actor = Actor.objects.get(store=net.store)
    url = reverse("network_resource", args=[net.cast.territory.slug, net.cold_room.pk])
    start = timezone.localdate() + timedelta(days=2)
    cashier = login(net.cast["cashier"])
    ask = {
        "action": "book",
        "requester": store_actor.pk,
        "starts_on": start,
        "ends_on": start,
        "idempotency_key": "k1",
    }
    assert cashier.post(url, ask).status_code == 302
    assert cashier.post(url, ask).status_code == 302  # a double tap
    booking = Booking.objects.get()
    # the cashier may not answer for the food bank's resource; someone asking for an actor not theirs is refused
    assert cashier.post(url, {"action": "accept", "booking": booking.pk}).status_code == 403
    other = {**ask, "requester": net.town_hall.pk, "idempotency_key": "k2"}
    assert cashier.post(url, other).status_code == 200  # not one of the choices offered: refused on the form
    assert Booking.objects.count() == 1
    owner = login(net.cast["social_worker"])
    assert owner.post(url, {"action": "accept", "booking": booking.pk}).status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.ACCEPTED
    # overlapping dates are refused on the form
    coordinator = login(net.cast["coordinator"])
    page = coordinator.post(url, {**other, "idempotency_key": "k3"})
    assert page.status_code == 200 and 'class="field-error"' in page.content.decode()
    assert Booking.objects.count() == 1
    # the owner may not withdraw the cashier's request; the cashier may, and the dates are free again
    owner = login(net.cast["social_worker"])
    assert 'value="withdraw"' not in owner.get(url).content.decode()
    assert owner.post(url, {"action": "withdraw", "booking": booking.pk}).status_code == 403
    cashier = login(net.cast["cashier"])
    assert 'value="withdraw"' in cashier.get(url).content.decode()
    assert cashier.post(url, {"action": "withdraw", "booking": booking.pk}).status_code == 302
    coordinator = login(net.cast["coordinator"])
    booking.refresh_from_db()
    assert booking.status == BookingStatus.WITHDRAWN
    assert coordinator.post(url, {**other, "idempotency_key": "k4"}).status_code == 302


def test_a_coordinator_s_afternoon(net: Map, login: Callable[..., Client]) -> None:
    """From what Grenier knows to a map shown at the committee."""
    slug = net.cast.territory.slug
    client = login(net.cast["coordinator"])
    assert client.post(reverse("network_known", args=[slug]), {"action": "actors"}).status_code == 302
    assert client.post(reverse("network_known", args=[slug]), {"action": "cooperations"}).status_code == 302
    proposed = Cooperation.objects.filter(status=CooperationStatus.PROPOSED)
    assert proposed.count() == 3
    decide = reverse("network_cooperation_decide", args=[slug, proposed.first().pk])  # type: ignore[union-attr]
    assert client.post(decide, {"action": "confirm"}).status_code == 302
    response = client.post(
        reverse("network_actor_new", args=[slug]),
        {
            "name": "Secours de la Vallée",
            "kind": "food_aid",
            "scale": "non_profit",
            "idempotency_key": "new-1",
        },
    )
    assert response.status_code == 302
    aid = Actor.objects.get(name="Secours de la Vallée")
    response = client.post(
        reverse("network_cooperation_new", args=[slug]),
        {
            "title": "Collecte commune",
            "actors": [aid.pk, net.food_bank.pk],
            "sort": "theme",
            "level": 2,
            "starts_on": timezone.localdate(),
            "themes": ["social_action"],
            "idempotency_key": "coop-new-1",
        },
    )
    assert response.status_code == 302, response.content
    cooperation = Cooperation.objects.get(title="Collecte commune")
    response = client.post(
        reverse("network_cooperation_level", args=[slug, cooperation.pk]),
        {"level": 3, "on": timezone.localdate(), "reason": "Camion partagé", "idempotency_key": "lvl-1"},
    )
    assert response.status_code == 302
    page = client.get(reverse("network_map", args=[slug])).content.decode()
    assert f'data-a="{min(aid.pk, net.food_bank.pk)}"' in page and 'data-level="3"' in page
    assert "Collecte commune" in page
    member = login(net.cast["member"]).get(reverse("network_map", args=[slug])).content.decode()
    assert "Collecte commune" in member and 'id="to-confirm"' not in member


def test_the_filters_narrow_the_map(net: Map, login: Callable[..., Client], cast: Cast) -> None:
    new_cooperation(net, key="a", level=1, title="Vœu")
    new_cooperation(net, key="b", level=4, title="Action commune")
    client = login(cast["committee"])
    url = reverse("network_map", args=[cast.territory.slug])
    page = client.get(url, {"level": 3}).content.decode()
    assert "Action commune" in page and "Vœu" not in page
    page = client.get(url, {"theme": "food_system"}).content.decode()
    assert "Action commune" not in page
    assert client.get(url, {"level": "9", "since": "not a day"}).status_code == 200  # ignored, not an error


def test_the_home_says_what_waits_for_an_answer_and_only_to_whom_it_waits_for(
    net: Map, login: Callable[..., Client]
) -> None:
    home = reverse("territory_home", args=[net.cast.territory.slug])
    resource = reverse("network_resource", args=[net.cast.territory.slug, net.cold_room.pk])
    start = timezone.localdate() + timedelta(days=4)
    services.booking_request(
        resource=net.cold_room,
        requester=net.town_hall,
        starts_on=start,
        ends_on=start,
        by=net.cast["coordinator"],
        idempotency_key="home-1",
    )
    owner = login(net.cast["social_worker"]).get(home).content.decode()
    assert "1 demande de prêt d\u2019une ressource attend votre réponse" in owner and resource in owner
    member = login(net.cast["member"]).get(home).content.decode()
    assert "demande de prêt" not in member
    services.cooperations_from_grenier(territory=net.cast.territory, by=None)
    waiting = Cooperation.objects.filter(status=CooperationStatus.PROPOSED).count()
    assert waiting >= 1
    coordinator = login(net.cast["coordinator"]).get(home).content.decode()
    assert (
        f"{waiting} coopération" in coordinator and reverse("network_known", args=["vallee"]) in coordinator
    )
    assert "confirmation" not in login(net.cast["committee"]).get(home).content.decode()
