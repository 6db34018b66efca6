"""Pages of the organisers: their activities and sessions, a new activity (coordinators), a new session and a
session's price (its activity's managers), and attendance on a phone at the session — present or absent per registration, people at
the door, closing the session into a record."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db.models import Model
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grenier.activities import access, forms, selectors, services
from grenier.activities.models import PaidIn, RegistrationStatus, Session
from grenier.activities.views.common import organiser_page, render_page
from grenier.baskets.models import Garden, PickupPoint
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, InvalidInput
from grenier.core.models import Territory, User
from grenier.core.money import euros_input
from grenier.core.pages import form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.fund.models import Store, StoreStatus
from grenier.fund.payments import household_by_card
from grenier.orders.models import BuyingGroup
from grenier.supply.models import Kitchen, Producer

# The rows of other apps a choice names, by prefix: "garden:3", "farm:12"…
_ORGANISERS: dict[str, type[Model]] = {
    "garden": Garden,
    "group": BuyingGroup,
    "farm": Producer,
    "kitchen": Kitchen,
}
_PLACES: dict[str, type[Model]] = {
    "garden": Garden,
    "pickup": PickupPoint,
    "farm": Producer,
    "kitchen": Kitchen,
}
# The services' price arguments, as the forms name them.
_PRICE_FIELDS = {"price_adult_cents": "price_adult", "price_child_cents": "price_child"}


def _form_page(
    request: HttpRequest, territory: Territory, form: Form, title: str, submit: str
) -> HttpResponse:
    return render_page(
        request,
        territory,
        "form_page.html",
        form=form,
        title=title,
        idempotency_key=idempotency_key(request),
        submit=submit,
    )


def _rows(model: type[Model], territory: Territory) -> list[Model]:
    if model is PickupPoint:
        return list(
            PickupPoint.objects.filter(garden__territory=territory, active=True).select_related("garden")
        )
    if model is Producer:
        return list(Producer.objects.filter(territory=territory, left_on__isnull=True).order_by("farm_name"))
    return list(model._default_manager.filter(territory=territory))


def _choices(kinds: dict[str, type[Model]], territory: Territory) -> list[tuple[str, str]]:
    choices = [("", "—")]
    for prefix, model in kinds.items():
        choices += [
            (f"{prefix}:{row.pk}", f"{model._meta.verbose_name}: {row}") for row in _rows(model, territory)
        ]
    return choices


def _chosen(kinds: dict[str, type[Model]], territory: Territory, value: str) -> Model | None:
    prefix, _sep, pk = value.partition(":")
    model = kinds.get(prefix)
    if model is None or not pk.isdigit():
        return None
    found = next((row for row in _rows(model, territory) if row.pk == int(pk)), None)
    if found is None:
        raise InvalidInput(_("This place or organiser does not exist here."))
    return found


def _organiser(row: Model) -> services.OrganiserInput:
    return services.OrganiserInput(
        garden=row if isinstance(row, Garden) else None,
        group=row if isinstance(row, BuyingGroup) else None,
        producer=row if isinstance(row, Producer) else None,
        kitchen=row if isinstance(row, Kitchen) else None,
    )


@organiser_page
def organise(request: HttpRequest, territory: Territory) -> HttpResponse:
    activities = list(
        access.managed_activities(request.user, territory)
        .select_related("kind", "payee_store")
        .prefetch_related("organisers")
    )
    sessions = list(
        selectors.with_places(Session.objects.filter(activity__in=[a.pk for a in activities]))
        .filter(date__gte=timezone.localdate() - timedelta(days=7))
        .order_by("date", "starts_at", "id")[:60]
    )
    return render_page(
        request,
        territory,
        "organise.html",
        activities=activities,
        sessions=sessions,
        kind_form=forms.KindForm() if access.manages_all(request.user, territory) else None,
    )


@organiser_page
@require_POST
def kind_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    permissions.require(request.user, territory, Action.ACTIVITIES_MANAGE)
    form = forms.KindForm(request.POST)
    if form.is_valid():
        kind = services.kind_create(
            territory=territory, name=form.cleaned_data["name"], actor=user_of(request)
        )
        messages.success(request, _("Kind of activity added: %(kind)s.") % {"kind": kind})
    return redirect("activities_organise", territory.slug)


def _managers(territory: Territory) -> list[User]:
    return list(
        User.objects.filter(territory_roles__territory=territory, is_active=True)
        .distinct()
        .order_by("display_name", "email")
    )


@organiser_page
@require_http_methods(["GET", "POST"])
def activity_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    permissions.require(request.user, territory, Action.ACTIVITIES_MANAGE)
    form = forms.ActivityForm(request.POST or None)
    kinds = services.kinds_ensure(territory=territory)
    form.fields["kind"].choices = [(kind.pk, str(kind)) for kind in kinds]  # type: ignore[attr-defined]
    form.fields["organiser"].choices = _choices(_ORGANISERS, territory)  # type: ignore[attr-defined]
    people = _managers(territory)
    form.fields["managers"].choices = [(person.pk, str(person)) for person in people]  # type: ignore[attr-defined]
    stores = _store_choices(form, territory)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            organisers = []
            chosen = _chosen(_ORGANISERS, territory, data["organiser"])
            if chosen is not None:
                organisers.append(_organiser(chosen))
            if data["association"].strip():
                organisers.append(services.OrganiserInput(association=data["association"]))
            activity = services.activity_create(
                territory=territory,
                kind=next(kind for kind in kinds if kind.pk == data["kind"]),
                title=data["title"],
                description=data["description"],
                organisers=organisers,
                managers=[person for person in people if person.pk in set(data["managers"])],
                payee_store=stores.get(data["payee_store"]) if data["payee_store"] else None,
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Activity recorded: add its sessions."))
            return redirect("activities_session_new", territory.slug, activity.pk)
    return _form_page(request, territory, form, _("New activity"), _("Record the activity"))


def _store_choices(form: Form, territory: Territory) -> dict[int, Store]:
    """The approved stores of the territory, offered on ``form``'s ``payee_store`` select (by their id)."""
    stores = {
        store.pk: store
        for store in Store.objects.filter(territory=territory, status=StoreStatus.APPROVED).order_by("name")
    }
    form.fields["payee_store"].choices = [("", "—"), *[(pk, str(store)) for pk, store in stores.items()]]  # type: ignore[attr-defined]
    return stores


