"""Pages of the cooperation map: the map (the graph drawn by the server, the actors, the filters, how the territory
moved this year), an actor, a cooperation and its history, a resource and its bookings, what Grenier already knows
to put on the map, and the exports. One decorator resolves the territory and the role; ``network.access`` scopes
the objects; ``network.services`` decides.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grenier.core.auth import user_of
from grenier.core.errors import Forbidden, GrenierError, InvalidInput, NotFound
from grenier.core.models import Territory
from grenier.core.pages import form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.network import access, exports, forms, selectors, services
from grenier.network.models import Actor, BookingStatus, Cooperation, CooperationStatus, Level, Resource

view_page = territory_page(Action.NETWORK_VIEW, nav="network")
manage_page = territory_page(Action.NETWORK_MANAGE, nav="network")

KIND_COLOURS = {
    "food_aid": "#a4161a",
    "association": "#c2571a",
    "social_centre": "#b5338a",
    "ccas": "#7a3fb0",
    "town_hall": "#1a5fb4",
    "school": "#2a7fbf",
    "ehpad": "#5a6fb0",
    "farm": "#3f7f2a",
    "store": "#8a6d00",
    "kitchen": "#00727a",
    "garden": "#1f5130",
    "buying_group": "#6b5a2a",
    "funder": "#444444",
    "common": "#153a22",
}
LEVEL_STYLES = {
    1: ("#9aa59a", 1.5, "4 4"),
    2: ("#6f9a6f", 2.5, ""),
    3: ("#2f7a3f", 4, ""),
    4: ("#c98a00", 5.5, ""),
    5: ("#a4161a", 7, ""),
}
"""A link's colour, width and dash by level: a wish is a thin dashed grey line, collective organisation thick red."""


def _render(request: HttpRequest, territory: Territory, template: str, **context: Any) -> HttpResponse:
    context.update(
        territory=territory,
        may_manage=access.may_manage(request.user, territory),
        levels=Level.choices,
        level_styles=LEVEL_STYLES,
    )
    return render(request, f"network/{template}", context)


def _places(territory: Territory, drawn: selectors.Graph) -> dict[str, Any]:
    """What the tile map draws where the browser is online: the located actors (name, kind, where, their page) and
    the links between two of them, styled by level. No person's contact: what every reader of the map may see."""
    located = {n.actor.pk: n.actor for n in drawn.nodes if n.actor.latitude is not None}
    return {
        "actors": [
            {
                "id": a.pk,
                "name": a.name,
                "kind": a.get_kind_display(),
                "lat": float(a.latitude or 0),
                "lon": float(a.longitude or 0),
                "url": reverse("network_actor", args=[territory.slug, a.pk]),
                "colour": KIND_COLOURS.get(a.kind, "#555555"),
            }
            for a in located.values()
        ],
        "links": [
            {
                "a": e.a.actor.pk,
                "b": e.b.actor.pk,
                "level": e.level,
                "colour": LEVEL_STYLES[e.level][0],
                "weight": LEVEL_STYLES[e.level][1],
                "dash": LEVEL_STYLES[e.level][2] or None,
                "title": " · ".join(c.title for c in e.cooperations),
            }
            for e in drawn.edges
            if e.a.actor.pk in located and e.b.actor.pk in located
        ],
        "unlocated": len(drawn.nodes) - len(located),
    }


@view_page
@require_GET
def network_map(request: HttpRequest, territory: Territory) -> HttpResponse:
    today = timezone.localdate()
    form = forms.FilterForm(request.GET or None)
    filters = selectors.Filters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.Filters(
            kind=data["kind"],
            level=data["level"] or 0,
            theme=data["theme"],
            sort=data["sort"],
            since=data["since"],
            until=data["until"],
        )
    found = selectors.links(territory, filters, today)
    drawn = selectors.graph(territory, found, kind=filters.kind)
    year = today.year
    return _render(
        request,
        territory,
        "map.html",
        form=form,
        found=found,
        graph=drawn,
        nodes=[
            {
                "node": n,
                "colour": KIND_COLOURS.get(n.actor.kind, "#555555"),
                "radius": 6 + min(n.degree, 8),
                "left": n.x
                > drawn.width * 0.6,  # a label on the right half reads leftwards, inside the drawing
            }
            for n in drawn.nodes
        ],
        edges=[{"edge": e, "style": LEVEL_STYLES[e.level]} for e in drawn.edges],
        places=_places(territory, drawn),
        counts=selectors.level_counts(found),
        actors=selectors.by_kind([n.actor for n in drawn.nodes]),
        moves=selectors.moves(territory, year),
        waiting=Cooperation.objects.filter(territory=territory, status=CooperationStatus.PROPOSED).count(),
        missing=len(services.known_missing(territory)) if access.may_manage(request.user, territory) else 0,
        filtered=bool(request.GET),
    )


