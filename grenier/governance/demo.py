"""The committee's story in the demo territory: the committee of about fifteen, a growers' meeting and a general
assembly; past decisions (a store approved, the scale and the allocation in force adopted by vote, a motion rejected
for lack of quorum); two votes open now, one of them to raise the allocation, with its projection.

Idempotent: every proposal has a stable idempotency key and is made once.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.test.utils import override_settings
from django.utils import timezone

from grenier.core.models import Role, Territory, TerritoryRole, User
from grenier.fund.demo import BRACKETS
from grenier.fund.models import Store
from grenier.governance import secrecy, services
from grenier.governance.models import (
    Ballot,
    BodyKind,
    Choice,
    Decision,
    EffectStatus,
    Majority,
    Participation,
    Proposal,
)

Log = Callable[[str], None]
DOMAIN = "demo.grenier.test"


def extend(territory: Territory, log: Log) -> None:
    # The demo's people are fictional: the notices its votes would send go nowhere.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        _extend(territory, log)


def _extend(territory: Territory, log: Log) -> None:
    rng = random.Random(777)  # noqa: S311 - demo data, not secrets
    now = timezone.now()
    founded = now - timedelta(days=240)
    committee = services.body_ensure(
        territory=territory, kind=BodyKind.COMMITTEE, name="Comité citoyen de la Vallée"
    )
    growers = services.body_ensure(
        territory=territory, kind=BodyKind.GROWERS, name="Réunion de régulation des maraîcher·ères"
    )
    assembly = services.body_ensure(territory=territory, kind=BodyKind.ASSEMBLY, name="Assemblée générale")
    committee_people = list(
        User.objects.filter(territory_roles__territory=territory, territory_roles__role=Role.COMMITTEE)
        .order_by("email")
        .distinct()
    )
    for person in committee_people:
        services.membership_join(body=committee, user=person, actor=None, at=founded)
        services.membership_join(body=assembly, user=person, actor=None, at=founded)
    for person in User.objects.filter(
        territory_roles__territory=territory, territory_roles__role=Role.PRODUCER
    ).distinct():
        services.membership_join(body=growers, user=person, actor=None, at=founded)
    member = User.objects.filter(email=f"member@{DOMAIN}").first()
    if member is not None:
        services.membership_join(body=assembly, user=member, actor=None, at=founded)
    author = next((p for p in committee_people if p.email == f"committee@{DOMAIN}"), committee_people[0])
    voters = [p for p in committee_people if p.email != f"committee@{DOMAIN}"]  # the demo login still votes

    first_month = (now - timedelta(days=175)).date().replace(day=1)
    history: list[dict[str, Any]] = [
        {
            "key": "demo-vote-scale",
            "title": "Adopter le barème des cotisations (1 € à 150 €)",
            "text": "Chaque foyer cotise selon ses moyens, à partir d'un euro, sur la grille ci-dessous.\n"
            "La grille sera revue dans un an.",
            "kind": "contribution_scale",
            "payload": {"brackets": BRACKETS, "minimum_cents": 100, "free_choice": True},
            "days_ago": 200,
            "quorum": 40,
            "secret": True,
            "votes": (11, 1, 1),
            "month": first_month,
            "summary": f"Barème en vigueur depuis {first_month:%m/%Y}.",
        },
        {
            "key": "demo-vote-allocation",
            "title": "Allocation de 100 € par foyer et par mois",
            "text": "Comme à Montpellier : 100 € de crédit alimentaire par foyer et par mois, le crédit non "
            "dépensé reste acquis.",
            "kind": "allocation_rule",
            "payload": {"base_cents": 10_000, "carry_over": "keep"},
            "days_ago": 198,
            "quorum": 40,
            "secret": True,
            "votes": (9, 3, 1),
            "month": first_month,
            "summary": f"Règle d'allocation en vigueur depuis {first_month:%m/%Y}.",
        },
        {
            "key": "demo-vote-relais",
            "title": "Agréer l'épicerie sociale Le Relais",
            "text": "Épicerie solidaire du centre, déjà partenaire de l'aide alimentaire ; produits locaux.",
            "kind": "store_approve",
            "store": "Épicerie sociale Le Relais",
            "days_ago": 150,
            "quorum": 30,
            "secret": False,
            "votes": (8, 0, 2),
            "month": None,
            "summary": "Épicerie sociale Le Relais agréée (100 %).",
        },
        {
            "key": "demo-vote-motion-age",
            "title": "Ouvrir le comité aux jeunes de 16 ans et plus",
            "text": "Motion : les jeunes de 16 à 18 ans des foyers membres peuvent siéger au comité.",
            "kind": "motion",
            "days_ago": 60,
            "quorum": 50,
            "secret": False,
            "votes": (3, 1, 0),
            "month": None,
            "summary": "",
        },
    ]
    made = 0
    for item in history:
        if Proposal.objects.filter(territory=territory, idempotency_key=item["key"]).exists():
            continue
        payload = item.get("payload", {})
        if item["kind"] == "store_approve":
            store = Store.objects.filter(territory=territory, name=item["store"]).first()
            if store is None:
                continue
            payload = {"store_id": store.pk, "coverage_percent": 100}
        opens_at = now - timedelta(days=item["days_ago"])
        proposal = Proposal.objects.create(
            territory=territory,
            body=committee,
            author=author,
            title=item["title"],
            text=item["text"],
            kind=item["kind"],
            payload=payload,
            opens_at=opens_at,
            closes_at=opens_at + timedelta(days=10),
            quorum_percent=item["quorum"],
            majority=Majority.SIMPLE,
            secret=item["secret"],
            effective_month=item["month"],
            idempotency_key=item["key"],
            notified_open_at=opens_at,
            notified_reminder_at=opens_at + timedelta(days=9),
        )
        _past_ballots(proposal, voters, item["votes"], rng)
        # Held before the demo began: the result is computed as the services compute it; the rules and the store
        # it adopted are those the fund's demo set up, so its effect is recorded as applied at the close.
        result = services.result_of(proposal)
        counts, electorate, adopted = result.counts, result.electorate, result.adopted
        Decision.objects.create(
            proposal=proposal,
            closed_at=proposal.closes_at,
            electorate=electorate,
            participants=counts.participants,
            votes_for=counts.votes_for,
            votes_against=counts.votes_against,
            abstentions=counts.abstentions,
            quorum_met=result.quorum_met,
            adopted=adopted,
            reason=result.reason,
            effect_status=EffectStatus.APPLIED if adopted and item["summary"] else EffectStatus.NONE,
            effect_applied_at=proposal.closes_at if adopted and item["summary"] else None,
            effect_summary=item["summary"] if adopted else "",
        )
        Proposal.objects.filter(pk=proposal.pk).update(electorate=electorate)
        made += 1

    open_votes: list[dict[str, Any]] = [
        {
            "key": "demo-vote-allocation-120",
            "title": "Porter l'allocation à 120 € par foyer",
            "text": "Les prix ont monté cette année. Proposition : 120 € par foyer et par mois, plus 20 € par "
            "enfant de moins de 14 ans, à partir du mois prochain.\n\nLa projection ci-dessous montre si la "
            "caisse tient avec les cotisations et les subventions attendues.",
            "kind": "allocation_rule",
            "payload": {"base_cents": 12_000, "per_child_cents": 2_000, "carry_over": "keep"},
            "days": 6,
            "secret": True,
            "voted": 6,
        },
        {
            "key": "demo-vote-primeur",
            "title": "Agréer le Primeur des Halles",
            "text": "Primeur du marché couvert : fruits et légumes de la vallée. Proposé par deux foyers membres.",
            "kind": "store_approve",
            "days": 3,
            "secret": False,
            "voted": 4,
        },
    ]
    for item in open_votes:
        if Proposal.objects.filter(territory=territory, idempotency_key=item["key"]).exists():
            continue
        payload = item.get("payload", {})
        if item["kind"] == "store_approve":
            store = Store.objects.filter(territory=territory, name="Primeur des Halles").first()
            if store is None:
                continue
            payload = {"store_id": store.pk, "coverage_percent": 100}
        closes_at = now + timedelta(days=item["days"])
        closes_month = timezone.localtime(closes_at).date().replace(day=1)
        effective = (
            (closes_month + timedelta(days=32)).replace(day=1) if item["kind"] == "allocation_rule" else None
        )
        proposal = services.proposal_create(
            body=committee,
            author=author,
            title=item["title"],
            text=item["text"],
            kind=item["kind"],
            payload=payload,
            opens_at=now - timedelta(days=2),
            closes_at=closes_at,
            quorum_percent=30,
            majority=Majority.SIMPLE,
            secret=item["secret"],
            effective_month=effective,
            idempotency_key=item["key"],
        )
        for voter in voters[: item["voted"]]:
            services.ballot_cast(
                proposal=proposal,
                voter=voter,
                choice=rng.choice([Choice.FOR, Choice.FOR, Choice.AGAINST, Choice.ABSTAIN]),
            )
        made += 1
    members = TerritoryRole.objects.filter(territory=territory, role=Role.COMMITTEE).count()
    log(
        f"    {members} committee members, {made} proposals added, {Proposal.objects.filter(territory=territory).count()} in all"
    )


def _past_ballots(
    proposal: Proposal, voters: list[User], votes: tuple[int, int, int], rng: random.Random
) -> None:
    """Ballots of a vote held before the demo began, written as the services would have written them."""
    choices = [Choice.FOR] * votes[0] + [Choice.AGAINST] * votes[1] + [Choice.ABSTAIN] * votes[2]
    chosen = rng.sample(voters, min(len(choices), len(voters)))
    if proposal.secret:
        # Who took part, and the sealed counts: no row holds anyone's choice (the receipts are long gone).
        for voter in chosen:
            Participation.objects.create(
                proposal=proposal, voter=voter, receipt_hash=f"{rng.getrandbits(256):064x}"
            )
        cast: list[str] = list(choices[: len(chosen)])
        secrecy.counts_write(proposal, [cast.count(choice) for choice in secrecy.CHOICES])
        return
    for voter, choice in zip(chosen, choices, strict=False):
        Ballot.objects.create(
            proposal=proposal, voter=voter, choice=choice, cast_at=proposal.opens_at + timedelta(days=2)
        )


def extend_second(territory: Territory, log: Log) -> None:
    """The second demo territory's committee: its committee members, since eight months."""
    committee = services.body_ensure(territory=territory, kind=BodyKind.COMMITTEE, name="Comité des Coteaux")
    since = timezone.now() - timedelta(days=240)
    people = User.objects.filter(territory_roles__territory=territory, territory_roles__role=Role.COMMITTEE)
    for person in people.order_by("email").distinct():
        services.membership_join(body=committee, user=person, actor=None, at=since)
    log(f"    {committee.name}")
