"""The buying groups' home for a territory's coordinator, who manages every group: each group's pot read in one
query for all of them (it was one query a group: 61 queries for 25 groups at the scale benchmark's 100,000
households)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grenier.fund import services as fund_services
from grenier.fund.models import FunderKind
from grenier.orders import services

from .conftest import Groups


def _home(client: Client, g: Groups) -> tuple[int, dict[str, int]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("orders_home", args=[g.cast.territory.slug]))
    assert response.status_code == 200
    return len(captured.captured_queries), {group.name: pot for group, pot in response.context["managed"]}


def test_every_group_s_pot_is_read_at_once(groups: Groups, login: Callable[..., Client]) -> None:
    g = groups
    funder = fund_services.funder_create(
        territory=g.cast.territory, name="Fondation QA", kind=FunderKind.PRIVATE, actor=None
    )
    services.cover_record(cycle=g.cycle, funder=funder, amount_cents=2_500, idempotency_key="c1", actor=None)
    client = login(g.cast["coordinator"])
    _home(client, g)  # the first page in the territory records it in the session
    few, pots = _home(client, g)
    assert pots == {"Les Gourmands": 2_500, "L'Autre Groupe": 0}
    for number in range(3):
        services.group_create(
            territory=g.cast.territory, name=f"Groupe {number}", actor=g.cast["coordinator"]
        )
    more, pots = _home(client, g)
    assert pots == {"Les Gourmands": 2_500, "L'Autre Groupe": 0, "Groupe 0": 0, "Groupe 1": 0, "Groupe 2": 0}
    assert more == few
