"""Buying groups, their tiers and pickup points, their members and the tiers a social worker sets."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.baskets.models import Referral
from grenier.core.errors import Conflict, Forbidden, NotFound
from grenier.core.households import household_with_card
from grenier.core.models import Household, Territory, User
from grenier.core.services import audit
from grenier.fund.models import Store
from grenier.orders.models import (
    BuyingGroup,
    GroupMembership,
    GroupPickupPoint,
    Order,
    OrderCycle,
    OrderStatus,
    PriceTier,
    TierSource,
)
from grenier.orders.services.common import DEFAULT_TIERS, _invalid

# --- groups, tiers, pickup points, members --------------------------------------------------------------------


def group_create(
    *,
    territory: Territory,
    name: str,
    description: str = "",
    tiers: Sequence[tuple[str, int]] = DEFAULT_TIERS,
    default_percent: int = 100,
    coordinators: Sequence[User] = (),
    store: Store | None = None,
    actor: User | None,
) -> BuyingGroup:
    """A buying group with its price tiers (name, percent of the price); the default tier is ``default_percent``."""
    name = name.strip()
    if not name:
        raise _invalid("name", _("A group needs a name."))
    percents = [percent for _name, percent in tiers]
    if not tiers or len(set(percents)) != len(percents) or any(not 1 <= p <= 300 for p in percents):
        raise _invalid("tiers", _("Tiers must be distinct percentages between 1 and 300."))
    if default_percent not in percents:
        raise _invalid("tiers", _("The default tier must be one of the tiers."))
    if store is not None and store.territory_id != territory.pk:
        raise _invalid("store", _("This point of sale is in another territory."))
    with transaction.atomic():
        if BuyingGroup.objects.filter(territory=territory, name=name).exists():
            raise _invalid("name", _("A group of this name already exists here."))
        group = BuyingGroup.objects.create(
            territory=territory, name=name, description=description, store=store
        )
        PriceTier.objects.bulk_create(
            PriceTier(group=group, name=tier_name, percent=percent, is_default=percent == default_percent)
            for tier_name, percent in tiers
        )
        if coordinators:
            group.coordinators.add(*coordinators)
        audit(territory=territory, actor=actor, action="orders.group.create", subject=f"group:{group.pk}")
    return group


def group_store_set(*, group: BuyingGroup, store: Store | None, actor: User | None) -> BuyingGroup:
    if store is not None and store.territory_id != group.territory_id:
        raise _invalid("store", _("This point of sale is in another territory."))
    with transaction.atomic():
        group.store = store
        group.save(update_fields=["store"])
        audit(
            territory=group.territory, actor=actor, action="orders.group.store", subject=f"group:{group.pk}"
        )
    return group


def coordinator_add(*, group: BuyingGroup, user: User, actor: User | None) -> None:
    with transaction.atomic():
        group.coordinators.add(user)
        audit(
            territory=group.territory,
            actor=actor,
            action="orders.group.coordinator",
            subject=f"group:{group.pk}",
        )


def pickup_point_create(
    *, group: BuyingGroup, name: str, address: str = "", hours: str = "", actor: User | None
) -> GroupPickupPoint:
    name = name.strip()
    if not name:
        raise _invalid("name", _("A pickup point needs a name."))
    with transaction.atomic():
        point, _created = GroupPickupPoint.objects.get_or_create(
            group=group, name=name, defaults={"address": address.strip(), "hours": hours.strip()}
        )
        audit(
            territory=group.territory, actor=actor, action="orders.pickup_point", subject=f"group:{group.pk}"
        )
    return point


def _default_tier(group: BuyingGroup) -> PriceTier:
    tier = group.tiers.filter(is_default=True).first() or group.tiers.order_by("percent").first()
    if tier is None:
        raise Conflict(_("This group has no price tier."))
    return tier


def membership_join(
    *, group: BuyingGroup, household: Household, tier: PriceTier | None = None, actor: User | None
) -> GroupMembership:
    """A household joins a group (or comes back), at ``tier`` or the group's default. Joining twice changes nothing."""
    if household.territory_id != group.territory_id or household.left_on is not None:
        raise NotFound(_("No active household of this territory has this number."))
    if tier is not None and tier.group_id != group.pk:
        raise _invalid("tier", _("This tier is not one of the group's."))
    with transaction.atomic():
        membership = (
            GroupMembership.objects.select_for_update().filter(group=group, household=household).first()
        )
        if membership is not None and membership.left_on is None:
            return membership
        if membership is None:
            membership = GroupMembership.objects.create(
                group=group, household=household, tier=tier or _default_tier(group)
            )
        else:
            membership.left_on = None
            membership.joined_on = timezone.localdate()
            if tier is not None and membership.tier_source == TierSource.CHOSEN:
                membership.tier = tier
            membership.save(update_fields=["left_on", "joined_on", "tier"])
        audit(
            territory=group.territory,
            actor=actor,
            action="orders.member.join",
            subject=f"group:{group.pk}",
            household=household.pk,
        )
    return membership


def membership_leave(*, membership: GroupMembership, actor: User | None) -> GroupMembership:
    """Leaving is free: orders already placed stay (a coordinator may cancel an open one with the household)."""
    with transaction.atomic():
        if membership.left_on is None:
            membership.left_on = timezone.localdate()
            membership.save(update_fields=["left_on"])
            audit(
                territory=membership.group.territory,
                actor=actor,
                action="orders.member.leave",
                subject=f"group:{membership.group_id}",
                household=membership.household_id,
            )
    return membership


class TierSetByReferral(Forbidden):
    code = "tier-set-by-referral"


