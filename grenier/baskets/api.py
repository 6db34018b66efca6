"""API of the solidarity baskets, under ``/api/v1/baskets/``: offers, a household's own subscriptions, a social
worker's own referrals, distribution sheets and their check-off, funders' statements.

Money is integer cents. Who sees what is the pages' rule (``baskets.access``): a referral, subscription, sheet or
funder one does not act for answers "not found"; a role that may not use an endpoint answers 403.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from grenier.api import territory_of
from grenier.baskets import access, selectors, services
from grenier.baskets.models import (
    Agreement,
    BasketOffer,
    BasketSize,
    DistributionLine,
    DistributionSheet,
    Frequency,
    Garden,
    PaymentMethod,
    PickupPoint,
    Referral,
    Subscription,
)
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import Forbidden, InvalidInput, NotFound
from grenier.core.models import Household, Territory, User
from grenier.core.permissions import Action
from grenier.core.schemas import (
    FROM_TEXT,
    BasisPoints,
    Cents,
    Day,
    Id,
    InputSchema,
    Items,
    TimeOfDay,
    Weekday,
)
from grenier.fund.models import Funder, Store

router = Router(tags=["baskets"])


# --- helpers -------------------------------------------------------------------------------------------------------


def _territory(request: HttpRequest, *actions: Action) -> Territory:
    """The call's territory (404 with no role there), then 403 unless a role allows one of ``actions``."""
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.VIEW_TERRITORY)
    if not any(permissions.can(request.user, territory, action) for action in actions):
        raise Forbidden(_("Your role in this territory does not allow this."))
    return territory


# --- schemas -------------------------------------------------------------------------------------------------------


class PickupPointOut(Schema):
    id: int
    name: str
    address: str
    weekday: int = Field(..., description="0 = Monday … 6 = Sunday")
    opens_at: TimeOfDay


class OfferOut(Schema):
    id: int
    garden: str
    garden_id: int
    name: str
    size: str
    price_cents: int
    member_cap_cents: int = Field(
        ..., description="The most a member pays for this basket (the territory's cap)."
    )
    season_start: date
    season_end: date
    weekday: int
    pickup_points: list[PickupPointOut]


class SubscriptionIn(InputSchema):
    household: Id | None = Field(
        None, description="Needed for a coordinator, or a person of several households."
    )
    offer: Id
    pickup_point: Id
    frequency: Annotated[Frequency, FROM_TEXT] = Frequency.WEEKLY
    start_on: Day
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class SubscriptionOut(Schema):
    id: int
    household: int
    offer: int
    offer_name: str
    pickup_point: int
    pickup_point_name: str
    frequency: str
    start_on: date
    paused_from: date | None
    stopped_on: date | None
    member_share_bp: int | None
    next_baskets: list[date]
    absences: list[date]
    balance_cents: int = Field(
        ..., description="Paid minus member parts due at this garden (negative: owed)."
    )


class DayIn(InputSchema):
    on: Day


class SubscriptionActionIn(InputSchema):
    action: str = Field(..., pattern="^(pause|resume|stop)$")


class ReferralIn(InputSchema):
    garden: Id
    consent: bool = Field(..., description="The household agreed to be referred (must be true).")
    card: str = Field(
        "", max_length=30, description="Card number of a household already member of the territory."
    )
    name: str = Field("", max_length=150, description="A new household's name (when there is no card).")
    first_name: str = Field("", max_length=100)
    persons: int = Field(1, ge=1, le=20)
    phone: str = Field("", max_length=30)
    member_share_bp: BasisPoints | None = None
    note: str = Field("", max_length=300)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class ReferralOut(Schema):
    id: int
    garden: str
    household: str
    household_id: int
    consent_on: date
    member_share_bp: int | None
    status: str = Field(..., description="member, subscribed, paused, stopped or left")
    created_at: datetime


class SheetLineOut(Schema):
    id: int
    household: str
    offer: str
    status: str


