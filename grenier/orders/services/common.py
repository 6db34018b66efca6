"""What every write of the buying groups shares: the default tiers, the refusals of a closed cycle."""

from __future__ import annotations

from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.orders.models import (
    OrderCycle,
)

DEFAULT_TIERS: tuple[tuple[str, int], ...] = (("Solidaire", 70), ("Juste prix", 100), ("Soutien", 130))


class CycleClosed(Conflict):
    code = "cycle-closed"


class PotBelowZero(Conflict):
    code = "pot-below-zero"


class CloseEarly(Conflict):
    code = "close-early"


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors={field: [message]})


def _refuse_closed(cycle: OrderCycle) -> None:
    if cycle.closed_at is not None:
        raise CycleClosed(_("This cycle is closed: nothing of it changes any more."))


def _locked_cycle(cycle: OrderCycle) -> OrderCycle:
    """The cycle's row, locked: orders, covers and the close of one cycle are serialised on it (the race: an order
    placed while the cycle closes, or two orders taking the last units of a stock)."""
    locked = (
        OrderCycle.objects.select_for_update().select_related("group", "group__territory").get(pk=cycle.pk)
    )
    return locked
