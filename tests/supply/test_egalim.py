"""EGalim shares per kitchen and the ma-cantine purchase export: exact sums on hand-made invoice lines, the export's
columns and formats, and who may see what."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from grenier.supply import egalim
from grenier.supply.models import (
    Distance,
    EgalimLabel,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSeries,
    Kitchen,
    Producer,
    Product,
    ProductFamily,
)

from .conftest import Pial

YEAR = 2026


@pytest.fixture
def bought(pial: Pial) -> Pial:
    """The school's invoices of 2026: an invoice in January, one in March and a credit note; plus lines that must
    not count (another kitchen's, a farm's statement, a delivery of the year before)."""
    territory = pial.cast.territory
    series = InvoiceSeries.objects.create(territory=territory, prefix="PIAL")
    farm_series = InvoiceSeries.objects.create(territory=territory, producer=pial.saules, prefix="SAU")
    p = pial.products
    p["radis"].family = ProductFamily.AUTRES
    p["radis"].save()
    number = iter(range(1, 100))

    def invoice(
        kitchen: Kitchen | None, month: date, *, kind: str = InvoiceKind.INVOICE, producer=None
    ) -> Invoice:
        n = next(number)
        return Invoice.objects.create(
            territory=territory,
            series=farm_series if producer else series,
            number=n,
            reference=f"PIAL-{n}",
            kind=kind,
            kitchen=kitchen,
            producer=producer,
            month=month,
            issued_on=month,
            total_cents=0,
            idempotency_key=f"k{n}",
        )

    def line(
        inv: Invoice, product: Product, farm: Producer, day: date, qty: int, cents: int, labels: list[str]
    ):
        return InvoiceLine.objects.create(
            invoice=inv,
            product=product,
            producer=farm,
            kitchen=inv.kitchen or pial.school,
            day=day,
            quantity=qty,
            unit_price_cents=240,
            amount_cents=cents,
            egalim_labels=labels,
        )

    january = invoice(pial.school, date(YEAR, 1, 1))
    line(january, p["carottes"], pial.saules, date(YEAR, 1, 12), 50_000, 10_000, ["BIO"])
    line(january, p["poireaux"], pial.terrasses, date(YEAR, 1, 15), 12_500, 5_000, ["HVE"])
    march = invoice(pial.school, date(YEAR, 3, 1))
    line(march, p["salade"], pial.pic, date(YEAR, 3, 2), 30, 3_000, [])
    line(march, p["radis"], pial.pic, date(YEAR, 3, 5), 20, 2_000, ["BIO", "HVE"])
    credit = invoice(pial.school, date(YEAR, 3, 1), kind=InvoiceKind.CREDIT_NOTE)
    line(credit, p["carottes"], pial.saules, date(YEAR, 1, 12), -5_000, -1_000, ["BIO"])
    # none of these count for the school in 2026
    other = invoice(pial.ehpad, date(YEAR, 1, 1))
    line(other, p["carottes"], pial.saules, date(YEAR, 1, 13), 10_000, 7_777, ["BIO"])
    statement = invoice(None, date(YEAR, 1, 1), producer=pial.saules)
    line(statement, p["carottes"], pial.saules, date(YEAR, 1, 12), 50_000, 8_888, ["BIO"])
    before = invoice(pial.school, date(YEAR - 1, 12, 1))
    line(before, p["carottes"], pial.saules, date(YEAR - 1, 12, 31), 10_000, 9_999, [])
    # the Jardin du Pic is far from the school by road
    Distance.objects.create(producer=pial.pic, kitchen=pial.school, km=Decimal("150.0"))
    return pial


def test_shares_exact_with_credit_note_subtracted(bought: Pial) -> None:
    start, end = egalim.year_period(YEAR)
    shares = egalim.kitchen_shares(bought.school, start, end)
    assert shares.lines == 5
    assert shares.spend.total_cents == 10_000 + 5_000 + 3_000 + 2_000 - 1_000
    assert shares.spend.organic_cents == 10_000 + 2_000 - 1_000
    assert shares.spend.quality_cents == 10_000 + 5_000 + 2_000 - 1_000
    assert shares.spend.organic_share == Fraction(11_000, 19_000)
    assert shares.spend.quality_share == Fraction(16_000, 19_000)
    assert shares.spend.organic_percent == Decimal("57.9")
    assert shares.spend.quality_percent == Decimal("84.2")
    assert shares.spend.organic_met and shares.spend.quality_met

    families = shares.by_family
    assert families[ProductFamily.FRUITS_LEGUMES].total_cents == 17_000
    assert families[ProductFamily.FRUITS_LEGUMES].organic_cents == 9_000
    assert families[ProductFamily.AUTRES].total_cents == 2_000
    assert families[ProductFamily.AUTRES].quality_cents == 2_000

    months = dict(shares.months)
    assert set(months) == {date(YEAR, 1, 1), date(YEAR, 3, 1)}
    assert (
        months[date(YEAR, 1, 1)].total_cents == 14_000
    )  # the credit note lowers January, its delivery month
    assert months[date(YEAR, 1, 1)].organic_cents == 9_000
    assert months[date(YEAR, 3, 1)].total_cents == 5_000
    assert months[date(YEAR, 3, 1)].organic_cents == 2_000


def test_targets_and_periods(bought: Pial) -> None:
    # March alone: 5 000 bought, 2 000 organic (40 %), 2 000 quality (40 %): organic met, quality not
    march = egalim.kitchen_shares(bought.school, date(YEAR, 3, 1), date(YEAR, 3, 31))
    assert (march.spend.total_cents, march.spend.organic_cents, march.spend.quality_cents) == (
        5_000,
        2_000,
        2_000,
    )
    assert march.spend.organic_met
    assert not march.spend.quality_met
    # exactly on the target counts as met
    spend = egalim.Spend()
    spend.add(200, ["BIO"])
    spend.add(300, ["LABEL_ROUGE"])
    spend.add(500, [])
    assert spend.organic_met and spend.quality_met
    spend.add(1, [])
    assert not spend.organic_met and not spend.quality_met
    # nothing bought: no share, no target met
    empty = egalim.kitchen_shares(bought.ehpad, date(YEAR, 6, 1), date(YEAR, 6, 30))
    assert empty.spend.organic_share is None and empty.spend.organic_percent is None
    assert not empty.spend.organic_met
    assert egalim.ORGANIC_TARGET_PERCENT == 20 and egalim.QUALITY_TARGET_PERCENT == 50


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_columns_in_ma_cantine_order(bought: Pial) -> None:
    rows = _csv_rows(egalim.ma_cantine_csv(bought.school, *egalim.year_period(YEAR)))
    assert rows[0] == [
        "siret",
        "description",
        "fournisseur",
        "date",
        "prix_ht",
        "famille_produits",
        "categories_egalim",
        "origine",
        "est_circuit_court",
        "est_local",
        "definition_local",
    ]
    assert len(rows) == 1 + 5


def test_export_values_formatted_as_ma_cantine_reads_them(bought: Pial) -> None:
    rows = _csv_rows(egalim.ma_cantine_csv(bought.school, *egalim.year_period(YEAR)))
    header, body = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(header) == 11
    by_price = {row["prix_ht"]: row for row in body}
    assert set(by_price) == {"100.00", "50.00", "30.00", "20.00", "-10.00"}
    carrots = by_price["100.00"]
    assert carrots["siret"] == "21310329700016"
    assert carrots["description"].startswith("Carottes (")
    assert "50" in carrots["description"]
    assert carrots["fournisseur"] == "Ferme des Saules"
    assert carrots["date"] == "2026-01-12"
    assert carrots["famille_produits"] == "FRUITS_ET_LEGUMES"
    assert carrots["categories_egalim"] == "BIO"
    assert carrots["origine"] == "FRANCE"
    assert carrots["est_circuit_court"] == "x"
    assert carrots["est_local"] == "x"  # great circle: under a km from the school
    assert carrots["definition_local"] == "AUTOUR_SERVICE"
    # several labels: comma-separated, in a fixed order
    radish = by_price["20.00"]
    assert radish["categories_egalim"] == "BIO,HVE"
    assert radish["famille_produits"] == "AUTRES"
    # a recorded road distance wins over the great circle: 150 km is not local
    assert radish["est_local"] == ""
    assert radish["definition_local"] == ""
    assert by_price["30.00"]["categories_egalim"] == ""
    # the recorded 14.5 km of Les Terrasses is local
    assert by_price["50.00"]["est_local"] == "x"
    credit = by_price["-10.00"]
    assert credit["date"] == "2026-01-12"
    assert credit["fournisseur"] == "Ferme des Saules"


def test_quality_and_organic_labels() -> None:
    for label in EgalimLabel.values:
        assert egalim.is_quality([label]) and egalim.is_quality(["UNKNOWN", label])
        assert egalim.is_organic([label]) == (label == EgalimLabel.BIO)
    assert not egalim.is_quality([]) and not egalim.is_quality(["UNKNOWN"]) and not egalim.is_quality(None)  # type: ignore[arg-type]


def test_price_and_category_helpers() -> None:
    assert egalim.euros(0) == "0.00"
    assert egalim.euros(5) == "0.05"
    assert egalim.euros(123_456) == "1234.56"
    assert egalim.euros(-1_005) == "-10.05"
    assert egalim.ma_cantine_categories(["HVE", "BIO", "AOCAOP_IGP_STG", "UNKNOWN"]) == "BIO,AOCAOP,HVE"
    assert egalim.ma_cantine_categories([]) == ""


def test_local_needs_a_distance_or_coordinates(bought: Pial) -> None:
    far = Producer.objects.create(territory=bought.cast.territory, farm_name="Sans adresse", siret="1")
    check = egalim.LocalCheck(bought.school)
    assert check.distance_km(far) is None
    assert not check(far)
    assert check(bought.saules)
    assert not check(bought.pic)


def test_xlsx_export_holds_the_same_table(bought: Pial) -> None:
    data = egalim.ma_cantine_xlsx(bought.school, *egalim.year_period(YEAR))
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert rows == _csv_rows(egalim.ma_cantine_csv(bought.school, *egalim.year_period(YEAR)))


# --- pages -------------------------------------------------------------------------------------------------------


def _page(pial: Pial, **query: str) -> str:
    url = reverse("supply_egalim", args=[pial.cast.territory.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _export(pial: Pial, kitchen: Kitchen, fmt: str = "csv") -> str:
    return reverse("supply_egalim_export", args=[pial.cast.territory.slug, kitchen.pk, fmt]) + f"?year={YEAR}"


@pytest.mark.parametrize("who", ["coordinator", "committee", "funder"])
def test_figures_readers_see_every_kitchen(bought: Pial, login, who: str) -> None:
    response = login(bought.cast[who]).get(_page(bought, year=str(YEAR)))
    assert response.status_code == 200
    shown = [row["shares"].kitchen for row in response.context["rows"]]
    assert shown == [bought.ehpad, bought.school]
    school = next(row for row in response.context["rows"] if row["shares"].kitchen == bought.school)
    assert school["shares"].spend.total_cents == 19_000
    content = response.content.decode()
    assert f'id="egalim-kitchen-{bought.school.pk}"' in content
    assert "<svg" in content
    # the coordinator may export; the committee and funders read aggregated figures only
    assert (_export(bought, bought.school) in content) == (who == "coordinator")


def test_kitchen_manager_sees_only_its_kitchen(bought: Pial, login) -> None:
    response = login(bought.cast["kitchen"]).get(_page(bought, year=str(YEAR)))
    assert response.status_code == 200
    assert [row["shares"].kitchen for row in response.context["rows"]] == [bought.school]
    content = response.content.decode()
    assert f'id="egalim-kitchen-{bought.ehpad.pk}"' not in content
    assert _export(bought, bought.school) in content
    response = login(bought.other_kitchen).get(_page(bought, year=str(YEAR)))
    assert [row["shares"].kitchen for row in response.context["rows"]] == [bought.ehpad]


def test_page_takes_a_date_range(bought: Pial, login) -> None:
    response = login(bought.cast["kitchen"]).get(_page(bought, start="2026-03-01", end="2026-03-31"))
    assert response.status_code == 200
    assert response.context["rows"][0]["shares"].spend.total_cents == 5_000
    assert (
        login(bought.cast["kitchen"]).get(_page(bought, start="2026-03-31", end="2026-03-01")).status_code
        == 404
    )
    assert login(bought.cast["kitchen"]).get(_page(bought, year="abc")).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), [("producer", 403), ("member", 403), ("nobody", 404), ("outsider", 404)]
)
def test_page_refused(bought: Pial, login, who: str, status: int) -> None:
    assert login(bought.cast[who]).get(_page(bought)).status_code == status


def test_page_needs_login(bought: Pial, client) -> None:
    assert client.get(_page(bought)).status_code == 302


def test_export_permissions(bought: Pial, login) -> None:
    response = login(bought.cast["coordinator"]).get(_export(bought, bought.school))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert _csv_rows(response.content.decode())[0][0] == "siret"
    assert len(_csv_rows(response.content.decode())) == 6
    response = login(bought.cast["kitchen"]).get(_export(bought, bought.school, "xlsx"))
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content)).active.max_row == 6
    # another kitchen's purchases: not found for a manager, refused for the readers of aggregates
    assert login(bought.cast["kitchen"]).get(_export(bought, bought.ehpad)).status_code == 404
    assert login(bought.cast["committee"]).get(_export(bought, bought.school)).status_code == 403
    assert login(bought.cast["funder"]).get(_export(bought, bought.school)).status_code == 403
    assert login(bought.cast["producer"]).get(_export(bought, bought.school)).status_code == 403
    assert login(bought.cast["nobody"]).get(_export(bought, bought.school)).status_code == 404
    assert login(bought.cast["coordinator"]).get(_export(bought, bought.school, "pdf")).status_code == 404
