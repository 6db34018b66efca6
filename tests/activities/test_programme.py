"""The printable monthly programme: a PDF of the month's sessions grouped by day (place, time, who may come,
places left), public like the calendar and linked from it; odd months refused; nobody named."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from grenier.activities import services

from ..pdf import pdf_text
from .conftest import Workshop, make_session
from .test_pages import EVERYONE


def _programme(client: Client, year: int = 2026, month: int = 12) -> str:
    response = client.get(reverse("activities_programme", args=["vallee", year, month]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return pdf_text(response.content)


def test_the_month_grouped_by_day_with_places_left(workshop: Workshop, client: Client) -> None:
    w = workshop
    services.register(
        session=w.session, actor=None, idempotency_key="k", adults=2, children=1, household=w.cast.household
    )
    make_session(w.activity, key="late", day=date(2026, 12, 16), capacity=1, address="Halle du marché")
    make_session(w.activity, key="january", day=date(2027, 1, 6), address="Ailleurs en janvier")
    text = _programme(client)
    for expected in [
        "Programme \\267 d\\351cembre 2026 \\267 Vall\\351e",
        "Mercredi 2 d\\351cembre",
        "14:00\\22616:00",
        "12 rue des Sources",
        "7 places restantes",
        "Mercredi 16 d\\351cembre",
        "1 place restante",
        "Ouvert \\340 tous les foyers",
    ]:
        assert expected in text, expected
    assert text.index("Mercredi 2 d") < text.index("Mercredi 16 d")
    assert "janvier" not in text and "Martin" not in text


def test_a_month_with_no_session_says_so(workshop: Workshop, client: Client) -> None:
    assert "Aucune s\\351ance" in _programme(client, 2027, 3)


def test_the_calendar_page_links_this_month_and_the_next(workshop: Workshop, client: Client) -> None:
    page = client.get(reverse("activities_calendar", args=["vallee"])).content.decode()
    assert reverse("activities_programme", args=["vallee", 2026, 11]) in page
    assert reverse("activities_programme", args=["vallee", 2026, 12]) in page
    assert "/t/vallee/activities/calendar.ics" in page and "webcal://testserver/t/vallee/" in page


@pytest.mark.parametrize("who", [*EVERYONE, "anonymous"])
def test_everyone_may_print_the_programme(workshop: Workshop, login: Callable[..., Client], who: str) -> None:
    client = login(None if who == "anonymous" else workshop.cast[who])
    assert "Atelier cuisine de saison" in _programme(client)


def test_odd_months_and_territories_are_not_found(workshop: Workshop, client: Client) -> None:
    for slug, year, month in [
        ("vallee", 2026, 13),
        ("vallee", 2026, 0),
        ("vallee", 1999, 5),
        ("nowhere", 2026, 12),
    ]:
        assert client.get(reverse("activities_programme", args=[slug, year, month])).status_code == 404
    assert client.post(reverse("activities_programme", args=["vallee", 2026, 12])).status_code == 405


def test_odd_names_print(workshop: Workshop, client: Client) -> None:
    w = workshop
    w.activity.title = "Crêpes & <galettes> 🍓 « maison »"
    w.activity.save(update_fields=["title"])
    assert "Cr\\352pes &" in _programme(client)
