"""Small helpers every app's pages share: the idempotency key of a shown form, a service's refusal as one message."""

from __future__ import annotations

import secrets

from django.http import HttpRequest

from grenier.core.errors import GrenierError


def idempotency_key(request: HttpRequest) -> str:
    """One idempotency key per form shown (a hidden field): a double tap or a resent form records once."""
    return request.POST.get("idempotency_key") or secrets.token_urlsafe(16)


def error_text(exc: GrenierError) -> str:
    """A service's refusal in one message: its reason, then what is wrong with each field (not repeating it)."""
    details = [error for errors in exc.errors.values() for error in errors if error != exc.detail]
    return " ".join([exc.detail, *details])
