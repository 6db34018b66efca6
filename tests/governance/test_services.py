"""Governance services: one person one vote, quorum and majority edges, changed and secret ballots, members who
left, decisions written once and effects applied once."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from grenier.core.errors import Conflict, Forbidden, InvalidInput
from grenier.core.models import AuditEvent, Role, User
from grenier.fund import services as fund_services
from grenier.fund.models import AllocationRule, Payment, StoreStatus
from grenier.governance import services
from grenier.governance.models import (
    Ballot,
    Body,
    BodyKind,
    BodyMembership,
    Choice,
    Decision,
    EffectStatus,
    Majority,
    Participation,
    Proposal,
    SecretTally,
)

from ..conftest import Cast, make_user


def _now() -> datetime:
    """Read at each use, never at import: the clock is the test's (pinned by tests/conftest.py)."""
    return timezone.now()


def _after() -> datetime:
    """A week on: every proposal of these tests has closed."""
    return timezone.now() + timedelta(days=7)


def _committee(cast: Cast, size: int = 4) -> tuple[Body, list[User]]:
    body = services.body_ensure(territory=cast.territory, kind=BodyKind.COMMITTEE, name="Comité")
    people = [cast["committee"], *[make_user(f"c{i}@test.grenier") for i in range(size - 1)]]
    for person in people:
        services.membership_join(body=body, user=person, actor=None, at=_now() - timedelta(days=30))
    return body, people


def _proposal(
    body: Body,
    author: User,
    *,
    key: str = "p-1",
    kind: str = "motion",
    payload: dict[str, object] | None = None,
    secret: bool = False,
    quorum: int = 0,
    majority: Majority = Majority.SIMPLE,
    month: date | None = None,
) -> Proposal:
    return services.proposal_create(
        body=body,
        author=author,
        title="Une proposition",
        text="Texte",
        kind=kind,
        payload=payload or {},
        opens_at=_now() - timedelta(days=1),
        closes_at=_now() + timedelta(days=6),
        quorum_percent=quorum,
        majority=majority,
        secret=secret,
        effective_month=month,
        idempotency_key=key,
    )


def _close(proposal: Proposal) -> Decision:
    return services.proposal_close(proposal=proposal, actor=None, now=_after())


@pytest.mark.parametrize(
    ("majority", "votes", "adopted", "reason"),
    [
        (Majority.SIMPLE, (2, 1, 0), True, "adopted"),
        (Majority.SIMPLE, (1, 1, 2), False, "majority_not_reached"),  # a tie is not a majority
        (Majority.SIMPLE, (1, 0, 3), True, "adopted"),  # abstentions count for the quorum only
        (Majority.SIMPLE, (0, 0, 4), False, "no_votes"),
        (Majority.TWO_THIRDS, (2, 1, 0), True, "adopted"),  # exactly two thirds
        (Majority.TWO_THIRDS, (3, 2, 0), False, "majority_not_reached"),
        (Majority.UNANIMITY, (3, 0, 1), True, "adopted"),
        (Majority.UNANIMITY, (3, 1, 0), False, "majority_not_reached"),
    ],
)
def test_majorities(
    cast: Cast, majority: Majority, votes: tuple[int, int, int], adopted: bool, reason: str
) -> None:
    body, people = _committee(cast, size=sum(votes) or 1)
    proposal = _proposal(body, people[0], majority=majority)
    choices = [Choice.FOR] * votes[0] + [Choice.AGAINST] * votes[1] + [Choice.ABSTAIN] * votes[2]
    for person, choice in zip(people, choices, strict=False):
        services.ballot_cast(proposal=proposal, voter=person, choice=choice)
    decision = _close(proposal)
    assert (decision.adopted, decision.reason) == (adopted, reason)
    assert (decision.votes_for, decision.votes_against, decision.abstentions) == votes


@pytest.mark.parametrize(("voters", "met"), [(1, False), (2, True)])
def test_the_quorum_edge(cast: Cast, voters: int, met: bool) -> None:
    body, people = _committee(cast, size=4)
    proposal = _proposal(body, people[0], quorum=50)  # 2 of 4 members must take part
    for person in people[:voters]:
        services.ballot_cast(proposal=proposal, voter=person, choice=Choice.FOR)
    decision = _close(proposal)
    assert decision.electorate == 4
    assert decision.quorum_met is met
    assert decision.reason == ("adopted" if met else "quorum_not_met")


