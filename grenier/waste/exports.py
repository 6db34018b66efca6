"""A campaign's weighings as CSV and XLSX (openpyxl), its report as a PDF a kitchen hands to its board (ReportLab,
A4), and its figures in the form of ma-cantine's waste measurement (« évaluation du gaspillage alimentaire »)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from fractions import Fraction

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from grenier.waste import figures, references
from grenier.waste.models import Campaign, MealService, WasteKind

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def kilograms(grams: int) -> Decimal:
    """Grams as kilograms, exactly (three decimals)."""
    return Decimal(grams) / 1000


def tenths(value: Fraction | None) -> Decimal | None:
    """A figure rounded once to a tenth, halves up, as a number a spreadsheet reads."""
    if value is None:
        return None
    digits, places = figures.round_half_up(value, 1)
    return Decimal(digits).scaleb(-places)


def _header() -> list[str]:
    return [
        _("Day"),
        _("Service"),
        _("Meals served"),
        *(f"{WasteKind(kind).label} (kg)" for kind in figures.KINDS),
        _("Total (kg)"),
        _("Grams per meal"),
        _("Note"),
    ]


def weighing_rows(campaign: Campaign) -> Iterator[list[object]]:
    for weighing in campaign.weighings.all():
        yield [
            weighing.day,
            str(MealService(weighing.service).label),
            weighing.meals,
            *(kilograms(grams) for grams in weighing.grams().values()),
            kilograms(weighing.total_g),
            tenths(Fraction(weighing.total_g, weighing.meals)),
            weighing.note,
        ]


def weighings_csv(campaign: Campaign) -> str:
    """One row per weighing, semicolon-separated with decimal commas, as a French spreadsheet opens it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(_header())
    for row in weighing_rows(campaign):
        writer.writerow(
            [
                value.strftime("%d/%m/%Y")
                if hasattr(value, "strftime")
                else str(value).replace(".", ",")
                if isinstance(value, Decimal)
                else value
                for value in row
            ]
        )
    return out.getvalue()


def weighings_xlsx(campaign: Campaign) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Weighings")[:31]
    sheet.append(_header())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in weighing_rows(campaign):
        sheet.append(row)
        sheet.cell(row=sheet.max_row, column=1).number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJ", (12, 12, 10, 14, 14, 14, 10, 10, 12, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- ma-cantine ------------------------------------------------------------------------------------------------------

# ma-cantine's waste measurement (its ``WasteMeasurement``, « évaluation du gaspillage alimentaire ») as its API names
# the fields: the period, the meals over it and the masses in kilograms, in total and by source. Bread left on the
# tables counts with the plates' leftovers (``leftovers``, « restes assiette »): ma-cantine has no bread of its own.
MA_CANTINE_WASTE_COLUMNS = (
    "canteen_siret",
    "period_start_date",
    "period_end_date",
    "meal_count",
    "total_mass",
    "is_sorted_by_source",
    "preparation_total_mass",
    "unserved_total_mass",
    "leftovers_total_mass",
)


def ma_cantine_waste_row(campaign: Campaign) -> dict[str, str]:
    found = figures.totals(campaign.weighings.all())
    grams = found.grams
    return dict(
        zip(
            MA_CANTINE_WASTE_COLUMNS,
            (
                campaign.kitchen.siret,
                campaign.starts_on.isoformat(),
                campaign.ends_on.isoformat(),
                str(found.meals),
                str(kilograms(found.total_g)),
                "true",
                str(kilograms(grams["preparation"])),
                str(kilograms(grams["unserved"])),
                str(kilograms(grams["plate"] + grams["bread"])),
            ),
            strict=True,
        )
    )


def ma_cantine_csv(campaigns: Iterable[Campaign]) -> str:
    """Each campaign as one waste measurement: UTF-8, comma separated, decimal points, ma-cantine's field names."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=MA_CANTINE_WASTE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for campaign in campaigns:
        writer.writerow(ma_cantine_waste_row(campaign))
    return out.getvalue()


# --- the report ------------------------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    """The PDF's standard fonts have no narrow no-break space nor minus sign."""
    return text.replace("\u202f", " ").replace("\u00a0", " ").replace("\u2212", "-")


