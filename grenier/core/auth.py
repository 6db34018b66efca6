"""Log in by e-mail, case-insensitively."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from grenier.core.models import User


class EmailBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        email = (username or kwargs.get("email") or "").strip().lower()
        if not email or password is None:
            return None
        user = User.objects.filter(email=email).first()
        if user is None:
            User().set_password(password)  # same work as a real check, so timing does not reveal who exists
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def user_of(request: HttpRequest) -> User:
    """The logged-in person of a request that has passed authentication (pages behind login, API with auth)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionError("This request has no authenticated user")
    return user
