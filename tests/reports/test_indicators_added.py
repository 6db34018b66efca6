"""The indicators added to the registry after the first ones, each on hand-built data whose figure is computed here
by hand: the households reached by resources band, the food budget not measured, the km a kilo travelled, how
unevenly the growers' income is shared, the cooperations by sort, the resources shared and their bookings."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation
from django.utils.html import escape
from openpyxl import load_workbook

from grenier.core.models import Household, HouseholdPerson
from grenier.fund.models import ContributionScale
from grenier.network import services as network_services
from grenier.network.models import ResourceKind, Sort
from grenier.reports import registry
from grenier.reports.disclosure import Status, disclose
from grenier.reports.registry import Period, Result
from grenier.supply.models import Distance, Invoice, InvoiceLine, InvoiceSeries, Producer

from ..fund.conftest import Fund
from ..network.conftest import Map, new_cooperation
from ..pdf import pdf_text
from ..supply.conftest import Pial

NOVEMBER = Period(2026, 11)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The reasons read in English (French is the default language)."""
    with translation.override("en"):
        yield


def figure(territory_of: Fund | Map | Pial, code: str, period: Period = NOVEMBER) -> Result:
    return registry.compute(territory_of.cast.territory, period, [code])[code]


def parts(result: Result) -> dict[str, object]:
    return {part.key: part.value for part in result.parts}


# -- access -------------------------------------------------------------------------------------------------------


def test_the_households_reached_by_resources_band_per_consumption_unit(fund: Fund) -> None:
    # the scale's brackets (per consumption unit, a month): up to 600 €, 900 €, 1 200 €, 1 600 €, over 1 600 €
    found = figure(fund, "households_by_resources")
    # the member's household: Ana (an adult) and Tom (born 2019, a child): 1.3 units, 1 200 € → 923,07 € a unit;
    # the neighbour declared nothing
    assert found.value == 2
    assert parts(found) == {
        "band_1": 0,
        "band_2": 0,
        "band_3": 1,
        "band_4": 0,
        "band_5": 0,
        "undeclared": 1,
    }
    with translation.override("en"):
        labels = [part.label for part in figure(fund, "households_by_resources").parts]
    assert labels[0] == "up to 600\xa0€"
    assert labels[2] == "over 900\xa0€, up to 1\u202f200\xa0€"
    assert labels[4] == "over 1\u202f600\xa0€"
    # 1 170 € over 1.3 units is exactly 900 €: the second band (up to and including its bound), as the fund's
    # rules say; the neighbour alone with 1 600,01 € is over the last bound
    Household.objects.filter(pk=fund.cast.household.pk).update(monthly_resources_cents=117_000)
    Household.objects.filter(pk=fund.cast.other_household.pk).update(monthly_resources_cents=160_001)
    assert parts(figure(fund, "households_by_resources")) == {
        "band_1": 0,
        "band_2": 1,
        "band_3": 0,
        "band_4": 0,
        "band_5": 1,
        "undeclared": 0,
    }
    # with no adult left, Tom heads the household: 1 unit, 1 170 € a unit → the third band
    HouseholdPerson.objects.filter(household=fund.cast.household, first_name="Ana").delete()
    assert parts(figure(fund, "households_by_resources"))["band_3"] == 1


def test_the_resources_bands_are_hidden_in_public_and_not_measured_without_a_scale(fund: Fund) -> None:
    indicator = registry.REGISTRY["households_by_resources"]
    public = disclose(indicator, figure(fund, "households_by_resources"), exact=False)
    assert public.status == Status.HIDDEN  # two households: who they are could be told
    assert all(part.value is None for part in public.parts)
    ContributionScale.objects.filter(territory=fund.cast.territory).update(effective_month=date(2027, 1, 1))
    found = figure(fund, "households_by_resources")
    assert found.value is None and "scale" in found.reason


def test_the_food_budget_share_is_not_measured_and_says_why(fund: Fund) -> None:
    with translation.override("en"):
        found = figure(fund, "food_budget_share")
        definition = registry.REGISTRY["food_budget_share"].definition
    assert found.value is None
    assert found.reason == "Not measured: the households do not declare a food budget in Grenier."
    assert "does not ask the households what they spend on food" in definition


# -- food system ---------------------------------------------------------------------------------------------------