class SheetOut(Schema):
    id: int
    pickup_point: str
    garden: str
    on: date
    closed: bool
    lines: list[SheetLineOut]


class CheckIn(InputSchema):
    collected: bool = True


class GenerateIn(InputSchema):
    garden: Id
    day: Day


class GenerateOut(Schema):
    sheets: list[int]
    lines_created: int
    short_cents: int
    warned: list[str]


class BasketPaymentIn(InputSchema):
    garden: Id
    household: str = Field(..., min_length=1, max_length=30, description="The household's card number.")
    amount_cents: Cents = Field(..., gt=0, le=100_000_00)
    method: Annotated[PaymentMethod, FROM_TEXT]
    reference: str = Field("", max_length=100)
    code: str | None = Field(None, max_length=6)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class BasketPaymentOut(Schema):
    id: int
    household: int
    amount_cents: int
    method: str
    reference: str
    balance_cents: int


class StatementMonthOut(Schema):
    month: date = Field(..., description="The first day of the month.")
    baskets: int
    funded_cents: int


class StatementRowOut(Schema):
    agreement: str
    garden: str
    baskets: int
    funded_cents: int
    budget_cents: int
    used_cents: int
    left_cents: int
    paid_cents: int = Field(..., description="Paid by the funder for the period.")
    left_to_pay_cents: int
    by_month: list[StatementMonthOut]


class FunderStatementOut(Schema):
    funder: str
    start: date
    end: date
    baskets: int
    funded_cents: int = Field(..., description="Due by the funder for the period's baskets.")
    paid_cents: int
    left_to_pay_cents: int
    agreements: list[StatementRowOut]


class ForecastWeekOut(Schema):
    monday: date
    baskets: int
    to_fund_cents: int
    covered_cents: int
    short_cents: int


class ForecastOut(Schema):
    garden: str
    first_short: date | None
    short_cents: int
    weeks: list[ForecastWeekOut]


# --- offers --------------------------------------------------------------------------------------------------------


@router.get("/baskets/offers", response=list[OfferOut], summary="Basket offers of the territory's gardens")
def offers(request: HttpRequest) -> list[OfferOut]:
    territory = _territory(
        request, Action.BASKETS_OWN, Action.BASKETS_REFER, Action.BASKETS_MANAGE, Action.BASKETS_DISTRIBUTE
    )
    cap = selectors.settings_of(territory).member_cap_bp
    found = BasketOffer.objects.filter(garden__territory=territory, active=True).select_related("garden")
    points: dict[int, list[PickupPoint]] = {}
    for point in PickupPoint.objects.filter(garden__territory=territory, active=True):
        points.setdefault(point.garden_id, []).append(point)
    return [
        OfferOut(
            id=o.pk,
            garden=o.garden.name,
            garden_id=o.garden_id,
            name=o.name,
            size=o.size,
            price_cents=o.price_cents,
            member_cap_cents=o.price_cents * cap // 10_000,
            season_start=o.season_start,
            season_end=o.season_end,
            weekday=o.weekday,
            pickup_points=[
                PickupPointOut(
                    id=p.pk, name=p.name, address=p.address, weekday=p.weekday, opens_at=p.opens_at
                )
                for p in points.get(o.garden_id, [])
                if p.weekday == o.weekday
            ],
        )
        for o in found
    ]


# --- subscriptions -------------------------------------------------------------------------------------------------


def _subscription_out(subscription: Subscription) -> SubscriptionOut:
    today = timezone.localdate()
    return SubscriptionOut(
        id=subscription.pk,
        household=subscription.household_id,
        offer=subscription.offer_id,
        offer_name=subscription.offer.name,
        pickup_point=subscription.pickup_point_id,
        pickup_point_name=subscription.pickup_point.name,
        frequency=subscription.frequency,
        start_on=subscription.start_on,
        paused_from=subscription.paused_from,
        stopped_on=subscription.stopped_on,
        member_share_bp=subscription.member_share_bp,
        next_baskets=[day for day, absent in selectors.next_baskets(subscription, today) if not absent],
        absences=list(subscription.absences.filter(on__gte=today).values_list("on", flat=True)),
        balance_cents=selectors.member_balance(subscription.offer.garden, subscription.household),
    )


