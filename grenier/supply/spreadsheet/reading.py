"""A workbook read back: checked whole first, refused whole with each error's sheet, row and column, then saved
through the services."""

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
    Demand,
    DemandSource,
    Kitchen,
    Producer,
    Product,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.quantities import parse_quantity
from grenier.supply.services import contract_lines_in_force

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from grenier.core.models import User
from grenier.supply.spreadsheet.sheets import (
    AVAILABILITY_SHEET,
    DEMAND_SHEET,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    WEEKDAY_NAMES,
)


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
    result, demand_cells, availability_rows = _read_book(week, data)

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


def _read_book(
    week: SupplyWeek, data: bytes
) -> tuple[ImportResult, list[_DemandCell], list[_AvailabilityRow]]:
    """The workbook's demand cells and availability rows, every one checked; refused whole (``SheetRefused``,
    each error's sheet, row and column) if any is wrong."""
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
    return result, demand_cells, availability_rows
