"""Figures and reciprocity: the activities' figures (coordinators, and organisers for their own activities), one's
household's hours and rewards, and paying the rewards due (coordinators; the same service as the command)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query

from grenier.activities import access, figures, reciprocity
from grenier.activities.api.common import router
from grenier.activities.api.schemas import (
    ActivityFiguresOut,
    ActivityFiguresRowOut,
    ReciprocityPaidOut,
    ReciprocityRewardOut,
    ReciprocityRewardsOut,
)
from grenier.activities.models import ActivityKind
from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import InvalidInput
from grenier.core.months import last_of_month
from grenier.core.permissions import Action
from grenier.core.schemas import Id

FIRST_YEAR, LAST_YEAR = 2000, 2100


def _row(row: figures.Row) -> ActivityFiguresRowOut:
    return ActivityFiguresRowOut(
        key=row.key,
        label=row.label,
        sessions=row.sessions,
        persons=row.persons,
        children=row.children,
        households=row.households,
        new_households=row.new,
        volunteering_minutes=row.minutes,
    )


@router.get(
    "/activities/figures",
    response=ActivityFiguresOut,
    summary="Sessions held, who came and volunteering hours for a year or a month, by kind, organiser and month",
)
def figures_read(
    request: HttpRequest,
    year: int = Query(..., ge=FIRST_YEAR, le=LAST_YEAR),
    month: int | None = Query(None, ge=1, le=12),
    kind: Id | None = None,
    organiser: str | None = Query(None, max_length=250),
) -> ActivityFiguresOut:
    territory = territory_of(request)
    access.require_organiser(request.user, territory)
    activities, everything = figures.readable(request.user, territory)
    if kind is not None and not ActivityKind.objects.filter(territory=territory, pk=kind).exists():
        raise InvalidInput(
            _("No kind of activity has this number here."), errors={"kind": [_("Unknown kind.")]}
        )
    if organiser and organiser not in figures.organisers_of(activities):
        raise InvalidInput(
            _("No organiser of your activities has this key."),
            errors={"organiser": [_("Unknown organiser.")]},
        )
    start = date(year, month or 1, 1)
    found = figures.figures(
        territory=territory,
        start=start,
        end=last_of_month(start) if month else date(year, 12, 31),
        activities=activities,
        kind_id=kind,
        organiser=organiser or None,
        with_distributions=everything,
    )
    return ActivityFiguresOut(
        start=found.start,
        end=found.end,
        total=_row(found.total),
        by_kind=[_row(row) for row in found.by_kind],
        by_organiser=[_row(row) for row in found.by_organiser],
        by_month=[_row(row) for row in found.by_month],
        not_taken=found.not_taken,
        distributions_minutes=found.distributions.minutes if found.distributions is not None else None,
    )


@router.get(
    "/activities/rewards",
    response=ReciprocityRewardsOut,
    summary="The reciprocity rule in force, one's household's hours counted and rewarded, its rewards",
)
def rewards_read(request: HttpRequest) -> ReciprocityRewardsOut:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.VIEW_TERRITORY)
    rule_words = reciprocity.rule_words(reciprocity.rule_for(territory, timezone.localdate()))
    household = access.volunteer_household(request.user, territory)
    if household is None:
        return ReciprocityRewardsOut(
            rule=rule_words,
            household_id=None,
            minutes_counted=0,
            minutes_rewarded=0,
            minutes_to_next=None,
            rewards_due=0,
            rewards=[],
        )
    standing = reciprocity.standing(household)
    return ReciprocityRewardsOut(
        rule=rule_words,
        household_id=household.pk,
        minutes_counted=standing.given,
        minutes_rewarded=standing.rewarded,
        minutes_to_next=standing.to_next,
        rewards_due=standing.due,
        rewards=[
            ReciprocityRewardOut(
                sequence=r.sequence,
                paid_at=r.paid_at,
                minutes=r.minutes,
                reward=r.reward,
                amount_cents=r.amount_cents,
                garden=str(r.garden) if r.garden_id else "",
            )
            for r in standing.rewards
        ],
    )


@router.post(
    "/activities/rewards/pay",
    response=ReciprocityPaidOut,
    summary="Pay every reward due (coordinators): each hour once; again, nothing more is paid",
)
def rewards_pay(request: HttpRequest) -> ReciprocityPaidOut:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.ACTIVITIES_MANAGE)
    paid = reciprocity.rewards_pay(territory=territory, actor=user_of(request))
    return ReciprocityPaidOut(
        households=paid.households,
        rewards=paid.rewards,
        credit_cents=paid.credit_cents,
        basket_cents=paid.basket_cents,
    )