@view_page
@require_http_methods(["GET", "POST"])
def actor_detail(request: HttpRequest, territory: Territory, actor_id: int) -> HttpResponse:
    actor = access.actor_for(request.user, territory, actor_id)
    editable = access.acts_for(request.user, actor)
    initial = {name: getattr(actor, name) for name in forms.ActorForm.base_fields}
    form = forms.ActorForm(request.POST if request.POST.get("action") == "edit" else None, initial=initial)
    resource_form = forms.ResourceForm(request.POST if request.POST.get("action") == "resource" else None)
    if request.method == "POST":
        access.require_acts_for(request.user, actor)
        done = _edit_actor(request, actor, form) if request.POST.get("action") == "edit" else None
        if request.POST.get("action") == "resource":
            done = _add_resource(request, actor, resource_form)
        if done is not None:
            return done
    cooperations = actor.cooperations.exclude(status=CooperationStatus.DISMISSED).prefetch_related("actors")
    return _render(
        request,
        territory,
        "actor.html",
        actor=actor,
        editable=editable,
        contacts=access.may_see_contacts(request.user, territory),
        form=form,
        resource_form=resource_form,
        resources=actor.resources.all(),
        cooperations=cooperations.order_by("ends_on", "-level", "title"),
        idempotency_key=idempotency_key(request),
    )


def _actor_fields(data: dict[str, Any]) -> services.ActorFields:
    return services.ActorFields(**data)


def _edit_actor(request: HttpRequest, actor: Actor, form: forms.ActorForm) -> HttpResponse | None:
    if not form.is_valid():
        return None
    if not access.may_see_contacts(request.user, actor.territory):
        # the contact is a person's: only a coordinator reads it, so only a coordinator changes it
        for name in ("contact_name", "contact_phone", "contact_email"):
            form.cleaned_data[name] = getattr(actor, name)
    try:
        services.actor_update(actor=actor, fields=_actor_fields(form.cleaned_data), by=user_of(request))
    except GrenierError as exc:
        form_errors(form, exc)
        return None
    messages.success(request, _("The actor is up to date."))
    return redirect("network_actor", actor.territory.slug, actor.pk)


def _add_resource(request: HttpRequest, actor: Actor, form: forms.ResourceForm) -> HttpResponse | None:
    if not form.is_valid():
        return None
    try:
        services.resource_create(
            owner=actor, by=user_of(request), idempotency_key=idempotency_key(request), **form.cleaned_data
        )
    except GrenierError as exc:
        form_errors(form, exc)
        return None
    messages.success(request, _("Resource recorded."))
    return redirect("network_actor", actor.territory.slug, actor.pk)


