"""The secrecy of a secret vote (grenier/governance/secrecy.py, docs/decisions/0002-secret-ballots.md): sealing,
receipts, and what leaves the server — the statements sent to the database, the logs, an error report, the
answers, the e-mails — never carrying a choice. Counts stay exact when many vote and change at once."""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter

from grenier.core import services as core_services
from grenier.core.errors import Conflict
from grenier.core.models import AuditEvent, Role, User
from grenier.governance import secrecy, services, views
from grenier.governance.models import (
    Body,
    BodyKind,
    Choice,
    ConvertedReceipt,
    Majority,
    Participation,
    Proposal,
)

from ..conftest import Cast, make_user

CHOICES = ("for", "against", "abstain")
# A choice in clear: the value as stored or sent (a word on its own), or as the pages say it in French.
SAVEPOINT = re.compile(r'"s\d+_x\d+"')  # Django names savepoints by thread and counter
CLEAR = re.compile(r"(?<![A-Za-z])(for|against|abstain)(?![A-Za-z])|\b(Pour|Contre|Abstention)\b")


def _committee(cast: Cast, size: int) -> tuple[Body, list[User]]:
    body = services.body_ensure(territory=cast.territory, kind=BodyKind.COMMITTEE, name="Comité")
    people = [make_user(f"s{i:02d}@secrecy.test", f"Membre {i:02d}") for i in range(size)]
    for person in people:
        core_services.role_grant(user=person, territory=cast.territory, role=Role.COMMITTEE)
        services.membership_join(body=body, user=person, actor=None, at=timezone.now() - timedelta(days=30))
    return body, people


def _proposal(body: Body, author: User, key: str = "secrecy") -> Proposal:
    now = timezone.now()
    return services.proposal_create(
        body=body,
        author=author,
        title="Vote secret",
        text="",
        kind="motion",
        payload={},
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=2),
        quorum_percent=0,
        majority=Majority.SIMPLE,
        secret=True,
        effective_month=None,
        idempotency_key=key,
    )


# --- sealing -------------------------------------------------------------------------------------------------------


def test_sealing_hides_and_authenticates() -> None:
    key, context = b"k" * 32, b"counts:1"
    sealed = secrecy.seal(b"\x00\x00\x00\x02", key=key, context=context)
    assert secrecy.unseal(sealed, keys=[key], context=context) == b"\x00\x00\x00\x02"
    assert secrecy.seal(b"\x00\x00\x00\x02", key=key, context=context) != sealed  # a new nonce each time
    for tampered in (
        sealed[:-1] + bytes([sealed[-1] ^ 1]),  # the tag
        sealed[:20] + bytes([sealed[20] ^ 1]) + sealed[21:],  # the ciphertext
        b"\x02" + sealed[1:],  # the version
        sealed[:10],
    ):
        with pytest.raises(secrecy.SealBroken):
            secrecy.unseal(tampered, keys=[key], context=context)
    with pytest.raises(secrecy.SealBroken):
        secrecy.unseal(sealed, keys=[b"x" * 32], context=context)
    with pytest.raises(secrecy.SealBroken):  # another proposal's counts, or a receipt, do not pass for these
        secrecy.unseal(sealed, keys=[key], context=b"counts:2")
    assert secrecy.unseal(sealed, keys=[b"x" * 32, key], context=context)  # an old key still opens it


def test_sealed_counts_and_receipts_have_one_length_whatever_they_hold() -> None:
    counts = {len(secrecy.counts_seal(7, c)) for c in ([0, 0, 0], [1, 0, 0], [0, 41, 3], [2**31, 5, 9])}
    assert counts == {90}  # hex of version, nonce, three 32-bit counts, tag
    receipts = {len(secrecy.receipt_make(7, 3, choice)) for choice in CHOICES for _ in range(5)}
    assert receipts == {46}
    assert secrecy.counts_open(7, secrecy.counts_seal(7, [4, 5, 6])) == [4, 5, 6]
    with pytest.raises(secrecy.SealBroken):
        secrecy.counts_open(8, secrecy.counts_seal(7, [4, 5, 6]))


def test_a_receipt_opens_for_its_voter_and_proposal_only() -> None:
    receipt = secrecy.receipt_make(7, 3, "against")
    assert secrecy.receipt_open(7, 3, receipt) == CHOICES.index("against")
    for proposal_id, voter_id, text in ((7, 4, receipt), (8, 3, receipt), (7, 3, receipt[:-2]), (7, 3, "%%")):
        with pytest.raises(secrecy.SealBroken):
            secrecy.receipt_open(proposal_id, voter_id, text)


# --- what reaches the database -------------------------------------------------------------------------------------


@contextmanager
def _statements() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Every statement sent to the database, with its parameters: what the write-ahead log, the files, a
    replica and a server that logs its statements can ever hold."""
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield sent


def _shape(sent: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, list[tuple[str, int]]]]:
    """The statements as a reader of sizes sees them: the SQL, and each parameter's type and length."""
    return [
        (SAVEPOINT.sub("s", sql), [(type(p).__name__, len(p) if isinstance(p, str) else 0) for p in params])
        for sql, params in sent
    ]


