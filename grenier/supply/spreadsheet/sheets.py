"""What the workbook's writing and reading share: the sheets' names, the limits of an upload, weekdays in French,
the products a kitchen's contracts name and their delivery days."""

from __future__ import annotations

from datetime import date, timedelta

from grenier.supply.models import (
    Contract,
    ContractStatus,
    Demand,
    Product,
    SupplyWeek,
)
from grenier.supply.quantities import to_sales_units
from grenier.supply.services import contract_lines_in_force

DEMAND_SHEET = "Demande"
AVAILABILITY_SHEET = "Disponibilités"
PLAN_SHEET = "Plan"

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a week's table is a few kB; more is not a planning table
MAX_ROWS = 5000  # per sheet; 300 farms x 80 products is 24 000 declarations: that size is for the API
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# 0 = Monday, as ``date.weekday()``; French first, English too, full or abbreviated.
WEEKDAY_NAMES = {
    **{
        name: i
        for i, name in enumerate(("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"))
    },
    **{name: i for i, name in enumerate(("lun", "mar", "mer", "jeu", "ven", "sam", "dim"))},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
}
DAY_ABBREVIATIONS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def _number(quantity: int | None, product: Product) -> int | float | None:
    """Base units → the sales-unit number a spreadsheet shows: 12500 g → 12.5, 40 pieces → 40."""
    if quantity is None:
        return None
    value = to_sales_units(int(quantity), product)
    return int(value) if value == value.to_integral_value() else float(value)


def _week_products_by_kitchen(week: SupplyWeek) -> dict[int, set[int]]:
    """Products under each kitchen's active contracts covering some day of the week."""
    sunday = week.monday + timedelta(days=6)
    pairs = (
        contract_lines_in_force(week.monday, sunday)
        .filter(contract__territory=week.territory)
        .values_list("contract__kitchen_id", "product_id")
    )
    result: dict[int, set[int]] = {}
    for kitchen_id, product_id in pairs:
        result.setdefault(kitchen_id, set()).add(product_id)
    return result


def delivery_days(week: SupplyWeek) -> list[date]:
    """The week's delivery days: those of its demand and of the active contracts' schedules (Monday to Friday if
    there is neither)."""
    days = set(Demand.objects.filter(week=week).values_list("day", flat=True).distinct())
    sunday = week.monday + timedelta(days=6)
    for contract in Contract.objects.filter(
        territory=week.territory,
        status=ContractStatus.ACTIVE,
        starts_on__lte=sunday,
        ends_on__gte=week.monday,
    ):
        for weekday in contract.delivery_weekdays or []:
            day = week.monday + timedelta(days=int(weekday))
            if contract.covers(day):
                days.add(day)
    return sorted(days) or [week.monday + timedelta(days=i) for i in range(5)]
