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

from grenier.supply.spreadsheet.reading import (
    CellError,
    FileRefused,
    ImportResult,
    SheetRefused,
    open_workbook,
    week_import,
)
from grenier.supply.spreadsheet.sheets import (
    AVAILABILITY_SHEET,
    DAY_ABBREVIATIONS,
    DEMAND_SHEET,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    PLAN_SHEET,
    WEEKDAY_NAMES,
    XLSX_CONTENT_TYPE,
    delivery_days,
)
from grenier.supply.spreadsheet.writing import week_workbook, workbook_filename

__all__ = [
    "AVAILABILITY_SHEET",
    "DAY_ABBREVIATIONS",
    "DEMAND_SHEET",
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "PLAN_SHEET",
    "WEEKDAY_NAMES",
    "XLSX_CONTENT_TYPE",
    "CellError",
    "FileRefused",
    "ImportResult",
    "SheetRefused",
    "delivery_days",
    "open_workbook",
    "week_import",
    "week_workbook",
    "workbook_filename",
]
