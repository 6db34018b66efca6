"""Governance in the cast's territory: a body whose members are the committee person and the coordinator, and
proposals in every state — an open public one, an open secret one, one whose voting is over (due) and a closed one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from grenier.governance import services
from grenier.governance.models import Body, BodyKind, Decision, Majority, Proposal

from ..conftest import Cast
from ..fund.conftest import Fund, fund  # noqa: F401 - the fixture, used by ``gov``

MEMBERS = {"committee", "coordinator"}  # of the body; every other role is not


@dataclass
class Gov:
    fund: Fund
    cast: Cast
    body: Body
    public: Proposal  # open, public ballot, a motion
    secret: Proposal  # open, secret ballot, approves the pending store
    due: Proposal  # voting over, not counted yet
    closed: Proposal  # counted: adopted
    decision: Decision


def propose(
    body: Body,
    author: object,
    title: str,
    *,
    kind: str = "motion",
    payload: dict[str, object] | None = None,
    secret: bool = False,
    opens_in: timedelta = timedelta(hours=-1),
    closes_in: timedelta = timedelta(days=7),
    text: str = "",
    effective_month: object = None,
    quorum_percent: int = 0,
) -> Proposal:
    now = timezone.now()
    return services.proposal_create(
        body=body,
        author=author,  # type: ignore[arg-type]
        title=title,
        text=text,
        kind=kind,
        payload=payload or {},
        opens_at=now + opens_in,
        closes_at=now + closes_in,
        quorum_percent=quorum_percent,
        majority=Majority.SIMPLE,
        secret=secret,
        effective_month=effective_month,  # type: ignore[arg-type]
        idempotency_key=f"test-{title}",
    )


def end_voting(proposal: Proposal) -> Proposal:
    """Move the window into the past, as if time had passed: the vote is due."""
    now = timezone.now()
    Proposal.objects.filter(pk=proposal.pk).update(
        opens_at=min(proposal.opens_at, now - timedelta(hours=2)), closes_at=now - timedelta(minutes=1)
    )
    proposal.refresh_from_db()
    return proposal


@pytest.fixture
def gov(fund: Fund) -> Gov:  # noqa: F811 - the fixture imported above
    cast = fund.cast
    body = services.body_ensure(territory=cast.territory, kind=BodyKind.COMMITTEE, name="Comité de test")
    a_day_ago = timezone.now() - timedelta(days=1)
    for who in sorted(MEMBERS):
        services.membership_join(body=body, user=cast[who], actor=None, at=a_day_ago)
    public = propose(body, cast["committee"], "Ouvrir une halle le samedi", text="Une halle, le samedi.")
    secret = propose(
        body,
        cast["coordinator"],
        "Conventionner la supérette",
        kind="store_approve",
        payload={"store_id": fund.pending_store.pk, "coverage_percent": 80},
        secret=True,
    )
    due = propose(body, cast["committee"], "Planter un verger")
    services.ballot_cast(proposal=due, voter=cast["committee"], choice="for")
    due = end_voting(due)
    closed = propose(body, cast["committee"], "Fêter les moissons")
    services.ballot_cast(proposal=closed, voter=cast["committee"], choice="for")
    services.ballot_cast(proposal=closed, voter=cast["coordinator"], choice="abstain")
    closed = end_voting(closed)
    decision = services.proposal_close(proposal=closed, actor=None)
    return Gov(
        fund=fund,
        cast=cast,
        body=body,
        public=public,
        secret=secret,
        due=due,
        closed=closed,
        decision=decision,
    )
