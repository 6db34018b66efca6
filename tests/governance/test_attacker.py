"""Whoever reads the database plays the attacker (issue 20, docs/decisions/0002-secret-ballots.md).

Twenty-four members vote in secret, with choices the test knows, and some change their minds with their receipts.
The attacker reads every table after every ballot — a reader watching during the vote — with the rows in the order
the database keeps them (SQLite's rowid; PostgreSQL's ctid and each row's transaction id), and on PostgreSQL also
the raw pages with their dead row versions and the write-ahead log written during the vote. It tries each way we
know to link a voter to a choice, then guesses the rest like anyone who knows only the published result (everyone
chose the most common choice). It must do no better than that blind guess.

The same attacker is not blind: pointed at a public vote it links every voter, and so it does on a secret vote
once given the server's key (the limit the decision record states).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import random
import re
import struct
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from grenier.core.models import User
from grenier.governance import secrecy, services
from grenier.governance.models import BodyKind, Majority, Proposal

from ..conftest import Cast, make_user

CHOICES = ("for", "against", "abstain")
# A choice in clear, in raw bytes: as a short text value of PostgreSQL (a one-byte header, (length + 1) * 2 + 1,
# then the letters: whatever follows, e.g. the next column's bytes), or as a word anywhere else (JSON, logs).
WORDS = (
    re.compile(rb"\x09(for)|\x11(against)|\x11(abstain)"),
    re.compile(rb"(?<![A-Za-z])(for|against|abstain)(?![A-Za-z])"),
)
Row = dict[str, Any]
Snapshot = dict[str, list[Row]]


# --- what the reader sees ------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, (str, int, float, bytes, type(None))):
        return value
    return str(value)


def read_everything() -> Snapshot:
    """Every row of every table, in the order the database keeps them, with what a reader can see beyond the
    columns: SQLite's rowid; PostgreSQL's physical place (ctid) and the id of the transaction that wrote the row."""
    snapshot: Snapshot = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if connection.vendor == "postgresql":
                cursor.execute(
                    f'SELECT ctid::text AS "_place", xmin::text AS "_xid", * FROM "{table}" ORDER BY ctid'  # noqa: S608 - names from the database's own catalogue
                )
            else:
                cursor.execute(f'SELECT rowid AS "_place", * FROM "{table}" ORDER BY rowid')  # noqa: S608 - same
            names = [column[0] for column in cursor.description]
            snapshot[table] = [
                {name: _plain(value) for name, value in zip(names, row, strict=True)}
                for row in cursor.fetchall()
            ]
    return snapshot


def _hidden(name: str) -> bool:
    return name in ("_place", "_xid")


def _attendance(snapshot: Snapshot, proposal_id: int) -> list[tuple[str, Row]]:
    """Rows naming a voter on this proposal, in stored order: the attendance list (or a public vote's ballots)."""
    return [
        (table, row)
        for table, rows in snapshot.items()
        for row in rows
        if row.get("proposal_id") == proposal_id and row.get("voter_id") is not None
    ]


def _choice_in(row: Row) -> str | None:
    found = {value for name, value in row.items() if not _hidden(name) and value in CHOICES}
    return found.pop() if len(found) == 1 else None


# --- decoding a changed value: every layout we can think of for counts kept in clear -------------------------------


def _as_bytes(value: Any) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        return None
    for decode in (bytes.fromhex, lambda v: base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))):
        try:
            return decode(value)
        except (ValueError, binascii.Error):
            continue
    return None


def _counts_candidates(value: Any) -> list[list[int]]:
    """Ways to read ``value`` as three counts in the order for / against / abstention."""
    found: list[list[int]] = []
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and len(parsed) == 3 and all(isinstance(n, int) for n in parsed):
            found.append(parsed)
        if isinstance(parsed, dict) and all(isinstance(parsed.get(c), int) for c in CHOICES):
            found.append([parsed[c] for c in CHOICES])
    raw = _as_bytes(value)
    if raw is not None:  # three 32-bit integers anywhere in the bytes, either byte order
        for start in range(len(raw) - 11):
            for fmt in (">III", "<III"):
                found.append(list(struct.unpack(fmt, raw[start : start + 12])))
    return found


def _decode(column: str, old: Any, new: Any) -> str | None:
    """What one ballot did to one changed value, if it says."""
    if new in CHOICES:
        return str(new)
    if isinstance(old, int) and isinstance(new, int) and new == old + 1:
        return next((c for c in CHOICES if c[:4] in column), None)  # votes_for, against_count, abstentions…
    before, after = _counts_candidates(old), _counts_candidates(new)
    if len(before) != len(after):
        return None
    for a, b in zip(before, after, strict=True):
        moved = [y - x for x, y in zip(a, b, strict=True)]
        if sorted(moved) in ([0, 0, 1], [-1, 0, 1]):
            return CHOICES[moved.index(1)]
    return None


