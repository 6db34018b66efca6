"""Every write of the common fund. Pages, API and CLI call these; each moves money only through the ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from grenier.core.cards import normalise_card_number
from grenier.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Household, HouseholdPerson, Territory, User
from grenier.core.money import format_cents
from grenier.core.months import first_of_month, last_of_month, month_name
from grenier.core.services import audit
from grenier.fund import codes, rules
from grenier.fund.models import (
    AllocationRule,
    CarryOver,
    ContributionChoice,
    ContributionScale,
    Funder,
    FunderKind,
    Grant,
    MonthLine,
    MonthlyRun,
    Payment,
    PaymentCode,
    Refund,
    Settlement,
    SettlementStatus,
    Store,
    StoreStatus,
)
from grenier.ledger import services as ledger
from grenier.ledger.errors import InsufficientBalance
from grenier.ledger.models import Account, Unit

FUND_EUR = "fund:eur"
CONTRIBUTIONS = "external:contributions"
GRANTS = "external:grants"
STORES_PAID = "external:stores"
CREDIT_ISSUER = "fund:credit-issued"
CODE_ATTEMPTS = 5
CODE_LOCK = timedelta(minutes=15)


# --- accounts ----------------------------------------------------------------------------------------------------


def fund_account(territory: Territory) -> Account:
    return ledger.account_ensure(
        territory=territory, code=FUND_EUR, unit=Unit.EUR, guarded=True, name="Caisse (euros)"
    )


def _external(territory: Territory, code: str) -> Account:
    return ledger.account_ensure(territory=territory, code=code, unit=Unit.EUR)


def credit_issuer(territory: Territory) -> Account:
    return ledger.account_ensure(
        territory=territory, code=CREDIT_ISSUER, unit=Unit.CREDIT, name="Crédit émis"
    )


def household_credit_code(household_id: int) -> str:
    return f"household:{household_id}:credit"


def household_credit(household: Household) -> Account:
    return ledger.account_ensure(
        territory=household.territory,
        code=household_credit_code(household.pk),
        unit=Unit.CREDIT,
        guarded=True,
    )


def _store_credit_code(store_id: int) -> str:
    return f"store:{store_id}:credit"


def store_credit(store: Store) -> Account:
    # Not guarded: a refund after the month was settled leaves the store owing credit, netted next settlement.
    return ledger.account_ensure(
        territory=store.territory, code=_store_credit_code(store.pk), unit=Unit.CREDIT
    )


# --- rules -------------------------------------------------------------------------------------------------------


def scale_set(
    *,
    territory: Territory,
    effective_month: date,
    brackets: Sequence[Sequence[int | None]],
    minimum_cents: int = 100,
    free_choice: bool = True,
    actor: User | None,
    decided_by: str = "",
) -> ContributionScale:
    """A new version of the contribution scale, from ``effective_month`` on. One version per month: setting the
    same month again replaces it only while no run has used it."""
    problems = rules.validate_brackets(brackets)
    if minimum_cents < 0:
        problems.append(_("The minimum cannot be negative."))
    if problems:
        raise InvalidInput(_("The scale is not valid."), errors={"brackets": problems})
    month = first_of_month(effective_month)
    with transaction.atomic():
        if (
            MonthlyRun.objects.filter(territory=territory, month__gte=month).exists()
            and ContributionScale.objects.filter(territory=territory, effective_month=month).exists()
        ):
            raise Conflict(
                _("A monthly run already used the scale of this month; set it from a later month.")
            )
        scale, _created = ContributionScale.objects.update_or_create(
            territory=territory,
            effective_month=month,
            defaults={
                "brackets": [list(b) for b in brackets],
                "minimum_cents": minimum_cents,
                "free_choice": free_choice,
                "decided_by": decided_by,
                "created_by": actor,
            },
        )
        audit(
            territory=territory,
            actor=actor,
            action="fund.scale",
            subject=f"scale:{scale.pk}",
            month=f"{month:%Y-%m}",
        )
    return scale


def allocation_rule_set(
    *,
    territory: Territory,
    effective_month: date,
    base_cents: int,
    per_additional_person_cents: int = 0,
    per_child_cents: int = 0,
    child_age_limit: int = 14,
    carry_over: CarryOver = CarryOver.KEEP,
    carry_over_cap_cents: int = 0,
    actor: User | None,
    decided_by: str = "",
) -> AllocationRule:
    errors: dict[str, list[str]] = {}
    for name, value in [
        ("base_cents", base_cents),
        ("per_additional_person_cents", per_additional_person_cents),
        ("per_child_cents", per_child_cents),
        ("carry_over_cap_cents", carry_over_cap_cents),
    ]:
        if value < 0:
            errors[name] = [_("Cannot be negative.")]
    if not 1 <= child_age_limit <= 25:
        errors["child_age_limit"] = [_("Between 1 and 25 years.")]
    if carry_over == CarryOver.CAP and carry_over_cap_cents <= 0:
        errors["carry_over_cap_cents"] = [_("A cap is needed when unspent credit is kept up to a cap.")]
    if errors:
        raise InvalidInput(_("The allocation rule is not valid."), errors=errors)
    month = first_of_month(effective_month)
    with transaction.atomic():
        if (
            MonthlyRun.objects.filter(territory=territory, month__gte=month).exists()
            and AllocationRule.objects.filter(territory=territory, effective_month=month).exists()
        ):
            raise Conflict(_("A monthly run already used the rule of this month; set it from a later month."))
        rule, _created = AllocationRule.objects.update_or_create(
            territory=territory,
            effective_month=month,
            defaults={
                "base_cents": base_cents,
                "per_additional_person_cents": per_additional_person_cents,
                "per_child_cents": per_child_cents,
                "child_age_limit": child_age_limit,
                "carry_over": carry_over,
                "carry_over_cap_cents": carry_over_cap_cents,
                "decided_by": decided_by,
                "created_by": actor,
            },
        )
        audit(
            territory=territory,
            actor=actor,
            action="fund.allocation",
            subject=f"rule:{rule.pk}",
            month=f"{month:%Y-%m}",
        )
    return rule


def scale_for(territory: Territory, month: date) -> ContributionScale | None:
    return (
        ContributionScale.objects.filter(territory=territory, effective_month__lte=first_of_month(month))
        .order_by("-effective_month")
        .first()
    )


def rule_for(territory: Territory, month: date) -> AllocationRule | None:
    return (
        AllocationRule.objects.filter(territory=territory, effective_month__lte=first_of_month(month))
        .order_by("-effective_month")
        .first()
    )


def contribution_choose(
    *, household: Household, amount_cents: int, effective_month: date, actor: User | None
) -> ContributionChoice:
    """The household chooses its monthly contribution (self-assessed), at or above the minimum."""
    month = first_of_month(effective_month)
    scale = scale_for(household.territory, month)
    if scale is None:
        raise Conflict(_("No contribution scale is set for this month yet."))
    if amount_cents < scale.minimum_cents:
        raise InvalidInput(
            _("The contribution is at least the minimum."),
            errors={"amount_cents": [_("At least %(min)s cents.") % {"min": scale.minimum_cents}]},
        )
    if not scale.free_choice:
        suggested = suggested_for(household, month, scale)
        if amount_cents != suggested:
            raise InvalidInput(
                _("This fund asks the suggested contribution."),
                errors={"amount_cents": [_("Choose the suggested amount.")]},
            )
    choice, _created = ContributionChoice.objects.update_or_create(
        household=household, effective_month=month, defaults={"amount_cents": amount_cents}
    )
    audit(
        territory=household.territory,
        actor=actor,
        action="fund.contribution.choose",
        subject=f"household:{household.pk}",
    )
    return choice


def suggested_for(household: Household, month: date, scale: ContributionScale) -> int:
    comp = rules.composition(list(household.persons.all()), first_of_month(month))
    return rules.suggested_contribution_cents(
        brackets=scale.brackets,
        minimum_cents=scale.minimum_cents,
        resources_cents=household.monthly_resources_cents,
        units_x10=comp.units_x10,
    )


def payment_code_set(*, household: Household, code: str, actor: User | None) -> None:
    """The household's personal code for paying at the till: 4 to 6 digits, stored as a keyed digest (``codes``)."""
    if not (code.isdigit() and 4 <= len(code) <= 6):
        raise InvalidInput(_("The code is 4 to 6 digits."), errors={"code": [_("4 to 6 digits.")]})
    PaymentCode.objects.update_or_create(
        household=household,
        defaults={
            "code_hash": codes.code_hash(household.card_number, code),
            "failed_attempts": 0,
            "locked_until": None,
        },
    )
    audit(
        territory=household.territory,
        actor=actor,
        action="fund.code.set",
        subject=f"household:{household.pk}",
    )


