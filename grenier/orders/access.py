"""Which buying group a person coordinates or belongs to, and which farm it acts for. Pages, API and commands ask
here, like ``supply.access``.

* A coordinator of the territory (``ORDERS_MANAGE``) manages every group; a person named among a group's
  coordinators manages that group only (a volunteer of the neighbourhood, often a member household itself).
* A member household (``ORDERS_OWN``) belongs to the groups it has an active membership of.
* A producer (``ORDERS_SUPPLY``) acts for the farms it is one of the people of (``supply.Producer.users``): its
  catalogue and its purchase orders, nothing of the households.
* A social worker (``BASKETS_REFER``) sets the tier of the households they referred themselves, with the household's
  consent: ``baskets.Referral`` rows are the proof (this app depends on the baskets app for that alone). Another
  social worker's household, or one nobody referred, is "not found" to them.

Asking for a group, cycle, order or farm one has nothing to do with answers "not found".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.baskets.models import Referral, ReferralStatus
from grenier.core import permissions
from grenier.core.errors import Forbidden, NotFound
from grenier.core.models import Household, HouseholdPerson, Territory
from grenier.core.permissions import Action
from grenier.orders.models import BuyingGroup, Order, OrderCycle
from grenier.supply.models import Producer

if TYPE_CHECKING:
    from grenier.core.permissions import AnyUser


def _uid(user: AnyUser) -> int:
    return int(user.pk or 0) if user.is_authenticated else 0


def managed_groups(user: AnyUser, territory: Territory) -> QuerySet[BuyingGroup]:
    """The groups ``user`` manages in ``territory``."""
    if permissions.can(user, territory, Action.ORDERS_MANAGE):
        return BuyingGroup.objects.filter(territory=territory)
    if not permissions.roles_of(user, territory):
        return BuyingGroup.objects.none()
    return BuyingGroup.objects.filter(territory=territory, coordinators__id=_uid(user)).distinct()


def my_households(user: AnyUser, territory: Territory) -> QuerySet[Household]:
    """The active households ``user`` is a person of, when its roles let it order for them."""
    if not permissions.can(user, territory, Action.ORDERS_OWN):
        return Household.objects.none()
    # From the person's rows (its user's index), not by a join from the households: SQLite's planner reads every
    # active household of the territory for the join (its statistics see the mostly empty ``user_id`` as useless),
    # 10 ms at 10,000 households and three times on a member's home.
    persons = HouseholdPerson.objects.filter(user_id=_uid(user)).values("household_id")
    return Household.objects.filter(pk__in=persons, territory=territory, left_on__isnull=True)


def member_groups(user: AnyUser, territory: Territory) -> QuerySet[BuyingGroup]:
    """The groups one of ``user``'s households belongs to."""
    return BuyingGroup.objects.filter(
        territory=territory,
        memberships__household__in=my_households(user, territory),
        memberships__left_on__isnull=True,
    ).distinct()


def producers_of(user: AnyUser, territory: Territory) -> QuerySet[Producer]:
    """The farms whose catalogue ``user`` may edit: every farm for a coordinator, its own for a producer."""
    if permissions.can(user, territory, Action.ORDERS_MANAGE):
        return Producer.objects.filter(territory=territory)
    if permissions.can(user, territory, Action.ORDERS_SUPPLY):
        return Producer.objects.filter(territory=territory, users__id=_uid(user)).distinct()
    return Producer.objects.none()


def visible_groups(user: AnyUser, territory: Territory) -> QuerySet[BuyingGroup]:
    """Groups whose page ``user`` may open: the ones it manages or belongs to."""
    managed = managed_groups(user, territory).values("pk")
    member = member_groups(user, territory).values("pk")
    return BuyingGroup.objects.filter(Q(pk__in=managed) | Q(pk__in=member)).order_by("name", "pk")


def may_manage(user: AnyUser, group: BuyingGroup) -> bool:
    return managed_groups(user, group.territory).filter(pk=group.pk).exists()


def require_any(user: AnyUser, territory: Territory) -> None:
    """Someone with no role here gets 404; a role with nothing to do in buying groups, 403."""
    permissions.require(user, territory, Action.VIEW_TERRITORY)
    if any(
        permissions.can(user, territory, action)
        for action in (Action.ORDERS_MANAGE, Action.ORDERS_OWN, Action.ORDERS_SUPPLY)
    ):
        return
    if managed_groups(user, territory).exists():
        return
    raise Forbidden(_("Your role in this territory does not allow this."))


