"""The API token's one statement (``core.bearer``): the same instances as the ORM's, the roles read with it, and
nothing kept from one call to the next (a revoked token, a closed account, a removed role refused at once)."""

from __future__ import annotations

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from grenier.core import bearer, permissions, services
from grenier.core.models import ApiToken, Role, Territory, User

from ..conftest import Cast
from .test_api import assert_problem


def _fields(instance: object) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}  # type: ignore[attr-defined]


def test_the_token_its_person_and_territory_are_those_the_orm_reads(cast: Cast) -> None:
    token, key = services.token_create(user=cast["coordinator"], territory=cast.territory, name="caisse")
    services.token_authenticate(key)  # sets last_used_at: a date read back from the database
    with CaptureQueriesContext(connection) as captured:
        found = services.token_authenticate(key)
    assert len(captured.captured_queries) == 1
    assert found is not None
    orm = ApiToken.objects.select_related("user", "territory").get(pk=token.pk)
    assert orm.last_used_at is not None
    assert _fields(found) == _fields(orm)
    assert _fields(found.user) == _fields(orm.user)
    assert _fields(found.territory) == _fields(orm.territory)
    assert isinstance(found.user, User) and isinstance(found.territory, Territory)
    assert found.user.is_active is True and found.user.date_joined.tzinfo is not None


def test_the_roles_come_with_the_token_in_every_territory(cast: Cast) -> None:
    user = cast["coordinator"]
    services.role_grant(user=user, territory=cast.territory, role=Role.CASHIER)
    services.role_grant(user=user, territory=cast.elsewhere, role=Role.FUNDER)
    _token, key = services.token_create(user=user, territory=cast.territory)
    found = services.token_authenticate(key)
    assert found is not None
    with CaptureQueriesContext(connection) as captured:
        here = permissions.roles_of(found.user, cast.territory)
        there = permissions.roles_of(found.user, cast.elsewhere)
    assert captured.captured_queries == []
    assert here == {Role.COORDINATOR, Role.CASHIER} and there == {Role.FUNDER}
    permissions.forget_roles(found.user)
    assert permissions.roles_of(found.user, cast.territory) == here  # the same as read on their own


def test_a_removed_role_a_revoked_token_a_closed_account_are_refused_at_the_next_call(
    cast: Cast, client: Client
) -> None:
    user = cast["coordinator"]
    services.role_grant(user=user, territory=cast.territory, role=Role.COMMITTEE)
    token, key = services.token_create(user=user, territory=cast.territory)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/households", headers=headers).status_code == 200
    services.role_revoke(user=user, territory=cast.territory, role=Role.COORDINATOR)
    assert_problem(client.get("/api/v1/households", headers=headers), 403)
    services.role_grant(user=user, territory=cast.territory, role=Role.COORDINATOR)
    assert client.get("/api/v1/households", headers=headers).status_code == 200
    services.token_revoke(token=token, actor=None)
    assert_problem(client.get("/api/v1/households", headers=headers), 401)
    _token, key = services.token_create(user=user, territory=cast.territory)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/households", headers=headers).status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert_problem(client.get("/api/v1/households", headers=headers), 401)


