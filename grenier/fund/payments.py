"""Paying at a store in food credit, and refunds. On PostgreSQL a payment is one database call (``fund_pay``,
migrations fund 0003 and 0010); elsewhere the same steps in Python."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.cards import normalise_card_number
from grenier.core.errors import Conflict, Forbidden, InvalidInput
from grenier.core.households import card_unknown, household_by_card
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Household, User
from grenier.core.money import format_cents
from grenier.fund import codes
from grenier.fund.accounts import (
    CODE_ATTEMPTS,
    CODE_LOCK,
    _store_credit_code,
    household_credit,
    household_credit_code,
    store_credit,
)
from grenier.fund.models import (
    Payment,
    PaymentCode,
    Refund,
    Store,
)
from grenier.ledger import services as ledger
from grenier.ledger.errors import InsufficientBalance
from grenier.ledger.models import Account, Unit


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    remaining_credit_cents: int
    created: bool


# The refusals of a payment, one place for each message: the Python path and the database's path raise these.


def _amount_not_positive() -> InvalidInput:
    return InvalidInput(
        _("The amount must be positive."), errors={"amount_cents": [_("A positive number of cents.")]}
    )


def _store_not_approved() -> Forbidden:
    return Forbidden(_("This store is not approved: it cannot take food-credit payments."))


def _card_locked() -> Forbidden:
    return Forbidden(_("Too many wrong codes: this card is locked for a few minutes."))


def _code_missing() -> InvalidInput:
    return InvalidInput(
        _("This household pays with its personal code."),
        errors={"code": [_("The member types their code.")]},
    )


def _code_wrong() -> InvalidInput:
    return InvalidInput(_("Wrong code."), errors={"code": [_("Wrong code.")]})


def _amount_too_small() -> InvalidInput:
    return InvalidInput(
        _("The amount is too small for this store's coverage."),
        errors={"amount_cents": [_("Too small.")]},
    )


class CreditShort(Conflict):
    """The household's wallet holds less food credit than the payment asks."""


def _not_enough_credit(remaining: int) -> CreditShort:
    return CreditShort(
        _("Not enough food credit: %(remaining)s left.") % {"remaining": format_cents(remaining)},
        errors={
            "amount_cents": [_("Remaining credit: %(remaining)s.") % {"remaining": format_cents(remaining)}]
        },
        extra={"remaining_credit_cents": remaining},
    )


def _check_code(household: Household, code: str | None) -> None:
    """Refuse a locked card, a missing code, a wrong one (counted: the 5th locks the card for ``CODE_LOCK``)."""
    stored = PaymentCode.objects.filter(household=household).first()
    if stored is None:
        return
    now = timezone.now()
    if stored.locked_until and stored.locked_until > now:
        raise _card_locked()
    if not code:
        raise _code_missing()
    right, store_again = codes.code_matches(stored.code_hash, household.card_number, code)
    if right:
        if stored.failed_attempts or store_again:
            PaymentCode.objects.filter(pk=stored.pk).update(
                failed_attempts=0, locked_until=None, code_hash=store_again or stored.code_hash
            )
        return
    # One more wrong code, counted in the row itself (two tills at once both count).
    PaymentCode.objects.filter(pk=stored.pk).update(
        failed_attempts=F("failed_attempts") + 1,
        locked_until=Case(
            When(failed_attempts__gte=CODE_ATTEMPTS - 1, then=Value(now + CODE_LOCK)), default=Value(None)
        ),
    )
    raise _code_wrong()


def credit_part(total_cents: int, coverage_percent: int) -> int:
    """The part paid in food credit: the coverage share, rounded down to the cent (the member pays the rest)."""
    return total_cents * coverage_percent // 100


# Whether PostgreSQL takes payments in one call (``fund_pay``, migrations fund 0003, 0010); the payment tests also run
# the Python path on PostgreSQL by turning it off.
PAY_IN_DATABASE = True
_IN_DATABASE_LIMIT = 10**15  # cents; beyond (or not an int) the Python path answers, as it always did


def pay(
    *,
    store: Store,
    card: str,
    total_cents: int,
    idempotency_key: str,
    actor: User | None,
    code: str | None = None,
) -> PaymentResult:
    """A member household pays ``total_cents`` at ``store``: the store's coverage share in food credit, the rest in
    euros at the till. The same ``idempotency_key`` again returns the first payment, debited once; with another
    household or amount it is refused (``KeyReused``): the till must not show a receipt for a purchase not recorded.

    On PostgreSQL the whole payment is one database call (``fund_pay``, a function installed by the migration
    ``fund.0003``, lighter since ``fund.0010``: key, card, code, accounts, guarded debit, entry, postings, payment
    row); elsewhere the same steps in Python (``_pay_in_python``). Both answer the same refusals, with the same messages."""
    if (
        PAY_IN_DATABASE
        and connection.vendor == "postgresql"
        and type(total_cents) is int
        and abs(total_cents) < _IN_DATABASE_LIMIT
    ):
        return _pay_in_database(
            store=store,
            card=card,
            total_cents=total_cents,
            idempotency_key=idempotency_key,
            actor=actor,
            code=code,
        )
    return _pay_in_python(
        store=store,
        card=card,
        total_cents=total_cents,
        idempotency_key=idempotency_key,
        actor=actor,
        code=code,
    )


