"""Members through the API: a household added by its card, tiers of the households a social worker referred."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from grenier.api import territory_of
from grenier.core.auth import user_of
from grenier.core.errors import InvalidInput, NotFound
from grenier.core.models import Territory
from grenier.orders import access, services
from grenier.orders.api.common import router
from grenier.orders.api.schemas import (
    GroupTiersOut,
    MemberCardIn,
    MembershipOut,
    ReferredDetailOut,
    ReferredOut,
    ReferredTierIn,
    TierOut,
)
from grenier.orders.models import (
    BuyingGroup,
    GroupMembership,
)


def _membership_out(m: GroupMembership) -> MembershipOut:
    return MembershipOut(
        id=m.pk,
        group=m.group_id,
        group_name=m.group.name,
        household=m.household_id,
        household_name=m.household.display_name,
        tier=m.tier_id,
        tier_percent=m.tier.percent,
        tier_source=m.tier_source,
        referral_percent=m.referral_percent,
        set_by_referral=m.set_by_referral_id,
        tier_set_by=m.tier_set_by_id,
    )


def _group_tier(group: BuyingGroup, tier_id: int | None):
    if tier_id is None:
        return None
    tier = group.tiers.filter(pk=tier_id).first()
    if tier is None:
        raise InvalidInput(
            _("This tier is not one of the group's."),
            errors={"tier": [_("This tier is not one of the group's.")]},
        )
    return tier


@router.post(
    "/orders/groups/{group_id}/members",
    response={201: MembershipOut},
    summary="Add a household to a group by its card number (the group's coordinators: no list of households)",
)
def member_add(request: HttpRequest, group_id: int, payload: MemberCardIn) -> tuple[int, MembershipOut]:
    territory = territory_of(request)
    group = access.group_for(request.user, territory, group_id, manage=True)
    membership = services.member_add_by_card(
        group=group, card=payload.card, tier=_group_tier(group, payload.tier), actor=user_of(request)
    )
    return 201, _membership_out(membership)


def _referred_out(referral: object, memberships: list[GroupMembership]) -> dict[str, object]:
    return {
        "household": referral.household_id,  # type: ignore[attr-defined]
        "name": referral.household.display_name,  # type: ignore[attr-defined]
        "referral": referral.pk,  # type: ignore[attr-defined]
        "consent_on": referral.consent_on,  # type: ignore[attr-defined]
        "memberships": [_membership_out(m) for m in memberships],
    }


def _active_memberships(territory: Territory, household_ids: list[int]) -> list[GroupMembership]:
    return list(
        GroupMembership.objects.filter(
            household_id__in=household_ids, left_on__isnull=True, group__territory=territory
        ).select_related("group", "household", "tier")
    )


@router.get(
    "/orders/referred-households",
    response=list[ReferredOut],
    summary="The households the calling social worker referred (with consent) and their buying groups",
)
def referred_list(request: HttpRequest) -> list[ReferredOut]:
    territory = territory_of(request)
    access.require_referrer(request.user, territory)
    latest: dict[int, object] = {}
    for referral in (
        access.my_referrals(request.user, territory).select_related("household").order_by("created_at", "pk")
    ):
        latest[referral.household_id] = referral
    memberships = _active_memberships(territory, list(latest))
    return [
        ReferredOut(**_referred_out(r, [m for m in memberships if m.household_id == hid]))  # type: ignore[arg-type]
        for hid, r in sorted(latest.items(), key=lambda item: item[1].household.name)  # type: ignore[attr-defined]
    ]


@router.get(
    "/orders/referred-households/{household_id}",
    response=ReferredDetailOut,
    summary="A household the caller referred: the territory's groups, their tiers and its membership in each",
)
def referred_detail(request: HttpRequest, household_id: int) -> ReferredDetailOut:
    territory = territory_of(request)
    referral = access.referral_for_household(request.user, territory, household_id)
    memberships = _active_memberships(territory, [referral.household_id])
    by_group = {m.group_id: m for m in memberships}
    groups = BuyingGroup.objects.filter(territory=territory).prefetch_related("tiers").order_by("name")
    return ReferredDetailOut(
        **_referred_out(referral, memberships),  # type: ignore[arg-type]
        groups=[
            GroupTiersOut(
                id=g.pk,
                name=g.name,
                tiers=[
                    TierOut(id=t.pk, name=t.name, percent=t.percent, is_default=t.is_default)
                    for t in g.tiers.all()
                ],
                membership=_membership_out(by_group[g.pk]) if g.pk in by_group else None,
            )
            for g in groups
        ],
    )


@router.put(
    "/orders/referred-households/{household_id}/groups/{group_id}",
    response=MembershipOut,
    summary="Set the tier of a household the caller referred in a group (adds it to the group if needed)",
)
def referred_tier(
    request: HttpRequest, household_id: int, group_id: int, payload: ReferredTierIn
) -> MembershipOut:
    territory = territory_of(request)
    referral = access.referral_for_household(request.user, territory, household_id)
    group = BuyingGroup.objects.filter(territory=territory, pk=group_id).first()
    if group is None:
        raise NotFound(_("This buying group does not exist."))
    tier = _group_tier(group, payload.tier)
    assert tier is not None  # noqa: S101 - ``payload.tier`` is required
    membership = services.tier_set_by_referral(
        group=group, tier=tier, referral=referral, actor=user_of(request)
    )
    return _membership_out(membership)