# --- stores --------------------------------------------------------------------------------------------------------


def store_create(
    *, territory: Territory, name: str, address: str = "", kind: str = "", actor: User | None
) -> Store:
    if not name.strip():
        raise InvalidInput(_("A store needs a name."), errors={"name": [_("This field is required.")]})
    store, _created = Store.objects.get_or_create(
        territory=territory, name=name.strip(), defaults={"address": address, "kind": kind}
    )
    return store


def store_approve(
    *, store: Store, coverage_percent: int = 100, on: date | None = None, actor: User | None
) -> Store:
    """Approve a point of sale: from now on it takes food-credit payments, covering ``coverage_percent`` of a purchase."""
    if not 1 <= coverage_percent <= 100:
        raise InvalidInput(
            _("Coverage is between 1 and 100 %."), errors={"coverage_percent": [_("Between 1 and 100.")]}
        )
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        locked.status = StoreStatus.APPROVED
        locked.approved_on = on or timezone.localdate()
        locked.suspended_on = None
        locked.coverage_percent = coverage_percent
        locked.save(update_fields=["status", "approved_on", "suspended_on", "coverage_percent"])
        audit(
            territory=locked.territory, actor=actor, action="fund.store.approve", subject=f"store:{locked.pk}"
        )
    return locked


def store_suspend(*, store: Store, on: date | None = None, actor: User | None) -> Store:
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        locked.status = StoreStatus.SUSPENDED
        locked.suspended_on = on or timezone.localdate()
        locked.save(update_fields=["status", "suspended_on"])
        audit(
            territory=locked.territory, actor=actor, action="fund.store.suspend", subject=f"store:{locked.pk}"
        )
    return locked


