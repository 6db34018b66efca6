"""API of biowaste: the kitchens' weighing campaigns and their figures, a service's weighing, and biowaste sent to a
farm or to composting. ``waste.access`` says which kitchens a caller reaches; ``waste.services`` decides."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from grenier.api import territory_of
from grenier.core.auth import user_of
from grenier.core.errors import InvalidInput
from grenier.waste import access, figures, references, services
from grenier.waste.models import BiowasteDelivery, Campaign, Weighing
from grenier.waste.schemas import (
    CampaignDetailOut,
    CampaignIn,
    CampaignOut,
    ComparisonOut,
    DeliveryIn,
    DeliveryOut,
    KindOut,
    ReferenceOut,
    ServiceOut,
    WeighingCorrectionIn,
    WeighingIn,
    WeighingOut,
)

router = Router(tags=["waste"])


def _decimal(value: Fraction | None, places: int = 1) -> str | None:
    """A figure rounded once, halves up, as text with a dot: ``"105.8"``."""
    if value is None:
        return None
    digits, places = figures.round_half_up(value, places)
    sign = "-" if digits < 0 else ""
    whole, part = divmod(abs(digits), 10**places)
    return f"{sign}{whole}.{part:0{places}d}" if places else f"{sign}{whole}"


def _campaign_fields(campaign: Campaign, totals: figures.Totals) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "kitchen_id": campaign.kitchen_id,
        "kitchen": campaign.kitchen.name,
        "name": campaign.name,
        "phase": campaign.phase,
        "action": campaign.action,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "services": list(campaign.services),
        "weighed_by": campaign.weighed_by,
        "compares_with": campaign.compares_with_id,
        "weighings": totals.weighings,
        "meals": totals.meals,
        "total_g": totals.total_g,
        "grams_per_meal": _decimal(totals.per_meal()),
    }


def _grams(payload: WeighingCorrectionIn) -> services.Grams:
    return services.Grams(
        preparation=payload.preparation_g,
        unserved=payload.unserved_g,
        plate=payload.plate_g,
        bread=payload.bread_g,
    )


def _weighing_out(weighing: Weighing) -> WeighingOut:
    return WeighingOut(
        id=weighing.pk,
        day=weighing.day,
        service=weighing.service,
        meals=weighing.meals,
        preparation_g=weighing.preparation_g,
        unserved_g=weighing.unserved_g,
        plate_g=weighing.plate_g,
        bread_g=weighing.bread_g,
        total_g=weighing.total_g,
        grams_per_meal=_decimal(Fraction(weighing.total_g, weighing.meals)),
        confirmed_unusual=weighing.confirmed_unusual,
        note=weighing.note,
        recorded_at=weighing.recorded_at,
    )


def _comparison_out(campaign: Campaign) -> ComparisonOut | None:
    found = figures.comparison(campaign)
    if found is None or campaign.compares_with_id is None:
        return None
    share = found.change_share()
    year = found.change_a_year_g()
    return ComparisonOut(
        before_id=campaign.compares_with_id,
        before_grams_per_meal=_decimal(found.before.per_meal()),
        after_grams_per_meal=_decimal(found.after.per_meal()),
        change_grams_per_meal=_decimal(found.change_per_meal()),
        change_percent=_decimal(None if share is None else share * 100),
        change_kg_a_year=_decimal(None if year is None else year / 1000),
        meals_per_day=campaign.kitchen.meals_per_day,
        days_a_year=found.days_a_year,
    )


def _detail(campaign: Campaign) -> CampaignDetailOut:
    totals = figures.totals(campaign.weighings.all())
    return CampaignDetailOut(
        **_campaign_fields(campaign, totals),
        by_kind=[
            KindOut(kind=kind, grams=grams, grams_per_meal=_decimal(per_meal))
            for kind, _label, grams, per_meal in totals.kinds()
        ],
        by_service=[
            ServiceOut(
                service=service,
                meals=found.meals,
                total_g=found.total_g,
                grams_per_meal=_decimal(found.per_meal()),
            )
            for service, _label, found in figures.by_service(campaign)
        ],
        comparison=_comparison_out(campaign),
        weighings_list=[_weighing_out(w) for w in campaign.weighings.all()],
        references=[
            ReferenceOut(label=str(r.label), low_g=r.low_g, high_g=r.high_g, source=r.source)
            for r in references.REFERENCES
        ],
    )


@router.get(
    "/waste/campaigns",
    response=list[CampaignOut],
    summary="Weighing campaigns: a kitchen manager's own kitchens', every kitchen's for coordinators and committee",
)
def campaign_list(request: HttpRequest) -> list[CampaignOut]:
    territory = territory_of(request)
    access.require_waste(request.user, territory)
    campaigns = access.campaigns_of(request.user, territory).select_related("kitchen")[:500]
    found = figures.totals_by_campaign(Campaign.objects.filter(pk__in=[c.pk for c in campaigns]))
    return [CampaignOut(**_campaign_fields(c, found.get(c.pk, figures.Totals()))) for c in campaigns]


@router.get(
    "/waste/campaigns/{campaign_id}",
    response=CampaignDetailOut,
    summary="A campaign's figures: grams per meal by kind and service, the comparison, its weighings",
)
def campaign_detail(request: HttpRequest, campaign_id: int) -> CampaignDetailOut:
    territory = territory_of(request)
    access.require_waste(request.user, territory)
    return _detail(access.campaign_for(request.user, territory, campaign_id))


@router.post(
    "/waste/campaigns",
    response={201: CampaignOut},
    summary="Set up a kitchen's weighing campaign (its managers)",
)
def campaign_create(request: HttpRequest, payload: CampaignIn) -> tuple[int, CampaignOut]:
    territory = territory_of(request)
    access.require_waste(request.user, territory)
    kitchen = access.kitchen_to_record(request.user, territory, payload.kitchen)
    before = None
    if payload.compares_with is not None:
        before = access.campaigns_of(request.user, territory).filter(pk=payload.compares_with).first()
        if before is None:
            raise InvalidInput(
                _("The campaign could not be created."),
                errors={"compares_with": [_("No such campaign of this kitchen.")]},
            )
    campaign = services.campaign_create(
        kitchen=kitchen,
        name=payload.name,
        phase=payload.phase,
        action=payload.action,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        services=[service.value for service in payload.services],
        weighed_by=payload.weighed_by,
        compares_with=before,
        actor=user_of(request),
        idempotency_key=payload.idempotency_key,
    )
    return 201, CampaignOut(**_campaign_fields(campaign, figures.totals(campaign.weighings.all())))


@router.post(
    "/waste/campaigns/{campaign_id}/weighings",
    response={201: WeighingOut},
    summary="Record a service's weighing (an unusual value answers 422 unusual-value until confirm is true)",
)
def weighing_record(request: HttpRequest, campaign_id: int, payload: WeighingIn) -> tuple[int, WeighingOut]:
    territory = territory_of(request)
    access.require_waste(request.user, territory)
    campaign = access.campaign_to_record(request.user, territory, campaign_id)
    weighing = services.weighing_record(
        campaign=campaign,
        day=payload.day,
        service=payload.service.value,
        meals=payload.meals,
        grams=_grams(payload),
        note=payload.note,
        confirm=payload.confirm,
        actor=user_of(request),
        idempotency_key=payload.idempotency_key,
    )
    return 201, _weighing_out(weighing)


@router.post(
    "/waste/weighings/{weighing_id}/correction",
    response=WeighingOut,
    summary="Correct a service's weighing: its figures (its day and service stay); the same checks as recording it",
)
def weighing_correct(request: HttpRequest, weighing_id: int, payload: WeighingCorrectionIn) -> WeighingOut:
    territory = territory_of(request)
    access.require_waste(request.user, territory)
    weighing = access.weighing_to_record(request.user, territory, weighing_id)
    corrected = services.weighing_correct(
        weighing=weighing,
        meals=payload.meals,
        grams=_grams(payload),
        note=payload.note,
        confirm=payload.confirm,
        actor=user_of(request),
    )
    return _weighing_out(corrected)


def _delivery_out(delivery: BiowasteDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.pk,
        kitchen_id=delivery.kitchen_id,
        kitchen=delivery.kitchen.name,
        day=delivery.day,
        weight_g=delivery.weight_g,
        kind=delivery.kind,
        producer_id=delivery.producer_id,
        destination=delivery.destination_name,
    )


@router.get(
    "/waste/deliveries", response=list[DeliveryOut], summary="Biowaste sent to farms or to composting"
)
def delivery_list(request: HttpRequest) -> list[DeliveryOut]:
    territory = territory_of(request)
    access.require_waste(request.user, territory)
    rows = access.deliveries_of(request.user, territory).select_related("kitchen", "producer")[:500]
    return [_delivery_out(d) for d in rows]


@router.post(
    "/waste/deliveries",
    response={201: DeliveryOut},
    summary="Record biowaste a kitchen sent to a farm, to composting or to another actor (its managers)",
)
def delivery_record(request: HttpRequest, payload: DeliveryIn) -> tuple[int, DeliveryOut]:
    territory = territory_of(request)
    access.require_waste(request.user, territory)
    kitchen = access.kitchen_to_record(request.user, territory, payload.kitchen)
    producer = None
    if payload.producer is not None:
        producer = access.farms(territory).filter(pk=payload.producer).first()
        if producer is None:
            raise InvalidInput(
                _("The delivery could not be recorded."),
                errors={"producer": [_("Choose the farm of the platform it went to.")]},
            )
    delivery = services.delivery_record(
        kitchen=kitchen,
        day=payload.day,
        weight_g=payload.weight_g,
        kind=payload.kind.value,
        producer=producer,
        destination=payload.destination,
        note=payload.note,
        actor=user_of(request),
        idempotency_key=payload.idempotency_key,
    )
    return 201, _delivery_out(delivery)
