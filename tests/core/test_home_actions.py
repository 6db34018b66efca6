"""Every person's home offers their next actions, and nothing in their navigation leads to a refusal (issue 13,
item 9): each link of the home page, of the main navigation and of the votes' sub-navigation answers 200 for the
person it is shown to."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from grenier.core.models import Role
from grenier.governance import services as governance
from grenier.governance.models import BodyKind

from ..supply.conftest import Pial, pial  # noqa: F401 - the growers' platform with a farm and a kitchen of the cast

LINK = re.compile(r'<a [^>]*href="(/t/[^"#?]*)[^"]*"')


def _links(html: str, slug: str) -> set[str]:
    return {url for url in LINK.findall(html) if url.startswith(f"/t/{slug}/")}


def _subnav(html: str) -> str:
    start = html.find('<nav class="subnav"')
    return html[start : html.find("</nav>", start)] if start >= 0 else ""


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_every_link_a_person_is_shown_opens_for_them(
    pial: Pial,  # noqa: F811
    login: Callable[..., Client],
    role: str,
) -> None:
    cast = pial.cast
    slug = cast.territory.slug
    client = login(cast[role])
    home = client.get(reverse("territory_home", args=[slug])).content.decode()
    votes = client.get(reverse("governance_proposals", args=[slug])).content.decode()
    links = _links(home, slug) | _links(_subnav(votes), slug)
    assert links, role
    refused = {url: status for url in sorted(links) if (status := client.get(url).status_code) != 200}
    assert refused == {}, (role, refused)


EXPECTED = {  # a role's main task, first on its home
    "producer": "supply_availability",
    "kitchen": "supply_demand",
    "social_worker": "baskets_referral_new",
    "cashier": "fund_till",
}


@pytest.mark.parametrize(("role", "url_name"), EXPECTED.items())
def test_each_role_home_leads_to_its_main_task(
    pial: Pial,  # noqa: F811
    login: Callable[..., Client],
    role: str,
    url_name: str,
) -> None:
    slug = pial.cast.territory.slug
    home = login(pial.cast[role]).get(reverse("territory_home", args=[slug])).content.decode()
    prefix = reverse(url_name, args=[slug, *_args(pial, url_name)])
    assert any(url.startswith(prefix) for url in _links(home, slug)), (role, prefix)


def _args(platform: Pial, url_name: str) -> list[object]:
    from datetime import timedelta

    next_monday = (platform.monday + timedelta(days=7)).isoformat()
    return {
        "supply_availability": [next_monday, platform.saules.pk],
        "supply_demand": [next_monday, platform.school.pk],
    }.get(url_name, [])


def test_the_propose_tab_is_for_the_members_of_a_body(pial: Pial, login: Callable[..., Client]) -> None:  # noqa: F811
    cast = pial.cast
    slug = cast.territory.slug
    new = reverse("governance_new", args=[slug])
    votes = reverse("governance_proposals", args=[slug])
    assert new not in _subnav(login(cast["producer"]).get(votes).content.decode())
    committee = governance.body_ensure(territory=cast.territory, kind=BodyKind.COMMITTEE, name="Comité")
    governance.membership_join(body=committee, user=cast["producer"], actor=None)
    assert new in _subnav(login(cast["producer"]).get(votes).content.decode())
    assert login(cast["producer"]).get(new).status_code == 200