def store_cashier_add(*, store: Store, user: User, actor: User | None) -> None:
    from grenier.core.models import Role
    from grenier.core.services import role_grant

    store.cashiers.add(user)
    role_grant(user=user, territory=store.territory, role=Role.CASHIER, actor=actor)


# --- payments ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    remaining_credit_cents: int
    created: bool


def household_by_card(territory: Territory, card: str) -> Household:
    number = normalise_card_number(card)
    household = (
        Household.objects.filter(territory=territory, card_number=number, left_on__isnull=True).first()
        if number
        else None
    )
    if household is None:
        raise _card_unknown()
    return household


# The refusals of a payment, one place for each message: the Python path and the database's path raise these.


def _card_unknown() -> NotFound:
    return NotFound(_("No member household has this card number."))


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


def _not_enough_credit(remaining: int) -> Conflict:
    return Conflict(
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


# Whether PostgreSQL takes payments in one call (``fund_pay``, migration fund 0003); the payment tests also run the
# Python path on PostgreSQL by turning it off.
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
    ``fund.0003``: key, card, code, accounts, guarded debit, entry, postings, payment row); elsewhere the same steps
    in Python (``_pay_in_python``). Both answer the same refusals, with the same messages."""
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
            "card": _card_unknown,
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
    existing = (
        Payment.objects.filter(store=store, idempotency_key=idempotency_key)
        .select_related("household")
        .first()
    )
    if existing is not None:
        replayed(existing, key=idempotency_key, **request)
        return PaymentResult(existing, _credit_of(existing.household), created=False)
    if not isinstance(total_cents, int) or total_cents <= 0:
        raise _amount_not_positive()
    if not store.is_approved:
        raise _store_not_approved()
    household = household_by_card(store.territory, card)
    _check_code(household, code)
    credit = credit_part(total_cents, store.coverage_percent)
    if credit <= 0:
        raise _amount_too_small()
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


# --- monthly run ---------------------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    month: date
    households: int = 0
    processed_now: int = 0
    credit_issued_cents: int = 0
    contributions_due_cents: int = 0
    contributions_paid_cents: int = 0
    returned_cents: int = 0
    finished: bool = False


Progress = Callable[[int, int], None]


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first instant of ``month`` and of the next one, in the territory's time zone (Europe/Paris)."""
    start = timezone.make_aware(datetime.combine(first_of_month(month), time.min))
    end = timezone.make_aware(datetime.combine(last_of_month(month) + timedelta(days=1), time.min))
    return start, end


