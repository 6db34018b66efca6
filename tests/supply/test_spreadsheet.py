"""The week's planning table as XLSX: export, import all or nothing with every error's cell, and the page."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from grenier.core.errors import Conflict
from grenier.supply import services, spreadsheet
from grenier.supply.models import Availability, Demand, DemandSource, SupplyWeek, WeekStatus

from .conftest import Pial


def _demand(week: SupplyWeek) -> set[tuple[str, str, int, int]]:
    return {
        (d.kitchen.name, d.product.name, (d.day - week.monday).days, int(d.quantity))
        for d in Demand.objects.filter(week=week).select_related("kitchen", "product")
    }


def _availability(week: SupplyWeek) -> set[tuple[str, str, int, int]]:
    return {
        (a.producer.farm_name, a.product.name, int(a.quantity), int(a.minimum_lot))
        for a in Availability.objects.filter(week=week).select_related("producer", "product")
    }


@pytest.fixture
def week(pial: Pial) -> SupplyWeek:
    """This week, its demand from the contracts then changed by hand, and three farms' declarations."""
    actor = pial.cast["coordinator"]
    current = services.week_ensure(territory=pial.cast.territory, monday=pial.monday, actor=actor)
    p = pial.products
    monday, thursday = pial.monday, pial.monday + timedelta(days=3)
    services.demand_set(
        week=current, kitchen=pial.school, product=p["carottes"], day=monday, quantity=12_500, actor=actor
    )
    services.demand_set(
        week=current, kitchen=pial.school, product=p["poireaux"], day=thursday, quantity=0, actor=actor
    )
    services.demand_set(
        week=current, kitchen=pial.school, product=p["salade"], day=thursday, quantity=25, actor=actor
    )
    declare = services.availability_declare
    declare(
        week=current,
        producer=pial.saules,
        product=p["carottes"],
        quantity=40_250,
        minimum_lot=5_000,
        actor=actor,
    )
    declare(week=current, producer=pial.saules, product=p["salade"], quantity=60, actor=actor)
    declare(
        week=current,
        producer=pial.pic,
        product=p["poireaux"],
        quantity=18_000,
        minimum_lot=2_500,
        actor=actor,
    )
    declare(
        week=current, producer=pial.terrasses, product=p["radis"], quantity=30, minimum_lot=10, actor=actor
    )
    return current


def _sheet_rows(data: bytes, name: str) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(data))[name].iter_rows(values_only=True))


def test_export_has_the_three_sheets_in_sales_units(pial: Pial, week: SupplyWeek) -> None:
    data = spreadsheet.week_workbook(week)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Demande", "Disponibilités", "Plan"]
    assert book["Demande"].freeze_panes == "D2"
    assert book["Demande"].column_dimensions["A"].width > 20
    demand = _sheet_rows(data, "Demande")
    monday, tuesday, thursday = pial.monday, pial.monday + timedelta(days=1), pial.monday + timedelta(days=3)
    assert [cell.date() for cell in demand[0][3:]] == [monday, tuesday, thursday]
    rows = {(row[0], row[1]): row for row in demand[1:]}
    assert rows["École des Thermes", "Carottes"][2:] == ("kg", 12.5, None, 15)
    assert rows["École des Thermes", "Poireaux"][3:] == (10, None, None)
    assert rows["École des Thermes", "Salade"][3:] == (20, None, 25)
    assert rows["EHPAD Les Tilleuls", "Courgettes"][3:] == (None, 12, None)
    availability = {(row[0], row[1]): row[2:] for row in _sheet_rows(data, "Disponibilités")[1:]}
    assert availability["Ferme des Saules", "Carottes"] == ("kg", 40.25, 5)
    assert availability["Ferme des Saules", "Salade"][1:] == (60, None)
    assert availability["Les Terrasses", "Radis"][1:] == (30, 10)
    assert availability["Jardin du Pic", "Carottes"][1:] == (None, None)  # a row to fill
    assert _sheet_rows(data, "Plan")[1:] == []


def test_round_trip_into_a_fresh_week(pial: Pial, week: SupplyWeek) -> None:
    data = spreadsheet.week_workbook(week)
    demand, availability = _demand(week), _availability(week)
    assert (pial.school.name, "Poireaux", 3, 20_000) not in demand  # set to zero by hand
    week.delete()
    fresh = services.week_ensure(
        territory=pial.cast.territory, monday=pial.monday, actor=pial.cast["coordinator"]
    )
    assert _demand(fresh) != demand  # the contracts' schedule again
    assert _availability(fresh) == set()
    result = spreadsheet.week_import(week=fresh, data=data, actor=pial.cast["coordinator"])
    assert _demand(fresh) == demand
    assert _availability(fresh) == availability
    assert result.availability_changed == 4
    assert result.demand_changed == 3
    assert Demand.objects.filter(week=fresh, quantity=12_500).get().source == DemandSource.IMPORT
    # the same file again changes nothing
    again = spreadsheet.week_import(week=fresh, data=data, actor=pial.cast["coordinator"])
    assert (again.demand_changed, again.availability_changed) == (0, 0)
    assert _demand(fresh) == demand


