"""Participation and democracy: the citizen committee's size and how many of its members draw food credit (never
who), the votes held, how many took part, the decisions adopted and the effects that came into force."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grenier.core.models import HouseholdPerson
from grenier.fund.models import MonthLine
from grenier.governance.models import BodyKind, BodyMembership, Decision, EffectStatus
from grenier.reports.registry import (
    Module,
    Part,
    Result,
    Scope,
    Theme,
    Unit,
    between,
    between_instants,
    indicator,
    percent,
)


def _committee(scope: Scope) -> QuerySet[BodyMembership]:
    """The memberships of the territory's citizen committees open on the last day of the period."""
    return BodyMembership.objects.filter(
        body__territory=scope.territory, body__kind=BodyKind.COMMITTEE, joined_at__lt=scope.end_at
    ).filter(Q(left_at__isnull=True) | Q(left_at__gte=scope.end_at))


@indicator(
    "committee_size",
    theme=Theme.DEMOCRACY,
    name=gettext_lazy("Members of the citizen committee"),
    definition=gettext_lazy(
        "The persons who were members of the territory's citizen committee (or committees, each person counted "
        "once) on the last day of the period. Read from the bodies' memberships. Not counted: other bodies "
        "(general assembly, growers' meeting, commissions)."
    ),
    unit=Unit.PERSONS,
    modules=(Module.GOVERNANCE,),
)
def committee_size(scope: Scope) -> Result:
    return Result(_committee(scope).aggregate(n=Count("user", distinct=True))["n"])


@indicator(
    "committee_in_fund",
    theme=Theme.DEMOCRACY,
    name=gettext_lazy("Committee members drawing food credit"),
    definition=gettext_lazy(
        "Among the members of the citizen committee on the last day of the period, those who are persons of a "
        "household that received food credit from the common fund during the period: the people the fund "
        "serves taking part in its decisions. Nobody is named. Not counted: a member whose household is in the "
        "fund but has no account of its own in Grenier."
    ),
    unit=Unit.PERSONS,
    modules=(Module.GOVERNANCE, Module.FUND),
)
def committee_in_fund(scope: Scope) -> Result:
    # From the committee's few members to their households' month lines (by the lines' household and month index),
    # never from every line of the period to the members: the same count, read in milliseconds at any size.
    lines = between(MonthLine.objects.filter(household=OuterRef("household")), "month", scope)
    drawing = HouseholdPerson.objects.filter(
        user=OuterRef("user"), household__territory=scope.territory
    ).filter(Exists(lines))
    found = (
        _committee(scope)
        .annotate(drawing=Exists(drawing))
        .aggregate(n=Count("user", distinct=True, filter=Q(drawing=True)), of=Count("user", distinct=True))
    )
    share = percent(found["n"], found["of"])
    parts = (
        (Part("share", _("share of the committee"), share, found["n"], unit=Unit.PERCENT),)
        if share is not None
        else ()
    )
    return Result(found["n"], parts=parts)


def _decisions(scope: Scope) -> QuerySet[Decision]:
    return between_instants(Decision.objects.filter(proposal__territory=scope.territory), "closed_at", scope)


@indicator(
    "votes_held",
    theme=Theme.DEMOCRACY,
    name=gettext_lazy("Votes held"),
    definition=gettext_lazy(
        "The votes of the territory's bodies whose count closed during the period, adopted or not. Read from "
        "the decisions. Not counted: votes still open at the end of the period."
    ),
    unit=Unit.COUNT,
    modules=(Module.GOVERNANCE,),
)
def votes_held(scope: Scope) -> Result:
    found = _decisions(scope).aggregate(n=Count("pk"), adopted=Count("pk", filter=Q(adopted=True)))
    return Result(
        found["n"],
        parts=(
            Part("adopted", _("adopted"), found["adopted"]),
            Part("rejected", _("not adopted"), found["n"] - found["adopted"]),
        ),
    )


@indicator(
    "participation_rate",
    theme=Theme.DEMOCRACY,
    name=gettext_lazy("Participation in votes"),
    definition=gettext_lazy(
        "Over the votes closed during the period, the members who took part divided by the members who could "
        "vote (each vote's electorate when it opened), in percent. Read from the decisions. Not measured when "
        "no vote closed in the period."
    ),
    unit=Unit.PERCENT,
    modules=(Module.GOVERNANCE,),
)
def participation_rate(scope: Scope) -> Result:
    found = _decisions(scope).aggregate(took_part=Sum("participants"), could=Sum("electorate"))
    took_part, could = int(found["took_part"] or 0), int(found["could"] or 0)
    share = percent(took_part, could)
    if share is None:
        return Result.not_measured(_("Not measured: no vote closed in this period."))
    return Result(share, ratio=(took_part, could))


@indicator(
    "decisions_in_effect",
    theme=Theme.DEMOCRACY,
    name=gettext_lazy("Decisions that took effect"),
    definition=gettext_lazy(
        "The adopted decisions whose effect on Grenier (a new scale, an allocation rule, a store approved, a "
        "producer admitted...) was applied during the period. Read from the decisions. Not counted: adopted "
        "motions with no effect in Grenier, effects still waiting for their month or failed."
    ),
    unit=Unit.COUNT,
    modules=(Module.GOVERNANCE,),
)
def decisions_in_effect(scope: Scope) -> Result:
    applied = between_instants(
        Decision.objects.filter(proposal__territory=scope.territory, effect_status=EffectStatus.APPLIED),
        "effect_applied_at",
        scope,
    )
    return Result(applied.count())
