"""Domain errors raised by services. Pages turn them into messages, the API into problem+json (RFC 9457)."""

from __future__ import annotations


class GrenierError(Exception):
    """Base of the errors a service raises on purpose. ``status`` is the HTTP status the API answers with."""

    status = 400
    code = "error"

    def __init__(
        self,
        detail: str,
        *,
        errors: dict[str, list[str]] | None = None,
        extra: dict[str, int | str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}
        self.extra = extra or {}  # machine-readable facts for API clients (problem+json extension members)


class NotFound(GrenierError):
    """What does not exist, or what the caller may not know exists."""

    status = 404
    code = "not-found"


class Forbidden(GrenierError):
    """The caller is known in the territory but their roles do not allow this."""

    status = 403
    code = "forbidden"


class Conflict(GrenierError):
    """The request is well formed but the state of things refuses it (e.g. not enough credit)."""

    status = 409
    code = "conflict"


class InvalidInput(GrenierError):
    """Bad input, with the errors per field."""

    status = 422
    code = "invalid-input"


class ItemsRefused(GrenierError):
    """Items of a list saved whole were refused, so none was saved (``core.services.all_or_none``). ``refusals``
    holds each refused item's own error by its index, for a page to show on its row; the API answers with the first
    refusal's status and every item's errors named ``<index>.<field>``, as the list body's schema names them."""

    def __init__(self, refusals: dict[int, GrenierError]) -> None:
        first = refusals[min(refusals)]
        errors: dict[str, list[str]] = {}
        for index, refusal in sorted(refusals.items()):
            named = {f"{index}.{field}": messages for field, messages in refusal.errors.items()}
            errors.update(named or {str(index): [refusal.detail]})
        super().__init__(first.detail, errors=errors, extra=first.extra)
        self.status = first.status
        self.code = first.code
        self.refusals = refusals
