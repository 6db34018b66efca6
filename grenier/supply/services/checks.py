"""The small checks every supply service shares: quantities, territories, days, the week's state."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.supply import optimiser
from grenier.supply.models import (
    InvoiceLine,
    PlanLine,
    SupplyWeek,
    WeekStatus,
)


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors={field: [message]})


def _quantity(value: object, field: str = "quantity", *, planned: bool = False) -> int:
    """A quantity in base units; ``planned``: one the planner counts (demand, availability, a lot, a plan line),
    at most ``optimiser.QUANTITY_MAX``, beyond which its numbers are no longer exact."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(field, _("A quantity is a whole number of zero or more (base units)."))
    if planned and value > optimiser.QUANTITY_MAX:
        raise _invalid(
            field,
            _("The planner counts up to %(max)s base units (1,000 t in grams) in one quantity; this is more.")
            % {"max": number_format(optimiser.QUANTITY_MAX, force_grouping=True)},
        )
    return value


def _same_territory(territory_id: int, **objects: Any) -> None:
    for field, obj in objects.items():
        if obj is not None and obj.territory_id != territory_id:
            raise _invalid(field, _("This belongs to another territory."))


def _day_in_week(week: SupplyWeek, day: date) -> None:
    if not isinstance(day, date) or not week.monday <= day <= week.monday + timedelta(days=6):
        raise _invalid(
            "day", _("The day must be in the week of %(monday)s.") % {"monday": f"{week.monday:%d/%m/%Y}"}
        )


def _locked_week(week: SupplyWeek) -> SupplyWeek:
    """The week's row, locked for the transaction: every write of the cycle on one week goes one at a time (the
    race: two growers declaring while the coordinator plans)."""
    locked = SupplyWeek.objects.select_for_update().select_related("territory").get(pk=week.pk)
    # keep the caller's object current too
    for name in ("status", "planned_at", "published_at", "solver", "version", "coordinator_id"):
        setattr(week, name, getattr(locked, name))
    return locked


def _refuse_published(week: SupplyWeek) -> None:
    if week.status == WeekStatus.PUBLISHED:
        raise Conflict(
            _(
                "The plan of this week is published: report a shortfall or ask the coordinator to adjust a line."
            )
        )


def _reopen_if_planned(week: SupplyWeek) -> None:
    """Demand or availability changed after planning: the plan must be computed again before publishing."""
    if week.status == WeekStatus.PLANNED:
        week.status = WeekStatus.OPEN
        week.save(update_fields=["status"])


def _subject(obj: Any) -> str:
    return f"{obj._meta.model_name}:{obj.pk}"


def _is_invoiced(lines: Iterable[PlanLine] | PlanLine) -> bool:
    if isinstance(lines, PlanLine):
        return InvoiceLine.objects.filter(plan_line=lines).exists()
    return InvoiceLine.objects.filter(plan_line__in=list(lines)).exists()


def _cents(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(field, _("A price part is a whole number of cents, zero or more."))
    return value