@pytest.mark.django_db(transaction=True)
def test_the_token_statement_checks_a_kept_connection_and_a_dropped_one_is_opened_again(
    cast: Cast, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept connection is not checked by a ``SELECT 1`` before a token's call (``CONN_HEALTH_CHECKS``): the token's
    statement is the check, and read again on a new connection when the server dropped the kept one (a restart)."""
    if connection.vendor != "postgresql" or not connection.settings_dict["CONN_HEALTH_CHECKS"]:
        pytest.skip("the kept connections' health check is PostgreSQL's")
    _token, key = services.token_create(user=cast["coordinator"], territory=cast.territory)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/households", headers=headers).status_code == 200
    checks: list[bool] = []
    usable = connection.is_usable

    def counted() -> bool:
        checks.append(usable())
        return checks[-1]

    monkeypatch.setattr(connection, "is_usable", counted)
    connection.close_if_unusable_or_obsolete()  # what the next request does first (``close_old_connections``)
    assert client.get("/api/v1/households", headers=headers).status_code == 200
    assert checks == []  # no SELECT 1 before the token's statement
    kept = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:  # the server drops the kept connection, as a restart would
            cursor.execute("SELECT pg_terminate_backend(%s)", [kept])
    finally:
        other.close()
    connection.close_if_unusable_or_obsolete()
    response = client.get("/api/v1/households", headers=headers)
    assert response.status_code == 200, response.content
    assert connection.connection.info.backend_pid != kept and checks == []


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_statement_is_prepared_once_a_connection(cast: Cast) -> None:
    """The server plans the token's joins once per connection (``PREPARE``), each call runs it by name; a new
    connection prepares it again, and a token revoked a moment ago is still refused at the next call."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    token, key = services.token_create(user=cast["coordinator"], territory=cast.territory)
    connection.close()
    with CaptureQueriesContext(connection) as first:
        assert services.token_authenticate(key) is not None
    with CaptureQueriesContext(connection) as second:
        assert services.token_authenticate(key) is not None
    sent = [q["sql"] for q in first.captured_queries]
    assert sent[0].startswith("PREPARE grenier_token_") and sent[1].startswith("EXECUTE grenier_token_")
    assert ApiToken._meta.db_table in sent[0]
    assert "$1" in sent[0]  # the key's hash is a parameter, not part of the plan
    assert [q["sql"].split(" (")[0] for q in second.captured_queries][:1] == [sent[1].split(" (")[0]]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        assert [row[0] for row in cursor.fetchall()] == [sent[1].split()[1]]
    connection.close()  # a connection opened again (CONN_MAX_AGE, a restart) knows no prepared statement
    with CaptureQueriesContext(connection) as reopened:
        assert services.token_authenticate(key) is not None
    assert reopened.captured_queries[0]["sql"].startswith("PREPARE grenier_token_")
    services.token_revoke(token=token, actor=None)
    assert services.token_authenticate(key) is None


def test_without_prepared_statements_the_statement_is_sent_whole(cast: Cast, settings: object) -> None:
    """``GRENIER_DB_PREPARED_STATEMENTS=0`` (behind a pooler in transaction mode): nothing is prepared."""
    settings.GRENIER_DB_PREPARED_STATEMENTS = False  # type: ignore[attr-defined]
    _token, key = services.token_create(user=cast["coordinator"], territory=cast.territory)
    with CaptureQueriesContext(connection) as captured:
        found = services.token_authenticate(key)
    assert found is not None and found.user == cast["coordinator"]
    sent = [q["sql"] for q in captured.captured_queries]
    assert ApiToken._meta.db_table in sent[0]
    assert not [s for s in sent if s.startswith(("PREPARE", "EXECUTE"))]


@pytest.mark.django_db(transaction=True)
def test_a_prepared_statement_gone_or_planned_for_old_columns_is_prepared_again(cast: Cast) -> None:
    """A pooler's ``DISCARD ALL`` drops the statement; a migration that changes a column it reads makes its plan
    refuse to run ("cached plan must not change result type") until the workers reload: in both cases the call
    prepares it again and answers, instead of a 500 on every call of that connection."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    _token, key = services.token_create(user=cast["coordinator"], territory=cast.territory)
    assert services.token_authenticate(key) is not None
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with CaptureQueriesContext(connection) as gone:
        assert services.token_authenticate(key) is not None
    again = ["EXECUTE", "DEALLOCATE", "PREPARE", "EXECUTE"]
    assert [q["sql"].split()[0] for q in gone.captured_queries][:4] == again
    table = connection.ops.quote_name(Territory._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} ALTER COLUMN name TYPE varchar(201)")
    try:
        with CaptureQueriesContext(connection) as stale:
            found = services.token_authenticate(key)
        assert found is not None and found.territory.name == cast.territory.name
        assert [q["sql"].split()[0] for q in stale.captured_queries][:4] == again
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN name TYPE varchar(200)")


def test_the_statement_is_numbered_for_the_server() -> None:
    assert bearer._numbered("SELECT 'a%%' WHERE k = %s") == "SELECT 'a%' WHERE k = $1"
    with pytest.raises(ValueError):
        bearer._numbered("SELECT %s, %s")
    with pytest.raises(ValueError):
        bearer._numbered("SELECT 1")