@router.get(
    "/baskets/subscriptions",
    response=list[SubscriptionOut],
    summary="Subscriptions: one's own (all for a coordinator)",
)
def subscriptions(request: HttpRequest) -> list[SubscriptionOut]:
    territory = _territory(request, Action.BASKETS_OWN, Action.BASKETS_MANAGE)
    return [
        _subscription_out(s)
        for s in access.subscriptions_of(request.user, territory).select_related(
            "offer__garden", "pickup_point", "household"
        )
    ]


@router.post("/baskets/subscriptions", response={201: SubscriptionOut}, summary="Take a basket")
def subscription_create(request: HttpRequest, payload: SubscriptionIn) -> tuple[int, SubscriptionOut]:
    """A member household subscribes at a garden it is a member of; a coordinator subscribes any household."""
    territory = _territory(request, Action.BASKETS_OWN, Action.BASKETS_MANAGE)
    user = user_of(request)
    offer = (
        BasketOffer.objects.filter(garden__territory=territory, pk=payload.offer)
        .select_related("garden")
        .first()
    )
    if offer is None:
        raise InvalidInput(_("Unknown offer."), errors={"offer": [_("Nothing has this number here.")]})
    point = PickupPoint.objects.filter(garden=offer.garden, pk=payload.pickup_point).first()
    if point is None:
        raise InvalidInput(
            _("Unknown pickup point."), errors={"pickup_point": [_("Not a pickup point of this garden.")]}
        )
    if access.manages(user, territory):
        household = Household.objects.filter(territory=territory, pk=payload.household or 0).first()
        if household is None:
            raise InvalidInput(
                _("Unknown household."), errors={"household": [_("Nothing has this number here.")]}
            )
    else:
        own = access.own_households(user, territory).filter(
            garden_memberships__garden=offer.garden, garden_memberships__left_on__isnull=True
        )
        if payload.household is not None:
            own = own.filter(pk=payload.household)
        candidates = list(own[:2])
        if not candidates:
            raise Forbidden(_("Your household is not a member of this garden: ask a social worker."))
        if len(candidates) > 1:
            raise InvalidInput(
                _("Say which household."), errors={"household": [_("This field is required.")]}
            )
        household = candidates[0]
    subscription = services.subscription_create(
        household=household,
        offer=offer,
        pickup_point=point,
        frequency=payload.frequency,
        start_on=payload.start_on,
        actor=user,
        idempotency_key=payload.idempotency_key,
    )
    return 201, _subscription_out(subscription)


def _subscription(request: HttpRequest, subscription_id: int) -> Subscription:
    territory = _territory(request, Action.BASKETS_OWN, Action.BASKETS_MANAGE)
    return access.subscription_for(request.user, territory, subscription_id)


@router.get("/baskets/subscriptions/{subscription_id}", response=SubscriptionOut, summary="One subscription")
def subscription_detail(request: HttpRequest, subscription_id: int) -> SubscriptionOut:
    return _subscription_out(_subscription(request, subscription_id))


@router.post(
    "/baskets/subscriptions/{subscription_id}/absences",
    response=SubscriptionOut,
    summary="Announce an absence",
)
def absence_add(request: HttpRequest, subscription_id: int, payload: DayIn) -> SubscriptionOut:
    found = _subscription(request, subscription_id)
    services.absence_add(subscription=found, on=payload.on, actor=user_of(request))
    return _subscription_out(found)


