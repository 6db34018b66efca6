"""What the fund owes each store for a past month (settlements, then marked paid), funders and their grants."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Territory, User
from grenier.core.months import first_of_month, month_bounds
from grenier.core.services import audit
from grenier.fund.accounts import GRANTS, STORES_PAID, _external, credit_issuer, fund_account, store_credit
from grenier.fund.models import (
    Funder,
    FunderKind,
    Grant,
    Payment,
    Refund,
    Settlement,
    SettlementStatus,
    Store,
)
from grenier.ledger import services as ledger
from grenier.ledger.errors import InsufficientBalance


def settle(*, territory: Territory, month: date, actor: User | None) -> list[Settlement]:
    """Per store: food credit received in ``month`` minus refunds in ``month`` = euros the fund owes it. The credit
    goes back to the issuer (it has been spent). Settling the same month twice changes nothing."""
    month = first_of_month(month)
    start, end = month_bounds(month)
    if end > timezone.now():  # not on its last evening either: a payment may still come before midnight
        raise InvalidInput(
            _("A month is settled once it is over."), errors={"month": [_("This month is not over.")]}
        )
    settlements = []
    issuer = credit_issuer(territory)
    for store in Store.objects.filter(territory=territory).order_by("pk"):
        existing = Settlement.objects.filter(store=store, month=month).first()
        if existing is not None:
            settlements.append(existing)
            continue
        paid = Payment.objects.filter(store=store, created_at__gte=start, created_at__lt=end).aggregate(
            n=Count("id"), total=Sum("credit_cents")
        )
        refunded = (
            Refund.objects.filter(payment__store=store, created_at__gte=start, created_at__lt=end).aggregate(
                total=Sum("credit_cents")
            )["total"]
            or 0
        )
        received = paid["total"] or 0
        if not received and not refunded:
            continue
        amount = received - refunded
        with transaction.atomic():
            entry = None
            if amount:
                entry = ledger.entry_record(
                    territory=territory,
                    idempotency_key=f"settlement:{store.pk}:{month:%Y-%m}",
                    kind="fund.settlement",
                    legs=[(store_credit(store), -amount), (issuer, amount)],
                    actor=actor,
                ).entry
            settlement, _created = Settlement.objects.get_or_create(
                store=store,
                month=month,
                defaults={
                    "payments_count": paid["n"],
                    "credit_received_cents": received,
                    "credit_refunded_cents": refunded,
                    "amount_cents": amount,
                    "computed_entry": entry,
                },
            )
        settlements.append(settlement)
    audit(territory=territory, actor=actor, action="fund.settle", subject=f"month:{month:%Y-%m}")
    return settlements


def settlement_mark_paid(*, settlement: Settlement, reference: str = "", actor: User | None) -> Settlement:
    """Record the euro transfer to the store. Needs the euros in the fund; marking twice changes nothing."""
    with transaction.atomic():
        locked = (
            Settlement.objects.select_for_update().select_related("store__territory").get(pk=settlement.pk)
        )
        if locked.status == SettlementStatus.PAID:
            return locked
        territory = locked.store.territory
        if locked.amount_cents > 0:
            try:
                entry = ledger.entry_record(
                    territory=territory,
                    idempotency_key=f"settlement-paid:{locked.pk}",
                    kind="fund.settlement.paid",
                    legs=[
                        (fund_account(territory), -locked.amount_cents),
                        (_external(territory, STORES_PAID), locked.amount_cents),
                    ],
                    actor=actor,
                    memo=reference,
                ).entry
            except InsufficientBalance as exc:
                raise Conflict(_("The fund does not hold enough euros to pay this settlement.")) from exc
            locked.paid_entry = entry
        locked.status = SettlementStatus.PAID
        locked.paid_at = timezone.now()
        locked.paid_reference = reference[:100]
        locked.save(update_fields=["paid_entry", "status", "paid_at", "paid_reference"])
        audit(
            territory=territory, actor=actor, action="fund.settlement.paid", subject=f"settlement:{locked.pk}"
        )
    return locked


def funder_create(*, territory: Territory, name: str, kind: FunderKind, actor: User | None) -> Funder:
    funder, _created = Funder.objects.get_or_create(
        territory=territory, name=name.strip(), defaults={"kind": kind}
    )
    return funder


def grant_record(
    *,
    funder: Funder,
    amount_cents: int,
    received_on: date,
    purpose: str = "",
    idempotency_key: str,
    actor: User | None,
) -> Grant:
    """A grant received: euros into the fund."""
    request = {"amount_cents": amount_cents, "received_on": received_on, "purpose": purpose}
    existing = Grant.objects.filter(funder=funder, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvalidInput(
            _("The amount must be positive."), errors={"amount_cents": [_("A positive number of cents.")]}
        )
    territory = funder.territory
    with transaction.atomic():
        entry = ledger.entry_record(
            territory=territory,
            idempotency_key=f"grant:{funder.pk}:{idempotency_key}",
            kind="fund.grant",
            legs=[(_external(territory, GRANTS), -amount_cents), (fund_account(territory), amount_cents)],
            actor=actor,
            memo=purpose,
        ).entry
        grant = Grant.objects.create(
            funder=funder,
            amount_cents=amount_cents,
            received_on=received_on,
            purpose=purpose,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint(**request),
            entry=entry,
        )
        audit(territory=territory, actor=actor, action="fund.grant", subject=f"grant:{grant.pk}")
    return grant