def _invoice(pial: Pial) -> Invoice:
    territory = pial.cast.territory
    series = InvoiceSeries.objects.create(territory=territory, prefix="TEST")
    return Invoice.objects.create(
        territory=territory,
        series=series,
        number=1,
        reference="TEST-1",
        kitchen=pial.school,
        month=date(2026, 11, 1),
        issued_on=date(2026, 11, 30),
        total_cents=0,
        idempotency_key="test-invoice",
    )


def _line(
    invoice: Invoice, producer: Producer, product: str, quantity: int, day: date, producers_cents: int = 0
) -> None:
    pial_product = invoice.territory.supply_products.get(name__iexact=product)
    kitchen = invoice.kitchen
    assert kitchen is not None
    InvoiceLine.objects.create(
        invoice=invoice,
        product=pial_product,
        producer=producer,
        kitchen=kitchen,
        day=day,
        quantity=quantity,
        unit_price_cents=100,
        amount_cents=producers_cents,
        producers_cents=producers_cents,
    )


def test_the_km_a_kilo_travelled_from_farm_to_kitchen(pial: Pial) -> None:
    invoice = _invoice(pial)
    radis = pial.products["radis"]
    radis.grams_per_unit = 250
    radis.save()
    unplaced = Producer.objects.create(territory=pial.cast.territory, farm_name="Ferme sans adresse")
    Distance.objects.create(producer=pial.saules, kitchen=pial.school, km=Decimal("30"))
    Distance.objects.create(producer=pial.pic, kitchen=pial.school, km=Decimal("150"))
    day = date(2026, 11, 3)
    _line(invoice, pial.saules, pial.products["carottes"].name, 10_000, day)  # 10 kg at 30 km
    _line(invoice, pial.pic, radis.name, 4, day)  # 4 bunches of 250 g: 1 kg at 150 km
    _line(invoice, unplaced, pial.products["carottes"].name, 5_000, day)  # 5 kg from nowhere known
    found = figure(pial, "km_per_kg")
    assert found.value == Decimal("40.9")  # (10 * 30 + 1 * 150) / 11 = 40,909
    assert parts(found) == {"placed": Decimal("11.0"), "unplaced": Decimal("5.0")}
    # a credit note takes 2 kg of carrots back: (8 * 30 + 150) / 9 = 43,33
    _line(invoice, pial.saules, pial.products["carottes"].name, -2_000, date(2026, 11, 4))
    assert figure(pial, "km_per_kg").value == Decimal("43.3")
    # a month with deliveries from unknown places only says so
    _line(invoice, unplaced, pial.products["carottes"].name, 1_000, date(2026, 12, 1))
    december = figure(pial, "km_per_kg", Period(2026, 12))
    assert december.value is None and december.reason.startswith("Not measured")
    assert figure(pial, "km_per_kg", Period(2026, 10)).value is None  # before the first delivery


def test_how_unevenly_the_growers_income_is_shared_between_farms_and_weeks(pial: Pial) -> None:
    invoice = _invoice(pial)
    carottes = pial.products["carottes"].name
    # Les Saules 300 € (200 € the first week, 100 € the second), Le Pic 100 € the second week
    _line(invoice, pial.saules, carottes, 1_000, date(2026, 11, 3), 20_000)
    _line(invoice, pial.saules, carottes, 1_000, date(2026, 11, 10), 10_000)
    _line(invoice, pial.pic, carottes, 1_000, date(2026, 11, 12), 10_000)
    found = figure(pial, "growers_income_evenness")
    # farms 300 € and 100 €: mean 200 €, standard deviation 100 € → 50 %; weeks 200 € and 200 € → 0 %
    assert found.value == Decimal("50.0")
    assert parts(found) == {"farms": 2, "weeks": Decimal("0.0"), "week_count": 2}
    # Les Terrasses 200 € in a third week: farms 300, 100, 200 (deviation √(20 000/3) = 81,65 → 40,8 %)
    _line(invoice, pial.terrasses, carottes, 1_000, date(2026, 11, 17), 20_000)
    found = figure(pial, "growers_income_evenness")
    assert found.value == Decimal("40.8")
    assert parts(found) == {"farms": 3, "weeks": Decimal("0.0"), "week_count": 3}
    # one farm paid: nothing to compare
    _line(invoice, pial.saules, carottes, 1_000, date(2026, 12, 1), 5_000)
    december = figure(pial, "growers_income_evenness", Period(2026, 12))
    assert december.value is None and december.reason.startswith("Not measured")