@given(
    electorate=st.integers(1, 60),
    quorum=st.integers(0, 100),
    votes=st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20)),
    majority=st.sampled_from(list(Majority)),
)
def test_outcome_rules(electorate: int, quorum: int, votes: tuple[int, int, int], majority: Majority) -> None:
    counts = services.Tally(sum(votes), *votes)
    quorum_met, adopted, reason = services.outcome(
        electorate=electorate, quorum_percent=quorum, majority=majority, counts=counts
    )
    assert quorum_met == (sum(votes) > 0 and sum(votes) / electorate >= quorum / 100)
    if adopted:
        assert quorum_met and votes[0] > votes[1]
    if majority == Majority.SIMPLE and quorum_met and votes[0] == votes[1]:
        assert not adopted and reason in {"majority_not_reached", "no_votes"}


def test_a_changed_public_ballot_counts_once(cast: Cast) -> None:
    body, people = _committee(cast)
    proposal = _proposal(body, people[0])
    services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.FOR)
    changed = services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.AGAINST)
    assert changed.changed
    assert Ballot.objects.filter(proposal=proposal).count() == 1
    decision = _close(proposal)
    assert (decision.votes_for, decision.votes_against, decision.participants) == (0, 1, 1)


def test_a_secret_ballot_changes_with_its_receipt_only(cast: Cast) -> None:
    body, people = _committee(cast)
    proposal = _proposal(body, people[0], secret=True)
    first = services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.FOR)
    assert first.receipt and not first.changed
    with pytest.raises(Forbidden):
        services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.AGAINST)  # no receipt
    with pytest.raises(Forbidden):
        services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.AGAINST, receipt="guess")
    other = services.ballot_cast(proposal=proposal, voter=people[2], choice=Choice.FOR)
    with pytest.raises(Forbidden):  # a receipt changes only its own voter's ballot
        services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.AGAINST, receipt=other.receipt)
    changed = services.ballot_cast(
        proposal=proposal, voter=people[1], choice=Choice.AGAINST, receipt=first.receipt
    )
    assert changed.changed and changed.receipt and changed.receipt != first.receipt
    with pytest.raises(Forbidden):  # used: taking the "for" back twice would make the count wrong
        services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.ABSTAIN, receipt=first.receipt)
    again = services.ballot_cast(
        proposal=proposal, voter=people[1], choice=Choice.ABSTAIN, receipt=changed.receipt
    )
    assert services.participation(proposal) == 2
    assert services.tally(proposal) == services.Tally(2, 1, 0, 1)
    decision = _close(proposal)
    assert (decision.votes_for, decision.abstentions, decision.participants) == (1, 1, 2)
    with pytest.raises(Conflict):  # closed: nothing moves any more
        services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.FOR, receipt=again.receipt)


def test_a_secret_choice_is_stored_only_in_sealed_counts(cast: Cast) -> None:
    """No row holds one person's choice: the attendance list has the voter and the hash of their receipt, the
    tally one sealed value per proposal; the receipts themselves are not stored."""
    assert {f.name for f in Participation._meta.get_fields()} == {"id", "proposal", "voter", "receipt_hash"}
    assert {f.name for f in SecretTally._meta.get_fields()} == {"proposal", "sealed"}
    body, people = _committee(cast)
    proposal = _proposal(body, people[0], secret=True)
    receipts = [
        services.ballot_cast(proposal=proposal, voter=p, choice=c).receipt
        for p, c in zip(people, [Choice.FOR, Choice.AGAINST, Choice.FOR, Choice.ABSTAIN], strict=True)
    ]
    assert SecretTally.objects.filter(proposal=proposal).count() == 1
    stored = set(Participation.objects.filter(proposal=proposal).values_list("receipt_hash", flat=True))
    assert len(stored) == 4 and not stored & set(receipts)  # only hashes, of receipts nobody else holds
    assert services.tally(proposal) == services.Tally(4, 2, 1, 1)
    # Nothing in the audit log says what anyone chose: four identical lines, one per person.
    lines = AuditEvent.objects.filter(action="governance.vote", subject=f"proposal:{proposal.pk}")
    assert sorted(lines.values_list("actor", flat=True)) == sorted(p.pk for p in people)
    assert [line.data for line in lines] == [{}] * 4