def active_households(territory: Territory, month: date) -> QuerySet[Household]:
    """Households that are in the common fund during ``month``: in it by its end, not left before it began."""
    start, end = first_of_month(month), last_of_month(month)
    return Household.objects.filter(territory=territory, fund_joined_on__lte=end).filter(
        Q(left_on__isnull=True) | Q(left_on__gt=start)
    )


def monthly_run(
    *,
    territory: Territory,
    month: date,
    actor: User | None,
    progress: Progress | None = None,
    batch_size: int = 500,
) -> RunSummary:
    """Run the month: for each active household, apply the carry-over policy to last month's unspent credit, record
    its contribution due and paid (euros), and issue its allocation (food credit).

    Safe to run twice (nothing changes) and to run again after a crash (it completes what is missing): each
    household's line and entries are written together, once, under a unique constraint.
    """
    month = first_of_month(month)
    scale, rule = _run_rules(territory, month)
    run, _created = MonthlyRun.objects.get_or_create(
        territory=territory, month=month, defaults={"started_by": actor}
    )
    households = active_households(territory, month).order_by("pk")
    ids = list(households.values_list("pk", flat=True))
    done = set(MonthLine.objects.filter(run=run).values_list("household_id", flat=True))
    todo = [pk for pk in ids if pk not in done]
    total = len(ids)
    summary = RunSummary(month=month, households=total)
    fund_eur = fund_account(territory)
    contributions = _external(territory, CONTRIBUTIONS)
    issuer = credit_issuer(territory)
    # A household's composition depends only on its persons' birth dates and child flags: many share one.
    compositions: dict[PersonsKey, rules.Composition] = {}
    if progress:
        progress(len(done), total)
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        with transaction.atomic():
            MonthlyRun.objects.select_for_update().get(pk=run.pk)  # two runs of the same month take turns
            fresh = set(chunk) - set(
                MonthLine.objects.filter(run=run, household_id__in=chunk).values_list(
                    "household_id", flat=True
                )
            )
            # Plain values, not model instances: the run reads a few columns of many rows.
            batch = list(
                Household.objects.filter(pk__in=fresh)
                .order_by("pk")
                .values_list("pk", "monthly_resources_cents")
            )
            persons: dict[int, list[tuple[date | None, bool]]] = {pk: [] for pk, _resources in batch}
            for household_id, birth_date, is_child in (
                HouseholdPerson.objects.filter(household_id__in=fresh)
                .order_by("household_id", "id")
                .values_list("household_id", "birth_date", "is_child")
            ):
                persons[household_id].append((birth_date, is_child))
            chosen = chosen_contributions(fresh, month)
            wallets = _wallets(territory, [pk for pk, _resources in batch])
            lines = _month_lines(
                month,
                scale,
                rule,
                [(pk, resources, wallets[pk].balance_cents) for pk, resources in batch],
                persons,
                chosen,
                compositions,
            )
            specs: list[ledger.EntrySpec] = []
            for household_id, due, allocation, returned in lines:
                wallet = wallets[household_id]
                key = f"run:{month:%Y-%m}:{household_id}"
                if returned:
                    specs.append(
                        ledger.EntrySpec(
                            f"{key}:return", "fund.return", [(wallet, -returned), (issuer, returned)]
                        )
                    )
                if due:
                    specs.append(
                        ledger.EntrySpec(
                            f"{key}:contribution",
                            "fund.contribution",
                            [(contributions, -due), (fund_eur, due)],
                        )
                    )
                if allocation:
                    specs.append(
                        ledger.EntrySpec(
                            f"{key}:allocation",
                            "fund.allocation",
                            [(issuer, -allocation), (wallet, allocation)],
                        )
                    )
                summary.credit_issued_cents += allocation
                summary.contributions_due_cents += due
                summary.contributions_paid_cents += due
                summary.returned_cents += returned
            ledger.entries_record_batch(territory=territory, specs=specs, actor=actor)
            _month_lines_insert(run, month, lines)
            summary.processed_now += len(lines)
        if progress:
            progress(len(done) + start + len(chunk), total)
    with transaction.atomic():
        if run.finished_at is None:
            MonthlyRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(finished_at=timezone.now())
            audit(
                territory=territory,
                actor=actor,
                action="fund.run",
                subject=f"run:{run.pk}",
                month=f"{month:%Y-%m}",
            )
    summary.finished = True
    totals = MonthLine.objects.filter(run=run).aggregate(
        issued=Sum("allocation_cents"),
        due=Sum("contribution_due_cents"),
        paid=Sum("contribution_paid_cents"),
        ret=Sum("returned_cents"),
    )
    summary.credit_issued_cents = totals["issued"] or 0
    summary.contributions_due_cents = totals["due"] or 0
    summary.contributions_paid_cents = totals["paid"] or 0
    summary.returned_cents = totals["ret"] or 0
    return summary


