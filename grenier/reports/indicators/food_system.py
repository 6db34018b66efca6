"""Sustainability of the food system: what the supply platform sold to the kitchens and what the growers earned
from it, its organic and EGalim shares; the kitchens' food waste per meal and the biowaste they sent back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from statistics import pvariance

from django.db.models import Case, F, Q, QuerySet, Sum, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grenier.reports.registry import (
    Module,
    Part,
    Result,
    Scope,
    Theme,
    Unit,
    between,
    indicator,
    one_decimal,
    percent,
)
from grenier.supply.egalim import LOCAL_RADIUS_KM, LocalCheck, is_organic, is_quality
from grenier.supply.models import Distance, InvoiceLine, Kitchen, Producer, SalesUnit
from grenier.waste.figures import totals
from grenier.waste.models import BiowasteDelivery, Destination, Weighing


def _lines(scope: Scope) -> QuerySet[InvoiceLine]:
    """The lines of the platform's invoices and credit notes to kitchens for deliveries on a day of the period (a
    farm's statement repeats them: not read)."""
    return between(
        InvoiceLine.objects.filter(invoice__territory=scope.territory, invoice__kitchen__isnull=False),
        "day",
        scope,
    )


@indicator(
    "platform_sales",
    theme=Theme.FOOD_SYSTEM,
    name=gettext_lazy("Supply platform's sales to kitchens"),
    definition=gettext_lazy(
        "What the supply platform invoiced the collective kitchens for the deliveries of the period, before "
        "tax, credit notes taken off, in euros; with the weight delivered of the products sold by the kg. Read "
        "from the invoices' lines. Not counted: deliveries not invoiced yet."
    ),
    unit=Unit.CENTS,
    modules=(Module.SUPPLY,),
)
def platform_sales(scope: Scope) -> Result:
    pairs = _pairs(scope)
    grams = sum(pair.kg_grams for pair in pairs)
    return Result(
        sum(pair.cents for pair in pairs),
        parts=(Part("kg", _("delivered"), one_decimal(grams, 1000), unit=Unit.KG),),
    )


@indicator(
    "growers_income",
    theme=Theme.FOOD_SYSTEM,
    name=gettext_lazy("Growers' income from the platform"),
    definition=gettext_lazy(
        "The producers' part of what the platform invoiced for the deliveries of the period (the price minus "
        "the service fee and the development-fund levy), in euros, and how many farms shared it. Read from the "
        "invoices' lines. Not counted: what the farms sell elsewhere, advances."
    ),
    unit=Unit.CENTS,
    modules=(Module.SUPPLY,),
)
def growers_income(scope: Scope) -> Result:
    pairs = _pairs(scope)
    farms = len({pair.producer for pair in pairs})
    return Result(
        sum(pair.producers_cents for pair in pairs),
        parts=(Part("farms", _("farms paid"), farms, unit=Unit.COUNT),),
    )


def _labelled_shares(scope: Scope) -> tuple[int, int, int]:
    found: tuple[int, int, int] = scope.kept("labelled_shares", _read_labelled_shares)
    return found


def _read_labelled_shares(scope: Scope) -> tuple[int, int, int]:
    """(all, organic, EGalim quality) in cents: one query grouped by the labels frozen on the lines."""
    whole = organic = quality = 0
    for row in _lines(scope).order_by().values("egalim_labels").annotate(cents=Sum("amount_cents")):
        cents = int(row["cents"] or 0)
        whole += cents
        organic += cents if is_organic(row["egalim_labels"]) else 0
        quality += cents if is_quality(row["egalim_labels"]) else 0
    return whole, organic, quality


def _share(scope: Scope, which: int) -> Result:
    """The organic (``which`` 1) or EGalim (2) share of the period's invoiced value."""
    shares = _labelled_shares(scope)
    share = percent(shares[which], shares[0])
    if share is None:
        return Result.not_measured(_("Not measured: nothing was invoiced in this period."))
    return Result(share, ratio=(shares[which], shares[0]))


@indicator(
    "organic_share",
    theme=Theme.FOOD_SYSTEM,
    name=gettext_lazy("Organic share of the platform's sales"),
    definition=gettext_lazy(
        "The organic (AB) products' part of what the platform invoiced the kitchens for the deliveries of the "
        "period, in value before tax, in percent (the EGalim law asks at least 20 %). Read from the labels "
        "frozen on the invoices' lines. Not counted: the kitchens' purchases elsewhere."
    ),
    unit=Unit.PERCENT,
    modules=(Module.SUPPLY,),
)
def organic_share(scope: Scope) -> Result:
    return _share(scope, 1)


@indicator(
    "quality_share",
    theme=Theme.FOOD_SYSTEM,
    name=gettext_lazy("EGalim share of the platform's sales"),
    definition=gettext_lazy(
        "The part of what the platform invoiced the kitchens for the deliveries of the period that carries an "
        "EGalim quality label (organic included), in value before tax, in percent (the law asks at least 50 %). "
        "Read from the labels frozen on the invoices' lines. Not counted: the kitchens' purchases elsewhere."
    ),
    unit=Unit.PERCENT,
    modules=(Module.SUPPLY,),
)
def quality_share(scope: Scope) -> Result:
    return _share(scope, 2)


