"""The supply pages: who may open each one (200 and what matters on it), who may not (404 outside the territory or
for another farm's or kitchen's page, 403 for a role the page is not for), and the forms that write or refuse."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from grenier.supply import services
from grenier.supply.models import (
    Availability,
    Demand,
    PlanChange,
    PlanLine,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)

from .conftest import Pial

pytestmark = pytest.mark.django_db


def _url(name: str, pial: Pial, *args: object) -> str:
    return reverse(name, args=[pial.cast.territory.slug, *args])


def _iso(day: date) -> str:
    return day.isoformat()


def _declare_enough(pial: Pial, week: SupplyWeek) -> None:
    """The three farms declare enough of everything the kitchens ask."""
    actor = pial.cast["coordinator"]
    for farm, amounts in (
        (pial.saules, {"carottes": 40_000, "poireaux": 20_000, "salade": 60, "radis": 30}),
        (pial.pic, {"carottes": 20_000, "courgettes": 12_000}),
        (pial.terrasses, {"carottes": 10_000, "poireaux": 10_000}),
    ):
        for name, quantity in amounts.items():
            services.availability_declare(
                week=week, producer=farm, product=pial.products[name], quantity=quantity, actor=actor
            )


def _published(pial: Pial, monday: date | None = None) -> SupplyWeek:
    actor = pial.cast["coordinator"]
    week = services.week_ensure(territory=pial.cast.territory, monday=monday or pial.monday, actor=actor)
    _declare_enough(pial, week)
    services.plan_compute(week=week, actor=actor)
    services.plan_publish(week=week, actor=actor)
    week.refresh_from_db()
    return week


# --- navigation and home --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "producer", "kitchen", "committee", "funder"])
def test_the_supply_entry_is_in_the_navigation_of_the_platforms_people(pial: Pial, login, role: str) -> None:
    client: Client = login(pial.cast[role])
    response = client.get(_url("territory_home", pial))
    assert response.status_code == 200
    assert _url("supply_home", pial).encode() in response.content
    assert client.get(_url("supply_home", pial)).status_code == 200


@pytest.mark.parametrize("role", ["member", "cashier", "social_worker"])
def test_others_of_the_territory_have_no_supply_entry_and_are_refused(pial: Pial, login, role: str) -> None:
    client: Client = login(pial.cast[role])
    assert _url("supply_home", pial).encode() not in client.get(_url("territory_home", pial)).content
    assert client.get(_url("supply_home", pial)).status_code == 403


@pytest.mark.parametrize("role", ["outsider", "nobody"])
def test_the_supply_home_does_not_exist_for_people_of_no_role_here(pial: Pial, login, role: str) -> None:
    assert login(pial.cast[role]).get(_url("supply_home", pial)).status_code == 404


def test_a_grower_home_shows_its_farm_its_published_lines_and_the_links(pial: Pial, login) -> None:
    week = _published(pial)
    mine = PlanLine.objects.filter(week=week, producer=pial.saules, quantity__gt=0).select_related("kitchen")
    assert mine.exists()
    response = login(pial.cast["producer"]).get(_url("supply_home", pial))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="farm-{pial.saules.pk}"' in body and f'id="farm-{pial.pic.pk}"' not in body
    for line in mine:
        assert line.kitchen.name in body
    next_monday = _iso(pial.monday + timedelta(days=7))
    assert _url("supply_availability", pial, next_monday, pial.saules.pk) in body
    assert _url("supply_shortfall", pial, _iso(pial.monday), pial.saules.pk) in body
    assert f'href="{_url("supply_week", pial, _iso(pial.monday))}"' not in body  # not coordinating


def test_a_kitchen_home_links_its_demand_and_its_deliveries(pial: Pial, login) -> None:
    _published(pial)
    body = login(pial.cast["kitchen"]).get(_url("supply_home", pial)).content.decode()
    assert pial.school.name in body and pial.ehpad.name not in body
    assert _url("supply_deliveries", pial, _iso(pial.monday), pial.school.pk) in body
    assert _url("supply_demand", pial, _iso(pial.monday + timedelta(days=7)), pial.school.pk) in body


def test_the_coordinator_home_lists_weeks_and_a_grower_sees_the_week_it_coordinates(
    pial: Pial, login
) -> None:
    week = services.week_ensure(territory=pial.cast.territory, monday=pial.monday, actor=None)
    body = login(pial.cast["coordinator"]).get(_url("supply_home", pial)).content.decode()
    assert f'href="{_url("supply_week", pial, _iso(pial.monday))}"' in body
    assert _url("supply_week", pial, _iso(pial.monday + timedelta(days=7))) in body
    services.week_coordinator_set(week=week, coordinator=pial.cast["producer"], actor=None)
    body = login(pial.cast["producer"]).get(_url("supply_home", pial)).content.decode()
    assert f'href="{_url("supply_week", pial, _iso(pial.monday))}"' in body


# --- the week ----------------------------------------------------------------------------------------------------------


def test_the_coordinator_opens_computes_and_publishes_a_week(pial: Pial, login) -> None:
    client: Client = login(pial.cast["coordinator"])
    url = _url("supply_week", pial, _iso(pial.monday))
    assert client.get(url).status_code == 200  # not open yet: an "open" button
    assert client.post(url).status_code == 302
    week = SupplyWeek.objects.get(territory=pial.cast.territory, monday=pial.monday)
    assert Demand.objects.filter(week=week).exists()  # the contracts' schedule
    _declare_enough(pial, week)

    response = client.post(_url("supply_plan_compute", pial, _iso(pial.monday)))
    assert response.status_code == 302
    week.refresh_from_db()
    assert week.status == WeekStatus.PLANNED and PlanLine.objects.filter(week=week).exists()
    body = client.get(url).content.decode()
    assert 'id="proven"' in body and 'id="publish-button"' in body
    for line in PlanLine.objects.filter(week=week):
        assert f'id="line-{line.pk}"' in body
    assert f'id="farm-{pial.saules.pk}"' in body  # each farm's volume against its share

    assert client.post(_url("supply_plan_publish", pial, _iso(pial.monday))).status_code == 302
    week.refresh_from_db()
    assert week.status == WeekStatus.PUBLISHED
    body = client.get(url).content.decode()
    assert 'id="publish-button"' not in body and 'id="compute"' not in body


def test_unmet_demand_is_explained_by_its_reason_in_words_not_the_optimisers_text(pial: Pial, login) -> None:
    week = services.week_ensure(territory=pial.cast.territory, monday=pial.monday, actor=None)
    services.availability_declare(
        week=week, producer=pial.saules, product=pial.products["carottes"], quantity=10_000, actor=None
    )
    services.plan_compute(week=week, actor=None)
    body = login(pial.cast["coordinator"]).get(_url("supply_week", pial, _iso(pial.monday))).content.decode()
    assert f'id="plan-{pial.school.pk}-{pial.products["radis"].pk}"' in body
    assert 'class="reason"' in body
    assert (
        "no producer declared" not in body and "not enough declared:" not in body
    )  # the optimiser's English
    assert "10 kg" in body and "45 kg" in body  # declared vs asked carrots, all kitchens and days


def test_a_hand_adjustment_is_saved_and_a_refused_one_shows_the_services_error(pial: Pial, login) -> None:
    week = services.week_ensure(territory=pial.cast.territory, monday=pial.monday, actor=None)
    _declare_enough(pial, week)
    services.plan_compute(week=week, actor=None)
    line = PlanLine.objects.filter(week=week, product=pial.products["carottes"], quantity__gte=2000).first()
    assert line is not None
    client: Client = login(pial.cast["coordinator"])
    url = _url("supply_plan_line", pial, _iso(pial.monday), line.pk)
    response = client.post(url, {"quantity": f"{(line.quantity - 1000) // 1000}"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.adjusted and line.quantity == line.solver_quantity - 1000

    response = client.post(url, {"quantity": "999"})  # more than the kitchen asked and the farm declared
    assert response.status_code == 422
    assert 'class="field-error"' in response.content.decode()
    line.refresh_from_db()
    assert line.quantity == line.solver_quantity - 1000
    assert client.post(url, {"quantity": "douze"}).status_code == 422


def test_a_kitchen_or_a_grower_not_coordinating_is_refused_the_week_and_an_outsider_does_not_find_it(
    pial: Pial, login
) -> None:
    week = services.week_ensure(territory=pial.cast.territory, monday=pial.monday, actor=None)
    url = _url("supply_week", pial, _iso(pial.monday))
    for role in ("kitchen", "producer", "committee"):
        assert login(pial.cast[role]).get(url).status_code == 403, role
        assert (
            login(pial.cast[role]).post(_url("supply_plan_compute", pial, _iso(pial.monday))).status_code
            == 403
        )
    for role in ("outsider", "nobody"):
        assert login(pial.cast[role]).get(url).status_code == 404, role
    assert login(pial.cast["coordinator"]).get(_url("supply_week", pial, "2026-13-01")).status_code == 404
    assert (
        login(pial.cast["coordinator"])
        .get(_url("supply_week", pial, _iso(pial.monday + timedelta(days=1))))
        .status_code
        == 404
    )
    # the coordinator of the week (a grower) may coordinate that week, not set who coordinates
    services.week_coordinator_set(week=week, coordinator=pial.cast["producer"], actor=None)
    grower: Client = login(pial.cast["producer"])
    assert grower.get(url).status_code == 200
    assert (
        grower.post(_url("supply_week_coordinator", pial, _iso(pial.monday)), {"coordinator": ""}).status_code
        == 403
    )
    week.refresh_from_db()
    assert week.coordinator_id == pial.cast["producer"].pk


def test_the_coordinator_names_the_coordinator_of_the_week(pial: Pial, login) -> None:
    services.week_ensure(territory=pial.cast.territory, monday=pial.monday, actor=None)
    client: Client = login(pial.cast["coordinator"])
    response = client.post(
        _url("supply_week_coordinator", pial, _iso(pial.monday)), {"coordinator": pial.other_grower.pk}
    )
    assert response.status_code == 302
    assert SupplyWeek.objects.get(monday=pial.monday).coordinator_id == pial.other_grower.pk
    response = client.post(
        _url("supply_week_coordinator", pial, _iso(pial.monday)), {"coordinator": pial.cast["member"].pk}
    )  # not a grower nor a coordinator: not among the choices
    assert SupplyWeek.objects.get(monday=pial.monday).coordinator_id == pial.other_grower.pk


# --- availability ------------------------------------------------------------------------------------------------------


def test_a_grower_declares_its_week_in_sales_units_all_rows_at_once(pial: Pial, login) -> None:
    monday = pial.monday + timedelta(days=7)
    client: Client = login(pial.cast["producer"])
    url = _url("supply_availability", pial, _iso(monday), pial.saules.pk)
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'inputmode="decimal"' in body
    for product in pial.products.values():
        assert f'id="product-{product.pk}"' in body
    carrots, salad = pial.products["carottes"], pial.products["salade"]
    response = client.post(
        url,
        {
            f"p{carrots.pk}-quantity": "12,5",
            f"p{carrots.pk}-minimum_lot": "5",
            f"p{salad.pk}-quantity": "40",
        },
    )
    assert response.status_code == 302
    rows = {a.product_id: a for a in Availability.objects.filter(producer=pial.saules, week__monday=monday)}
    assert (rows[carrots.pk].quantity, rows[carrots.pk].minimum_lot) == (12_500, 5_000)
    assert rows[salad.pk].quantity == 40 and len(rows) == 2
    assert 'value="12,5"' in client.get(url).content.decode()

    # half a lettuce, or a lot above the quantity: nothing is saved
    response = client.post(url, {f"p{carrots.pk}-quantity": "20", f"p{salad.pk}-quantity": "3,5"})
    assert response.status_code == 422
    assert Availability.objects.get(producer=pial.saules, product=carrots).quantity == 12_500
    response = client.post(url, {f"p{carrots.pk}-quantity": "2", f"p{carrots.pk}-minimum_lot": "5"})
    assert response.status_code == 422
    assert Availability.objects.get(producer=pial.saules, product=carrots).quantity == 12_500


def test_availability_is_refused_once_the_week_is_published(pial: Pial, login) -> None:
    week = _published(pial)
    client: Client = login(pial.cast["producer"])
    url = _url("supply_availability", pial, _iso(pial.monday), pial.saules.pk)
    response = client.get(url)
    assert response.status_code == 200 and 'id="save-availability"' not in response.content.decode()
    carrots = pial.products["carottes"]
    before = Availability.objects.get(week=week, producer=pial.saules, product=carrots).quantity
    response = client.post(url, {f"p{carrots.pk}-quantity": "1"})
    assert response.status_code == 302
    assert Availability.objects.get(week=week, producer=pial.saules, product=carrots).quantity == before


def test_the_availability_form_of_another_farm_is_not_found_and_a_kitchen_is_refused(
    pial: Pial, login
) -> None:
    url = _url("supply_availability", pial, _iso(pial.monday), pial.pic.pk)
    assert login(pial.cast["producer"]).get(url).status_code == 404
    assert login(pial.cast["producer"]).post(url, {}).status_code == 404
    assert login(pial.cast["kitchen"]).get(url).status_code == 403
    assert login(pial.cast["outsider"]).get(url).status_code == 404
    assert login(pial.other_grower).get(url).status_code == 200
    assert login(pial.cast["coordinator"]).get(url).status_code == 200


# --- demand -----------------------------------------------------------------------------------------------------------


def test_a_kitchen_demand_is_prefilled_from_its_contract_and_saved(pial: Pial, login) -> None:
    monday = pial.monday + timedelta(days=7)
    client: Client = login(pial.cast["kitchen"])
    url = _url("supply_demand", pial, _iso(monday), pial.school.pk)
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    carrots, leeks = pial.products["carottes"], pial.products["poireaux"]
    assert (
        f'id="product-{carrots.pk}"' in body and f'id="product-{pial.products["courgettes"].pk}"' not in body
    )
    monday_field, thursday_field = (
        f"p{carrots.pk}-d{_iso(monday)}",
        f"p{carrots.pk}-d{_iso(monday + timedelta(days=3))}",
    )
    assert f'name="{monday_field}"' in body and f'name="{thursday_field}"' in body
    assert 'value="15"' in body  # 30 kg a week over two delivery days
    assert not SupplyWeek.objects.filter(monday=monday).exists()  # reading does not open the week

    data = {monday_field: "18", thursday_field: "12,5", f"p{leeks.pk}-d{_iso(monday)}": "0"}
    assert client.post(url, data).status_code == 302
    rows = {
        (d.product_id, d.day): d.quantity
        for d in Demand.objects.filter(week__monday=monday, kitchen=pial.school)
    }
    assert rows[carrots.pk, monday] == 18_000 and rows[carrots.pk, monday + timedelta(days=3)] == 12_500
    assert (leeks.pk, monday) not in rows
    assert client.post(url, {monday_field: "-3"}).status_code == 422
    assert (
        Demand.objects.get(week__monday=monday, kitchen=pial.school, product=carrots, day=monday).quantity
        == 18_000
    )


def test_the_demand_of_another_kitchen_is_not_found_and_a_grower_is_refused(pial: Pial, login) -> None:
    url = _url("supply_demand", pial, _iso(pial.monday), pial.ehpad.pk)
    assert login(pial.cast["kitchen"]).get(url).status_code == 404
    assert login(pial.cast["producer"]).get(url).status_code == 403
    assert login(pial.cast["nobody"]).get(url).status_code == 404
    assert login(pial.other_kitchen).get(url).status_code == 200


# --- shortfall --------------------------------------------------------------------------------------------------------


def test_a_grower_reports_a_shortfall_and_sees_which_lines_changed(pial: Pial, login) -> None:
    next_monday = pial.monday + timedelta(weeks=1)  # its delivery days are all to come, whatever day it is
    week = _published(pial, next_monday)
    carrots = pial.products["carottes"]
    client: Client = login(pial.cast["producer"])
    url = _url("supply_shortfall", pial, _iso(next_monday), pial.saules.pk)
    response = client.get(url)
    assert response.status_code == 200 and 'name="idempotency_key"' in response.content.decode()
    data = {"product": carrots.pk, "available": "5", "cause": "Grêle", "idempotency_key": "k-1"}
    response = client.post(url, data)
    assert response.status_code == 302
    shortfall = Shortfall.objects.get(week=week)
    assert (shortfall.producer_id, shortfall.available, shortfall.cause) == (pial.saules.pk, 5_000, "Grêle")
    assert client.post(url, data).status_code == 302  # the same form sent again records once
    assert Shortfall.objects.filter(week=week).count() == 1
    body = client.get(response["Location"]).content.decode()
    assert 'id="changes"' in body
    changes = PlanChange.objects.filter(shortfall=shortfall)
    assert changes.exists()
    assert body.count('class="change') == changes.count()

    response = client.post(url, {"product": carrots.pk, "available": "50", "idempotency_key": "k-2"})
    assert response.status_code == 422  # more than declared now: not a shortfall
    assert Shortfall.objects.filter(week=week).count() == 1


def test_a_shortfall_before_publication_is_refused_and_another_farm_is_not_found(pial: Pial, login) -> None:
    week = services.week_ensure(territory=pial.cast.territory, monday=pial.monday, actor=None)
    _declare_enough(pial, week)
    client: Client = login(pial.cast["producer"])
    url = _url("supply_shortfall", pial, _iso(pial.monday), pial.saules.pk)
    assert 'id="report"' not in client.get(url).content.decode()
    response = client.post(
        url, {"product": pial.products["carottes"].pk, "available": "1", "idempotency_key": "k"}
    )
    assert response.status_code == 422 and not Shortfall.objects.exists()
    assert client.get(_url("supply_shortfall", pial, _iso(pial.monday), pial.pic.pk)).status_code == 404
    assert login(pial.cast["kitchen"]).get(url).status_code == 403


# --- deliveries -------------------------------------------------------------------------------------------------------


def test_a_kitchen_reads_its_deliveries_and_records_what_arrived(pial: Pial, login) -> None:
    week = _published(pial)
    lines = list(
        PlanLine.objects.filter(week=week, kitchen=pial.school, quantity__gt=0)
        .select_related("producer", "product")
        .order_by("day", "producer__farm_name", "product__name")
    )
    assert lines
    client: Client = login(pial.cast["kitchen"])
    url = _url("supply_deliveries", pial, _iso(pial.monday), pial.school.pk)
    body = client.get(url).content.decode()
    for line in lines:
        assert f'id="line-{line.pk}"' in body
    assert not PlanLine.objects.filter(week=week, kitchen=pial.ehpad, pk__in=[x.pk for x in lines]).exists()

    first = lines[0]
    group = [x for x in lines if (x.day, x.producer_id) == (first.day, first.producer_id)]
    data: dict[str, str] = {"delivery": f"{first.day.isoformat()}-{first.producer_id}"}
    for x in group:  # everything as planned, except the first line: one unit short
        data[f"l{x.pk}-received"] = str(
            x.quantity // x.product.base_per_unit - (1 if x.pk == first.pk else 0)
        )
    data[f"l{first.pk}-note"] = "Cagette abîmée"
    response = client.post(url, data)
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.received_quantity == first.quantity - first.product.base_per_unit
    assert first.discrepancy == -first.product.base_per_unit and first.receipt_note == "Cagette abîmée"
    for x in group[1:]:
        x.refresh_from_db()
        assert x.received_quantity == x.quantity
    body = client.get(url).content.decode()
    shown = body[body.index(f'id="line-{first.pk}"') :]
    assert shown.index("flag short") < shown.index(
        "</fieldset>"
    )  # the missing unit is said, not only coloured
    assert client.post(url, {"delivery": "1999-01-01-1"}).status_code == 404


def test_deliveries_of_another_kitchen_are_not_found_and_a_grower_is_refused(pial: Pial, login) -> None:
    _published(pial)
    url = _url("supply_deliveries", pial, _iso(pial.monday), pial.ehpad.pk)
    assert login(pial.cast["kitchen"]).get(url).status_code == 404
    assert login(pial.cast["producer"]).get(url).status_code == 403
    assert login(pial.cast["outsider"]).get(url).status_code == 404
    assert login(pial.other_kitchen).get(url).status_code == 200


def test_nothing_is_received_before_publication(pial: Pial, login) -> None:
    week = services.week_ensure(territory=pial.cast.territory, monday=pial.monday, actor=None)
    _declare_enough(pial, week)
    services.plan_compute(week=week, actor=None)
    client: Client = login(pial.cast["kitchen"])
    url = _url("supply_deliveries", pial, _iso(pial.monday), pial.school.pk)
    response = client.get(url)
    assert response.status_code == 200 and "Record" not in response.content.decode()
    line = PlanLine.objects.filter(week=week, kitchen=pial.school).first()
    assert line is not None
    client.post(url, {"delivery": f"{line.day.isoformat()}-{line.producer_id}", f"l{line.pk}-received": "1"})
    line.refresh_from_db()
    assert line.received_quantity is None


# --- reference pages --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "producer", "kitchen", "committee", "funder"])
def test_the_reference_pages_are_read_by_the_platforms_people(pial: Pial, login, role: str) -> None:
    client: Client = login(pial.cast[role])
    body = client.get(_url("supply_kitchens", pial)).content.decode()
    assert pial.school.name in body and "180" in body
    body = client.get(_url("supply_producers", pial)).content.decode()
    assert pial.terrasses.farm_name in body and "40.0 %" in body.replace(",", ".")
    assert (pial.cast["producer"].get_full_name() in body) == (role in ("coordinator", "producer"))
    body = client.get(_url("supply_products", pial)).content.decode()
    assert all(p.name in body for p in pial.products.values())
    response = client.get(_url("supply_contracts", pial))
    assert response.status_code == 200


def test_the_contracts_show_the_price_in_four_parts_and_a_kitchen_only_its_own(pial: Pial, login) -> None:
    body = login(pial.cast["coordinator"]).get(_url("supply_contracts", pial)).content.decode()
    line = pial.line(pial.school_contract, "poireaux")
    row = body[body.index(f'id="contract-line-{line.pk}"') :]
    row = row[: row.index("</tr>")]
    for text in ("2,40", "0,40", "0,25", "0,10", "3,15"):
        assert text in row, text
    assert "2025-LEG-03" in body and pial.ehpad_contract.title in body
    body = login(pial.cast["kitchen"]).get(_url("supply_contracts", pial)).content.decode()
    assert pial.school_contract.title in body and pial.ehpad_contract.title not in body


@pytest.mark.parametrize(
    "name", ["supply_kitchens", "supply_producers", "supply_products", "supply_contracts"]
)
def test_the_reference_pages_are_refused_outside_the_platform(pial: Pial, login, name: str) -> None:
    assert login(pial.cast["member"]).get(_url(name, pial)).status_code == 403
    assert login(pial.cast["outsider"]).get(_url(name, pial)).status_code == 404
    assert login(None).get(_url(name, pial)).status_code == 302  # to the login page


def test_the_delivery_page_shows_no_volunteering_without_a_source(
    pial: Pial, login, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Supply knows nothing of volunteering: with no app telling it (``delivery_volunteer_sources`` empty) the
    kitchen's delivery page shows its deliveries and no volunteers' panel; with one, its calls."""
    from grenier.supply import selectors

    _published(pial)
    url = _url("supply_deliveries", pial, _iso(pial.monday), pial.school.pk)
    client: Client = login(pial.cast["kitchen"])
    monkeypatch.setattr(selectors, "delivery_volunteer_sources", [])
    body = client.get(url).content.decode()
    assert 'id="delivery-' in body and 'id="delivery-volunteers"' not in body
    told = selectors.DeliveryVolunteers(calls=[], call_url="/ici/")
    monkeypatch.setattr(selectors, "delivery_volunteer_sources", [lambda territory, kitchen, week: told])
    body = client.get(url).content.decode()
    assert 'id="delivery-volunteers"' in body and 'href="/ici/"' in body
