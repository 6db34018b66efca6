"""The governance API as a member's app and a coordinator's script use it: reading, voting (public and secret),
closing, and who is refused what."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.core.models import AuditEvent
from grenier.fund import services as fund_services
from grenier.fund.models import AllocationRule, StoreStatus
from grenier.governance import services
from grenier.governance.models import (
    Ballot,
    Body,
    BodyKind,
    Decision,
    Majority,
    Participation,
    Proposal,
)

from ..conftest import Cast
from ..core.test_api import assert_problem, bearer, post

VOTERS = ("committee", "member", "producer")  # members of the committee since long before any vote opened


@dataclass
class Gov:
    cast: Cast
    body: Body

    def __getitem__(self, name: str) -> Any:
        return self.cast[name]


def make_gov(cast: Cast) -> Gov:
    """A citizen committee of three; the kitchen was a member but left two days ago."""
    body = services.body_ensure(territory=cast.territory, kind=BodyKind.COMMITTEE, name="Comité citoyen")
    long_ago = timezone.now() - timedelta(days=10)
    for who in (*VOTERS, "kitchen"):
        services.membership_join(body=body, user=cast[who], actor=None, at=long_ago)
    services.membership_leave(
        body=body, user=cast["kitchen"], actor=None, at=timezone.now() - timedelta(days=2)
    )
    return Gov(cast=cast, body=body)


def propose(
    gov: Gov,
    key: str,
    *,
    secret: bool = False,
    kind: str = "motion",
    payload: dict[str, Any] | None = None,
    effective_month: date | None = None,
    opens_in: timedelta = timedelta(hours=-1),
    closes_in: timedelta = timedelta(hours=1),
    quorum_percent: int = 50,
    majority: Majority = Majority.SIMPLE,
) -> Proposal:
    now = timezone.now()
    return services.proposal_create(
        body=gov.body,
        author=gov["committee"],
        title=f"Proposition {key}",
        text="Pourquoi c'est important.",
        kind=kind,
        payload=payload or {},
        opens_at=now + opens_in,
        closes_at=now + closes_in,
        quorum_percent=quorum_percent,
        majority=majority,
        secret=secret,
        effective_month=effective_month,
        idempotency_key=key,
    )


def end_voting(proposal: Proposal) -> Proposal:
    """Voting time is over (the API closes at the real clock's time)."""
    Proposal.objects.filter(pk=proposal.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    proposal.refresh_from_db()
    return proposal


def next_month() -> date:
    return (timezone.localdate().replace(day=1) + timedelta(days=32)).replace(day=1)


@pytest.fixture
def api_gov(cast: Cast) -> Gov:
    return make_gov(cast)


@pytest.fixture
def api_headers(cast: Cast) -> Callable[[str], dict[str, str]]:
    tokens: dict[str, dict[str, str]] = {}

    def _headers(who: str) -> dict[str, str]:
        if who not in tokens:
            tokens[who] = bearer(cast, who)
        return tokens[who]

    return _headers


Headers = Callable[[str], dict[str, str]]


def vote(
    client: Client, headers: Headers, who: str, proposal: Proposal, choice: str, receipt: str | None = None
) -> Any:
    body: dict[str, Any] = {"choice": choice}
    if receipt is not None:
        body["receipt"] = receipt
    return post(client, f"/api/v1/proposals/{proposal.pk}/ballot", body, headers=headers(who))


def close(client: Client, headers: Headers, proposal: Proposal, who: str = "coordinator") -> Any:
    return post(client, f"/api/v1/proposals/{proposal.pk}/close", {}, headers=headers(who))


ENDPOINTS = [
    ("get", "/api/v1/proposals"),
    ("get", "/api/v1/proposals/{id}"),
    ("post", "/api/v1/proposals/{id}/ballot"),
    ("get", "/api/v1/proposals/{id}/result"),
    ("post", "/api/v1/proposals/{id}/close"),
    ("get", "/api/v1/decisions"),
]


def call(client: Client, method: str, url: str, headers: dict[str, str] | None = None) -> Any:
    if method == "post":
        return post(client, url, {"choice": "for"}, headers=headers)
    return client.get(url, headers=headers)


# --- who may call at all -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_every_endpoint_needs_credentials(api_gov: Gov, client: Client, method: str, url: str) -> None:
    proposal = propose(api_gov, "anon")
    response = call(client, method, url.format(id=proposal.pk))
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
@pytest.mark.parametrize("who", ["outsider", "nobody"])
def test_people_outside_the_territory_are_told_it_does_not_exist(
    api_gov: Gov, client: Client, method: str, url: str, who: str
) -> None:
    proposal = end_voting(propose(api_gov, "outside"))
    client.force_login(api_gov[who])
    response = call(client, method, url.format(id=proposal.pk) + "?territory=vallee")
    body = assert_problem(response, 404)
    assert "Proposition" not in json.dumps(body)
    assert not Decision.objects.exists() and not Ballot.objects.exists()


@pytest.mark.parametrize(("method", "url"), [e for e in ENDPOINTS if "{id}" in e[1]])
def test_a_token_of_another_territory_does_not_reach_its_proposals(
    api_gov: Gov, client: Client, method: str, url: str
) -> None:
    proposal = end_voting(propose(api_gov, "elsewhere"))
    headers = bearer(api_gov.cast, "outsider", "elsewhere")
    assert_problem(call(client, method, url.format(id=proposal.pk), headers=headers), 404)
    assert client.get("/api/v1/proposals", headers=headers).json() == []
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    "who", ["coordinator", "committee", "member", "cashier", "producer", "kitchen", "social_worker", "funder"]
)
def test_every_role_of_the_territory_reads(
    api_gov: Gov, client: Client, api_headers: Headers, who: str
) -> None:
    proposal = propose(api_gov, "read")
    listed = client.get("/api/v1/proposals", headers=api_headers(who))
    assert listed.status_code == 200 and [p["id"] for p in listed.json()] == [proposal.pk]
    assert client.get(f"/api/v1/proposals/{proposal.pk}", headers=api_headers(who)).status_code == 200
    assert client.get("/api/v1/decisions", headers=api_headers(who)).json() == []


@pytest.mark.parametrize(
    "who", ["committee", "member", "cashier", "producer", "kitchen", "social_worker", "funder"]
)
def test_only_a_coordinator_closes(api_gov: Gov, client: Client, api_headers: Headers, who: str) -> None:
    proposal = end_voting(propose(api_gov, "close-refused"))
    assert_problem(close(client, api_headers, proposal, who), 403)
    assert not Decision.objects.exists()


def test_an_unknown_proposal_is_404(api_gov: Gov, client: Client, api_headers: Headers) -> None:
    for method, url in ENDPOINTS:
        if "{id}" in url:
            assert_problem(call(client, method, url.format(id=999_999), api_headers("coordinator")), 404)


# --- reading -------------------------------------------------------------------------------------------------------


def test_the_list_by_state(api_gov: Gov, client: Client, api_headers: Headers) -> None:
    open_ = propose(api_gov, "open", secret=True)
    upcoming = propose(api_gov, "upcoming", opens_in=timedelta(days=1), closes_in=timedelta(days=8))
    due = end_voting(propose(api_gov, "due"))
    closed = end_voting(propose(api_gov, "closed"))
    assert close(client, api_headers, closed).status_code == 200
    assert vote(client, api_headers, "member", open_, "for").status_code == 200
    assert vote(client, api_headers, "producer", open_, "against").status_code == 200
    headers = api_headers("member")

    def ids(state: str) -> list[int]:
        response = client.get(f"/api/v1/proposals?state={state}", headers=headers)
        assert response.status_code == 200, response.content
        return [p["id"] for p in response.json()]

    assert ids("open") == [open_.pk]
    assert ids("upcoming") == [upcoming.pk]
    assert ids("due") == [due.pk]
    assert ids("closed") == [closed.pk]
    assert sorted(ids("all")) == sorted([open_.pk, upcoming.pk, due.pk, closed.pk])
    everything = {p["id"]: p for p in client.get("/api/v1/proposals", headers=headers).json()}
    assert {p["state"] for p in everything.values()} == {"open", "upcoming", "due", "closed"}
    one = everything[open_.pk]
    assert one["participation"] == 2 and one["secret"] is True and one["body"] == "Comité citoyen"
    assert one["kind"] == "motion" and one["majority"] == "simple" and one["quorum_percent"] == 50
    assert_problem(client.get("/api/v1/proposals?state=sideways", headers=headers), 422)


def test_one_proposal_as_each_person_sees_it(api_gov: Gov, client: Client, api_headers: Headers) -> None:
    proposal = propose(api_gov, "detail")
    detail = client.get(f"/api/v1/proposals/{proposal.pk}", headers=api_headers("member")).json()
    assert detail["state"] == "open" and detail["may_vote"] is True and detail["my_vote"] is None
    assert detail["preview"] and detail["text"] == "Pourquoi c'est important."
    assert detail["result"] is None and detail["ballots"] == []
    vote(client, api_headers, "member", proposal, "abstain")
    detail = client.get(f"/api/v1/proposals/{proposal.pk}", headers=api_headers("member")).json()
    assert detail["my_vote"] == "abstain" and detail["participation"] == 1
    for who in ("cashier", "kitchen", "coordinator"):  # not members, or no longer
        other = client.get(f"/api/v1/proposals/{proposal.pk}", headers=api_headers(who)).json()
        assert other["may_vote"] is False and other["my_vote"] is None


# --- voting --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["cashier", "coordinator", "funder"])
def test_a_person_outside_the_body_cannot_vote(
    api_gov: Gov, client: Client, api_headers: Headers, who: str
) -> None:
    proposal = propose(api_gov, "non-member")
    assert_problem(vote(client, api_headers, who, proposal, "for"), 403)
    assert not Ballot.objects.exists()


def test_a_member_who_left_before_the_vote_opened_cannot_vote(
    api_gov: Gov, client: Client, api_headers: Headers
) -> None:
    public = propose(api_gov, "left-public")
    secret = propose(api_gov, "left-secret", secret=True)
    assert_problem(vote(client, api_headers, "kitchen", public, "for"), 403)
    assert_problem(vote(client, api_headers, "kitchen", secret, "for"), 403)
    assert not Ballot.objects.exists() and not Participation.objects.exists()


def test_a_member_who_joined_after_the_vote_opened_cannot_vote(
    api_gov: Gov, client: Client, api_headers: Headers
) -> None:
    proposal = propose(api_gov, "late-joiner")
    services.membership_join(body=api_gov.body, user=api_gov["cashier"], actor=None)
    assert_problem(vote(client, api_headers, "cashier", proposal, "for"), 403)


def test_a_public_vote_is_changed_on_the_same_ballot(
    api_gov: Gov, client: Client, api_headers: Headers
) -> None:
    proposal = propose(api_gov, "public")
    first = vote(client, api_headers, "member", proposal, "for")
    assert first.status_code == 200, first.content
    assert first.json() == {"choice": "for", "changed": False, "receipt": None}
    ballot = Ballot.objects.get()
    again = vote(client, api_headers, "member", proposal, "against")
    assert again.json() == {"choice": "against", "changed": True, "receipt": None}
    assert list(Ballot.objects.values_list("pk", "choice")) == [(ballot.pk, "against")]
    vote(client, api_headers, "committee", proposal, "for")
    expected = sorted(
        [
            {"voter": api_gov["committee"].display_name, "choice": "for"},
            {"voter": api_gov["member"].display_name, "choice": "against"},
        ],
        key=lambda b: b["voter"],
    )
    for who in ("member", "coordinator", "funder"):
        detail = client.get(f"/api/v1/proposals/{proposal.pk}", headers=api_headers(who)).json()
        assert detail["ballots"] == expected


def test_a_secret_vote_is_changed_only_with_its_receipt(
    api_gov: Gov, client: Client, api_headers: Headers
) -> None:
    proposal = propose(api_gov, "secret", secret=True)
    first = vote(client, api_headers, "member", proposal, "for")
    assert first.status_code == 200, first.content
    body = first.json()
    receipt = body["receipt"]
    # The choice is not echoed: the answer is the same length whatever was chosen.
    assert body["choice"] is None and body["changed"] is False and isinstance(receipt, str)
    assert len(receipt) >= 20
    assert Participation.objects.get().receipt_hash != receipt  # only its hash is kept

    assert_problem(vote(client, api_headers, "member", proposal, "against"), 403)
    assert_problem(vote(client, api_headers, "member", proposal, "against", receipt="x" * 32), 403)
    assert_problem(vote(client, api_headers, "member", proposal, "against", receipt=""), 403)
    assert services.tally(proposal) == services.Tally(1, 1, 0, 0)

    changed = vote(client, api_headers, "member", proposal, "against", receipt=receipt)
    assert changed.status_code == 200, changed.content
    renewed = changed.json()["receipt"]
    assert changed.json()["choice"] is None and changed.json()["changed"] is True
    assert renewed != receipt and len(renewed) == len(receipt)
    assert services.tally(proposal) == services.Tally(1, 0, 1, 0)
    assert Participation.objects.count() == 1
    # The receipt a change was made with is spent; the new one works.
    assert_problem(vote(client, api_headers, "member", proposal, "abstain", receipt=receipt), 403)
    assert vote(client, api_headers, "member", proposal, "abstain", receipt=renewed).status_code == 200

    # Another member's receipt changes nothing of theirs: each voter has one ballot.
    other = vote(client, api_headers, "committee", proposal, "for").json()["receipt"]
    assert other and other != receipt
    assert_problem(vote(client, api_headers, "member", proposal, "for", receipt=other), 403)
    assert services.tally(proposal) == services.Tally(2, 1, 0, 1) and Participation.objects.count() == 2


def test_a_secret_ballots_answer_has_one_length_whatever_the_choice(
    api_gov: Gov, client: Client, api_headers: Headers
) -> None:
    """What an access log keeps of a ballot (status, length of the answer) is the same for every choice."""
    lengths = set()
    for index, (who, choice) in enumerate(zip(VOTERS, ["for", "against", "abstain"], strict=True)):
        proposal = propose(api_gov, f"length-{index}", secret=True)
        first = vote(client, api_headers, who, proposal, choice)
        again = vote(client, api_headers, who, proposal, "for", receipt=first.json()["receipt"])
        lengths.add((first.status_code, len(first.content), again.status_code, len(again.content)))
    assert len(lengths) == 1, lengths


def test_a_secret_vote_never_shows_its_ballots(api_gov: Gov, client: Client, api_headers: Headers) -> None:
    proposal = propose(api_gov, "secret-shown", secret=True)
    vote(client, api_headers, "member", proposal, "against")
    vote(client, api_headers, "committee", proposal, "for")
    end_voting(proposal)
    close(client, api_headers, proposal)
    names = [api_gov["member"].display_name, api_gov["committee"].display_name]
    for who in ("member", "committee", "coordinator", "funder"):
        detail = client.get(f"/api/v1/proposals/{proposal.pk}", headers=api_headers(who)).json()
        assert detail["ballots"] is None
        raw = json.dumps(detail, ensure_ascii=False)
        assert not any(name in raw for name in names)
    mine = client.get(f"/api/v1/proposals/{proposal.pk}", headers=api_headers("member")).json()
    assert mine["my_vote"] == "secret"
    assert mine["result"]["votes_for"] == 1 and mine["result"]["votes_against"] == 1
    decisions = json.dumps(
        client.get("/api/v1/decisions", headers=api_headers("member")).json(), ensure_ascii=False
    )
    assert not any(name in decisions for name in names)


@pytest.mark.parametrize(
    "body", [{"choice": "maybe"}, {"choice": ""}, {}, {"choice": "for", "receipt": "r" * 101}]
)
def test_a_bad_ballot_is_422(
    api_gov: Gov, client: Client, api_headers: Headers, body: dict[str, Any]
) -> None:
    proposal = propose(api_gov, "bad-choice")
    problem = assert_problem(
        post(client, f"/api/v1/proposals/{proposal.pk}/ballot", body, headers=api_headers("member")), 422
    )
    assert problem["errors"][0]["field"] in {"choice", "receipt"}
    assert not Ballot.objects.exists()


def test_no_ballot_outside_the_voting_time(api_gov: Gov, client: Client, api_headers: Headers) -> None:
    upcoming = propose(api_gov, "not-yet", opens_in=timedelta(days=1), closes_in=timedelta(days=8))
    assert_problem(vote(client, api_headers, "member", upcoming, "for"), 409)
    over = propose(api_gov, "over", secret=True)
    first = vote(client, api_headers, "member", over, "for").json()
    end_voting(over)
    assert_problem(vote(client, api_headers, "member", over, "against", receipt=first["receipt"]), 409)
    assert_problem(vote(client, api_headers, "committee", over, "for"), 409)
    close(client, api_headers, over)
    assert_problem(vote(client, api_headers, "committee", over, "for"), 409)
    assert services.tally(over) == services.Tally(1, 1, 0, 0) and Participation.objects.count() == 1


# --- closing and results -------------------------------------------------------------------------------------------


def test_the_result_once_closed(api_gov: Gov, client: Client, api_headers: Headers) -> None:
    proposal = propose(api_gov, "result", quorum_percent=50)
    vote(client, api_headers, "committee", proposal, "for")
    vote(client, api_headers, "member", proposal, "for")
    vote(client, api_headers, "producer", proposal, "against")
    url = f"/api/v1/proposals/{proposal.pk}/result"
    assert assert_problem(client.get(url, headers=api_headers("member")), 404)["detail"]  # "not closed yet"
    assert_problem(close(client, api_headers, proposal), 409)  # voting is still open
    assert not Decision.objects.exists()

    end_voting(proposal)
    assert_problem(client.get(url, headers=api_headers("member")), 404)  # due, not closed yet
    closed = close(client, api_headers, proposal)
    assert closed.status_code == 200, closed.content
    result = closed.json()
    assert {
        k: result[k]
        for k in (
            "proposal",
            "electorate",
            "participants",
            "votes_for",
            "votes_against",
            "abstentions",
            "quorum_met",
            "adopted",
            "reason",
            "effect_status",
        )
    } == {
        "proposal": proposal.pk,
        "electorate": 3,  # the kitchen had left before the vote opened
        "participants": 3,
        "votes_for": 2,
        "votes_against": 1,
        "abstentions": 0,
        "quorum_met": True,
        "adopted": True,
        "reason": "adopted",
        "effect_status": "none",
    }
    assert client.get(url, headers=api_headers("funder")).json() == result
    detail = client.get(f"/api/v1/proposals/{proposal.pk}", headers=api_headers("member")).json()
    assert detail["state"] == "closed" and detail["result"] == result and detail["may_vote"] is False
    log = client.get("/api/v1/decisions", headers=api_headers("kitchen")).json()
    assert len(log) == 1
    assert log[0]["proposal"] == proposal.pk and log[0]["votes_for"] == 2 and log[0]["adopted"] is True
    assert log[0]["title"] == "Proposition result" and log[0]["body"] == "Comité citoyen"


def test_a_vote_without_quorum_is_rejected(api_gov: Gov, client: Client, api_headers: Headers) -> None:
    proposal = propose(api_gov, "quorum", secret=True, quorum_percent=100)
    vote(client, api_headers, "member", proposal, "for")
    end_voting(proposal)
    result = close(client, api_headers, proposal).json()
    assert (
        result["quorum_met"] is False and result["adopted"] is False and result["reason"] == "quorum_not_met"
    )
    assert result["participants"] == 1 and result["electorate"] == 3


def test_closing_twice_approves_the_store_once(api_gov: Gov, client: Client, api_headers: Headers) -> None:
    store = fund_services.store_create(territory=api_gov.cast.territory, name="Supérette du Pont", actor=None)
    proposal = propose(
        api_gov,
        "store",
        secret=True,
        kind="store_approve",
        payload={"store_id": store.pk, "coverage_percent": 80},
    )
    detail = client.get(f"/api/v1/proposals/{proposal.pk}", headers=api_headers("member")).json()
    assert any("Supérette du Pont" in line for line in detail["preview"])
    for who in VOTERS:
        vote(client, api_headers, who, proposal, "for")
    end_voting(proposal)

    first = close(client, api_headers, proposal)
    assert first.status_code == 200, first.content
    decision = first.json()
    assert decision["adopted"] is True and decision["effect_status"] == "applied"
    assert "Supérette du Pont" in decision["effect_summary"] and decision["effect_error"] == ""
    store.refresh_from_db()
    assert store.status == StoreStatus.APPROVED and store.coverage_percent == 80
    approved = (store.approved_on, store.coverage_percent)

    again = close(client, api_headers, proposal)
    assert again.status_code == 200 and again.json() == decision
    store.refresh_from_db()
    assert (store.approved_on, store.coverage_percent) == approved
    assert Decision.objects.count() == 1
    assert AuditEvent.objects.filter(action="fund.store.approve", subject=f"store:{store.pk}").count() == 1
    assert (
        AuditEvent.objects.filter(action="governance.effect", subject=f"proposal:{proposal.pk}").count() == 1
    )
    assert (
        AuditEvent.objects.filter(action="governance.close", subject=f"proposal:{proposal.pk}").count() == 1
    )


def test_closing_twice_records_the_allocation_rule_once(
    api_gov: Gov, client: Client, api_headers: Headers
) -> None:
    month = next_month()
    proposal = propose(
        api_gov,
        "allocation",
        kind="allocation_rule",
        payload={"base_cents": 12_000, "per_additional_person_cents": 3_000},
        effective_month=month,
    )
    assert proposal.effective_month == month
    for who in ("committee", "member"):
        vote(client, api_headers, who, proposal, "for")
    end_voting(proposal)
    decision = close(client, api_headers, proposal).json()
    assert decision["effect_status"] == "applied", decision
    rule = AllocationRule.objects.get(territory=api_gov.cast.territory, effective_month=month)
    assert rule.base_cents == 12_000 and rule.per_additional_person_cents == 3_000
    assert str(decision["proposal"]) in rule.decided_by or "Proposition allocation" in rule.decided_by
    snapshot = list(AllocationRule.objects.values())
    assert close(client, api_headers, proposal).json() == decision
    assert list(AllocationRule.objects.values()) == snapshot
    assert AuditEvent.objects.filter(action="fund.allocation").count() == 1


# --- e-mails -------------------------------------------------------------------------------------------------------


def test_members_are_told_when_a_vote_opens_and_closes(
    api_gov: Gov, client: Client, api_headers: Headers, django_capture_on_commit_callbacks: Any
) -> None:
    members = {f"{who}@test.grenier" for who in VOTERS}  # not the kitchen, who left
    with django_capture_on_commit_callbacks(execute=True):
        proposal = propose(api_gov, "mail", secret=True)
    link = reverse("governance_proposal", args=[api_gov.cast.territory.slug, proposal.pk])
    opened = list(mail.outbox)
    assert sorted(address for m in opened for address in m.to) == sorted(members)  # one message each
    assert all("Proposition mail" in m.subject and link in m.body for m in opened)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        vote(client, api_headers, "member", proposal, "for")
        vote(client, api_headers, "producer", proposal, "for")
    assert mail.outbox == []  # voting tells nobody
    end_voting(proposal)
    with django_capture_on_commit_callbacks(execute=True):
        assert close(client, api_headers, proposal).status_code == 200
    closed = list(mail.outbox)
    assert sorted(address for m in closed for address in m.to) == sorted(members)
    assert all("Proposition mail" in m.subject and link in m.body for m in closed)
    # "abstention" agrees with its count: singular for 0 and 1 in French
    assert all("2 pour, 0 contre, 0 abstention ;" in m.body for m in closed)
    assert {m.subject for m in closed}.isdisjoint({m.subject for m in opened})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        close(client, api_headers, proposal)  # closing again tells nobody again
    assert mail.outbox == []


# --- the description -----------------------------------------------------------------------------------------------


def test_the_openapi_description_documents_governance(client: Client, db: None) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    for path in [
        "/api/v1/proposals",
        "/api/v1/proposals/{proposal_id}",
        "/api/v1/proposals/{proposal_id}/ballot",
        "/api/v1/proposals/{proposal_id}/result",
        "/api/v1/proposals/{proposal_id}/close",
        "/api/v1/decisions",
    ]:
        assert path in spec["paths"], path
    assert spec["paths"]["/api/v1/decisions"]["get"]["tags"] == ["governance"]
    schemas = spec["components"]["schemas"]
    assert "receipt" in schemas["BallotOut"]["properties"]
    assert "description" in schemas["BallotOut"]["properties"]["receipt"]
    assert set(schemas["BallotIn"]["properties"]["choice"]["enum"]) == {"for", "against", "abstain"}
    assert "description" in schemas["ProposalDetailOut"]["properties"]["ballots"]
