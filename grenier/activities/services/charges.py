"""A priced session's money, through the ledger as the other modules record a member's part.

**Food credit** (``PaidIn.CREDIT``) is taken from the household's wallet (the fund's guarded
``household:<id>:credit``, the account reciprocity rewards credit) when its place is confirmed: at registration, or
when the waiting list serves it — a household waiting is charged only when it gets a place. The credit goes to the
session's account ``activities:session:<id>:credit`` (guarded: a refund never takes back more than it received),
what the fund owes the organiser. A wallet short of credit is refused with the balance in the message; the
ledger's conditional debit keeps two registrations at once from spending the same credit.

**Euros** (``PaidIn.EUROS``) are paid to the organiser at the session; the organiser records them paid, as the
baskets record a cash part: from ``external:activities-payments`` to the session's ``activities:session:<id>:eur``.

**Once.** Each registration has one charge, keyed ``activities:charge:<registration>`` in the ledger, and one
refund, ``activities:refund:<registration>``, a reversing entry of the charge (``Entry.reverses``) written when the
registration is cancelled before the deadline. The registration's row holds both entries, so a retry finds them.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.activities.models import PaidIn, Registration, RegistrationStatus, Session
from grenier.activities.wording import price_per_person_text
from grenier.core.errors import Conflict
from grenier.core.models import User
from grenier.core.money import format_cents
from grenier.core.services import audit
from grenier.fund.accounts import household_credit
from grenier.fund.payments import credit_balance
from grenier.ledger import services as ledger
from grenier.ledger.errors import InsufficientBalance
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


def credit_charge(registration: Registration, session: Session, *, actor: User | None, now: datetime) -> None:
    """Take a confirmed registration's price from its household's wallet, in the caller's transaction (the session's
    row locked). Nothing for a free or euro session, a class, or one already charged; ``not_enough_credit`` when the
    wallet is short (the caller's transaction is then rolled back, or its savepoint)."""
    if (
        session.paid_in != PaidIn.CREDIT
        or registration.price_cents <= 0
        or registration.household is None
        or registration.charge_entry_id is not None
    ):
        return
    household = registration.household
    try:
        _charge(registration, session, household_credit(household), Unit.CREDIT, actor=actor, now=now)
    except InsufficientBalance as exc:
        raise not_enough_credit(registration.price_cents, credit_balance(household)) from exc


def _charge(
    registration: Registration,
    session: Session,
    payer: Account,
    unit: Unit,
    *,
    actor: User | None,
    now: datetime,
) -> None:
    """The registration's one charge: its price from ``payer`` to the session's account in ``unit``."""
    price = registration.price_cents
    registration.charge_entry = ledger.entry_record(
        territory=session.territory,
        idempotency_key=f"activities:charge:{registration.pk}",
        kind=f"activities.charge.{'credit' if unit == Unit.CREDIT else 'euros'}",
        legs=[(payer, -price), (session_account(session, unit), price)],
        memo=str(session)[:300],
        actor=actor,
    ).entry
    registration.charged_at = now
    registration.save(update_fields=["charge_entry", "charged_at"])
    audit(
        territory=session.territory,
        actor=actor,
        action="activities.charge",
        subject=f"registration:{registration.pk}",
        amount_cents=price,
        unit=unit,
    )


def refund(registration: Registration, session: Session, *, actor: User | None) -> None:
    """Reverse a cancelled registration's charge, once (in the caller's transaction, the registration's row locked):
    the food credit back to the wallet, or euros the organiser gives back."""
    if registration.charge_entry_id is None or registration.refund_entry_id is not None:
        return
    charge = Entry.objects.get(pk=registration.charge_entry_id)
    legs = [(posting.account, -posting.amount_cents) for posting in charge.postings.select_related("account")]
    recorded = ledger.entry_record(
        territory=session.territory,
        idempotency_key=f"activities:refund:{registration.pk}",
        kind="activities.refund",
        legs=legs,
        memo=str(session)[:300],
        actor=actor,
        reverses=charge,
    )
    registration.refund_entry = recorded.entry
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
        payments = ledger.account_ensure(territory=session.territory, code=PAYMENTS_IN, unit=Unit.EUR)
        _charge(locked, session, payments, Unit.EUR, actor=actor, now=now)
    return locked