def test_secret_counts_need_the_servers_key(cast: Cast, settings: Any) -> None:
    """Sealed under SECRET_KEY: a server with another key cannot count, unless the old one is kept as a fallback
    (then the next ballot seals under the new one)."""
    body, people = _committee(cast)
    proposal = _proposal(body, people[0], secret=True)
    first = services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.AGAINST)
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "another-key-" + "x" * 40
    with pytest.raises(Conflict):
        services.tally(proposal)
    with pytest.raises(Conflict):
        services.ballot_cast(proposal=proposal, voter=people[2], choice=Choice.FOR)
    settings.SECRET_KEY_FALLBACKS = [old]
    assert services.tally(proposal) == services.Tally(1, 0, 1, 0)
    changed = services.ballot_cast(
        proposal=proposal, voter=people[1], choice=Choice.FOR, receipt=first.receipt
    )
    settings.SECRET_KEY_FALLBACKS = []
    assert services.tally(proposal) == services.Tally(1, 1, 0, 0)  # sealed again under the new key
    services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.ABSTAIN, receipt=changed.receipt)
    assert services.tally(proposal) == services.Tally(1, 0, 0, 1)


def test_only_members_when_the_vote_opened_vote(cast: Cast) -> None:
    body, people = _committee(cast)
    proposal = _proposal(body, people[0])
    with pytest.raises(Forbidden):
        services.ballot_cast(proposal=proposal, voter=cast["coordinator"], choice=Choice.FOR)
    services.membership_join(body=body, user=cast["coordinator"], actor=None)  # joined after it opened
    with pytest.raises(Forbidden):
        services.ballot_cast(proposal=proposal, voter=cast["coordinator"], choice=Choice.FOR)
    services.membership_leave(body=body, user=people[3], actor=None)  # left: votes on nothing any more
    with pytest.raises(Forbidden):
        services.ballot_cast(proposal=proposal, voter=people[3], choice=Choice.FOR)
    later = _proposal(body, people[0], key="p-2")
    assert not services.may_vote(later, people[3])
    assert services.electorate_at(body, later.opens_at) == 4  # left now, still a member when it opened


def test_leaving_and_joining_again_are_free(cast: Cast) -> None:
    body, people = _committee(cast)
    services.membership_leave(body=body, user=people[1], actor=None)
    services.membership_leave(body=body, user=people[1], actor=None)
    assert not services.is_member(body, people[1])
    services.membership_join(body=body, user=people[1], actor=None)
    services.membership_join(body=body, user=people[1], actor=None)
    assert services.is_member(body, people[1])
    assert BodyMembership.objects.filter(body=body, user=people[1], left_at__isnull=True).count() == 1


def test_votes_only_while_open(cast: Cast) -> None:
    body, people = _committee(cast)
    proposal = _proposal(body, people[0])
    with pytest.raises(Conflict):
        services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.FOR, now=_after())
    with pytest.raises(Conflict):
        services.proposal_close(proposal=proposal, actor=None, now=_now())  # still open
    _close(proposal)
    with pytest.raises(Conflict):
        services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.FOR)
    with pytest.raises(InvalidInput):
        services.ballot_cast(
            proposal=_proposal(body, people[0], key="p-3"), voter=people[1], choice="peut-être"
        )


def test_a_proposal_is_checked_before_it_is_put(cast: Cast) -> None:
    body, people = _committee(cast)
    with pytest.raises(Forbidden):
        _proposal(body, cast["coordinator"])  # not a member
    with pytest.raises(InvalidInput) as caught:
        _proposal(body, people[0], kind="allocation_rule", payload={"base_cents": -5})
    assert "effective_month" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        _proposal(body, people[0], kind="allocation_rule", payload={"base_cents": -5}, month=date(2099, 1, 1))
    assert caught.value.errors["payload.base_cents"] == ["Au moins 0."]  # in the person's language (French)
    with pytest.raises(InvalidInput):
        _proposal(body, people[0], kind="store_approve", payload={"store_id": 999_999})
    with pytest.raises(InvalidInput):
        _proposal(body, people[0], kind="no-such-kind")
    with time_machine.travel(_now(), tick=False):  # a retried request carries the same times as the first
        first = _proposal(body, people[0], key="same")
        assert _proposal(body, people[0], key="same").pk == first.pk


