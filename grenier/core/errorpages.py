"""Error pages: HTML for people, problem+json for anything under /api/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

from grenier.core.problems import problem_response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _page(request: HttpRequest, status: int, title: str, detail: str) -> HttpResponse:
    body: str
    try:
        body = loader.render_to_string(
            "error.html", {"status": status, "title": title, "detail": detail}, request
        )
    except Exception:  # the error page itself must never fail
        body = f"<!doctype html><title>{status}</title><h1>{status}</h1>"
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, status=400, detail=_("The request could not be understood."))
    return _page(request, 400, _("Bad request"), _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    detail = str(exception) if exception and str(exception) else _("Your role does not allow this.")
    if _is_api(request):
        return problem_response(request, status=403, detail=detail, code="forbidden")
    return _page(request, 403, _("Not allowed"), detail)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, status=404, detail=_("Not found."), code="not-found")
    return _page(request, 404, _("Page not found"), _("This page does not exist or you may not see it."))


def refused(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    """A service's refusal (a conflict, bad input) on a page that had no form to put it on."""
    return _page(request, status, _("Not possible"), detail)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return problem_response(
            request, status=500, detail=_("An unexpected error happened; it has been logged.")
        )
    return _page(
        request, 500, _("Something went wrong"), _("An unexpected error happened; it has been logged.")
    )