# --- the attacker --------------------------------------------------------------------------------------------------


@dataclass
class Attacker:
    proposal_id: int
    opener: Callable[[str, str, Row], Any] | None = None  # the server's key, when the attacker holds it
    found: dict[str, dict[int, str]] = field(default_factory=dict)  # strategy -> voter -> guess

    def _value(self, table: str, name: str, row: Row) -> Any:
        return self.opener(table, name, row) if self.opener else row[name]

    def direct(self, snapshot: Snapshot) -> None:
        """A row that names the voter and holds a choice."""
        self.found["direct"] = {
            row["voter_id"]: choice
            for _table, row in _attendance(snapshot, self.proposal_id)
            if (choice := _choice_in(row)) is not None
        }

    def zip_orders(self, snapshot: Snapshot) -> None:
        """The issue's attack: the attendance list in stored order, zipped with any column of choices of this
        proposal, in stored order or sorted by any other column."""
        voters = [row["voter_id"] for _t, row in _attendance(snapshot, self.proposal_id)]
        guesses: dict[int, str] = {}
        for rows in snapshot.values():
            mine = [
                row for row in rows if row.get("proposal_id") == self.proposal_id and "voter_id" not in row
            ]
            if len(mine) != len(voters) or not mine:
                continue
            for name in mine[0]:
                if _hidden(name) or not all(row[name] in CHOICES for row in mine):
                    continue
                orders = [mine] + [sorted(mine, key=_by(key)) for key in mine[0] if key != name]
                for ordered in orders:
                    for voter, row in zip(voters, ordered, strict=True):
                        guesses.setdefault(voter, row[name])
        self.found["zip_orders"] = guesses

    def same_transaction(self, snapshot: Snapshot) -> None:
        """PostgreSQL: rows written by the voter's transaction (or its parent) that hold a choice."""
        guesses: dict[int, str] = {}
        for _table, attendance in _attendance(snapshot, self.proposal_id):
            if "_xid" not in attendance:
                continue
            own = int(attendance["_xid"])
            for xid in (own, own - 1):  # its own transaction first, then the parent of its savepoint
                for rows in snapshot.values():
                    for row in rows:
                        if int(row["_xid"]) == xid and (choice := _choice_in(row)) is not None:
                            guesses.setdefault(attendance["voter_id"], choice)
        self.found["same_transaction"] = guesses

    def watch(self, snapshots: list[Snapshot]) -> None:
        """A reader during the vote: after each ballot, who appeared or changed in the attendance list, and what
        else changed, read every way that counts could be kept."""
        guesses: dict[int, str] = {}
        for before, after in itertools.pairwise(snapshots):
            old_attendance = {(t, r["id"]): r for t, r in _attendance(before, self.proposal_id)}
            moved = [
                row["voter_id"]
                for table, row in _attendance(after, self.proposal_id)
                if {k: v for k, v in row.items() if not _hidden(k)}
                != {k: v for k, v in old_attendance.get((table, row["id"]), {}).items() if not _hidden(k)}
            ]
            if len(moved) != 1:
                continue
            for table, rows in after.items():
                old_rows = {_identity(row): row for row in before.get(table, [])}
                for row in rows:
                    old = old_rows.get(_identity(row))
                    for name in row:
                        if _hidden(name):
                            continue
                        new_value = self._value(table, name, row)
                        old_value = self._value(table, name, old) if old is not None else None
                        if new_value == old_value:
                            continue
                        choice = _decode(name, old_value, new_value)
                        if choice is not None:
                            guesses[moved[0]] = choice  # the last ballot of each voter is the one that counts
        self.found["watch"] = guesses

    def raw_pages(self, snapshot: Snapshot) -> None:
        """PostgreSQL, with pageinspect: every tuple of every table, dead versions included (what a copy of the
        files holds), written by a voter's transaction or its parent, searched for a choice in clear."""
        xids = _voter_xids(snapshot, self.proposal_id)
        guesses: dict[int, str] = {}
        with connection.cursor() as cursor:
            for table in snapshot:
                cursor.execute("SELECT pg_relation_size(%s) / current_setting('block_size')::int", [table])
                for block in range(cursor.fetchone()[0]):
                    cursor.execute(
                        "SELECT t_xmin::text, t_data FROM heap_page_items(get_raw_page(%s, %s))",
                        [table, block],
                    )
                    for xmin, data in cursor.fetchall():
                        voter = _nearest(xids, xmin)
                        if voter is not None and data is not None:
                            _guess_from_bytes(guesses, voter, bytes(data))
        self.found["raw_pages"] = guesses

    def wal(self, snapshot: Snapshot, start_lsn: str) -> None:
        """PostgreSQL 16+, with pg_walinspect: every block written to the write-ahead log since the vote opened
        (full page images included), by a voter's transaction or its parent, searched for a choice."""
        xids = _voter_xids(snapshot, self.proposal_id)
        guesses: dict[int, str] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT xid::text, block_data, block_fpi_data"
                " FROM pg_get_wal_block_info(%s::pg_lsn, pg_current_wal_lsn(), true)",
                [start_lsn],
            )
            for xid, data, image in cursor.fetchall():
                voter = _nearest(xids, xid)
                if voter is not None:  # the change itself, or its row in the image of the page
                    _guess_from_bytes(guesses, voter, bytes(data or b""))
                    for row in _rows_written_by(bytes(image or b""), int(xid)):
                        _guess_from_bytes(guesses, voter, row)
        self.found["wal"] = guesses

    def informed(self) -> dict[int, str]:
        guesses: dict[int, str] = {}
        for found in self.found.values():
            for voter, choice in found.items():
                guesses.setdefault(voter, choice)
        return guesses


