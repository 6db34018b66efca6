"""The indicators as files: CSV, JSON, XLSX (openpyxl, as the supply and waste exports), and the open-data package
— a Frictionless data package (``datapackage.json``: its table schemas, and two CSV files: the figures and the
definitions) that a researcher opens in a spreadsheet, small counts always hidden.

One row per indicator and per line of its breakdown; the value in the unit its row names (euros with cents for
money), empty when the figure is not measured or hidden, with the status saying which. No row carries a person.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from grenier.core.models import Territory
from grenier.reports import selectors
from grenier.reports.disclosure import THRESHOLD, Figure, Status
from grenier.reports.registry import Indicator, Number, Period, Unit

COLUMNS = ("territory", "period", "theme", "indicator", "part", "name", "unit", "value", "status")

# The unit a file names: money in euros (the registry counts cents).
FILE_UNITS = {Unit.CENTS: "EUR"}


@dataclass(frozen=True)
class Line:
    territory: str
    period: str
    theme: str
    indicator: str
    part: str
    name: str
    unit: str
    value: Number | None
    status: str

    def cells(self) -> list[Any]:
        return [getattr(self, column) for column in COLUMNS]


def _value(value: Number | None, unit: Unit) -> Number | None:
    if value is None:
        return None
    if unit == Unit.CENTS:
        return (Decimal(value) / 100).quantize(Decimal("0.01"))
    return value


def lines(territory: Territory, period: Period, *, exact: bool) -> list[Line]:
    """Every indicator of ``territory`` over ``period`` and its breakdown, as one list of lines."""
    found: list[Line] = []
    for indicator, figure in selectors.figures(territory, period, exact=exact):
        found.extend(_lines_of(territory, period, indicator, figure))
    return found


def _lines_of(territory: Territory, period: Period, indicator: Indicator, figure: Figure) -> list[Line]:
    def line(part: str, name: str, unit: Unit, value: Number | None, status: Status) -> Line:
        return Line(
            territory.slug,
            period.key,
            indicator.theme.value,
            indicator.code,
            part,
            name,
            FILE_UNITS.get(unit, unit.value),
            _value(value, unit),
            status.value,
        )

    result = [line("", indicator.name, indicator.unit, figure.value, figure.status)]
    result += [line(p.key, p.label, p.unit, p.value, p.status) for p in figure.parts]
    return result


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in {"=", "+", "@"} or (text[:1] == "-" and not _numeric(text)) else text


def _numeric(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def csv_text(found: list[Line]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in found:
        writer.writerow([_cell(value) for value in row.cells()])
    return out.getvalue()


def json_data(found: list[Line]) -> list[dict[str, Any]]:
    return [
        {
            column: (float(value) if isinstance(value, Decimal) else value)
            for column, value in zip(COLUMNS, row.cells(), strict=True)
        }
        for row in found
    ]


def json_text(found: list[Line]) -> str:
    return json.dumps(json_data(found), ensure_ascii=False, indent=2) + "\n"


def xlsx_bytes(found: list[Line], definitions: list[Indicator]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = "indicators"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in found:
        sheet.append(
            [
                float(v) if isinstance(v, Decimal) else _cell(v) if isinstance(v, str) else v
                for v in row.cells()
            ]
        )
    about = book.create_sheet("definitions")
    about.append(list(DEFINITION_COLUMNS))
    for cell in about[1]:
        cell.font = Font(bold=True)
    for indicator in definitions:
        about.append([_cell(v) for v in _definition_cells(indicator)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


DEFINITION_COLUMNS = ("indicator", "theme", "name", "unit", "definition")


def _definition_cells(indicator: Indicator) -> list[str]:
    unit = FILE_UNITS.get(indicator.unit, indicator.unit.value)
    return [indicator.code, indicator.theme.value, indicator.name, unit, indicator.definition]


def definitions_csv(definitions: list[Indicator]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DEFINITION_COLUMNS)
    for indicator in definitions:
        writer.writerow([_cell(v) for v in _definition_cells(indicator)])
    return out.getvalue()


def datapackage(territory: Territory, period: Period) -> dict[str, Any]:
    """The package's descriptor: what it is, its licence, and each file's table schema."""
    status_values = [status.value for status in Status]
    return {
        "profile": "tabular-data-package",
        "name": f"grenier-indicators-{territory.slug}-{period.key}",
        "title": f"Grenier — indicators of {territory.name}, {period.key}",
        "description": (
            "The food-access and cooperation indicators of one territory over one period, computed by Grenier "
            "from its modules. No personal data: counts of households or persons between 1 and "
            f"{THRESHOLD - 1} are hidden (value empty, status 'hidden'), and so is the next smallest line of a "
            "breakdown where one is hidden. A figure a module could not measure has the status 'not_measured'."
        ),
        "licenses": [
            {
                "name": "ODbL-1.0",
                "path": "https://opendatacommons.org/licenses/odbl/1-0/",
                "title": "Open Data Commons Open Database License 1.0",
            }
        ],
        "resources": [
            {
                "name": "indicators",
                "path": "indicators.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [
                        {"name": "territory", "type": "string", "description": "The territory's short name."},
                        {
                            "name": "period",
                            "type": "string",
                            "description": "A year (2026) or a month (2026-03).",
                        },
                        {"name": "theme", "type": "string"},
                        {
                            "name": "indicator",
                            "type": "string",
                            "description": "The indicator's code (see definitions.csv).",
                        },
                        {
                            "name": "part",
                            "type": "string",
                            "description": "Empty for the indicator itself, else the line of its breakdown.",
                        },
                        {"name": "name", "type": "string"},
                        {"name": "unit", "type": "string", "description": "EUR, percent, households, kg..."},
                        {
                            "name": "value",
                            "type": "number",
                            "description": "Empty when hidden or not measured.",
                        },
                        {"name": "status", "type": "string", "constraints": {"enum": status_values}},
                    ],
                    "primaryKey": ["territory", "period", "indicator", "part"],
                    "missingValues": [""],
                },
            },
            {
                "name": "definitions",
                "path": "definitions.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [{"name": name, "type": "string"} for name in DEFINITION_COLUMNS],
                    "primaryKey": ["indicator"],
                },
            },
        ],
    }


def open_data_files(territory: Territory, period: Period, definitions: list[Indicator]) -> dict[str, str]:
    """The package's files by name; small counts always hidden, whoever asks."""
    return {
        "datapackage.json": json.dumps(datapackage(territory, period), ensure_ascii=False, indent=2) + "\n",
        "indicators.csv": csv_text(lines(territory, period, exact=False)),
        "definitions.csv": definitions_csv(definitions),
    }


def open_data_zip(territory: Territory, period: Period, definitions: list[Indicator]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in open_data_files(territory, period, definitions).items():
            archive.writestr(name, text)
    return out.getvalue()
