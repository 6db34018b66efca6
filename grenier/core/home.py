"""What a person's territory home offers them to do next, whatever their roles.

Core knows none of the apps: each app that gives a role its main task registers a provider here when Django starts
(``AppConfig.ready``), which answers the links that person can use now (a grower's availability for next week, a
kitchen's demand, a social worker's referrals). The home shows them first, as buttons; every link answers 200 for
the person it is shown to (``tests/core/test_home_actions.py`` follows each one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from grenier.core.models import Territory


@dataclass(frozen=True)
class NextAction:
    label: Any  # text or a lazy translation
    url: str
    primary: bool = False  # the role's main task: one filled button


Provider = Callable[[HttpRequest, Territory], list[NextAction]]
PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)
    return provider


def next_actions(request: HttpRequest, territory: Territory) -> list[NextAction]:
    actions: list[NextAction] = []
    for provider in PROVIDERS:
        actions.extend(provider(request, territory))
    return actions
