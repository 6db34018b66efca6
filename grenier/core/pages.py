"""What every app's pages share: the idempotency key of a shown form, a service's refusal as one message, on a form
(``form_errors``) or as a page (``page_error``, which ``PageErrorMiddleware`` calls for every page)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from grenier.core.errors import Forbidden, GrenierError, NotFound

# Rows on a page of a long list. On a phone each row is a card of a few lines: 15 of them keep a page within about
# 4,000 px (issue 13, item 11); "page x of y" and the filters carry over (``includes/pagination.html``).
PAGE_SIZE = 15


def idempotency_key(request: HttpRequest) -> str:
    """One idempotency key per form shown (a hidden field): a double tap or a resent form records once."""
    return request.POST.get("idempotency_key") or secrets.token_urlsafe(16)


def error_text(exc: GrenierError) -> str:
    """A service's refusal in one message: its reason, then what is wrong with each field (not repeating it)."""
    details = [error for errors in exc.errors.values() for error in errors if error != exc.detail]
    return " ".join([exc.detail, *details])


def form_errors(
    form: forms.BaseForm,
    exc: GrenierError,
    fields: Mapping[str, str] | Callable[[str], str | None] | None = None,
) -> None:
    """A service's refusal on the form, said once: on the field it concerns, or above the form when it concerns
    none. ``fields`` maps the service's names to the form's (a mapping, or a function answering ``None`` for a name
    the form has no field for); a name the form has as a field needs no mapping. With one field concerned, that
    field shows the service's whole reason; a banner repeating a field's error would be read twice by a screen
    reader. The one way every page puts a service's errors on a form."""

    def target_of(name: str) -> str | None:
        if callable(fields):
            return fields(name)
        mapped = (fields or {}).get(name)
        if mapped is not None:
            return mapped
        return name if name in form.fields else None

    placed: dict[str, list[str]] = {}
    for name, errors in exc.errors.items():
        target = target_of(name)
        if target is not None:
            placed.setdefault(target, []).extend(str(error) for error in errors)
    if not placed or isinstance(exc, Forbidden):
        form.add_error(None, exc.detail)
    elif len(placed) == 1:
        form.add_error(next(iter(placed)), exc.detail)
    else:
        for target, errors in placed.items():
            for error in errors:
                form.add_error(target, error)


def page_error(request: HttpRequest, exc: GrenierError) -> HttpResponse:
    """A service's refusal that no view put on a form, as a page: what does not exist (or may not be known to
    exist) is the 404 page, what the role may not do the 403 page with its reason. Anything else refused after a
    form was sent goes back to the page it was sent from, the reason on top; on a page only read, its error page
    with the reason."""
    from grenier.core import errorpages

    if isinstance(exc, NotFound):
        return errorpages.page_not_found(request)
    if isinstance(exc, Forbidden):
        return errorpages.permission_denied(request, PermissionDenied(exc.detail))
    back = request.headers.get("referer", "")
    if (
        request.method == "POST"
        and back
        and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        messages.error(request, error_text(exc))
        return redirect(back)
    return errorpages.refused(request, exc.status, error_text(exc))
