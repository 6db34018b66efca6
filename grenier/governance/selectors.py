"""Reads of governance: proposal lists, the decision log, public ballots, the projection beside a rule change."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from grenier.core.models import Territory, User
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