def group_for(user: AnyUser, territory: Territory, group_id: int, *, manage: bool = False) -> BuyingGroup:
    require_any(user, territory)
    rows = managed_groups(user, territory) if manage else visible_groups(user, territory)
    group = rows.filter(pk=group_id).first()
    if group is None:
        if manage and visible_groups(user, territory).filter(pk=group_id).exists():
            raise Forbidden(_("Only this group's coordinators may do this."))
        raise NotFound(_("This buying group does not exist or you are not part of it."))
    return group


def cycle_for(user: AnyUser, territory: Territory, cycle_id: int, *, manage: bool = False) -> OrderCycle:
    require_any(user, territory)
    cycle = OrderCycle.objects.filter(pk=cycle_id, group__territory=territory).select_related("group").first()
    if cycle is None:
        raise NotFound(_("This order cycle does not exist or you are not part of its group."))
    group_for(user, territory, cycle.group_id, manage=manage)
    return cycle


def supplier_cycle_for(
    user: AnyUser, territory: Territory, cycle_id: int, producer_id: int
) -> tuple[OrderCycle, Producer]:
    """A cycle's purchase order for one farm: its group's managers, or the farm's own people."""
    require_any(user, territory)
    cycle = OrderCycle.objects.filter(pk=cycle_id, group__territory=territory).select_related("group").first()
    producer = Producer.objects.filter(pk=producer_id, territory=territory).first()
    if cycle is None or producer is None or not cycle.products.filter(producer=producer).exists():
        raise NotFound(_("This purchase order does not exist or is not yours."))
    if may_manage(user, cycle.group):
        return cycle, producer
    if (
        permissions.can(user, territory, Action.ORDERS_SUPPLY)
        and producer.users.filter(pk=_uid(user)).exists()
    ):
        return cycle, producer
    raise NotFound(_("This purchase order does not exist or is not yours."))


def producer_for(user: AnyUser, territory: Territory, producer_id: int) -> Producer:
    require_any(user, territory)
    producer = producers_of(user, territory).filter(pk=producer_id).first()
    if producer is None:
        raise NotFound(_("This farm does not exist or you do not act for it."))
    return producer


def household_in(user: AnyUser, group: BuyingGroup) -> Household:
    """The household of ``user`` that belongs to ``group`` (for ordering)."""
    household = (
        my_households(user, group.territory)
        .filter(buying_memberships__group=group, buying_memberships__left_on__isnull=True)
        .order_by("pk")
        .first()
    )
    if household is None:
        raise NotFound(_("None of your households belongs to this buying group."))
    return household


def order_for(user: AnyUser, territory: Territory, order_id: int) -> Order:
    """An order: its group's managers, or its household's own persons."""
    require_any(user, territory)
    order = (
        Order.objects.filter(pk=order_id, cycle__group__territory=territory)
        .select_related("cycle", "cycle__group", "household")
        .first()
    )
    if order is None:
        raise NotFound(_("This order does not exist or is not yours."))
    if may_manage(user, order.cycle.group):
        return order
    if my_households(user, territory).filter(pk=order.household_id).exists():
        return order
    raise NotFound(_("This order does not exist or is not yours."))


# --- social workers: the households they referred ------------------------------------------------------------------


def require_referrer(user: AnyUser, territory: Territory) -> None:
    """Someone with no role here gets 404; a role that refers no household, 403."""
    permissions.require(user, territory, Action.VIEW_TERRITORY)
    permissions.require(user, territory, Action.BASKETS_REFER)


def my_referrals(user: AnyUser, territory: Territory) -> QuerySet[Referral]:
    """The open referrals ``user`` made as a social worker, with the household's consent, of households still here."""
    if not permissions.can(user, territory, Action.BASKETS_REFER):
        return Referral.objects.none()
    return Referral.objects.filter(
        territory=territory,
        social_worker_id=_uid(user),
        status=ReferralStatus.OPEN,  # a withdrawn referral no longer lets its social worker set a tier
        consent_on__isnull=False,
        consent_on__lte=timezone.localdate(),
        household__territory=territory,
        household__left_on__isnull=True,
    )


def referred_households(user: AnyUser, territory: Territory) -> QuerySet[Household]:
    return Household.objects.filter(pk__in=my_referrals(user, territory).values("household_id")).order_by(
        "name", "pk"
    )


def referral_for_household(user: AnyUser, territory: Territory, household_id: int) -> Referral:
    """The latest referral of this household by ``user``: only the referring social worker gets one; anyone else
    (another social worker included) is told the household does not exist."""
    require_referrer(user, territory)
    referral = (
        my_referrals(user, territory)
        .filter(household_id=household_id)
        .select_related("household", "garden")
        .order_by("-created_at", "-pk")
        .first()
    )
    if referral is None:
        raise NotFound(_("This household does not exist or you did not refer it."))
    return referral