def _escape(text: str) -> str:
    return _plain(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def campaign_pdf(campaign: Campaign) -> bytes:
    """The campaign's report: what was weighed, grams per meal by kind and by service, the change since the campaign
    before, the national figures with their sources, and every weighing."""
    with translation.override(translation.get_language() or "fr"):
        sheet = getSampleStyleSheet()
        found = figures.totals(campaign.weighings.all())
        story = _pdf_heading(campaign, found, sheet)
        story += _pdf_per_meal(campaign, found, sheet)
        story += _pdf_comparison(campaign, sheet)
        story += _pdf_national(sheet)
        story += _pdf_weighings(campaign, sheet)
        out = io.BytesIO()
        document = SimpleDocTemplate(
            out,
            pagesize=A4,
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
            title=_plain(campaign.name),
        )
        document.build(story)
    return out.getvalue()


def _pdf_heading(campaign: Campaign, found: figures.Totals, sheet: StyleSheet1) -> list[Flowable]:
    """The title, the kitchen and the dates, and the action the campaign follows."""
    story: list[Flowable] = [
        Paragraph(_escape(_("Food waste weighing: %(name)s") % {"name": campaign.name}), sheet["Title"]),
        Paragraph(
            _escape(
                _("%(kitchen)s, from %(first)s to %(last)s, %(count)s services weighed, %(meals)s meals.")
                % {
                    "kitchen": campaign.kitchen.name,
                    "first": campaign.starts_on.strftime("%d/%m/%Y"),
                    "last": campaign.ends_on.strftime("%d/%m/%Y"),
                    "count": found.weighings,
                    "meals": found.meals,
                }
            ),
            sheet["Normal"],
        ),
    ]
    if campaign.action:
        story.append(
            Paragraph(_escape(_("The action: %(action)s") % {"action": campaign.action}), sheet["Normal"])
        )
    return story


def _pdf_per_meal(campaign: Campaign, found: figures.Totals, sheet: StyleSheet1) -> list[Flowable]:
    """Grams per meal by kind, the total, then by service."""
    rows = [[_("Kind"), _("Weighed"), _("Per meal")]]
    for _kind, label, grams, per_meal in found.kinds():
        rows.append([label, figures.kilograms_text(grams), figures.grams_per_meal_text(per_meal)])
    rows.append(
        [_("Total"), figures.kilograms_text(found.total_g), figures.grams_per_meal_text(found.per_meal())]
    )
    for _service, label, totals in figures.by_service(campaign):
        rows.append(
            [label, figures.kilograms_text(totals.total_g), figures.grams_per_meal_text(totals.per_meal())]
        )
    return [
        Spacer(1, 4 * mm),
        Paragraph(_escape(_("Grams per meal")), sheet["Heading2"]),
        _table(rows, bold_rows=(len(found.kinds()) + 1,)),
    ]


def _pdf_comparison(campaign: Campaign, sheet: StyleSheet1) -> list[Flowable]:
    """The change since the campaign this one is compared with, when both are complete."""
    comparison = figures.comparison(campaign)
    if comparison is None or not comparison.complete or campaign.compares_with is None:
        return []
    text = _(
        "%(before)s per meal before, %(after)s after: %(change)s (%(share)s), that is "
        "%(year)s a year at %(meals)s meals a day, %(days)s days a year."
    ) % {
        "before": figures.grams_per_meal_text(comparison.before.per_meal()),
        "after": figures.grams_per_meal_text(comparison.after.per_meal()),
        "change": figures.grams_per_meal_text(comparison.change_per_meal()),
        "share": figures.percent_text(comparison.change_share()),
        "year": figures.kilograms_text(comparison.change_a_year_g(), 0),
        "meals": campaign.kitchen.meals_per_day,
        "days": comparison.days_a_year,
    }
    return [
        Spacer(1, 4 * mm),
        Paragraph(
            _escape(_("Since %(before)s") % {"before": campaign.compares_with.name}), sheet["Heading2"]
        ),
        Paragraph(_escape(text), sheet["Normal"]),
    ]


def _pdf_national(sheet: StyleSheet1) -> list[Flowable]:
    """The national figures with their sources, and the law's target."""
    story: list[Flowable] = [Spacer(1, 4 * mm), Paragraph(_escape(_("National figures")), sheet["Heading2"])]
    for reference in references.REFERENCES:
        figure = (
            _("%(low)s to %(high)s g") % {"low": reference.low_g, "high": reference.high_g}
            if reference.is_range
            else f"{reference.low_g} g"
        )
        story.append(
            Paragraph(
                f"<b>{_escape(figure)}</b> {_escape(_('per meal: %(label)s.') % {'label': reference.label})} "
                f"<i>{_escape(reference.source)}</i>",
                sheet["Normal"],
            )
        )
    story.append(Paragraph(_escape(str(references.TARGET)), sheet["Normal"]))
    return story


def _pdf_weighings(campaign: Campaign, sheet: StyleSheet1) -> list[Flowable]:
    """Every weighing: day, service, meals, total and grams per meal."""
    weighed = [[_("Day"), _("Service"), _("Meals"), _("Total"), _("Per meal")]]
    for weighing in campaign.weighings.all():
        weighed.append(
            [
                weighing.day.strftime("%d/%m/%Y"),
                str(MealService(weighing.service).label),
                str(weighing.meals),
                figures.kilograms_text(weighing.total_g),
                figures.grams_per_meal_text(Fraction(weighing.total_g, weighing.meals)),
            ]
        )
    return [Spacer(1, 4 * mm), Paragraph(_escape(_("Weighings")), sheet["Heading2"]), _table(weighed)]


def _table(rows: list[list[str]], bold_rows: tuple[int, ...] = ()) -> Table:
    cells = [[_plain(str(cell)) for cell in row] for row in rows]
    commands: list[tuple[object, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6f0e8")),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
    ]
    commands += [("FONTNAME", (0, row), (-1, row), "Helvetica-Bold") for row in bold_rows]
    made = Table(cells, repeatRows=1, hAlign="LEFT")
    made.setStyle(TableStyle(commands))
    return made
