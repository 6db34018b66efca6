"""How the supply pages read on a phone: the week's shortfalls and changed lines for the
coordinator, a refused availability row marked on its row, the grower reading what the kitchens received, long
pages folded or split by month, plural units and grouped thousands, delivery days only on the add-line form, a
grower seeing only its own farm's changes, and the figures on the home of the committee and funders."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from grenier.core.money import format_cents
from grenier.supply import billing, quantities, services, views
from grenier.supply.models import (
    Availability,
    Invoice,
    PlanChange,
    PlanLine,
    Product,
    SalesUnit,
    Shortfall,
    SupplyWeek,
)

from .conftest import Pial
from .test_billing import fund
from .test_billing_pages import issued
from .test_pages import _declare_enough, _published

pytestmark = pytest.mark.django_db


def _url(name: str, pial: Pial, *args: object) -> str:
    return reverse(name, args=[pial.cast.territory.slug, *args])


def _element(body: str, element_id: str) -> str:
    """The HTML of the element with ``element_id``, up to its closing tag (elements of one tag name not nested)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"', body)
    assert found, element_id
    tag = found.group(1)
    end = body.index(f"</{tag}>", found.end())
    return body[found.start() : end]


def _next_week_with_a_shortfall(pial: Pial) -> tuple[SupplyWeek, Shortfall]:
    """Next week (its delivery days all to come) published, then the Saules lose most of their carrots: the
    re-plan moves carrots to other farms."""
    monday = pial.monday + timedelta(weeks=1)
    actor = pial.cast["coordinator"]
    week = services.week_ensure(territory=pial.cast.territory, monday=monday, actor=actor)
    _declare_enough(pial, week)
    carrots = pial.products["carottes"]
    services.availability_declare(  # the Pic has more carrots than it is planned for: the re-plan uses them
        week=week, producer=pial.pic, product=carrots, quantity=60_000, actor=actor
    )
    services.plan_compute(week=week, actor=actor)
    services.plan_publish(week=week, actor=actor)
    week.refresh_from_db()
    shortfall = services.shortfall_report(
        week=week,
        producer=pial.saules,
        product=carrots,
        available=2_000,
        cause="Grêle",
        idempotency_key="qa-1",
        actor=pial.cast["producer"],
    )
    return week, shortfall


# --- B1: the coordinator's week shows its shortfalls and the lines they changed -------------------------------------


def test_the_week_page_shows_each_shortfall_and_each_changed_line(pial: Pial, login) -> None:
    week, shortfall = _next_week_with_a_shortfall(pial)
    changes = list(PlanChange.objects.filter(week=week))
    assert changes
    body = (
        login(pial.cast["coordinator"])
        .get(_url("supply_week", pial, week.monday.isoformat()))
        .content.decode()
    )
    row = _element(body, f"shortfall-{shortfall.pk}")
    assert pial.saules.farm_name in row and "Carottes" in row and "Grêle" in row
    assert quantities.format_quantity(shortfall.declared_before, shortfall.product) in row
    assert quantities.format_quantity(2_000, shortfall.product) in row
    assert pial.cast["producer"].get_full_name() in row  # who reported it
    for change in changes:
        item = _element(body, f"change-{change.pk}")
        assert change.producer.farm_name in item and change.kitchen.name in item
        assert quantities.format_quantity(change.after, change.product) in item or change.after == 0


def test_a_week_without_shortfall_has_no_such_section(pial: Pial, login) -> None:
    week = _published(pial, pial.monday + timedelta(weeks=1))
    body = (
        login(pial.cast["coordinator"])
        .get(_url("supply_week", pial, week.monday.isoformat()))
        .content.decode()
    )
    assert 'id="events"' not in body


# --- B2: a row the service refuses is marked with its product ---------------------------------------------------------


