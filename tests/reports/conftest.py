"""The modules' own small territories (their tests' fixtures, built with their services), each figure of which the
reports' tests compute by hand; and a reader of the indicators as each member of the cast."""

from __future__ import annotations

from ..activities.conftest import workshop
from ..baskets.conftest import baskets
from ..fund.conftest import fund
from ..governance.conftest import gov
from ..network.conftest import net
from ..orders.conftest import groups
from ..supply.conftest import pial
from ..waste.conftest import kitchens

__all__ = ["baskets", "fund", "gov", "groups", "kitchens", "net", "pial", "workshop"]
