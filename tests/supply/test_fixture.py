from grenier.core.models import Role
from grenier.core.permissions import Action, can
from grenier.supply import access

from .conftest import Pial


def test_each_person_acts_for_their_own_farm_or_kitchen(pial: Pial) -> None:
    cast, territory = pial.cast, pial.cast.territory
    assert list(access.producers_of(cast["producer"], territory)) == [pial.saules]
    assert list(access.kitchens_of(cast["kitchen"], territory)) == [pial.school]
    assert set(access.producers_of(cast["coordinator"], territory)) == {pial.saules, pial.pic, pial.terrasses}
    assert not access.producers_of(cast["kitchen"], territory).exists()
    assert not access.kitchens_of(cast["producer"], territory).exists()
    assert not access.producers_of(cast["outsider"], territory).exists()
    assert can(cast[Role.FUNDER.value], territory, Action.SUPPLY_FIGURES)
    assert not can(cast[Role.MEMBER.value], territory, Action.SUPPLY_FIGURES)