# -- cooperation ---------------------------------------------------------------------------------------------------


def test_the_cooperations_by_sort(net: Map) -> None:
    new_cooperation(net, key="coop-proximity")
    fields = network_services.CooperationFields(
        title="Légumerie commune",
        sort=Sort.THEME,
        level=3,
        actors=[net.food_bank, net.town_hall],
        starts_on=date(2026, 11, 2),
        themes=["food_system"],
    )
    network_services.cooperation_create(
        territory=net.cast.territory, fields=fields, by=net.cast["coordinator"], idempotency_key="coop-theme"
    )
    found = figure(net, "cooperations_by_sort")
    assert found.value == 2
    assert parts(found) == {"proximity": 1, "theme": 1, "scale": 0, "people": 0}
    # the same cooperations as by level
    assert found.value == figure(net, "cooperations_by_level").value


def test_the_resources_shared_and_their_bookings_by_kind(net: Map, login: Any) -> None:
    coordinator = net.cast["coordinator"]
    van = network_services.resource_create(
        owner=net.town_hall, kind=ResourceKind.VEHICLE, name="Camion", by=coordinator, idempotency_key="van"
    )

    def book(resource: object, requester: object, start: date, end: date, key: str, accept: bool) -> None:
        booking = network_services.booking_request(
            resource=resource,  # type: ignore[arg-type]
            requester=requester,  # type: ignore[arg-type]
            starts_on=start,
            ends_on=end,
            by=coordinator,
            idempotency_key=key,
        )
        network_services.booking_decide(booking=booking, accept=accept, by=coordinator, reason="Pas libre")

    book(net.cold_room, net.town_hall, date(2026, 11, 26), date(2026, 11, 28), "b-1", True)  # 3 days
    book(net.cold_room, net.town_hall, date(2026, 11, 30), date(2026, 11, 30), "b-2", True)  # 1 day
    book(net.cold_room, net.town_hall, date(2026, 11, 29), date(2026, 11, 29), "b-3", False)  # refused
    book(van, net.food_bank, date(2026, 11, 27), date(2026, 11, 27), "b-4", True)  # 1 day
    book(van, net.food_bank, date(2026, 12, 2), date(2026, 12, 3), "b-5", True)  # December
    bookings = figure(net, "bookings")
    assert bookings.value == 3
    assert {k: v for k, v in parts(bookings).items() if v} == {"cold_room": 2, "vehicle": 1}
    shared = figure(net, "resources_shared")
    assert shared.value == 2  # the cold room (twice) and the van, each once
    assert {k: v for k, v in parts(shared).items() if v} == {"cold_room": 1, "vehicle": 1, "days": 5}
    assert parts(figure(net, "resources_shared", Period(2026, 12))) == {
        **dict.fromkeys(ResourceKind.values, 0),
        "vehicle": 1,
        "days": 2,
    }
    # on the dashboard, the days are a line of their own under the resources' bars, not a bar beside them
    client = login(net.cast["coordinator"])
    html = client.get(f"/t/{net.cast.territory.slug}/reports/?period=2026-11").content.decode()
    card = html[html.index('id="indicator-resources_shared"') :]
    card = card[: card.index("</article>")]
    table, _after, apart = card.partition("</table>")
    assert "prêtées" not in table and "jours" not in table  # the page in French, the default
    assert (
        '<p class="part-apart">prêtées, toutes réservations comprises, pendant <strong>5 jours</strong></p>'
        in apart
    )
    # the cold room and the van, one each: bars of the full width (the 5 days had drawn them at a fifth)
    bars = table[table.index('class="parts"') :]
    assert bars.count('width="100" height="6"') == 2 and 'width="20" height="6"' not in bars


# -- every output ----------------------------------------------------------------------------------------------------

ADDED = [
    "households_by_resources",
    "food_budget_share",
    "km_per_kg",
    "growers_income_evenness",
    "cooperations_by_sort",
    "resources_shared",
]


def drawn(text: str) -> str:
    """``text`` as ReportLab writes it in a page's stream (Latin-1 letters as octal escapes)."""
    return "".join(c if c.isascii() else f"\\{ord(c):03o}" for c in text)