def test_a_refused_availability_row_is_marked_and_nothing_is_saved(pial: Pial, login) -> None:
    monday = pial.monday + timedelta(weeks=1)
    salad, carrots = pial.products["salade"], pial.products["carottes"]
    url = _url("supply_availability", pial, monday.isoformat(), pial.saules.pk)
    response = login(pial.cast["producer"]).post(
        url,
        {
            f"p{salad.pk}-quantity": "10",
            f"p{salad.pk}-minimum_lot": "20",  # a lot above the quantity: the service refuses it
            f"p{carrots.pk}-quantity": "40",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    salad_row = _element(body, f"product-{salad.pk}")
    assert "has-error" in salad_row.split(">", 1)[0]
    assert 'aria-invalid="true"' in salad_row
    assert f'name="p{salad.pk}-minimum_lot"' in salad_row
    assert "has-error" not in _element(body, f"product-{carrots.pk}").split(">", 1)[0]
    assert not Availability.objects.filter(producer=pial.saules).exists()  # all rows or none
    # The summary at the top links the refused row, and is the one thing read out (issue 13, item 8).
    summary = _element(body, "refused")
    assert body.index('id="refused"') < body.index('class="qty-row')
    assert re.findall(r'href="#([\w-]+)"', summary) == [f"product-{salad.pk}"]
    assert "Salade" in summary and body.count('role="alert"') == 1


def test_unreadable_quantities_are_linked_from_the_top_first_row_first(pial: Pial, login) -> None:
    monday = pial.monday + timedelta(weeks=1)
    carrots, salad = pial.products["carottes"], pial.products["salade"]
    url = _url("supply_availability", pial, monday.isoformat(), pial.saules.pk)
    response = login(pial.cast["producer"]).post(
        url, {f"p{salad.pk}-quantity": "beaucoup", f"p{carrots.pk}-quantity": "dix"}
    )
    body = response.content.decode()
    links = re.findall(r'href="#([\w-]+)"', _element(body, "refused"))
    assert links == [
        f"product-{carrots.pk}",
        f"product-{salad.pk}",
    ]  # in the form's order, the first row first
    for target in links:
        assert f'id="{target}"' in body


def test_the_harvest_form_sorts_vegetables_in_french_order(pial: Pial, login) -> None:
    territory = pial.cast.territory
    for name in ["Tomates", "Épinards", "céleri branche", "Céleri-rave"]:
        Product.objects.create(territory=territory, name=name, unit=SalesUnit.KG)
    monday = pial.monday + timedelta(weeks=1)
    body = (
        login(pial.cast["producer"])
        .get(_url("supply_availability", pial, monday.isoformat(), pial.saules.pk))
        .content.decode()
    )
    shown = re.findall(r"<legend>([^<]+)</legend>", body)
    assert shown.index("Céleri-rave") < shown.index("Courgettes")
    assert shown.index("Épinards") < shown.index("Tomates")
    assert shown.index("céleri branche") < shown.index("Céleri-rave") < shown.index("Épinards")


# --- B3: a grower reads what the kitchens received ---------------------------------------------------------------


def test_a_grower_home_shows_what_the_kitchen_received_and_its_note(pial: Pial, login) -> None:
    week = _published(pial)
    line = (
        PlanLine.objects.filter(week=week, producer=pial.saules, quantity__gt=1)
        .select_related("product")
        .first()
    )
    assert line is not None
    received = line.quantity - line.product.base_per_unit
    services.receipt_record(line=line, received_quantity=received, note="Cagette abîmée", actor=None)
    other = PlanLine.objects.filter(week=week, quantity__gt=0).exclude(producer=pial.saules).first()
    assert other is not None
    services.receipt_record(line=other, received_quantity=0, note="Pas livré", actor=None)

    body = login(pial.cast["producer"]).get(_url("supply_home", pial)).content.decode()
    item = _element(body, f"farm-line-{line.pk}")
    assert quantities.format_quantity(received, line.product) in item
    assert "Cagette abîmée" in item and "flag short" in item
    assert quantities.format_quantity(line.product.base_per_unit, line.product) in item  # the difference
    assert f'id="farm-line-{other.pk}"' not in body and "Pas livré" not in body  # another farm's


def test_a_grower_home_shows_last_weeks_receipts_with_a_difference_or_a_note(pial: Pial, login) -> None:
    last = _published(pial, pial.monday - timedelta(weeks=1))
    lines = list(
        PlanLine.objects.filter(week=last, producer=pial.saules, quantity__gt=0).select_related("product")
    )
    assert len(lines) >= 2
    short, fine = lines[0], lines[1]
    services.receipt_record(line=short, received_quantity=0, note="Rien reçu", actor=None)
    services.receipt_record(line=fine, received_quantity=fine.quantity, actor=None)  # as planned, no note

    body = login(pial.cast["producer"]).get(_url("supply_home", pial)).content.decode()
    block = _element(body, f"farm-{pial.saules.pk}-received")
    assert f'id="farm-line-{short.pk}"' in block and "Rien reçu" in block
    assert f'id="farm-line-{fine.pk}"' not in block


# --- B4: long pages folded, the invoices a month at a time -----------------------------------------------------------


def test_the_plan_is_folded_by_kitchen_and_each_contract_folds_its_lines(pial: Pial, login) -> None:
    week = _published(pial)
    client = login(pial.cast["coordinator"])
    body = client.get(_url("supply_week", pial, week.monday.isoformat())).content.decode()
    for kitchen in (pial.school, pial.ehpad):
        fold = re.search(rf'<details class="plan-kitchen" id="plan-kitchen-{kitchen.pk}"( open)?>', body)
        assert fold and not fold.group(1)  # two kitchens: both folded
        assert f'id="plan-{kitchen.pk}-' in _element(body, f"plan-kitchen-{kitchen.pk}")
    body = client.get(_url("supply_contracts", pial)).content.decode()
    for contract in (pial.school_contract, pial.ehpad_contract):
        lines = _element(body, f"contract-{contract.pk}-lines")
        assert lines.startswith("<details")
        for line in contract.lines.all():
            assert f'id="contract-line-{line.pk}"' in lines


def test_the_credit_note_form_is_folded_until_it_has_errors(pial: Pial, login) -> None:
    docs = issued(pial)
    client = login(pial.cast["coordinator"])
    url = _url("supply_money_invoice", pial, docs["school"].pk)
    fold = _element(client.get(url).content.decode(), "credit")
    assert fold.startswith("<details") and " open" not in fold.split(">", 1)[0]
    assert 'id="credit-form"' in fold
    response = client.post(_url("supply_money_credit_note", pial, docs["school"].pk), {"reason": ""})
    assert response.status_code == 422
    assert " open" in _element(response.content.decode(), "credit").split(">", 1)[0]


def test_the_invoices_show_the_latest_month_by_default_and_every_month_by_pages(
    pial: Pial, login, monkeypatch
) -> None:
    docs = issued(pial)
    september = date(2026, 9, 1)
    Invoice.objects.filter(pk=docs["pic"].pk).update(month=september)  # an older month
    client = login(pial.cast["coordinator"])
    url = _url("supply_money_invoices", pial)

    body = client.get(url).content.decode()
    assert f'id="doc-{docs["school"].pk}"' in body and f'id="doc-{docs["pic"].pk}"' not in body
    assert 'href="?month=2026-09"' in body and 'href="?month=all"' in body

    body = client.get(url, {"month": "2026-09"}).content.decode()
    assert f'id="doc-{docs["pic"].pk}"' in body and f'id="doc-{docs["school"].pk}"' not in body

    monkeypatch.setattr("grenier.supply.billing_views.DOCUMENTS_PER_PAGE", 2)
    every = Invoice.objects.filter(pk__in=[d.pk for d in billing.documents(pial.cast.territory)]).count()
    seen: set[str] = set()
    for page in range(1, (every + 1) // 2 + 1):
        body = client.get(url, {"month": "all", "page": page}).content.decode()
        found = set(re.findall(r'id="doc-(\d+)"', body))
        assert len(found) <= 2
        seen |= found
    assert len(seen) == every  # every document, once over the pages
    assert 'rel="next"' in client.get(url, {"month": "all", "page": 1}).content.decode()


# --- B5: plurals, grouping, days inside a sentence -----------------------------------------------------------------


def test_units_agree_with_the_number_and_thousands_are_grouped() -> None:
    lettuce = Product(name="Salade", unit=SalesUnit.PIECE)
    radish = Product(name="Radis", unit=SalesUnit.BUNCH)
    carrots = Product(name="Carottes", unit=SalesUnit.KG)
    for product in (lettuce, radish):
        one, two, six = (quantities.format_quantity(n, product).split(" ", 1)[1] for n in (1, 2, 6))
        assert one != six and two == six  # singular for one, plural for more
    assert quantities.format_quantity(1, lettuce).startswith("1 ")
    assert quantities.format_quantity(6, lettuce).startswith("6 ")
    with translation.override("fr"):
        grouped = quantities.format_quantity(1_440_000, carrots)
        assert grouped.split(" ")[0] != "1440" and re.sub(r"\D", "", grouped) == "1440"
        typed = quantities.format_quantity(1_440_000, carrots, with_unit=False)
        assert typed == "1440"  # what a form shows back is typed back as is
        assert quantities.parse_quantity(grouped.rsplit(" ", 1)[0], carrots) == 1_440_000


def test_missing_and_extra_agree_with_the_number(pial: Pial) -> None:
    lettuce = pial.products["salade"]

    def words(planned: int, received: int) -> str:
        line = PlanLine(quantity=planned, received_quantity=received, product=lettuce)
        return views._receipt_words(line)

    one_missing, six_missing = words(10, 9), words(10, 4)
    assert one_missing.startswith("1 ") and six_missing.startswith("6 ")
    assert one_missing[2:] != six_missing[2:]  # the unit agrees: 1 piece, 6 pieces
    assert words(10, 10) and words(10, 10) != words(10, 12)


def test_a_grower_reads_changes_with_the_weekday_in_lower_case(pial: Pial, login) -> None:
    week, shortfall = _next_week_with_a_shortfall(pial)
    mine = PlanChange.objects.filter(shortfall=shortfall, producer=pial.saules).first()
    assert mine is not None
    url = _url("supply_shortfall", pial, week.monday.isoformat(), pial.saules.pk)
    body = login(pial.cast["producer"]).get(url, {"reported": shortfall.pk}).content.decode()
    changes = _element(body, "changes")
    with translation.override("fr"):
        day = date_format(mine.day, "l j")
    assert day.lower() in changes
    if day != day.lower():
        assert day not in changes


# --- B6: lines by hand only on delivery days ------------------------------------------------------------------------


def test_the_add_line_form_offers_only_the_contracts_delivery_days(pial: Pial, login) -> None:
    week = _published(pial)
    body = (
        login(pial.cast["coordinator"])
        .get(_url("supply_week", pial, week.monday.isoformat()))
        .content.decode()
    )
    select = _element(body, "id_add-day")
    offered = set(re.findall(r'<option value="(\d{4}-\d{2}-\d{2})"', select))
    # the school is delivered on Mondays and Thursdays, the nursing home on Tuesdays
    assert offered == {(week.monday + timedelta(days=d)).isoformat() for d in (0, 1, 3)}


# --- B7: a grower sees only its own farm's changes -------------------------------------------------------------------


def test_the_grower_sees_only_its_farms_changes_the_coordinator_all(pial: Pial, login) -> None:
    week, shortfall = _next_week_with_a_shortfall(pial)
    changes = PlanChange.objects.filter(shortfall=shortfall)
    mine = changes.filter(producer=pial.saules).count()
    assert mine and changes.exclude(producer=pial.saules).exists()  # the carrots went to other farms
    url = _url("supply_shortfall", pial, week.monday.isoformat(), pial.saules.pk)

    body = login(pial.cast["producer"]).get(url, {"reported": shortfall.pk}).content.decode()
    shown = _element(body, "changes")
    assert shown.count('class="change') == mine
    for other in (pial.pic, pial.terrasses):
        assert other.farm_name not in shown

    client: Client = login(pial.cast["coordinator"])
    body = client.get(url, {"reported": shortfall.pk}).content.decode()
    assert _element(body, "changes").count('class="change') == changes.count()


# --- B8: the committee's and funders' home shows the figures -------------------------------------------------------


@pytest.mark.parametrize("role", ["committee", "funder"])
def test_the_figures_readers_home_shows_the_fund_egalim_and_volumes(pial: Pial, login, role: str) -> None:
    fund(pial, 123_456)
    _published(pial)  # a published week this year: the farms' volumes
    response = login(pial.cast[role]).get(_url("supply_home", pial))
    assert response.status_code == 200
    body = response.content.decode()
    assert format_cents(billing.devfund_balance(pial.cast.territory)) in _element(body, "figures-devfund")
    for kitchen in (pial.school, pial.ehpad):
        assert kitchen.name in _element(body, f"figures-kitchen-{kitchen.pk}")
    farms = _element(body, "figures-farms")
    assert pial.saules.farm_name in farms
    assert _url("supply_egalim", pial) in body


def test_a_coordinator_home_has_no_figures_block(pial: Pial, login) -> None:
    body = login(pial.cast["coordinator"]).get(_url("supply_home", pial)).content.decode()
    assert 'id="figures"' not in body
