"""Quantities and amounts of the supply platform, in one place.

A quantity is an integer in the product's base unit (grams for a product sold by the kg, else pieces or bunches);
people read and type it in the sales unit ("12,5" kg). An amount is integer cents: a line's total is
``quantity * unit price / base units per sales unit`` rounded half up to the cent, then split into the price's
four parts by largest remainder, so the parts always sum to the total exactly and no part is ever off by more than
one cent from its exact value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grenier.core.errors import InvalidInput
from grenier.supply.models import BASE_PER_UNIT, SalesUnit

if TYPE_CHECKING:
    from grenier.supply.models import ContractLine, Product


def unit_label(product: Product, quantity: int | None = None) -> str:
    """The sales unit's name; given a ``quantity`` (base units), agreed with it: 1 piece, 6 pieces, 2 bunches
    (a kg stays a kg)."""
    unit = SalesUnit(product.unit)
    if quantity is None or unit == SalesUnit.KG:
        return str(unit.label)
    count = abs(int(quantity)) // BASE_PER_UNIT[unit]
    if unit == SalesUnit.PIECE:
        return ngettext("piece", "pieces", count)
    return ngettext("bunch", "bunches", count)


def plural_count(quantity: int, product: Product) -> int:
    """The whole number of sales units in ``quantity``, to choose a plural form with (1,5 kg counts as 1)."""
    return abs(int(quantity)) // BASE_PER_UNIT[SalesUnit(product.unit)]


def to_sales_units(quantity: int, product: Product) -> Decimal:
    return Decimal(quantity) / BASE_PER_UNIT[SalesUnit(product.unit)]


def format_quantity(quantity: int | None, product: Product, *, with_unit: bool = True) -> str:
    """``12500`` g of carrots → ``12,5 kg``, 6 lettuces → ``6 pieces`` (in the active language's number format;
    with the unit, thousands are grouped: ``1 440 kg``; without, it is what a person types back: ``1440``)."""
    if quantity is None:
        return ""
    value = to_sales_units(quantity, product).normalize()
    exponent = value.as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    if not with_unit:
        return number_format(value, decimal_pos=places)
    text = number_format(value, decimal_pos=places, force_grouping=True)
    return f"{text} {unit_label(product, quantity)}"


def parse_quantity(
    text: str | int | float | Decimal | None, product: Product, *, field: str = "quantity"
) -> int:
    """A quantity typed in sales units ("12,5", "12.5", 12.5) → base units (12500). Blank is 0.

    Raises ``InvalidInput`` for anything else, a negative number, or more precision than the base unit holds
    (half a lettuce)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return 0
    try:
        value = Decimal(
            str(text).strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
        )
    except InvalidOperation:
        raise InvalidInput(
            _("Not a quantity: %(text)s") % {"text": text}, errors={field: [_("Type a number, e.g. 12,5.")]}
        ) from None
    if not value.is_finite() or value < 0:
        raise InvalidInput(
            _("A quantity cannot be negative."), errors={field: [_("Type a number of zero or more.")]}
        )
    base = value * BASE_PER_UNIT[SalesUnit(product.unit)]
    if base != base.to_integral_value():
        raise InvalidInput(
            _("%(product)s is counted in whole %(unit)s.")
            % {"product": product.name, "unit": unit_label(product)},
            errors={field: [_("Too many decimals for this unit.")]},
        )
    return int(base)


@dataclass(frozen=True)
class Amounts:
    total: int
    producers: int  # production cost + margin
    service_fee: int
    levy: int


def line_amounts(quantity: int, line: ContractLine) -> Amounts:
    """What ``quantity`` (base units, may be negative on a credit note) costs at ``line``'s price, in cents."""
    base = BASE_PER_UNIT[SalesUnit(line.product.unit)]
    parts = [line.producer_price_cents, line.service_fee_cents, line.levy_cents]
    return split_amount(quantity, base, parts)


def split_amount(quantity: int, base: int, parts_per_unit: list[int]) -> Amounts:
    sign = -1 if quantity < 0 else 1
    q = abs(quantity)
    exact = [Fraction(q * part, base) for part in parts_per_unit]
    total = int((Decimal(q * sum(parts_per_unit)) / base).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    floors = [int(value) for value in exact]
    left = total - sum(floors)
    # largest remainder first; ties go to the earlier part (producers, then fee, then levy): stable and written down
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    producers, fee, levy = floors
    return Amounts(sign * total, sign * producers, sign * fee, sign * levy)
