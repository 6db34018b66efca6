"""The demo's dashboard: the Vallée's year in figures, every theme measured, read by its coordinator, with the
year before beside it; built from what the modules' demos hold, nothing added for the reports."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from grenier.core import demo
from grenier.core.models import User
from grenier.reports import registry
from grenier.reports.registry import Period, Theme
from grenier.supply import demo as supply_demo


@pytest.mark.django_db(transaction=True)
def test_the_demo_s_dashboard_shows_the_year_in_figures(
    monkeypatch: pytest.MonkeyPatch, client: Client
) -> None:
    monkeypatch.setattr(supply_demo, "WEEKS", 3)
    territory = demo.build(log=lambda _line: None, household_count=12)
    year = Period(timezone.localdate().year)
    found = registry.compute(territory, year)
    measured = {code for code, result in found.items() if result.value is not None}
    for theme in Theme:
        assert any(i.code in measured for i in registry.indicators() if i.theme == theme), theme
    assert found["households_reached"].value and found["households_reached"].value >= 12
    assert found["credit_issued"].value and found["credit_spent"].value
    assert found["cooperations_by_level"].value and found["votes_held"].value
    client.force_login(User.objects.get(email="coordinator@demo.grenier.test"))
    page = client.get(f"/t/{territory.slug}/reports/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="panel indicator measured"') >= 20
    assert html.count("<svg") >= 20  # the bars
    assert f"/t/{territory.slug}/reports/indicators/households_reached/?period={year.key}" in html
    funder = User.objects.get(email="funder@demo.grenier.test")
    client.force_login(funder)
    assert client.get(f"/t/{territory.slug}/reports/?period={year.key}-01").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_demo_s_network_rolls_up_the_vallee_and_the_coteaux(
    monkeypatch: pytest.MonkeyPatch, client: Client
) -> None:
    from grenier.core.models import Grouping
    from grenier.reports import rollup

    monkeypatch.setattr(supply_demo, "WEEKS", 3)
    vallee = demo.build(log=lambda _line: None, household_count=12)
    grouping = Grouping.objects.get(slug=demo.GROUPING_SLUG)
    assert {t.slug for t in grouping.territories.all()} == {vallee.slug, demo.SECOND_SLUG}
    year = Period(timezone.localdate().year)
    reached = [registry.compute(t, year)["households_reached"].value or 0 for t in grouping.territories.all()]
    row = rollup.rollup(grouping, year, ["households_reached"]).rows[0]
    assert (
        all(reached) and row.total.value == sum(reached) - 1
    )  # the committee member's family, on both sides
    bands = rollup.rollup(grouping, year, ["households_by_resources"]).rows[0]
    in_bands = [
        registry.compute(t, year)["households_by_resources"].value for t in grouping.territories.all()
    ]
    assert bands.measured_in == 2 and bands.total.value == sum(v or 0 for v in in_bands) - 1  # once there too
    coordinator = User.objects.get(email=demo.GROUPING_LOGIN[0])
    client.force_login(coordinator)
    home = client.get("/")
    assert home.status_code == 302 and home["Location"] == f"/groupings/{grouping.slug}/reports/"
    page = client.get(f"/groupings/{grouping.slug}/reports/")
    assert page.status_code == 200 and "Coteaux" in page.content.decode()
    assert client.get(f"/t/{vallee.slug}/households/").status_code == 404
