"""Pages of volunteering: the slots coming with a sign-up button and one's own volunteering (every person with a
role here, on a phone); a new slot on a session, a distribution, a buying group's pickup or a platform delivery to
a kitchen, and a slot's volunteers with the hours each gave (those who run it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grenier.activities import access, forms, selectors, services
from grenier.activities.models import Session, Volunteering, VolunteeringStatus, VolunteerSlot
from grenier.activities.views.common import activities_page, render_page
from grenier.baskets.models import DistributionSheet
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, NotFound
from grenier.core.models import Territory
from grenier.core.pages import form_errors, idempotency_key
from grenier.core.views import territory_page
from grenier.orders.models import OrderCycle
from grenier.supply.models import Kitchen, PlanLine, SupplyWeek, WeekStatus

Target = Session | DistributionSheet | OrderCycle | services.Delivery

slot_runner_page = territory_page(nav="activities", check=access.require_slot_runner)
"""404 without a role here; 403 for someone who runs no session nor pickup point."""


@activities_page
def volunteer(request: HttpRequest, territory: Territory) -> HttpResponse:
    today = timezone.localdate()
    slots = list(
        selectors.slots_with_places(
            VolunteerSlot.objects.filter(territory=territory, date__gte=today)
        ).order_by("date", "starts_at", "id")[:60]
    )
    mine = list(
        access.own_volunteerings(request.user, territory)
        .select_related("slot__session__activity", "slot__sheet__pickup_point")
        .order_by("-slot__date", "-slot__starts_at", "-id")[:60]
    )
    signed = {v.slot_id for v in mine if v.status == VolunteeringStatus.SIGNED_UP}
    given = sum(v.minutes or 0 for v in mine if v.status == VolunteeringStatus.SIGNED_UP)
    return render_page(
        request,
        territory,
        "volunteer.html",
        slots=slots,
        signed=signed,
        mine=mine,
        given_hours=given // 60,
        given_minutes=given % 60,
        runs_slots=access.runs_slots(request.user, territory),
        run=list(
            selectors.slots_with_places(access.slots_run_by(request.user, territory))
            .filter(date__gte=today - timedelta(days=14))
            .order_by("date", "starts_at", "id")[:60]
        ),
        now=timezone.now(),
        idempotency_key=idempotency_key(request),
    )


@activities_page
@require_POST
def sign_up(request: HttpRequest, territory: Territory, slot_id: int) -> HttpResponse:
    slot = access.slot_for(request.user, territory, slot_id)
    user = user_of(request)
    if user is None:  # never: a role here means logged in
        raise NotFound(_("This volunteer slot does not exist."))
    signed = services.sign_up(
        slot=slot,
        volunteer=user,
        household=access.volunteer_household(request.user, territory),
        idempotency_key=idempotency_key(request),
    )
    messages.success(
        request,
        _("Thank you! You are signed up.") if signed.created else _("Already signed up: nothing changed."),
    )
    return redirect("activities_volunteer", territory.slug)


@activities_page
@require_POST
def volunteering_cancel(request: HttpRequest, territory: Territory, volunteering_id: int) -> HttpResponse:
    volunteering = access.volunteering_for(request.user, territory, volunteering_id)
    services.volunteering_cancel(volunteering=volunteering, actor=user_of(request))
    messages.success(request, _("Sign-up cancelled."))
    return redirect("activities_volunteer", territory.slug)


def _targets(request: HttpRequest, territory: Territory) -> dict[str, Target]:
    """The sessions, distribution sheets and buying groups' pickups coming that ``request.user`` may call
    volunteers for."""
    today = timezone.localdate()
    targets: dict[str, Target] = {}
    sessions = (
        access.slot_sessions(request.user, territory)
        .filter(date__gte=today, cancelled_at__isnull=True, closed_at__isnull=True)
        .select_related("activity")
    )
    for session in sessions.order_by("date", "starts_at", "id")[:100]:
        targets[f"session:{session.pk}"] = session
    sheets = (
        access.slot_sheets(request.user, territory)
        .filter(on__gte=today, closed_at__isnull=True)
        .select_related("pickup_point")
    )
    for sheet in sheets.order_by("on", "id")[:100]:
        targets[f"sheet:{sheet.pk}"] = sheet
    cycles = access.pickup_cycles_of(request.user, territory).filter(delivery_date__gte=today)
    for cycle in cycles.select_related("group").order_by("delivery_date", "id")[:100]:
        targets[f"cycle:{cycle.pk}"] = cycle
    days = (
        PlanLine.objects.filter(
            kitchen__in=access.delivery_kitchens_of(request.user, territory).values("pk"),
            week__territory=territory,
            week__status=WeekStatus.PUBLISHED,
            day__gte=today,
            quantity__gt=0,
        )
        .values_list("week", "kitchen", "day")
        .distinct()
        .order_by("day", "kitchen", "week")[:100]
    )
    weeks = {w.pk: w for w in SupplyWeek.objects.filter(pk__in={row[0] for row in days})}
    kitchens = {k.pk: k for k in Kitchen.objects.filter(pk__in={row[1] for row in days})}
    for week_id, kitchen_id, day in days:
        targets[f"delivery:{week_id}:{kitchen_id}:{day.isoformat()}"] = services.Delivery(
            week=weeks[week_id], kitchen=kitchens[kitchen_id], day=day
        )
    return targets


def _label(target: Target) -> str:
    if isinstance(target, Session):
        return f"{target.activity} · {target.date:%d/%m/%Y} {target.starts_at:%H:%M}"
    if isinstance(target, services.Delivery):
        return _("Platform delivery to %(kitchen)s · %(day)s") % {
            "kitchen": target.kitchen,
            "day": f"{target.day:%d/%m/%Y}",
        }
    if isinstance(target, OrderCycle):
        return _("Buying-group pickup: %(cycle)s · %(day)s") % {
            "cycle": target,
            "day": f"{target.delivery_date:%d/%m/%Y}",
        }
    return _("Basket distribution at %(point)s · %(day)s") % {
        "point": target.pickup_point,
        "day": f"{target.on:%d/%m/%Y}",
    }


@slot_runner_page
@require_http_methods(["GET", "POST"])
def slot_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    targets = _targets(request, territory)
    form = forms.SlotForm(request.POST or None, initial={"target": request.GET.get("for", "")})
    form.fields["target"].choices = [(key, _label(target)) for key, target in targets.items()]  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target = targets[data["target"]]
        try:
            slot = services.slot_create(
                territory=territory,
                session=target if isinstance(target, Session) else None,
                sheet=target if isinstance(target, DistributionSheet) else None,
                cycle=target if isinstance(target, OrderCycle) else None,
                delivery=target if isinstance(target, services.Delivery) else None,
                task=data["task"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                places=data["places"],
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Volunteer slot recorded."))
            return redirect("activities_slot", territory.slug, slot.pk)
    return render_page(
        request,
        territory,
        "form_page.html",
        form=form,
        title=_("Call for volunteers"),
        submit=_("Record the slot"),
        idempotency_key=idempotency_key(request),
    )


@slot_runner_page
def slot_detail(request: HttpRequest, territory: Territory, slot_id: int) -> HttpResponse:
    found = access.slot_for(request.user, territory, slot_id, manage=True)
    slot = selectors.slots_with_places(VolunteerSlot.objects.filter(pk=found.pk)).get()
    rows: list[Volunteering] = list(
        slot.volunteerings.filter(status=VolunteeringStatus.SIGNED_UP).select_related(
            "volunteer", "household"
        )
    )
    for row in rows:
        minutes = row.minutes if row.minutes is not None else slot.minutes
        row.form = forms.HoursForm(initial={"hours": minutes // 60, "minutes": minutes % 60})  # type: ignore[attr-defined]
    return render_page(
        request,
        territory,
        "slot.html",
        slot=slot,
        volunteerings=rows,
        started=timezone.make_aware(datetime.combine(slot.date, slot.starts_at)) <= timezone.now(),
    )


@slot_runner_page
@require_POST
def hours(request: HttpRequest, territory: Territory, slot_id: int, volunteering_id: int) -> HttpResponse:
    slot = access.slot_for(request.user, territory, slot_id, manage=True)
    volunteering = access.volunteering_for(request.user, territory, volunteering_id, manage=True)
    if volunteering.slot_id != slot.pk:
        return redirect("activities_slot", territory.slug, slot.pk)
    form = forms.HoursForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the hours and minutes (0 for someone who did not come)."))
        return redirect("activities_slot", territory.slug, slot.pk)
    services.hours_record(volunteering=volunteering, minutes=form.total(), actor=user_of(request))
    messages.success(request, _("Hours recorded for %(person)s.") % {"person": volunteering.volunteer})
    return redirect("activities_slot", territory.slug, slot.pk)
