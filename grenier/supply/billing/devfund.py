"""The development fund: cash advances to producers, the group's contributions, the balance and its movements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import KeyReused, fingerprint, replayed
from grenier.core.models import Territory, User
from grenier.core.money import format_cents
from grenier.core.services import audit
from grenier.ledger import services as ledger
from grenier.ledger.errors import InsufficientBalance
from grenier.ledger.models import Account, Entry, Posting
from grenier.supply import accounts
from grenier.supply.billing.series import CONTRIBUTIONS, _positive_cents, fit_key
from grenier.supply.models import (
    Advance,
    Producer,
)


def _devfund_short(territory: Territory, exc: InsufficientBalance, needed: int) -> Conflict:
    return Conflict(
        _("The development fund holds %(balance)s, less than the %(needed)s this needs.")
        % {"balance": format_cents(devfund_balance(territory)), "needed": format_cents(needed)},
        extra={"devfund_balance_cents": devfund_balance(territory), "needed_cents": needed},
    )


def advance_grant(
    *,
    producer: Producer,
    amount_cents: int,
    monthly_deduction_cents: int,
    granted_on: date,
    purpose: str = "",
    idempotency_key: str,
    actor: User | None,
) -> Advance:
    """A cash advance paid to a producer from the development fund (devfund -, payouts +), repaid by deduction
    from its monthly statements. Refused (``Conflict``, the fund's balance in ``extra``) when the fund holds less."""
    territory = producer.territory
    idempotency_key = fit_key(idempotency_key)
    request = {
        "producer": producer,
        "amount_cents": amount_cents,
        "monthly_deduction_cents": monthly_deduction_cents,
        "granted_on": granted_on,
        "purpose": purpose,
    }
    existing = Advance.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    _positive_cents(amount_cents, "amount_cents")
    _positive_cents(monthly_deduction_cents, "monthly_deduction_cents")
    if monthly_deduction_cents > amount_cents:
        raise InvalidInput(
            _("The monthly deduction cannot exceed the advance."),
            errors={"monthly_deduction_cents": [_("At most the advance's amount.")]},
        )
    try:
        with transaction.atomic():
            try:
                entry = ledger.entry_record(
                    territory=territory,
                    idempotency_key=f"supply:advance:{idempotency_key}",
                    kind="supply.advance",
                    legs=[
                        (accounts.devfund_account(territory), -amount_cents),
                        (accounts.external(territory, accounts.PAYOUTS), amount_cents),
                    ],
                    memo=f"{producer.farm_name} {purpose}".strip(),
                    actor=actor,
                ).entry
            except InsufficientBalance as exc:
                raise _devfund_short(territory, exc, amount_cents) from exc
            advance = Advance.objects.create(
                territory=territory,
                producer=producer,
                amount_cents=amount_cents,
                monthly_deduction_cents=monthly_deduction_cents,
                granted_on=granted_on,
                purpose=purpose[:300],
                entry=entry,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(territory=territory, actor=actor, action="supply.advance", subject=f"advance:{advance.pk}")
    except IntegrityError:
        existing = Advance.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return replayed(existing, key=idempotency_key, **request)
    return advance


def devfund_contribute(
    *, territory: Territory, amount_cents: int, source: str, idempotency_key: str, actor: User | None
) -> Entry:
    """Euros into the development fund from the group itself or a grant (``source`` says who)."""
    _positive_cents(amount_cents, "amount_cents")
    try:
        recorded = ledger.entry_record(
            territory=territory,
            idempotency_key=fit_key(f"supply:devfund:{idempotency_key}", 120),
            kind="supply.devfund.contribution",
            legs=[
                (accounts.external(territory, CONTRIBUTIONS), -amount_cents),
                (accounts.devfund_account(territory), amount_cents),
            ],
            memo=source[:300],
            actor=actor,
        )
    except KeyReused:  # the ledger entry is the contribution's only record: its postings are compared
        raise KeyReused(idempotency_key) from None
    if recorded.created:
        audit(territory=territory, actor=actor, action="supply.devfund", subject=f"entry:{recorded.entry.pk}")
    return recorded.entry


def devfund_balance(territory: Territory) -> int:
    return (
        Account.objects.filter(territory=territory, code=accounts.DEVFUND)
        .values_list("balance_cents", flat=True)
        .first()
        or 0
    )


@dataclass(frozen=True)
class Movement:
    at: Any
    kind: str
    memo: str
    amount_cents: int


def devfund_movements(territory: Territory, limit: int = 200) -> list[Movement]:
    """The development fund's movements, latest first: levies, contributions, advances out, repayments in."""
    # Sorted here, not by the database: ordered by the entry's time, PostgreSQL may drive the join from every
    # entry of the ledger when its statistics are stale (a test's own transaction: a 20-minute query); the fund's
    # account has a few postings a month, found by its own index.
    account_id = (
        Account.objects.filter(territory=territory, code=accounts.DEVFUND)
        .values_list("pk", flat=True)
        .first()
    )
    if account_id is None:
        return []
    rows = list(Posting.objects.filter(account_id=account_id).select_related("entry"))
    rows.sort(key=lambda row: (row.entry.created_at, row.pk), reverse=True)
    return [
        Movement(row.entry.created_at, row.entry.kind, row.entry.memo, row.amount_cents)
        for row in rows[:limit]
    ]


def outstanding_advances(territory: Territory, producer: Producer | None = None) -> QuerySet[Advance]:
    """Advances not fully repaid, oldest first (the order they are repaid in)."""
    rows = Advance.objects.filter(territory=territory, repaid_cents__lt=F("amount_cents"))
    if producer is not None:
        rows = rows.filter(producer=producer)
    return rows.select_related("producer").order_by("granted_on", "pk")


def advances_of(territory: Territory, producer: Producer | None = None) -> QuerySet[Advance]:
    rows = Advance.objects.filter(territory=territory)
    if producer is not None:
        rows = rows.filter(producer=producer)
    return rows.select_related("producer").order_by("-granted_on", "-pk")
