"""The demo's biowaste: the cité scolaire's autumn campaign (before) and spring campaign (after its action) side by
side, the EHPAD's campaign under way, compost delivered to two farms; built twice, it records nothing new."""

from __future__ import annotations

import pytest

from grenier.core import demo
from grenier.supply import demo as supply_demo
from grenier.waste import figures
from grenier.waste.demo import EHPAD, SCHOOL
from grenier.waste.models import BiowasteDelivery, Campaign, Destination, Phase, Weighing


def test_the_demo_tells_the_biowaste_story(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supply_demo, "WEEKS", 3)
    territory = demo.build(log=lambda _line: None, household_count=5)
    school = Campaign.objects.filter(territory=territory, kitchen__name=SCHOOL).order_by("starts_on")
    autumn, spring = list(school)
    assert autumn.phase == Phase.BEFORE and spring.phase == Phase.AFTER and spring.compares_with == autumn
    assert autumn.weighings.count() == 8 and spring.weighings.count() == 8  # two weeks of four lunches
    comparison = figures.comparison(spring)
    assert comparison is not None and comparison.complete
    change = comparison.change_per_meal()
    assert change is not None and change < -25  # about 135 g before, 95 g after
    assert 100 <= (comparison.before.per_meal() or 0) <= 170
    ehpad = Campaign.objects.get(territory=territory, kitchen__name=EHPAD)
    assert ehpad.services == ["lunch", "dinner"] and ehpad.weighings.exists()
    farms = set(
        BiowasteDelivery.objects.filter(territory=territory, kind=Destination.FARM).values_list(
            "producer__farm_name", flat=True
        )
    )
    assert len(farms) == 2
    counts = (Campaign.objects.count(), Weighing.objects.count(), BiowasteDelivery.objects.count())
    demo.build(log=lambda _line: None, household_count=5)
    assert (Campaign.objects.count(), Weighing.objects.count(), BiowasteDelivery.objects.count()) == counts
