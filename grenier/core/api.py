"""API endpoints about the caller, their territories and households. Parse, check permission, call a service."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from grenier.api import territory_of
from grenier.core import permissions, selectors, services
from grenier.core.auth import user_of
from grenier.core.cards import format_card_number
from grenier.core.models import Household
from grenier.core.permissions import Action
from grenier.core.schemas import BirthDate, Cents, Day, InputSchema, Offset

router = Router(tags=["people"])


class TerritoryOut(Schema):
    slug: str
    name: str
    roles: list[str]


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    territories: list[TerritoryOut]
    token_territory: str | None = Field(None, description="The territory of the API token used, if any.")


class PersonIn(InputSchema):
    first_name: str = Field("", max_length=100)
    birth_date: BirthDate | None = None
    is_child: bool = Field(False, description="Used when no birth date is given.")


class PersonOut(Schema):
    first_name: str
    birth_date: date | None
    is_child: bool


class HouseholdIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=150)
    email: str = Field("", max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str = Field("", max_length=30)
    monthly_resources_cents: Cents | None = Field(None, description="Declared monthly resources, in cents.")
    joined_on: Day | None = None
    persons: list[PersonIn] = Field(..., min_length=1, max_length=20)
    idempotency_key: str | None = Field(
        None, min_length=8, max_length=100, description="Send the same key again to get the same household."
    )


class HouseholdOut(Schema):
    id: int
    name: str
    card_number: str
    card_number_display: str
    active: bool
    joined_on: date
    fund_joined_on: date | None = Field(
        None, description="In the common fund from this day; null for a member of a garden or group only."
    )
    left_on: date | None
    persons_count: int
    consumption_units: str
    email: str
    phone: str
    monthly_resources_cents: int | None
    persons: list[PersonOut]


class HouseholdPage(Schema):
    count: int
    items: list[HouseholdOut]


class LeaveIn(InputSchema):
    on: Day | None = Field(None, description="The day the household leaves (today by default).")


def _household_out(household: Household) -> HouseholdOut:
    persons = list(household.persons.all())
    return HouseholdOut(
        id=household.pk,
        name=household.name,
        card_number=household.card_number,
        card_number_display=format_card_number(household.card_number),
        active=household.is_active,
        joined_on=household.joined_on,
        fund_joined_on=household.fund_joined_on,
        left_on=household.left_on,
        persons_count=len(persons),
        consumption_units=str(household.consumption_units()),
        email=household.email,
        phone=household.phone,
        monthly_resources_cents=household.monthly_resources_cents,
        persons=[
            PersonOut(first_name=p.first_name, birth_date=p.birth_date, is_child=p.is_child) for p in persons
        ],
    )


@router.get("/me", response=MeOut, summary="Who is calling, and their roles per territory")
def me(request: HttpRequest) -> MeOut:
    user = user_of(request)
    token = getattr(request, "api_token", None)
    return MeOut(
        id=user.pk,
        email=user.email,
        display_name=user.display_name,
        territories=[
            TerritoryOut(slug=t.slug, name=t.name, roles=sorted(permissions.roles_of(user, t)))
            for t in permissions.territories_of(user)
        ],
        token_territory=token.territory.slug if token else None,
    )


@router.get(
    "/territories", response=list[TerritoryOut], summary="The territories where the caller holds a role"
)
def territories(request: HttpRequest) -> list[TerritoryOut]:
    user = request.user
    return [
        TerritoryOut(slug=t.slug, name=t.name, roles=sorted(permissions.roles_of(user, t)))
        for t in permissions.territories_of(user)
    ]


@router.get("/households", response=HouseholdPage, summary="Households the caller may see")
def households(
    request: HttpRequest,
    active: bool | None = None,
    q: str = "",
    limit: int = Query(50, ge=1, le=500),
    offset: Offset = 0,
) -> HouseholdPage:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.VIEW_TERRITORY)
    if not (
        permissions.can(request.user, territory, Action.LIST_HOUSEHOLDS)
        or permissions.can(request.user, territory, Action.VIEW_OWN_HOUSEHOLD)
    ):
        permissions.require(request.user, territory, Action.LIST_HOUSEHOLDS)  # raises 403
    rows = selectors.household_search(
        permissions.visible_households(request.user, territory), q=q, active=active
    )
    page = list(rows[offset : offset + limit])
    return HouseholdPage(count=rows.count(), items=[_household_out(h) for h in page])


@router.post("/households", response={201: HouseholdOut}, summary="A household joins (coordinator)")
def household_create(request: HttpRequest, payload: HouseholdIn) -> tuple[int, HouseholdOut]:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.MANAGE_HOUSEHOLDS)
    household = services.household_join(
        territory=territory,
        name=payload.name,
        email=payload.email,
        phone=payload.phone,
        monthly_resources_cents=payload.monthly_resources_cents,
        joined_on=payload.joined_on,
        persons=[services.PersonInput(p.first_name, p.birth_date, p.is_child) for p in payload.persons],
        actor=user_of(request),
        idempotency_key=payload.idempotency_key,
    )
    return 201, _household_out(household)


@router.get("/households/{household_id}", response=HouseholdOut, summary="One household")
def household_detail(request: HttpRequest, household_id: int) -> HouseholdOut:
    territory = territory_of(request)
    return _household_out(permissions.household_for(request.user, territory, household_id))


@router.post(
    "/households/{household_id}/leave", response=HouseholdOut, summary="A household leaves (always possible)"
)
def household_leave(request: HttpRequest, household_id: int, payload: LeaveIn | None = None) -> HouseholdOut:
    territory = territory_of(request)
    household = permissions.household_for(request.user, territory, household_id)
    permissions.require_may_leave(request.user, household)
    left = services.household_leave(
        household=household, actor=user_of(request), on=payload.on if payload else None
    )
    return _household_out(left)