@router.delete(
    "/baskets/subscriptions/{subscription_id}/absences/{on}",
    response=SubscriptionOut,
    summary="Withdraw an absence",
)
def absence_remove(request: HttpRequest, subscription_id: int, on: Day) -> SubscriptionOut:
    found = _subscription(request, subscription_id)
    services.absence_remove(subscription=found, on=on, actor=user_of(request))
    return _subscription_out(found)


@router.post(
    "/baskets/subscriptions/{subscription_id}/status",
    response=SubscriptionOut,
    summary="Pause, resume or stop",
)
def subscription_status(
    request: HttpRequest, subscription_id: int, payload: SubscriptionActionIn
) -> SubscriptionOut:
    found = _subscription(request, subscription_id)
    actor = user_of(request)
    if payload.action == "pause":
        found = services.subscription_pause(subscription=found, actor=actor)
    elif payload.action == "resume":
        found = services.subscription_resume(subscription=found, actor=actor)
    else:
        found = services.subscription_stop(subscription=found, actor=actor)
    return _subscription_out(
        Subscription.objects.select_related("offer__garden", "pickup_point", "household").get(pk=found.pk)
    )


# --- referrals -----------------------------------------------------------------------------------------------------


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


# --- distribution sheets -------------------------------------------------------------------------------------------


def _sheet_out(sheet: DistributionSheet) -> SheetOut:
    lines = sheet.lines.select_related("household", "offer").order_by("household__name", "pk")
    return SheetOut(
        id=sheet.pk,
        pickup_point=sheet.pickup_point.name,
        garden=sheet.pickup_point.garden.name,
        on=sheet.on,
        closed=sheet.closed_at is not None,
        lines=[
            SheetLineOut(
                id=line.pk,
                household=str(line.household.display_name),
                offer=line.offer.name,
                status=line.status,
            )
            for line in lines
        ],
    )


class SheetsQuery(Schema):
    on: Day | None = Field(None, description="Sheets of this day only (default: from two weeks ago on).")


@router.get("/baskets/sheets", response=list[SheetOut], summary="Sheets of the pickup points one serves")
def sheets(request: HttpRequest, query: Query[SheetsQuery]) -> list[SheetOut]:
    territory = _territory(request, Action.BASKETS_DISTRIBUTE)
    found = selectors.sheets_for_points(
        access.pickup_points_of(request.user, territory), timezone.localdate()
    )
    if query.on is not None:
        found = DistributionSheet.objects.filter(
            pickup_point__in=access.pickup_points_of(request.user, territory), on=query.on
        ).select_related("pickup_point__garden")
    return [_sheet_out(sheet) for sheet in found]


@router.get("/baskets/sheets/{sheet_id}", response=SheetOut, summary="One distribution sheet")
def sheet_detail(request: HttpRequest, sheet_id: int) -> SheetOut:
    territory = _territory(request, Action.BASKETS_DISTRIBUTE)
    return _sheet_out(access.sheet_for(request.user, territory, sheet_id))


@router.post(
    "/baskets/sheets/{sheet_id}/lines/{line_id}", response=SheetLineOut, summary="Check a basket off"
)
def sheet_line(request: HttpRequest, sheet_id: int, line_id: int, payload: CheckIn) -> SheetLineOut:
    territory = _territory(request, Action.BASKETS_DISTRIBUTE)
    sheet = access.sheet_for(request.user, territory, sheet_id)
    line = (
        DistributionLine.objects.filter(sheet=sheet, pk=line_id).select_related("household", "offer").first()
    )
    if line is None:
        raise NotFound(_("No such line on this sheet."))
    checked = services.line_check(line=line, collected=payload.collected, actor=user_of(request))
    return SheetLineOut(
        id=line.pk, household=str(line.household.display_name), offer=line.offer.name, status=checked.status
    )


