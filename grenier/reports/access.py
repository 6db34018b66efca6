"""Who reads the indicators: coordinators, committee members and funders of the territory (``Action.REPORTS_VIEW``);
coordinators read small counts exactly (``Action.REPORTS_EXACT``), the others with them hidden. Nobody reads a
household through a report: no output of this app carries a name or a row of one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from grenier.core import permissions
from grenier.core.models import Territory
from grenier.core.permissions import Action

if TYPE_CHECKING:
    from grenier.core.permissions import AnyUser


def require_read(user: AnyUser, territory: Territory) -> None:
    """``NotFound`` for a person with no role in the territory, ``Forbidden`` for a role that may not read."""
    permissions.require(user, territory, Action.REPORTS_VIEW)


def exact_for(user: AnyUser, territory: Territory) -> bool:
    return permissions.can(user, territory, Action.REPORTS_EXACT)
