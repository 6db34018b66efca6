"""The coordinator's reference data: gardens, offers, pickup points, agreements, the settings, and what a
funder paid."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from grenier.baskets import access, selectors, services
from grenier.baskets.api.common import _territory, router
from grenier.baskets.api.schemas import (
    AgreementIn,
    AgreementNewIn,
    AgreementOut,
    FunderPaymentIn,
    FunderPaymentOut,
    FunderPaymentPartOut,
    GardenIn,
    GardenNewIn,
    GardenOut,
    OfferDetailOut,
    OfferEditIn,
    OfferNewIn,
    PointDetailOut,
    PointEditIn,
    PointNewIn,
    SettingsIn,
    SettingsOut,
)
from grenier.baskets.models import Agreement, BasketOffer, Garden, PickupPoint
from grenier.core.auth import user_of
from grenier.core.errors import InvalidInput
from grenier.core.models import Territory, User
from grenier.core.permissions import Action
from grenier.fund.models import Funder, Store


def _garden_out(garden: Garden) -> GardenOut:
    return GardenOut(
        id=garden.pk,
        name=garden.name,
        address=garden.address,
        store=garden.store_id,
        store_approved=bool(garden.store and garden.store.is_approved),
    )


def _store(territory: Territory, store_id: int | None) -> Store | None:
    if store_id is None:
        return None
    store = Store.objects.filter(territory=territory, pk=store_id).first()
    if store is None:
        raise InvalidInput(_("Unknown store."), errors={"store": [_("Nothing has this number here.")]})
    return store


@router.get("/baskets/gardens", response=list[GardenOut], summary="Gardens (coordinator)")
def gardens(request: HttpRequest) -> list[GardenOut]:
    territory = _territory(request, Action.BASKETS_MANAGE)
    return [_garden_out(g) for g in access.gardens_of(request.user, territory).select_related("store")]


@router.post("/baskets/gardens", response={201: GardenOut}, summary="Add a garden (coordinator)")
def garden_create(request: HttpRequest, payload: GardenNewIn) -> tuple[int, GardenOut]:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = services.garden_create(
        territory=territory,
        name=payload.name,
        address=payload.address,
        store=_store(territory, payload.store),
        actor=user_of(request),
        idempotency_key=payload.idempotency_key,
    )
    return 201, _garden_out(garden)


@router.put("/baskets/gardens/{garden_id}", response=GardenOut, summary="Edit a garden (coordinator)")
def garden_update(request: HttpRequest, garden_id: int, payload: GardenIn) -> GardenOut:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, garden_id)
    return _garden_out(
        services.garden_update(
            garden=garden,
            name=payload.name,
            address=payload.address,
            store=_store(territory, payload.store),
            actor=user_of(request),
        )
    )


def _offer_out(offer: BasketOffer) -> OfferDetailOut:
    return OfferDetailOut(
        id=offer.pk,
        garden_id=offer.garden_id,
        name=offer.name,
        size=offer.size,
        price_cents=offer.price_cents,
        season_start=offer.season_start,
        season_end=offer.season_end,
        weekday=offer.weekday,
        active=offer.active,
    )


@router.post(
    "/baskets/gardens/{garden_id}/offers",
    response={201: OfferDetailOut},
    summary="Add an offer (coordinator)",
)
def offer_create(request: HttpRequest, garden_id: int, payload: OfferNewIn) -> tuple[int, OfferDetailOut]:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, garden_id)
    offer = services.offer_create(
        garden=garden,
        name=payload.name,
        size=payload.size,
        price_cents=payload.price_cents,
        season_start=payload.season_start,
        season_end=payload.season_end,
        weekday=payload.weekday,
        actor=user_of(request),
        idempotency_key=payload.idempotency_key,
    )
    return 201, _offer_out(offer)


@router.put(
    "/baskets/gardens/{garden_id}/offers/{offer_id}",
    response=OfferDetailOut,
    summary="Edit an offer (coordinator)",
)
def offer_update(request: HttpRequest, garden_id: int, offer_id: int, payload: OfferEditIn) -> OfferDetailOut:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, garden_id)
    offer = access.offer_for(request.user, territory, garden, offer_id)
    return _offer_out(
        services.offer_update(
            offer=offer,
            name=payload.name,
            size=payload.size,
            price_cents=payload.price_cents,
            season_start=payload.season_start,
            season_end=payload.season_end,
            weekday=payload.weekday,
            active=payload.active,
            actor=user_of(request),
        )
    )


def _point_out(point: PickupPoint) -> PointDetailOut:
    return PointDetailOut(
        id=point.pk,
        garden_id=point.garden_id,
        name=point.name,
        address=point.address,
        weekday=point.weekday,
        opens_at=point.opens_at,
        active=point.active,
        volunteers=sorted(point.volunteers.values_list("pk", flat=True)),
    )


def _users(ids: list[int]) -> list[User]:
    found = list(User.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise InvalidInput(
            _("Unknown person."),
            errors={"volunteers": [_("Volunteers are chosen among the territory's cashiers.")]},
        )
    return found


@router.post(
    "/baskets/gardens/{garden_id}/pickup-points",
    response={201: PointDetailOut},
    summary="Add a pickup point (coordinator)",
)
def point_create(request: HttpRequest, garden_id: int, payload: PointNewIn) -> tuple[int, PointDetailOut]:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, garden_id)
    point = services.pickup_point_create(
        garden=garden,
        name=payload.name,
        address=payload.address,
        weekday=payload.weekday,
        opens_at=payload.opens_at,
        volunteers=_users(payload.volunteers),
        actor=user_of(request),
        idempotency_key=payload.idempotency_key,
    )
    return 201, _point_out(point)


@router.put(
    "/baskets/gardens/{garden_id}/pickup-points/{point_id}",
    response=PointDetailOut,
    summary="Edit a pickup point and its volunteers (coordinator)",
)
def point_update(request: HttpRequest, garden_id: int, point_id: int, payload: PointEditIn) -> PointDetailOut:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, garden_id)
    point = access.pickup_point_for(request.user, territory, garden, point_id)
    return _point_out(
        services.pickup_point_update(
            pickup_point=point,
            name=payload.name,
            address=payload.address,
            weekday=payload.weekday,
            opens_at=payload.opens_at,
            volunteers=_users(payload.volunteers),
            active=payload.active,
            actor=user_of(request),
        )
    )


def _agreement_out(agreement: Agreement) -> AgreementOut:
    return AgreementOut(
        id=agreement.pk,
        garden_id=agreement.garden_id,
        funder=agreement.funder_id,
        name=agreement.name,
        share_bp=agreement.share_bp,
        amount_per_basket_cents=agreement.amount_per_basket_cents,
        budget_cents=agreement.budget_cents,
        used_cents=agreement.spent_cents,
        left_cents=agreement.left_cents,
        starts_on=agreement.starts_on,
        ends_on=agreement.ends_on,
        priority=agreement.priority,
    )


def _funder(territory: Territory, funder_id: int) -> Funder:
    funder = Funder.objects.filter(territory=territory, pk=funder_id).first()
    if funder is None:
        raise InvalidInput(_("Unknown funder."), errors={"funder": [_("Nothing has this number here.")]})
    return funder


def _agreement_fields(territory: Territory, payload: AgreementIn) -> dict[str, Any]:
    return {
        "funder": _funder(territory, payload.funder),
        "name": payload.name,
        "share_bp": payload.share_bp,
        "amount_per_basket_cents": payload.amount_per_basket_cents,
        "budget_cents": payload.budget_cents,
        "starts_on": payload.starts_on,
        "ends_on": payload.ends_on,
        "priority": payload.priority,
    }


@router.post(
    "/baskets/gardens/{garden_id}/agreements",
    response={201: AgreementOut},
    summary="Add a co-financing agreement (coordinator)",
)
def agreement_create(
    request: HttpRequest, garden_id: int, payload: AgreementNewIn
) -> tuple[int, AgreementOut]:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, garden_id)
    agreement = services.agreement_create(
        garden=garden,
        **_agreement_fields(territory, payload),
        actor=user_of(request),
        idempotency_key=payload.idempotency_key,
    )
    return 201, _agreement_out(agreement)


@router.put(
    "/baskets/gardens/{garden_id}/agreements/{agreement_id}",
    response=AgreementOut,
    summary="Edit a co-financing agreement (coordinator)",
)
def agreement_update(
    request: HttpRequest, garden_id: int, agreement_id: int, payload: AgreementIn
) -> AgreementOut:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, garden_id)
    agreement = access.agreement_for(request.user, territory, garden, agreement_id)
    return _agreement_out(
        services.agreement_update(
            agreement=agreement, **_agreement_fields(territory, payload), actor=user_of(request)
        )
    )


@router.get("/baskets/settings", response=SettingsOut, summary="The member's part cap (coordinator)")
def settings_detail(request: HttpRequest) -> SettingsOut:
    territory = _territory(request, Action.BASKETS_MANAGE)
    found = selectors.settings_of(territory)
    return SettingsOut(member_cap_bp=found.member_cap_bp, warn_weeks=found.warn_weeks)


@router.put("/baskets/settings", response=SettingsOut, summary="Set the member's part cap (coordinator)")
def settings_update(request: HttpRequest, payload: SettingsIn) -> SettingsOut:
    territory = _territory(request, Action.BASKETS_MANAGE)
    found = services.settings_set(
        territory=territory,
        member_cap_bp=payload.member_cap_bp,
        warn_weeks=payload.warn_weeks,
        actor=user_of(request),
    )
    return SettingsOut(member_cap_bp=found.member_cap_bp, warn_weeks=found.warn_weeks)


@router.post(
    "/baskets/funder-payments",
    response={201: FunderPaymentOut},
    summary="Record what a funder paid for a period (coordinator)",
)
def funder_payment(request: HttpRequest, payload: FunderPaymentIn) -> tuple[int, FunderPaymentOut]:
    territory = _territory(request, Action.BASKETS_MANAGE)
    funder = access.funder_for(request.user, territory, payload.funder)
    agreement = None
    if payload.agreement is not None:
        agreement = Agreement.objects.filter(funder=funder, pk=payload.agreement).first()
        if agreement is None:
            raise InvalidInput(
                _("Unknown agreement."), errors={"agreement": [_("Not an agreement of this funder.")]}
            )
    payment = services.funder_payment_record(
        funder=funder,
        start=payload.start,
        end=payload.end,
        amount_cents=payload.amount_cents,
        received_on=payload.received_on,
        reference=payload.reference,
        agreement=agreement,
        idempotency_key=payload.idempotency_key,
        actor=user_of(request),
    )
    dues = selectors.funder_dues(funder, payment.period_start, payment.period_end)
    return 201, FunderPaymentOut(
        id=payment.pk,
        funder=funder.pk,
        start=payment.period_start,
        end=payment.period_end,
        received_on=payment.received_on,
        amount_cents=payment.amount_cents,
        reference=payment.reference,
        parts=[
            FunderPaymentPartOut(agreement=p.agreement_id, amount_cents=p.amount_cents)
            for p in payment.parts.order_by("pk")
        ],
        left_cents=sum(d.left_cents for d in dues),
    )
