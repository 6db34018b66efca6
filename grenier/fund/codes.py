"""A household's personal code at the till: how it is stored and checked (docs/decisions/0003-personal-code-cost.md).

A code is 4 to 6 digits: 1,110,000 possible codes, which no hash stretching can protect once the hash and all it
needs are in an attacker's hands (a stretched hash slow enough for that would cost a till seconds a payment). What
protects it is (1) the lockout after 5 wrong codes at the till and (2) a key the database never holds: the stored
value is ``hmac-sha256$<hex>``, an HMAC-SHA256 of the card number and the code under a key derived from
``SECRET_KEY``, so a copy of the database alone gives nothing to try codes against. Checking one costs a few
microseconds, and PostgreSQL can check it by equality: the payment function receives the digests of the code typed
(under the current key and the fallback keys), never the code nor the key.

Codes stored before (Django's password hashers: PBKDF2 with 1,000,000 iterations) still verify, in Python, and are
stored again in the new form the first time they are typed right; a code stored under a fallback key is stored
again under the current key the same way.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.hashers import check_password

PREFIX = "hmac-sha256$"


def _keys() -> Iterable[str | bytes]:
    yield settings.SECRET_KEY
    yield from getattr(settings, "SECRET_KEY_FALLBACKS", [])


def _digest(secret: str | bytes, card_number: str, code: str) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    derived = hmac.new(key, b"grenier.fund.payment-code", hashlib.sha256).digest()
    tag = hmac.new(derived, f"{card_number}|{code}".encode(), hashlib.sha256).hexdigest()
    return PREFIX + tag


def code_hash(card_number: str, code: str) -> str:
    """What is stored for ``code`` on the household of ``card_number`` (the card is the salt: unique, never changed)."""
    return _digest(settings.SECRET_KEY, card_number, code)


def code_digests(card_number: str, code: str) -> list[str]:
    """The stored values ``code`` would match: under the current key first, then each fallback key."""
    return [_digest(secret, card_number, code) for secret in _keys()]


def is_keyed(stored: str) -> bool:
    """Whether ``stored`` is of the current kind (else a Django password hash from before)."""
    return stored.startswith(PREFIX)


def code_matches(stored: str, card_number: str, code: str) -> tuple[bool, str | None]:
    """Whether ``code`` is the one stored, and the value to store instead when it is right but stored the old way
    (a Django password hash, or under a fallback key); ``None`` when nothing needs storing again."""
    if not is_keyed(stored):
        if check_password(code, stored):
            return True, code_hash(card_number, code)
        return False, None
    for position, digest in enumerate(code_digests(card_number, code)):
        if hmac.compare_digest(stored, digest):
            return True, None if position == 0 else code_hash(card_number, code)
    return False, None