@organiser_page
@require_http_methods(["GET", "POST"])
def activity_payee_store(request: HttpRequest, territory: Territory, activity_id: int) -> HttpResponse:
    """A coordinator chooses the store receiving the activity's food credit (decision 0004)."""
    permissions.require(request.user, territory, Action.ACTIVITIES_MANAGE)
    activity = access.activity_for(request.user, territory, activity_id)
    form = forms.PayeeStoreForm(request.POST or None, initial={"payee_store": activity.payee_store_id})
    stores = _store_choices(form, territory)
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["payee_store"]
        try:
            services.activity_payee_store_set(
                activity=activity, store=stores.get(chosen) if chosen else None, actor=user_of(request)
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Store receiving the food credit recorded."))
            return redirect("activities_organise", territory.slug)
    return _form_page(
        request,
        territory,
        form,
        _("Food credit of %(activity)s") % {"activity": activity.title},
        _("Record the store"),
    )


@organiser_page
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest, territory: Territory, activity_id: int) -> HttpResponse:
    activity = access.activity_for(request.user, territory, activity_id)
    form = forms.SessionForm(request.POST or None)
    form.fields["place"].choices = _choices(_PLACES, territory)  # type: ignore[attr-defined]
    form.fields["audience_garden"].choices = [  # type: ignore[attr-defined]
        ("", "—"),
        *[(g.pk, str(g)) for g in Garden.objects.filter(territory=territory)],
    ]
    form.fields["audience_group"].choices = [  # type: ignore[attr-defined]
        ("", "—"),
        *[(g.pk, str(g)) for g in BuyingGroup.objects.filter(territory=territory)],
    ]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.session_create(
                activity=activity,
                day=data["day"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                capacity=data["capacity"],
                audience=data["audience"],
                address=data["address"],
                place=_chosen(_PLACES, territory, data["place"]),  # type: ignore[arg-type]
                audience_garden=Garden.objects.filter(
                    territory=territory, pk=data["audience_garden"] or 0
                ).first(),
                audience_group=BuyingGroup.objects.filter(
                    territory=territory, pk=data["audience_group"] or 0
                ).first(),
                accessibility=data["accessibility"],
                registration_deadline=data["registration_deadline"],
                paid_in=data["paid_in"] or PaidIn.FREE,
                price_adult_cents=data["price_adult"] or 0,
                price_child_cents=data["price_child"] or 0,
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, _PRICE_FIELDS)
        else:
            messages.success(request, _("Session recorded."))
            return redirect("activities_session", territory.slug, session.pk)
    return _form_page(
        request,
        territory,
        form,
        _("New session: %(activity)s") % {"activity": activity.title},
        _("Record the session"),
    )


@organiser_page
@require_http_methods(["GET", "POST"])
def session_price(request: HttpRequest, territory: Territory, session_id: int) -> HttpResponse:
    """Change the session's price, until a household has paid it."""
    session = access.session_for(request.user, territory, session_id, manage=True)
    initial = {
        "paid_in": session.paid_in,
        "price_adult": euros_input(session.price_adult_cents),
        "price_child": euros_input(session.price_child_cents),
    }
    form = forms.PriceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.session_price_set(
                session=session,
                paid_in=data["paid_in"] or PaidIn.FREE,
                price_adult_cents=data["price_adult"] or 0,
                price_child_cents=data["price_child"] or 0,
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, _PRICE_FIELDS)
        else:
            messages.success(request, _("Price recorded."))
            return redirect("activities_session", territory.slug, session.pk)
    return _form_page(
        request, territory, form, _("Price: %(session)s") % {"session": session}, _("Record the price")
    )


@organiser_page
def attendance(request: HttpRequest, territory: Territory, session_id: int) -> HttpResponse:
    session = access.session_for(request.user, territory, session_id, manage=True)
    registrations = list(
        session.registrations.exclude(status=RegistrationStatus.CANCELLED)
        .select_related("household", "session")
        .order_by("status", "waiting_since", "id")
    )
    return render_page(
        request,
        territory,
        "attendance.html",
        session=session,
        confirmed=[r for r in registrations if r.status == RegistrationStatus.CONFIRMED],
        waiting=[r for r in registrations if r.status == RegistrationStatus.WAITING],
        walk_ins=list(session.walk_ins.select_related("household")),
        record=selectors.record(session),
        walk_in_form=forms.WalkInForm(),
        price=services.price_words(session),
        may_close=session.closed_at is None and timezone.localdate() >= session.date,
        idempotency_key=idempotency_key(request),
    )


@organiser_page
@require_POST
def attendance_mark(
    request: HttpRequest, territory: Territory, session_id: int, registration_id: int
) -> HttpResponse:
    session = access.session_for(request.user, territory, session_id, manage=True)
    registration = session.registrations.filter(pk=registration_id).first()
    form = forms.AttendanceForm(request.POST)
    if registration is None or not form.is_valid():
        return redirect("activities_attendance", territory.slug, session.pk)
    services.attendance_mark(
        registration=registration, attended=form.cleaned_data["attended"], actor=user_of(request)
    )
    return redirect(f"{_attendance_url(territory, session)}#registration-{registration.pk}")


def _attendance_url(territory: Territory, session: Session) -> str:
    from django.urls import reverse

    return reverse("activities_attendance", args=[territory.slug, session.pk])


@organiser_page
@require_POST
def walk_in(request: HttpRequest, territory: Territory, session_id: int) -> HttpResponse:
    session = access.session_for(request.user, territory, session_id, manage=True)
    form = forms.WalkInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Count the adults and children who came."))
        return redirect("activities_attendance", territory.slug, session.pk)
    data = form.cleaned_data
    household = household_by_card(territory, data["card"]) if data["card"].strip() else None
    services.walk_in_record(
        session=session,
        actor=user_of(request),
        idempotency_key=idempotency_key(request),
        adults=data["adults"],
        children=data["children"],
        household=household,
    )
    messages.success(request, _("Recorded."))
    return redirect("activities_attendance", territory.slug, session.pk)


@organiser_page
@require_POST
def session_close(request: HttpRequest, territory: Territory, session_id: int) -> HttpResponse:
    session = access.session_for(request.user, territory, session_id, manage=True)
    services.session_close(session=session, actor=user_of(request))
    messages.success(request, _("Session closed: its attendance is recorded."))
    return redirect("activities_attendance", territory.slug, session.pk)


@organiser_page
@require_POST
def euros_paid(
    request: HttpRequest, territory: Territory, session_id: int, registration_id: int
) -> HttpResponse:
    session = access.session_for(request.user, territory, session_id, manage=True)
    registration = session.registrations.filter(pk=registration_id).first()
    if registration is None:
        return redirect("activities_attendance", territory.slug, session.pk)
    try:
        services.euros_paid_record(registration=registration, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, exc.detail)
    return redirect(f"{_attendance_url(territory, session)}#registration-{registration.pk}")