_PAYMENT_COLUMNS = (
    "id",
    "territory_id",
    "household_id",
    "total_cents",
    "credit_cents",
    "euro_cents",
    "refunded_credit_cents",
    "request_fingerprint",
    "entry_id",
    "cashier_id",
    "created_at",
)


def _pay_in_database(
    *, store: Store, card: str, total_cents: int, idempotency_key: str, actor: User | None, code: str | None
) -> PaymentResult:
    number = normalise_card_number(card)
    request = {"card": number or card.strip(), "total_cents": total_cents}
    digests = codes.code_digests(number, code) if code and number else None
    for _attempt in range(2):
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT * FROM fund_pay(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    store.territory_id,
                    store.pk,
                    store.is_approved,
                    store.coverage_percent,
                    number,
                    total_cents,
                    idempotency_key,
                    fingerprint(**request),
                    digests,
                    actor.pk if actor is not None else None,
                    now,
                    CODE_ATTEMPTS,
                    now + CODE_LOCK,
                ],
            )
            row = cursor.fetchone()
        outcome, *values, balance = row
        if outcome in ("paid", "replayed"):
            columns = dict(zip(_PAYMENT_COLUMNS, values, strict=True))
            columns.update(store_id=store.pk, idempotency_key=idempotency_key)
            fields = [field.attname for field in Payment._meta.concrete_fields]
            payment = Payment.from_db(connection.alias, fields, [columns[name] for name in fields])
            payment.store = store
            if outcome == "replayed":
                replayed(payment, key=idempotency_key, **request)
            return PaymentResult(payment, balance, created=outcome == "paid")
        if outcome == "code-stored-before":
            # A code stored before the keyed digests (a Django password hash): Python checks it, stores it again the
            # new way or counts the wrong code, once per household; then the payment is asked for again.
            assert number is not None  # noqa: S101 - the function found the household by it
            _check_code(Household(pk=values[2], card_number=number), code)
            continue
        if outcome == "insufficient":
            raise _not_enough_credit(balance)
        raise {
            "amount": _amount_not_positive,
            "store": _store_not_approved,
            "card": card_unknown,
            "locked": _card_locked,
            "code-missing": _code_missing,
            "code-wrong": _code_wrong,
            "too-small": _amount_too_small,
        }[outcome]()
    raise RuntimeError("fund_pay: the code stored before was stored again and is still not the new kind")


def _pay_in_python(
    *, store: Store, card: str, total_cents: int, idempotency_key: str, actor: User | None, code: str | None
) -> PaymentResult:
    request = {"card": normalise_card_number(card) or card.strip(), "total_cents": total_cents}
    existing = _payment_replayed(store, idempotency_key, request)
    if existing is not None:
        return existing
    if not isinstance(total_cents, int) or total_cents <= 0:
        raise _amount_not_positive()
    if not store.is_approved:
        raise _store_not_approved()
    household = household_by_card(store.territory, card)
    _check_code(household, code)
    credit = credit_part(total_cents, store.coverage_percent)
    if credit <= 0:
        raise _amount_too_small()
    return _payment_write(store, household, total_cents, credit, idempotency_key, request, actor)


def pay_household(
    *, store: Store, household: Household, credit_cents: int, idempotency_key: str, actor: User | None
) -> PaymentResult:
    """A household pays ``credit_cents`` at ``store``, all of it in food credit, for something a module of Grenier
    sold it with the household known (a session of an activity, ``activities.services.charges``): its person is
    signed in, or a social worker acts for it, so neither its card nor its personal code is asked, and the store's
    coverage share does not apply (the price is its food-credit part). Otherwise the till's steps and refusals
    (``_pay_in_python``): an approved store, the wallet's guarded debit, one ``Payment`` row and its entry, which
    the store's monthly settlement counts. The same key again returns the first payment, debited once."""
    request = {"card": household.card_number, "total_cents": credit_cents}
    existing = _payment_replayed(store, idempotency_key, request)
    if existing is not None:
        return existing
    if not isinstance(credit_cents, int) or credit_cents <= 0:
        raise _amount_not_positive()
    if not store.is_approved:
        raise _store_not_approved()
    if household.territory_id != store.territory_id:
        raise InvalidInput(
            _("This household is not a member of this store's territory."),
            errors={"household": [_("Not a member here.")]},
        )
    return _payment_write(store, household, credit_cents, credit_cents, idempotency_key, request, actor)


