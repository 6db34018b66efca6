"""The API token of a call, its person, its territory and the person's roles, in one statement written once.

Every call with ``Authorization: Bearer`` looks its token up before anything else (a till's payment too), so the
look-up is hand-written SQL kept per database connection, not a query the ORM compiles again on every request
(three ORM queries cost about 1 ms of CPU and three round trips; this one statement, a tenth of that CPU and one).
On PostgreSQL the statement is prepared once per database connection (``PREPARE``) and each call runs ``EXECUTE``:
the server plans its joins once, not at every call (planning cost 0.26 ms of the database's CPU per call, measured).
It is read at every call, never cached across calls: a token revoked, a person closed or a role removed a moment
ago is refused or missing at the next call. Rows become model instances through the same converters the ORM
applies (a date read from SQLite, a boolean), so the instances are those ``select_related`` would give.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, NotSupportedError, OperationalError, ProgrammingError, connection
from django.db.models import Model

from grenier.core.models import ApiToken, Territory, TerritoryRole, User

_ATTR = "_grenier_token_statement"
_READ_ATTR = "_grenier_read_with_token"
_PREPARED_ATTR = "_grenier_token_prepared"  # on the driver's connection: the name it was prepared under
# SQLSTATEs of an EXECUTE whose statement is gone (a pooler's DISCARD ALL) or no longer fits the tables (a migration
# changed a selected column's type since: "cached plan must not change result type"): prepared again, once
_STALE = {"26000", "0A000"}
_ALREADY_PREPARED = "42P05"
# Columns other apps read with the token (``read_with_token``): name -> builder(vendor, quote_name) -> SQL
_COLUMNS: dict[str, Callable[[str, Callable[[str], str]], str]] = {}
_generation = 0
_JOINED = {
    "postgresql": "STRING_AGG",
    "sqlite": "GROUP_CONCAT",
}  # texts joined with a separator, per database

# (model, its fields' attnames, for each field: the expression and its converters)
Shape = tuple[type[Model], list[str], list[tuple[Any, list[Callable[..., Any]]]]]


def read_with_token(name: str, builder: Callable[[str, Callable[[str], str]], str]) -> None:
    """Read one more column in the token's statement, for an app core does not import (registered when Django
    starts, from its ``AppConfig.ready``). ``builder(vendor, quote_name)`` returns a scalar SQL expression over the
    token's row ``t`` (``t.user_id``, ``t.territory_id``), written from models' metadata only: nothing from a
    request. Its value, read at every call like the roles, is ``columns_read_with(user, territory)[name]``."""
    global _generation
    _COLUMNS[name] = builder
    _generation += 1  # a statement a connection built before is built again, with the column


def columns_read_with(user: object, territory: Territory) -> dict[str, Any] | None:
    """The columns registered with ``read_with_token`` as this call's token statement read them, when ``user`` is
    the person that statement loaded and ``territory`` the token's; ``None`` otherwise (a browser's session, a user
    read by the ORM, another territory): the caller then reads them its own way."""
    kept: tuple[int, dict[str, Any]] | None = getattr(user, _READ_ATTR, None)
    if kept is None or kept[0] != territory.pk:
        return None
    return kept[1]


def _statement() -> tuple[str, list[Shape], list[str]]:
    kept: tuple[int, str, list[Shape], list[str]] | None = getattr(connection, _ATTR, None)
    if kept is not None and kept[0] == _generation:
        return kept[1], kept[2], kept[3]
    quote = connection.ops.quote_name
    columns: list[str] = []
    shapes: list[Shape] = []
    for model, alias in ((ApiToken, "t"), (User, "u"), (Territory, "r")):
        fields = model._meta.concrete_fields
        columns += [f"{alias}.{quote(field.column)}" for field in fields]
        converters = []
        for field in fields:
            column = field.get_col(alias)
            converters.append(
                (column, connection.ops.get_db_converters(column) + field.get_db_converters(connection))  # type: ignore[attr-defined]
            )
        shapes.append((model, [field.attname for field in fields], converters))
    # names from the models' own metadata, the key as a parameter: nothing from a request is spliced in
    roles = (
        f"(SELECT {_JOINED[connection.vendor]}(CAST(x.territory_id AS TEXT) || ':' || x.role, ',') "  # noqa: S608
        f"FROM {quote(TerritoryRole._meta.db_table)} x WHERE x.user_id = t.user_id)"
    )
    extra = list(_COLUMNS)
    columns += [roles] + [f"({_COLUMNS[name](connection.vendor, quote)})" for name in extra]
    sql = (
        f"SELECT {', '.join(columns)} "  # noqa: S608
        f"FROM {quote(ApiToken._meta.db_table)} t "
        f"JOIN {quote(User._meta.db_table)} u ON u.id = t.user_id "
        f"JOIN {quote(Territory._meta.db_table)} r ON r.id = t.territory_id "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active"
    )
    setattr(connection, _ATTR, (_generation, sql, shapes, extra))
    return sql, shapes, extra


def _sqlstate(error: Exception) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def _numbered(sql: str) -> str:
    """The statement with its one parameter as ``$1`` and its ``%%`` as ``%``, as the server reads a PREPARE."""
    parts = sql.split("%%")
    if sum(part.count("%s") for part in parts) != 1:
        raise ValueError("The token's statement takes one parameter, the key's hash.")
    return "%".join(part.replace("%s", "$1") for part in parts)


def _prepare(name: str, sql: str) -> None:
    statement = f"PREPARE {name} (text) AS {_numbered(sql)}"
    with connection.cursor() as cursor:
        try:
            cursor.execute(statement)
        except ProgrammingError as error:
            # already prepared under this name on this session (a PREPARE whose answer was lost): replaced
            if _sqlstate(error) != _ALREADY_PREPARED or connection.in_atomic_block:
                raise
            cursor.execute(f"DEALLOCATE {name}")
            cursor.execute(statement)
    setattr(connection.connection, _PREPARED_ATTR, name)


def _prepared_name(sql: str) -> str | None:
    """The name the statement is prepared under on this PostgreSQL connection (prepared now if it was not), or
    ``None`` where it is not prepared: SQLite, or ``GRENIER_DB_PREPARED_STATEMENTS=0`` (behind a pooler that hands
    each transaction another server connection, which would not know the name).

    A prepared statement lives as long as its server session, whatever happens to transactions (a rollback keeps
    it), so it is remembered on the driver's connection object: a connection opened again (after a restart, or at
    ``CONN_MAX_AGE``) is a new object and prepares it again. The name carries the statement's generation, so a
    column registered later is a new statement."""
    if connection.vendor != "postgresql" or not settings.GRENIER_DB_PREPARED_STATEMENTS:
        return None
    name = f"grenier_token_{_generation}"
    if getattr(connection.connection, _PREPARED_ATTR, None) != name:
        _prepare(name, sql)
    return name


def _execute(name: str, key_hash: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(f"EXECUTE {name} (%s)", [key_hash])
        return cursor.fetchone()


def _read(sql: str, key_hash: str) -> Any:
    connection.ensure_connection()
    name = _prepared_name(sql)
    if name is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, [key_hash])
            return cursor.fetchone()
    try:
        return _execute(name, key_hash)
    except (NotSupportedError, ProgrammingError) as error:
        # Gone, or planned for columns a migration has changed since (between ``migrate`` and the workers' reload):
        # prepared again, once. Inside a transaction the error has aborted it: nothing to do but let it through.
        if _sqlstate(error) not in _STALE or connection.in_atomic_block:
            raise
    setattr(connection.connection, _PREPARED_ATTR, None)
    with connection.cursor() as cursor, contextlib.suppress(ProgrammingError):
        cursor.execute(f"DEALLOCATE {name}")  # none left when a pooler discarded it
    _prepare(name, sql)
    return _execute(name, key_hash)


def _read_checking_connection(sql: str, key_hash: str) -> Any:
    """The token's row, the statement being the kept connection's health check (``CONN_HEALTH_CHECKS``).

    Django checks a connection kept from an earlier request with a ``SELECT 1`` before the request's first statement,
    and opens a new one if the server went away meanwhile (a restart, a failover): a round trip more at every API
    call. The token's statement is an API call's first, read-only and outside any transaction, so it is its own
    check: on a connection error it is read again, once, on a new connection; the call does not answer 500 after a
    restart, and a healthy connection costs no ``SELECT 1``."""
    wrapper: Any = connection  # Django's connection wrapper; its health-check flags are not in the stubs
    if (
        wrapper.connection is None
        or not wrapper.health_check_enabled
        or wrapper.health_check_done
        or wrapper.in_atomic_block
    ):
        return _read(sql, key_hash)
    wrapper.health_check_done = True
    try:
        return _read(sql, key_hash)
    except (OperationalError, InterfaceError):
        connection.close()  # the next cursor opens a new connection
    return _read(sql, key_hash)


def active_token(key_hash: str) -> tuple[ApiToken, str | None] | None:
    """The active token of an active person with this key's hash, its ``user`` and ``territory`` loaded, and the
    person's roles in every territory as ``territory_id:role`` pairs (``permissions.remember_roles``); the columns
    other apps read with it are kept on the user (``columns_read_with``)."""
    sql, shapes, extra = _statement()
    row = _read_checking_connection(sql, key_hash)
    if row is None:
        return None
    instances: list[Any] = []
    start = 0
    for model, names, converters in shapes:
        values = list(row[start : start + len(names)])
        start += len(names)
        for index, (column, functions) in enumerate(converters):
            for function in functions:
                values[index] = function(values[index], column, connection)
        instances.append(model.from_db(connection.alias, names, values))
    token, user, territory = instances
    token.user = user
    token.territory = territory
    setattr(user, _READ_ATTR, (territory.pk, dict(zip(extra, row[start + 1 :], strict=True))))
    return token, row[start]
