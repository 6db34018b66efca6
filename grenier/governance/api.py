"""API of governance: proposals, ballots, results and the decision log.

Every person of the territory reads; members of a body vote on its proposals; coordinators close a due vote. A secret
vote's ballots are never listed, whoever asks: the API knows who took part, never what they chose.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router
from pydantic import ValidationError as PydanticValidationError

from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, NotFound
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.governance import selectors, services
from grenier.governance.models import Ballot, Body, Decision, Participation, Proposal
from grenier.governance.schemas import (
    BallotIn,
    BallotOut,
    BodyIn,
    BodyOut,
    DecisionLogOut,
    DecisionOut,
    ProposalDetailOut,
    ProposalOut,
    PublicBallotOut,
)

router = Router(tags=["governance"])

StateFilter = Literal["open", "upcoming", "due", "closed", "all"]


def _readable(request: HttpRequest) -> Territory:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.GOV_READ)
    return territory


def _counted(proposals: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Ballots, participations and whether a decision exists, in the same query as the proposals."""

    def count(model: type[Ballot] | type[Participation]) -> Coalesce:
        rows = (
            model.objects.filter(proposal=OuterRef("pk"))
            .order_by()
            .values("proposal")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), 0)

    return proposals.select_related("body").annotate(
        public_count=count(Ballot),
        secret_count=count(Participation),
        decided=Exists(Decision.objects.filter(proposal=OuterRef("pk"))),
    )


def _state(proposal: Proposal, now: datetime) -> str:
    """``services.state`` without a query: ``decided`` comes from ``_counted``."""
    if proposal.decided:  # type: ignore[attr-defined]
        return "closed"
    if now < proposal.opens_at:
        return "upcoming"
    if now < proposal.closes_at:
        return "open"
    return "due"


def _fields(proposal: Proposal, now: datetime) -> dict[str, Any]:
    count: int = getattr(proposal, "secret_count" if proposal.secret else "public_count")
    return {
        "id": proposal.pk,
        "title": proposal.title,
        "body": proposal.body.name,
        "kind": proposal.kind,
        "opens_at": proposal.opens_at,
        "closes_at": proposal.closes_at,
        "secret": proposal.secret,
        "majority": proposal.majority,
        "quorum_percent": proposal.quorum_percent,
        "effective_month": proposal.effective_month,
        "state": _state(proposal, now),
        "participation": count,
    }


def _decision_out(decision: Decision) -> DecisionOut:
    return DecisionOut(
        proposal=decision.proposal_id,
        closed_at=decision.closed_at,
        electorate=decision.electorate,
        participants=decision.participants,
        votes_for=decision.votes_for,
        votes_against=decision.votes_against,
        abstentions=decision.abstentions,
        quorum_met=decision.quorum_met,
        adopted=decision.adopted,
        reason=decision.reason,
        effect_status=decision.effect_status,
        effect_applied_at=decision.effect_applied_at,
        effect_summary=decision.effect_summary,
        effect_error=decision.effect_error,
    )


def _preview(proposal: Proposal) -> list[str]:
    """What the proposal changes; a proposal whose subject has gone (a deleted store) still reads."""
    try:
        return services.preview(proposal)
    except (ObjectDoesNotExist, GrenierError, PydanticValidationError):
        return [_("What this proposal would change cannot be shown any more.")]


def _proposal(territory: Territory, proposal_id: int) -> Proposal:
    proposal = _counted(Proposal.objects.filter(territory=territory, pk=proposal_id)).first()
    if proposal is None:
        raise NotFound(_("No proposal has this number here."))
    return proposal


@router.get("/proposals", response=list[ProposalOut], summary="Proposals of the territory's bodies")
def proposal_list(
    request: HttpRequest,
    state: StateFilter = Query("all", description="open, upcoming, due, closed or all"),  # noqa: B008
    limit: int = Query(100, ge=1, le=500),
) -> list[ProposalOut]:
    territory = _readable(request)
    now = timezone.now()
    rows: QuerySet[Proposal]
    if state == "open":
        rows = selectors.proposals_open(territory)
    elif state == "upcoming":
        rows = selectors.proposals_upcoming(territory)
    elif state == "due":
        rows = selectors.proposals_due(territory).order_by("closes_at")
    elif state == "closed":
        rows = Proposal.objects.filter(territory=territory, decision__isnull=False).order_by(
            "-decision__closed_at", "-id"
        )
    else:
        rows = Proposal.objects.filter(territory=territory)
    return [ProposalOut(**_fields(p, now)) for p in _counted(rows)[:limit]]


