"""What the buying groups' pages share: their decorators and the summary of a form's errors at the top."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse

from grenier.core.views import territory_page
from grenier.orders import access

View = Callable[..., HttpResponse]


orders_page = territory_page(nav="orders", check=access.require_any)
"""Someone with no role in the territory gets 404, a role with no part in buying groups 403. Objects are then
resolved through ``access`` (404 for what one is not part of)."""


def _error_summary(form: Any, anchors: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """The errors of a bound form as (anchor, label, message), shown at the top of the page with a link to each
    field: a long form's error is then seen without scrolling to it."""
    if form is None or not form.is_bound or not form.errors:
        return []
    rows: list[tuple[str, str, str]] = []
    for name, errors in form.errors.items():
        if name == "__all__":
            rows.extend(("", "", str(error)) for error in errors)
            continue
        field = form[name] if name in form.fields else None
        anchor = (anchors or {}).get(name) or (field.id_for_label if field is not None else "")
        label = str(field.label) if field is not None else ""
        rows.extend((anchor, label, str(error)) for error in errors)
    return rows
