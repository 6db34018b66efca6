"""Any number of bodies per territory (issue 13, item 3): a thematic commission beside the citizen committee, each
with its own members and votes; a name already taken is refused, never answered with a success about another body."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.core.errors import InvalidInput
from grenier.governance import services
from grenier.governance.models import Body, BodyKind

from ..core.test_api import assert_problem, bearer, post
from ..fund.test_pages import EVERYONE, ROLES
from .conftest import Gov, end_voting, propose


def _bodies(gov: Gov) -> list[tuple[str, str]]:
    return sorted(Body.objects.filter(territory=gov.cast.territory).values_list("kind", "name"))


def test_a_commission_beside_the_committee_has_its_own_members_and_votes(gov: Gov) -> None:
    cast = gov.cast
    food = services.body_create(
        territory=cast.territory, kind=BodyKind.COMMISSION, name="Commission alimentation durable", actor=None
    )
    second = services.body_create(
        territory=cast.territory,
        kind=BodyKind.COMMISSION,
        name="Commission  des points de vente ",
        actor=None,
    )
    assert second.name == "Commission des points de vente" and second.pk != food.pk != gov.body.pk
    assert _bodies(gov) == [
        ("commission", "Commission alimentation durable"),
        ("commission", "Commission des points de vente"),
        ("committee", "Comité de test"),
    ]
    a_day_ago = timezone.now() - timedelta(days=1)
    services.membership_join(body=food, user=cast["member"], actor=None, at=a_day_ago)
    motion = propose(food, cast["member"], "Un verger partagé")
    assert services.may_vote(motion, cast["member"])
    assert not services.may_vote(
        motion, cast["committee"]
    )  # a member of the committee, not of the commission
    assert not services.may_vote(gov.public, cast["member"])  # and the other way round
    services.ballot_cast(proposal=motion, voter=cast["member"], choice="for")
    decision = services.proposal_close(proposal=end_voting(motion), actor=None)
    assert decision.electorate == 1 and decision.votes_for == 1
    assert services.is_member(food, cast["member"]) and not services.is_member(second, cast["member"])


def test_a_name_already_taken_is_refused_and_nothing_is_created(gov: Gov) -> None:
    before = _bodies(gov)
    for name in ("Comité de test", "comité DE test"):
        with pytest.raises(InvalidInput) as refused:
            services.body_create(
                territory=gov.cast.territory, kind=BodyKind.COMMISSION, name=name, actor=None
            )
        assert "Comité de test" in refused.value.detail or "comité DE test" in refused.value.detail
    assert _bodies(gov) == before
    # Another territory may use the same name.
    services.body_create(
        territory=gov.cast.elsewhere, kind=BodyKind.COMMITTEE, name="Comité de test", actor=None
    )


def test_the_page_opens_a_second_body_of_a_kind_and_says_so(gov: Gov, login: Callable[..., Client]) -> None:
    client = login(gov.cast["coordinator"])
    url = reverse("governance_body_create", args=["vallee"])
    page = client.get(reverse("governance_bodies", args=["vallee"])).content.decode()
    assert 'value="committee"' in page and 'value="commission"' in page  # every kind, even one that exists
    response = client.post(url, {"kind": "committee", "name": "Comité de suivi des paniers"}, follow=True)
    assert ("committee", "Comité de suivi des paniers") in _bodies(gov)
    [message] = list(get_messages(response.wsgi_request)) or [None]
    assert message is None or "Comité de suivi des paniers" in str(message)
    assert "Comité de suivi des paniers est ouverte" in response.content.decode()
    before = _bodies(gov)
    refused = client.post(url, {"kind": "commission", "name": "Comité de test"}, follow=True)
    text = refused.content.decode()
    assert "Comité de test existe déjà" in text and "est ouvert" not in text
    assert _bodies(gov) == before


@pytest.mark.parametrize("who", EVERYONE)
def test_only_a_coordinator_opens_a_body(gov: Gov, login: Callable[..., Client], who: str) -> None:
    response = login(gov.cast[who]).post(
        reverse("governance_body_create", args=["vallee"]), {"kind": "commission", "name": "Commission X"}
    )
    created = Body.objects.filter(territory=gov.cast.territory, name="Commission X").exists()
    if who == "coordinator":
        assert response.status_code == 302 and created
    else:
        assert response.status_code == (403 if who in ROLES else 404) and not created


@pytest.mark.parametrize("who", [*ROLES, "outsider"])
def test_bodies_by_api(gov: Gov, client: Client, who: str) -> None:
    territory = "elsewhere" if who == "outsider" else "territory"
    headers = bearer(gov.cast, who, territory=territory)
    created = post(
        client, "/api/v1/bodies", {"kind": "commission", "name": "Commission API"}, headers=headers
    )
    listed = client.get("/api/v1/bodies", headers=headers)
    assert listed.status_code == 200
    if who == "outsider":  # a coordinator of another territory opens it there, never here
        assert created.status_code == 201, created.content
        assert not Body.objects.filter(territory=gov.cast.territory, name="Commission API").exists()
        return
    if who != "coordinator":
        assert_problem(created, 403)
        assert "Commission API" not in {row["name"] for row in listed.json()}
        return
    assert created.status_code == 201 and created.json()["kind"] == "commission"
    assert {row["name"] for row in listed.json()} == {"Comité de test", "Commission API"}
    again = assert_problem(
        post(client, "/api/v1/bodies", {"kind": "committee", "name": "Commission API"}, headers=headers), 422
    )
    assert "Commission API" in again["detail"]
    assert Body.objects.filter(territory=gov.cast.territory).count() == 2


def test_bodies_from_the_command_line(gov: Gov) -> None:
    out = StringIO()
    call_command(
        "governance",
        "body-create",
        "--territory",
        "vallee",
        "--kind",
        "follow_up",
        "--name",
        "Suivi",
        stdout=out,
    )
    assert "Suivi" in out.getvalue() and ("follow_up", "Suivi") in _bodies(gov)
    with pytest.raises(CommandError, match="Suivi"):
        call_command(
            "governance", "body-create", "--territory", "vallee", "--kind", "commission", "--name", "Suivi"
        )
    listing = StringIO()
    call_command("governance", "bodies", "--territory", "vallee", stdout=listing)
    assert "2 bodies" in listing.getvalue()
