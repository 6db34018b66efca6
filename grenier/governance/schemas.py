"""The bodies of the governance API's operations (what goes in and what comes out)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema

from grenier.core.schemas import FROM_TEXT, InputSchema
from grenier.governance.models import BodyKind


class ProposalOut(Schema):
    id: int
    title: str
    body: str = Field(..., description="The name of the body that votes on it.")
    kind: str = Field(
        ..., description="What an adopted proposal changes: motion, store_approve, allocation_rule…"
    )
    opens_at: datetime
    closes_at: datetime
    secret: bool = Field(..., description="A secret ballot: who took part is known, never what they chose.")
    majority: str = Field(..., description="simple, two_thirds or unanimity (of votes cast for or against).")
    quorum_percent: int = Field(..., description="Share of the body's members who must take part.")
    effective_month: date | None = Field(None, description="For rule changes: the first month they apply.")
    state: str = Field(
        ..., description="upcoming, open, due (voting over, result not computed yet) or closed."
    )
    participation: int = Field(..., description="How many have voted so far (never what they chose).")


class DecisionOut(Schema):
    proposal: int
    closed_at: datetime
    electorate: int = Field(..., description="Members of the body when voting opened.")
    participants: int
    votes_for: int
    votes_against: int
    abstentions: int
    quorum_met: bool
    adopted: bool
    reason: str = Field(..., description="adopted, quorum_not_met, majority_not_reached or no_votes.")
    effect_status: str = Field(..., description="none, pending (waiting for its month), applied or failed.")
    effect_applied_at: datetime | None = None
    effect_summary: str = Field("", description="What the effect changed, once applied.")
    effect_error: str = Field("", description="Why the effect failed, if it did.")


class DecisionLogOut(Schema):
    proposal: int
    title: str
    body: str
    kind: str
    closed_at: datetime
    electorate: int
    participants: int
    votes_for: int
    votes_against: int
    abstentions: int
    quorum_met: bool
    adopted: bool
    reason: str
    effect_status: str
    effect_summary: str


class PublicBallotOut(Schema):
    voter: str = Field(..., description="The voter's display name.")
    choice: str


class ProposalDetailOut(ProposalOut):
    text: str
    preview: list[str] = Field(..., description="Exactly what an adopted proposal changes in Grenier.")
    my_vote: str | None = Field(
        None,
        description='Public vote: the caller\'s choice. Secret vote: "secret" once the caller has taken part. '
        "Null if the caller has not voted.",
    )
    may_vote: bool = Field(
        ...,
        description="The vote is open and the caller was a member of the body when it opened, and still is.",
    )
    result: DecisionOut | None = Field(None, description="Once closed.")
    ballots: list[PublicBallotOut] | None = Field(
        None, description="Public votes only: who chose what. Never given for a secret vote."
    )


class BallotIn(InputSchema):
    choice: Literal["for", "against", "abstain"]
    receipt: str | None = Field(
        None,
        max_length=100,
        description="Secret votes: the receipt returned by your last ballot on this proposal, needed to change it.",
    )


class BallotOut(Schema):
    choice: str | None = Field(
        ...,
        description="Public votes: the choice recorded. Secret votes: null, so that the answer has the same "
        "length whatever was chosen (an access log records lengths).",
    )
    changed: bool = Field(..., description="True when this replaced an earlier ballot of the caller.")
    receipt: str | None = Field(
        None,
        description="Secret votes: the receipt to keep, needed to change this ballot until the close. Every ballot "
        "gives a new one and the one sent is no longer valid (it holds your choice, sealed; Grenier stores only "
        "its hash and cannot show it again). Null for public votes.",
    )


class BodyIn(InputSchema):
    kind: Annotated[BodyKind, FROM_TEXT] = Field(
        ..., description="committee, growers, assembly, commission or follow_up."
    )
    name: str = Field(
        "", max_length=200, description="What tells it apart in the territory; by default the kind's name."
    )


class BodyOut(Schema):
    id: int
    kind: str
    name: str
    members: int = Field(..., description="Members now.")
