"""Calendar feeds: the territory's public feed (no login, nobody named), a person's feed at a secret address that
they make, renew or stop from their registrations page; the text read back by a strict RFC 5545 reader (CRLF,
folding at 75 octets, escaping) with odd names; who may use each page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from grenier.activities import feeds, services
from grenier.activities.models import CalendarFeed
from grenier.core import services as core_services
from grenier.core.ical import Calendar, Event, fold
from grenier.core.models import Role

from .. import ical
from .conftest import Workshop, make_session
from .test_pages import EVERYONE, REGISTRANTS, ROLES

ODD = "Atelier « pâte à crêpes » ; sucre, sel \\ beurre\nsans œufs 🍓 — " + "très " * 12


def _feed(client: Client, url: str) -> ical.Component:
    response = client.get(url)
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return ical.parse(response.content)


def _personal_url(client: Client, slug: str) -> str:
    """The address shown on the person's registrations page, as a path."""
    page = client.get(reverse("activities_mine", args=[slug])).content.decode()
    start = page.index('id="feed-url"')
    value = page[start:].split('value="', 1)[1].split('"', 1)[0]
    assert value.startswith("http://testserver/")
    return value.removeprefix("http://testserver")


def test_the_public_feed_lists_coming_sessions_with_no_login(workshop: Workshop, client: Client) -> None:
    w = workshop
    services.register(
        session=w.session, actor=None, idempotency_key="k", adults=2, children=1, household=w.cast.household
    )
    url = reverse("activities_feed", args=[w.cast.territory.slug])
    assert url == "/t/vallee/activities/calendar.ics"
    calendar = _feed(client, url)
    (event,) = calendar.events
    assert event.text("SUMMARY") == "Atelier cuisine de saison"
    assert (
        event.get("DTSTART") == "20261202T130000Z" and event.get("DTEND") == "20261202T150000Z"
    )  # 14:00 Paris
    assert event.text("LOCATION") == "12 rue des Sources"
    assert "7 places restantes" in event.text("DESCRIPTION")
    assert "Ouvert à tous les foyers membres" in event.text("DESCRIPTION")
    assert event.get("STATUS") == "CONFIRMED"
    assert "Martin" not in client.get(url).content.decode()  # nobody named
    assert _feed(client, url).events[0].get("UID") == event.get("UID")  # stable: the calendar updates it
    assert client.post(url).status_code == 405
    assert client.get(reverse("activities_feed", args=["nowhere"])).status_code == 404


def test_a_cancelled_session_stays_in_the_feed_marked_cancelled(workshop: Workshop, client: Client) -> None:
    w = workshop
    w.session.cancelled_at = datetime(2026, 11, 26, 9, tzinfo=UTC)
    w.session.save(update_fields=["cancelled_at"])
    (event,) = _feed(client, reverse("activities_feed", args=[w.cast.territory.slug])).events
    assert event.get("STATUS") == "CANCELLED" and event.get("SEQUENCE") == "1"


def test_odd_names_are_escaped_and_folded_and_read_back_whole(workshop: Workshop, client: Client) -> None:
    w = workshop
    w.activity.title = ODD
    w.activity.save(update_fields=["title"])
    make_session(
        w.activity, key="odd", address="Salle 2, étage 1; entrée B\\C", accessibility="Rampe,\r\nascenseur"
    )
    response = client.get(reverse("activities_feed", args=[w.cast.territory.slug]))
    assert max(len(line) for line in response.content.split(b"\r\n")) == 75  # folded, at the limit
    events = ical.parse(response.content).events
    assert [event.text("SUMMARY") for event in events] == [ODD, ODD]
    assert events[1].text("LOCATION") == "Salle 2, étage 1; entrée B\\C"
    assert "Accès : Rampe,\nascenseur" in events[1].text("DESCRIPTION")


def test_folding_never_cuts_a_character_and_counts_octets() -> None:
    for text in ("é" * 100, "🍓" * 40, "a" + "€" * 60, "x" * 75, "x" * 76):
        folded = fold(text).encode("utf-8")
        lines = ical.physical_lines(folded)
        assert all(len(line) <= 75 for line in lines)
        assert ical.content_lines(folded) == [text]
    assert fold("x" * 75) == "x" * 75 + "\r\n" and fold("x" * 76) == "x" * 75 + "\r\n x\r\n"


def test_an_event_needs_an_aware_time() -> None:
    naive = datetime(2026, 12, 2, 14)  # noqa: DTZ001 - the mistake under test
    event = Event(uid="u", stamp=naive, start=naive, end=naive, summary="s")
    with pytest.raises(ValueError, match="aware"):
        Calendar(name="n", product="p", events=[event]).serialize()


