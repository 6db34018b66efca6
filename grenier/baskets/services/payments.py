"""Payments: what a member household pays the garden, what a funder pays for its agreement."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.baskets import accounts, selectors
from grenier.baskets.models import (
    Agreement,
    FunderPayment,
    FunderPaymentPart,
    Garden,
    MemberPayment,
    PaymentMethod,
)
from grenier.baskets.services.common import _period_errors, _raise
from grenier.core.errors import Conflict, Forbidden, InvalidInput
from grenier.core.households import household_by_card  # noqa: F401 - callers reach it here, as before
from grenier.core.idempotency import fingerprint, replay
from grenier.core.models import Household, User
from grenier.core.money import format_cents
from grenier.core.services import audit
from grenier.fund import services as fund_services
from grenier.fund.models import Funder, Payment
from grenier.ledger import services as ledger

# --- members' payments --------------------------------------------------------------------------------------------


def member_payment_record(
    *,
    garden: Garden,
    household: Household,
    amount_cents: int,
    method: PaymentMethod,
    idempotency_key: str,
    actor: User | None,
    reference: str = "",
    code: str | None = None,
) -> MemberPayment:
    """A household pays member parts: cash, cheque or transfer (with its reference), or food credit at the
    garden's store when it is an approved point of sale (through ``fund.services.pay``, the personal code rules
    included). The same key again returns the first payment."""
    request = {
        "household": household,
        "amount_cents": amount_cents,
        "method": method,
        "reference": reference.strip(),
    }
    payments = MemberPayment.objects.filter(garden=garden)
    found = replay(payments, key=idempotency_key, **request)
    if found is not None:
        return found
    _member_payment_check(garden, household, amount_cents=amount_cents, method=method, reference=reference)
    try:
        with transaction.atomic():
            fund_payment = None
            if method == PaymentMethod.CREDIT:
                fund_payment = _credit_pay(
                    garden, household, amount_cents, idempotency_key, code=code, actor=actor
                )
            payment = _member_payment_write(
                garden,
                household,
                amount_cents=amount_cents,
                method=method,
                reference=reference,
                fund_payment=fund_payment,
                idempotency_key=idempotency_key,
                request=request,
                actor=actor,
            )
    except IntegrityError:
        won = replay(payments, key=idempotency_key, **request)
        if won is None:
            raise
        return won
    return payment


def _member_payment_check(
    garden: Garden, household: Household, *, amount_cents: int, method: PaymentMethod, reference: str
) -> None:
    """Every reason the payment is refused on its fields, then a garden that cannot take food credit."""
    errors: dict[str, list[str]] = {}
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        errors["amount_cents"] = [_("A positive number of cents.")]
    if method not in PaymentMethod.values:
        errors["method"] = [_("Cash, cheque, transfer or food credit.")]
    if method in (PaymentMethod.CHEQUE, PaymentMethod.TRANSFER) and not reference.strip():
        errors["reference"] = [_("The cheque number or the transfer's reference.")]
    if household.territory_id != garden.territory.pk:
        errors["household"] = [_("Not a household of this territory.")]
    if errors:
        raise InvalidInput(_("The payment could not be recorded."), errors=errors)
    if method == PaymentMethod.CREDIT and (garden.store is None or not garden.store.is_approved):
        raise Forbidden(_("This garden is not an approved point of sale: it cannot take food credit."))


def _credit_pay(
    garden: Garden,
    household: Household,
    amount_cents: int,
    idempotency_key: str,
    *,
    code: str | None,
    actor: User | None,
) -> Payment:
    """The household pays in food credit at the garden's store (an approved one: checked before), as at its till."""
    assert garden.store is not None  # noqa: S101 - checked before
    return fund_services.pay(
        store=garden.store,
        card=household.card_number,
        total_cents=amount_cents,
        idempotency_key=f"baskets:{garden.pk}:{idempotency_key}"[:100],
        actor=actor,
        code=code,
    ).payment


def _member_payment_write(
    garden: Garden,
    household: Household,
    *,
    amount_cents: int,
    method: PaymentMethod,
    reference: str,
    fund_payment: Payment | None,
    idempotency_key: str,
    request: dict[str, Any],
    actor: User | None,
) -> MemberPayment:
    """The payment's ledger entry (from what came in, food credit or other payments, to the household's member
    account at the garden), its row and its audit line, in the caller's transaction."""
    territory = garden.territory
    outside = accounts.FOOD_CREDIT_IN if method == PaymentMethod.CREDIT else accounts.PAYMENTS_IN
    entry = ledger.entry_record(
        territory=territory,
        idempotency_key=f"baskets:payment:{garden.pk}:{idempotency_key}",
        kind="baskets.payment",
        legs=[
            (accounts.account(territory, outside), -amount_cents),
            (accounts.account(territory, accounts.member_code(garden.pk, household.pk)), amount_cents),
        ],
        memo=f"{method} {reference}".strip(),
        actor=actor,
    ).entry
    payment = MemberPayment.objects.create(
        garden=garden,
        household=household,
        amount_cents=amount_cents,
        method=method,
        reference=reference.strip()[:100],
        fund_payment=fund_payment,
        entry=entry,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint(**request),
        recorded_by=actor,
    )
    audit(
        territory=territory,
        actor=actor,
        action="baskets.payment",
        subject=f"household:{household.pk}",
        amount_cents=amount_cents,
        method=str(method),
    )
    return payment


