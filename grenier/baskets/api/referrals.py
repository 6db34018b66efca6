"""A social worker's own referrals: listed, read, made."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from grenier.baskets import access, selectors, services
from grenier.baskets.api.common import _territory, router
from grenier.baskets.api.schemas import ReferralIn, ReferralOut
from grenier.baskets.models import Garden, Referral
from grenier.core.auth import user_of
from grenier.core.errors import InvalidInput
from grenier.core.permissions import Action


def _referral_out(referral: Referral) -> ReferralOut:
    return ReferralOut(
        id=referral.pk,
        garden=referral.garden.name,
        household=str(referral.household.display_name),
        household_id=referral.household_id,
        consent_on=referral.consent_on,
        member_share_bp=referral.member_share_bp,
        status=selectors.referral_status(referral),
        created_at=referral.created_at,
    )


@router.get("/baskets/referrals", response=list[ReferralOut], summary="Referrals: a social worker's own")
def referrals(request: HttpRequest) -> list[ReferralOut]:
    territory = _territory(request, Action.BASKETS_REFER, Action.BASKETS_MANAGE)
    return [
        _referral_out(r)
        for r in access.referrals_of(request.user, territory).select_related("garden", "household")
    ]


@router.get("/baskets/referrals/{referral_id}", response=ReferralOut, summary="One referral and its status")
def referral_detail(request: HttpRequest, referral_id: int) -> ReferralOut:
    territory = _territory(request, Action.BASKETS_REFER, Action.BASKETS_MANAGE)
    return _referral_out(access.referral_for(request.user, territory, referral_id))


@router.post("/baskets/referrals", response={201: ReferralOut}, summary="Refer a household (social worker)")
def referral_create(request: HttpRequest, payload: ReferralIn) -> tuple[int, ReferralOut]:
    territory = _territory(request, Action.BASKETS_REFER)
    garden = Garden.objects.filter(territory=territory, pk=payload.garden).first()
    if garden is None:
        raise InvalidInput(_("Unknown garden."), errors={"garden": [_("Nothing has this number here.")]})
    referral = services.referral_create(
        garden=garden,
        social_worker=user_of(request),
        consent=payload.consent,
        idempotency_key=payload.idempotency_key,
        card=payload.card,
        new_household=None
        if payload.card.strip()
        else services.NewHousehold(
            name=payload.name, first_name=payload.first_name, persons=payload.persons, phone=payload.phone
        ),
        member_share_bp=payload.member_share_bp,
        note=payload.note,
    )
    return 201, _referral_out(referral)
