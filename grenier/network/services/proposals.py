"""The cooperations Grenier already runs, proposed once each at a level for a coordinator to confirm."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.models import Territory, User
from grenier.network.models import (
    Actor,
    Builtin,
    Cooperation,
    CooperationStatus,
    Level,
    People,
    Scale,
    Sort,
    Theme,
)
from grenier.network.services.actors import actors_from_grenier, builtin_actor
from grenier.network.services.cooperations import CooperationFields, cooperation_create

# --- cooperations Grenier already runs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A cooperation Grenier already runs, as the map would record it."""

    source: str
    fields: CooperationFields
    reason: str


def _proposals(territory: Territory, by: User | None) -> Iterable[Proposal]:
    from grenier.baskets.models import Agreement
    from grenier.fund.models import Store, StoreStatus
    from grenier.orders.models import BuyingGroup
    from grenier.supply.models import Contract, ContractStatus, Producer

    def actor_of(link: str, row_id: int | None) -> Actor | None:
        return Actor.objects.filter(territory=territory, **{f"{link}_id": row_id}).first() if row_id else None

    today = timezone.localdate()
    for agreement in Agreement.objects.filter(territory=territory, ends_on__gte=today):
        pair = [actor_of("funder", agreement.funder_id), actor_of("garden", agreement.garden_id)]
        if all(pair):
            yield Proposal(
                f"baskets-agreement:{agreement.pk}",
                CooperationFields(
                    title=_("Co-financing: %(name)s") % {"name": agreement.name},
                    sort=Sort.THEME,
                    level=Level.POOLING,
                    actors=[a for a in pair if a],
                    starts_on=min(agreement.starts_on, today),
                    themes=[Theme.FOOD_SYSTEM, Theme.SOCIAL_ACTION],
                    people=[People.WELCOMED],
                    documents=_("Co-financing agreement %(name)s") % {"name": agreement.name},
                ),
                _("A co-financing agreement of the baskets: the funder pools money with the garden."),
            )
    for contract in Contract.objects.filter(
        territory=territory, status=ContractStatus.ACTIVE, ends_on__gte=today
    ):
        farms = list(contract.producers.all()) or list(
            Producer.objects.filter(territory=territory, on_platform=True, left_on__isnull=True)
        )
        members = [actor_of("kitchen", contract.kitchen_id), *(actor_of("producer", f.pk) for f in farms)]
        members.append(builtin_actor(territory=territory, builtin=Builtin.PLATFORM, by=by))
        if len(present := _present(members)) >= 2:
            yield Proposal(
                f"supply-contract:{contract.pk}",
                CooperationFields(
                    title=_("Supply contract: %(title)s") % {"title": contract.title},
                    sort=Sort.PROXIMITY,
                    level=Level.COLLECTIVE,
                    actors=present,
                    starts_on=min(contract.starts_on, today),
                    themes=[Theme.FOOD_SYSTEM],
                    scale=Scale.PUBLIC,
                    people=[People.FARMERS, People.PROFESSIONALS],
                ),
                _("A supply contract of the platform: farms and a kitchen organise production and delivery."),
            )
    for store in Store.objects.filter(territory=territory, status=StoreStatus.APPROVED):
        store_actor = actor_of("store", store.pk)
        if store_actor is not None:
            yield Proposal(
                f"fund-store:{store.pk}",
                CooperationFields(
                    title=_("Approved store: %(name)s") % {"name": store.name},
                    sort=Sort.SCALE,
                    level=Level.SERVICES,
                    actors=[store_actor, builtin_actor(territory=territory, builtin=Builtin.FUND, by=by)],
                    starts_on=min(store.approved_on or today, today),
                    themes=[Theme.FOOD_SYSTEM, Theme.SOCIAL_ACTION],
                    people=[People.RESIDENTS],
                ),
                _("A store approved by the committee takes the common fund's food credit."),
            )
    for group in BuyingGroup.objects.filter(territory=territory):
        farm_ids = sorted(set(group.cycles.values_list("products__producer_id", flat=True)) - {None})
        members = [actor_of("group", group.pk), *(actor_of("producer", f) for f in farm_ids)]
        if len(present := _present(members)) >= 2:
            yield Proposal(
                f"orders-group:{group.pk}",
                CooperationFields(
                    title=_("Buying group: %(name)s") % {"name": group.name},
                    sort=Sort.PEOPLE,
                    level=Level.COMMON_ACTION,
                    actors=present,
                    starts_on=min(group.created_at.date(), today),
                    themes=[Theme.FOOD_SYSTEM],
                    scale=Scale.SELF_ORGANISED,
                    people=[People.RESIDENTS, People.FARMERS],
                ),
                _("A buying group orders together from the territory's producers."),
            )


def _present(actors: Iterable[Actor | None]) -> list[Actor]:
    return [a for a in actors if a is not None]


def cooperations_from_grenier(*, territory: Territory, by: User | None) -> list[Cooperation]:
    """Propose, for a coordinator to confirm, the cooperations Grenier already runs (co-financing agreements,
    supply contracts, approved stores, buying groups and their producers), once each: a source already proposed
    (confirmed, dismissed or ended) is not proposed again. Puts the known rows on the map first. Answers the new
    proposals."""
    actors_from_grenier(territory=territory, by=by)
    done = set(
        Cooperation.objects.filter(territory=territory, source__isnull=False).values_list("source", flat=True)
    )
    proposed: list[Cooperation] = []
    for proposal in _proposals(territory, by):
        if proposal.source in done:
            continue
        try:
            proposed.append(
                cooperation_create(
                    territory=territory,
                    fields=proposal.fields,
                    by=by,
                    idempotency_key=f"proposal:{proposal.source}",
                    reason=proposal.reason,
                    status=CooperationStatus.PROPOSED,
                    source=proposal.source,
                )
            )
        except IntegrityError:
            continue  # proposed by someone else in between
    return proposed
