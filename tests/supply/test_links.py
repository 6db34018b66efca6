"""Each page links what its reader may open next: the delivery notes from the kitchen's deliveries and the grower's
lines, the planning table from the week, the invoices and EGalim from the sub-navigation; every link opens."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grenier.supply.models import PlanLine

from .conftest import Pial
from .test_pages import _iso, _published, _url

pytestmark = pytest.mark.django_db


def note_url(pial: Pial, line: PlanLine) -> str:
    return _url(
        "supply_delivery_note",
        pial,
        _iso(line.week.monday),
        line.producer_id,
        line.kitchen_id,
        _iso(line.day),
    )


def test_the_kitchens_deliveries_link_each_days_delivery_note_per_farm(pial: Pial, login) -> None:
    week = _published(pial)
    client = login(pial.cast["kitchen"])
    body = client.get(_url("supply_deliveries", pial, _iso(week.monday), pial.school.pk)).content.decode()
    lines = PlanLine.objects.filter(week=week, kitchen=pial.school, quantity__gt=0)
    notes = {note_url(pial, line) for line in lines}
    assert len(notes) >= 2
    for url in notes:
        assert f'href="{url}"' in body
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    other = PlanLine.objects.filter(week=week, kitchen=pial.ehpad, quantity__gt=0).first()
    assert other is not None and note_url(pial, other) not in body


def test_the_growers_lines_link_a_delivery_note_per_day_and_kitchen(pial: Pial, login) -> None:
    week = _published(pial)
    client = login(pial.cast["producer"])
    body = client.get(_url("supply_home", pial)).content.decode()
    mine = PlanLine.objects.filter(week=week, producer=pial.saules, quantity__gt=0)
    notes = {note_url(pial, line) for line in mine}
    assert notes
    assert body.count('class="delivery-note"') == len(notes)
    for url in notes:
        assert f'href="{url}"' in body
        assert client.get(url).status_code == 200
    others = PlanLine.objects.filter(week=week, quantity__gt=0).exclude(producer=pial.saules).first()
    assert others is not None and note_url(pial, others) not in body


def test_the_week_links_its_planning_table(pial: Pial, login) -> None:
    week = _published(pial)
    client = login(pial.cast["coordinator"])
    body = client.get(_url("supply_week", pial, _iso(week.monday))).content.decode()
    sheet = _url("supply_sheet", pial, _iso(week.monday))
    assert 'id="sheet-link"' in body and f'href="{sheet}"' in body
    assert client.get(sheet).status_code == 200


@pytest.mark.parametrize(
    ("who", "invoices", "egalim"),
    [
        ("coordinator", True, True),
        ("kitchen", True, True),
        ("producer", True, False),
        ("committee", False, True),
        ("funder", False, True),
    ],
)
def test_the_subnav_reaches_invoices_and_egalim_for_those_who_may(
    pial: Pial, login, who: str, invoices: bool, egalim: bool
) -> None:
    client = login(pial.cast[who])
    body = client.get(_url("supply_home", pial)).content.decode()
    for name, shown in (("supply_money_invoices", invoices), ("supply_egalim", egalim)):
        url = reverse(name, args=[pial.cast.territory.slug])
        assert (f'href="{url}"' in body) is shown, name
        assert client.get(url).status_code == (200 if shown else 403), name