@manage_page
@require_http_methods(["GET", "POST"])
def actor_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    form = forms.ActorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actor = services.actor_create(
                territory=territory,
                fields=_actor_fields(form.cleaned_data),
                by=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is on the map.") % {"name": actor.name})
            return redirect("network_actor", territory.slug, actor.pk)
    return _render(request, territory, "actor_new.html", form=form, idempotency_key=idempotency_key(request))


@manage_page
@require_http_methods(["GET", "POST"])
def known(request: HttpRequest, territory: Territory) -> HttpResponse:
    """What Grenier already knows: the rows not on the map yet, and the cooperations it runs, to confirm."""
    if request.method == "POST":
        if request.POST.get("action") == "actors":
            added = services.actors_from_grenier(territory=territory, by=user_of(request))
            messages.success(request, _("%(count)s actors put on the map.") % {"count": len(added)})
        elif request.POST.get("action") == "cooperations":
            proposed = services.cooperations_from_grenier(territory=territory, by=user_of(request))
            messages.success(request, _("%(count)s cooperations proposed.") % {"count": len(proposed)})
        return redirect("network_known", territory.slug)
    return _render(
        request,
        territory,
        "known.html",
        missing=services.known_missing(territory),
        proposed=Cooperation.objects.filter(territory=territory, status=CooperationStatus.PROPOSED)
        .prefetch_related("actors")
        .order_by("title"),
    )


@manage_page
@require_http_methods(["GET", "POST"])
def cooperation_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    actors = list(Actor.objects.filter(territory=territory, left_on__isnull=True))
    form = forms.CooperationForm(
        request.POST or None, actors=actors, initial={"starts_on": timezone.localdate(), "level": 1}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = [a for a in actors if a.pk in set(data["actors"])]
        fields = services.CooperationFields(
            title=data["title"],
            sort=data["sort"],
            level=data["level"],
            actors=chosen,
            starts_on=data["starts_on"],
            description=data["description"],
            themes=data["themes"],
            scale=data["scale"],
            people=data["people"],
            documents=data["documents"],
        )
        try:
            cooperation = services.cooperation_create(
                territory=territory,
                fields=fields,
                by=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Cooperation recorded."))
            return redirect("network_cooperation", territory.slug, cooperation.pk)
    return _render(
        request, territory, "cooperation_new.html", form=form, idempotency_key=idempotency_key(request)
    )


@view_page
@require_GET
def cooperation_detail(request: HttpRequest, territory: Territory, cooperation_id: int) -> HttpResponse:
    cooperation = access.cooperation_for(request.user, territory, cooperation_id)
    return _cooperation_page(request, territory, cooperation, forms.DocumentForm())


def _cooperation_page(
    request: HttpRequest, territory: Territory, cooperation: Cooperation, document_form: forms.DocumentForm
) -> HttpResponse:
    today = timezone.localdate()
    papers = access.may_handle_documents(request.user, cooperation)
    return _render(
        request,
        territory,
        "cooperation.html",
        cooperation=cooperation,
        history=cooperation.changes.select_related("recorded_by").order_by("on", "id"),
        actors=cooperation.actors.all(),
        level_form=forms.LevelForm(initial={"on": today, "level": min(cooperation.level + 1, 5)}),
        end_form=forms.EndForm(initial={"on": today}, prefix="end"),
        files=cooperation.files.defer("content") if papers else None,
        document_form=document_form if papers else None,
        idempotency_key=idempotency_key(request),
    )


@view_page
@require_POST
def cooperation_document_add(request: HttpRequest, territory: Territory, cooperation_id: int) -> HttpResponse:
    cooperation = access.cooperation_for(request.user, territory, cooperation_id)
    if not access.may_handle_documents(request.user, cooperation):
        raise Forbidden(
            _("Only the coordinators and the people of its actors add a cooperation's documents.")
        )
    form = forms.DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > services.documents.MAX_BYTES:
            form.add_error("file", _("The file is larger than 5 MB: scan it at a lower resolution."))
        else:
            try:
                services.document_add(
                    cooperation=cooperation,
                    title=form.cleaned_data["title"],
                    kind=form.cleaned_data["kind"],
                    data=upload.read(),
                    by=user_of(request),
                )
            except GrenierError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("Document kept."))
                return redirect("network_cooperation", territory.slug, cooperation.pk)
    return _cooperation_page(request, territory, cooperation, form)


@view_page
@require_GET
def cooperation_document(
    request: HttpRequest, territory: Territory, cooperation_id: int, document_id: int
) -> HttpResponse:
    cooperation = access.cooperation_for(request.user, territory, cooperation_id)
    document = access.document_for(request.user, cooperation, document_id)
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    name = f"{territory.slug}-cooperation-{cooperation.pk}-{document.pk}.{services.documents.extension(document)}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _cooperation_action(request: HttpRequest, territory: Territory, cooperation_id: int) -> Cooperation:
    return access.cooperation_for(request.user, territory, cooperation_id)


@manage_page
@require_POST
def cooperation_level(request: HttpRequest, territory: Territory, cooperation_id: int) -> HttpResponse:
    cooperation = _cooperation_action(request, territory, cooperation_id)
    form = forms.LevelForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(_("Give the new level, the day and why."))
    services.cooperation_level_set(
        cooperation=cooperation,
        level=form.cleaned_data["level"],
        on=form.cleaned_data["on"],
        reason=form.cleaned_data["reason"],
        by=user_of(request),
        idempotency_key=idempotency_key(request),
    )
    messages.success(request, _("The new level is recorded; the old one stays in the history."))
    return redirect("network_cooperation", territory.slug, cooperation.pk)


@manage_page
@require_POST
def cooperation_decide(request: HttpRequest, territory: Territory, cooperation_id: int) -> HttpResponse:
    """Confirm or dismiss a proposed cooperation, or end one."""
    cooperation = _cooperation_action(request, territory, cooperation_id)
    action, by = request.POST.get("action"), user_of(request)
    if action == "confirm":
        services.cooperation_confirm(cooperation=cooperation, by=by)
        messages.success(request, _("Cooperation confirmed: it is on the map."))
    elif action == "dismiss":
        services.cooperation_dismiss(cooperation=cooperation, by=by)
        messages.success(request, _("Proposal dismissed."))
        return redirect("network_known", territory.slug)
    elif action == "end":
        form = forms.EndForm(request.POST, prefix="end")
        if not form.is_valid():
            raise InvalidInput(_("Give the day it ended."))
        services.cooperation_end(
            cooperation=cooperation, by=by, on=form.cleaned_data["on"], reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("Cooperation ended; its history stays."))
    return redirect("network_cooperation", territory.slug, cooperation.pk)


@view_page
@require_http_methods(["GET", "POST"])
def resource_detail(request: HttpRequest, territory: Territory, resource_id: int) -> HttpResponse:
    resource = access.resource_for(request.user, territory, resource_id)
    mine = list(access.own_actors(request.user, territory).exclude(pk=resource.actor_id))
    if access.may_manage(request.user, territory):
        mine = list(
            Actor.objects.filter(territory=territory, left_on__isnull=True).exclude(pk=resource.actor_id)
        )
    form = forms.BookingForm(request.POST if request.POST.get("action") == "book" else None, actors=mine)
    refuse_form = forms.RefuseForm(request.POST if request.POST.get("action") == "refuse" else None)
    if request.method == "POST":
        done = _booking_post(request, territory, resource, form, refuse_form)
        if done is not None:
            return done
    owner = access.acts_for(request.user, resource.actor)
    withdrawable = {a.pk for a in mine}  # the requesters one acts for (never the owner)
    bookings = (
        access.bookings_of(request.user, territory).filter(resource=resource).select_related("requester")
    )
    return _render(
        request,
        territory,
        "resource.html",
        resource=resource,
        owner=owner,
        form=form if mine and resource.shareable else None,
        refuse_form=refuse_form,
        bookings=bookings.order_by("starts_on", "id"),
        withdrawable=withdrawable,
        today=timezone.localdate(),
        held=resource.bookings.filter(status=BookingStatus.ACCEPTED, ends_on__gte=timezone.localdate()),
        idempotency_key=idempotency_key(request),
    )


def _booking_post(
    request: HttpRequest,
    territory: Territory,
    resource: Resource,
    form: forms.BookingForm,
    refuse_form: forms.RefuseForm,
) -> HttpResponse | None:
    action, by = request.POST.get("action"), user_of(request)
    if action == "book":
        if not form.is_valid():
            return None
        requester = access.actor_for(request.user, territory, form.cleaned_data["requester"])
        access.require_acts_for(request.user, requester)
        try:
            services.booking_request(
                resource=resource,
                requester=requester,
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
                note=form.cleaned_data["note"],
                by=by,
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
            return None
        messages.success(request, _("Booking asked for: the owner accepts or refuses."))
    elif action in {"accept", "refuse"}:
        access.require_acts_for(request.user, resource.actor)
        booking = access.booking_for(request.user, territory, int(request.POST.get("booking") or 0))
        if action == "refuse" and not refuse_form.is_valid():
            return None
        services.booking_decide(
            booking=booking,
            accept=action == "accept",
            by=by,
            reason=refuse_form.cleaned_data.get("reason", "") if action == "refuse" else "",
        )
        messages.success(request, _("Booking accepted.") if action == "accept" else _("Booking refused."))
    elif action == "withdraw":
        booking = access.booking_for(request.user, territory, int(request.POST.get("booking") or 0))
        access.require_acts_for(request.user, booking.requester)
        services.booking_withdraw(booking=booking, by=by)
        messages.success(request, _("Request withdrawn: the dates are free again."))
    return redirect("network_resource", territory.slug, resource.pk)


DOWNLOADS = {
    "actors.csv": ("csv", "actors"),
    "cooperations.csv": ("csv", "cooperations"),
    "resources.csv": ("csv", "resources"),
    "network.xlsx": ("xlsx", ""),
    "network.gexf": ("gexf", ""),
    "network.graphml": ("graphml", ""),
}


@view_page
@require_GET
def export(request: HttpRequest, territory: Territory, name: str) -> HttpResponse:
    if name not in DOWNLOADS:
        raise NotFound(_("No such export."))
    fmt, what = DOWNLOADS[name]
    chosen = exports.EXPORTS[fmt]
    body = chosen.write(territory, what, access.may_see_contacts(request.user, territory))
    response = HttpResponse(body, content_type=chosen.content_type)
    response["Content-Disposition"] = f'attachment; filename="{territory.slug}-{name}"'
    return response
