"""One idempotency key, one request (issue 11, item 3).

A write that takes an idempotency key records, next to the key, a fingerprint of the request's meaningful arguments
(who pays, how much, for what — not who typed it nor a personal code). The same key sent again returns what the
first request recorded only if it carries the same request; a different request under a used key is refused
(``KeyReused``, 409 problem+json naming the key): a till that goes back and enters another household must not be
shown the first household's receipt as if its own purchase were recorded.

Every service that takes a key does the same three things, where it finds a row already recorded under the key
(the first look-up, the look-up again under a lock, the row that won a race): ``replayed(row, key=…, **request)``;
and it stores ``fingerprint(**request)`` in the row's ``request_fingerprint``. Rows recorded before fingerprints
existed have an empty one and are returned as before.

The fingerprint is an HMAC keyed with the secret key, so that it tells nothing about the request (a name, a card
number) to whoever reads the database; a replay is also checked against the secret keys being phased out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol, TypeVar, cast

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict

FINGERPRINT_LENGTH = 64  # hex of a SHA-256


class KeyReused(Conflict):
    """The idempotency key was already used for a different request."""

    code = "idempotency-key-reused"

    def __init__(self, key: str) -> None:
        super().__init__(
            _(
                "The idempotency key “%(key)s” was already used for another request, so nothing was recorded. "
                "Send this one with a new key (on a page: open the form again)."
            )
            % {"key": key},
            errors={"idempotency_key": [_("Already used for a different request.")]},
            extra={"idempotency_key": key},
        )


def fingerprint_field() -> models.CharField:
    """The column every keyed model keeps its request's fingerprint in (empty for rows recorded before)."""
    return models.CharField(max_length=FINGERPRINT_LENGTH, blank=True, default="", editable=False)


def _canonical(value: Any) -> Any:
    """A JSON-able form of an argument that two equal requests share: rows by model and id, dates in ISO."""
    if isinstance(value, models.Model):
        return [value._meta.label_lower, value.pk]
    if isinstance(value, Enum):
        return _canonical(value.value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(item) for item in value), key=json.dumps)
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"No canonical form for a request argument of type {type(value).__name__}")


def _digest(arguments: Mapping[str, Any], secret: str | bytes) -> str:
    payload = json.dumps(_canonical(arguments), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(b"grenier.idempotency|" + key, payload.encode(), hashlib.sha256).hexdigest()


def _secrets() -> Iterable[str | bytes]:
    yield settings.SECRET_KEY
    yield from getattr(settings, "SECRET_KEY_FALLBACKS", [])


def fingerprint(**arguments: Any) -> str:
    """The fingerprint of a request made of ``arguments``, to store with its key."""
    return _digest(arguments, settings.SECRET_KEY)


class Keyed(Protocol):
    request_fingerprint: str


K = TypeVar("K", bound=Keyed)


def replayed(found: K, *, key: str, **arguments: Any) -> K:
    """``found``, recorded under ``key``, if this request is the one it recorded; else ``KeyReused``."""
    stored = found.request_fingerprint
    if stored and not any(hmac.compare_digest(stored, _digest(arguments, secret)) for secret in _secrets()):
        raise KeyReused(key)
    return found


M = TypeVar("M", bound=models.Model)


def replay(rows: models.QuerySet[M], *, key: str | None, **arguments: Any) -> M | None:
    """The row of ``rows`` recorded under ``key``, if this request is the one it recorded (``replayed``), or None
    when nothing is recorded under it yet (or there is no key): the look-up a keyed write does first, again under
    its lock, and after losing a race."""
    if not key:
        return None
    found = rows.filter(idempotency_key=key).first()
    if found is not None:
        replayed(cast(Keyed, found), key=key, **arguments)
    return found
