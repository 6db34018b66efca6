"""One path from a service's refusal to a page (core.middleware.PageErrorMiddleware, core.pages.page_error) and one
way to put it on a form (core.pages.form_errors)."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from grenier.core.errors import Conflict, Forbidden, GrenierError, InvalidInput, NotFound
from grenier.core.middleware import PageErrorMiddleware
from grenier.core.pages import form_errors


def _request(method: str = "get", path: str = "/t/vallee/fund/", **headers: str) -> HttpRequest:
    request = getattr(RequestFactory(), method)(path, headers=headers)
    request.session = SessionStore()
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    return request


@pytest.fixture
def middleware() -> PageErrorMiddleware:
    return PageErrorMiddleware(lambda request: HttpResponse())


def test_what_does_not_exist_is_the_404_page_without_saying_what(middleware: PageErrorMiddleware) -> None:
    response = middleware.process_exception(_request(), NotFound("No household 12 (belongs to Dupont)."))
    assert response is not None and response.status_code == 404
    assert "Dupont" not in response.content.decode()


def test_what_the_role_may_not_do_is_the_403_page_with_its_reason(middleware: PageErrorMiddleware) -> None:
    response = middleware.process_exception(_request(), Forbidden("Only a coordinator runs a month."))
    assert response is not None and response.status_code == 403
    assert "Only a coordinator runs a month." in response.content.decode()


def test_a_refusal_after_a_form_goes_back_with_the_reason_on_top(middleware: PageErrorMiddleware) -> None:
    request = _request(
        "post", "/t/vallee/fund/runs/", referer="http://testserver/t/vallee/fund/runs/?month=2026-11"
    )
    response = middleware.process_exception(request, Conflict("This month is already run."))
    assert response is not None and response.status_code == 302
    assert response["Location"] == "http://testserver/t/vallee/fund/runs/?month=2026-11"
    assert [str(m) for m in get_messages(request)] == ["This month is already run."]


def test_a_refusal_never_sends_a_person_to_another_site(middleware: PageErrorMiddleware) -> None:
    request = _request("post", "/t/vallee/fund/runs/", referer="https://evil.example/phish")
    response = middleware.process_exception(request, Conflict("This month is already run."))
    assert response is not None and response.status_code == 409
    assert "This month is already run." in response.content.decode()


def test_a_refusal_on_a_page_only_read_is_its_error_page(middleware: PageErrorMiddleware) -> None:
    response = middleware.process_exception(
        _request(), InvalidInput("Not a month.", errors={"month": ["Enter a month."]})
    )
    assert response is not None and response.status_code == 422
    assert "Not a month. Enter a month." in response.content.decode()


def test_the_api_and_other_exceptions_are_left_to_their_own_handlers(middleware: PageErrorMiddleware) -> None:
    assert middleware.process_exception(_request(path="/api/v1/fund/runs"), Conflict("x")) is None
    assert middleware.process_exception(_request(), ValueError("a bug")) is None


class _Form(forms.Form):
    amount = forms.CharField()
    card = forms.CharField()


def _refused(**errors: list[str]) -> GrenierError:
    return InvalidInput("Not enough credit.", errors=errors)


def test_a_refusal_about_one_field_is_said_once_on_that_field() -> None:
    form = _Form({"amount": "12", "card": "1"})
    form.is_valid()
    form_errors(form, _refused(amount_cents=["Too much."]), {"amount_cents": "amount"})
    assert form.errors == {"amount": ["Not enough credit."]}


def test_a_refusal_about_several_fields_puts_each_on_its_own() -> None:
    form = _Form({"amount": "12", "card": "1"})
    form.is_valid()
    form_errors(form, _refused(amount=["Too much."], card=["Unknown card."]))
    assert form.errors == {"amount": ["Too much."], "card": ["Unknown card."]}


def test_a_refusal_about_no_field_of_the_form_is_said_above_it() -> None:
    form = _Form({"amount": "12", "card": "1"})
    form.is_valid()
    form_errors(form, _refused(household=["Left."]), lambda name: None)
    assert form.errors == {"__all__": ["Not enough credit."]}
