"""E-mails of the weekly cycle: the published plan, lines changed by hand or after a shortfall.

Plain text, worded through gettext in the installation's language (French first: people have no language of their
own yet), built inside the service's transaction from what it wrote, and sent only once it commits
(``transaction.on_commit``): a refused or rolled-back change tells nobody. Recipients: the people of a farm
(``Producer.users``), the managers of a kitchen (``Kitchen.managers``), the coordinator of the week.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from grenier.core.models import User
from grenier.supply.models import Kitchen, PlanChange, PlanLine, Producer, Shortfall, SupplyWeek
from grenier.supply.quantities import format_quantity

Message = tuple[str, str, str, list[str]]


def _emails(users: Iterable[User]) -> list[str]:
    return sorted({u.email for u in users if u.email and u.is_active})


def farm_emails(producer: Producer) -> list[str]:
    return _emails(producer.users.all())


def kitchen_emails(kitchen: Kitchen) -> list[str]:
    return _emails(kitchen.managers.all())


def _link(week: SupplyWeek, *, producer: Producer | None = None, kitchen: Kitchen | None = None) -> str:
    """The page the reader acts on: a farm's lines of the week, a kitchen's deliveries, else the week."""
    base = getattr(settings, "GRENIER_BASE_URL", "").rstrip("/")
    week_args = [week.territory.slug, week.monday.isoformat()]
    candidates: list[tuple[str, list[Any]]] = []
    if producer is not None:
        candidates.append(("supply_availability", [*week_args, producer.pk]))
    if kitchen is not None:
        candidates.append(("supply_deliveries", [*week_args, kitchen.pk]))
    candidates += [("supply_week", week_args), ("supply_home", [week.territory.slug])]
    for name, args in candidates:
        try:
            return base + reverse(name, args=args)
        except NoReverseMatch:
            continue
    return base + "/"


def _day(day: date) -> str:
    return date_format(day, "l j F")


def _week_name(week: SupplyWeek) -> str:
    return date_format(week.monday, "j F Y")


def _send(messages: Sequence[Message]) -> None:
    messages = [m for m in messages if m[3]]
    if messages:
        batch = list(messages)
        transaction.on_commit(lambda: send_mass_mail(batch, fail_silently=True))


def _message(subject: str, body: str, to: list[str]) -> Message:
    return (subject, body, settings.DEFAULT_FROM_EMAIL, to)


def plan_published(week: SupplyWeek) -> None:
    """Each farm gets its lines, each kitchen its deliveries (only those with a line)."""
    lines = list(
        PlanLine.objects.filter(week=week, quantity__gt=0)
        .select_related("producer", "kitchen", "product")
        .order_by("day", "kitchen__name", "producer__farm_name", "product__name")
    )
    by_producer: dict[Producer, list[PlanLine]] = defaultdict(list)
    by_kitchen: dict[Kitchen, list[PlanLine]] = defaultdict(list)
    for line in lines:
        by_producer[line.producer].append(line)
        by_kitchen[line.kitchen].append(line)
    messages: list[Message] = []
    with translation.override(settings.LANGUAGE_CODE):
        for producer, its in by_producer.items():
            link = _link(week, producer=producer)
            rows = "\n".join(
                f"- {_day(x.day)} · {x.kitchen.name} · {x.product.name}: {format_quantity(x.quantity, x.product)}"
                for x in its
            )
            messages.append(
                _message(
                    _("Supply plan for the week of %(week)s: %(farm)s")
                    % {"week": _week_name(week), "farm": producer.farm_name},
                    _(
                        "The plan of the week of %(week)s is published. %(farm)s delivers:\n\n%(rows)s\n\n%(link)s\n"
                    )
                    % {"week": _week_name(week), "farm": producer.farm_name, "rows": rows, "link": link},
                    farm_emails(producer),
                )
            )
        for kitchen, its in by_kitchen.items():
            link = _link(week, kitchen=kitchen)
            rows = "\n".join(
                f"- {_day(x.day)} · {x.producer.farm_name} · {x.product.name}: "
                f"{format_quantity(x.quantity, x.product)}"
                for x in its
            )
            messages.append(
                _message(
                    _("Deliveries for the week of %(week)s: %(kitchen)s")
                    % {"week": _week_name(week), "kitchen": kitchen.name},
                    _(
                        "The plan of the week of %(week)s is published. %(kitchen)s receives:\n\n%(rows)s\n\n%(link)s\n"
                    )
                    % {"week": _week_name(week), "kitchen": kitchen.name, "rows": rows, "link": link},
                    kitchen_emails(kitchen),
                )
            )
    _send(messages)


def _change_row(change: PlanChange, party: str) -> str:
    product = change.product
    return _("- %(day)s · %(party)s · %(product)s: %(before)s → %(after)s") % {
        "day": _day(change.day),
        "party": party,
        "product": product.name,
        "before": format_quantity(change.before, product) if change.before else "0",
        "after": format_quantity(change.after, product) if change.after else "0",
    }


def lines_changed(
    week: SupplyWeek, changes: Sequence[PlanChange], *, shortfall: Shortfall | None = None
) -> None:
    """Tell every farm and kitchen whose published lines changed (and, after a shortfall, the coordinator of the
    week and the farm that reported it) what changed for them."""
    by_producer: dict[Producer, list[PlanChange]] = defaultdict(list)
    by_kitchen: dict[Kitchen, list[PlanChange]] = defaultdict(list)
    for change in changes:
        by_producer[change.producer].append(change)
        by_kitchen[change.kitchen].append(change)
    messages: list[Message] = []
    with translation.override(settings.LANGUAGE_CODE):
        link = _link(week)
        if shortfall is not None:
            why = _("%(farm)s will have only %(available)s of %(product)s instead of %(before)s.") % {
                "farm": shortfall.producer.farm_name,
                "available": format_quantity(shortfall.available, shortfall.product),
                "product": shortfall.product.name,
                "before": format_quantity(shortfall.declared_before, shortfall.product),
            }
            if shortfall.cause:
                why += " " + _("Cause: %(cause)s.") % {"cause": shortfall.cause}
            why += " " + _(
                "The week was re-planned to cover as much of the demand as possible, changing as few delivery "
                "lines as possible."
            )
        else:
            why = _("The coordinator of the week adjusted the plan by hand.")
        subject_week = _week_name(week)
        for producer, its in by_producer.items():
            rows = "\n".join(_change_row(c, c.kitchen.name) for c in its)
            messages.append(
                _message(
                    _("Plan changed for the week of %(week)s: %(farm)s")
                    % {"week": subject_week, "farm": producer.farm_name},
                    _("%(why)s\n\nYour lines that changed:\n%(rows)s\n\n%(link)s\n")
                    % {"why": why, "rows": rows, "link": _link(week, producer=producer)},
                    farm_emails(producer),
                )
            )
        for kitchen, its in by_kitchen.items():
            rows = "\n".join(_change_row(c, c.producer.farm_name) for c in its)
            messages.append(
                _message(
                    _("Deliveries changed for the week of %(week)s: %(kitchen)s")
                    % {"week": subject_week, "kitchen": kitchen.name},
                    _("%(why)s\n\nYour deliveries that changed:\n%(rows)s\n\n%(link)s\n")
                    % {"why": why, "rows": rows, "link": _link(week, kitchen=kitchen)},
                    kitchen_emails(kitchen),
                )
            )
        if shortfall is not None:
            told = {a for m in messages for a in m[3]}
            others: list[str] = []
            if shortfall.producer not in by_producer:
                others += farm_emails(shortfall.producer)
            if week.coordinator is not None:
                others += _emails([week.coordinator])
            others = sorted(set(others) - told)
            if others:
                rows = "\n".join(
                    _change_row(c, f"{c.producer.farm_name} → {c.kitchen.name}") for c in changes
                )
                messages.append(
                    _message(
                        _("Shortfall reported for the week of %(week)s: %(product)s")
                        % {"week": subject_week, "product": shortfall.product.name},
                        _("%(why)s\n\nLines changed:\n%(rows)s\n\n%(link)s\n")
                        % {"why": why, "rows": rows or _("(none)"), "link": link},
                        others,
                    )
                )
    _send(messages)
