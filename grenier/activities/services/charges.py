"""A priced session's money, through the ledger as the other modules record a member's part.

**Food credit** (``PaidIn.CREDIT``) is paid when the household's place is confirmed (at registration, or when the
waiting list serves it — a household waiting is charged only when it gets a place), at the activity's **payee
store** (``Activity.payee_store``, an approved store of the territory a coordinator chose; decision 0004): a fund
payment (``fund.payments.pay_household``) from the household's wallet ``household:<id>:credit`` to the store's
``store:<id>:credit``, the whole part in food credit (the store's coverage share does not apply), which the store's
monthly settlement (``fund.settle``) counts and the fund pays it in euros. A wallet short of credit is refused with
the balance in the message; the ledger's conditional debit keeps two registrations at once from spending the same
credit. Sessions charged before decision 0004 kept their credit in ``activities:session:<id>:credit``; their
refunds still reverse that entry.

**Euros** (``PaidIn.EUROS``) are paid to the organiser at the session; the organiser records them paid, as the
baskets record a cash part: from ``external:activities-payments`` to the session's ``activities:session:<id>:eur``.

**Once.** Each registration has one charge, keyed ``activities:charge:<registration>`` (the fund payment's key at
the store, or the ledger entry's for euros), and one refund, ``activities:refund:<registration>`` (a fund refund of
the whole payment; for euros, a reversing entry of the charge) written when the registration is cancelled before
the deadline. The registration's row holds both entries (for food credit, the payment's and the refund's), so a
retry finds them; the fund's own keys answer a retry that lost its row.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.activities.models import Activity, PaidIn, Registration, RegistrationStatus, Session
from grenier.activities.wording import price_per_person_text
from grenier.core.errors import Conflict
from grenier.core.models import User
from grenier.core.money import format_cents
from grenier.core.services import audit
from grenier.fund import payments as fund_payments
from grenier.fund.models import Payment, Store
from grenier.ledger import services as ledger
from grenier.ledger.models import Account, Entry, Unit

PAYMENTS_IN = "external:activities-payments"


def session_account(session: Session, unit: Unit) -> Account:
    suffix = "credit" if unit == Unit.CREDIT else "eur"
    return ledger.account_ensure(
        territory=session.territory, code=f"activities:session:{session.pk}:{suffix}", unit=unit, guarded=True
    )


def price_words(session: Session) -> str:
    """The price in a sentence and how it is paid, for the session's page (``wording.price_text`` is the short
    form of the programme and the calendars)."""
    if session.paid_in == PaidIn.FREE:
        return _("Free.")
    price = price_per_person_text(session)
    if session.paid_in == PaidIn.CREDIT:
        store = session.activity.payee_store
        if store is not None:
            return _("%(price)s, paid in food credit when your place is confirmed, to %(store)s.") % {
                "price": price,
                "store": store,
            }
        return _("%(price)s, paid in food credit when your place is confirmed.") % {"price": price}
    return _("%(price)s, paid in euros at the session.") % {"price": price}


class NotEnoughCredit(Conflict):
    """The household's wallet cannot pay the registration's price."""

    code = "not-enough-credit"


def not_enough_credit(price_cents: int, left_cents: int) -> NotEnoughCredit:
    return NotEnoughCredit(
        _("Not enough food credit: this registration costs %(price)s, the household has %(left)s left.")
        % {"price": format_cents(price_cents), "left": format_cents(left_cents)},
        errors={"adults": [_("Not enough food credit for these persons.")]},
        extra={"price_cents": price_cents, "remaining_credit_cents": left_cents},
    )


class NoPayeeStore(Conflict):
    """The session's activity has no approved store to receive its food credit."""

    code = "no-payee-store"


def no_payee_store(activity: Activity) -> NoPayeeStore:
    """The refusal to take (or ask for) food credit for ``activity`` while no approved store receives it."""
    store = activity.payee_store
    if store is None:
        detail = _(
            "No store receives this activity's food credit yet, so its sessions cannot be priced in food credit. "
            "Ask the territory's coordinator to choose the store that receives it (an approved store of the "
            "territory), or price the session in euros."
        )
    else:
        detail = _(
            "%(store)s, the store receiving this activity's food credit, is no longer approved. Ask the "
            "territory's coordinator to choose another store, or price the session in euros."
        ) % {"store": store}
    return NoPayeeStore(detail, errors={"paid_in": [_("No approved store receives the food credit.")]})


def payee_store(activity: Activity) -> Store:
    """The approved store that receives ``activity``'s food credit; ``NoPayeeStore`` when there is none."""
    store = activity.payee_store
    if store is None or not store.is_approved:
        raise no_payee_store(activity)
    return store