def _payment_replayed(store: Store, idempotency_key: str, request: dict[str, object]) -> PaymentResult | None:
    """The payment already recorded at ``store`` under ``idempotency_key`` (if this request is the one it
    recorded), or None."""
    existing = (
        Payment.objects.filter(store=store, idempotency_key=idempotency_key)
        .select_related("household")
        .first()
    )
    if existing is None:
        return None
    replayed(existing, key=idempotency_key, **request)
    return PaymentResult(existing, _credit_of(existing.household), created=False)


def _payment_write(
    store: Store,
    household: Household,
    total_cents: int,
    credit: int,
    idempotency_key: str,
    request: dict[str, object],
    actor: User | None,
) -> PaymentResult:
    """The payment's entry (``credit`` from the household's wallet to the store's account) and its row."""
    wallet, shop = _payment_accounts(store, household)
    entry_key = f"payment:{store.pk}:{idempotency_key}"
    try:
        with transaction.atomic():
            # The payment's key was checked above, so the entry is written without a second look-up or a savepoint;
            # a request racing with the same key fails on a unique index and rolls this transaction back (below).
            entry, balances = ledger.entry_insert(
                territory=store.territory,
                idempotency_key=entry_key,
                kind="fund.payment",
                legs=[(wallet, -credit), (shop, credit)],
                actor=actor,
            )
            payment = Payment.objects.create(
                territory=store.territory,
                store=store,
                household=household,
                total_cents=total_cents,
                credit_cents=credit,
                euro_cents=total_cents - credit,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
                entry=entry,
                cashier=actor,
            )
    except InsufficientBalance as exc:
        raise _not_enough_credit(_credit_of(household)) from exc
    except IntegrityError:
        # The same key raced in from another till request: answer with the payment that won.
        won = Payment.objects.filter(store=store, idempotency_key=idempotency_key).first()
        if won is None:
            won = Payment.objects.get(entry__territory=store.territory, entry__idempotency_key=entry_key)
        replayed(won, key=idempotency_key, **request)
        return PaymentResult(won, _credit_of(household), created=False)
    return PaymentResult(payment, balances[wallet.pk], created=True)


def _payment_accounts(store: Store, household: Household) -> tuple[Account, Account]:
    """The household's credit account and the store's, read together; created (or refused) by
    ``household_credit`` and ``store_credit`` when one is missing or not what they expect."""
    if household.territory_id == store.territory_id:
        household.territory = store.territory  # the same row: no second read of it
    wallet_code = household_credit_code(household.pk)
    shop_code = _store_credit_code(store.pk)
    found = {
        account.code: account
        for account in Account.objects.filter(
            territory_id=store.territory_id, code__in=[wallet_code, shop_code]
        )
    }
    wallet = found.get(wallet_code)
    if wallet is None or wallet.unit != Unit.CREDIT or not wallet.guarded:
        wallet = household_credit(household)
    shop = found.get(shop_code)
    if shop is None or shop.unit != Unit.CREDIT or shop.guarded:
        shop = store_credit(store)
    return wallet, shop


def _credit_of(household: Household) -> int:
    return (
        Account.objects.filter(territory_id=household.territory_id, code=household_credit_code(household.pk))
        .values_list("balance_cents", flat=True)
        .first()
        or 0
    )


def credit_balance(household: Household) -> int:
    return _credit_of(household)


def refund(*, payment: Payment, credit_cents: int, idempotency_key: str, actor: User | None) -> Refund:
    """Give back ``credit_cents`` of a payment (whole or part) to the household's credit. Never more than was paid."""
    request = {"credit_cents": credit_cents}
    existing = Refund.objects.filter(payment=payment, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    if not isinstance(credit_cents, int) or credit_cents <= 0:
        raise InvalidInput(
            _("The amount must be positive."), errors={"amount_cents": [_("A positive number of cents.")]}
        )
    with transaction.atomic():
        # The race: two refunds of the same payment both see room for themselves. The row lock serialises them.
        locked = Payment.objects.select_for_update().select_related("store", "household").get(pk=payment.pk)
        again = Refund.objects.filter(payment=locked, idempotency_key=idempotency_key).first()
        if again is not None:
            return replayed(again, key=idempotency_key, **request)
        room = locked.credit_cents - locked.refunded_credit_cents
        if credit_cents > room:
            raise Conflict(
                _("At most %(room)s of this payment can still be refunded.") % {"room": format_cents(room)},
                errors={"amount_cents": [_("At most %(room)s.") % {"room": format_cents(room)}]},
                extra={"refundable_cents": room},
            )
        recorded = ledger.entry_record(
            territory=locked.territory,
            idempotency_key=f"refund:{locked.pk}:{idempotency_key}",
            kind="fund.refund",
            legs=[
                (store_credit(locked.store), -credit_cents),
                (household_credit(locked.household), credit_cents),
            ],
            actor=actor,
        )
        Payment.objects.filter(pk=locked.pk).update(
            refunded_credit_cents=F("refunded_credit_cents") + credit_cents
        )
        return Refund.objects.create(
            payment=locked,
            credit_cents=credit_cents,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint(**request),
            entry=recorded.entry,
            cashier=actor,
        )