@indicator(
    "local_share",
    theme=Theme.FOOD_SYSTEM,
    name=gettext_lazy("Local share of the platform's sales"),
    definition=gettext_lazy(
        "The part of what the platform invoiced the kitchens for the deliveries of the period that came from "
        "farms within 100 km of the kitchen delivered (the road distance where it is recorded, else as the crow "
        "flies), in value before tax, in percent. Read from the invoices' lines and the places of the farms and "
        "kitchens. Not counted as local: a farm or a kitchen whose place is not known."
    ),
    unit=Unit.PERCENT,
    modules=(Module.SUPPLY,),
)
def local_share(scope: Scope) -> Result:
    whole = local = 0
    for pair in _pairs(scope):
        whole += pair.cents
        local += pair.cents if pair.km is not None and pair.km <= LOCAL_RADIUS_KM else 0
    share = percent(local, whole)
    if share is None:
        return Result.not_measured(_("Not measured: nothing was invoiced in this period."))
    return Result(share, ratio=(local, whole))


@dataclass(frozen=True)
class _Pair:
    """What the period's lines from one farm to one kitchen add up to: the value invoiced, the producers' part,
    the grams of the products sold by the kg, the weight of all (pieces and bunches for their declared weight),
    and the farm-to-kitchen km (None where a place is not known)."""

    kitchen: int
    producer: int
    cents: int
    producers_cents: int
    kg_grams: int
    grams: int
    km: float | None


def _pairs(scope: Scope) -> list[_Pair]:
    """The period's lines summed by kitchen and farm, with their distance: read once (``scope.kept``) for the
    sales, the growers' income, the local share and the km a kg travelled (each read the lines, and the last two
    the places, again: about 20 ms a period at a year of a département's deliveries)."""

    def read(scope: Scope) -> list[_Pair]:
        by_kg = Q(product__unit=SalesUnit.KG)
        rows = list(
            _lines(scope)
            .order_by()
            .values_list("kitchen", "producer")
            .annotate(
                cents=Sum("amount_cents"),
                producers=Sum("producers_cents"),
                kg=Sum("quantity", filter=by_kg),
                grams=Sum(
                    Case(
                        When(by_kg, then=F("quantity")),
                        default=F("quantity") * F("product__grams_per_unit"),
                    )
                ),
            )
        )
        km = _distances({(kitchen, producer) for kitchen, producer, *_sums in rows})
        return [
            _Pair(
                kitchen,
                producer,
                int(cents or 0),
                int(producers or 0),
                int(kg or 0),
                int(grams or 0),
                km[kitchen, producer],
            )
            for kitchen, producer, cents, producers, kg, grams in rows
        ]

    found: list[_Pair] = scope.kept("supply_pairs", read)
    return found


def _distances(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], float | None]:
    """The km from each farm to each kitchen of ``pairs`` (kitchen, farm): the road distance where recorded, else as
    the crow flies, ``None`` where a place is not known (as ``supply.egalim.LocalCheck``)."""
    kitchens = Kitchen.objects.in_bulk({kitchen for kitchen, _producer in pairs})
    producers = Producer.objects.in_bulk({producer for _kitchen, producer in pairs})
    # The recorded road distances of every kitchen in one query, not one a kitchen.
    recorded: dict[int, dict[int, float]] = {pk: {} for pk in kitchens}
    for kitchen, producer, km in Distance.objects.filter(kitchen__in=list(kitchens)).values_list(
        "kitchen", "producer", "km"
    ):
        recorded[kitchen][producer] = float(km)
    checks = {pk: LocalCheck(kitchen, recorded[pk]) for pk, kitchen in kitchens.items()}
    return {
        (kitchen, producer): checks[kitchen].distance_km(producers[producer]) for kitchen, producer in pairs
    }


@indicator(
    "km_per_kg",
    theme=Theme.FOOD_SYSTEM,
    name=gettext_lazy("Distance travelled per kg delivered"),
    definition=gettext_lazy(
        "How far a kilo sold by the supply platform travelled on average from its farm to the kitchen it was "
        "delivered to, in km: each delivery's weight times the farm-to-kitchen distance (the road distance where "
        "it is recorded, else as the crow flies), added up over the deliveries of the period and divided by the "
        "weight delivered. Pieces and bunches count for their weight as the products declare it. Read from the "
        "invoices' lines and the places of the farms and kitchens. Not counted: deliveries from a farm or to a "
        "kitchen whose place is not known (their weight is given apart), the trips' detours and returns."
    ),
    unit=Unit.KM_PER_KG,
    modules=(Module.SUPPLY,),
)
def km_per_kg(scope: Scope) -> Result:
    grams = unplaced = 0
    gram_km = 0.0
    for pair in _pairs(scope):
        if pair.km is None:
            unplaced += pair.grams
            continue
        grams += pair.grams
        gram_km += pair.grams * pair.km
    parts = (
        Part("placed", _("kg delivered, distance known"), one_decimal(grams, 1000), unit=Unit.KG),
        Part("unplaced", _("kg delivered, place not known"), one_decimal(unplaced, 1000), unit=Unit.KG),
    )
    if grams <= 0:
        return Result(
            None, _("Not measured: no weight was delivered from a known place in this period."), parts=parts
        )
    numerator = Decimal(repr(gram_km))
    return Result(
        one_decimal(numerator, grams), parts=parts, ratio=(numerator, grams)
    )  # the roll-up sums both


