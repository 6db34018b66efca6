"""Who acts for which farm and kitchen, and reads which money document (grenier.supply.access): the scope the
pages, the API and the commands all ask."""

from __future__ import annotations

from datetime import date

import pytest

from grenier.supply import access
from grenier.supply.models import Invoice, InvoiceSeries

from .conftest import Pial


def test_a_coordinator_acts_for_every_farm_and_kitchen_but_owns_none(pial: Pial) -> None:
    coordinator, territory = pial.cast["coordinator"], pial.cast.territory
    assert set(access.producers_of(coordinator, territory)) == {pial.saules, pial.pic, pial.terrasses}
    assert set(access.kitchens_of(coordinator, territory)) == {pial.school, pial.ehpad}
    assert not access.own_producers(coordinator, territory).exists()
    assert not access.own_kitchens(coordinator, territory).exists()


def test_a_grower_and_a_kitchen_manager_act_for_their_own_only(pial: Pial) -> None:
    territory = pial.cast.territory
    grower, manager = pial.cast["producer"], pial.cast["kitchen"]
    assert list(access.producers_of(grower, territory)) == list(access.own_producers(grower, territory))
    assert list(access.own_producers(grower, territory)) == [pial.saules]
    assert list(access.own_kitchens(manager, territory)) == [pial.school]
    assert list(access.kitchens_of(manager, territory)) == [pial.school]
    assert not access.own_kitchens(grower, territory).exists()
    assert not access.own_producers(manager, territory).exists()


@pytest.mark.parametrize("who", ["nobody", "outsider", "member"])
def test_nobody_else_acts_for_a_farm_or_kitchen(pial: Pial, who: str) -> None:
    person, territory = pial.cast[who], pial.cast.territory
    for scope in (access.producers_of, access.kitchens_of, access.own_producers, access.own_kitchens):
        assert not scope(person, territory).exists()


def test_a_money_document_is_read_by_a_coordinator_its_kitchen_or_its_farm(pial: Pial) -> None:
    territory = pial.cast.territory
    series = InvoiceSeries.objects.create(territory=territory, prefix="T")
    common = {
        "territory": territory,
        "series": series,
        "month": date(2026, 10, 1),
        "issued_on": date(2026, 11, 2),
    }
    school = Invoice.objects.create(
        number=1, reference="T-1", idempotency_key="t-1", kitchen=pial.school, total_cents=100, **common
    )
    ehpad = Invoice.objects.create(
        number=2, reference="T-2", idempotency_key="t-2", kitchen=pial.ehpad, total_cents=100, **common
    )
    saules = Invoice.objects.create(
        number=3, reference="T-3", idempotency_key="t-3", producer=pial.saules, total_cents=100, **common
    )

    def readable(who: str) -> set[Invoice]:
        return set(Invoice.objects.filter(access.documents_scope(pial.cast[who], territory)))

    assert readable("coordinator") == {school, ehpad, saules}
    assert readable("kitchen") == {school}
    assert readable("producer") == {saules}
    assert readable("member") == set()
