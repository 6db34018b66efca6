"""The week's planning table as an XLSX workbook, the way the growers keep it today, and back.

Export (:func:`week_workbook`): three sheets, quantities in sales units (kg with decimals, pieces, bunches):

* "Demande": kitchen, product, unit, then one column per delivery day (the header cell is the date);
* "Disponibilités": farm, product, unit, quantity, minimum lot;
* "Plan": farm, kitchen, product, day, quantity, unit (read only: the import ignores it).

Import (:func:`week_import`): reads "Demande" and "Disponibilités" (a missing sheet is left as it is). Every cell is
checked first; if anything is wrong, nothing is written and every error comes back with its sheet, row and column
as the spreadsheet shows them ("Disponibilités!C7"). Otherwise every row goes through ``services.demand_set`` and
``services.availability_declare`` in one transaction. A row names what it sets: an empty quantity cell in it sets
zero (removes the demand or the declaration); rows absent from the file are left as they are. Columns are read by
position, so the header's words may be in any language; the day columns' headers must be dates of the week (or the
weekday's name, "lundi", "mardi"…, to reuse last week's table).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, GrenierError, InvalidInput
from grenier.supply.models import (
    Availability,
    Contract,
    ContractStatus,
    Demand,
    DemandSource,
    Kitchen,
    PlanLine,
    Producer,
    Product,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.quantities import parse_quantity, to_sales_units, unit_label
from grenier.supply.services import contract_lines_in_force

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from grenier.core.models import User

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


# --- export -------------------------------------------------------------------------------------------------------


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

    # Demande: one row per kitchen and product under contract (or with demand), one column per delivery day
    days = delivery_days(week)
    demand: dict[tuple[int, int], dict[date, int]] = {}
    for row in Demand.objects.filter(week=week).values("kitchen_id", "product_id", "day", "quantity"):
        demand.setdefault((row["kitchen_id"], row["product_id"]), {})[row["day"]] = int(row["quantity"])
    pairs = set(demand)
    for kitchen_id, product_ids in _week_products_by_kitchen(week).items():
        if kitchens[kitchen_id].is_active:
            pairs |= {(kitchen_id, product_id) for product_id in product_ids}
    sheet = book.active
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

    # Disponibilités: what each farm declared, and an empty row per product under contract for the others
    sheet = book.create_sheet(AVAILABILITY_SHEET)
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

    # Plan: the week's lines (read only)
    sheet = book.create_sheet(PLAN_SHEET)
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

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook_filename(week: SupplyWeek) -> str:
    return f"planning-{week.territory.slug}-{week.monday:%G-W%V}.xlsx"


# --- import -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellError:
    sheet: str
    row: int
    column: str  # letter, as the spreadsheet shows it
    message: str

    @property
    def cell(self) -> str:
        return f"{self.sheet}!{self.column}{self.row}"


class SheetRefused(InvalidInput):
    """The file was refused whole: ``problems`` lists every error found, in sheet and row order."""

    code = "sheet-refused"

    def __init__(self, problems: list[CellError]) -> None:
        errors: dict[str, list[str]] = {}
        for problem in problems:
            errors.setdefault(problem.cell, []).append(problem.message)
        super().__init__(
            _("The file was not imported: %(count)s errors. Nothing was changed.") % {"count": len(problems)},
            errors=errors,
            extra={"error_count": len(problems)},
        )
        self.problems = problems


class FileRefused(InvalidInput):
    """Not a workbook, too big, or without the expected sheets."""

    code = "file-refused"


@dataclass
class ImportResult:
    demand_rows: int = 0  # spreadsheet rows read
    availability_rows: int = 0
    demand_changed: int = 0  # cells that changed something
    availability_changed: int = 0
    sheets: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _DemandCell:
    kitchen: Kitchen
    product: Product
    day: date
    quantity: int
    where: CellError  # its place, for errors the services find


@dataclass(frozen=True)
class _AvailabilityRow:
    producer: Producer
    product: Product
    quantity: int
    minimum_lot: int
    where: CellError


def _letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class _Names:
    """Find a farm, kitchen or product by the name typed in a cell: exact first, then ignoring case and spaces."""

    def __init__(self, objects: dict[str, Any]) -> None:
        self.exact = objects
        self.folded = {" ".join(name.split()).casefold(): obj for name, obj in objects.items()}

    def get(self, name: str) -> Any:
        return self.exact.get(name) or self.folded.get(" ".join(name.split()).casefold())


class _Reader:
    def __init__(self, week: SupplyWeek) -> None:
        self.week = week
        territory = week.territory
        self.kitchens = _Names({k.name: k for k in Kitchen.objects.filter(territory=territory)})
        self.producers = _Names(
            {p.farm_name: p for p in Producer.objects.filter(territory=territory, on_platform=True)}
        )
        self.products = _Names({p.name: p for p in Product.objects.filter(territory=territory)})
        self.contract_days: dict[tuple[int, int], set[date]] = {}
        sunday = week.monday + timedelta(days=6)
        for line in (
            contract_lines_in_force(week.monday, sunday)
            .filter(contract__territory=territory)
            .select_related("contract")
        ):
            covered = {day for day in week.days if line.contract.covers(day)}
            self.contract_days.setdefault((line.contract.kitchen_id, line.product_id), set()).update(covered)
        self.problems: list[CellError] = []

    def error(self, sheet: str, row: int, column: int, message: str) -> CellError:
        problem = CellError(sheet, row, _letter(column), message)
        self.problems.append(problem)
        return problem

    def quantity(self, sheet: str, row: int, column: int, value: Any, product: Product) -> int | None:
        """A cell's quantity in base units; ``None`` (and an error recorded) if it is not a valid one."""
        if _blank(value):
            return 0
        if isinstance(value, bool | datetime | date):
            self.error(sheet, row, column, _("Not a quantity: type a number, e.g. 12,5."))
            return None
        if isinstance(value, float):
            value = Decimal(str(round(value, 6)))  # what was typed, without binary floating-point noise
        try:
            return parse_quantity(value, product)
        except InvalidInput as exc:
            self.error(sheet, row, column, exc.detail)
            return None

    def day(self, column: int, value: Any) -> date | None:
        """A day column's header: a date of the week, or a weekday's name."""
        day: date | None = None
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, date):
            day = value
        else:
            text = _text(value).casefold().rstrip(".")
            if text in WEEKDAY_NAMES:
                return self.week.monday + timedelta(days=WEEKDAY_NAMES[text])
            first = text.split()[-1] if text else ""  # "lun. 06/01/2025" → "06/01/2025"
            for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"):
                try:
                    day = datetime.strptime(first, pattern).date()  # noqa: DTZ007 - a calendar day, no time
                    break
                except ValueError:
                    continue
        if day is None:
            self.error(
                DEMAND_SHEET,
                1,
                column,
                _("A day column's header must be a date of the week, e.g. 12/01/2026."),
            )
            return None
        if day not in self.week.days:
            self.error(
                DEMAND_SHEET,
                1,
                column,
                _("%(day)s is not in the week of %(monday)s.")
                % {"day": f"{day:%d/%m/%Y}", "monday": f"{self.week.monday:%d/%m/%Y}"},
            )
            return None
        return day

    def demand(self, sheet: Worksheet) -> tuple[list[_DemandCell], int]:
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return [], 0
        days: dict[int, date] = {}
        seen_days: dict[date, int] = {}
        for column, value in enumerate(header, start=1):
            if column <= 3 or _blank(value):
                continue
            day = self.day(column, value)
            if day is None:
                continue
            if day in seen_days:
                self.error(DEMAND_SHEET, 1, column, _("This day already has a column."))
                continue
            seen_days[day] = column
            days[column] = day
        cells: list[_DemandCell] = []
        seen: dict[tuple[int, int], int] = {}
        count = 0
        for number, values in enumerate(rows, start=2):
            if all(_blank(v) for v in values):
                continue
            count += 1
            if count > MAX_ROWS:
                self.error(DEMAND_SHEET, number, 1, _("Too many rows: at most %(max)s.") % {"max": MAX_ROWS})
                break
            values = tuple(values) + (None,) * 3
            kitchen = self.kitchens.get(_text(values[0]))
            product = self.products.get(_text(values[1]))
            if kitchen is None:
                self.error(
                    DEMAND_SHEET, number, 1, _("Unknown kitchen: %(name)s.") % {"name": _text(values[0])}
                )
            if product is None:
                self.error(
                    DEMAND_SHEET, number, 2, _("Unknown product: %(name)s.") % {"name": _text(values[1])}
                )
            if kitchen is None or product is None:
                continue
            covered = self.contract_days.get((kitchen.pk, product.pk))
            if not covered:
                self.error(
                    DEMAND_SHEET,
                    number,
                    2,
                    _("%(product)s is not under an active contract of %(kitchen)s this week.")
                    % {"product": product.name, "kitchen": kitchen.name},
                )
                continue
            if (kitchen.pk, product.pk) in seen:
                self.error(
                    DEMAND_SHEET,
                    number,
                    2,
                    _("Same kitchen and product as row %(row)s.") % {"row": seen[kitchen.pk, product.pk]},
                )
                continue
            seen[kitchen.pk, product.pk] = number
            for column, day in days.items():
                value = values[column - 1] if column - 1 < len(values) else None
                quantity = self.quantity(DEMAND_SHEET, number, column, value, product)
                if quantity is None:
                    continue
                if quantity and day not in covered:
                    self.error(
                        DEMAND_SHEET,
                        number,
                        column,
                        _("The contract does not cover %(day)s.") % {"day": f"{day:%d/%m/%Y}"},
                    )
                    continue
                where = CellError(DEMAND_SHEET, number, _letter(column), "")
                cells.append(_DemandCell(kitchen, product, day, quantity, where))
        return cells, count

    def availability(self, sheet: Worksheet) -> tuple[list[_AvailabilityRow], int]:
        rows = sheet.iter_rows(values_only=True)
        if next(rows, None) is None:
            return [], 0
        result: list[_AvailabilityRow] = []
        seen: dict[tuple[int, int], int] = {}
        count = 0
        for number, values in enumerate(rows, start=2):
            if all(_blank(v) for v in values):
                continue
            count += 1
            if count > MAX_ROWS:
                self.error(
                    AVAILABILITY_SHEET, number, 1, _("Too many rows: at most %(max)s.") % {"max": MAX_ROWS}
                )
                break
            values = tuple(values) + (None,) * 5
            producer = self.producers.get(_text(values[0]))
            product = self.products.get(_text(values[1]))
            if producer is None:
                self.error(
                    AVAILABILITY_SHEET, number, 1, _("Unknown farm: %(name)s.") % {"name": _text(values[0])}
                )
            elif producer.left_on is not None and producer.left_on <= self.week.monday:
                self.error(AVAILABILITY_SHEET, number, 1, _("This farm has left the group."))
                producer = None
            if product is None:
                self.error(
                    AVAILABILITY_SHEET,
                    number,
                    2,
                    _("Unknown product: %(name)s.") % {"name": _text(values[1])},
                )
            if producer is None or product is None:
                continue
            if (producer.pk, product.pk) in seen:
                self.error(
                    AVAILABILITY_SHEET,
                    number,
                    2,
                    _("Same farm and product as row %(row)s.") % {"row": seen[producer.pk, product.pk]},
                )
                continue
            seen[producer.pk, product.pk] = number
            quantity = self.quantity(AVAILABILITY_SHEET, number, 4, values[3], product)
            minimum_lot = self.quantity(AVAILABILITY_SHEET, number, 5, values[4], product)
            if quantity is None or minimum_lot is None:
                continue
            if minimum_lot > quantity:
                self.error(AVAILABILITY_SHEET, number, 5, _("The minimum lot is more than the quantity."))
                continue
            if quantity and not product.is_active:
                self.error(AVAILABILITY_SHEET, number, 2, _("This product is no longer sold."))
                continue
            where = CellError(AVAILABILITY_SHEET, number, "D", "")
            result.append(_AvailabilityRow(producer, product, quantity, minimum_lot, where))
        return result, count


