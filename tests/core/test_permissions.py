"""The policy, read as a table: which role may do what, and what an outsider is told."""

from __future__ import annotations

import pytest

from grenier.core import permissions
from grenier.core.errors import Forbidden, NotFound
from grenier.core.models import Role
from grenier.core.permissions import Action

from ..conftest import Cast

EXPECTED = {
    Action.LIST_HOUSEHOLDS: {"coordinator"},
    Action.MANAGE_HOUSEHOLDS: {"coordinator"},
    Action.VIEW_AGGREGATES: {"coordinator", "committee", "funder"},
    Action.VIEW_OWN_HOUSEHOLD: {"member"},
    Action.VIEW_TERRITORY: {role.value for role in Role},
    Action.FUND_VIEW_FIGURES: {"coordinator", "committee", "funder"},
    Action.FUND_MANAGE: {"coordinator"},
    Action.FUND_TAKE_PAYMENTS: {"cashier"},
    Action.FUND_OWN_CREDIT: {"member"},
    Action.FUND_REFER: {"social_worker"},
}


@pytest.mark.parametrize("action", list(EXPECTED))
@pytest.mark.parametrize("who", [*[role.value for role in Role], "outsider", "nobody"])
def test_who_may_do_what(cast: Cast, action: Action, who: str) -> None:
    assert permissions.can(cast[who], cast.territory, action) == (who in EXPECTED[action])


def test_an_outsider_is_told_the_territory_does_not_exist(cast: Cast) -> None:
    with pytest.raises(NotFound):
        permissions.require(cast["outsider"], cast.territory, Action.VIEW_TERRITORY)
    with pytest.raises(NotFound):
        permissions.territory_for(cast["outsider"], "vallee")
    with pytest.raises(NotFound):
        permissions.territory_for(cast["coordinator"], "no-such-place")


def test_a_wrong_role_is_refused(cast: Cast) -> None:
    with pytest.raises(Forbidden):
        permissions.require(cast["cashier"], cast.territory, Action.LIST_HOUSEHOLDS)


@pytest.mark.parametrize(
    "who", ["committee", "cashier", "producer", "kitchen", "social_worker", "funder", "outsider"]
)
def test_personal_data_of_a_household_is_hidden_from_roles_that_do_not_need_it(cast: Cast, who: str) -> None:
    assert not permissions.can_view_household(cast[who], cast.household)
    assert not permissions.visible_households(cast[who], cast.territory).exists()
    with pytest.raises(NotFound):
        permissions.household_for(cast[who], cast.territory, cast.household.pk)


def test_a_member_sees_their_own_household_only(cast: Cast) -> None:
    member = cast["member"]
    assert permissions.can_view_household(member, cast.household)
    assert not permissions.can_view_household(member, cast.other_household)
    assert list(permissions.visible_households(member, cast.territory)) == [cast.household]


def test_a_coordinator_sees_every_household_of_their_territory_only(cast: Cast) -> None:
    coordinator = cast["coordinator"]
    assert set(permissions.visible_households(coordinator, cast.territory)) == {
        cast.household,
        cast.other_household,
    }
    assert not permissions.visible_households(cast["outsider"], cast.territory).exists()


def test_leaving_is_for_the_household_itself_or_a_coordinator(cast: Cast) -> None:
    permissions.require_may_leave(cast["member"], cast.household)
    permissions.require_may_leave(cast["coordinator"], cast.other_household)
    with pytest.raises(Forbidden):
        permissions.require_may_leave(cast["member"], cast.other_household)
    with pytest.raises(Forbidden):
        permissions.require_may_leave(cast["committee"], cast.household)


def test_an_inactive_account_has_no_role(cast: Cast) -> None:
    coordinator = cast["coordinator"]
    coordinator.is_active = False
    assert permissions.roles_of(coordinator, cast.territory) == frozenset()