@router.post(
    "/baskets/sheets/{sheet_id}/close", response=SheetOut, summary="Close a sheet (unclaimed recorded)"
)
def sheet_close(request: HttpRequest, sheet_id: int) -> SheetOut:
    territory = _territory(request, Action.BASKETS_DISTRIBUTE)
    sheet = access.sheet_for(request.user, territory, sheet_id)
    return _sheet_out(services.sheet_close(sheet=sheet, actor=user_of(request)))


@router.post(
    "/baskets/sheets/{sheet_id}/reopen",
    response=SheetOut,
    summary="Reopen a sheet closed by mistake (coordinator)",
)
def sheet_reopen(request: HttpRequest, sheet_id: int) -> SheetOut:
    territory = _territory(request, Action.BASKETS_MANAGE)
    sheet = access.sheet_for(request.user, territory, sheet_id)
    access.garden_for(request.user, territory, sheet.pickup_point.garden_id)
    return _sheet_out(services.sheet_reopen(sheet=sheet, actor=user_of(request)))


@router.post(
    "/baskets/distributions", response={201: GenerateOut}, summary="Prepare a week's sheets (coordinator)"
)
def distribution_generate(request: HttpRequest, payload: GenerateIn) -> tuple[int, GenerateOut]:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, payload.garden)
    result = services.distribution_generate(garden=garden, day=payload.day, actor=user_of(request))
    return 201, GenerateOut(
        sheets=[s.pk for s in result.sheets],
        lines_created=result.lines_created,
        short_cents=result.short_cents,
        warned=result.warned,
    )


@router.get(
    "/baskets/gardens/{garden_id}/forecast", response=ForecastOut, summary="Budget forecast (coordinator)"
)
def forecast(request: HttpRequest, garden_id: int) -> ForecastOut:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, garden_id)
    found = selectors.budget_forecast(garden, timezone.localdate())
    return ForecastOut(
        garden=garden.name,
        first_short=found.first_short,
        short_cents=found.short_cents,
        weeks=[
            ForecastWeekOut(
                monday=w.monday,
                baskets=w.baskets,
                to_fund_cents=w.to_fund_cents,
                covered_cents=w.covered_cents,
                short_cents=w.short_cents,
            )
            for w in found.weeks
        ],
    )


@router.post(
    "/baskets/payments", response={201: BasketPaymentOut}, summary="Record a member's payment (coordinator)"
)
def payment_record(request: HttpRequest, payload: BasketPaymentIn) -> tuple[int, BasketPaymentOut]:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, payload.garden)
    household = services.household_by_card(territory, payload.household)
    payment = services.member_payment_record(
        garden=garden,
        household=household,
        amount_cents=payload.amount_cents,
        method=payload.method,
        reference=payload.reference,
        code=payload.code,
        idempotency_key=payload.idempotency_key,
        actor=user_of(request),
    )
    return 201, BasketPaymentOut(
        id=payment.pk,
        household=household.pk,
        amount_cents=payment.amount_cents,
        method=payment.method,
        reference=payment.reference,
        balance_cents=selectors.member_balance(garden, household),
    )


# --- statements ----------------------------------------------------------------------------------------------------


class StatementQuery(Schema):
    funder: Id
    start: Day = Field(..., alias="from")
    end: Day = Field(..., alias="to")


@router.get("/baskets/statements", response=FunderStatementOut, summary="A funder's statement for a period")
def statement(request: HttpRequest, query: Query[StatementQuery]) -> FunderStatementOut:
    territory = _territory(request, Action.BASKETS_FIGURES)
    funder = access.funder_for(request.user, territory, query.funder)
    if query.end < query.start:
        raise InvalidInput(_("The period must end after it starts."), errors={"to": [_("Before the start.")]})
    found = selectors.statement(funder, query.start, query.end)
    return FunderStatementOut(
        funder=funder.name,
        start=found.start,
        end=found.end,
        baskets=found.baskets,
        funded_cents=found.funded_cents,
        paid_cents=found.paid_cents,
        left_to_pay_cents=found.left_cents,
        agreements=[
            StatementRowOut(
                agreement=row.agreement.name,
                garden=row.agreement.garden.name,
                baskets=row.baskets,
                funded_cents=row.funded_cents,
                budget_cents=row.agreement.budget_cents,
                used_cents=row.agreement.spent_cents,
                left_cents=row.agreement.left_cents,
                paid_cents=row.paid_cents,
                left_to_pay_cents=row.left_cents,
                by_month=[
                    StatementMonthOut(month=month, baskets=baskets, funded_cents=cents)
                    for month, baskets, cents in row.by_month
                ],
            )
            for row in found.agreements
        ],
    )


