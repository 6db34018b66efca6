"""What the baskets' services share: the bounds of a period, refusals with field names, creating once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Territory, User
from grenier.core.services import audit

PERIOD_MAX_DAYS = 3 * 366  # an agreement or a season runs at most about three years
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


def _raise(errors: dict[str, list[str]], detail: str) -> None:
    if errors:
        raise InvalidInput(detail, errors=errors)


def _period_errors(
    start: date,
    end: date,
    *,
    start_field: str,
    end_field: str,
    errors: dict[str, list[str]],
    max_days: int | None = PERIOD_MAX_DAYS,
) -> None:
    """A period starts before it ends, lasts at most ``max_days``, and lies between 2000 and 2100."""
    if not EARLIEST <= start <= LATEST:
        errors.setdefault(start_field, []).append(_("A date between 2000 and 2100."))
    if not EARLIEST <= end <= LATEST:
        errors.setdefault(end_field, []).append(_("A date between 2000 and 2100."))
    if end < start:
        errors.setdefault(end_field, []).append(_("The period must end after it starts."))
    elif max_days is not None and (end - start).days > max_days:
        errors.setdefault(end_field, []).append(_("At most three years."))


def _taken(name_field: str = "name") -> Conflict:
    return Conflict(
        _("This name is already used."), errors={name_field: [_("Already used: choose another.")]}
    )


def _create_once(
    model: Any,
    *,
    scope: dict[str, Any],
    name: str,
    fields: dict[str, Any],
    idempotency_key: str | None,
    request: dict[str, Any],
    territory: Territory,
    actor: User | None,
    action: str,
    subject: str,
    then: Callable[[Any], object] | None = None,
    **details: Any,
) -> Any:
    """A named row under ``scope`` (a territory, a garden), created once, and the audit line of a row it created
    (``action``, ``details`` and ``subject`` the kind of row: ``garden`` audits ``garden:<id>``), in one
    transaction; ``then`` runs on a created row before its audit line (its many-to-many, say).

    With a key (a form shown once): a name already taken is refused, and the same form sent twice at once returns
    the row the first one wrote (another ``request`` under that key is refused). Without a key (demo, commands):
    the row of that name, created if absent."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                if idempotency_key:
                    if model.objects.filter(**scope, name=name).exists():
                        raise _taken()
                    row, created = (
                        model.objects.create(
                            **scope,
                            name=name,
                            idempotency_key=idempotency_key,
                            request_fingerprint=fingerprint(**request),
                            **fields,
                        ),
                        True,
                    )
                else:
                    row, created = model.objects.get_or_create(**scope, name=name, defaults=fields)
        except IntegrityError as exc:  # the same form sent twice at once, or the name taken meanwhile
            won = (
                model.objects.filter(**scope, idempotency_key=idempotency_key).first()
                if idempotency_key
                else None
            )
            if won is not None:
                return replayed(won, key=idempotency_key or "", **request)
            raise _taken() from exc
        if created:
            if then is not None:
                then(row)
            audit(territory=territory, actor=actor, action=action, subject=f"{subject}:{row.pk}", **details)
    return row
