"""What the supply pages share: who may see them, the week named by its Monday, the farms and kitchens a person acts
for, quantities and days in words."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.models import Territory
from grenier.core.months import monday_of
from grenier.core.permissions import Action
from grenier.supply import access, quantities, selectors, services
from grenier.supply.models import (
    Kitchen,
    PlanLine,
    Producer,
    Product,
    SupplyWeek,
    WeekStatus,
)

SUPPLY_ACTIONS = (Action.SUPPLY_MANAGE, Action.SUPPLY_FIGURES, Action.SUPPLY_PRODUCE, Action.SUPPLY_KITCHEN)


def _can(request: HttpRequest, territory: Territory, *actions: Action) -> bool:
    return any(permissions.can(request.user, territory, action) for action in actions)


def _require(request: HttpRequest, territory: Territory, *actions: Action) -> None:
    """403 unless one of the person's roles allows one of ``actions`` (``territory_page`` already gave 404)."""
    if not _can(request, territory, *actions):
        raise PermissionDenied(_("Your role in this territory does not allow this."))


def _this_monday() -> date:
    return monday_of(timezone.localdate())


def parse_monday(text: str) -> date:
    """The Monday naming a week in a URL (``2026-10-05``); 404 for anything else. Shared by the supply pages."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Http404(_("No such week.")) from None
    if day.weekday() != 0:
        raise Http404(_("A week is named by its Monday."))
    return day


_week = selectors.week_of


def _producer(request: HttpRequest, territory: Territory, producer_id: int) -> Producer:
    return access.producer_for(request.user, territory, producer_id)


def _kitchen(request: HttpRequest, territory: Territory, kitchen_id: int) -> Kitchen:
    return access.kitchen_for(request.user, territory, kitchen_id)


def _day_label(day: date) -> str:
    """A day at the start of a label: « Lundi 23 novembre »."""
    return capfirst(date_format(day, "l j F"))


def _day_words(day: date) -> str:
    """A day inside a sentence: « lundi 23 novembre » (the catalogue names weekdays with a capital)."""
    return date_format(day, "l j F").lower()


def _receipt_words(line: PlanLine) -> str:
    """What the kitchen recorded of a line, in words: « 2 kg missing », « 1 piece more than planned », « as
    planned » (empty until recorded)."""
    difference = line.discrepancy
    if difference is None:
        return ""
    if difference == 0:
        return _("as planned")
    count = quantities.plural_count(difference, line.product)
    amount = _qty(abs(difference), line.product)
    if difference < 0:
        return ngettext("%(q)s missing", "%(q)s missing", count) % {"q": amount}
    return ngettext("%(q)s more than planned", "%(q)s more than planned", count) % {"q": amount}


def _qty(quantity: int | None, product: Product) -> str:
    return quantities.format_quantity(quantity, product) if quantity is not None else ""


def _kg(volume: float) -> str:
    """A volume in grams, read in kg."""
    return quantities.format_quantity(round(volume / 100) * 100, _KG_PRODUCT)


_KG_PRODUCT = Product(name="kg", unit="kg")


def _week_url_arg(monday: date) -> str:
    return monday.isoformat()


def _ensure_week(request: HttpRequest, territory: Territory, monday: date) -> SupplyWeek:
    week = _week(territory, monday)
    if week is None:
        week = services.week_ensure(territory=territory, monday=monday, actor=user_of(request))
    return week


def _week_status_label(week: SupplyWeek | None) -> str:
    if week is None:
        return _("Not opened yet")
    return {
        WeekStatus.OPEN: _("Open: demand and availability being entered"),
        WeekStatus.PLANNED: _("Planned, not yet published"),
        WeekStatus.PUBLISHED: _("Published"),
    }.get(WeekStatus(week.status), week.status)
