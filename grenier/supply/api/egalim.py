"""EGalim shares per kitchen and period."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query

from grenier.core.errors import Forbidden, NotFound
from grenier.core.schemas import Id
from grenier.supply.api.common import _territory, router
from grenier.supply.api.schemas import EgalimOut, FamilyOut, MonthOut


def _spend(spend: Any) -> dict[str, Any]:
    return {
        "total_cents": spend.total_cents,
        "organic_cents": spend.organic_cents,
        "quality_cents": spend.quality_cents,
        "organic_percent": None if spend.organic_percent is None else float(spend.organic_percent),
        "quality_percent": None if spend.quality_percent is None else float(spend.quality_percent),
    }


@router.get(
    "/supply/egalim",
    response=list[EgalimOut],
    summary="EGalim shares of what kitchens bought through the platform (a kitchen its own; figures any)",
)
def egalim_shares(
    request: HttpRequest,
    kitchen: Id | None = Query(None, description="One kitchen; else every kitchen the caller may see."),  # noqa: B008
    year: int | None = Query(None, ge=2000, le=2100, description="The calendar year; this year by default."),
) -> list[EgalimOut]:
    from grenier.supply import egalim

    territory = _territory(request)
    if not egalim.may_see_egalim(request.user, territory):
        raise Forbidden(_("Your role in this territory does not allow this."))
    kitchens = egalim.kitchens_visible(request.user, territory)
    if kitchen is not None:
        kitchens = kitchens.filter(pk=kitchen)
        if not kitchens.exists():
            raise NotFound(_("This kitchen does not exist or you do not act for it."))
    chosen = year or timezone.localdate().year
    start, end = egalim.year_period(chosen)
    result = []
    for shares in egalim.territory_shares(kitchens.order_by("name", "pk"), start, end):
        result.append(
            EgalimOut(
                kitchen=shares.kitchen.pk,
                kitchen_name=shares.kitchen.name,
                year=chosen,
                organic_target_percent=egalim.ORGANIC_TARGET_PERCENT,
                quality_target_percent=egalim.QUALITY_TARGET_PERCENT,
                organic_met=shares.spend.organic_met,
                quality_met=shares.spend.quality_met,
                lines=shares.lines,
                families=[
                    FamilyOut(family=family, **_spend(spend))
                    for family, spend in sorted(shares.by_family.items())
                ],
                months=[MonthOut(month=month, **_spend(spend)) for month, spend in shares.months],
                **_spend(shares.spend),
            )
        )
    return result