def test_no_statement_sent_to_the_database_carries_a_choice(cast: Cast) -> None:
    """A first ballot, and a change, send the same statements with parameters of the same lengths whatever the
    choice; no parameter and no statement holds a choice."""
    body, people = _committee(cast, 6)
    proposal = _proposal(body, people[0])
    receipts: dict[int, str] = {}
    firsts, changes = [], []
    for person, choice in zip(people[:3], CHOICES, strict=True):
        with _statements() as sent:
            receipts[person.pk] = (
                services.ballot_cast(proposal=proposal, voter=person, choice=choice).receipt or ""
            )
        firsts.append(sent)
    for person, choice in zip(people[:3], ("abstain", "for", "against"), strict=True):
        with _statements() as sent:
            services.ballot_cast(proposal=proposal, voter=person, choice=choice, receipt=receipts[person.pk])
        changes.append(sent)
    for sent in firsts + changes:
        assert sent
        for sql, params in sent:
            assert not re.search(r"'(for|against|abstain)'", sql), sql
            assert not any(isinstance(p, str) and CLEAR.search(p) for p in params), (sql, params)
    assert _shape(firsts[0]) == _shape(firsts[1]) == _shape(firsts[2])
    assert _shape(changes[0]) == _shape(changes[1]) == _shape(changes[2])
    assert services.tally(proposal) == services.Tally(3, 1, 1, 1)


# --- what the server says and logs ---------------------------------------------------------------------------------


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _vote_url(cast: Cast, proposal: Proposal) -> str:
    return reverse("governance_vote", args=[cast.territory.slug, proposal.pk])


def test_pages_answer_a_secret_ballot_the_same_whatever_the_choice(cast: Cast) -> None:
    """What an access log keeps (status, length) and what the browser is sent back (where to, a receipt of one
    length, a message) do not depend on the choice."""
    body, people = _committee(cast, 4)
    proposal = _proposal(body, people[0])
    answers = set()
    for person, choice in zip(people, [*CHOICES, "for"], strict=True):
        response = _login(person).post(_vote_url(cast, proposal), {"choice": choice})
        cookie = response.cookies[views.receipt_cookie(proposal)]
        answers.add((response.status_code, response["Location"], len(response.content), len(cookie.value)))
    assert len(answers) == 1, answers


def test_logs_and_mails_record_participation_never_a_choice(
    cast: Cast,
    caplog: pytest.LogCaptureFixture,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Every log line of a whole secret vote — pages, API, the database's own query log — and every e-mail; the
    audit log has one line per person who took part, the same for all."""
    body, people = _committee(cast, 3)
    proposal = _proposal(body, people[0])
    sent_before = len(mailoutbox)
    connection.force_debug_cursor = True  # the query log a server in debug writes, parameters included
    try:
        with (
            caplog.at_level(logging.DEBUG),
            caplog.at_level(logging.DEBUG, logger="django"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            page = _login(people[0])
            page.post(_vote_url(cast, proposal), {"choice": "against"})
            page.post(_vote_url(cast, proposal), {"choice": "abstain"})  # changed from the same device
            api = _login(people[1])
            first = api.post(
                f"/api/v1/proposals/{proposal.pk}/ballot?territory={cast.territory.slug}",
                {"choice": "abstain"},
                content_type="application/json",
            )
            assert first.status_code == 200, first.content
            services.ballot_cast(proposal=proposal, voter=people[2], choice="against")
    finally:
        connection.force_debug_cursor = False
    assert services.tally(proposal) == services.Tally(3, 0, 1, 2)
    logged = [record.getMessage() for record in caplog.records]
    assert any("governance_secrettally" in line for line in logged)  # the query log ran
    for record in caplog.records:
        assert not CLEAR.search(record.getMessage()), record.getMessage()
    assert len(mailoutbox) == sent_before  # a ballot sends no mail
    lines = AuditEvent.objects.filter(action="governance.vote", subject=f"proposal:{proposal.pk}")
    assert sorted((line.actor_id, line.data) for line in lines) == sorted((p.pk, {}) for p in people)
    end = proposal.closes_at + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_close(proposal=proposal, actor=None, now=end)
    closing = mailoutbox[sent_before:]
    assert len(closing) == len(people)
    for mail in closing:  # the totals only, and nobody's name
        assert not any(person.display_name in mail.body for person in people)


def test_an_error_report_shows_no_choice_no_receipt(cast: Cast, caplog: pytest.LogCaptureFixture) -> None:
    """When a ballot fails (here the database refuses the count), the report Django builds for the operators —
    request, POST, cookies, every frame's variables — shows neither the choice nor the receipt."""
    body, people = _committee(cast, 2)
    proposal = _proposal(body, people[0])
    client = _login(people[0])
    client.raise_request_exception = False
    client.post(_vote_url(cast, proposal), {"choice": "against"})
    receipt = client.cookies[views.receipt_cookie(proposal)].value.split(":", 1)[1]

    def refuse(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith("UPDATE") and "governance_secrettally" in sql:
            raise DatabaseError("disk full")
        return execute(sql, params, many, context)

    with caplog.at_level(logging.ERROR, logger="django.request"), connection.execute_wrapper(refuse):
        response = client.post(_vote_url(cast, proposal), {"choice": "abstain"})
    assert response.status_code == 500
    record = next(r for r in caplog.records if r.name == "django.request" and r.exc_info)
    assert record.exc_info is not None
    exc_type, exc_value, traceback = record.exc_info
    report = ExceptionReporter(record.request, exc_type, exc_value, traceback, is_email=True)  # type: ignore[attr-defined]
    text = report.get_traceback_text() + report.get_traceback_html()
    assert "disk full" in text and "_secret_cast" in text  # the report is there, with the service's frames
    assert "abstain" not in text and "against" not in text
    assert receipt not in text
    assert services.tally(proposal) == services.Tally(1, 0, 1, 0)  # nothing moved


# --- many at once --------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ballots_and_changes_at_once_count_exactly(cast: Cast) -> None:
    """Twelve members vote at the same moment, then six change their minds at the same moment: the counts are
    exact (on PostgreSQL the ballots really race; the proposal's row lock puts them in line)."""
    body, people = _committee(cast, 12)
    proposal = _proposal(body, people[0])
    first = {person.pk: CHOICES[i % 3] for i, person in enumerate(people)}
    receipts: dict[int, str] = {}
    errors: list[BaseException] = []

    def race(work: list[tuple[User, str, str | None]]) -> None:
        barrier = threading.Barrier(len(work))

        def one(voter: User, choice: str, receipt: str | None) -> None:
            try:
                barrier.wait()
                result = services.ballot_cast(proposal=proposal, voter=voter, choice=choice, receipt=receipt)
                receipts[voter.pk] = result.receipt or ""
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=one, args=item) for item in work]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    race([(person, first[person.pk], None) for person in people])
    assert not errors, errors
    final = dict(first)
    changing = people[::2]
    for person in changing:
        final[person.pk] = CHOICES[(CHOICES.index(first[person.pk]) + 1) % 3]
    race([(person, final[person.pk], receipts[person.pk]) for person in changing])
    assert not errors, errors
    expected = Counter(final.values())
    counts = services.tally(proposal)
    assert counts == services.Tally(12, expected["for"], expected["against"], expected["abstain"])
    assert Participation.objects.filter(proposal=proposal).count() == 12


