"""Pages about territories and households. Each one: resolve the territory, check permission, call, render."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grenier.core import permissions, selectors, services
from grenier.core.auth import user_of
from grenier.core.cards import format_card_number
from grenier.core.errors import Forbidden, GrenierError
from grenier.core.forms import HouseholdForm, LeaveForm, PersonFormSet
from grenier.core.home import next_actions
from grenier.core.models import Household, Role, Territory
from grenier.core.pages import PAGE_SIZE
from grenier.core.permissions import Action

View = Callable[..., HttpResponse]


def territory_page(
    action: Action | None = None,
    nav: str = "",
    check: Callable[[Any, Territory], object] | None = None,
) -> Callable[[View], View]:
    """Resolve ``slug`` to a territory the person may act in (404 otherwise), check ``action`` in the role grid
    and, where an app scopes its pages further, its own ``check`` (its ``access`` module: 403 for a role with no
    part in it); remember the territory as the current one. A refusal raised here or in the view becomes its error
    page through ``PageErrorMiddleware``: the one decorator of every territory's pages."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            territory = permissions.territory_for(request.user, slug)
            if action is not None:
                permissions.require(request.user, territory, action)
            if check is not None:
                check(request.user, territory)
            request.territory = territory  # type: ignore[attr-defined]
            request.nav_current = nav  # type: ignore[attr-defined]
            if request.session.get("territory") != territory.slug:
                # Written when it changes only: a session saved at every page is a database write (and on SQLite
                # the write lock) for every page anyone opens.
                request.session["territory"] = territory.slug
            return view(request, territory, *args, **kwargs)

        return wrapper

    return decorator


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send a person to their current territory, or to the only one they have (or the roll-up of the only grouping
    they coordinate), or let them choose."""
    mine = list(permissions.territories_of(request.user))
    groupings = list(permissions.groupings_of(request.user))
    current = request.session.get("territory")
    for territory in mine:
        if territory.slug == current:
            return redirect("territory_home", territory.slug)
    if len(mine) == 1 and not groupings:
        return redirect("territory_home", mine[0].slug)
    if len(groupings) == 1 and not mine:
        return redirect("grouping_reports", groupings[0].slug)
    return render(request, "core/choose_territory.html", {"territories": mine, "groupings": groupings})


@login_required
@require_POST
def switch_territory(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("territory", "")
    territory = permissions.territory_for(request.user, slug)
    request.session["territory"] = territory.slug
    return redirect("territory_home", territory.slug)


@territory_page(Action.VIEW_TERRITORY, nav="home")
def territory_home(request: HttpRequest, territory: Territory) -> HttpResponse:
    roles = permissions.roles_of(request.user, territory)
    context: dict[str, Any] = {
        "territory": territory,
        "roles": [role for role in Role if role in roles],
        "coordinators": selectors.coordinators_of(territory),
        "next_actions": next_actions(request, territory),
    }
    if permissions.can(request.user, territory, Action.VIEW_AGGREGATES):
        context["figures"] = selectors.territory_figures(territory)
    if Role.MEMBER in roles:
        context["my_households"] = list(
            permissions.visible_households(request.user, territory)
            .filter(persons__user_id=user_of(request).pk)
            .distinct()
        )
    if permissions.can(request.user, territory, Action.LIST_HOUSEHOLDS):
        context["recent_events"] = territory.audit_events.select_related("actor")[:8]
    return render(request, "core/territory_home.html", context)


@territory_page(Action.LIST_HOUSEHOLDS, nav="households")
def household_list(request: HttpRequest, territory: Territory) -> HttpResponse:
    status = request.GET.get("status", "active")
    active = {"active": True, "left": False}.get(status)
    rows = selectors.household_search(
        permissions.visible_households(request.user, territory), q=request.GET.get("q", ""), active=active
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "core/household_list.html",
        {"territory": territory, "page": page, "q": request.GET.get("q", ""), "status": status},
    )


@territory_page(Action.MANAGE_HOUSEHOLDS, nav="households")
@require_http_methods(["GET", "POST"])
def household_create(request: HttpRequest, territory: Territory) -> HttpResponse:
    form = HouseholdForm(request.POST or None)
    persons = PersonFormSet(request.POST or None, prefix="persons")
    if request.method == "POST" and form.is_valid() and persons.is_valid():
        person_inputs = [
            services.PersonInput(first_name=row.get("first_name", ""), birth_date=row.get("birth_date"))
            for row in persons.cleaned_data
            if row and (row.get("first_name") or row.get("birth_date"))
        ]
        try:
            household = services.household_join(
                territory=territory,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                phone=form.cleaned_data["phone"],
                monthly_resources_cents=form.cleaned_data["monthly_resources"],
                joined_on=form.cleaned_data["joined_on"],
                persons=person_inputs,
                actor=user_of(request),
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except GrenierError as exc:
            for field, errors in exc.errors.items():
                target = field if field in form.fields else None
                for error in errors:
                    form.add_error(target, error)
        else:
            messages.success(
                request,
                _("%(name)s has joined. Card number: %(card)s.")
                % {"name": household.name, "card": format_card_number(household.card_number)},
            )
            return redirect("household_detail", territory.slug, household.pk)
    return render(
        request,
        "core/household_form.html",
        {"territory": territory, "form": form, "persons": persons, "idempotency_key": _new_key(request)},
    )


def _new_key(request: HttpRequest) -> str:
    """A key per form display: a double-click or a resent form records one household, not two."""
    return request.POST.get("idempotency_key") or secrets.token_urlsafe(16)


@territory_page(Action.VIEW_TERRITORY)
def household_detail(request: HttpRequest, territory: Territory, household_id: int) -> HttpResponse:
    household = permissions.household_for(request.user, territory, household_id)
    request.nav_current = (  # type: ignore[attr-defined]
        "households" if permissions.can(request.user, territory, Action.LIST_HOUSEHOLDS) else "my_household"
    )
    return render(request, "core/household_detail.html", _household_context(request, territory, household))


def _household_context(request: HttpRequest, territory: Territory, household: Household) -> dict[str, Any]:
    persons = list(household.persons.all())
    return {
        "territory": territory,
        "household": household,
        "persons": persons,
        "card_display": format_card_number(household.card_number),
        "units": household.consumption_units(),
        "may_leave": household.is_active and _may_leave(request, household),
    }


def _may_leave(request: HttpRequest, household: Household) -> bool:
    try:
        permissions.require_may_leave(request.user, household)
    except Forbidden:
        return False
    return True


@territory_page(Action.VIEW_OWN_HOUSEHOLD, nav="my_household")
def my_household(request: HttpRequest, territory: Territory) -> HttpResponse:
    mine = list(
        permissions.visible_households(request.user, territory)
        .filter(persons__user_id=user_of(request).pk)
        .distinct()
    )
    if len(mine) == 1:
        return render(request, "core/household_detail.html", _household_context(request, territory, mine[0]))
    if not mine:
        raise Http404(_("You are not a person of any household in this territory."))
    return render(request, "core/choose_household.html", {"territory": territory, "households": mine})


@territory_page(Action.VIEW_TERRITORY)
@require_http_methods(["GET", "POST"])
def household_leave(request: HttpRequest, territory: Territory, household_id: int) -> HttpResponse:
    household = permissions.household_for(request.user, territory, household_id)
    permissions.require_may_leave(request.user, household)
    if not household.is_active:
        messages.info(request, _("This household has already left."))
        return redirect("household_detail", territory.slug, household.pk)
    form = LeaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        was_coordinator = permissions.can(request.user, territory, Action.LIST_HOUSEHOLDS)
        try:
            services.household_leave(household=household, actor=user_of(request), on=form.cleaned_data["on"])
        except GrenierError as exc:
            form.add_error("on", exc.detail)
        else:
            messages.success(request, _("The household has left. Its personal data has been erased."))
            person = user_of(request)
            person.refresh_from_db()
            if not person.is_active:  # the person had no other role: their account is closed too
                logout(request)
                return redirect("login")
            if was_coordinator:
                return redirect("household_list", territory.slug)
            return redirect("home")
    return render(
        request, "core/household_leave.html", {"territory": territory, "household": household, "form": form}
    )
