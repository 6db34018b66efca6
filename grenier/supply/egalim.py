"""EGalim shares of a kitchen, and its purchases in the columns of ma-cantine's purchase import.

The EGalim law (loi n° 2018-938, art. L230-5-1 of the Code rural) asks collective kitchens to buy, in value before
tax, at least 50 % of "sustainable and quality" products, of which at least 20 % organic. Here a kitchen's purchases
are what it was invoiced by the platform: the lines of its invoices, credit notes subtracting (their lines carry
negative amounts). A line counts for the period of its delivery ``day`` (a credit note correcting a December
delivery lowers December). Its labels are the ones frozen on the line at invoicing (the product's and the farm's):
``BIO`` counts for the organic share; any EGalim label, organic included, for the quality share.

ma-cantine's import (the 2026 "achats" table imported by SIRET, ``data/schemas/imports/achats_siret_2026.json`` in
github.com/betagouv/ma-cantine, read through its import view ``PurchasesImportView._get_caracteristiques``):

* ``categories_egalim``: several values separated by a comma (``"doc_enum_multiple_seperator": ","``, example
  ``"BIO,IGP"``), from BIO, LABEL_ROUGE, AOCAOP, IGP, STG, HVE, PECHE_DURABLE, RUP, COMMERCE_EQUITABLE, FERMIER,
  EXTERNALITES, PERFORMANCE — a comma, not "+";
* ``origine``: one of ``FRANCE`` or ``EUROPE`` (Europe outside France); no region;
* ``est_circuit_court`` / ``est_local``: booleans whose ``trueValues`` are ``OUI``, ``oui``, ``x`` and
  ``falseValues`` ``non``, ``NON`` or empty. We write ``x`` and an empty cell: ma-cantine keeps
  ``definition_local`` only when ``est_local`` is exactly ``x``;
* ``definition_local`` (an 11th column after ``est_local``): required when the purchase is local, one of
  AUTOUR_SERVICE, DEPARTEMENT, REGION, PAT, AUTRE. We write ``AUTOUR_SERVICE`` (within ``LOCAL_RADIUS_KM`` of the
  kitchen) on local lines;
* ``prix_ht``: a number with a dot as decimal separator ("Utiliser le point comme séparateur décimal").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from django.db.models import Case, Count, IntegerField, QuerySet, Sum, Value, When
from django.utils.translation import gettext as _

from grenier.core import permissions
from grenier.core.errors import Forbidden
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.supply import access
from grenier.supply.models import Distance, EgalimLabel, InvoiceLine, Kitchen, Producer, ProductFamily
from grenier.supply.optimiser import Location
from grenier.supply.quantities import format_quantity

if TYPE_CHECKING:
    from grenier.core.permissions import AnyUser

# The law's targets, in percent of purchases before tax (art. L230-5-1 of the Code rural, in force since 2022).
ORGANIC_TARGET_PERCENT = 20
QUALITY_TARGET_PERCENT = 50  # organic included

# A farm is "local" for a kitchen when within this many km: the road distance when recorded (``Distance``), else
# the great-circle distance between their coordinates; unknown coordinates are not local. 100 km is the radius
# most collective-catering local-sourcing charters use; ma-cantine leaves the definition to the kitchen.
LOCAL_RADIUS_KM = 100

# Through the platform a kitchen buys from the growers with one intermediary, the growers' own platform: a short
# supply chain ("circuit court": at most one intermediary between producer and buyer).
CIRCUIT_COURT = True

MA_CANTINE_COLUMNS = (
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
)
MA_CANTINE_TRUE = "x"
MA_CANTINE_FALSE = ""
MA_CANTINE_ORIGIN = "FRANCE"  # every farm of the group is in France
MA_CANTINE_LOCAL_DEFINITION = "AUTOUR_SERVICE"

# Our labels → ma-cantine's values. ma-cantine separates AOC/AOP, IGP and STG; our model holds them as one sign
# of quality of origin, written as AOCAOP (the quality share is the same whichever of the three it is).
MA_CANTINE_LABELS = {
    EgalimLabel.BIO: "BIO",
    EgalimLabel.LABEL_ROUGE: "LABEL_ROUGE",
    EgalimLabel.AOCAOP_IGP_STG: "AOCAOP",
    EgalimLabel.HVE: "HVE",
    EgalimLabel.FERMIER: "FERMIER",
    EgalimLabel.EXTERNALITES: "EXTERNALITES",
    EgalimLabel.PERFORMANCE: "PERFORMANCE",
    EgalimLabel.COMMERCE_EQUITABLE: "COMMERCE_EQUITABLE",
}


# --- shares ------------------------------------------------------------------------------------------------------


# Read once: ``EgalimLabel.values`` builds its list again on every call (most of an EGalim page's time when it was
# asked for each label of each of a year's invoice lines).
QUALITY_LABELS = frozenset(EgalimLabel.values)


def is_organic(labels: Iterable[str]) -> bool:
    return EgalimLabel.BIO.value in set(labels or [])


def is_quality(labels: Iterable[str]) -> bool:
    return not QUALITY_LABELS.isdisjoint(labels or [])


def _percent(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Spend:
    """Spend before tax in cents: everything, organic, quality (organic included)."""

    total_cents: int = 0
    organic_cents: int = 0
    quality_cents: int = 0

    def add(self, amount_cents: int, labels: Iterable[str]) -> None:
        labels = list(labels or [])
        self.total_cents += amount_cents
        if is_organic(labels):
            self.organic_cents += amount_cents
        if is_quality(labels):
            self.quality_cents += amount_cents

    @property
    def organic_share(self) -> Fraction | None:
        """Exact share of organic (0..1), ``None`` when nothing was bought."""
        return Fraction(self.organic_cents, self.total_cents) if self.total_cents > 0 else None

    @property
    def quality_share(self) -> Fraction | None:
        return Fraction(self.quality_cents, self.total_cents) if self.total_cents > 0 else None

    @property
    def organic_percent(self) -> Decimal | None:
        """Rounded half up to one decimal, for display."""
        return _percent(self.organic_cents, self.total_cents)

    @property
    def quality_percent(self) -> Decimal | None:
        return _percent(self.quality_cents, self.total_cents)

    @property
    def organic_met(self) -> bool:
        share = self.organic_share
        return share is not None and share >= Fraction(ORGANIC_TARGET_PERCENT, 100)

    @property
    def quality_met(self) -> bool:
        share = self.quality_share
        return share is not None and share >= Fraction(QUALITY_TARGET_PERCENT, 100)


@dataclass
class KitchenShares:
    kitchen: Kitchen
    start: date
    end: date
    spend: Spend = field(default_factory=Spend)
    by_family: dict[str, Spend] = field(default_factory=dict)  # ProductFamily value → spend, by name order
    by_month: dict[date, Spend] = field(default_factory=dict)  # first day of month → spend, in order
    lines: int = 0

    @property
    def families(self) -> list[tuple[str, Spend]]:
        labels = dict(ProductFamily.choices)
        return sorted(
            ((str(labels.get(family, family)), spend) for family, spend in self.by_family.items()),
            key=lambda row: row[0],
        )

    @property
    def months(self) -> list[tuple[date, Spend]]:
        return sorted(self.by_month.items())


def year_period(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def purchase_lines(kitchen: Kitchen, start: date, end: date) -> QuerySet[InvoiceLine]:
    """The lines of the platform's invoices and credit notes to ``kitchen`` delivered from ``start`` to ``end``
    (a farm's own statements, which also name the kitchen on their lines, are not purchases of the kitchen)."""
    return InvoiceLine.objects.filter(
        invoice__kitchen=kitchen,
        invoice__producer__isnull=True,
        invoice__territory_id=kitchen.territory_id,
        day__gte=start,
        day__lte=end,
    )


def kitchen_shares(kitchen: Kitchen, start: date, end: date) -> KitchenShares:
    return territory_shares([kitchen], start, end)[0]


def _month_starts(start: date, end: date) -> list[date]:
    """The first day of each month from ``start``'s to ``end``'s."""
    months = [start.replace(day=1)]
    while months[-1] < end.replace(day=1):
        last = months[-1]
        months.append(date(last.year + last.month // 12, last.month % 12 + 1, 1))
    return months


def territory_shares(kitchens: Iterable[Kitchen], start: date, end: date) -> list[KitchenShares]:
    """Each kitchen's shares (as :func:`purchase_lines` selects its lines), in the order given: one query for them
    all, the lines added up by the database per kitchen, labels, family and month of delivery (a few dozen groups a
    kitchen for a year, whatever the number of lines); the labels of each group are then read once."""
    kitchens = list(kitchens)
    results = [KitchenShares(kitchen=kitchen, start=start, end=end) for kitchen in kitchens]
    if not kitchens:
        return results
    by_kitchen: dict[tuple[int, int], list[KitchenShares]] = {}
    for kitchen, result in zip(kitchens, results, strict=True):
        by_kitchen.setdefault((kitchen.pk, kitchen.territory_id), []).append(result)
    months = _month_starts(start, end)
    # the month of delivery as an index into ``months``, by comparisons the database makes without a function
    month_index = Case(
        *[When(day__lt=month, then=Value(index - 1)) for index, month in enumerate(months[1:], start=1)],
        default=Value(len(months) - 1),
        output_field=IntegerField(),
    )
    groups = (
        InvoiceLine.objects.filter(
            invoice__kitchen__in=[k.pk for k in kitchens],
            invoice__producer__isnull=True,
            day__gte=start,
            day__lte=end,
        )
        .order_by()
        .values("invoice__kitchen_id", "invoice__territory_id", "egalim_labels", "product__family")
        .annotate(month=month_index, cents=Sum("amount_cents"), lines=Count("id"))
        .values_list(
            "invoice__kitchen_id",
            "invoice__territory_id",
            "egalim_labels",
            "product__family",
            "month",
            "cents",
            "lines",
        )
    )
    for kitchen_id, territory_id, labels, family, month, cents, lines in groups:
        amount = int(cents or 0)
        # an invoice of another territory naming the kitchen is not its purchase: in no one's list
        for result in by_kitchen.get((kitchen_id, territory_id), []):
            result.lines += int(lines)
            result.spend.add(amount, labels)
            result.by_family.setdefault(family, Spend()).add(amount, labels)
            result.by_month.setdefault(months[month], Spend()).add(amount, labels)
    return results


# --- who sees what -----------------------------------------------------------------------------------------------


def may_see_egalim(user: AnyUser, territory: Territory) -> bool:
    return permissions.can(user, territory, Action.SUPPLY_FIGURES) or permissions.can(
        user, territory, Action.SUPPLY_KITCHEN
    )


def kitchens_visible(user: AnyUser, territory: Territory) -> QuerySet[Kitchen]:
    """Whose shares ``user`` may read: every kitchen for the figures' readers (coordinator, committee, funder),
    else the kitchens one manages."""
    if permissions.can(user, territory, Action.SUPPLY_FIGURES):
        return Kitchen.objects.filter(territory=territory)
    return access.kitchens_of(user, territory)


def kitchen_for_export(user: AnyUser, territory: Territory, kitchen_id: int) -> Kitchen:
    """The purchase lines are a kitchen's own business: its managers and the platform's coordinators may export
    them. Readers of aggregated figures only (committee, funder) are refused; anyone else is told "not found"."""
    kitchen = access.kitchens_of(user, territory).filter(pk=kitchen_id).first()
    if kitchen is not None:
        return kitchen
    if (
        permissions.can(user, territory, Action.SUPPLY_FIGURES)
        and Kitchen.objects.filter(territory=territory, pk=kitchen_id).exists()
    ):
        raise Forbidden(_("Only the kitchen's managers and the coordinators may export its purchases."))
    return access.kitchen_for(user, territory, kitchen_id)  # raises NotFound


# --- the ma-cantine export ---------------------------------------------------------------------------------------


def _location(obj: Kitchen | Producer) -> Location | None:
    if obj.latitude is None or obj.longitude is None:
        return None
    return Location(float(obj.latitude), float(obj.longitude))


class LocalCheck:
    """Is a farm within ``LOCAL_RADIUS_KM`` of a kitchen? Recorded road distances first, great circle otherwise."""

    def __init__(self, kitchen: Kitchen, km: dict[int, float] | None = None) -> None:
        """``km``: the kitchen's recorded road distances by farm, when already read (else read here)."""
        self.kitchen = kitchen
        self.km = (
            km
            if km is not None
            else {
                producer_id: float(distance)
                for producer_id, distance in Distance.objects.filter(kitchen=kitchen).values_list(
                    "producer_id", "km"
                )
            }
        )
        self.cache: dict[int, bool] = {}

    def distance_km(self, producer: Producer) -> float | None:
        if producer.pk in self.km:
            return self.km[producer.pk]
        here, there = _location(self.kitchen), _location(producer)
        if here is None or there is None:
            return None
        return here.km_to(there)

    def __call__(self, producer: Producer) -> bool:
        if producer.pk not in self.cache:
            km = self.distance_km(producer)
            self.cache[producer.pk] = km is not None and km <= LOCAL_RADIUS_KM
        return self.cache[producer.pk]


def euros(cents: int) -> str:
    """``-1234`` → ``-12.34``: a dot and two decimals, as ma-cantine reads ``prix_ht``."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{rest:02d}"


def ma_cantine_categories(labels: Iterable[str]) -> str:
    known = set(labels or [])
    return ",".join(MA_CANTINE_LABELS[label] for label in EgalimLabel if label.value in known)


def ma_cantine_rows(kitchen: Kitchen, start: date, end: date) -> Iterator[list[str]]:
    """One row per invoice line (a credit note's line has a negative ``prix_ht``), in ``MA_CANTINE_COLUMNS``."""
    local = LocalCheck(kitchen)
    lines = (
        purchase_lines(kitchen, start, end)
        .select_related("product", "producer")
        .order_by("day", "product__name", "id")
    )
    for line in lines.iterator(chunk_size=500):
        is_local = local(line.producer)
        yield [
            kitchen.siret,
            f"{line.product.name} ({format_quantity(line.quantity, line.product)})",
            line.producer.farm_name,
            line.day.isoformat(),
            euros(line.amount_cents),
            line.product.family,
            ma_cantine_categories(line.egalim_labels),
            MA_CANTINE_ORIGIN,
            MA_CANTINE_TRUE if CIRCUIT_COURT else MA_CANTINE_FALSE,
            MA_CANTINE_TRUE if is_local else MA_CANTINE_FALSE,
            MA_CANTINE_LOCAL_DEFINITION if is_local else "",
        ]


def ma_cantine_csv(kitchen: Kitchen, start: date, end: date) -> str:
    """The CSV ma-cantine imports: UTF-8, comma separated, a header row with its column names."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MA_CANTINE_COLUMNS)
    writer.writerows(ma_cantine_rows(kitchen, start, end))
    return out.getvalue()


def ma_cantine_xlsx(kitchen: Kitchen, start: date, end: date) -> bytes:
    """The same table as a workbook (ma-cantine also takes XLSX); prices are written as text to keep the dot."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "achats"
    sheet.append(list(MA_CANTINE_COLUMNS))
    for row in ma_cantine_rows(kitchen, start, end):
        sheet.append(row)
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJK", (16, 36, 28, 12, 12, 20, 22, 10, 10, 10, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