def test_the_added_indicators_are_in_every_output(fund: Fund, login: Any) -> None:
    client = login(fund.cast["funder"])
    with translation.override("fr"):
        names = [str(registry.REGISTRY[code].name) for code in ADDED]
        page = client.get("/t/vallee/reports/?period=2026", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        pdf = pdf_text(client.get("/t/vallee/reports/2026.pdf", HTTP_ACCEPT_LANGUAGE="fr").content)
    for name in names:
        assert escape(name) in page, name
        assert drawn(name[:15]) in pdf, name
    for code in ADDED:
        assert f"/t/vallee/reports/indicators/{code}/" in page
    rows = list(
        csv.DictReader(io.StringIO(client.get("/t/vallee/reports/download/indicators.csv?period=2026").text))
    )
    archive = zipfile.ZipFile(
        io.BytesIO(client.get("/t/vallee/reports/download/open-data.zip?period=2026").content)
    )
    public = list(csv.DictReader(io.StringIO(archive.read("indicators.csv").decode())))
    definitions = archive.read("definitions.csv").decode()
    book = load_workbook(
        io.BytesIO(client.get("/t/vallee/reports/download/indicators.xlsx?period=2026").content)
    )
    in_book = {row[3] for row in book["indicators"].iter_rows(values_only=True)}
    status = {(r["indicator"], r["part"]): r["status"] for r in public}
    for code in ADDED:
        assert code in {r["indicator"] for r in rows} and code in in_book and code in definitions, code
    # the fund's two households: hidden in public, bands included; the other modules hold nothing here
    assert status["households_by_resources", ""] == "hidden"
    assert status["households_by_resources", "band_3"] == "hidden"
    assert status["food_budget_share", ""] == "not_measured"
    assert status["km_per_kg", ""] == "not_measured"
    assert status["resources_shared", ""] == "not_measured"


def test_the_resources_bands_computed_by_the_database_are_the_fund_s_rule_for_any_household(
    fund: Fund,
) -> None:
    """The bands are computed in SQL (``reach``): for households of every shape — no person, children only,
    adults and children, resources none, tiny or on a bound — they are what the fund's own rule gives in Python."""
    import random

    from grenier.fund.models import MonthLine
    from grenier.fund.planning import _units_x10

    territory = fund.cast.territory
    line = MonthLine.objects.filter(household__territory=territory, month=NOVEMBER.start).first()
    assert line is not None
    scale = ContributionScale.objects.filter(territory=territory).order_by("-effective_month").first()
    assert scale is not None
    bounds = [up_to for up_to, _suggested in scale.brackets]
    chooser = random.Random(19)
    expected: dict[str, int] = {}
    for number in range(60):
        adults, children = chooser.randint(0, 4), chooser.randint(0, 4)
        resources = chooser.choice(
            [None, 0, 1, 59_999, 60_000, 90_000 * 13 // 10, chooser.randint(1, 400_000)]
        )
        household = Household.objects.create(
            territory=territory,
            name=f"Foyer {number}",
            monthly_resources_cents=resources,
            joined_on=date(2026, 1, 5),
            card_number=f"9{number:011d}",
        )
        for person in range(adults):
            HouseholdPerson.objects.create(
                household=household, first_name=f"A{person}", birth_date=date(1980, 1, 1)
            )
        for person in range(children):
            HouseholdPerson.objects.create(
                household=household, first_name=f"E{person}", birth_date=date(2020, 1, 1)
            )
        MonthLine.objects.create(
            run=line.run,
            household=household,
            month=line.month,
            contribution_due_cents=0,
            contribution_paid_cents=0,
            allocation_cents=0,
        )
        if resources is None:
            key = "undeclared"
        else:
            per_unit = resources * 10 // _units_x10(adults + children, children)
            band = next(
                (i for i, up_to in enumerate(bounds, 1) if up_to is None or per_unit <= up_to), len(bounds)
            )
            key = f"band_{band}"
        expected[key] = expected.get(key, 0) + 1
    found = figure(fund, "households_by_resources")
    assert found.value == 62  # and the fixture's two: one in the third band, one that declared nothing
    keys = [f"band_{index}" for index in range(1, len(bounds) + 1)] + ["undeclared"]
    fixture = {"band_3": 1, "undeclared": 1}
    assert parts(found) == {key: expected.get(key, 0) + fixture.get(key, 0) for key in keys}
