"""Reads of governance: proposal lists, the decision log, public ballots, the projection beside a rule change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from grenier.core.models import Territory, User
from grenier.governance import kinds
from grenier.governance.models import Ballot, Decision, Participation, Proposal
from grenier.governance.services import is_member


def proposals_open(territory: Territory) -> QuerySet[Proposal]:
    now = timezone.now()
    return (
        Proposal.objects.filter(
            territory=territory, opens_at__lte=now, closes_at__gt=now, decision__isnull=True
        )
        .select_related("body", "author")
        .order_by("closes_at")
    )


def proposals_upcoming(territory: Territory) -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(territory=territory, opens_at__gt=timezone.now())
        .select_related("body", "author")
        .order_by("opens_at")
    )


def proposals_due(territory: Territory) -> QuerySet[Proposal]:
    """Voting is over but the result is not computed yet (cron has not run)."""
    return Proposal.objects.filter(
        territory=territory, closes_at__lte=timezone.now(), decision__isnull=True
    ).select_related("body")


def decision_log(territory: Territory) -> QuerySet[Decision]:
    return (
        Decision.objects.filter(proposal__territory=territory)
        .select_related("proposal__body", "proposal__author")
        .order_by("-closed_at", "-id")
    )


def public_ballots(proposal: Proposal) -> list[Ballot]:
    """Names and choices of a public vote. Empty for a secret one, whoever asks."""
    if proposal.secret:
        return []
    return list(
        Ballot.objects.filter(proposal=proposal).select_related("voter").order_by("voter__display_name")
    )


def my_vote(proposal: Proposal, user: User) -> str | None:
    """A public vote: the person's choice. A secret one: ``"secret"`` if they took part (the choice is unknown)."""
    if not user.is_authenticated:
        return None
    if proposal.secret:
        return "secret" if Participation.objects.filter(proposal=proposal, voter=user).exists() else None
    return Ballot.objects.filter(proposal=proposal, voter=user).values_list("choice", flat=True).first()


def bodies_of(user: User, territory: Territory) -> list[Any]:
    from grenier.governance.models import Body

    return [
        body for body in Body.objects.filter(territory=territory).order_by("kind") if is_member(body, user)
    ]


@dataclass(frozen=True)
class RuleComparison:
    current: Any  # planning.PlanningResult under the rules in force
    proposed: Any  # planning.PlanningResult under the proposal's rules


def rule_projection(proposal: Proposal, *, months: int = 12, scenarios: int = 500) -> RuleComparison | None:
    """The fund under the current rules and under the proposed ones, same seed and assumptions, side by side.
    ``None`` for a proposal that changes no fund rule, or where the fund has no rules yet."""
    from grenier.core.errors import Conflict
    from grenier.fund import planning

    kind = kinds.get(proposal.kind)
    if not kind.changes_rules:
        return None
    payload = dict(proposal.payload)
    overrides: dict[str, Any] = {}
    if proposal.kind == "allocation_rule":
        overrides = {
            "base_cents": payload["base_cents"],
            "per_additional_person_cents": payload.get("per_additional_person_cents", 0),
            "per_child_cents": payload.get("per_child_cents", 0),
            "carry_over": payload.get("carry_over", "keep"),
            "carry_over_cap_cents": payload.get("carry_over_cap_cents", 0),
        }
    elif proposal.kind == "contribution_scale":
        overrides = {
            "brackets": [list(b) for b in payload["brackets"]],
            "minimum_cents": payload.get("minimum_cents", 100),
        }
    try:
        current = planning.project_territory(proposal.territory, months=months, scenarios=scenarios)
        proposed = planning.project_territory(
            proposal.territory, months=months, scenarios=scenarios, **overrides
        )
    except Conflict:
        return None
    return RuleComparison(current=current, proposed=proposed)
