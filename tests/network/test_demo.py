"""The demo's map: about fifty actors (those Grenier already knew linked, never twice), about thirty cooperations at
every level with two years of history, levels that rose and fell, a few bookings; built twice, the same map."""

from __future__ import annotations

import pytest
from django.utils import timezone

from grenier.core import demo
from grenier.network import selectors
from grenier.network.models import (
    Actor,
    Booking,
    Cooperation,
    CooperationDocument,
    CooperationStatus,
    LevelChange,
)
from grenier.supply import demo as supply_demo


@pytest.mark.django_db(transaction=True)
def test_the_demo_tells_the_map_s_story(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supply_demo, "WEEKS", 3)
    territory = demo.build(log=lambda _line: None, household_count=12)
    actors = Actor.objects.filter(territory=territory)
    assert 40 <= actors.count() <= 60  # the demo already knows 36 structures (18 producers), 15 are typed
    for link in ("store", "funder", "producer", "kitchen", "garden", "group"):
        assert actors.filter(**{f"{link}__isnull": False}).exists(), link
    assert actors.filter(builtin__isnull=False).count() == 2
    # a garden that is also a store of the fund, under the same name, is one actor with both links
    assert actors.filter(garden__isnull=False, store__isnull=False).exists()
    confirmed = Cooperation.objects.filter(territory=territory, status=CooperationStatus.CONFIRMED)
    assert 25 <= confirmed.count() <= 40
    assert set(confirmed.values_list("level", flat=True)) == {1, 2, 3, 4, 5}
    assert Cooperation.objects.filter(territory=territory, status=CooperationStatus.PROPOSED).exists()
    today = timezone.localdate()
    oldest = LevelChange.objects.filter(cooperation__territory=territory).order_by("on").first()
    assert oldest is not None and (today - oldest.on).days >= 700
    assert not LevelChange.objects.filter(cooperation__territory=territory, on__gt=today).exists()
    moved = selectors.moves(territory, today.year)
    assert moved.rose or moved.fell
    assert Booking.objects.filter(requester__territory=territory).count() >= 4
    letters = CooperationDocument.objects.filter(cooperation__territory=territory)
    assert letters.count() == confirmed.filter(level__gte=4, idempotency_key__startswith="demo-").count() >= 3
    first = letters.first()
    assert first is not None and bytes(first.content).startswith(b"%PDF-")
    count = (
        actors.count(),
        Cooperation.objects.count(),
        LevelChange.objects.count(),
        Booking.objects.count(),
        sorted(letters.values_list("sha256", flat=True)),
    )
    demo.build(log=lambda _line: None, household_count=12)
    assert count == (
        actors.count(),
        Cooperation.objects.count(),
        LevelChange.objects.count(),
        Booking.objects.count(),
        sorted(letters.values_list("sha256", flat=True)),
    )