def test_rows_absent_are_left_and_empty_cells_set_zero(pial: Pial, week: SupplyWeek) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Disponibilités"
    sheet.append(["Ferme", "Produit", "Unité", "Quantité", "Lot minimum"])
    sheet.append(
        ["ferme des saules ", "CAROTTES", "kg", "12,5", None]
    )  # names found ignoring case and spaces
    sheet.append(["Les Terrasses", "Radis", "botte", None, None])
    spreadsheet.week_import(week=week, data=_bytes(book), actor=pial.cast["coordinator"])
    availability = _availability(week)
    assert ("Ferme des Saules", "Carottes", 12_500, 0) in availability
    assert not any(row[:2] == ("Les Terrasses", "Radis") for row in availability)
    assert ("Ferme des Saules", "Salade", 60, 0) in availability  # absent from the file: unchanged
    assert ("Jardin du Pic", "Poireaux", 18_000, 2_500) in availability


def test_weekday_names_in_the_header_reuse_last_weeks_table(pial: Pial, week: SupplyWeek) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Demande"
    sheet.append(["Cuisine", "Produit", "Unité", "lundi", "Jeu."])
    sheet.append(["École des Thermes", "Carottes", "kg", 7, 8.5])
    spreadsheet.week_import(week=week, data=_bytes(book), actor=pial.cast["coordinator"])
    demand = _demand(week)
    assert (pial.school.name, "Carottes", 0, 7_000) in demand
    assert (pial.school.name, "Carottes", 3, 8_500) in demand


def _bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bad_workbook(pial: Pial) -> bytes:
    monday = pial.monday
    book = Workbook()
    demand = book.active
    demand.title = "Demande"
    demand.append(
        ["Cuisine", "Produit", "Unité", monday, monday + timedelta(days=3), monday + timedelta(days=9)]
    )
    demand.append(["Cantine inconnue", "Carottes", "kg", 10, None, None])  # A2
    demand.append(["École des Thermes", "Carottes", "kg", "beaucoup", 5, None])  # D3
    demand.append(["École des Thermes", "Salade", "pièce", 2.5, -3, None])  # D4 E4
    demand.append(["EHPAD Les Tilleuls", "Poireaux", "kg", 4, None, None])  # B5: not under its contract
    demand.append(["École des Thermes", "Topinambour", "kg", 1, None, None])  # B6
    demand.append(["École des Thermes", "Radis", "botte", 3, 4, None])  # fine
    availability = book.create_sheet("Disponibilités")
    availability.append(["Ferme", "Produit", "Unité", "Quantité", "Lot minimum"])
    availability.append(["Ferme des Saules", "Carottes", "kg", -2, None])  # D2
    availability.append(["Ferme Fantôme", "Carottes", "kg", 2, None])  # A3
    availability.append(["Jardin du Pic", "Salade", "pièce", 10, 12])  # E4
    availability.append(["Jardin du Pic", "Radis", "botte", 1.5, None])  # D5
    availability.append([None, None, None, None, None])  # blank rows are skipped
    availability.append(["Les Terrasses", "Poireaux", "kg", "3,5", "1"])  # fine
    return _bytes(book)


def test_import_with_errors_changes_nothing_and_lists_every_cell(pial: Pial, week: SupplyWeek) -> None:
    demand, availability, status = _demand(week), _availability(week), week.status
    with pytest.raises(spreadsheet.SheetRefused) as caught:
        spreadsheet.week_import(week=week, data=_bad_workbook(pial), actor=pial.cast["coordinator"])
    cells = [problem.cell for problem in caught.value.problems]
    assert cells == [
        "Demande!F1",
        "Demande!A2",
        "Demande!D3",
        "Demande!D4",
        "Demande!E4",
        "Demande!B5",
        "Demande!B6",
        "Disponibilités!D2",
        "Disponibilités!A3",
        "Disponibilités!E4",
        "Disponibilités!D5",
    ]
    problem = caught.value.problems[0]
    assert (problem.sheet, problem.row, problem.column) == ("Demande", 1, "F")
    assert set(caught.value.errors) == set(cells)
    assert caught.value.extra["error_count"] == 11
    assert _demand(week) == demand
    assert _availability(week) == availability
    week.refresh_from_db()
    assert week.status == status


def test_duplicate_rows_are_errors(pial: Pial, week: SupplyWeek) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Disponibilités"
    sheet.append(["Ferme", "Produit", "Unité", "Quantité", "Lot minimum"])
    sheet.append(["Jardin du Pic", "Radis", "botte", 1, None])
    sheet.append(["Jardin du Pic", "Radis", "botte", 2, None])
    with pytest.raises(spreadsheet.SheetRefused) as caught:
        spreadsheet.week_import(week=week, data=_bytes(book), actor=None)
    assert [p.cell for p in caught.value.problems] == ["Disponibilités!B3"]


def test_refused_on_a_published_week(pial: Pial, week: SupplyWeek) -> None:
    data = spreadsheet.week_workbook(week)
    SupplyWeek.objects.filter(pk=week.pk).update(status=WeekStatus.PUBLISHED)
    week.refresh_from_db()
    with pytest.raises(Conflict):
        spreadsheet.week_import(week=week, data=data, actor=pial.cast["coordinator"])


