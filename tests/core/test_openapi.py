"""The OpenAPI document tells the truth (issue 11, item 4): valid OpenAPI 3.1, one schema per component name, every
operation's errors declared as problem+json, formats that the answers match; and every request body is strict
(item 6)."""

from __future__ import annotations

import enum
import types
import typing
from collections import defaultdict
from datetime import time
from typing import Any

import jsonschema
import pytest
from django.test import Client
from ninja import Router, Schema
from openapi_spec_validator import validate
from pydantic import BaseModel

from grenier.api import api
from grenier.core.openapi import GrenierApi, SchemaNameTaken
from grenier.core.problems import PROBLEM_CONTENT_TYPE
from grenier.core.schemas import InputSchema

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    client = Client()
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return typing.cast(dict[str, Any], response.json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises with the first error found
    assert len(operations(document)) > 80


def _models(annotation: Any) -> typing.Iterator[type]:
    """The schema classes (pydantic models, enums) an annotation names, nested ones included."""
    if isinstance(annotation, type) and issubclass(annotation, (BaseModel, enum.Enum)):
        yield annotation
        if issubclass(annotation, BaseModel):
            for field in annotation.model_fields.values():
                yield from _models(field.annotation)
        return
    for argument in typing.get_args(annotation):
        yield from _models(argument)


def api_operations() -> list[Any]:
    return [
        operation
        for router in api._get_bound_routers()
        for path_view in router.path_operations.values()
        for operation in path_view.operations
    ]


def test_each_schema_class_has_a_name_of_its_own() -> None:
    """Class names are component names: two classes of one name would share one component (three PaymentIn did)."""
    by_name: dict[str, set[str]] = defaultdict(set)
    for operation in api_operations():
        annotations = [
            field.annotation for model in operation.models for field in model.model_fields.values()
        ]
        annotations += list(operation.response_models.values())
        for annotation in annotations:
            for model in _models(annotation):
                if model.__module__.startswith("grenier."):
                    by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
    assert len(by_name) > 100
    assert {name: sorted(where) for name, where in by_name.items() if len(where) > 1} == {}


def test_a_second_schema_under_a_taken_name_stops_the_document() -> None:
    def payment_in(app: str) -> type[Schema]:
        return type(
            "PaymentIn", (Schema,), {"__annotations__": {app: int}, "__module__": f"grenier.{app}.api"}
        )

    fund_in, orders_in = payment_in("store"), payment_in("order")
    router = Router()
    for path, body in (("/a", fund_in), ("/b", orders_in)):

        def endpoint(request: Any, payload: Any) -> None:
            return None

        endpoint.__annotations__ = {"payload": body, "return": None}  # evaluated, as ninja reads them
        endpoint.__name__ = f"endpoint_{path[1:]}"
        router.post(path)(endpoint)

    throwaway = GrenierApi(urls_namespace="throwaway-openapi-test")
    throwaway.add_router("", router)
    with pytest.raises(SchemaNameTaken, match="PaymentIn"):
        throwaway.get_openapi_schema(path_prefix="/")


def test_every_operation_declares_its_errors_as_problems(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        responses = operation["responses"]
        expected = {"400", "401", "403", "404", "422"}
        if method != "get":
            expected.add("409")
        if "requestBody" in operation:
            expected.add("413")
        declared = {str(status) for status in responses}
        assert expected <= declared, (method, path, sorted(expected - declared))
        for status in expected:
            content = responses[status]["content"]
            assert list(content) == [PROBLEM_CONTENT_TYPE], (method, path, status)
            assert content[PROBLEM_CONTENT_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
    problem = document["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status"]


def test_a_read_the_state_may_refuse_declares_409_without_leaking_the_marker(
    document: dict[str, Any],
) -> None:
    """Previewing a month that has no scale is refused with 409: the GET says so, and the marker that asked for it
    is not left in the published document."""
    preview = document["paths"]["/api/v1/fund/runs/preview"]["get"]
    assert "409" in {str(status) for status in preview["responses"]}
    for _method, _path, operation in operations(document):
        assert not any(key.startswith("x-grenier") for key in operation)
    plain_read = document["paths"]["/api/v1/fund/settlements"]["get"]
    assert "409" not in {str(status) for status in plain_read["responses"]}


def test_the_till_is_documented_with_its_own_body(document: dict[str, Any]) -> None:
    body = document["paths"]["/api/v1/payments"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/TillPaymentIn"}
    till = document["components"]["schemas"]["TillPaymentIn"]
    assert set(till["properties"]) == {"household", "amount_cents", "idempotency_key", "code", "store"}
    assert till["additionalProperties"] is False


def test_no_tuple_is_left_in_the_document(document: dict[str, Any]) -> None:
    """Tuples came out as positional arrays (prefixItems) that tools read as ``items: [...]``: named objects now."""

    def arrays(node: Any) -> typing.Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if node.get("type") == "array":
                yield node
            for value in node.values():
                yield from arrays(value)
        elif isinstance(node, list):
            for value in node:
                yield from arrays(value)

    found = list(arrays(document))
    assert found and all(
        isinstance(array.get("items"), dict) and "prefixItems" not in array for array in found
    )
    figures = document["components"]["schemas"]["FiguresOut"]["properties"]["spending_by_store"]
    assert figures["items"] == {"$ref": "#/components/schemas/StoreSpendingOut"}


def test_opening_times_match_their_own_format(document: dict[str, Any]) -> None:
    """``format: time`` is RFC 3339's and needs an offset, which "16:30:00" lacks: the document said one thing and
    the answers another. Now the schema is a local time's pattern, and what the API writes matches it."""
    schema = document["components"]["schemas"]["PickupPointOut"]["properties"]["opens_at"]
    assert "format" not in schema
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    for written in (time(16, 30).isoformat(), time(8, 5, 30).isoformat(), "17:30"):
        jsonschema.Draft202012Validator(schema, format_checker=checker).validate(written)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema, format_checker=checker).validate("17:00:00Z")
    with pytest.raises(jsonschema.ValidationError):  # what the document said before, against what it answered
        jsonschema.Draft202012Validator(
            {"type": "string", "format": "time"}, format_checker=checker
        ).validate("16:30:00")


def _body_classes(operation: Any) -> typing.Iterator[type]:
    for model in operation.models:
        if getattr(model, "__ninja_param_source__", None) != "body":
            continue
        for field in model.model_fields.values():
            annotation = field.annotation
            for argument in [annotation, *typing.get_args(annotation)]:
                if isinstance(argument, types.GenericAlias):
                    yield from (a for a in typing.get_args(argument) if isinstance(a, type))
                elif isinstance(argument, type) and argument is not type(None):
                    yield argument


def test_every_request_body_is_an_input_schema() -> None:
    """One strict base (item 6): a new endpoint whose body is a plain Schema would read ``true`` as 1 again."""
    bodies = {cls for operation in api_operations() for cls in _body_classes(operation)}
    assert len(bodies) > 30
    assert sorted(cls.__name__ for cls in bodies if not issubclass(cls, InputSchema)) == []


def test_operation_ids_are_unique_and_name_the_apps_api_module(document: dict[str, Any]) -> None:
    # an app's api.py split into a package keeps its operations' ids: clients call them by these names
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert document["paths"]["/api/v1/supply/weeks"]["get"]["operationId"] == "grenier_supply_api_week_list"
    assert (
        document["paths"]["/api/v1/supply/weeks/{monday}/plan"]["post"]["operationId"]
        == "grenier_supply_api_plan_compute"
    )
