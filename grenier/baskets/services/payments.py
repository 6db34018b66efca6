"""Payments: what a member household pays the garden, what a funder pays for its agreement."""

from __future__ import annotations

from datetime import date

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
from grenier.core.cards import normalise_card_number
from grenier.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Household, Territory, User
from grenier.core.money import format_cents
from grenier.core.services import audit
from grenier.fund import services as fund_services
from grenier.fund.models import Funder
from grenier.ledger import services as ledger


def household_by_card(territory: Territory, card: str) -> Household:
    number = normalise_card_number(card)
    household = (
        Household.objects.filter(territory=territory, card_number=number, left_on__isnull=True).first()
        if number
        else None
    )
    if household is None:
        raise NotFound(_("No member household has this card number."))
    return household


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
    territory = garden.territory
    request = {
        "household": household,
        "amount_cents": amount_cents,
        "method": method,
        "reference": reference.strip(),
    }
    found = MemberPayment.objects.filter(garden=garden, idempotency_key=idempotency_key).first()
    if found is not None:
        return replayed(found, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        errors["amount_cents"] = [_("A positive number of cents.")]
    if method not in PaymentMethod.values:
        errors["method"] = [_("Cash, cheque, transfer or food credit.")]
    if method in (PaymentMethod.CHEQUE, PaymentMethod.TRANSFER) and not reference.strip():
        errors["reference"] = [_("The cheque number or the transfer's reference.")]
    if household.territory_id != territory.pk:
        errors["household"] = [_("Not a household of this territory.")]
    if errors:
        raise InvalidInput(_("The payment could not be recorded."), errors=errors)
    if method == PaymentMethod.CREDIT and (garden.store is None or not garden.store.is_approved):
        raise Forbidden(_("This garden is not an approved point of sale: it cannot take food credit."))
    try:
        with transaction.atomic():
            fund_payment = None
            if method == PaymentMethod.CREDIT:
                assert garden.store is not None  # noqa: S101 - checked above
                fund_payment = fund_services.pay(
                    store=garden.store,
                    card=household.card_number,
                    total_cents=amount_cents,
                    idempotency_key=f"baskets:{garden.pk}:{idempotency_key}"[:100],
                    actor=actor,
                    code=code,
                ).payment
            outside = accounts.FOOD_CREDIT_IN if method == PaymentMethod.CREDIT else accounts.PAYMENTS_IN
            entry = ledger.entry_record(
                territory=territory,
                idempotency_key=f"baskets:payment:{garden.pk}:{idempotency_key}",
                kind="baskets.payment",
                legs=[
                    (accounts.account(territory, outside), -amount_cents),
                    (
                        accounts.account(territory, accounts.member_code(garden.pk, household.pk)),
                        amount_cents,
                    ),
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
    except IntegrityError:
        won = MemberPayment.objects.filter(garden=garden, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
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
    territory = funder.territory
    request = {
        "start": start,
        "end": end,
        "amount_cents": amount_cents,
        "reference": reference.strip(),
        "received_on": received_on,
        "agreement": agreement,
    }
    found = FunderPayment.objects.filter(funder=funder, idempotency_key=idempotency_key).first()
    if found is not None:
        return replayed(found, key=idempotency_key, **request)
    today = timezone.localdate()
    received_on = received_on or today
    errors: dict[str, list[str]] = {}
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        errors["amount_cents"] = [_("A positive number of cents.")]
    _period_errors(start, end, start_field="start", end_field="end", errors=errors, max_days=None)
    if received_on > today:
        errors["received_on"] = [_("A payment is recorded once received.")]
    if agreement is not None and agreement.funder_id != funder.pk:
        errors["agreement"] = [_("Not an agreement of this funder.")]
    _raise(errors, _("The payment could not be recorded."))
    try:
        with transaction.atomic():
            # One payment of a funder at a time: two payments must not both see the same amount left to pay.
            Funder.objects.select_for_update().filter(pk=funder.pk).first()
            found = FunderPayment.objects.filter(funder=funder, idempotency_key=idempotency_key).first()
            if found is not None:
                return replayed(found, key=idempotency_key, **request)
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
            books = accounts.accounts(
                territory, {accounts.FUNDERS_IN} | {accounts.agreement_code(a.pk) for a, _c in parts}
            )
            entry = ledger.entry_record(
                territory=territory,
                idempotency_key=f"baskets:funder-payment:{funder.pk}:{idempotency_key}"[:100],
                kind="baskets.funder_payment",
                legs=[(books[accounts.FUNDERS_IN], -amount_cents)]
                + [(books[accounts.agreement_code(a.pk)], cents) for a, cents in parts],
                memo=f"{funder.name} {start:%d/%m/%Y}-{end:%d/%m/%Y} {reference}".strip()[:200],
                actor=actor,
            ).entry
            payment = FunderPayment.objects.create(
                territory=territory,
                funder=funder,
                period_start=start,
                period_end=end,
                received_on=received_on,
                amount_cents=amount_cents,
                reference=reference.strip()[:100],
                entry=entry,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
                recorded_by=actor,
            )
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
    except IntegrityError:
        won = FunderPayment.objects.filter(funder=funder, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return payment