# --- funders' payments --------------------------------------------------------------------------------------------


def funder_payment_record(
    *,
    funder: Funder,
    start: date,
    end: date,
    amount_cents: int,
    idempotency_key: str,
    actor: User | None,
    reference: str = "",
    received_on: date | None = None,
    agreement: Agreement | None = None,
) -> FunderPayment:
    """A funder paid ``amount_cents`` for the baskets from ``start`` to ``end``: never more than its agreements
    (or the one ``agreement``) have left to pay for that period (``selectors.funder_dues``); split among them by
    garden and priority, each up to what it has left. One ledger entry from ``external:baskets-funders`` to the
    agreements' accounts. The same key again returns the first payment."""
    request = {
        "start": start,
        "end": end,
        "amount_cents": amount_cents,
        "reference": reference.strip(),
        "received_on": received_on,
        "agreement": agreement,
    }
    payments = FunderPayment.objects.filter(funder=funder)
    found = replay(payments, key=idempotency_key, **request)
    if found is not None:
        return found
    today = timezone.localdate()
    received_on = received_on or today
    _funder_payment_check(
        funder, start, end, amount_cents, received_on=received_on, today=today, agreement=agreement
    )
    try:
        with transaction.atomic():
            # One payment of a funder at a time: two payments must not both see the same amount left to pay.
            Funder.objects.select_for_update().filter(pk=funder.pk).first()
            found = replay(payments, key=idempotency_key, **request)
            if found is not None:
                return found
            parts = _funder_payment_parts(funder, start, end, amount_cents=amount_cents, agreement=agreement)
            payment = FunderPayment(
                territory=funder.territory,
                funder=funder,
                period_start=start,
                period_end=end,
                received_on=received_on,
                amount_cents=amount_cents,
                reference=reference.strip()[:100],
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
                recorded_by=actor,
            )
            memo = f"{funder.name} {start:%d/%m/%Y}-{end:%d/%m/%Y} {reference}".strip()[:200]
            _funder_payment_write(payment, parts, memo=memo, actor=actor)
    except IntegrityError:
        won = replay(payments, key=idempotency_key, **request)
        if won is None:
            raise
        return won
    return payment


def _funder_payment_check(
    funder: Funder,
    start: date,
    end: date,
    amount_cents: int,
    *,
    received_on: date,
    today: date,
    agreement: Agreement | None,
) -> None:
    """Every reason the payment is refused on its fields: the amount, the period, a day still to come, another
    funder's agreement."""
    errors: dict[str, list[str]] = {}
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        errors["amount_cents"] = [_("A positive number of cents.")]
    _period_errors(start, end, start_field="start", end_field="end", errors=errors, max_days=None)
    if received_on > today:
        errors["received_on"] = [_("A payment is recorded once received.")]
    if agreement is not None and agreement.funder_id != funder.pk:
        errors["agreement"] = [_("Not an agreement of this funder.")]
    _raise(errors, _("The payment could not be recorded."))


def _funder_payment_parts(
    funder: Funder, start: date, end: date, *, amount_cents: int, agreement: Agreement | None
) -> list[tuple[Agreement, int]]:
    """How the amount splits among the agreements (or the one ``agreement``) in the order of their dues, each up to
    what it has left to pay for the period; more than they have left altogether is refused."""
    dues = [
        d
        for d in selectors.funder_dues(funder, start, end)
        if agreement is None or d.agreement.pk == agreement.pk
    ]
    left = sum(d.left_cents for d in dues)
    if amount_cents > left:
        raise Conflict(
            _("More than what is left to pay for this period."),
            errors={"amount_cents": [_("At most %(left)s.") % {"left": format_cents(left)}]},
        )
    parts: list[tuple[Agreement, int]] = []
    rest = amount_cents
    for due in dues:
        take = min(due.left_cents, rest)
        if take > 0:
            parts.append((due.agreement, take))
            rest -= take
    return parts


def _funder_payment_write(
    payment: FunderPayment, parts: list[tuple[Agreement, int]], *, memo: str, actor: User | None
) -> None:
    """The ledger entry of ``payment`` (a row not written yet: from ``external:baskets-funders`` to each agreement's
    account, its part), then its row, its parts and its audit line, in the caller's transaction."""
    territory, funder, amount_cents = payment.territory, payment.funder, payment.amount_cents
    start, end = payment.period_start, payment.period_end
    books = accounts.accounts(
        territory, {accounts.FUNDERS_IN} | {accounts.agreement_code(a.pk) for a, _c in parts}
    )
    payment.entry = ledger.entry_record(
        territory=territory,
        idempotency_key=f"baskets:funder-payment:{funder.pk}:{payment.idempotency_key}"[:100],
        kind="baskets.funder_payment",
        legs=[(books[accounts.FUNDERS_IN], -amount_cents)]
        + [(books[accounts.agreement_code(a.pk)], cents) for a, cents in parts],
        memo=memo,
        actor=actor,
    ).entry
    payment.save(force_insert=True)
    FunderPaymentPart.objects.bulk_create(
        FunderPaymentPart(payment=payment, agreement=a, amount_cents=cents) for a, cents in parts
    )
    audit(
        territory=territory,
        actor=actor,
        action="baskets.funder_payment",
        subject=f"funder:{funder.pk}",
        amount_cents=amount_cents,
        start=start.isoformat(),
        end=end.isoformat(),
        parts={str(a.pk): cents for a, cents in parts},
    )
