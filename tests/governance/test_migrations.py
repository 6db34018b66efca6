"""Migration 0003 turns the secret ballots of the first design into sealed counts (issue 20).

The database is taken back to 0002 and filled as the first design's service filled it — an attendance row and a
ballot row per voter, in voting order — and the issue's attack (zip the two orders) is shown to work on it. After
the migration the counts are the same, the voters of a vote still open change their choice once with the receipt
they hold, the rows are gone (on SQLite their bytes too), and the same attack finds nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from grenier.core.errors import Forbidden
from grenier.governance import services
from grenier.governance.models import ConvertedReceipt, Participation, Proposal

from ..conftest import Cast, make_user
from .test_attacker import Attacker, read_everything

BEFORE = [("governance", "0002_decisions_immutable_on_postgresql")]
CHOICES = ("for", "against", "abstain")


def _migrate(targets: list[tuple[str, str]] | None = None) -> Any:
    """To ``targets``, or to the latest migrations (0003 and whatever came after it, as the models are now)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_0002(cast: Cast) -> Iterator[Any]:
    """The historical models at 0002; the database is brought back to the latest state afterwards, whatever
    happens."""
    try:
        yield _migrate(BEFORE)
    finally:
        _migrate()


def _first_design_vote(apps: Any, cast: Cast, key: str, choices: list[str], closed: bool) -> dict[str, Any]:
    """A secret vote as the first design's service wrote it: per voter, in voting order, an attendance row and a
    ballot row (random id, the choice, the SHA-256 of a random receipt the voter kept)."""
    body_model = apps.get_model("governance", "Body")
    proposal_model = apps.get_model("governance", "Proposal")
    body, _new = body_model.objects.get_or_create(
        territory_id=cast.territory.pk, kind="committee", defaults={"name": "Comité"}
    )
    now = timezone.now()
    proposal = proposal_model.objects.create(
        territory_id=cast.territory.pk,
        body=body,
        author_id=cast["committee"].pk,
        title=f"Vote {key}",
        kind="motion",
        payload={},
        opens_at=now - timedelta(days=3),
        closes_at=now - timedelta(hours=1) if closed else now + timedelta(days=3),
        secret=True,
        idempotency_key=key,
    )
    voters, receipts = [], {}
    for index, choice in enumerate(choices):
        voter = make_user(f"{key}-{index}@migration.test")
        membership = apps.get_model("governance", "Membership")
        membership.objects.create(body=body, user_id=voter.pk, joined_at=now - timedelta(days=30))
        receipt = secrets.token_urlsafe(24)
        apps.get_model("governance", "Participation").objects.create(proposal=proposal, voter_id=voter.pk)
        apps.get_model("governance", "SecretBallot").objects.create(
            proposal=proposal, receipt_hash=hashlib.sha256(receipt.encode()).hexdigest(), choice=choice
        )
        voters.append(voter)
        receipts[voter.pk] = receipt
    if closed:
        counts = Counter(choices)
        apps.get_model("governance", "Decision").objects.create(
            proposal=proposal,
            closed_at=proposal.closes_at,
            electorate=len(choices),
            participants=len(choices),
            votes_for=counts["for"],
            votes_against=counts["against"],
            abstentions=counts["abstain"],
            quorum_met=True,
            adopted=counts["for"] * 2 > counts["for"] + counts["against"],
            reason="adopted",
            effect_status="none",
        )
    return {
        "id": proposal.pk,
        "voters": voters,
        "receipts": receipts,
        "final": {v.pk: c for v, c in zip(voters, choices, strict=True)},
    }