def _variation(values: list[int]) -> Decimal | None:
    """The coefficient of variation of ``values`` in percent (their standard deviation, over all of them, divided
    by their mean), one decimal; ``None`` for fewer than two values or a mean not above 0."""
    if len(values) < 2 or sum(values) <= 0:
        return None
    mean = Fraction(sum(values), len(values))
    variance = pvariance([Fraction(value) for value in values], mu=mean)
    deviation = (Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt()
    return one_decimal(deviation * 100, Decimal(mean.numerator) / Decimal(mean.denominator))


@indicator(
    "growers_income_evenness",
    theme=Theme.FOOD_SYSTEM,
    name=gettext_lazy("Unevenness of the growers' income between farms"),
    definition=gettext_lazy(
        "How unevenly the growers' income from the platform over the period (the producers' part of the "
        "invoices) is shared between the farms paid, as a coefficient of variation: the standard deviation of "
        "the farms' incomes divided by their mean, in percent. 0 % when every farm earned the same; the larger, "
        "the more uneven (100 % when the incomes typically stray from the mean by as much as the mean itself). "
        "Beside it, the same measure between the weeks of the period: how unevenly the growers' income, all "
        "farms together, came week after week. Read from the invoices' lines. Not counted: farms paid nothing in "
        "the period, weeks with no delivery. Not measured with fewer than two farms paid."
    ),
    unit=Unit.PERCENT,
    modules=(Module.SUPPLY,),
)
def growers_income_evenness(scope: Scope) -> Result:
    # Summed by farm and by day apart (a few hundred rows each), not by farm and day (thousands in a year).
    lines = _lines(scope).order_by()
    farms = {
        producer: int(cents or 0)
        for producer, cents in lines.values_list("producer").annotate(cents=Sum("producers_cents"))
    }
    weeks: dict[date, int] = {}
    for day, cents in lines.values_list("day").annotate(cents=Sum("producers_cents")):
        monday = day - timedelta(days=day.weekday())
        weeks[monday] = weeks.get(monday, 0) + int(cents or 0)
    paid = [cents for cents in farms.values() if cents > 0]
    parts = (
        Part("farms", _("farms paid"), len(paid), unit=Unit.COUNT),
        Part("weeks", _("between the weeks"), _variation([c for c in weeks.values() if c > 0])),
        Part(
            "week_count", _("weeks with a delivery"), sum(1 for c in weeks.values() if c > 0), unit=Unit.COUNT
        ),
    )
    found = _variation(paid)
    if found is None:
        return Result.not_measured(_("Not measured: fewer than two farms were paid in this period."))
    return Result(found, parts=parts)


@indicator(
    "food_waste_per_meal",
    theme=Theme.FOOD_SYSTEM,
    name=gettext_lazy("Food waste per meal"),
    definition=gettext_lazy(
        "The food thrown away in the kitchens' weighing campaigns (preparation losses, unserved leftovers, "
        "plate waste, bread) divided by the meals served at the services weighed during the period, in grams "
        "per meal, all kitchens together. Read from the weighings. Not counted: days and kitchens not weighed."
    ),
    unit=Unit.G_PER_MEAL,
    modules=(Module.WASTE,),
)
def food_waste_per_meal(scope: Scope) -> Result:
    found = totals(between(Weighing.objects.filter(campaign__territory=scope.territory), "day", scope))
    if not found.meals:
        return Result.not_measured(_("Not measured: no service was weighed in this period."))
    parts = tuple(
        Part(kind, label, one_decimal(grams, found.meals)) for kind, label, grams, _p in found.kinds()
    )
    return Result(one_decimal(found.total_g, found.meals), parts=parts, ratio=(found.total_g, found.meals))


@indicator(
    "biowaste_returned",
    theme=Theme.FOOD_SYSTEM,
    name=gettext_lazy("Biowaste sent to farms or composting"),
    definition=gettext_lazy(
        "The kitchens' biowaste sent during the period to a farm, to composting or to another actor, in kg, by "
        "destination. Read from the biowaste deliveries. Not counted: biowaste thrown away with the rest."
    ),
    unit=Unit.KG,
    modules=(Module.WASTE,),
)
def biowaste_returned(scope: Scope) -> Result:
    rows = {
        row["kind"]: int(row["g"] or 0)
        for row in between(BiowasteDelivery.objects.filter(territory=scope.territory), "day", scope)
        .order_by()
        .values("kind")
        .annotate(g=Sum("weight_g"))
    }
    parts = tuple(
        Part(kind, str(label), one_decimal(rows.get(kind, 0), 1000)) for kind, label in Destination.choices
    )
    return Result(one_decimal(sum(rows.values()), 1000), parts=parts)
