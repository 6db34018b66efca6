"""The API token of a call, its person, its territory and the person's roles, in one statement written once.

Every call with ``Authorization: Bearer`` looks its token up before anything else (a till's payment too), so the
look-up is hand-written SQL kept per database connection, not a query the ORM compiles again on every request
(three ORM queries cost about 1 ms of CPU and three round trips; this one statement, a tenth of that CPU and one).
It is read at every call, never cached across calls: a token revoked, a person closed or a role removed a moment
ago is refused or missing at the next call. Rows become model instances through the same converters the ORM
applies (a date read from SQLite, a boolean), so the instances are those ``select_related`` would give.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import Model

from grenier.core.models import ApiToken, Territory, TerritoryRole, User

_ATTR = "_grenier_token_statement"
_JOINED = {
    "postgresql": "STRING_AGG",
    "sqlite": "GROUP_CONCAT",
}  # texts joined with a separator, per database

# (model, its fields' attnames, for each field: the expression and its converters)
Shape = tuple[type[Model], list[str], list[tuple[Any, list[Callable[..., Any]]]]]


def _statement() -> tuple[str, list[Shape]]:
    kept: tuple[str, list[Shape]] | None = getattr(connection, _ATTR, None)
    if kept is not None:
        return kept
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
    sql = (
        f"SELECT {', '.join(columns)}, {roles} "  # noqa: S608
        f"FROM {quote(ApiToken._meta.db_table)} t "
        f"JOIN {quote(User._meta.db_table)} u ON u.id = t.user_id "
        f"JOIN {quote(Territory._meta.db_table)} r ON r.id = t.territory_id "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active"
    )
    setattr(connection, _ATTR, (sql, shapes))
    return sql, shapes


def active_token(key_hash: str) -> tuple[ApiToken, str | None] | None:
    """The active token of an active person with this key's hash, its ``user`` and ``territory`` loaded, and the
    person's roles in every territory as ``territory_id:role`` pairs (``permissions.remember_roles``)."""
    sql, shapes = _statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key_hash])
        row = cursor.fetchone()
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
    return token, row[start]
