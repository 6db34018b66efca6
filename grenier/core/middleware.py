"""Under ``/api/``: input no handler should ever see is refused before it reaches one, and every error answers
``application/problem+json`` — including those Django or django-ninja write themselves (405 in HTML).

What is refused here, for every endpoint at once:

* a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), from its ``Content-Length``, before anything reads it;
* a NUL character in the query string, a header or any string or key of a JSON body (422): PostgreSQL cannot
  store it in a text column, so it would otherwise fail deep in a query (pages get their 400 page for one in the
  query string or a header);
* an integer in a JSON body beyond a 64-bit integer (422), whatever the field: schemas bound each field by its
  meaning (``grenier.core.schemas``), this is the net under the fields that take free-form JSON;
* a number in the path beyond a 64-bit integer (404, on pages too): no row has such an id, and the databases
  cannot even compare one (an ``OverflowError`` deep in the query otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _

from grenier.core.errorpages import bad_request
from grenier.core.problems import PROBLEM_CONTENT_TYPE, problem_response
from grenier.core.schemas import MAX_BIGINT

KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")
MAX_ERRORS = 20  # a body full of NULs is told about its first ones, not all of them
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _invalid(errors: list[dict[str, str]], request: HttpRequest) -> HttpResponse:
    return problem_response(
        request,
        status=422,
        detail=_("Some fields are not valid."),
        code="invalid-input",
        errors=errors[:MAX_ERRORS],
    )


def _nul(field: str) -> dict[str, str]:
    return {
        "field": field,
        "message": _("The NUL character is not allowed in text."),
        "type": "nul_character",
    }


def _json_errors(data: Any) -> Iterator[dict[str, str]]:
    """NUL characters and integers beyond 64 bits anywhere in a parsed JSON body, with the path of each.

    Walks with a stack, not recursion: the body's nesting depth is the client's choice."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                yield _nul(path)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not -MAX_BIGINT <= value <= MAX_BIGINT:
                yield {
                    "field": path,
                    "message": _("This number is too large."),
                    "type": "less_than_equal",
                }
        elif isinstance(value, dict):
            for key, item in value.items():
                field = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    yield _nul(field)
                stack.append((field, item))
        elif isinstance(value, list):
            stack.extend(
                (f"{path}.{index}" if path else str(index), item) for index, item in enumerate(value)
            )


def _id_too_large(request: HttpRequest) -> bool:
    """A path segment made of digits (an id) beyond what a 64-bit integer column holds."""
    for part in request.path.split("/"):
        digits = part.lstrip("0")
        if part.isascii() and part.isdigit() and (len(digits) > 19 or int(digits or "0") > MAX_BIGINT):
            return True
    return False


def _text_errors(request: HttpRequest) -> list[dict[str, str]]:
    """A NUL character in the query string (a key or a value) or in a header."""
    errors = [_nul(key) for key, values in request.GET.lists() if any("\x00" in v for v in [key, *values])]
    return errors + [_nul(name) for name, value in request.headers.items() if "\x00" in value]


class ApiGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if _id_too_large(request):
            if _is_api(request):
                return problem_response(request, status=404, detail=_("No such id."), code="not-found")
            raise Http404
        if not _is_api(request):
            # pages: a NUL in a search box's query string would fail the same way in PostgreSQL (their forms'
            # fields refuse it already, as Django's CharField does)
            return bad_request(request) if _text_errors(request) else self.get_response(request)
        response = self._refusal(request) or self.get_response(request)
        return self._as_problem(request, response)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(
                request, status=400, detail=_("The Content-Length header is not a number.")
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return problem_response(
                request,
                status=413,
                detail=_("The request body is larger than %(limit)d bytes.") % {"limit": limit},
                code="too-large",
            )
        errors = _text_errors(request)
        if not errors and length and not (request.content_type or "").startswith(FORM_TYPES):
            try:
                data = json.loads(request.body)
            except (ValueError, RecursionError):
                data = None  # not JSON: the endpoint's parser answers 400 as it would without this check
            errors = list(_json_errors(data))
        return _invalid(errors, request) if errors else None

    def _as_problem(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """An error answered in another format (django-ninja's 405 is HTML) becomes problem+json, same status."""
        if response.status_code < 400 or response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE):
            return response
        if response.status_code == 405:
            detail = _("This method is not allowed here; allowed: %(methods)s.") % {
                "methods": response.get("Allow", "")
            }
            code = "method-not-allowed"
        else:
            detail, code = "", None  # the title says it
        problem = problem_response(request, status=response.status_code, detail=detail, code=code)
        for name in KEPT_HEADERS:
            if name in response:
                problem[name] = response[name]
        return problem


class PageErrorMiddleware:
    """The one path from a service's refusal to a page: a ``GrenierError`` a page's view lets through becomes its
    error page (``core.pages.page_error``), as the API's handler turns it into problem+json. Views catch one only
    to put it on a form (``core.pages.form_errors``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from grenier.core.errors import GrenierError
        from grenier.core.pages import page_error

        if _is_api(request) or not isinstance(exception, GrenierError):
            return None
        return page_error(request, exception)