def _tier_record(
    locked: GroupMembership,
    tier: PriceTier,
    *,
    source: str,
    floor: int | None,
    note: str,
    referral: Referral | None,
    actor: User | None,
) -> None:
    locked.tier = tier
    locked.tier_source = source
    locked.referral_percent = floor
    locked.referral_note = note[:200]
    locked.set_by_referral = referral
    locked.tier_set_by = actor
    locked.tier_set_at = timezone.now()
    locked.save(
        update_fields=[
            "tier",
            "tier_source",
            "referral_percent",
            "referral_note",
            "set_by_referral",
            "tier_set_by",
            "tier_set_at",
        ]
    )
    _reprice_open_orders(locked, tier.percent)


def _reprice_open_orders(membership: GroupMembership, percent: int) -> int:
    """A new tier applies at once to the household's orders in the group's cycles still taking orders (their rows
    locked first, so that a close running now sees either the old tier or the new one, never a mix). Closed cycles
    keep what they froze. Returns the number of orders re-priced."""
    now = timezone.now()
    cycle_ids = list(
        OrderCycle.objects.select_for_update()
        .filter(group_id=membership.group_id, closed_at__isnull=True, closes_at__gt=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not cycle_ids:
        return 0
    return (
        Order.objects.filter(
            cycle_id__in=cycle_ids,
            household_id=membership.household_id,
            status=OrderStatus.PLACED,
            cycle__closed_at__isnull=True,
        )
        .exclude(tier_percent=percent)
        .update(tier_percent=percent, updated_at=now)
    )


def tier_set(
    *,
    membership: GroupMembership,
    tier: PriceTier,
    actor: User | None,
    by_household: bool,
    referral: str = "",
) -> GroupMembership:
    """Set a household's tier.

    * The household chooses it (``by_household``). While a referral set its tier, it may choose to pay more, never
      a tier below the referral's (``TierSetByReferral``); the tier stays set by the referral.
    * A coordinator sets it: with ``referral`` (which referral, in words) the tier becomes set by a referral, with
      this tier as its floor; without, the household's choice again (any earlier referral lifted).
    """
    if tier.group_id != membership.group_id:
        raise _invalid("tier", _("This tier is not one of the group's."))
    with transaction.atomic():
        locked = GroupMembership.objects.select_for_update().get(pk=membership.pk)
        if by_household:
            if locked.tier_source == TierSource.REFERRAL:
                floor = locked.referral_percent or 0
                if tier.percent < floor:
                    raise TierSetByReferral(
                        _(
                            "Your tier was set by a referral: you may choose to pay more, not less. Ask the "
                            "social worker who referred you to change it."
                        ),
                        errors={"tier": [_("At least %(percent)s %% of the price.") % {"percent": floor}]},
                    )
                _tier_record(
                    locked,
                    tier,
                    source=TierSource.REFERRAL,
                    floor=floor,
                    note=locked.referral_note,
                    referral=locked.set_by_referral,
                    actor=actor,
                )
            else:
                _tier_record(
                    locked, tier, source=TierSource.CHOSEN, floor=None, note="", referral=None, actor=actor
                )
        elif referral.strip():
            _tier_record(
                locked,
                tier,
                source=TierSource.REFERRAL,
                floor=tier.percent,
                note=referral.strip(),
                referral=None,
                actor=actor,
            )
        else:
            _tier_record(
                locked, tier, source=TierSource.CHOSEN, floor=None, note="", referral=None, actor=actor
            )
        audit(
            territory=locked.group.territory,
            actor=actor,
            action="orders.member.tier",
            subject=f"group:{locked.group_id}",
            household=locked.household_id,
            percent=tier.percent,
            source=locked.tier_source,
        )
    return locked


def tier_set_by_referral(
    *, group: BuyingGroup, tier: PriceTier, referral: Referral, actor: User
) -> GroupMembership:
    """The social worker who referred a household sets its tier in ``group`` (and adds it to the group if it is not
    a member): the tier is then set by this referral, its floor for the household's own choices. Setting the same
    tier again changes nothing but who set it last. ``access.referral_for_household`` checks the referral is the
    actor's own, with the household's consent."""
    household = referral.household
    if referral.social_worker_id != actor.pk:
        raise NotFound(_("This household was not referred by you."))
    if referral.territory_id != group.territory_id or household.territory_id != group.territory_id:
        raise NotFound(_("This buying group does not exist."))
    if household.left_on is not None:
        raise NotFound(_("No active household of this territory has this number."))
    if tier.group_id != group.pk:
        raise _invalid("tier", _("This tier is not one of the group's."))
    with transaction.atomic():
        membership = membership_join(group=group, household=household, tier=tier, actor=actor)
        locked = GroupMembership.objects.select_for_update().get(pk=membership.pk)
        _tier_record(
            locked,
            tier,
            source=TierSource.REFERRAL,
            floor=tier.percent,
            note=referral.garden.name,
            referral=referral,
            actor=actor,
        )
        audit(
            territory=group.territory,
            actor=actor,
            action="orders.member.tier.referral",
            subject=f"group:{group.pk}",
            household=household.pk,
            referral=referral.pk,
            percent=tier.percent,
        )
    return locked


def member_add_by_card(
    *, group: BuyingGroup, card: str, tier: PriceTier | None = None, actor: User | None
) -> GroupMembership:
    """A group's coordinator adds a household by its card number (they may not list the territory's households).
    An unknown or malformed number is refused on the ``card`` field, saying nothing of any household."""
    household = household_with_card(group.territory, card or "")
    if household is None:
        raise _invalid("card", _("No active household of this territory has this card number."))
    return membership_join(group=group, household=household, tier=tier, actor=actor)