def credit_charge(registration: Registration, session: Session, *, actor: User | None, now: datetime) -> None:
    """Take a confirmed registration's price from its household's wallet, in the caller's transaction (the session's
    row locked): a fund payment at the activity's payee store. Nothing for a free or euro session, a class, or one
    already charged; ``not_enough_credit`` when the wallet is short, ``NoPayeeStore`` when no approved store
    receives the credit (the caller's transaction is then rolled back, or its savepoint)."""
    if (
        session.paid_in != PaidIn.CREDIT
        or registration.price_cents <= 0
        or registration.household is None
        or registration.charge_entry_id is not None
    ):
        return
    household = registration.household
    store = payee_store(Activity.objects.select_related("payee_store").get(pk=session.activity_id))
    price = registration.price_cents
    try:
        paid = fund_payments.pay_household(
            store=store,
            household=household,
            credit_cents=price,
            idempotency_key=f"activities:charge:{registration.pk}",
            actor=actor,
        )
    except fund_payments.CreditShort as exc:
        raise not_enough_credit(price, fund_payments.credit_balance(household)) from exc
    _charged(registration, session, paid.payment.entry_id, Unit.CREDIT, actor=actor, now=now, store=store.pk)


def _charged(
    registration: Registration,
    session: Session,
    entry_id: int,
    unit: Unit,
    *,
    actor: User | None,
    now: datetime,
    **audited: object,
) -> None:
    """The registration holds its charge's entry; the audit line says so."""
    registration.charge_entry_id = entry_id
    registration.charged_at = now
    registration.save(update_fields=["charge_entry", "charged_at"])
    audit(
        territory=session.territory,
        actor=actor,
        action="activities.charge",
        subject=f"registration:{registration.pk}",
        amount_cents=registration.price_cents,
        unit=unit,
        **audited,
    )


def _charge_euros(registration: Registration, session: Session, *, actor: User | None, now: datetime) -> None:
    """The registration's one charge in euros: its price from the payments received to the session's account."""
    price = registration.price_cents
    payer = ledger.account_ensure(territory=session.territory, code=PAYMENTS_IN, unit=Unit.EUR)
    entry = ledger.entry_record(
        territory=session.territory,
        idempotency_key=f"activities:charge:{registration.pk}",
        kind="activities.charge.euros",
        legs=[(payer, -price), (session_account(session, Unit.EUR), price)],
        memo=str(session)[:300],
        actor=actor,
    ).entry
    _charged(registration, session, entry.pk, Unit.EUR, actor=actor, now=now)


def refund(registration: Registration, session: Session, *, actor: User | None) -> None:
    """Give back a cancelled registration's charge, once (in the caller's transaction, the registration's row
    locked): a fund refund of its payment at the store (the food credit back to the wallet), or a reversing entry
    of its charge (euros the organiser gives back, or credit taken to the session's account before decision
    0004)."""
    if registration.charge_entry_id is None or registration.refund_entry_id is not None:
        return
    payment = Payment.objects.filter(entry_id=registration.charge_entry_id).first()
    if payment is not None:
        registration.refund_entry_id = fund_payments.refund(
            payment=payment,
            credit_cents=payment.credit_cents,
            idempotency_key=f"activities:refund:{registration.pk}",
            actor=actor,
        ).entry_id
    else:
        charge = Entry.objects.get(pk=registration.charge_entry_id)
        legs = [
            (posting.account, -posting.amount_cents) for posting in charge.postings.select_related("account")
        ]
        registration.refund_entry = ledger.entry_record(
            territory=session.territory,
            idempotency_key=f"activities:refund:{registration.pk}",
            kind="activities.refund",
            legs=legs,
            memo=str(session)[:300],
            actor=actor,
            reverses=charge,
        ).entry
    registration.save(update_fields=["refund_entry"])
    audit(
        territory=session.territory,
        actor=actor,
        action="activities.refund",
        subject=f"registration:{registration.pk}",
        amount_cents=registration.price_cents,
    )


def euros_paid_record(
    *, registration: Registration, actor: User | None, now: datetime | None = None
) -> Registration:
    """The organiser records that a confirmed registration paid its part in euros (at the session, or before).
    Recording it again changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Registration.objects.select_for_update()
            .select_related("session__territory")
            .get(pk=registration.pk)
        )
        session = locked.session
        if locked.charge_entry_id is not None:
            return locked
        if session.paid_in != PaidIn.EUROS or locked.price_cents <= 0:
            raise Conflict(_("Nothing to pay in euros for this registration."))
        if locked.status != RegistrationStatus.CONFIRMED:
            raise Conflict(_("Only a confirmed registration pays: this one is not."))
        _charge_euros(locked, session, actor=actor, now=now)
    return locked
