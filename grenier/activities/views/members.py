"""Pages of the people who come: the territory's sessions, one session with its register form, one's own
registrations (coming and past, with attendance), cancelling one."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grenier.activities import access, feeds, forms, selectors, services
from grenier.activities.models import Audience, CalendarFeed, PaidIn, RegistrationStatus, Session
from grenier.activities.views.common import activities_page, registrant_page, render_page
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.money import format_cents
from grenier.core.pages import PAGE_SIZE, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.fund.payments import credit_balance


@activities_page
def home(request: HttpRequest, territory: Territory) -> HttpResponse:
    """The coming sessions one may see; ``?audience=school`` those open to school classes (a school's home links
    there)."""
    audience = selectors.audience_asked(request.GET.get("audience"))
    rows = selectors.upcoming(
        selectors.for_audience(access.sessions_of(request.user, territory), audience), timezone.localdate()
    )
    page_obj = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(
        request,
        territory,
        "home.html",
        sessions=list(page_obj),
        page_obj=page_obj,
        audience=audience,
        class_hint=audience == Audience.SCHOOL
        and permissions.can(request.user, territory, Action.ACTIVITIES_CLASS),
    )


def _registered_message(registered: services.Registered) -> str:
    registration = registered.registration
    if not registered.created:
        return _("Already registered: nothing changed.")
    if registration.status == RegistrationStatus.WAITING:
        return _(
            "The session is full: you are on the waiting list. You will get an e-mail if a place frees up."
        )
    if registration.charge_entry_id is not None:
        return _("Registered: %(price)s of food credit paid. You will get a reminder the day before.") % {
            "price": format_cents(registration.price_cents)
        }
    return _("Registered. You will get a reminder the day before.")


@activities_page
@require_http_methods(["GET", "POST"])
def session_detail(request: HttpRequest, territory: Territory, session_id: int) -> HttpResponse:
    session = access.session_for(request.user, territory, session_id)
    session = selectors.with_places(Session.objects.filter(pk=session.pk)).get()
    households = list(access.registrable_households(request.user, territory))
    manages = access.may_manage(request.user, session.activity)
    form = None
    class_form = None
    if session.audience == Audience.SCHOOL:
        if access.may_register_class(request.user, session):
            class_form = forms.ClassForm(request.POST or None)
    elif households:
        form = forms.RegisterForm(
            request.POST or None, households=[(h.pk, str(h.display_name)) for h in households]
        )
    active = form or class_form
    if request.method == "POST" and active is not None and active.is_valid():
        data = active.cleaned_data
        try:
            registered = services.register(
                session=session,
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
                adults=data["adults"],
                children=data["children"],
                household=access.household_to_register(request.user, territory, data["household"])
                if form is not None
                else None,
                class_name=data.get("class_name", ""),
            )
        except GrenierError as exc:
            form_errors(active, exc)
        else:
            messages.success(request, _registered_message(registered))
            return redirect("activities_mine", territory.slug)
    mine = list(
        access.own_registrations(request.user, territory)
        .filter(session=session)
        .exclude(status=RegistrationStatus.CANCELLED)
        .select_related("household", "session")
    )
    return render_page(
        request,
        territory,
        "session.html",
        session=session,
        places_left=selectors.places_left(session),
        open=session.cancelled_at is None
        and session.closed_at is None
        and timezone.now() <= session.registration_deadline,
        form=form,
        class_form=class_form,
        mine=mine,
        manages=manages,
        price=services.price_words(session),
        credit_left=credit_balance(households[0])
        if session.paid_in == PaidIn.CREDIT and len(households) == 1
        else None,
        idempotency_key=idempotency_key(request),
    )


@registrant_page
def mine(request: HttpRequest, territory: Territory) -> HttpResponse:
    today = timezone.localdate()
    rows = selectors.registrations_shown(access.own_registrations(request.user, territory))
    coming = list(
        rows.filter(session__date__gte=today)
        .exclude(status=RegistrationStatus.CANCELLED)
        .order_by("session__date", "session__starts_at", "id")
    )
    past = Paginator(rows.filter(session__date__lt=today), PAGE_SIZE).get_page(request.GET.get("page"))
    feed = CalendarFeed.objects.filter(user=request.user.pk, territory=territory).first()
    feed_url = (
        request.build_absolute_uri(
            reverse("activities_person_feed", args=[territory.slug, feeds.token_of(feed)])
        )
        if feed
        else ""
    )
    return render_page(
        request,
        territory,
        "mine.html",
        coming=coming,
        past=list(past),
        page_obj=past,
        now=timezone.now(),
        feed_url=feed_url,
        webcal_url=feeds.webcal(feed_url),
    )


@activities_page
@require_POST
def registration_cancel(request: HttpRequest, territory: Territory, registration_id: int) -> HttpResponse:
    registration = access.registration_for(request.user, territory, registration_id)
    services.registration_cancel(registration=registration, actor=user_of(request))
    messages.success(request, _("Registration cancelled."))
    return redirect("activities_mine", territory.slug)