def _by(key: str) -> Callable[[Row], str]:
    return lambda row: str(row[key])


def _identity(row: Row) -> Any:
    return row.get("id", row.get("proposal_id", row.get("session_key")))


def _voter_xids(snapshot: Snapshot, proposal_id: int) -> dict[int, int]:
    return {int(row["_xid"]): row["voter_id"] for _t, row in _attendance(snapshot, proposal_id)}


def _nearest(xids: dict[int, int], xid: str | None) -> int | None:
    """The voter whose ballot wrote with this transaction id: their attendance row's own, or the one just before
    (the code is public: a first ballot writes the attendance row in a savepoint, whose id follows its parent's)."""
    if not xid or not xid.isdigit():
        return None
    return xids.get(int(xid), xids.get(int(xid) + 1))


def _rows_written_by(page: bytes, xid: int) -> Iterator[bytes]:
    """The tuples of a PostgreSQL heap page image whose t_xmin is ``xid`` (24-byte page header, then 4-byte line
    pointers: offset in 15 bits, flags in 2, length in 15; a tuple starts with its t_xmin)."""
    if len(page) < 24:
        return
    lower = int.from_bytes(page[12:14], "little")
    for start in range(24, min(lower, len(page)), 4):
        pointer = int.from_bytes(page[start : start + 4], "little")
        offset, flags, length = pointer & 0x7FFF, (pointer >> 15) & 0x3, pointer >> 17
        row = page[offset : offset + length] if flags == 1 and length >= 4 else b""
        if len(row) == length and int.from_bytes(row[:4], "little") == xid:
            yield row


def _guess_from_bytes(guesses: dict[int, str], voter: int, data: bytes) -> None:
    words = {
        group.decode()
        for pattern in WORDS
        for match in pattern.finditer(data)
        for group in match.groups()
        if group
    }
    if len(words) == 1:
        guesses.setdefault(voter, words.pop())


# --- the vote ------------------------------------------------------------------------------------------------------


@dataclass
class Election:
    proposal: Proposal
    final: dict[int, str]  # voter -> the choice that counts: known to the test, never to the attacker
    snapshots: list[Snapshot]
    start_lsn: str = ""
    changes: int = 0
    changed: set[int] = field(default_factory=set)  # voters who changed their choice at least once

    def blind(self) -> float:
        """The best an attacker who knows only the result does: give everyone the most common choice."""
        return max(Counter(self.final.values()).values()) / len(self.final)

    def accuracy(self, informed: dict[int, str]) -> float:
        most_common = Counter(self.final.values()).most_common(1)[0][0]
        guesses = {voter: informed.get(voter, most_common) for voter in self.final}
        return sum(guesses[v] == c for v, c in self.final.items()) / len(self.final)


