"""The activities' pages for every role: who may open them (200), who is refused (403), who is told they do not exist
(404); the public calendar without login; a member's journey through the pages; attendance on the organiser's
page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from grenier.activities import services
from grenier.activities.models import Registration, RegistrationStatus
from grenier.core import services as core_services
from grenier.core.models import Role

from ..conftest import Cast
from .conftest import Workshop

ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]
REGISTRANTS = {
    "coordinator",
    "member",
    "social_worker",
    "producer",
    "school",
}  # the producer runs the workshop


def _expected(who: str, allowed: set[str]) -> int:
    return 200 if who in allowed else 403 if who in ROLES else 404


@pytest.mark.parametrize("who", EVERYONE)
def test_who_opens_the_activities_pages(workshop: Workshop, login: Callable[..., Client], who: str) -> None:
    w = workshop
    slug = w.cast.territory.slug
    pages = {
        reverse("activities_home", args=[slug]): set(ROLES),
        reverse("activities_session", args=[slug, w.session.pk]): set(ROLES),
        reverse("activities_mine", args=[slug]): REGISTRANTS,
        reverse("activities_organise", args=[slug]): {"coordinator", "producer"},
        reverse("activities_activity_new", args=[slug]): {"coordinator"},
        reverse("activities_session_new", args=[slug, w.activity.pk]): {"coordinator", "producer"},
        reverse("activities_attendance", args=[slug, w.session.pk]): {"coordinator", "producer"},
    }
    client = login(w.cast[who])
    for url, allowed in pages.items():
        response = client.get(url)
        if who == "nobody":  # no territory at all: still "not found", never a hint
            assert response.status_code == 404, (who, url)
        else:
            assert response.status_code == _expected(who, allowed), (who, url)


def test_the_public_calendar_needs_no_login_and_names_nobody(workshop: Workshop, client: Client) -> None:
    w = workshop
    services.register(
        session=w.session, actor=None, idempotency_key="k", adults=2, children=1, household=w.cast.household
    )
    page = client.get(reverse("activities_calendar", args=[w.cast.territory.slug]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Atelier cuisine de saison" in text and "12 rue des Sources" in text
    assert "7 places restantes" in text and "Ouvert à tous les foyers membres" in text
    assert "Martin-Test" not in text
    assert client.get(reverse("activities_calendar", args=["nowhere"])).status_code == 404


def test_a_member_registers_the_family_sees_it_and_cancels(
    workshop: Workshop, login: Callable[..., Client]
) -> None:
    w = workshop
    slug = w.cast.territory.slug
    client = login(w.cast["member"])
    url = reverse("activities_session", args=[slug, w.session.pk])
    page = client.get(url).content.decode()
    assert "10 places restantes" in page and 'id="register-form"' in page
    sent = client.post(
        url, {"household": w.cast.household.pk, "adults": 2, "children": 1, "idempotency_key": "p1"}
    )
    assert sent.status_code == 302 and sent["Location"] == reverse("activities_mine", args=[slug])
    again = client.post(
        url, {"household": w.cast.household.pk, "adults": 2, "children": 1, "idempotency_key": "p2"}
    )
    assert again.status_code == 302
    registration = Registration.objects.get()
    assert (registration.adults, registration.children, registration.status) == (2, 1, "confirmed")
    mine = client.get(sent["Location"]).content.decode()
    assert "Atelier cuisine de saison" in mine and "inscrit" in mine
    assert "7 places restantes" in client.get(url).content.decode()
    # Another household is not the member's to register.
    other = client.post(
        url, {"household": w.cast.other_household.pk, "adults": 1, "children": 0, "idempotency_key": "p3"}
    )
    assert other.status_code == 200 and Registration.objects.count() == 1
    cancel = client.post(reverse("activities_cancel", args=[slug, registration.pk]))
    assert cancel.status_code == 302
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CANCELLED


def test_another_household_s_registration_is_not_found(
    workshop: Workshop, login: Callable[..., Client]
) -> None:
    w = workshop
    theirs = services.register(
        session=w.session, actor=None, idempotency_key="k", adults=1, household=w.cast.other_household
    ).registration
    for who in ("member", "social_worker", "cashier"):
        response = login(w.cast[who]).post(
            reverse("activities_cancel", args=[w.cast.territory.slug, theirs.pk])
        )
        assert response.status_code == 404, who
    assert (
        login(w.cast["producer"])
        .post(reverse("activities_cancel", args=[w.cast.territory.slug, theirs.pk]))
        .status_code
        == 302
    )  # the organiser may cancel for a household that phoned


def test_a_social_worker_registers_only_the_households_they_follow(
    workshop: Workshop, login: Callable[..., Client]
) -> None:
    w = workshop
    client = login(w.cast["social_worker"])
    url = reverse("activities_session", args=[w.cast.territory.slug, w.session.pk])
    assert 'id="register-form"' not in client.get(url).content.decode()  # follows nobody yet
    from grenier.core.services import NewHousehold
    from grenier.fund import referrals

    referral = referrals.referral_create(
        territory=w.cast.territory,
        social_worker=w.cast["social_worker"],
        consent=True,
        idempotency_key="ref-1",
        new_household=NewHousehold(name="Foyer Suivi"),
    )
    followed = referrals.referral_confirm(referral=referral, actor=w.cast["coordinator"]).household
    assert followed is not None
    page = client.get(url).content.decode()
    assert "Foyer Suivi" in page and "Martin-Test" not in page
    client.post(url, {"household": followed.pk, "adults": 1, "children": 2, "idempotency_key": "sw1"})
    assert Registration.objects.get().household == followed


def test_the_organiser_takes_attendance_and_closes(
    workshop: Workshop, login: Callable[..., Client], pinned_clock: object
) -> None:
    w = workshop
    slug = w.cast.territory.slug
    registration = services.register(
        session=w.session, actor=None, idempotency_key="k", adults=2, children=1, household=w.cast.household
    ).registration
    client = login(w.cast["producer"])
    mark = reverse("activities_attendance_mark", args=[slug, w.session.pk, registration.pk])
    assert client.post(mark, {"attended": "1"}).status_code == 302
    registration.refresh_from_db()
    assert registration.attended is True
    walk_in = client.post(
        reverse("activities_walk_in", args=[slug, w.session.pk]),
        {"card": w.cast.other_household.card_number, "adults": 1, "children": 0, "idempotency_key": "d1"},
    )
    assert walk_in.status_code == 302
    page = client.get(reverse("activities_attendance", args=[slug, w.session.pk])).content.decode()
    assert "Foyer Voisin-Test" in page and "Présents : 2 adultes, 1 enfant" in page  # never "1 enfants"
    assert "sur place : 1 adulte<" in page and "1 enfants" not in page
    assert login(w.cast["member"]).post(mark, {"attended": "0"}).status_code == 403


def test_a_coordinator_creates_an_activity_and_a_session_from_the_pages(
    cast: Cast, login: Callable[..., Client]
) -> None:
    slug = cast.territory.slug
    client = login(cast["coordinator"])
    new = reverse("activities_activity_new", args=[slug])
    page = client.get(new).content.decode()
    assert "Visite de ferme" in page
    kind = services.kinds_ensure(territory=cast.territory)[3]
    sent = client.post(
        new,
        {
            "kind": kind.pk,
            "title": "Visite de la ferme des Sources",
            "association": "Les Amis du Jardin",
            "managers": [cast["producer"].pk],
            "idempotency_key": "a1",
        },
    )
    assert sent.status_code == 302, sent.content.decode()[:2000]
    session_page = client.post(
        sent["Location"],
        {
            "day": "2026-12-09",
            "starts_at": "09:30",
            "ends_at": "11:30",
            "address": "Chemin des Sources",
            "capacity": 30,
            "audience": "school",
            "idempotency_key": "s1",
        },
    )
    assert session_page.status_code == 302
    page = login(cast["producer"]).get(session_page["Location"]).content.decode()
    assert 'id="class-form"' in page  # the organiser registers a class
    core_services.role_grant  # noqa: B018 - the cast's producer runs it, named among the managers