# --- the coordinator's reference data ------------------------------------------------------------------------------


class GardenIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    address: str = Field("", max_length=300)
    store: Id | None = Field(None, description="A store of the common fund (for food credit), or none.")


class GardenNewIn(GardenIn):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class GardenOut(Schema):
    id: int
    name: str
    address: str
    store: int | None
    store_approved: bool


class OfferIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    size: Annotated[BasketSize, FROM_TEXT] = BasketSize.SMALL
    price_cents: Cents = Field(..., description="Baskets already booked keep the price they were booked at.")
    season_start: Day
    season_end: Day
    weekday: Weekday


class OfferNewIn(OfferIn):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class OfferEditIn(OfferIn):
    active: bool = True


class OfferDetailOut(Schema):
    id: int
    garden_id: int
    name: str
    size: str
    price_cents: int
    season_start: date
    season_end: date
    weekday: int
    active: bool


class PointIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    address: str = Field("", max_length=300)
    weekday: Weekday
    opens_at: TimeOfDay
    volunteers: Items[Id] = Field([], description="Users with the cashier role in the territory.")


class PointNewIn(PointIn):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class PointEditIn(PointIn):
    active: bool = True


class PointDetailOut(PickupPointOut):
    garden_id: int
    active: bool
    volunteers: list[int]


class AgreementIn(InputSchema):
    funder: Id
    name: str = Field(..., min_length=1, max_length=200)
    share_bp: BasisPoints | None = Field(
        None, description="A share of each basket's price, in basis points …"
    )
    amount_per_basket_cents: Cents | None = Field(
        None, description="… or a fixed amount per basket, not both."
    )
    budget_cents: Cents
    starts_on: Day
    ends_on: Day
    priority: int = Field(1, ge=1, le=services.PRIORITY_MAX, description="1 pays first.")


class AgreementNewIn(AgreementIn):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class AgreementOut(Schema):
    id: int
    garden_id: int
    funder: int
    name: str
    share_bp: int | None
    amount_per_basket_cents: int | None
    budget_cents: int
    used_cents: int
    left_cents: int
    starts_on: date
    ends_on: date
    priority: int


class SettingsIn(InputSchema):
    member_cap_bp: BasisPoints = Field(
        ..., description="The most a member pays, in basis points of the price (3000 = 30 %)."
    )
    warn_weeks: int = Field(4, ge=0, le=services.WARN_WEEKS_MAX)


class SettingsOut(Schema):
    member_cap_bp: int
    warn_weeks: int


class FunderPaymentIn(InputSchema):
    funder: Id
    start: Day = Field(..., alias="from")
    end: Day = Field(..., alias="to")
    amount_cents: Cents = Field(..., description="Never more than what is left to pay for the period.")
    received_on: Day | None = None
    reference: str = Field("", max_length=100)
    agreement: Id | None = Field(
        None, description="One agreement only; by default split among them by priority."
    )
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class FunderPaymentPartOut(Schema):
    agreement: int
    amount_cents: int


class FunderPaymentOut(Schema):
    id: int
    funder: int
    start: date
    end: date
    received_on: date
    amount_cents: int
    reference: str
    parts: list[FunderPaymentPartOut]
    left_cents: int = Field(..., description="Left to pay for the period after this payment.")


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