@router.get(
    "/proposals/{proposal_id}", response=ProposalDetailOut, summary="One proposal, with the caller's vote"
)
def proposal_detail(request: HttpRequest, proposal_id: int) -> ProposalDetailOut:
    territory = _readable(request)
    user = user_of(request)
    proposal = _proposal(territory, proposal_id)
    now = timezone.now()
    fields = _fields(proposal, now)
    decision = Decision.objects.filter(proposal=proposal).first()
    ballots = None
    if not proposal.secret:
        ballots = [
            PublicBallotOut(voter=ballot.voter.display_name, choice=ballot.choice)
            for ballot in selectors.public_ballots(proposal)
        ]
    return ProposalDetailOut(
        **fields,
        text=proposal.text,
        preview=_preview(proposal),
        my_vote=selectors.my_vote(proposal, user),
        may_vote=fields["state"] == "open" and services.may_vote(proposal, user),
        result=_decision_out(decision) if decision is not None else None,
        ballots=ballots,
    )


@router.post(
    "/proposals/{proposal_id}/ballot",
    response=BallotOut,
    summary="Vote, or change your vote, while voting is open (members of the body)",
)
def ballot_cast(request: HttpRequest, proposal_id: int, payload: BallotIn) -> BallotOut:
    territory = _readable(request)
    proposal = _proposal(territory, proposal_id)
    result = services.ballot_cast(
        proposal=proposal, voter=user_of(request), choice=payload.choice, receipt=payload.receipt or None
    )
    choice = None if proposal.secret else result.choice
    return BallotOut(choice=choice, changed=result.changed, receipt=result.receipt)


@router.get(
    "/proposals/{proposal_id}/result", response=DecisionOut, summary="The decision, once voting is closed"
)
def proposal_result(request: HttpRequest, proposal_id: int) -> DecisionOut:
    territory = _readable(request)
    proposal = _proposal(territory, proposal_id)
    decision = Decision.objects.filter(proposal=proposal).first()
    if decision is None:
        raise NotFound(_("This vote is not closed yet."))
    return _decision_out(decision)


@router.post(
    "/proposals/{proposal_id}/close",
    response=DecisionOut,
    summary="Close a vote whose time is over and apply its effect (coordinator); again returns the same decision",
)
def proposal_close(request: HttpRequest, proposal_id: int) -> DecisionOut:
    territory = _readable(request)
    permissions.require(request.user, territory, Action.GOV_MANAGE)
    proposal = _proposal(territory, proposal_id)
    decision = services.proposal_close(proposal=proposal, actor=user_of(request))
    return _decision_out(decision)


@router.get("/decisions", response=list[DecisionLogOut], summary="The decision log: results, never names")
def decision_list(request: HttpRequest, limit: int = Query(100, ge=1, le=500)) -> list[DecisionLogOut]:
    territory = _readable(request)
    return [
        DecisionLogOut(
            proposal=decision.proposal_id,
            title=decision.proposal.title,
            body=decision.proposal.body.name,
            kind=decision.proposal.kind,
            closed_at=decision.closed_at,
            electorate=decision.electorate,
            participants=decision.participants,
            votes_for=decision.votes_for,
            votes_against=decision.votes_against,
            abstentions=decision.abstentions,
            quorum_met=decision.quorum_met,
            adopted=decision.adopted,
            reason=decision.reason,
            effect_status=decision.effect_status,
            effect_summary=decision.effect_summary,
        )
        for decision in selectors.decision_log(territory)[:limit]
    ]


# --- bodies --------------------------------------------------------------------------------------------------------


@router.get("/bodies", response=list[BodyOut], summary="The territory's bodies, any number of each kind")
def body_list(request: HttpRequest) -> list[BodyOut]:
    territory = _readable(request)
    rows = (
        Body.objects.filter(territory=territory)
        .annotate(members=Count("memberships", filter=Q(memberships__left_at__isnull=True)))
        .order_by("kind", "name")
    )
    return [BodyOut(id=b.pk, kind=b.kind, name=b.name, members=b.members) for b in rows]


@router.post(
    "/bodies",
    response={201: BodyOut},
    summary="Open a body (coordinator): a name already taken in the territory is refused (422)",
)
def body_create(request: HttpRequest, payload: BodyIn) -> tuple[int, BodyOut]:
    territory = _readable(request)
    permissions.require(request.user, territory, Action.GOV_MANAGE)
    body = services.body_create(
        territory=territory, kind=payload.kind, name=payload.name, actor=user_of(request)
    )
    return 201, BodyOut(id=body.pk, kind=body.kind, name=body.name, members=0)
