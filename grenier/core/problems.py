"""Errors as ``application/problem+json`` (RFC 9457), for the API and for any unknown path under /api/."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(
    request: HttpRequest | None,
    *,
    status: int,
    detail: str = "",
    code: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    title = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"urn:grenier:problem:{code or title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.path
    if errors:
        body["errors"] = errors
    for name, value in (extra or {}).items():
        body.setdefault(name, value)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response
