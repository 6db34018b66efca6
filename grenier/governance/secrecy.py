"""How a secret vote is stored: three sealed counts per proposal, and receipts that only voters hold.

Why (docs/decisions/0002-secret-ballots.md): a row per choice, written in voting order, can be zipped with the
attendance list by anyone who reads the database, its files, its write-ahead log or a backup. So no row per choice
exists. A proposal has one ``SecretTally`` row holding the numbers for / against / abstention, *sealed*: encrypted
and authenticated under a key derived from ``SECRET_KEY``, which lives in the server's settings and never in the
database. Every ballot rewrites the whole row with a fresh random nonce, so successive versions (the WAL, dead row
versions, a copy of the file taken mid-vote) are the same length and look alike whatever was chosen.

A voter's receipt is their own choice, sealed under another key derived from ``SECRET_KEY`` and bound to the
proposal and the voter; the database keeps only the SHA-256 of the receipt the voter currently holds (on their
``Participation``), so a receipt is used once and only by its voter. Changing a vote opens the receipt (the previous
choice), moves one count, and hands back a new receipt.

Sealing uses the standard library only: HMAC-SHA256 as a pseudo-random function in counter mode for the keystream,
and HMAC-SHA256 (truncated to 128 bits) over the version, nonce, context and ciphertext for the tag, with separate
keys (encrypt-then-MAC). No new dependency, and the messages are a few bytes.

What reads or writes rows here (the counts, a receipt's previous choice) runs inside the caller's transaction,
which holds the proposal's lock. Every function hides its local variables from Django's error reports
(``sensitive_variables``): a report sent when something fails must not carry a choice, a count or a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from collections.abc import Sequence

from django.conf import settings
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from grenier.core.errors import Conflict, Forbidden
from grenier.core.models import User
from grenier.governance.models import Choice, ConvertedReceipt, Participation, Proposal, SecretTally

VERSION = b"\x01"
NONCE_BYTES = 16
TAG_BYTES = 16
CHOICES: tuple[str, ...] = (
    Choice.FOR,
    Choice.AGAINST,
    Choice.ABSTAIN,
)  # index = byte in a receipt, slot in counts
_COUNTS = struct.Struct(">III")


class SealBroken(Exception):
    """The sealed bytes were not made with any of this server's keys for this context (tampered, or the key
    changed without the old one being kept in ``SECRET_KEY_FALLBACKS``)."""


# --- sealing -------------------------------------------------------------------------------------------------------


@sensitive_variables()
def _subkeys(key: bytes) -> tuple[bytes, bytes]:
    return hmac.digest(key, b"encrypt", "sha256"), hmac.digest(key, b"authenticate", "sha256")


@sensitive_variables()
def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (length + 31) // 32
    stream = b"".join(hmac.digest(key, nonce + i.to_bytes(4, "big"), "sha256") for i in range(blocks))
    return stream[:length]


@sensitive_variables()
def _tag(key: bytes, nonce: bytes, context: bytes, ciphertext: bytes) -> bytes:
    message = VERSION + nonce + len(context).to_bytes(4, "big") + context + ciphertext
    return hmac.digest(key, message, "sha256")[:TAG_BYTES]


@sensitive_variables()
def seal(plain: bytes, *, key: bytes, context: bytes) -> bytes:
    """``plain`` encrypted and authenticated for ``context``; a fresh random nonce each time."""
    enc_key, mac_key = _subkeys(key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = bytes(a ^ b for a, b in zip(plain, _keystream(enc_key, nonce, len(plain)), strict=True))
    return VERSION + nonce + ciphertext + _tag(mac_key, nonce, context, ciphertext)


@sensitive_variables()
def unseal(sealed: bytes, *, keys: Sequence[bytes], context: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + TAG_BYTES or sealed[:1] != VERSION:
        raise SealBroken
    nonce = sealed[1 : 1 + NONCE_BYTES]
    ciphertext, tag = sealed[1 + NONCE_BYTES : -TAG_BYTES], sealed[-TAG_BYTES:]
    for key in keys:
        enc_key, mac_key = _subkeys(key)
        if hmac.compare_digest(tag, _tag(mac_key, nonce, context, ciphertext)):
            stream = _keystream(enc_key, nonce, len(ciphertext))
            return bytes(a ^ b for a, b in zip(ciphertext, stream, strict=True))
    raise SealBroken


@sensitive_variables()
def server_keys(purpose: str, proposal_id: int) -> list[bytes]:
    """The key for ``purpose`` on one proposal, from ``SECRET_KEY`` then each of ``SECRET_KEY_FALLBACKS`` (so a
    rotated key still opens what the old one sealed; the next write seals under the new one)."""
    masters = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    label = f"grenier.governance.secret-ballot.{purpose}:{proposal_id}".encode()
    return [
        hmac.digest(hashlib.sha256(b"grenier.governance:" + str(master).encode()).digest(), label, "sha256")
        for master in masters
    ]


# --- the counts ----------------------------------------------------------------------------------------------------


@sensitive_variables()
def _counts_context(proposal_id: int) -> bytes:
    return f"counts:{proposal_id}".encode()


@sensitive_variables()
def counts_seal(proposal_id: int, counts: Sequence[int]) -> str:
    plain = _COUNTS.pack(*counts)
    return seal(plain, key=server_keys("counts", proposal_id)[0], context=_counts_context(proposal_id)).hex()


@sensitive_variables()
def counts_open(proposal_id: int, sealed: str) -> list[int]:
    try:
        raw = bytes.fromhex(sealed)
    except ValueError as exc:
        raise SealBroken from exc
    plain = unseal(raw, keys=server_keys("counts", proposal_id), context=_counts_context(proposal_id))
    if len(plain) != _COUNTS.size:
        raise SealBroken
    return list(_COUNTS.unpack(plain))


@sensitive_variables()
def counts_read(proposal: Proposal) -> list[int]:
    """[for, against, abstain] of a secret vote; zeros before the first ballot. Raises ``SealBroken``."""
    sealed = SecretTally.objects.filter(proposal=proposal).values_list("sealed", flat=True).first()
    return [0, 0, 0] if sealed is None else counts_open(proposal.pk, sealed)


@sensitive_variables()
def counts_of(proposal: Proposal) -> list[int]:
    """``counts_read`` for a service: a count that cannot be opened is a conflict the operator can fix."""
    try:
        return counts_read(proposal)
    except SealBroken as exc:
        raise Conflict(
            _(
                "The counts of this secret vote cannot be opened with this server's key: put the key they were "
                "sealed with back in GRENIER_SECRET_KEY_FALLBACKS."
            )
        ) from exc


@sensitive_variables()
def counts_write(proposal: Proposal, counts: Sequence[int]) -> None:
    """Rewrite the whole row: same length, new nonce, whatever moved."""
    if len(counts) != len(CHOICES) or min(counts) < 0:
        raise ValueError("three counts, none negative")
    sealed = counts_seal(proposal.pk, counts)
    if not SecretTally.objects.filter(proposal=proposal).update(sealed=sealed):
        SecretTally.objects.create(proposal=proposal, sealed=sealed)


# --- receipts ------------------------------------------------------------------------------------------------------


@sensitive_variables()
def _receipt_context(proposal_id: int, voter_id: int) -> bytes:
    return f"receipt:{proposal_id}:{voter_id}".encode()


@sensitive_variables()
def receipt_make(proposal_id: int, voter_id: int, choice: str) -> str:
    """What the voter keeps: their choice, sealed for this proposal and this voter. 46 characters, always."""
    sealed = seal(
        bytes([CHOICES.index(choice)]),
        key=server_keys("receipt", proposal_id)[0],
        context=_receipt_context(proposal_id, voter_id),
    )
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


@sensitive_variables()
def receipt_open(proposal_id: int, voter_id: int, receipt: str) -> int:
    """The index of the choice a receipt holds. Raises ``SealBroken`` for anything this voter was not given."""
    try:
        raw = base64.urlsafe_b64decode(receipt + "=" * (-len(receipt) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SealBroken from exc
    plain = unseal(
        raw, keys=server_keys("receipt", proposal_id), context=_receipt_context(proposal_id, voter_id)
    )
    if len(plain) != 1 or plain[0] >= len(CHOICES):
        raise SealBroken
    return plain[0]


@sensitive_variables()
def receipt_hash(receipt: str) -> str:
    return hashlib.sha256(receipt.encode()).hexdigest()


@sensitive_variables()
def previous_choice(proposal: Proposal, voter: User, took_part: Participation, receipt: str) -> int:
    """The choice held by the receipt this voter was last given. Each ballot gives a new receipt and an older one
    is refused: otherwise the same ballot could be taken back twice and the count would drift."""
    if took_part.receipt_hash:
        if hmac.compare_digest(receipt_hash(receipt), took_part.receipt_hash):
            try:
                return receipt_open(proposal.pk, voter.pk, receipt)
            except SealBroken:
                pass
    else:  # cast before receipts were sealed: its receipt was converted by migration 0003
        previous = converted_receipt_take(proposal, receipt)
        if previous is not None:
            return previous
    raise Forbidden(_("This receipt matches no ballot of this vote."))


# --- receipts handed out before the counts were sealed (migration 0003) --------------------------------------------


@sensitive_variables()
def converted_lookup_and_key(receipt: str) -> tuple[str, bytes]:
    """A receipt of the first design was random text whose SHA-256 the database kept beside the choice. Migration
    0003 kept, per such receipt, its choice sealed under a key derived from that hash — so only the holder of the
    receipt can open it, not even whoever holds ``SECRET_KEY`` — found by a second hash of it."""
    old_hash = hashlib.sha256(receipt.encode()).hexdigest()
    lookup = hashlib.sha256(b"grenier.governance.converted-receipt.lookup:" + old_hash.encode()).hexdigest()
    key = hashlib.sha256(b"grenier.governance.converted-receipt.key:" + old_hash.encode()).digest()
    return lookup, key


@sensitive_variables()
def converted_receipt_take(proposal: Proposal, receipt: str) -> int | None:
    """The choice a receipt of the first design holds, used up (deleted) as it is read; ``None`` if none."""
    lookup, key = converted_lookup_and_key(receipt)
    row = ConvertedReceipt.objects.filter(proposal=proposal, lookup=lookup).first()
    if row is None:
        return None
    try:
        plain = unseal(bytes.fromhex(row.sealed), keys=[key], context=f"converted:{proposal.pk}".encode())
    except (SealBroken, ValueError):
        return None
    if len(plain) != 1 or plain[0] >= len(CHOICES):
        return None
    row.delete()
    return plain[0]
