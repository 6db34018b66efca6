"""The JSON API under /api/v1/: authentication, territory resolution and RFC 9457 errors for every router."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from grenier.core import permissions
from grenier.core.errors import Forbidden, GrenierError, InvalidInput
from grenier.core.models import ApiToken, Territory
from grenier.core.openapi import GrenierApi
from grenier.core.problems import problem_response
from grenier.core.services import token_authenticate

logger = logging.getLogger(__name__)


class BearerToken(HttpBearer):
    """``Authorization: Bearer grn_…``: a token bound to one person and one territory."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = token_authenticate(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token


class BrowserSession(APIKeyCookie):
    """The browser's session cookie; unsafe methods also need the CSRF token, as on the pages."""

    param_name = "sessionid"
    openapi_description = "Session of a logged-in browser (send the CSRF token on unsafe methods)."

    def _get_key(self, request: HttpRequest) -> str | None:
        # The CSRF check protects a logged-in session; a call without one is unauthenticated (401), not a
        # CSRF failure (403) that would tell a program without credentials to fetch a CSRF token.
        if not (request.user.is_authenticated and request.user.is_active):
            return None
        try:
            return super()._get_key(request)
        except HttpError as exc:
            raise Forbidden(
                _("The CSRF token is missing or wrong: send it with the session (X-CSRFToken header)."),
            ) from exc

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.user.is_authenticated and request.user.is_active:
            return request.user
        return None


api = GrenierApi(
    title="Grenier API",
    version="1",
    description=(
        "The JSON API of Grenier. Authenticate with `Authorization: Bearer <token>` "
        "(`grenier token create --user EMAIL --territory SLUG`) or a browser session. "
        "Errors are `application/problem+json` (RFC 9457)."
    ),
    urls_namespace="api_v1",
    auth=[BearerToken(), BrowserSession(csrf=True)],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def territory_of(request: HttpRequest) -> Territory:
    """The territory a call acts in: the token's own; for a browser, ``?territory=slug`` or the current one."""
    api_token: ApiToken | None = getattr(request, "api_token", None)
    if api_token is not None:
        slug = request.GET.get("territory")
        if slug and slug != api_token.territory.slug:
            raise InvalidInput(
                _("This token belongs to another territory."),
                errors={"territory": [_("Not this token's territory.")]},
            )
        return api_token.territory
    slug = (
        request.GET.get("territory")
        or request.headers.get("X-Grenier-Territory")
        or request.session.get("territory")
    )
    if slug:
        return permissions.territory_for(request.user, slug)
    mine = list(permissions.territories_of(request.user)[:2])
    if len(mine) == 1:
        return mine[0]
    raise InvalidInput(
        _("Say which territory: add ?territory=<slug>."), errors={"territory": [_("This field is required.")]}
    )


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for error in errors:
        location = [str(part) for part in error.get("loc", [])]
        # ninja prefixes the parameter source and name ("body", "payload"): keep what a client sent
        if location[:1] in (["body"], ["query"], ["path"]):
            location = location[2:] if len(location) > 2 else location[1:]
        cleaned.append(
            {"field": ".".join(location), "message": error.get("msg", ""), "type": error.get("type", "")}
        )
    return cleaned


@api.exception_handler(GrenierError)
def _grenier_error(request: HttpRequest, exc: GrenierError) -> HttpResponse:
    errors = [
        {"field": field, "message": message, "type": exc.code}
        for field, messages in exc.errors.items()
        for message in messages
    ]
    return problem_response(
        request, status=exc.status, detail=exc.detail, code=exc.code, errors=errors, extra=exc.extra
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return problem_response(
        request,
        status=422,
        detail=_("Some fields are not valid."),
        code="invalid-input",
        errors=_field_errors(exc.errors),
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        request,
        status=401,
        detail=_("Log in, or send an API token: Authorization: Bearer <token>."),
        code="unauthenticated",
        headers={"WWW-Authenticate": 'Bearer realm="grenier"'},
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem_response(request, status=exc.status_code, detail=str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(request, status=404, detail=_("Not found."), code="not-found")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem_response(request, status=403, detail=_("Forbidden."), code="forbidden")


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Django raises these while reading a request it will not take (too many fields, a body too big): the
    # client's fault, not a server error. (ApiGuardMiddleware refuses a body too big by its length first.)
    if isinstance(exc, RequestDataTooBig):
        return problem_response(
            request, status=413, detail=_("The request body is too large."), code="too-large"
        )
    return problem_response(request, status=400, detail=_("The request could not be understood."))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unexpected error in the API", exc_info=exc)
    return problem_response(
        request, status=500, detail=_("An unexpected error happened; it has been logged.")
    )


def _mount_routers() -> None:
    from grenier.activities.api import router as activities_router
    from grenier.baskets.api import router as baskets_router
    from grenier.core.api import router as core_router
    from grenier.fund.api import router as fund_router
    from grenier.governance.api import router as governance_router
    from grenier.network.api import router as network_router
    from grenier.orders.api import router as orders_router
    from grenier.reports.api import router as reports_router
    from grenier.supply.api import router as supply_router
    from grenier.waste.api import router as waste_router

    api.add_router("", core_router)
    api.add_router("", fund_router)
    api.add_router("", governance_router)
    api.add_router("", supply_router)
    api.add_router("", baskets_router)
    api.add_router("", orders_router)
    api.add_router("", waste_router)
    api.add_router("", activities_router)
    api.add_router("", network_router)
    api.add_router("", reports_router)


_mount_routers()
