"""A till's call reads its cashier's stores in its token's statement (``fund.access.stores_column``, through
``core.bearer.read_with_token``): no query of its own, and nothing kept from one call to the next — a cashier moved to
another store pays there at the next call, removed from every store is refused, a store's coverage changed a moment
ago applies at once; a store of another territory is none of the token's."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from grenier.core import services as core_services
from grenier.fund import access, services
from grenier.fund.models import Store

from ..core.test_api import assert_problem, post
from .conftest import Fund


def _pay(client: Client, headers: dict[str, str], fund: Fund, key: str, **extra: object) -> object:
    body = {
        "household": fund.cast.household.card_number,
        "amount_cents": 1_000,
        "idempotency_key": f"till-key-{key}",
        **extra,
    }
    return post(client, "/api/v1/payments", body, headers=headers)


def _token(fund: Fund) -> dict[str, str]:
    _token, key = core_services.token_create(user=fund.cast["cashier"], territory=fund.cast.territory)
    return {"Authorization": f"Bearer {key}"}


def _approved(fund: Fund, name: str, territory: object = None) -> Store:
    store = services.store_create(territory=territory or fund.cast.territory, name=name, actor=None)  # type: ignore[arg-type]
    return services.store_approve(store=store, actor=None)


def test_the_store_comes_with_the_token(fund: Fund, client: Client) -> None:
    headers = _token(fund)
    assert _pay(client, headers, fund, "first").status_code == 201  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as captured:
        response = _pay(client, headers, fund, "second")
    assert response.status_code == 201, response.content  # type: ignore[attr-defined]
    assert response.json()["store"] == fund.store.name  # type: ignore[attr-defined]
    through = Store.cashiers.through._meta.db_table
    first = captured.captured_queries[0]["sql"]  # the token's statement
    if connection.vendor == "postgresql":  # prepared on the connection at the first call: run by its name
        assert first.startswith("EXECUTE grenier_token_"), first
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [first.split()[1]])
            first = cursor.fetchone()[0]
    assert through in first
    assert not [q["sql"] for q in captured.captured_queries[1:] if through in q["sql"]]


def test_a_cashier_moved_to_another_store_pays_there_at_the_next_call(fund: Fund, client: Client) -> None:
    cashier = fund.cast["cashier"]
    headers = _token(fund)  # one token all along: nothing of the stores is kept from one call to the next
    assert _pay(client, headers, fund, "at-first").json()["store"] == fund.store.name  # type: ignore[attr-defined]
    other = _approved(fund, "Marché couvert")
    fund.store.cashiers.remove(cashier)
    services.store_cashier_add(store=other, user=cashier, actor=None)
    moved = _pay(client, headers, fund, "moved")
    assert moved.status_code == 201 and moved.json()["store"] == "Marché couvert"  # type: ignore[attr-defined]
    assert_problem(_pay(client, headers, fund, "old-store", store=fund.store.pk), 404)
    services.store_cashier_add(store=fund.store, user=cashier, actor=None)
    several = assert_problem(_pay(client, headers, fund, "several"), 422)
    assert [e["field"] for e in several["errors"]] == ["store"]
    chosen = _pay(client, headers, fund, "chosen", store=fund.store.pk)
    assert chosen.json()["store"] == fund.store.name  # type: ignore[attr-defined]
    fund.store.cashiers.remove(cashier)
    other.cashiers.remove(cashier)
    assert_problem(_pay(client, headers, fund, "no-store"), 403)  # the cashier's role, no store
    assert_problem(_pay(client, headers, fund, "no-store-named", store=other.pk), 404)


def test_a_store_changed_a_moment_ago_is_read_as_it_is_now(fund: Fund, client: Client) -> None:
    headers = _token(fund)
    assert _pay(client, headers, fund, "full").json()["credit_cents"] == 1_000  # type: ignore[attr-defined]
    Store.objects.filter(pk=fund.store.pk).update(coverage_percent=40)
    half = _pay(client, headers, fund, "part")
    assert half.json()["credit_cents"] == 400 and half.json()["euro_cents"] == 600  # type: ignore[attr-defined]
    services.store_suspend(store=fund.store, actor=None)
    assert_problem(_pay(client, headers, fund, "suspended"), 403)


def test_a_store_of_another_territory_is_not_the_tokens(fund: Fund, client: Client) -> None:
    cashier = fund.cast["cashier"]
    elsewhere = _approved(fund, "Boutique d'ailleurs", territory=fund.cast.elsewhere)
    services.store_cashier_add(store=elsewhere, user=cashier, actor=None)
    headers = _token(fund)
    assert _pay(client, headers, fund, "here").json()["store"] == fund.store.name  # type: ignore[attr-defined]
    assert_problem(_pay(client, headers, fund, "there", store=elsewhere.pk), 404)


def test_the_stores_read_with_the_token_are_those_the_orm_reads(fund: Fund) -> None:
    cashier = fund.cast["cashier"]
    second = _approved(fund, 'Marché « couvert » "2"')  # a name JSON must carry as it is
    services.store_cashier_add(store=second, user=cashier, actor=None)
    _token, key = core_services.token_create(user=cashier, territory=fund.cast.territory)
    token = core_services.token_authenticate(key)
    assert token is not None
    with CaptureQueriesContext(connection) as captured:
        read = {
            s.pk: s
            for s in (
                access.cashier_store(token.user, token.territory, pk) for pk in (fund.store.pk, second.pk)
            )
        }
    assert captured.captured_queries == []
    for store in access.cashier_stores(cashier, fund.cast.territory):
        mine = read[store.pk]
        assert (mine.territory_id, mine.name, mine.status, mine.coverage_percent, mine.is_approved) == (
            store.territory_id,
            store.name,
            store.status,
            store.coverage_percent,
            store.is_approved,
        )
        assert mine.address == store.address  # a field not read with the token: read when asked for
    assert access.cashier_store(cashier, fund.cast.territory, second.pk).pk == second.pk  # no token: the ORM