def _run_rules(territory: Territory, month: date) -> tuple[ContributionScale, AllocationRule]:
    """The rules a run of ``month`` (its first day) applies; refused for a month that has not begun, or without rules.

    A month is run once it has begun, so credit is never spendable before its month: the fund's rules have no
    decision to pay in advance, so nobody (page, API or command line) can run a future month.
    """
    today = timezone.localdate()
    if month > first_of_month(today):
        raise InvalidInput(
            _(
                "%(month)s has not begun: a month is run from its first day, %(first)s. Paying in advance is not in the fund's rules."
            )
            % {"month": month_name(month), "first": date_format(month, "j F Y")},
            errors={"month": [_("This month has not begun.")]},
        )
    scale = scale_for(territory, month)
    rule = rule_for(territory, month)
    if scale is None or rule is None:
        raise Conflict(_("Set a contribution scale and an allocation rule for this month before running it."))
    return scale, rule


PersonsKey = tuple[tuple[date | None, bool], ...]


def _month_lines(
    month: date,
    scale: ContributionScale,
    rule: AllocationRule,
    households: Sequence[tuple[int, int | None, int]],
    persons: dict[int, list[tuple[date | None, bool]]],
    chosen: dict[int, int],
    compositions: dict[PersonsKey, rules.Composition],
) -> list[tuple[int, int, int, int]]:
    """What the run does for each household, from (id, monthly resources, credit balance): (id, contribution due and
    paid, allocation, credit returned). The run and its preview both compute it here, so the preview is the run."""
    lines = []
    for household_id, resources_cents, balance_cents in households:
        people = tuple(persons.get(household_id, ()))
        comp = compositions.get(people)
        if comp is None:
            comp = rules.composition(
                [HouseholdPerson(birth_date=born, is_child=child) for born, child in people],
                month,
                rule.child_age_limit,
            )
            compositions[people] = comp
        returned = _carry_over_return(rule, balance_cents)
        due = _contribution_due(resources_cents, scale, comp, chosen.get(household_id))
        allocation = rules.allocation_cents(
            base_cents=rule.base_cents,
            per_additional_person_cents=rule.per_additional_person_cents,
            per_child_cents=rule.per_child_cents,
            composition=comp,
        )
        lines.append((household_id, due, allocation, returned))
    return lines


def run_preview(*, territory: Territory, month: date) -> RunSummary:
    """What running ``month`` would do now, written nowhere: ``households`` active, ``processed_now`` still to run,
    and the credit, contributions and returned credit of those. Refused as the run is (a future month, no rules)."""
    month = first_of_month(month)
    scale, rule = _run_rules(territory, month)
    ids = list(active_households(territory, month).order_by("pk").values_list("pk", flat=True))
    done = set(
        MonthLine.objects.filter(run__territory=territory, month=month).values_list("household_id", flat=True)
    )
    todo = {pk for pk in ids if pk not in done}
    summary = RunSummary(month=month, households=len(ids), processed_now=len(todo))
    persons: dict[int, list[tuple[date | None, bool]]] = {}
    for household_id, birth_date, is_child in (
        HouseholdPerson.objects.filter(household_id__in=todo)
        .order_by("household_id", "id")
        .values_list("household_id", "birth_date", "is_child")
    ):
        persons.setdefault(household_id, []).append((birth_date, is_child))
    balances = dict(
        Account.objects.filter(
            territory=territory, code__in=[household_credit_code(pk) for pk in todo]
        ).values_list("code", "balance_cents")
    )
    rows = [
        (pk, resources, balances.get(household_credit_code(pk), 0))
        for pk, resources in Household.objects.filter(pk__in=todo)
        .order_by("pk")
        .values_list("pk", "monthly_resources_cents")
    ]
    chosen = chosen_contributions(todo, month)
    for _household, due, allocation, returned in _month_lines(month, scale, rule, rows, persons, chosen, {}):
        summary.credit_issued_cents += allocation
        summary.contributions_due_cents += due
        summary.contributions_paid_cents += due
        summary.returned_cents += returned
    return summary


