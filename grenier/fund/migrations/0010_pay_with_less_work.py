"""``fund_pay`` (migration 0003) does less work on the common path (issue 14): same signature, same outcomes.

Measured statement by statement (pg_stat_statements with ``track = all``) and by instructions (the backend under
callgrind), a payment's backend CPU went partly to statements that a payment by a household whose accounts exist
does not need. This version:

* reads the household's account under its lock, then the store's, and creates an account only when it is missing
  (0003 ran an ``INSERT ... WHERE NOT EXISTS ... ON CONFLICT DO NOTHING`` for both on every payment), then reads it
  again; the lock order stays the ledger's (the household's account, then the store's);
* does not read the payment's key a second time after the lock when the credit suffices: a request with the same
  key that held the lock before this one wrote the payment's ledger entry, so the entry's insert finds it
  (``ON CONFLICT DO NOTHING`` answers no row) and the payment it recorded is the answer, as in 0003. When the credit
  does not suffice the key is read again before answering ``insufficient``, as in 0003 (the request that recorded it
  may have spent that credit);
* updates both balances in one statement: each statement writing ``ledger_account`` prepares its two check
  constraints again, and the household's account is already locked, so the store's is still the one row it locks;
* reads only the columns it uses, and answers by assigning its ``OUT`` columns (no ``RETURN QUERY SELECT``).

Its signature and columns are 0003's, taken from it. On SQLite this migration does nothing (``pay`` stays in Python
there). Backwards, 0003's function again.
"""

import importlib

from django.db import migrations

_BEFORE = importlib.import_module("grenier.fund.migrations.0003_pay_in_one_call_on_postgresql")

# CREATE OR REPLACE FUNCTION fund_pay(...) RETURNS TABLE (...) LANGUAGE plpgsql AS $fn$ #variable_conflict use_column
_SIGNATURE = _BEFORE.FUNCTION[: _BEFORE.FUNCTION.index("DECLARE")]

