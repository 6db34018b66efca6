"""A school's "register a class" opens the sessions open to school classes: the activities' list, the public calendar
and ``GET /api/v1/activities/sessions`` filter by audience (``?audience=school``); a value naming no audience filters
nothing on a page and is refused (422) by the API. Every role reads the filtered list as it reads the whole one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from grenier.activities.models import Session

from ..core.test_api import assert_problem, bearer
from .conftest import Workshop
from .test_school import ROLES

CARD = 'id="session-{}"'


@pytest.mark.parametrize("who", [*ROLES, "outsider", "nobody"])
def test_register_a_class_opens_the_school_sessions_for_the_school_only(
    workshop: Workshop, school_session: Session, login: Callable[..., Client], who: str
) -> None:
    w = workshop
    slug = w.cast.territory.slug
    client = login(w.cast[who])
    home = client.get(reverse("territory_home", args=[slug]))
    filtered = reverse("activities_home", args=[slug]) + "?audience=school"
    listed = client.get(filtered)
    if who in {"outsider", "nobody"}:
        assert listed.status_code == 404
        return
    page = listed.content.decode()
    assert listed.status_code == 200
    assert CARD.format(school_session.pk) in page and CARD.format(w.session.pk) not in page
    assert 'id="audience-school" aria-current="true"' in page
    assert ('id="class-hint"' in page) == (who == "school")
    whole = client.get(reverse("activities_home", args=[slug])).content.decode()
    assert CARD.format(school_session.pk) in whole and CARD.format(w.session.pk) in whole
    assert (f'href="{filtered}"' in home.content.decode()) == (who == "school")


def test_the_school_home_links_to_every_school_session(
    workshop: Workshop, school_session: Session, login: Callable[..., Client]
) -> None:
    slug = workshop.cast.territory.slug
    home = login(workshop.cast["school"]).get(reverse("territory_home", args=[slug])).content.decode()
    assert 'id="school-sessions-link"' in home
    assert reverse("activities_home", args=[slug]) + "?audience=school" in home


def test_an_unknown_audience_filters_nothing_on_the_pages(
    workshop: Workshop, school_session: Session, login: Callable[..., Client]
) -> None:
    w = workshop
    slug = w.cast.territory.slug
    page = (
        login(w.cast["member"])
        .get(reverse("activities_home", args=[slug]) + "?audience=<b>nope</b>")
        .content.decode()
    )
    assert CARD.format(school_session.pk) in page and CARD.format(w.session.pk) in page
    assert "<b>nope</b>" not in page


def test_the_public_calendar_filters_by_audience(
    workshop: Workshop, school_session: Session, login: Callable[..., Client]
) -> None:
    w = workshop
    url = reverse("activities_calendar", args=[w.cast.territory.slug])
    client = login(None)
    school = client.get(url + "?audience=school").content.decode()
    assert CARD.format(school_session.pk) in school and CARD.format(w.session.pk) not in school
    everything = client.get(url).content.decode()
    assert CARD.format(school_session.pk) in everything and CARD.format(w.session.pk) in everything
    territory = client.get(url + "?audience=territory").content.decode()
    assert CARD.format(school_session.pk) not in territory and CARD.format(w.session.pk) in territory


@pytest.mark.parametrize("who", ROLES)
def test_the_api_lists_the_school_sessions(
    workshop: Workshop, school_session: Session, client: Client, who: str
) -> None:
    headers = bearer(workshop.cast, who)
    school = client.get("/api/v1/activities/sessions?audience=school", headers=headers)
    assert school.status_code == 200
    assert [row["id"] for row in school.json()] == [school_session.pk]
    everything = client.get("/api/v1/activities/sessions", headers=headers).json()
    assert {row["id"] for row in everything} == {school_session.pk, workshop.session.pk}
    assert_problem(client.get("/api/v1/activities/sessions?audience=class", headers=headers), 422)


def test_the_api_refuses_the_school_sessions_to_another_territory(
    workshop: Workshop, school_session: Session, client: Client
) -> None:
    elsewhere = client.get(
        "/api/v1/activities/sessions?audience=school", headers=bearer(workshop.cast, "outsider", "elsewhere")
    )
    assert elsewhere.status_code == 200 and elsewhere.json() == []
