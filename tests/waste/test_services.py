"""Campaigns, weighings and deliveries through the services: grams per meal exact on cases computed by hand, every
impossible input refused on its field, an unusual one held back until confirmed, a retried write stored once."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

import pytest
from django.utils import translation

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import KeyReused
from grenier.core.models import AuditEvent
from grenier.waste import figures, services
from grenier.waste.models import BiowasteDelivery, Campaign, Destination, Phase, Weighing

from .conftest import Kitchens, weigh

MON, TUE, WED = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)


def _two_lunches(k: Kitchens) -> None:
    weigh(k.autumn, MON, 300, preparation=4_000, unserved=9_000, plate=21_000, bread=1_500)
    weigh(k.autumn, TUE, 320, preparation=3_200, unserved=6_400, plate=19_200, bread=1_280)


# --- figures, by hand ---------------------------------------------------------------------------------------------


def test_grams_per_meal_are_the_sums_divided_exactly(kitchens: Kitchens) -> None:
    _two_lunches(kitchens)
    found = figures.totals(kitchens.autumn.weighings.all())
    # 4,000 + 9,000 + 21,000 + 1,500 = 35,500 g for 300 meals; 3,200 + 6,400 + 19,200 + 1,280 = 30,080 g for 320
    assert (found.meals, found.total_g, found.weighings) == (620, 65_580, 2)
    assert found.per_meal() == Fraction(65_580, 620)  # 105.774… g, not the mean of 118.33 and 94
    assert found.grams == {"preparation": 7_200, "unserved": 15_400, "plate": 40_200, "bread": 2_780}
    assert found.per_meal("plate") == Fraction(40_200, 620)
    with translation.override("fr"):
        assert figures.grams_per_meal_text(found.per_meal()) == "105,8\u00a0g"
        shown = [figures.grams_per_meal_text(per_meal) for _k, _l, _g, per_meal in found.kinds()]
    # each figure rounded once, from its own fraction: 11.61, 24.84, 64.84, 4.48
    assert shown == ["11,6\u00a0g", "24,8\u00a0g", "64,8\u00a0g", "4,5\u00a0g"]


def test_a_service_s_figures_and_an_empty_campaign(kitchens: Kitchens) -> None:
    assert figures.totals(kitchens.autumn.weighings.all()).per_meal() is None
    _two_lunches(kitchens)
    [(service, _label, lunch)] = figures.by_service(kitchens.autumn)
    assert service == "lunch" and lunch.meals == 620 and lunch.total_g == 65_580


@pytest.mark.parametrize(
    ("value", "places", "digits"),
    [
        (Fraction(1, 20), 1, 1),  # 0.05 → 0.1: halves up
        (Fraction(-1, 20), 1, -1),  # -0.05 → -0.1: halves away from zero
        (Fraction(1, 30), 1, 0),
        (Fraction(2_499, 10), 0, 250),
        (Fraction(-15_980, 620), 1, -258),
    ],
)
def test_figures_are_rounded_once_halves_up(value: Fraction, places: int, digits: int) -> None:
    assert figures.round_half_up(value, places) == (digits, places)


def test_before_and_after_side_by_side_and_a_year_at_the_kitchen_s_meals(kitchens: Kitchens) -> None:
    _two_lunches(kitchens)
    spring = Campaign.objects.create(
        territory=kitchens.school.territory,
        kitchen=kitchens.school,
        name="Après",
        phase=Phase.AFTER,
        starts_on=date(2026, 11, 23),
        ends_on=date(2026, 11, 25),
        services=["lunch"],
        compares_with=kitchens.autumn,
        idempotency_key="after",
    )
    weigh(spring, date(2026, 11, 23), 310, plate=24_800)
    weigh(spring, date(2026, 11, 24), 330, plate=20_000, bread=6_400)
    found = figures.comparison(spring)
    assert found is not None and found.complete
    assert found.after.per_meal() == 80
    change = Fraction(49_600 - 65_580, 620)  # 80 - 105.77… g per meal
    assert found.change_per_meal() == change
    assert found.change_share() == Fraction(-15_980, 65_580)
    # 340 meals a day, 144 school days a year: -1,261,904.5 g
    assert found.change_a_year_g() == change * 340 * 144
    with translation.override("fr"):
        assert figures.kilograms_text(found.change_a_year_g()) == "\u22121\u00a0261,9\u00a0kg"
        assert figures.percent_text(found.change_share()) == "\u221224\u00a0%"


# --- weighings: refused, warned, once --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"meals": 0}, "meals"),
        ({"meals": -3}, "meals"),
        ({"meals": 20_001}, "meals"),
        ({"plate": -1}, "plate"),
        ({"bread": 5_000_001}, "bread"),
        ({"day": date(2026, 11, 13)}, "day"),  # before the campaign
        ({"day": date(2026, 11, 26)}, "day"),  # tomorrow
        ({"service": "dinner"}, "service"),  # the campaign weighs lunches
        (
            {"meals": 10, "plate": 0, "unserved": 10_001},
            "unserved",
        ),  # more than a kilogram per meal: on the heaviest kind
    ],
)
def test_impossible_input_is_refused_on_its_field(
    kitchens: Kitchens, change: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"day": MON, "meals": 300, "plate": 20_000, "service": "lunch"}
    arguments.update(change)
    with pytest.raises(InvalidInput) as refused:
        weigh(kitchens.autumn, **arguments)  # type: ignore[arg-type]
    assert field in refused.value.errors
    assert not Weighing.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"meals": 100, "plate": 35_000}, "plate"),  # 350 g a meal
        ({"meals": 100, "unserved": 20_000, "plate": 12_000}, "unserved"),  # 320 g: on the heaviest kind
        ({"meals": 600, "plate": 60_000}, "meals"),  # the school serves 340 a day
        ({"meals": 300}, "plate"),  # nothing weighed at all
    ],
)
def test_an_unusual_value_is_stored_only_once_confirmed(
    kitchens: Kitchens, arguments: dict[str, Any], field: str
) -> None:
    with pytest.raises(services.UnusualValue) as warned:
        weigh(kitchens.autumn, MON, **arguments)
    assert field in warned.value.errors and warned.value.status == 422
    assert not Weighing.objects.exists()
    weighing = weigh(kitchens.autumn, MON, confirm=True, **arguments)
    assert weighing.confirmed_unusual
    assert not weigh(kitchens.autumn, TUE, 300, plate=20_000, confirm=True).confirmed_unusual


def test_a_weighing_sent_twice_is_stored_once(kitchens: Kitchens) -> None:
    first = weigh(kitchens.autumn, MON, 300, plate=20_000, key="tap-1", actor=kitchens.cast["kitchen"])
    again = weigh(kitchens.autumn, MON, 300, plate=20_000, key="tap-1", actor=kitchens.cast["kitchen"])
    assert again.pk == first.pk and Weighing.objects.count() == 1
    assert AuditEvent.objects.filter(action="waste.weighing.record").count() == 1
    with pytest.raises(KeyReused):
        weigh(kitchens.autumn, MON, 300, plate=21_000, key="tap-1")  # the same key for another weighing
    with pytest.raises(Conflict) as twice:
        weigh(kitchens.autumn, MON, 300, plate=20_000, key="tap-2")  # the same service under a new key
    assert "service" in twice.value.errors and Weighing.objects.count() == 1


# --- campaigns ------------------------------------------------------------------------------------------------------


def _campaign(k: Kitchens, **change: object) -> Campaign:
    arguments: dict[str, object] = {
        "kitchen": k.school,
        "name": "Printemps, après",
        "starts_on": date(2027, 3, 15),
        "ends_on": date(2027, 3, 26),
        "services": ["lunch"],
        "phase": Phase.AFTER,
        "compares_with": k.autumn,
        "actor": k.cast["kitchen"],
        "idempotency_key": "spring",
    }
    arguments.update(change)
    return services.campaign_create(**arguments)  # type: ignore[arg-type]


def test_a_campaign_is_created_once_per_key(kitchens: Kitchens) -> None:
    first = _campaign(kitchens, services=["dinner", "lunch", "lunch"])
    assert first.services == ["lunch", "dinner"] and first.compares_with == kitchens.autumn
    assert _campaign(kitchens, services=["lunch", "dinner"]).pk == first.pk
    with pytest.raises(KeyReused):
        _campaign(kitchens, name="Autre")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"ends_on": date(2027, 3, 1)}, "ends_on"),
        ({"ends_on": date(2028, 3, 15)}, "ends_on"),
        ({"services": []}, "services"),
        ({"services": ["breakfast"]}, "services"),
        ({"phase": "during"}, "phase"),
        ({"starts_on": date(2026, 11, 1), "ends_on": date(2026, 11, 5)}, "compares_with"),  # not earlier
    ],
)
def test_a_campaign_s_bad_input_is_refused_on_its_field(
    kitchens: Kitchens, change: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _campaign(kitchens, **change)
    assert field in refused.value.errors
    assert Campaign.objects.count() == 1


def test_a_campaign_compares_only_with_its_own_kitchen(kitchens: Kitchens) -> None:
    with pytest.raises(InvalidInput) as refused:
        _campaign(kitchens, kitchen=kitchens.ehpad)
    assert "compares_with" in refused.value.errors


# --- where biowaste goes ---------------------------------------------------------------------------------------------


def test_biowaste_sent_to_a_farm_or_to_composting(kitchens: Kitchens) -> None:
    to_farm = services.delivery_record(
        kitchen=kitchens.school,
        day=date(2026, 11, 20),
        weight_g=85_500,
        kind=Destination.FARM,
        producer=kitchens.farm,
        destination="ignored",
        actor=kitchens.cast["kitchen"],
        idempotency_key="d-1",
    )
    assert to_farm.destination_name == "Ferme des Saules" and to_farm.destination == ""
    again = services.delivery_record(
        kitchen=kitchens.school,
        day=date(2026, 11, 20),
        weight_g=85_500,
        kind=Destination.FARM,
        producer=kitchens.farm,
        destination="ignored",
        actor=kitchens.cast["kitchen"],
        idempotency_key="d-1",
    )
    assert again.pk == to_farm.pk
    composted = services.delivery_record(
        kitchen=kitchens.school,
        day=date(2026, 11, 21),
        weight_g=40_000,
        kind=Destination.COMPOSTING,
        destination="Plateforme de compostage du SICTOM",
        actor=None,
        idempotency_key="d-2",
    )
    assert composted.producer is None and BiowasteDelivery.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weight_g": 0}, "weight_g"),
        ({"weight_g": 100_000_001}, "weight_g"),
        ({"day": date(2026, 11, 26)}, "day"),
        ({"kind": "farm", "producer": None}, "producer"),
        ({"kind": "composting", "destination": " "}, "destination"),
        ({"kind": "landfill"}, "kind"),
    ],
)
def test_a_delivery_s_bad_input_is_refused_on_its_field(
    kitchens: Kitchens, change: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {
        "kitchen": kitchens.school,
        "day": date(2026, 11, 20),
        "weight_g": 10_000,
        "kind": "farm",
        "producer": kitchens.farm,
        "actor": None,
        "idempotency_key": "d-x",
    }
    arguments.update(change)
    with pytest.raises(InvalidInput) as refused:
        services.delivery_record(**arguments)  # type: ignore[arg-type]
    assert field in refused.value.errors
    assert not BiowasteDelivery.objects.exists()


def test_the_comparison_by_kind(kitchens: Kitchens) -> None:
    _two_lunches(kitchens)
    spring = Campaign.objects.create(
        territory=kitchens.school.territory,
        kitchen=kitchens.school,
        name="Après",
        phase=Phase.AFTER,
        starts_on=date(2026, 11, 23),
        ends_on=date(2026, 11, 25),
        services=["lunch"],
        compares_with=kitchens.autumn,
        idempotency_key="after",
    )
    weigh(spring, date(2026, 11, 23), 310, plate=24_800)
    found = figures.comparison(spring)
    assert found is not None
    by_kind = {kind: (before, after) for kind, _label, before, after in found.kinds()}
    assert by_kind["plate"] == (Fraction(40_200, 620), Fraction(80))
    assert by_kind["bread"] == (Fraction(2_780, 620), Fraction(0))
    assert found.largest() == 80


def test_a_weighing_is_corrected_with_the_same_checks_and_its_old_figures_kept(kitchens: Kitchens) -> None:
    weighing = weigh(kitchens.autumn, MON, 31, plate=21_000, confirm=True)  # 31 typed for 310
    with pytest.raises(InvalidInput) as refused:
        services.weighing_correct(weighing=weighing, meals=0, grams=services.Grams(plate=21_000), actor=None)
    assert "meals" in refused.value.errors
    with pytest.raises(services.UnusualValue):
        services.weighing_correct(weighing=weighing, meals=60, grams=services.Grams(plate=21_000), actor=None)
    corrected = services.weighing_correct(
        weighing=weighing,
        meals=310,
        grams=services.Grams(plate=21_000, bread=900),
        actor=kitchens.cast["kitchen"],
    )
    assert (corrected.meals, corrected.plate_g, corrected.bread_g, corrected.confirmed_unusual) == (
        310,
        21_000,
        900,
        False,
    )
    services.weighing_correct(  # sent again: nothing changes, no second audit line
        weighing=weighing,
        meals=310,
        grams=services.Grams(plate=21_000, bread=900),
        actor=kitchens.cast["kitchen"],
    )
    [line] = AuditEvent.objects.filter(action="waste.weighing.correct")
    assert line.data["before"]["meals"] == 31 and line.data["after"]["bread"] == 900
    assert Weighing.objects.get().day == MON and Weighing.objects.count() == 1