def test_a_member_gets_a_secret_address_renews_and_stops_it(
    workshop: Workshop, login: Callable[..., Client]
) -> None:
    w = workshop
    slug = w.cast.territory.slug
    services.register(
        session=w.session, actor=None, idempotency_key="k", adults=2, children=1, household=w.cast.household
    )
    other = make_session(w.activity, key="other")
    services.register(
        session=other, actor=None, idempotency_key="o", adults=1, household=w.cast.other_household
    )
    client = login(w.cast["member"])
    page = client.get(reverse("activities_mine", args=[slug])).content.decode()
    assert 'id="feed-url"' not in page and "Obtenir mon adresse d'agenda" in page
    assert client.post(reverse("activities_feed_renew", args=[slug])).status_code == 302
    first = _personal_url(client, slug)
    assert (
        "webcal://testserver/t/vallee/activities/calendar/"
        in client.get(reverse("activities_mine", args=[slug])).content.decode()
    )

    anonymous = Client()  # a calendar app: no session, no cookie
    (event,) = _feed(anonymous, first).events  # the neighbour's registration is not there
    assert event.text("SUMMARY") == "Atelier cuisine de saison"
    assert "Foyer Martin-Test · 2 adultes, 1 enfant · inscrit" in event.text("DESCRIPTION")
    assert event.get("UID") == _feed(anonymous, reverse("activities_feed", args=[slug])).events[0].get("UID")

    client.post(reverse("activities_feed_renew", args=[slug]))
    second = _personal_url(client, slug)
    assert second != first
    assert anonymous.get(first).status_code == 404  # the old address stopped working
    assert len(_feed(anonymous, second).events) == 1
    assert client.post(reverse("activities_feed_stop", args=[slug])).status_code == 302
    assert anonymous.get(second).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_a_forged_or_misplaced_address_opens_nothing(workshop: Workshop) -> None:
    w = workshop
    feed = services.calendar_feed_renew(user=w.cast["member"], territory=w.cast.territory)
    token = feeds.token_of(feed)
    client = Client()
    assert client.get(reverse("activities_person_feed", args=["vallee", token])).status_code == 200
    forged = token[:16] + ("0" if token[16] != "0" else "1") + token[17:]
    for slug, tried in [("vallee", forged), ("vallee", token[:16]), ("ailleurs", token), ("nowhere", token)]:
        assert client.get(reverse("activities_person_feed", args=[slug, tried])).status_code == 404
    w.cast["member"].is_active = False
    w.cast["member"].save(update_fields=["is_active"])
    assert client.get(reverse("activities_person_feed", args=["vallee", token])).status_code == 404


def test_a_place_waited_for_is_tentative_and_a_household_that_left_has_no_feed(workshop: Workshop) -> None:
    w = workshop
    slug = w.cast.territory.slug
    full = make_session(w.activity, key="full", capacity=1)
    services.register(
        session=full, actor=None, idempotency_key="a", adults=1, household=w.cast.other_household
    )
    services.register(session=full, actor=None, idempotency_key="b", adults=1, household=w.cast.household)
    feed = services.calendar_feed_renew(user=w.cast["member"], territory=w.cast.territory)
    url = reverse("activities_person_feed", args=[slug, feeds.token_of(feed)])
    (event,) = _feed(Client(), url).events
    assert event.get("STATUS") == "TENTATIVE" and event.text("SUMMARY").startswith("Liste d'attente")
    core_services.household_leave(household=w.cast.household, actor=None)
    assert Client().get(url).status_code == 404  # the household left: its person's address stops working


def test_two_classes_on_a_session_are_one_event_until_the_role_goes(workshop: Workshop) -> None:
    w = workshop
    school = make_session(w.activity, key="school", capacity=60, audience="school")
    teacher = w.cast["producer"]  # runs the activity, registers classes
    for name in ("CE2", "CM1"):
        services.register(
            session=school, actor=teacher, idempotency_key=name, adults=2, children=20, class_name=name
        )
    feed = services.calendar_feed_renew(user=teacher, territory=w.cast.territory)
    (event,) = _feed(
        Client(), reverse("activities_person_feed", args=["vallee", feeds.token_of(feed)])
    ).events
    assert "CE2 · 2 adultes, 20 enfants" in event.text("DESCRIPTION") and "CM1" in event.text("DESCRIPTION")
    core_services.role_revoke(user=teacher, territory=w.cast.territory, role=Role.PRODUCER)
    url = reverse("activities_person_feed", args=["vallee", feeds.token_of(feed)])
    assert _feed(Client(), url).events == []  # read with the rights of the day: no role, nothing shown


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_make_or_stop_a_calendar_address(
    workshop: Workshop, login: Callable[..., Client], who: str
) -> None:
    slug = workshop.cast.territory.slug
    client = login(workshop.cast[who])
    for name in ("activities_feed_renew", "activities_feed_stop"):
        url = reverse(name, args=[slug])
        expected = 302 if who in REGISTRANTS else 403 if who in ROLES else 404
        assert client.post(url).status_code == expected, (who, name)
        assert client.get(url).status_code in {405, 403, 404}, (who, name)
    assert CalendarFeed.objects.filter(user=workshop.cast[who]).exists() is False  # stop came last


def test_making_an_address_needs_a_login(workshop: Workshop, client: Client) -> None:
    response = client.post(reverse("activities_feed_renew", args=[workshop.cast.territory.slug]))
    assert response.status_code == 302 and "/login" in response["Location"]
    assert not CalendarFeed.objects.exists()


def test_a_past_session_says_who_came_and_no_deadline(workshop: Workshop) -> None:
    w = workshop
    registration = services.register(
        session=w.session, actor=None, idempotency_key="k", adults=1, household=w.cast.household
    ).registration
    services.attendance_mark(registration=registration, attended=True, actor=w.cast["producer"])
    feed = services.calendar_feed_renew(user=w.cast["member"], territory=w.cast.territory)
    url = reverse("activities_person_feed", args=["vallee", feeds.token_of(feed)])
    (coming,) = _feed(Client(), url).events
    assert "jusqu'au" in coming.text("DESCRIPTION")
    with time_machine.travel(datetime(2026, 12, 9, 10, tzinfo=UTC)):
        (past,) = _feed(Client(), url).events
    assert "Foyer Martin-Test · 1 adulte · venu" in past.text("DESCRIPTION")
    assert "jusqu'au" not in past.text("DESCRIPTION")
