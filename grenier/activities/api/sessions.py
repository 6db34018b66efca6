"""Sessions (every person of the territory sees them, as the calendar shows them) and registrations: one's own, a
household one follows, a class (a school's, or one the activity receives); cancelling until the deadline."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.activities import access, selectors, services
from grenier.activities.api.common import registration_out, router, session_out
from grenier.activities.api.schemas import (
    PayeeStoreIn,
    PayeeStoreOut,
    PriceIn,
    RegistrationIn,
    RegistrationOut,
    SessionOut,
)
from grenier.activities.models import Session
from grenier.activities.services.catalogue import payee_store_refused
from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import Forbidden, GrenierError, InvalidInput
from grenier.core.permissions import Action
from grenier.core.schemas import Day
from grenier.fund.models import Store

LIST_LIMIT = 500


@router.get(
    "/activities/sessions",
    response=list[SessionOut],
    summary="Sessions of the territory from a day (today by default), with their places left; ``audience=school`` "
    "those open to school classes",
)
def session_list(
    request: HttpRequest,
    since: Day | None = None,
    audience: Literal["territory", "garden", "group", "school"] | None = None,
) -> list[SessionOut]:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.VIEW_TERRITORY)
    rows = selectors.with_places(
        selectors.for_audience(access.sessions_of(request.user, territory), audience)
    ).filter(date__gte=since or timezone.localdate())
    return [session_out(session) for session in rows.order_by("date", "starts_at", "id")[:LIST_LIMIT]]


def _session(request: HttpRequest, session_id: int) -> Session:
    territory = territory_of(request)
    found = access.session_for(request.user, territory, session_id)
    return selectors.with_places(Session.objects.filter(pk=found.pk)).get()


@router.get(
    "/activities/sessions/{session_id}", response=SessionOut, summary="One session, with its places left"
)
def session_detail(request: HttpRequest, session_id: int) -> SessionOut:
    return session_out(_session(request, session_id))


@router.post(
    "/activities/sessions/{session_id}/price",
    response=SessionOut,
    summary="The activity's organisers or a coordinator change a session's price, until a household has paid it "
    "(then 409); the registrations not cancelled take their part at the new price",
)
def session_price(request: HttpRequest, session_id: int, payload: PriceIn) -> SessionOut:
    territory = territory_of(request)
    session = access.session_for(request.user, territory, session_id, manage=True)
    services.session_price_set(
        session=session,
        paid_in=payload.paid_in,
        price_adult_cents=payload.price_adult_cents,
        price_child_cents=payload.price_child_cents,
        actor=user_of(request),
    )
    return session_out(_session(request, session_id))


@router.post(
    "/activities/{activity_id}/payee-store",
    response=PayeeStoreOut,
    summary="A coordinator chooses the approved store of the territory that receives an activity's food credit "
    "(decision 0004): a session is priced in food credit only with one. Others: 403",
)
def activity_payee_store(request: HttpRequest, activity_id: int, payload: PayeeStoreIn) -> PayeeStoreOut:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.ACTIVITIES_MANAGE)
    activity = access.activity_for(request.user, territory, activity_id)
    store = None
    if payload.store_id is not None:
        store = Store.objects.filter(territory=territory, pk=payload.store_id).first()
        if store is None:
            raise payee_store_refused("store_id")
    try:
        activity = services.activity_payee_store_set(activity=activity, store=store, actor=user_of(request))
    except GrenierError as exc:
        if "payee_store" in exc.errors:  # the body names it store_id
            exc.errors["store_id"] = exc.errors.pop("payee_store")
        raise
    return PayeeStoreOut(
        activity_id=activity.pk,
        payee_store_id=activity.payee_store_id,
        payee_store=str(activity.payee_store or ""),
    )


@router.post(
    "/activities/sessions/{session_id}/registrations",
    response={200: RegistrationOut, 201: RegistrationOut},
    summary="Register a household (or a school class): confirmed, or on the waiting list when full. "
    "A household already registered gets its registration back (200)",
)
def registration_create(
    request: HttpRequest, session_id: int, payload: RegistrationIn
) -> tuple[int, RegistrationOut]:
    territory = territory_of(request)
    access.require_registrant(request.user, territory)
    session = access.session_for(request.user, territory, session_id)
    if (payload.household_id is None) == (not payload.class_name.strip()):
        raise InvalidInput(
            _("Register a household, or a class by its name."),
            errors={"household_id": [_("Give a household or a class, not both.")]},
        )
    household = None
    if payload.household_id is not None:
        household = access.household_to_register(request.user, territory, payload.household_id)
    elif not access.may_register_class(request.user, session):
        raise Forbidden(_("A class is registered by a school, the activity's organisers or a coordinator."))
    registered = services.register(
        session=session,
        actor=user_of(request),
        idempotency_key=payload.idempotency_key,
        adults=payload.adults,
        children=payload.children,
        household=household,
        class_name=payload.class_name,
    )
    return (201 if registered.created else 200), registration_out(registered.registration)


@router.get(
    "/activities/registrations",
    response=list[RegistrationOut],
    summary="Registrations: one's own households', those one made, those of the activities one runs",
)
def registration_list(request: HttpRequest, since: Day | None = None) -> list[RegistrationOut]:
    territory = territory_of(request)
    access.require_registrant(request.user, territory)
    rows = access.registrations_of(request.user, territory).select_related("household", "session")
    if since is not None:
        rows = rows.filter(session__date__gte=since)
    return [registration_out(row) for row in rows.order_by("-id")[:LIST_LIMIT]]


@router.post(
    "/activities/registrations/{registration_id}/cancel",
    response=RegistrationOut,
    summary="Cancel a registration until the session's deadline (then 409); the waiting list is served",
)
def registration_cancel(request: HttpRequest, registration_id: int) -> RegistrationOut:
    territory = territory_of(request)
    registration = access.registration_for(request.user, territory, registration_id)
    return registration_out(services.registration_cancel(registration=registration, actor=user_of(request)))


@router.post(
    "/activities/registrations/{registration_id}/paid",
    response=RegistrationOut,
    summary="The organiser records a registration's part paid in euros (at the session); again: unchanged. "
    "Only for a confirmed registration of a session paid in euros (else 409)",
)
def registration_paid(request: HttpRequest, registration_id: int) -> RegistrationOut:
    territory = territory_of(request)
    registration = access.registration_for(request.user, territory, registration_id)
    if not access.may_manage(request.user, registration.session.activity):
        raise Forbidden(_("Only the activity's organisers or a coordinator record a payment."))
    return registration_out(services.euros_paid_record(registration=registration, actor=user_of(request)))