@pytest.fixture
def rules(cast: Cast) -> None:
    fund_services.scale_set(
        territory=cast.territory,
        effective_month=date(2020, 1, 1),
        brackets=[[None, 100]],
        minimum_cents=100,
        actor=None,
    )
    fund_services.allocation_rule_set(
        territory=cast.territory, effective_month=date(2020, 1, 1), base_cents=10_000, actor=None
    )


def test_a_store_approved_by_vote_takes_payments_and_a_suspended_one_does_not(
    cast: Cast, rules: None
) -> None:
    body, people = _committee(cast)
    store = fund_services.store_create(territory=cast.territory, name="Épicerie votée", actor=None)
    fund_services.store_cashier_add(store=store, user=cast["cashier"], actor=None)
    fund_services.monthly_run(territory=cast.territory, month=timezone.localdate(), actor=None)
    approve = _proposal(
        body, people[0], kind="store_approve", payload={"store_id": store.pk, "coverage_percent": 70}
    )
    services.ballot_cast(proposal=approve, voter=people[1], choice=Choice.FOR)
    decision = _close(approve)
    assert decision.effect_status == EffectStatus.APPLIED
    store.refresh_from_db()
    assert store.status == StoreStatus.APPROVED and store.coverage_percent == 70
    paid = fund_services.pay(
        store=store, card=cast.household.card_number, total_cents=1_000, idempotency_key="vote-1", actor=None
    )
    assert paid.payment.credit_cents == 700
    suspend = _proposal(
        body, people[0], key="p-suspend", kind="store_suspend", payload={"store_id": store.pk}
    )
    services.ballot_cast(proposal=suspend, voter=people[1], choice=Choice.FOR)
    _close(suspend)
    store.refresh_from_db()
    with pytest.raises(Forbidden):
        fund_services.pay(
            store=store,
            card=cast.household.card_number,
            total_cents=1_000,
            idempotency_key="vote-2",
            actor=None,
        )
    assert Payment.objects.filter(store=store).count() == 1


def test_an_adopted_rule_applies_once_from_its_month(cast: Cast, rules: None) -> None:
    body, people = _committee(cast)
    month = date(2099, 3, 1)
    proposal = _proposal(
        body,
        people[0],
        kind="allocation_rule",
        payload={"base_cents": 15_000, "per_additional_person_cents": 7_500, "per_child_cents": 4_500},
        month=month,
    )
    for person in people:
        services.ballot_cast(proposal=proposal, voter=person, choice=Choice.FOR)
    decision = _close(proposal)
    assert decision.effect_status == EffectStatus.APPLIED
    assert "2099" in decision.effect_summary
    rule = fund_services.rule_for(cast.territory, month)
    assert rule is not None and rule.base_cents == 15_000 and rule.decided_by.startswith("D")
    assert fund_services.rule_for(cast.territory, date(2099, 2, 1)).base_cents == 10_000  # type: ignore[union-attr]
    again = _close(proposal)
    assert again.pk == decision.pk
    assert services.close_due(territory=cast.territory, now=_after()).effects_applied == 0
    assert AllocationRule.objects.filter(territory=cast.territory).count() == 2
    assert AuditEvent.objects.filter(action="governance.effect").count() == 1


def test_a_store_decision_waits_for_its_month(cast: Cast, rules: None) -> None:
    body, people = _committee(cast)
    store = fund_services.store_create(territory=cast.territory, name="Plus tard", actor=None)
    later = (_after() + timedelta(days=40)).date().replace(day=1)
    proposal = _proposal(body, people[0], kind="store_approve", payload={"store_id": store.pk}, month=later)
    services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.FOR)
    decision = _close(proposal)
    assert decision.effect_status == EffectStatus.PENDING
    store.refresh_from_db()
    assert store.status != StoreStatus.APPROVED
    when = datetime(later.year, later.month, 2, 9, tzinfo=timezone.get_current_timezone())
    assert services.close_due(now=when).effects_applied == 1
    assert services.close_due(now=when).effects_applied == 0
    store.refresh_from_db()
    assert store.status == StoreStatus.APPROVED


