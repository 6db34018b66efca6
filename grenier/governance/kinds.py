"""Kinds of proposal: what an adopted proposal changes in Grenier.

Each kind owns everything about itself: its payload (a typed pydantic model, whose defaults are the only ones), the
fields a person fills on the proposal page (``form_fields``) and the values they start from (``initial``), what
will change, shown beforehand (``preview``), a panel beside the open vote (``panel``: the fund's projection), and
its effect (``apply``), run once, inside the transaction that marks the decision applied.

Governance defines only the motion (no effect). The apps that own what a decision changes register their kinds
from their own ``proposals.py`` when Django starts (``AppConfig.ready``): the fund its points of sale and rules,
supply the admission of a producer. Governance imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
)

from grenier.core.errors import InvalidInput
from grenier.core.models import Territory


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _no_fields(territory: Territory) -> dict[str, forms.Field]:
    return {}


def _no_initial(territory: Territory, today: date) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Kind:
    name: str
    label: Any  # a lazy translation
    payload: type[Payload]
    preview: Callable[[Territory, Any, date | None], list[str]]
    apply: Callable[[Territory, Any, date | None, str], str]  # returns a one-line summary of what it did
    needs_month: bool = False  # takes effect from a month (rules); others apply at the close
    # The page's fields, keyed by the payload field each one fills; a field left empty takes the payload's default.
    form_fields: Callable[[Territory], dict[str, forms.Field]] = _no_fields
    # What those fields start from (the rules in force, say), keyed the same way.
    initial: Callable[[Territory, date], dict[str, Any]] = _no_initial
    # HTML shown beside the proposal while its vote is not closed (``None``: nothing to show).
    panel: Callable[[Any], SafeString | None] | None = None


REGISTRY: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    REGISTRY[kind.name] = kind
    return kind


def get(name: str) -> Kind:
    kind = REGISTRY.get(name)
    if kind is None:
        raise InvalidInput(_("Unknown kind of proposal."), errors={"kind": [_("Unknown kind of proposal.")]})
    return kind


def parse(kind: Kind, territory: Territory, raw: dict[str, Any]) -> Payload:
    """The payload checked against its kind; field errors as ``InvalidInput`` (422 in the API)."""
    try:
        payload = kind.payload.model_validate(raw or {})
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "payload"
            errors.setdefault(f"payload.{field}", []).append(_error_words(error))
        raise InvalidInput(_("The proposal's details are not valid."), errors=errors) from exc
    checker = getattr(payload, "check_in", None)
    if checker is not None:
        checker(territory)
    return payload


def _error_words(error: Any) -> str:
    """Pydantic's message in the person's language, for the errors a form or an API client can make."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in {"greater_than_equal", "greater_than"}:
        return _("At least %(n)s.") % {"n": ctx.get("ge", ctx.get("gt", ""))}
    if kind in {"less_than_equal", "less_than"}:
        return _("At most %(n)s.") % {"n": ctx.get("le", ctx.get("lt", ""))}
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("A whole number.")
    if kind == "string_pattern_mismatch":
        return _("Not in the expected form.")
    if kind in {"too_short", "too_long"}:
        return _("Between %(min)s and %(max)s items.") % {
            "min": ctx.get("min_length", 0),
            "max": ctx.get("max_length", "…"),
        }
    if kind == "extra_forbidden":
        return _("Not expected here.")
    if kind == "value_error":
        return str(ctx.get("error", error.get("msg", "")))
    return str(error.get("msg", ""))


# --- no effect -----------------------------------------------------------------------------------------------------


class MotionPayload(Payload):
    pass


register(
    Kind(
        name="motion",
        label=gettext_lazy("Motion (no automatic effect)"),
        payload=MotionPayload,
        preview=lambda territory, payload, month: [
            _("Nothing changes in Grenier: the decision is recorded.")
        ],
        apply=lambda territory, payload, month, decided_by: _("Recorded."),
    )
)
