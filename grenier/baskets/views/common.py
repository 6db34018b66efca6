"""What the baskets' pages share: the actions a person may take, rendering, reading a day, a reference form's page."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from grenier.baskets.models import Garden
from grenier.core import permissions
from grenier.core.models import Territory
from grenier.core.pages import idempotency_key
from grenier.core.permissions import Action

BASKET_ACTIONS = (
    Action.BASKETS_MANAGE,
    Action.BASKETS_FIGURES,
    Action.BASKETS_REFER,
    Action.BASKETS_DISTRIBUTE,
    Action.BASKETS_OWN,
)


# The garden's page holds its budget, its week and its offers above and below its subscriptions: a shorter page of
# them keeps it readable on a phone (issue 13, item 11); the search finds the others.
GARDEN_PAGE_SIZE = 10


def _can(request: HttpRequest, territory: Territory) -> dict[str, bool]:
    user = request.user
    return {
        "manage": permissions.can(user, territory, Action.BASKETS_MANAGE),
        "figures": permissions.can(user, territory, Action.BASKETS_FIGURES),
        "refer": permissions.can(user, territory, Action.BASKETS_REFER),
        "distribute": permissions.can(user, territory, Action.BASKETS_DISTRIBUTE),
        "own": permissions.can(user, territory, Action.BASKETS_OWN),
    }


def _require(request: HttpRequest, territory: Territory, *actions: Action) -> None:
    """403 unless one of the person's roles allows one of ``actions`` (``territory_page`` already gave 404)."""
    if not any(permissions.can(request.user, territory, action) for action in actions):
        raise PermissionDenied(_("Your role in this territory does not allow this."))


def _render(
    request: HttpRequest, territory: Territory, template: str, page: str, **context: Any
) -> HttpResponse:
    return render(
        request,
        f"baskets/{template}",
        {"territory": territory, "page": page, "can": _can(request, territory), **context},
    )


def _parse_day(raw: str | None, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _form_page(
    request: HttpRequest,
    territory: Territory,
    form: Any,
    *,
    title: str,
    submit: str,
    back: tuple[str, str],
    page: str = "garden",
    key: bool = True,
    **context: Any,
) -> HttpResponse:
    return _render(
        request,
        territory,
        "form_page.html",
        page,
        form=form,
        title=title,
        submit=submit,
        back_url=back[0],
        back_label=back[1],
        idempotency_key=idempotency_key(request) if key else "",
        **context,
    )


def _garden_url(territory: Territory, found: Garden) -> str:
    return reverse("baskets_garden", args=[territory.slug, found.pk])