def open_workbook(data: bytes) -> Any:
    """The workbook in ``data``, or ``FileRefused`` if it is too big or not an XLSX file."""
    from openpyxl import load_workbook

    if len(data) > MAX_UPLOAD_BYTES:
        raise FileRefused(
            _("The file is too big (at most %(mb)s MB).") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            errors={"file": [_("Too big.")]},
        )
    if not data.startswith(b"PK\x03\x04"):
        raise FileRefused(
            _("This is not an XLSX workbook: save the table as Excel (.xlsx) and try again."),
            errors={"file": [_("Not an XLSX file.")]},
        )
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise FileRefused(
            _("This is not an XLSX workbook: save the table as Excel (.xlsx) and try again."),
            errors={"file": [_("Not an XLSX file.")]},
        ) from exc
    except Exception as exc:  # openpyxl raises its own InvalidFileException and others on a broken file
        raise FileRefused(
            _("This workbook cannot be read: save it again as Excel (.xlsx) and retry."),
            errors={"file": [_("Unreadable workbook.")]},
        ) from exc


def _sheet(book: Any, name: str) -> Worksheet | None:
    for title in book.sheetnames:
        if title.strip().casefold() == name.casefold():
            return book[title]
    return None


def week_import(*, week: SupplyWeek, data: bytes, actor: User | None) -> ImportResult:
    """Check the whole table, then write it in one transaction: all or nothing (see the module's docstring)."""
    from grenier.supply import services

    if week.status == WeekStatus.PUBLISHED:
        raise Conflict(_("The plan of this week is published: the table can no longer be imported."))
    book = open_workbook(data)
    try:
        demand_sheet = _sheet(book, DEMAND_SHEET)
        availability_sheet = _sheet(book, AVAILABILITY_SHEET)
        if demand_sheet is None and availability_sheet is None:
            raise FileRefused(
                _('The workbook has neither a "%(demand)s" nor a "%(availability)s" sheet.')
                % {"demand": DEMAND_SHEET, "availability": AVAILABILITY_SHEET},
                errors={"file": [_("Missing sheets.")]},
            )
        reader = _Reader(week)
        result = ImportResult()
        demand_cells: list[_DemandCell] = []
        availability_rows: list[_AvailabilityRow] = []
        if demand_sheet is not None:
            demand_cells, result.demand_rows = reader.demand(demand_sheet)
            result.sheets.append(DEMAND_SHEET)
        if availability_sheet is not None:
            availability_rows, result.availability_rows = reader.availability(availability_sheet)
            result.sheets.append(AVAILABILITY_SHEET)
    finally:
        book.close()
    if reader.problems:
        raise SheetRefused(reader.problems)

    current_demand = {
        (d.kitchen_id, d.product_id, d.day): int(d.quantity) for d in Demand.objects.filter(week=week)
    }
    current_availability = {
        (a.producer_id, a.product_id): (int(a.quantity), int(a.minimum_lot))
        for a in Availability.objects.filter(week=week)
    }
    problems: list[CellError] = []
    with transaction.atomic():
        for cell in demand_cells:
            if current_demand.get((cell.kitchen.pk, cell.product.pk, cell.day), 0) == cell.quantity:
                continue
            try:
                services.demand_set(
                    week=week,
                    kitchen=cell.kitchen,
                    product=cell.product,
                    day=cell.day,
                    quantity=cell.quantity,
                    actor=actor,
                    source=DemandSource.IMPORT,
                )
            except Conflict:
                raise
            except GrenierError as exc:
                problems.append(CellError(cell.where.sheet, cell.where.row, cell.where.column, exc.detail))
            else:
                result.demand_changed += 1
        for row in availability_rows:
            before = current_availability.get((row.producer.pk, row.product.pk), (0, 0))
            wanted = (row.quantity, row.minimum_lot if row.quantity else 0)
            if before == wanted:
                continue
            try:
                services.availability_declare(
                    week=week,
                    producer=row.producer,
                    product=row.product,
                    quantity=row.quantity,
                    minimum_lot=wanted[1],
                    actor=actor,
                )
            except Conflict:
                raise
            except GrenierError as exc:
                problems.append(CellError(row.where.sheet, row.where.row, row.where.column, exc.detail))
            else:
                result.availability_changed += 1
        if problems:
            raise SheetRefused(problems)  # leaves the transaction: nothing written
    return result
