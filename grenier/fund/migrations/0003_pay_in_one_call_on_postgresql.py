"""On PostgreSQL a payment at the till is one call: ``fund_pay(...)``, a PL/pgSQL function (issue 14).

It does what ``grenier.fund.services.pay`` does in Python, in the same order and with the same rules: the payment's
idempotency key, the amount, the store's approval, the card, the personal code (compared with the digests Python
sends, docs/decisions/0003; lockout counted in the row), the credit part, the household's and the store's credit
accounts (created when missing), a guarded debit, the ledger entry and its two postings, both balances, the payment
row. It never raises for a refusal: it answers an ``outcome`` (and what Python needs to say it), so a wrong code is
counted and kept like in Python, and Python raises the same errors with the same messages. Nothing in it is
invented here: ``services.pay`` is the reference, and the payment tests run on both paths.

On SQLite this migration does nothing (``pay`` stays in Python there).
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION fund_pay(
    p_territory bigint,          -- the store's territory
    p_store bigint,
    p_store_approved boolean,    -- as the caller's Store says (the Python path reads the same)
    p_coverage integer,          -- the store's coverage, percent
    p_card varchar,              -- the card number, normalised; NULL when it is not a well-formed one
    p_total bigint,              -- cents
    p_key varchar,               -- the payment's idempotency key (per store)
    p_fingerprint varchar,       -- of the request, stored with the key (core.idempotency)
    p_code_digests varchar[],    -- the code typed, digested under the current key then each fallback; NULL: none
    p_actor bigint,              -- the cashier, or NULL
    p_now timestamptz,           -- the caller's clock: the tests pin it
    p_code_attempts integer,     -- wrong codes that lock the card
    p_locked_until timestamptz   -- until when the card is locked if this code locks it
) RETURNS TABLE (
    outcome text,                -- paid | replayed | amount | store | card | locked | code-missing | code-wrong
                                 -- | code-stored-before | too-small | insufficient
    payment_id bigint,
    territory_id bigint,
    household_id bigint,
    total_cents bigint,
    credit_cents bigint,
    euro_cents bigint,
    refunded_credit_cents bigint,
    request_fingerprint varchar,
    entry_id bigint,
    cashier_id bigint,
    created_at timestamptz,
    balance_cents bigint         -- the household's credit after the payment (replayed, insufficient: now)
) LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    v_payment fund_payment%ROWTYPE;
    v_household bigint;
    v_code fund_paymentcode%ROWTYPE;
    v_credit bigint;
    v_wallet ledger_account%ROWTYPE;
    v_shop ledger_account%ROWTYPE;
    v_entry bigint;
    v_entry_key varchar := 'payment:' || p_store || ':' || p_key;
    v_balance bigint;
    v_recorded boolean;
BEGIN
    -- 1. The key: the same key again answers the payment it recorded (Python compares the fingerprints).
    SELECT * INTO v_payment FROM fund_payment p WHERE p.store_id = p_store AND p.idempotency_key = p_key;
    IF FOUND THEN
        RETURN QUERY SELECT 'replayed', v_payment.id, v_payment.territory_id, v_payment.household_id,
            v_payment.total_cents, v_payment.credit_cents, v_payment.euro_cents, v_payment.refunded_credit_cents,
            v_payment.request_fingerprint, v_payment.entry_id, v_payment.cashier_id, v_payment.created_at,
            COALESCE((SELECT a.balance_cents FROM ledger_account a WHERE a.territory_id = v_payment.territory_id
                      AND a.code = 'household:' || v_payment.household_id || ':credit'), 0);
        RETURN;
    END IF;
    -- 2. The request itself.
    IF p_total <= 0 THEN
        RETURN QUERY SELECT 'amount', NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::varchar, NULL::bigint, NULL::bigint, NULL::timestamptz,
            NULL::bigint;
        RETURN;
    END IF;
    IF NOT p_store_approved THEN
        RETURN QUERY SELECT 'store', NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::varchar, NULL::bigint, NULL::bigint, NULL::timestamptz,
            NULL::bigint;
        RETURN;
    END IF;
    IF p_card IS NOT NULL THEN
        SELECT h.id INTO v_household FROM core_household h
        WHERE h.territory_id = p_territory AND h.card_number = p_card AND h.left_on IS NULL;
    END IF;
    IF v_household IS NULL THEN
        RETURN QUERY SELECT 'card', NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::varchar, NULL::bigint, NULL::bigint, NULL::timestamptz,
            NULL::bigint;
        RETURN;
    END IF;
    -- 3. The personal code, if the household has one: a locked card, a missing code, one stored the old way (for
    --    Python to check), a right one (clears the count, stored again under the current key), a wrong one
    --    (counted in the row; the one that reaches p_code_attempts locks the card).
    SELECT * INTO v_code FROM fund_paymentcode c WHERE c.household_id = v_household;
    IF FOUND THEN
        IF v_code.locked_until IS NOT NULL AND v_code.locked_until > p_now THEN
            outcome := 'locked';
        ELSIF p_code_digests IS NULL THEN
            outcome := 'code-missing';
        ELSIF v_code.code_hash NOT LIKE 'hmac-sha256$%' THEN
            outcome := 'code-stored-before';
        ELSIF v_code.code_hash = ANY (p_code_digests) THEN
            IF v_code.failed_attempts <> 0 OR v_code.code_hash <> p_code_digests[1] THEN
                UPDATE fund_paymentcode c SET failed_attempts = 0, locked_until = NULL, code_hash = p_code_digests[1]
                WHERE c.id = v_code.id;
            END IF;
        ELSE
            UPDATE fund_paymentcode c SET failed_attempts = c.failed_attempts + 1,
                locked_until = CASE WHEN c.failed_attempts >= p_code_attempts - 1 THEN p_locked_until END
            WHERE c.id = v_code.id;
            outcome := 'code-wrong';
        END IF;
        IF outcome IS NOT NULL THEN
            RETURN QUERY SELECT outcome, NULL::bigint, NULL::bigint, v_household, NULL::bigint, NULL::bigint,
                NULL::bigint, NULL::bigint, NULL::varchar, NULL::bigint, NULL::bigint, NULL::timestamptz,
                NULL::bigint;
            RETURN;
        END IF;
    END IF;
    -- 4. The part in food credit: the coverage share, rounded down (p_total > 0, so division truncates down).
    v_credit := p_total * p_coverage / 100;
    IF v_credit <= 0 THEN
        RETURN QUERY SELECT 'too-small', NULL::bigint, NULL::bigint, v_household, NULL::bigint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::varchar, NULL::bigint, NULL::bigint, NULL::timestamptz,
            NULL::bigint;
        RETURN;
    END IF;
    -- 5. The accounts, created when missing (as fund.services.household_credit and store_credit do).
    INSERT INTO ledger_account (territory_id, code, name, unit, guarded, balance_cents, created_at)
    SELECT p_territory, c.code, '', 'CREDIT', c.guarded, 0, p_now
    FROM (VALUES ('household:' || v_household || ':credit', TRUE), ('store:' || p_store || ':credit', FALSE))
        AS c(code, guarded)
    WHERE NOT EXISTS (SELECT 1 FROM ledger_account a WHERE a.territory_id = p_territory AND a.code = c.code)
    ON CONFLICT ON CONSTRAINT ledger_account_code_once DO NOTHING;
    -- The race: two payments read the same balance and both spend it. The household's account is locked first
    -- (guarded accounts first: the ledger's one lock order), its balance read under the lock.
    SELECT * INTO v_wallet FROM ledger_account a
    WHERE a.territory_id = p_territory AND a.code = 'household:' || v_household || ':credit' FOR UPDATE;
    IF NOT FOUND OR v_wallet.unit <> 'CREDIT' OR NOT v_wallet.guarded THEN
        RAISE EXCEPTION 'Account % exists with unit % guarded=%', v_wallet.code, v_wallet.unit, v_wallet.guarded;
    END IF;
    SELECT * INTO v_shop FROM ledger_account a
    WHERE a.territory_id = p_territory AND a.code = 'store:' || p_store || ':credit';
    IF NOT FOUND OR v_shop.unit <> 'CREDIT' OR v_shop.guarded THEN
        RAISE EXCEPTION 'Account % exists with unit % guarded=%', v_shop.code, v_shop.unit, v_shop.guarded;
    END IF;
    -- The same key may have been recorded by a request that held the lock before this one: answer with it.
    SELECT * INTO v_payment FROM fund_payment p WHERE p.store_id = p_store AND p.idempotency_key = p_key;
    v_recorded := FOUND;
    IF NOT v_recorded AND v_wallet.balance_cents < v_credit THEN
        RETURN QUERY SELECT 'insufficient', NULL::bigint, NULL::bigint, v_household, NULL::bigint, NULL::bigint,
            NULL::bigint, NULL::bigint, NULL::varchar, NULL::bigint, NULL::bigint, NULL::timestamptz,
            v_wallet.balance_cents;
        RETURN;
    END IF;
    -- 6. The entry, once per key: a request with the same key for another household (holding another lock) may
    --    be writing it; this insert waits for it, then writes nothing, and the payment it recorded is the answer.
    IF NOT v_recorded THEN
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
        END IF;
    END IF;
    IF v_entry IS NULL THEN
        RETURN QUERY SELECT 'replayed', v_payment.id, v_payment.territory_id, v_payment.household_id,
            v_payment.total_cents, v_payment.credit_cents, v_payment.euro_cents, v_payment.refunded_credit_cents,
            v_payment.request_fingerprint, v_payment.entry_id, v_payment.cashier_id, v_payment.created_at,
            COALESCE((SELECT a.balance_cents FROM ledger_account a WHERE a.territory_id = v_payment.territory_id
                      AND a.code = 'household:' || v_payment.household_id || ':credit'), 0);
        RETURN;
    END IF;
    -- 7. Postings, then balances in the ledger's order (the household's, guarded, then the store's, shared by every
    --    payment at the store: locked last, for the shortest time), then the payment row.
    INSERT INTO ledger_posting (entry_id, account_id, unit, amount_cents)
    VALUES (v_entry, v_wallet.id, 'CREDIT', -v_credit), (v_entry, v_shop.id, 'CREDIT', v_credit);
    UPDATE ledger_account a SET balance_cents = a.balance_cents - v_credit
    WHERE a.id = v_wallet.id AND a.balance_cents >= v_credit
    RETURNING a.balance_cents INTO v_balance;
    IF v_balance IS NULL THEN  -- cannot happen under the lock; the ledger's rule, kept anyway
        RAISE EXCEPTION 'guarded account % would go below zero', v_wallet.code;
    END IF;
    UPDATE ledger_account a SET balance_cents = a.balance_cents + v_credit WHERE a.id = v_shop.id;
    INSERT INTO fund_payment (territory_id, store_id, household_id, total_cents, credit_cents, euro_cents,
        refunded_credit_cents, idempotency_key, request_fingerprint, entry_id, cashier_id, created_at)
    VALUES (p_territory, p_store, v_household, p_total, v_credit, p_total - v_credit, 0, p_key, p_fingerprint,
        v_entry, p_actor, p_now)
    RETURNING * INTO v_payment;
    RETURN QUERY SELECT 'paid', v_payment.id, v_payment.territory_id, v_payment.household_id,
        v_payment.total_cents, v_payment.credit_cents, v_payment.euro_cents, v_payment.refunded_credit_cents,
        v_payment.request_fingerprint, v_payment.entry_id, v_payment.cashier_id, v_payment.created_at,
        v_balance;
END;
$fn$;
"""

DROP = """
DROP FUNCTION IF EXISTS fund_pay(bigint, bigint, boolean, integer, varchar, bigint, varchar, varchar, varchar[],
    bigint, timestamptz, integer, timestamptz);
"""


class OnPostgreSQL(migrations.RunSQL):
    """``RunSQL`` that runs on PostgreSQL only: elsewhere the migration is recorded and does nothing."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("fund", "0002_request_fingerprint"), ("ledger", "0003_refuse_truncate_on_postgresql")]
    operations = [OnPostgreSQL(FUNCTION, DROP)]