def _wallets(territory: Territory, household_ids: Sequence[int]) -> dict[int, Account]:
    """Each household's credit account, created if missing, locked for the run's transaction."""
    codes = {household_credit_code(pk): pk for pk in household_ids}
    existing = _locked_accounts(territory, codes)
    missing = [code for code in codes if code not in existing]
    if missing:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {connection.ops.quote_name(Account._meta.db_table)} "  # noqa: S608 - our table name
                    "(territory_id, code, name, unit, guarded, balance_cents, created_at) "
                    "SELECT %s, code, '', %s, TRUE, 0, %s FROM unnest(%s::varchar[]) AS code "
                    "ON CONFLICT (territory_id, code) DO NOTHING",
                    [territory.pk, Unit.CREDIT.value, timezone.now(), missing],
                )
        else:
            Account.objects.bulk_create(
                [Account(territory=territory, code=code, unit=Unit.CREDIT, guarded=True) for code in missing],
                ignore_conflicts=True,
            )
        existing = _locked_accounts(territory, codes)
    return {codes[code]: account for code, account in existing.items()}


def _locked_accounts(territory: Territory, codes: Iterable[str]) -> dict[str, Account]:
    return {
        account.code: account
        for account in Account.objects.select_for_update()
        .filter(territory=territory, code__in=list(codes))
        .order_by("pk")
    }


def _month_lines_insert(run: MonthlyRun, month: date, rows: Sequence[tuple[int, int, int, int]]) -> None:
    """The batch's month lines, from (household id, contribution due and paid, allocation, returned): on PostgreSQL
    one ``INSERT … SELECT FROM unnest(arrays)``, elsewhere ``bulk_create``."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        MonthLine.objects.bulk_create(
            MonthLine(
                run=run,
                household_id=household_id,
                month=month,
                contribution_due_cents=due,
                contribution_paid_cents=due,
                allocation_cents=allocation,
                returned_cents=returned,
            )
            for household_id, due, allocation, returned in rows
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(MonthLine._meta.db_table)} "  # noqa: S608 - our table name
            "(run_id, household_id, month, contribution_due_cents, contribution_paid_cents, allocation_cents, "
            "returned_cents) SELECT %s, u.household_id, %s, u.due, u.due, u.allocation, u.returned "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) "
            "AS u(household_id, due, allocation, returned)",
            [run.pk, month, *([row[i] for row in rows] for i in range(4))],
        )


def _carry_over_return(rule: AllocationRule, balance_cents: int) -> int:
    if balance_cents <= 0 or rule.carry_over == CarryOver.KEEP:
        return 0
    if rule.carry_over == CarryOver.RETURN:
        return balance_cents
    return max(0, balance_cents - rule.carry_over_cap_cents)


def chosen_contributions(household_ids: set[int], month: date) -> dict[int, int]:
    """The latest contribution each household chose, effective at ``month``."""
    latest: dict[int, int] = {}
    for household_id, amount in (
        ContributionChoice.objects.filter(household_id__in=household_ids, effective_month__lte=month)
        .order_by("household_id", "effective_month")
        .values_list("household_id", "amount_cents")
    ):
        latest[household_id] = amount
    return latest


def _contribution_due(
    resources_cents: int | None, scale: ContributionScale, comp: rules.Composition, chosen: int | None
) -> int:
    if chosen is not None:
        return max(chosen, scale.minimum_cents)
    return rules.suggested_contribution_cents(
        brackets=scale.brackets,
        minimum_cents=scale.minimum_cents,
        resources_cents=resources_cents,
        units_x10=comp.units_x10,
    )


# --- settlements and grants ----------------------------------------------------------------------------------------


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