def test_not_a_workbook_or_too_big(pial: Pial, week: SupplyWeek) -> None:
    with pytest.raises(spreadsheet.FileRefused):
        spreadsheet.week_import(week=week, data=b"siret;description\n1;2\n", actor=None)
    with pytest.raises(spreadsheet.FileRefused):
        spreadsheet.week_import(week=week, data=b"PK\x03\x04broken zip", actor=None)
    with pytest.raises(spreadsheet.FileRefused):
        spreadsheet.week_import(
            week=week, data=b"PK\x03\x04" + b"0" * spreadsheet.MAX_UPLOAD_BYTES, actor=None
        )
    no_sheets = Workbook()
    no_sheets.active.title = "Autre"
    with pytest.raises(spreadsheet.FileRefused):
        spreadsheet.week_import(week=week, data=_bytes(no_sheets), actor=None)


# --- the page ----------------------------------------------------------------------------------------------------


def _url(pial: Pial, name: str = "supply_sheet") -> str:
    return reverse(name, args=[pial.cast.territory.slug, pial.monday.isoformat()])


def _upload(data: bytes, name: str = "planning.xlsx") -> dict[str, Any]:
    return {"file": SimpleUploadedFile(name, data, content_type=spreadsheet.XLSX_CONTENT_TYPE)}


def test_coordinator_downloads_and_uploads(pial: Pial, week: SupplyWeek, login) -> None:
    client = login(pial.cast["coordinator"])
    page = client.get(_url(pial))
    assert page.status_code == 200
    assert _url(pial, "supply_sheet_download") in page.content.decode()
    download = client.get(_url(pial, "supply_sheet_download"))
    assert download.status_code == 200
    assert download["Content-Type"] == spreadsheet.XLSX_CONTENT_TYPE
    assert ".xlsx" in download["Content-Disposition"]
    data = download.content
    Availability.objects.filter(week=week).delete()
    response = client.post(_url(pial), _upload(data))
    assert response.status_code == 302
    assert ("Ferme des Saules", "Carottes", 40_250, 5_000) in _availability(week)


def test_upload_with_errors_shows_each_cell(pial: Pial, week: SupplyWeek, login) -> None:
    before = _availability(week)
    response = login(pial.cast["coordinator"]).post(_url(pial), _upload(_bad_workbook(pial)))
    assert response.status_code == 422
    content = response.content.decode()
    assert 'id="sheet-errors"' in content
    for cell in ("Demande!A2", "Demande!B5", "Disponibilités!E4", "Disponibilités!D5"):
        assert cell in content
    assert len(response.context["problems"]) == 11
    assert _availability(week) == before


def test_upload_refuses_other_files(pial: Pial, week: SupplyWeek, login) -> None:
    client = login(pial.cast["coordinator"])
    response = client.post(_url(pial), _upload(b"kitchen;product\n", "table.csv"))
    assert response.status_code == 422
    assert response.context["form"].errors["file"]
    assert client.post(_url(pial), {}).status_code == 422


def test_upload_refused_on_a_published_week(pial: Pial, week: SupplyWeek, login) -> None:
    data = spreadsheet.week_workbook(week)
    SupplyWeek.objects.filter(pk=week.pk).update(status=WeekStatus.PUBLISHED)
    client = login(pial.cast["coordinator"])
    assert client.get(_url(pial)).status_code == 200
    assert client.post(_url(pial), _upload(data)).status_code == 409


def test_coordinator_of_the_week_may_a_grower_may_not(pial: Pial, week: SupplyWeek, login) -> None:
    grower = pial.cast["producer"]
    assert login(grower).get(_url(pial)).status_code == 403
    assert login(grower).get(_url(pial, "supply_sheet_download")).status_code == 403
    assert login(grower).post(_url(pial), _upload(spreadsheet.week_workbook(week))).status_code == 403
    week.coordinator = grower
    week.save(update_fields=["coordinator"])
    assert login(grower).get(_url(pial)).status_code == 200
    assert login(grower).get(_url(pial, "supply_sheet_download")).status_code == 200
    assert login(pial.other_grower).get(_url(pial)).status_code == 403


@pytest.mark.parametrize(
    ("who", "status"), [("kitchen", 403), ("committee", 403), ("nobody", 404), ("outsider", 404)]
)
def test_sheet_page_refused(pial: Pial, week: SupplyWeek, login, who: str, status: int) -> None:
    assert login(pial.cast[who]).get(_url(pial)).status_code == status
    assert login(pial.cast[who]).get(_url(pial, "supply_sheet_download")).status_code == status


def test_unknown_week(pial: Pial, login) -> None:
    client = login(pial.cast["coordinator"])
    monday = reverse("supply_sheet", args=[pial.cast.territory.slug, date(2020, 1, 6).isoformat()])
    assert client.get(monday).status_code == 404
    assert (
        client.get(reverse("supply_sheet", args=[pial.cast.territory.slug, "not-a-date"])).status_code == 404
    )