@contextmanager
def _secure_delete_off() -> Iterator[None]:
    """SQLite as it is usually built: deleted bytes stay in the file's free pages (this machine's build may zero
    them by default, which would hide what the migration itself must do)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        previous = cursor.execute("PRAGMA secure_delete").fetchone()[0]
        cursor.execute("PRAGMA secure_delete = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA secure_delete = {int(previous)}")


@pytest.mark.django_db(transaction=True)
def test_0003_converts_secret_ballots_into_sealed_counts(cast: Cast, at_0002: Any) -> None:
    open_choices = ["for", "against", "for", "abstain", "against", "for", "for", "abstain", "against"]
    open_vote = _first_design_vote(at_0002, cast, "open", open_choices, closed=False)
    closed_vote = _first_design_vote(at_0002, cast, "closed", ["against", "for", "against"], closed=True)
    old_hashes = [hashlib.sha256(r.encode()).hexdigest() for r in open_vote["receipts"].values()]

    # The first design leaked: the zip of the two orders links every voter.
    attacker = Attacker(open_vote["id"])
    attacker.zip_orders(read_everything())
    assert attacker.found["zip_orders"] == open_vote["final"]

    with _secure_delete_off():
        _migrate()

    snapshot = read_everything()
    assert "governance_secretballot" not in snapshot
    after = Attacker(open_vote["id"])
    after.direct(snapshot)
    after.zip_orders(snapshot)
    assert after.informed() == {}
    for vote, choices in ((open_vote, open_choices), (closed_vote, ["against", "for", "against"])):
        counts = Counter(choices)
        proposal = Proposal.objects.get(pk=vote["id"])
        assert services.tally(proposal) == services.Tally(
            len(choices), counts["for"], counts["against"], counts["abstain"]
        )
    assert (
        ConvertedReceipt.objects.filter(proposal_id=closed_vote["id"]).count() == 0
    )  # counted: no change left
    assert ConvertedReceipt.objects.filter(proposal_id=open_vote["id"]).count() == len(open_choices)
    assert set(Participation.objects.values_list("receipt_hash", flat=True)) == {""}
    if connection.vendor == "sqlite":  # the old rows were overwritten with zeros, not left in free pages
        data = Path(connection.settings_dict["NAME"]).read_bytes()
        assert not any(old.encode() in data for old in old_hashes)

    # A voter of the open vote changes their choice once with the receipt they kept, then with the new one.
    proposal = Proposal.objects.get(pk=open_vote["id"])
    voter = open_vote["voters"][1]  # chose "against"
    old_receipt = open_vote["receipts"][voter.pk]
    with pytest.raises(Forbidden):  # a receipt that matches no converted ballot
        services.ballot_cast(proposal=proposal, voter=voter, choice="for", receipt="not-a-receipt")
    changed = services.ballot_cast(proposal=proposal, voter=voter, choice="for", receipt=old_receipt)
    assert changed.changed and changed.receipt
    with pytest.raises(Forbidden):  # used up
        services.ballot_cast(proposal=proposal, voter=voter, choice="abstain", receipt=old_receipt)
    services.ballot_cast(proposal=proposal, voter=voter, choice="abstain", receipt=changed.receipt)
    expected = Counter(open_choices) - Counter(["against"]) + Counter(["abstain"])
    assert services.tally(proposal) == services.Tally(
        len(open_choices), expected["for"], expected["against"], expected["abstain"]
    )
    assert ConvertedReceipt.objects.filter(proposal=proposal).count() == len(open_choices) - 1
    services.proposal_close(proposal=proposal, actor=None, now=proposal.closes_at)
    assert not ConvertedReceipt.objects.filter(proposal=proposal).exists()  # nothing to change any more


@pytest.mark.django_db(transaction=True)
def test_0003_goes_back_to_rows_without_order(cast: Cast, at_0002: Any) -> None:
    """Reversible for a developer: one row per counted choice again, in a random order (the receipts are lost)."""
    choices = ["for", "for", "against", "abstain", "for"]
    vote = _first_design_vote(at_0002, cast, "back", choices, closed=False)
    _migrate()
    apps = _migrate(BEFORE)
    rows = apps.get_model("governance", "SecretBallot").objects.filter(proposal_id=vote["id"])
    assert Counter(rows.values_list("choice", flat=True)) == Counter(choices)
