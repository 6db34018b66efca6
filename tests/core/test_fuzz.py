"""The API fuzzed from its own OpenAPI document (issue 11): schemathesis generates requests for every operation —
valid ones and invalid ones — and sends them with the token of every role of a small demo territory, of a
coordinator of another territory, or with no credentials at all. Whatever it sends:

* no answer is a server error (5xx);
* every answer's status is one the document declares for that operation, with its content type, and its body
  matches the document's schema (a success's schema, or ``Problem`` for an error);
* every error is ``application/problem+json`` whose ``status`` is the answer's;
* a request the document calls invalid (a string for cents, ``true`` for a number, an unknown field) is refused.

The run is bounded and reproducible: ``GRENIER_FUZZ_EXAMPLES`` requests per operation and generation mode (8 by
default, about a minute per database), drawn from a fixed seed (``derandomize``). Set ``GRENIER_FUZZ_EXAMPLES=100``
and ``GRENIER_FUZZ_RANDOM=1`` for a longer, different run before a release. Every call runs in a savepoint (rolled
back when it answers 5xx, so that one failure does not hide the next); all the failures found are reported at the
end, each with a command to reproduce it.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from grenier.api import api
from grenier.core import demo, services
from grenier.core.models import Role, Territory, User
from grenier.core.problems import PROBLEM_CONTENT_TYPE
from grenier.supply import demo as supply_demo

from ..conftest import make_user

EXAMPLES = int(os.environ.get("GRENIER_FUZZ_EXAMPLES", "8"))
RANDOM = os.environ.get("GRENIER_FUZZ_RANDOM", "") == "1"
CALLERS = [*(role.value for role in Role), "outsider", "anonymous"]


class NotAProblem(AssertionError):
    pass


def problem_json(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every error answers RFC 9457 problem details, whatever produced it (a handler, a middleware, Django)."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith(PROBLEM_CONTENT_TYPE):
        raise NotAProblem(f"{response.status_code} answered as {content_type!r}, not {PROBLEM_CONTENT_TYPE}")
    body = json.loads(response.content)
    if body.get("status") != response.status_code or not body.get("title") or not body.get("type"):
        raise NotAProblem(f"A problem without its type, title or status {response.status_code}: {body}")
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    problem_json,
]


@dataclass
class World:
    territory: Territory
    tokens: dict[str, str]  # caller -> "Bearer …", or "" for no credentials
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))


@pytest.fixture
def world(db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(supply_demo, "WEEKS", 3)
    territory = demo.build(log=lambda _line: None, household_count=20)
    tokens = {"anonymous": ""}
    for login in demo.LOGINS:
        user = User.objects.get(email=login.email)
        tokens[login.role.value] = "Bearer " + services.token_create(user=user, territory=territory)[1]
    elsewhere = services.territory_create(slug="fuzz-ailleurs", name="Ailleurs")
    outsider = make_user("outsider@fuzz.grenier", "Outsider")
    services.role_grant(user=outsider, territory=elsewhere, role=Role.COORDINATOR)
    tokens["outsider"] = "Bearer " + services.token_create(user=outsider, territory=elsewhere)[1]
    assert set(tokens) == set(CALLERS)
    # The test's transaction is the database's state: Django must not close its connection between requests
    # (the test client does the same).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield World(territory=territory, tokens=tokens)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _call(world: World, app: WSGIHandler, case: Case, caller: str) -> None:
    for name in (
        "Authorization",
        "Cookie",
    ):  # the caller's credentials only (no session cookie drawn at random)
        case.headers.pop(name, None)
    if world.tokens[caller]:
        case.headers["Authorization"] = world.tokens[caller]
    savepoint = transaction.savepoint()
    response = case.call(app=app)
    if response.status_code >= 500:  # a broken transaction must not turn the next calls into 500s
        transaction.savepoint_rollback(savepoint)
    else:
        transaction.savepoint_commit(savepoint)
    world.statuses[response.status_code] += 1
    try:
        case.validate_response(response, checks=CHECKS)
    except BaseException as exc:  # schemathesis raises a group of failures (a BaseExceptionGroup)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        key = (f"{case.operation.label} as {caller}", str(response.status_code))
        world.failures[key].append(str(exc).strip())


def test_the_api_answers_every_request_as_its_document_says(world: World) -> None:
    document = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), default=str))
    schema = schemathesis.openapi.from_dict(document)
    app = WSGIHandler()
    callers = st.sampled_from(CALLERS)
    started = time.perf_counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err raises here: the document must load whole
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                derandomize=not RANDOM,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode), caller=callers)
            def fuzz(case: Case, caller: str) -> None:
                _call(world, app, case, caller)

            fuzz()
    took = time.perf_counter() - started
    calls = sum(world.statuses.values())
    print(f"\n{operations} operations, {calls} calls in {took:.0f} s: {dict(sorted(world.statuses.items()))}")
    report = [
        f"{operation} → {status} ({len(found)} times):\n{found[0]}"
        for (operation, status), found in sorted(world.failures.items())
    ]
    assert operations > 80 and calls >= operations * EXAMPLES
    assert not report, f"{len(report)} kinds of failure:\n\n" + "\n\n".join(report)
