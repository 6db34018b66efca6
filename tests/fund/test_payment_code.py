"""The personal code at the till (docs/decisions/0003-personal-code-cost.md): a keyed digest checked in microseconds,
codes stored before still accepted and stored again, the lockout after 5 wrong codes, on every payment path."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from django.utils import timezone, translation

from grenier.core.errors import Forbidden, InvalidInput
from grenier.fund import codes, services
from grenier.fund.models import Payment, PaymentCode

from .conftest import Fund


def _pay(fund: Fund, key: str, code: str | None) -> services.PaymentResult:
    return services.pay(
        store=fund.store,
        card=fund.cast.household.card_number,
        total_cents=100,
        idempotency_key=key,
        actor=None,
        code=code,
    )


def _stored(fund: Fund) -> PaymentCode:
    return PaymentCode.objects.get(household=fund.cast.household)


def test_a_code_is_stored_as_a_keyed_digest_that_the_database_alone_cannot_check(fund: Fund) -> None:
    services.payment_code_set(household=fund.cast.household, code="4821", actor=None)
    stored = _stored(fund).code_hash
    assert stored.startswith("hmac-sha256$") and "4821" not in stored
    card = fund.cast.household.card_number
    assert stored == codes.code_hash(card, "4821")
    with override_settings(SECRET_KEY="another installation's key", SECRET_KEY_FALLBACKS=[]):
        assert codes.code_hash(card, "4821") != stored  # without the key, trying codes finds nothing
    assert codes.code_hash(fund.cast.other_household.card_number, "4821") != stored  # salted by the card


def test_checking_a_code_costs_microseconds_not_a_quarter_second(fund: Fund) -> None:
    card = fund.cast.household.card_number
    stored = codes.code_hash(card, "4821")
    started = time.perf_counter()
    for _ in range(100):
        assert codes.code_matches(stored, card, "4821") == (True, None)
    assert (time.perf_counter() - started) / 100 < 0.005  # PBKDF2 with 1M iterations: about 0.25 s each


def test_right_and_wrong_codes_and_the_lockout(fund: Fund, payment_path: str) -> None:
    services.payment_code_set(household=fund.cast.household, code="4821", actor=None)
    with translation.override("en"), pytest.raises(InvalidInput) as missing:
        _pay(fund, "code-0001", None)
    assert missing.value.errors == {"code": ["The member types their code."]}
    with translation.override("en"), pytest.raises(InvalidInput) as wrong:
        _pay(fund, "code-0002", "0000")
    assert str(wrong.value.detail) == "Wrong code." and wrong.value.errors == {"code": ["Wrong code."]}
    assert _stored(fund).failed_attempts == 1
    assert _pay(fund, "code-0003", "4821").created
    assert _stored(fund).failed_attempts == 0  # a right code clears the count
    for attempt in range(4):
        with pytest.raises(InvalidInput):
            _pay(fund, f"lock-{attempt}-x", "1111")
    assert _stored(fund).locked_until is None  # 4 wrong codes: not locked yet
    with pytest.raises(InvalidInput):
        _pay(fund, "lock-4-x", "1111")
    assert _stored(fund).locked_until is not None  # the 5th locks
    with pytest.raises(Forbidden):  # locked, even with the right code
        _pay(fund, "lock-ok-x", "4821")
    with time_machine.travel(timezone.now() + services.CODE_LOCK + timedelta(seconds=1)):
        assert _pay(fund, "after-lock", "4821").created  # the lock ends by itself
    assert Payment.objects.count() == 2


def test_a_code_stored_before_still_works_and_is_stored_again(fund: Fund, payment_path: str) -> None:
    """A Django password hash (PBKDF2 in production; the test settings' fast hasher here) from before the change."""
    PaymentCode.objects.create(household=fund.cast.household, code_hash=make_password("4821"))
    with pytest.raises(InvalidInput):
        _pay(fund, "old-0001", "1234")
    assert _stored(fund).failed_attempts == 1 and not codes.is_keyed(_stored(fund).code_hash)
    assert _pay(fund, "old-0002", "4821").created
    stored = _stored(fund)
    assert stored.code_hash == codes.code_hash(fund.cast.household.card_number, "4821")
    assert stored.failed_attempts == 0
    assert _pay(fund, "old-0003", "4821").created  # and checked the new way from then on


def test_an_old_code_is_locked_out_too(fund: Fund, payment_path: str) -> None:
    PaymentCode.objects.create(household=fund.cast.household, code_hash=make_password("4821"))
    for attempt in range(5):
        with pytest.raises(InvalidInput):
            _pay(fund, f"old-lock-{attempt}", "9999")
    with pytest.raises(Forbidden):
        _pay(fund, "old-lock-ok", "4821")
    assert not codes.is_keyed(_stored(fund).code_hash)  # a locked card's code is not stored again


def test_a_code_stored_under_a_retired_key_works_and_moves_to_the_new_key(
    fund: Fund, payment_path: str
) -> None:
    services.payment_code_set(household=fund.cast.household, code="4821", actor=None)
    with override_settings(SECRET_KEY="the new key, after a rotation", SECRET_KEY_FALLBACKS=[services_key()]):
        assert _pay(fund, "rot-0001", "4821").created
        assert _stored(fund).code_hash == codes.code_hash(fund.cast.household.card_number, "4821")
        with pytest.raises(InvalidInput):
            _pay(fund, "rot-0002", "4822")
    with override_settings(SECRET_KEY="the new key, after a rotation", SECRET_KEY_FALLBACKS=[]):
        assert _pay(fund, "rot-0003", "4821").created  # stored under the new key: the old one can go


def services_key() -> str:
    from django.conf import settings

    return str(settings.SECRET_KEY)


def test_a_replayed_payment_does_not_ask_for_the_code_again(fund: Fund, payment_path: str) -> None:
    """The till retries a request it did not see answered: the payment recorded is the answer, code or not."""
    services.payment_code_set(household=fund.cast.household, code="4821", actor=None)
    first = _pay(fund, "retry-0001", "4821")
    again = _pay(fund, "retry-0001", None)
    assert not again.created and again.payment.pk == first.payment.pk
    assert again.remaining_credit_cents == first.remaining_credit_cents == 9_900