def hold_election(cast: Cast, *, secret_ballot: bool, size: int = 24, watch: bool = True) -> Election:
    body = services.body_ensure(territory=cast.territory, kind=BodyKind.ASSEMBLY, name="Assemblée")
    now = timezone.now()
    voters: list[User] = [make_user(f"v{i:02d}@secret.test", f"Votant {i:02d}") for i in range(size)]
    for voter in voters:
        services.membership_join(body=body, user=voter, actor=None, at=now - timedelta(days=30))
    proposal = services.proposal_create(
        body=body,
        author=voters[0],
        title="Vote à bulletin secret" if secret_ballot else "Vote à main levée",
        text="",
        kind="motion",
        payload={},
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=2),
        quorum_percent=0,
        majority=Majority.SIMPLE,
        secret=secret_ballot,
        effective_month=None,
        idempotency_key=f"attacker-{secret_ballot}",
    )
    rng = random.Random(20)  # the test's own choices
    choices = ["for"] * (size * 5 // 12) + ["against"] * (size // 3)
    choices += ["abstain"] * (size - len(choices))
    rng.shuffle(choices)
    order = rng.sample(voters, size)
    election = Election(proposal=proposal, final={}, snapshots=[])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            election.start_lsn = cursor.fetchone()[0]

    def look() -> None:
        if watch:
            election.snapshots.append(read_everything())

    look()
    receipts: dict[int, str | None] = {}
    by_id = {voter.pk: voter for voter in voters}
    for count, (voter, choice) in enumerate(zip(order, choices, strict=True), start=1):
        receipts[voter.pk] = services.ballot_cast(proposal=proposal, voter=voter, choice=choice).receipt
        election.final[voter.pk] = choice
        look()
        if count % 4 == 0:  # now and then, someone who voted earlier changes their mind
            who = rng.choice(sorted(election.final))
            new = rng.choice([c for c in CHOICES if c != election.final[who]])
            receipts[who] = services.ballot_cast(
                proposal=proposal, voter=by_id[who], choice=new, receipt=receipts[who]
            ).receipt
            election.final[who] = new
            election.changes += 1
            election.changed.add(who)
            look()
    if not watch:
        election.snapshots.append(read_everything())
    return election


def _extension(name: str) -> bool:
    """Whether this PostgreSQL lets the test load an inspection extension (it needs a superuser)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
    except Exception:
        return False
    return True


def _attack(election: Election, attacker: Attacker) -> Iterator[str]:
    """Runs every strategy this database allows; yields the names of those that ran."""
    final = election.snapshots[-1]
    attacker.direct(final)
    attacker.zip_orders(final)
    attacker.watch(election.snapshots)
    yield from ("direct", "zip_orders", "watch")
    if connection.vendor == "postgresql":
        attacker.same_transaction(final)
        yield "same_transaction"
        if _extension("pageinspect"):
            attacker.raw_pages(final)
            yield "raw_pages"
        if connection.pg_version >= 160000 and _extension("pg_walinspect"):  # type: ignore[attr-defined]
            attacker.wal(final, election.start_lsn)
            yield "wal"


# --- the tests -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # real commits, one transaction per ballot, as on a live server
def test_a_reader_of_the_database_links_no_voter_to_a_choice(cast: Cast) -> None:
    election = hold_election(cast, secret_ballot=True)
    counts = services.tally(election.proposal)
    assert Counter(election.final.values()) == Counter(
        {"for": counts.votes_for, "against": counts.votes_against, "abstain": counts.abstentions}
    )  # the count is exact, changes included
    attacker = Attacker(election.proposal.pk)
    ran = list(_attack(election, attacker))
    informed = attacker.informed()
    print(  # the figures the decision record quotes (pytest -s)
        f"\n{connection.vendor}: {len(election.final)} voters, {election.changes} changes, "
        f"{len(election.snapshots)} reads; strategies {ran}; informed guesses {len(informed)}; "
        f"accuracy {election.accuracy(informed):.3f}, blind guess {election.blind():.3f}"
    )
    assert {name: found for name, found in attacker.found.items() if found} == {}
    assert election.accuracy(informed) == election.blind()  # no better than knowing the result alone

    # Not blind: given the server's key, the same reader watching the vote links every voter. This is the limit
    # docs/decisions/0002-secret-ballots.md states — the key must not travel with the database.
    def opener(table: str, name: str, row: Row) -> Any:
        if table == "governance_secrettally" and name == "sealed":
            return json.dumps(secrecy.counts_open(row["proposal_id"], row[name]))
        return row[name]

    with_key = Attacker(election.proposal.pk, opener=opener)
    with_key.watch(election.snapshots)
    assert with_key.found["watch"] == election.final


@pytest.mark.django_db(transaction=True)
def test_the_same_reader_links_every_voter_of_a_public_vote(cast: Cast) -> None:
    """The control: where the choices are kept by person, as a public vote keeps them, each of the attacker's ways
    in finds them — the row itself, watching, the transaction ids, the raw pages, the write-ahead log."""
    election = hold_election(cast, secret_ballot=False, size=12)
    attacker = Attacker(election.proposal.pk)
    ran = list(_attack(election, attacker))
    assert attacker.informed() == election.final
    assert election.accuracy(attacker.informed()) == 1.0
    print(f"\n{connection.vendor}: " + ", ".join(f"{name} {len(attacker.found[name])}" for name in ran))
    for name in set(ran) - {"zip_orders", "wal"}:  # (a public ballot names its voter: nothing to zip)
        assert attacker.found[name] == election.final, name
    if (
        "wal" in ran
    ):  # a change is logged as the bytes that differ from the old row: this reader sees first ballots
        unchanged = {
            voter: choice for voter, choice in election.final.items() if voter not in election.changed
        }
        assert attacker.found["wal"].items() >= unchanged.items()
        assert attacker.found["wal"].items() <= election.final.items()