def test_a_ballot_that_meets_the_close_is_refused_under_the_lock(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The close and the ballots take the same lock, and a ballot checks again under it: one that passed the
    first check just as the vote was being closed is refused, so the decision holds every counted ballot."""
    body, people = _committee(cast, 2)
    proposal = _proposal(body, people[0])
    services.ballot_cast(proposal=proposal, voter=people[0], choice=Choice.FOR)
    decision = services.proposal_close(proposal=proposal, actor=None, now=proposal.closes_at)
    monkeypatch.setattr(
        services, "state", lambda proposal, now=None: "open"
    )  # the race: checked before the close
    with pytest.raises(Conflict):
        services.ballot_cast(proposal=proposal, voter=people[1], choice=Choice.AGAINST)
    assert services.tally(proposal) == services.Tally(1, 1, 0, 0)
    assert (decision.participants, decision.votes_for, decision.votes_against) == (1, 1, 0)


def test_a_receipt_cookie_from_before_the_upgrade_changes_the_vote_once(cast: Cast) -> None:
    """A device that voted before migration 0003 holds the old cookie (``grenier_receipt_<id>``, a random receipt
    whose choice the migration sealed under a key derived from it): the page still changes that ballot once, and
    gives the device a receipt of the new kind in place of the old cookie."""
    body, people = _committee(cast, 2)
    proposal = _proposal(body, people[0])
    old = "receipt-from-the-first-design-0123456789"
    lookup, key = secrecy.converted_lookup_and_key(old)
    sealed = secrecy.seal(
        bytes([CHOICES.index("against")]), key=key, context=f"converted:{proposal.pk}".encode()
    )
    ConvertedReceipt.objects.create(proposal=proposal, lookup=lookup, sealed=sealed.hex())
    Participation.objects.create(proposal=proposal, voter=people[0])  # as migrated: no receipt hash
    secrecy.counts_write(proposal, [0, 1, 0])
    client = _login(people[0])
    client.cookies[f"grenier_receipt_{proposal.pk}"] = f"{people[0].pk}:{old}"
    response = client.post(_vote_url(cast, proposal), {"choice": "for"})
    assert response.status_code == 302
    assert services.tally(proposal) == services.Tally(1, 1, 0, 0)
    assert response.cookies[f"grenier_receipt_{proposal.pk}"].value == ""  # the old cookie is removed
    assert response.cookies[views.receipt_cookie(proposal)].value.startswith(f"{people[0].pk}:")
    assert not ConvertedReceipt.objects.exists()
    again = client.post(_vote_url(cast, proposal), {"choice": "abstain"})  # with the new cookie
    assert again.status_code == 302
    assert services.tally(proposal) == services.Tally(1, 0, 0, 1)