def test_a_failed_effect_is_recorded_then_retried(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    from grenier.governance import kinds

    body, people = _committee(cast)
    proposal = _proposal(body, people[0], kind="producer_admit", payload={"email": "ferme@test.grenier"})
    services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.FOR)
    real = kinds.REGISTRY["producer_admit"]

    def broken(*args: object) -> str:
        raise RuntimeError("the platform is down")

    monkeypatch.setitem(kinds.REGISTRY, "producer_admit", kinds.Kind(**{**real.__dict__, "apply": broken}))
    decision = _close(proposal)
    assert decision.effect_status == EffectStatus.FAILED and "platform is down" in decision.effect_error
    assert not User.objects.filter(email="ferme@test.grenier").exists()  # nothing half-applied
    monkeypatch.setitem(kinds.REGISTRY, "producer_admit", real)
    retried = services.effect_retry(decision=decision, actor=cast["coordinator"])
    assert retried.effect_status == EffectStatus.APPLIED
    admitted = User.objects.get(email="ferme@test.grenier")
    assert admitted.territory_roles.filter(territory=cast.territory, role=Role.PRODUCER).exists()
    with pytest.raises(Conflict):
        services.effect_retry(decision=retried, actor=None)


def test_a_rejected_proposal_changes_nothing(cast: Cast, rules: None) -> None:
    body, people = _committee(cast)
    proposal = _proposal(
        body, people[0], kind="allocation_rule", payload={"base_cents": 50_000}, month=date(2099, 1, 1)
    )
    services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.AGAINST)
    decision = _close(proposal)
    assert not decision.adopted and decision.effect_status == EffectStatus.NONE
    assert fund_services.rule_for(cast.territory, date(2099, 1, 1)).base_cents == 10_000  # type: ignore[union-attr]


def test_close_due_notifies_and_closes(
    cast: Cast, mailoutbox: list[object], django_capture_on_commit_callbacks: Any
) -> None:
    body, people = _committee(cast)
    with django_capture_on_commit_callbacks(execute=True):
        proposal = _proposal(body, people[0])
    assert len(mailoutbox) == len(people)  # "a vote is open" to every member
    with django_capture_on_commit_callbacks(execute=True):
        summary = services.close_due(now=proposal.closes_at - timedelta(hours=3))
    assert summary.reminded == 1 and len(mailoutbox) == 2 * len(people)
    with django_capture_on_commit_callbacks(execute=True):
        summary = services.close_due(now=_after())
    assert summary.closed == 1 and len(mailoutbox) == 3 * len(people)
    assert services.close_due(now=_after()).closed == 0


@pytest.mark.django_db(transaction=True)
def test_two_first_ballots_at_once_count_once(cast: Cast) -> None:
    body, people = _committee(cast)
    proposal = _proposal(body, people[0], secret=True)
    results: list[object] = []
    count = 1 if connection.vendor == "sqlite" else 4  # SQLite serialises writers; the race is PostgreSQL's
    barrier = threading.Barrier(count)

    def vote() -> None:
        try:
            barrier.wait()
            results.append(services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.FOR))
        except Exception as exc:
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=vote) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Participation.objects.filter(proposal=proposal).count() == 1
    assert services.tally(proposal) == services.Tally(1, 1, 0, 0)
    assert sum(1 for r in results if isinstance(r, services.BallotResult)) == 1


def test_the_database_refuses_to_change_a_result(cast: Cast) -> None:
    from django.db import DatabaseError, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the database-level refusal exists on PostgreSQL")
    body, people = _committee(cast)
    proposal = _proposal(body, people[0])
    services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.AGAINST)
    decision = _close(proposal)
    with pytest.raises(DatabaseError), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).update(adopted=True, votes_for=9)
    with pytest.raises(DatabaseError), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).delete()
    Decision.objects.filter(pk=decision.pk).update(effect_summary="noted")  # the effect's state may move
    decision.refresh_from_db()
    assert not decision.adopted and decision.effect_summary == "noted"
