"""What the supply API's operations share: the router, the territory and the week asked for, who may, one item of a
list at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.errors import Forbidden, InvalidInput, NotFound
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.core.services import all_or_none
from grenier.supply import selectors
from grenier.supply.models import (
    Product,
    SalesUnit,
    SupplyWeek,
)
from grenier.supply.quantities import format_quantity

router = Router(tags=["supply"])
BASE_UNIT_OF = {SalesUnit.KG: "g", SalesUnit.PIECE: "piece", SalesUnit.BUNCH: "bunch"}
T = TypeVar("T")
U = TypeVar("U")


def _territory(request: HttpRequest) -> Territory:
    """The call's territory; a person without any role there is told it does not exist."""
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.VIEW_TERRITORY)
    return territory


def _can(request: HttpRequest, territory: Territory, *actions: Action) -> bool:
    return any(permissions.can(request.user, territory, action) for action in actions)


def _require_any(request: HttpRequest, territory: Territory, *actions: Action) -> None:
    if not _can(request, territory, *actions):
        raise Forbidden(_("Your role in this territory does not allow this."))


def _monday(monday: date) -> date:
    if monday.weekday() != 0:
        raise InvalidInput(
            _("A week is named by its Monday."), errors={"monday": [_("This day is not a Monday.")]}
        )
    return monday


def _week(territory: Territory, monday: date) -> SupplyWeek:
    week = selectors.week_of(territory, _monday(monday))
    if week is None:
        raise NotFound(_("This week has not been opened yet."))
    return week


def _in_territory(model: Any, territory: Territory, pk: int, field: str) -> Any:
    """A product (or farm, kitchen) of the territory named in a request's body; unknown ones are a field error."""
    return _known(_all_in_territory(model, territory, [pk]), pk, field)


def _all_in_territory(model: Any, territory: Territory, pks: Iterable[int]) -> dict[int, Any]:
    """The products (or farms, kitchens) of the territory a list body names, by id, in one query."""
    return {row.pk: row for row in model.objects.filter(territory=territory, pk__in=set(pks))}


def _known(rows: dict[int, Any], pk: int, field: str) -> Any:
    if pk not in rows:
        raise InvalidInput(_("Unknown here."), errors={field: [_("Nothing has this number here.")]})
    return rows[pk]


def _once(keys: list[Any], field: str) -> None:
    """A list body names each line once: the same line twice would leave the last one standing, silently."""
    seen: set[Any] = set()
    for index, key in enumerate(keys):
        if key in seen:
            raise InvalidInput(
                _("The same line is given twice in this list."),
                errors={f"{index}.{field}": [_("Already given earlier in this list.")]},
            )
        seen.add(key)


@contextmanager
def _item(index: int) -> Iterator[None]:
    """Field errors of the ``index``-th item of a list body are named ``<index>.<field>``, as the schema's are."""
    try:
        yield
    except InvalidInput as exc:
        exc.errors = {f"{index}.{name}": messages for name, messages in exc.errors.items()} or {
            str(index): [exc.detail]
        }
        raise


def _ids(items: list[Any], field: str) -> set[int]:
    return {getattr(item, field) for item in items}


def _each(items: list[T], do: Callable[[T], Any]) -> None:
    """Apply ``do`` to every item in one transaction: a list with an error anywhere changes nothing."""
    all_or_none(items, do)


def _built(items: list[T], make: Callable[[T], U]) -> list[U]:
    """A list body's items as a service's ``*_many`` takes them; an unknown id in the ``index``-th item is the field
    error ``<index>.<field>``."""
    built: list[U] = []
    for index, item in enumerate(items):
        with _item(index):
            built.append(make(item))
    return built


def _qty(quantity: int | None, product: Product) -> str:
    return format_quantity(quantity, product)
