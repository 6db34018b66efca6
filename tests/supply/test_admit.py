"""Governance admits a producer to the supply platform: a decided proposal creates the farm once, links the person,
grants the producer role and gives no share; proposals stored before farms were named still apply."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from grenier.core.errors import InvalidInput
from grenier.core.models import Role, TerritoryRole, User
from grenier.governance import kinds
from grenier.governance import services as gov
from grenier.governance.models import Body, BodyKind, Choice, Decision, EffectStatus, Majority, Proposal
from grenier.supply.models import Producer, ProducerShare
from grenier.supply.proposals import ProducerPayload

from .conftest import Pial
from .test_api import MONDAY, put, token

EMAIL = "nouvelle@test.grenier"


def committee(pial: Pial) -> Body:
    body = gov.body_ensure(territory=pial.cast.territory, kind=BodyKind.COMMITTEE, name="Comité du PIAL")
    gov.membership_join(
        body=body, user=pial.cast["committee"], actor=None, at=timezone.now() - timedelta(days=30)
    )
    return body


def decided(pial: Pial, payload: dict[str, Any], key: str = "admit-1") -> Decision:
    """A producer_admit proposal, voted for and closed: its effect applied at the close."""
    body = committee(pial)
    now = timezone.now()
    proposal = gov.proposal_create(
        body=body,
        author=pial.cast["committee"],
        title=f"Admettre {payload.get('farm') or payload['email']}",
        text="",
        kind="producer_admit",
        payload=payload,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=6),
        quorum_percent=0,
        majority=Majority.SIMPLE,
        secret=False,
        effective_month=None,
        idempotency_key=key,
    )
    gov.ballot_cast(proposal=proposal, voter=pial.cast["committee"], choice=Choice.FOR)
    return gov.proposal_close(proposal=proposal, actor=None, now=now + timedelta(days=7))


def producer_roles(user: User, pial: Pial) -> int:
    return TerritoryRole.objects.filter(user=user, territory=pial.cast.territory, role=Role.PRODUCER).count()


def test_a_decided_proposal_creates_the_farm_once(pial: Pial) -> None:
    payload = {"email": EMAIL, "farm": "Ferme du Pont", "latitude": 42.81, "longitude": 0.61, "organic": True}
    decision = decided(pial, payload)
    assert decision.adopted and decision.effect_status == EffectStatus.APPLIED, decision.effect_error
    farm = Producer.objects.get(territory=pial.cast.territory, farm_name="Ferme du Pont")
    person = User.objects.get(email=EMAIL)
    assert list(farm.users.all()) == [person] and producer_roles(person, pial) == 1
    assert farm.is_organic and farm.latitude == Decimal("42.81") and farm.longitude == Decimal("0.61")
    assert not ProducerShare.objects.filter(producer=farm).exists()  # the coordinators set the share

    # applying the same payload again changes nothing
    kind = kinds.REGISTRY["producer_admit"]
    parsed = kind.payload.model_validate(Proposal.objects.get(pk=decision.proposal_id).payload)
    kind.apply(pial.cast.territory, parsed, None, "again")
    # and a second decision naming the same farm reuses it
    again = decided(pial, payload, key="admit-2")
    assert again.effect_status == EffectStatus.APPLIED
    assert Producer.objects.filter(farm_name="Ferme du Pont").count() == 1
    assert farm.users.count() == 1 and producer_roles(person, pial) == 1


def test_the_admitted_grower_declares_for_its_farm(pial: Pial, client: Client) -> None:
    decided(pial, {"email": EMAIL, "farm": "Ferme du Pont"})
    farm = Producer.objects.get(farm_name="Ferme du Pont")
    assert not farm.is_organic and farm.latitude is None
    headers = token(pial, User.objects.get(email=EMAIL))
    item = {"producer": farm.pk, "product": pial.products["carottes"].pk, "quantity": 10_000}
    response = put(client, f"/api/v1/supply/weeks/{MONDAY:%Y-%m-%d}/availability", [item], headers=headers)
    assert response.status_code == 200, response.content
    assert [a["producer"] for a in response.json()["availability"]] == [farm.pk]
    other = {**item, "producer": pial.saules.pk}
    response = put(client, f"/api/v1/supply/weeks/{MONDAY:%Y-%m-%d}/availability", [other], headers=headers)
    assert response.status_code == 404


def test_an_existing_farm_gains_a_person(pial: Pial) -> None:
    shares = list(ProducerShare.objects.filter(producer=pial.saules).values_list("share_bp", flat=True))
    decision = decided(pial, {"email": EMAIL, "farm": "Ferme des Saules", "organic": False})
    assert decision.effect_status == EffectStatus.APPLIED
    assert Producer.objects.filter(territory=pial.cast.territory).count() == 3
    assert pial.saules.users.filter(email=EMAIL).exists() and pial.saules.users.count() == 2
    pial.saules.refresh_from_db()
    assert pial.saules.is_organic  # an existing farm's certifications are not touched
    assert (
        list(ProducerShare.objects.filter(producer=pial.saules).values_list("share_bp", flat=True)) == shares
    )


def test_a_proposal_stored_without_a_farm_still_applies(pial: Pial) -> None:
    """Proposals made before farms were named: the payload parses and the effect grants the role only."""
    decision = decided(pial, {"email": EMAIL})
    assert Proposal.objects.get(pk=decision.proposal_id).payload == {"email": EMAIL, "farm": ""}
    assert decision.effect_status == EffectStatus.APPLIED
    assert producer_roles(User.objects.get(email=EMAIL), pial) == 1
    assert Producer.objects.filter(territory=pial.cast.territory).count() == 3
    old = ProducerPayload.model_validate({"email": EMAIL, "farm": "Ferme ancienne"})
    assert old.organic is False and old.latitude is None


def test_the_preview_names_the_farm_and_differs_for_an_existing_one(pial: Pial) -> None:
    kind = kinds.REGISTRY["producer_admit"]
    territory = pial.cast.territory
    new = kind.preview(
        territory, kind.payload.model_validate({"email": EMAIL, "farm": "Ferme du Pont"}), None
    )
    existing = kind.preview(
        territory, kind.payload.model_validate({"email": EMAIL, "farm": "Ferme des Saules"}), None
    )
    assert len(new) == len(existing) == 3
    assert "Ferme du Pont" in new[0] and "Ferme des Saules" in existing[1]
    assert new[1] != existing[1] and new[2] == existing[2]  # the last line: no share, the coordinators set it
    assert not Producer.objects.filter(farm_name="Ferme du Pont").exists()  # a preview writes nothing


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": EMAIL, "farm": "Ferme", "latitude": 42.8}, "payload.longitude"),
        ({"email": EMAIL, "farm": "Ferme", "latitude": 91, "longitude": 0.5}, "payload.latitude"),
        ({"email": EMAIL, "farm": "x" * 201}, "payload.farm"),
        ({"email": EMAIL, "organic": "peut-être"}, "payload.organic"),
        ({"farm": "Ferme"}, "payload.email"),
    ],
)
def test_a_bad_payload_is_refused_by_field(pial: Pial, payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        decided(pial, payload)
    assert field in refused.value.errors
    assert not Proposal.objects.exists()


def test_a_producer_of_the_territory_joins_the_platform_only_when_admitted(pial: Pial) -> None:
    """Producers selling to buying groups share the table but not the platform until a vote admits them."""
    from grenier.supply import access, services

    territory = pial.cast.territory
    baker = Producer.objects.create(territory=territory, farm_name="Fournil du Col", on_platform=False)
    baker.users.add(pial.cast["producer"])
    assert baker not in access.producers_of(pial.cast["coordinator"], territory)
    assert baker not in access.producers_of(pial.cast["producer"], territory)
    week = services.week_ensure(territory=territory, monday=pial.monday, actor=None)
    with pytest.raises(InvalidInput) as refused:
        services.availability_declare(
            week=week, producer=baker, product=pial.products["carottes"], quantity=5000, actor=None
        )
    assert "producer" in refused.value.errors
    decided(pial, {"email": pial.cast["producer"].email, "farm": "Fournil du Col"}, key="admit-baker")
    baker.refresh_from_db()
    assert baker.on_platform
    assert baker in access.producers_of(pial.cast["producer"], territory)
    assert Producer.objects.filter(territory=territory, farm_name="Fournil du Col").count() == 1