_BODY = r"""DECLARE
    v_payment fund_payment%ROWTYPE;  -- the payment recorded under the key, when it is the answer
    v_household bigint;
    v_code_id bigint;
    v_code_hash varchar;
    v_code_failed integer;
    v_code_locked timestamptz;
    v_credit bigint;
    v_wallet_code varchar;
    v_wallet bigint;
    v_wallet_unit varchar;
    v_wallet_guarded boolean;
    v_wallet_balance bigint;
    v_wallet_created boolean := FALSE;
    v_shop_code varchar := 'store:' || p_store || ':credit';
    v_shop bigint;
    v_shop_unit varchar;
    v_shop_guarded boolean;
    v_entry bigint;
    v_entry_key varchar := 'payment:' || p_store || ':' || p_key;
    v_balance bigint;
BEGIN
    <<paying>>
    BEGIN
        -- 1. The key: the same key again answers the payment it recorded (Python compares the fingerprints).
        SELECT * INTO v_payment FROM fund_payment p WHERE p.store_id = p_store AND p.idempotency_key = p_key;
        IF FOUND THEN
            EXIT paying;
        END IF;
        -- 2. The request itself.
        IF p_total <= 0 THEN
            outcome := 'amount';
            RETURN NEXT;
            RETURN;
        END IF;
        IF NOT p_store_approved THEN
            outcome := 'store';
            RETURN NEXT;
            RETURN;
        END IF;
        IF p_card IS NOT NULL THEN
            SELECT h.id INTO v_household FROM core_household h
            WHERE h.territory_id = p_territory AND h.card_number = p_card AND h.left_on IS NULL;
        END IF;
        IF v_household IS NULL THEN
            outcome := 'card';
            RETURN NEXT;
            RETURN;
        END IF;
        household_id := v_household;
        -- 3. The personal code, if the household has one: a locked card, a missing code, one stored the old way (for
        --    Python to check), a right one (clears the count, stored again under the current key), a wrong one
        --    (counted in the row; the one that reaches p_code_attempts locks the card).
        SELECT c.id, c.code_hash, c.failed_attempts, c.locked_until
        INTO v_code_id, v_code_hash, v_code_failed, v_code_locked
        FROM fund_paymentcode c WHERE c.household_id = v_household;
        IF FOUND THEN
            IF v_code_locked IS NOT NULL AND v_code_locked > p_now THEN
                outcome := 'locked';
            ELSIF p_code_digests IS NULL THEN
                outcome := 'code-missing';
            ELSIF v_code_hash NOT LIKE 'hmac-sha256$%' THEN
                outcome := 'code-stored-before';
            ELSIF v_code_hash = ANY (p_code_digests) THEN
                IF v_code_failed <> 0 OR v_code_hash <> p_code_digests[1] THEN
                    UPDATE fund_paymentcode c
                    SET failed_attempts = 0, locked_until = NULL, code_hash = p_code_digests[1]
                    WHERE c.id = v_code_id;
                END IF;
            ELSE
                UPDATE fund_paymentcode c SET failed_attempts = c.failed_attempts + 1,
                    locked_until = CASE WHEN c.failed_attempts >= p_code_attempts - 1 THEN p_locked_until END
                WHERE c.id = v_code_id;
                outcome := 'code-wrong';
            END IF;
            IF outcome IS NOT NULL THEN
                RETURN NEXT;
                RETURN;
            END IF;
        END IF;
        -- 4. The part in food credit: the coverage share, rounded down (p_total > 0, so division truncates down).
        v_credit := p_total * p_coverage / 100;
        IF v_credit <= 0 THEN
            outcome := 'too-small';
            RETURN NEXT;
            RETURN;
        END IF;
        -- 5. The accounts. The race: two payments read the same balance and both spend it. The household's account
        --    is locked first (guarded accounts first: the ledger's one lock order), its balance read under the lock;
        --    the store's account is read, not locked (its balance is updated last, below).
        v_wallet_code := 'household:' || v_household || ':credit';
        LOOP
            SELECT w.id, w.unit, w.guarded, w.balance_cents
            INTO v_wallet, v_wallet_unit, v_wallet_guarded, v_wallet_balance
            FROM ledger_account w
            WHERE w.territory_id = p_territory AND w.code = v_wallet_code
            FOR UPDATE;
            EXIT WHEN v_wallet IS NOT NULL OR v_wallet_created;
            -- The household's first payment: its account is created (as fund.services.household_credit does; a
            -- request creating it at the same time makes this insert wait for it, then write nothing), then locked.
            INSERT INTO ledger_account (territory_id, code, name, unit, guarded, balance_cents, created_at)
            VALUES (p_territory, v_wallet_code, '', 'CREDIT', TRUE, 0, p_now)
            ON CONFLICT ON CONSTRAINT ledger_account_code_once DO NOTHING;
            v_wallet_created := TRUE;
        END LOOP;
        IF v_wallet IS NULL OR v_wallet_unit <> 'CREDIT' OR NOT v_wallet_guarded THEN
            RAISE EXCEPTION 'Account % exists with unit % guarded=%', v_wallet_code, v_wallet_unit, v_wallet_guarded;
        END IF;
        SELECT s.id, s.unit, s.guarded INTO v_shop, v_shop_unit, v_shop_guarded FROM ledger_account s
        WHERE s.territory_id = p_territory AND s.code = v_shop_code;
        IF v_shop IS NULL THEN
            -- The store's first payment: its account is created (as fund.services.store_credit does).
            INSERT INTO ledger_account (territory_id, code, name, unit, guarded, balance_cents, created_at)
            VALUES (p_territory, v_shop_code, '', 'CREDIT', FALSE, 0, p_now)
            ON CONFLICT ON CONSTRAINT ledger_account_code_once DO NOTHING;
            SELECT s.id, s.unit, s.guarded INTO v_shop, v_shop_unit, v_shop_guarded FROM ledger_account s
            WHERE s.territory_id = p_territory AND s.code = v_shop_code;
        END IF;
        IF v_shop IS NULL OR v_shop_unit <> 'CREDIT' OR v_shop_guarded THEN
            RAISE EXCEPTION 'Account % exists with unit % guarded=%', v_shop_code, v_shop_unit, v_shop_guarded;
        END IF;
        IF v_wallet_balance < v_credit THEN
            -- The same key may have been recorded by a request that held the lock before this one (and spent this
            -- credit): answer with it.
            SELECT * INTO v_payment FROM fund_payment p WHERE p.store_id = p_store AND p.idempotency_key = p_key;
            IF FOUND THEN
                EXIT paying;
            END IF;
            outcome := 'insufficient';
            balance_cents := v_wallet_balance;
            RETURN NEXT;
            RETURN;
        END IF;
        -- 6. The entry, once per key: a request with the same key that held the lock before this one wrote it, or
        --    one for another household (holding another lock) may be writing it; this insert waits for it, then
        --    writes nothing, and the payment it recorded is the answer.
        INSERT INTO ledger_entry (territory_id, idempotency_key, kind, memo, actor_id, reverses_id, created_at)
        VALUES (p_territory, v_entry_key, 'fund.payment', '', p_actor, NULL, p_now)
        ON CONFLICT ON CONSTRAINT ledger_entry_key_once DO NOTHING
        RETURNING id INTO v_entry;
        IF v_entry IS NULL THEN
            SELECT p.* INTO v_payment FROM fund_payment p JOIN ledger_entry e ON e.id = p.entry_id
            WHERE e.territory_id = p_territory AND e.idempotency_key = v_entry_key;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'ledger entry % exists without its payment', v_entry_key;
            END IF;
            EXIT paying;
        END IF;
        -- 7. Postings, then both balances in one statement (the household's account is already locked, so the
        --    store's, shared by every payment at the store, is the only row it locks: last, for the shortest time;
        --    the ledger's order), then the payment row.
        INSERT INTO ledger_posting (entry_id, account_id, unit, amount_cents)
        VALUES (v_entry, v_wallet, 'CREDIT', -v_credit), (v_entry, v_shop, 'CREDIT', v_credit);
        WITH moved AS (
            UPDATE ledger_account a
            SET balance_cents = a.balance_cents + CASE WHEN a.id = v_wallet THEN -v_credit ELSE v_credit END
            WHERE a.id IN (v_wallet, v_shop) AND (a.id = v_shop OR a.balance_cents >= v_credit)
            RETURNING a.id, a.balance_cents
        ) SELECT m.balance_cents INTO v_balance FROM moved m WHERE m.id = v_wallet;
        IF v_balance IS NULL THEN  -- cannot happen under the lock; the ledger's rule, kept anyway
            RAISE EXCEPTION 'guarded account % would go below zero', v_wallet_code;
        END IF;
        INSERT INTO fund_payment (territory_id, store_id, household_id, total_cents, credit_cents, euro_cents,
            refunded_credit_cents, idempotency_key, request_fingerprint, entry_id, cashier_id, created_at)
        VALUES (p_territory, p_store, v_household, p_total, v_credit, p_total - v_credit, 0, p_key, p_fingerprint,
            v_entry, p_actor, p_now)
        RETURNING id, created_at INTO payment_id, created_at;
        outcome := 'paid';
        territory_id := p_territory; total_cents := p_total; credit_cents := v_credit;
        euro_cents := p_total - v_credit; refunded_credit_cents := 0; request_fingerprint := p_fingerprint;
        entry_id := v_entry; cashier_id := p_actor; balance_cents := v_balance;
        RETURN NEXT;
        RETURN;
    END;
    -- The key's payment, recorded before this call or by a request that held the lock before it: the answer.
    outcome := 'replayed';
    payment_id := v_payment.id; territory_id := v_payment.territory_id; household_id := v_payment.household_id;
    total_cents := v_payment.total_cents; credit_cents := v_payment.credit_cents; euro_cents := v_payment.euro_cents;
    refunded_credit_cents := v_payment.refunded_credit_cents; request_fingerprint := v_payment.request_fingerprint;
    entry_id := v_payment.entry_id; cashier_id := v_payment.cashier_id; created_at := v_payment.created_at;
    balance_cents := COALESCE((SELECT a.balance_cents FROM ledger_account a
        WHERE a.territory_id = v_payment.territory_id
          AND a.code = 'household:' || v_payment.household_id || ':credit'), 0);
    RETURN NEXT;
END;
$fn$;
"""
FUNCTION = _SIGNATURE + _BODY


class Migration(migrations.Migration):
    dependencies = [("fund", "0009_households_touched")]
    operations = [_BEFORE.OnPostgreSQL(FUNCTION, _BEFORE.FUNCTION)]
