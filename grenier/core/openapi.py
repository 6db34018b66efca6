"""The OpenAPI document of the API, made to tell the truth (issue 11, item 4).

django-ninja writes one component per schema class *name* and silently keeps the last class of a name, so two apps'
``PaymentIn`` would document one endpoint with the other's body; here a second, different schema under a name
already taken stops the document instead. And ninja documents only the success: every operation here also declares
the errors it can answer, all ``application/problem+json`` (RFC 9457), with one shared ``Problem`` component.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from grenier.core.problems import PROBLEM_CONTENT_TYPE

PROBLEM_REF = "#/components/schemas/Problem"

PROBLEM_SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "title": "Problem",
        "description": "An error, as RFC 9457 problem details. Some problems add members of their own "
        "(e.g. remaining_credit_cents when the credit is short).",
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "description": "urn:grenier:problem:<code>, e.g. …:invalid-input."},
            "title": {"type": "string", "description": "The HTTP status phrase."},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "What went wrong, in the caller's language."},
            "instance": {"type": "string", "description": "The path that was called."},
            "errors": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ProblemFieldError"},
                "description": "Per field, for invalid input.",
            },
        },
        "additionalProperties": True,
    },
    "ProblemFieldError": {
        "title": "ProblemFieldError",
        "type": "object",
        "required": ["field", "message", "type"],
        "properties": {
            "field": {
                "type": "string",
                "description": "The field, dotted for nested ones (persons.0.first_name).",
            },
            "message": {"type": "string"},
            "type": {
                "type": "string",
                "description": "A machine-readable kind, e.g. int_type, extra_forbidden.",
            },
        },
    },
}

ERRORS: dict[int, str] = {
    400: "The request could not be read (a body that is not JSON, a malformed header).",
    401: "No credentials, or credentials that are not valid: send Authorization: Bearer <token>.",
    403: "Known in the territory, but the caller's role does not allow this.",
    404: "Not found, or not the caller's to see (another territory, another household).",
    409: "The state of things refuses the request: not enough credit, a closed cycle, an idempotency key "
    "already used for a different request…",
    413: "The request body is too large.",
    422: "Some fields are not valid: errors lists them (wrong type, unknown field, out of bounds).",
}


READ_MAY_REFUSE_KEY = "x-grenier-state-may-refuse"
#: ``openapi_extra`` of a read that the state of things may refuse (409), e.g. previewing a month with no scale.
READ_MAY_REFUSE: dict[str, Any] = {READ_MAY_REFUSE_KEY: True}


def error_statuses(method: str, operation: dict[str, Any]) -> list[int]:
    """The errors an operation can answer, from what it is: every call may be unreadable (400) and is checked for
    credentials (401), territory and role (403, 404) and input (422, the territory included); a write may meet a
    state that refuses it (409); a body may be too large (413)."""
    statuses = [400, 422]
    if operation.get("security"):
        statuses += [401, 403, 404]
    if method != "get" or operation.get(READ_MAY_REFUSE_KEY):
        statuses.append(409)
    if "requestBody" in operation:
        statuses.append(413)
    return sorted(statuses)


def problem_response(status: int) -> dict[str, Any]:
    return {
        "description": ERRORS[status],
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    }


class SchemaNameTaken(Exception):
    """Two different schemas would be published under one component name."""


class GrenierOpenAPISchema(OpenAPISchema):
    def __init__(self, api: NinjaAPI, path_prefix: str) -> None:
        super().__init__(api, path_prefix)
        self.add_schema_definitions(PROBLEM_SCHEMAS)
        for path_item in self["paths"].values():
            for method, operation in path_item.items():
                for parameter in operation.get("parameters", []):
                    # django-ninja copies a required parameter's JSON Schema ``examples`` (a list) onto the
                    # parameter, where OpenAPI wants a map of Example objects: the schema keeps them.
                    if isinstance(parameter.get("examples"), list):
                        del parameter["examples"]
                responses = operation.setdefault("responses", {})
                for status in error_statuses(method, operation):
                    responses.setdefault(status, problem_response(status))
                operation.pop(READ_MAY_REFUSE_KEY, None)

    def add_schema_definitions(self, definitions: dict[str, Any]) -> None:
        for name, definition in definitions.items():
            known = self.schemas.get(name)
            if known is not None and known != definition:
                raise SchemaNameTaken(
                    f"Two different schemas are named {name!r}: give one of the classes another name, so that "
                    "each has its own component in the OpenAPI document."
                )
        super().add_schema_definitions(definitions)


class GrenierApi(NinjaAPI):
    """NinjaAPI whose OpenAPI document declares every operation's errors and one component per schema name."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return GrenierOpenAPISchema(self, path_prefix)

    def get_openapi_operation_id(self, operation: Operation) -> str:
        """``<the app's api module>_<function>``, dots as underscores, wherever in the app's ``api`` package the
        function lives: an operation keeps its id (clients generated from the document call it by it) when its
        app's ``api.py`` becomes a package (``grenier.supply.api.weeks.week_list``: ``grenier_supply_api_week_list``)."""
        module = operation.view_func.__module__
        app, api, _ = module.partition(".api.")
        if api:
            module = f"{app}.api"
        return f"{module}_{operation.view_func.__name__}".replace(".", "_")
