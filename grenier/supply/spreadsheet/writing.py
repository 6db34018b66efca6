"""The week's table written as a workbook: demand, availability and the plan, one sheet each."""

from __future__ import annotations

import io
from datetime import date
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from grenier.supply.models import (
    Availability,
    Demand,
    Kitchen,
    PlanLine,
    Producer,
    Product,
    SupplyWeek,
)
from grenier.supply.quantities import unit_label

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

from grenier.supply.spreadsheet.sheets import (
    AVAILABILITY_SHEET,
    DEMAND_SHEET,
    PLAN_SHEET,
    _number,
    _week_products_by_kitchen,
    delivery_days,
)


def _style(sheet: Worksheet, widths: list[int], freeze: str) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E6F0E8")
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = freeze


def week_workbook(week: SupplyWeek) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    territory = week.territory
    kitchens = {k.pk: k for k in Kitchen.objects.filter(territory=territory)}
    products = {p.pk: p for p in Product.objects.filter(territory=territory)}
    producers = {p.pk: p for p in Producer.objects.filter(territory=territory, on_platform=True)}
    _demand_sheet(book.active, week, kitchens, products)
    _availability_sheet(book.create_sheet(AVAILABILITY_SHEET), week, producers, products)
    _plan_sheet(book.create_sheet(PLAN_SHEET), week, kitchens, producers, products)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _demand_sheet(
    sheet: Worksheet, week: SupplyWeek, kitchens: dict[int, Kitchen], products: dict[int, Product]
) -> None:
    """Demande: one row per kitchen and product under contract (or with demand), one column per delivery day."""
    days = delivery_days(week)
    demand: dict[tuple[int, int], dict[date, int]] = {}
    for row in Demand.objects.filter(week=week).values("kitchen_id", "product_id", "day", "quantity"):
        demand.setdefault((row["kitchen_id"], row["product_id"]), {})[row["day"]] = int(row["quantity"])
    pairs = set(demand)
    for kitchen_id, product_ids in _week_products_by_kitchen(week).items():
        if kitchens[kitchen_id].is_active:
            pairs |= {(kitchen_id, product_id) for product_id in product_ids}
    sheet.title = DEMAND_SHEET
    sheet.append([_("Kitchen"), _("Product"), _("Unit"), *days])
    for index in range(len(days)):
        sheet.cell(row=1, column=4 + index).number_format = "ddd dd/mm/yyyy"
    for kitchen_id, product_id in sorted(pairs, key=lambda p: (kitchens[p[0]].name, products[p[1]].name)):
        product = products[product_id]
        by_day = demand.get((kitchen_id, product_id), {})
        sheet.append(
            [
                kitchens[kitchen_id].name,
                product.name,
                unit_label(product),
                *(_number(by_day.get(day), product) for day in days),
            ]
        )
    _style(sheet, [28, 24, 10, *([16] * len(days))], "D2")


def _availability_sheet(
    sheet: Worksheet, week: SupplyWeek, producers: dict[int, Producer], products: dict[int, Product]
) -> None:
    """Disponibilités: what each farm declared, and an empty row per product under contract for the others."""
    sheet.append([_("Farm"), _("Product"), _("Unit"), _("Quantity"), _("Minimum lot")])
    declared = {
        (a.producer_id, a.product_id): a
        for a in Availability.objects.filter(week=week).select_related("product")
    }
    sold = {product_id for ids in _week_products_by_kitchen(week).values() for product_id in ids}
    rows = set(declared)
    for producer in producers.values():
        if producer.left_on is None or producer.left_on > week.monday:
            rows |= {(producer.pk, product_id) for product_id in sold if products[product_id].is_active}
    for producer_id, product_id in sorted(
        rows, key=lambda p: (producers[p[0]].farm_name, products[p[1]].name)
    ):
        product = products[product_id]
        availability = declared.get((producer_id, product_id))
        sheet.append(
            [
                producers[producer_id].farm_name,
                product.name,
                unit_label(product),
                _number(availability.quantity, product) if availability else None,
                _number(availability.minimum_lot, product)
                if availability and availability.minimum_lot
                else None,
            ]
        )
    _style(sheet, [28, 24, 10, 12, 14], "C2")


def _plan_sheet(
    sheet: Worksheet,
    week: SupplyWeek,
    kitchens: dict[int, Kitchen],
    producers: dict[int, Producer],
    products: dict[int, Product],
) -> None:
    """Plan: the week's lines (read only)."""
    sheet.append([_("Farm"), _("Kitchen"), _("Product"), _("Day"), _("Quantity"), _("Unit")])
    for line in PlanLine.objects.filter(week=week).order_by(
        "producer__farm_name", "kitchen__name", "product__name", "day"
    ):
        product = products[line.product_id]
        sheet.append(
            [
                producers[line.producer_id].farm_name,
                kitchens[line.kitchen_id].name,
                product.name,
                line.day,
                _number(line.quantity, product),
                unit_label(product),
            ]
        )
        sheet.cell(row=sheet.max_row, column=4).number_format = "ddd dd/mm/yyyy"
    _style(sheet, [28, 28, 24, 16, 12, 10], "A2")


def workbook_filename(week: SupplyWeek) -> str:
    return f"planning-{week.territory.slug}-{week.monday:%G-W%V}.xlsx"
