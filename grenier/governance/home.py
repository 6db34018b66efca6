"""Governance's next actions on a person's territory home (``core.home``): a member of a body sees the open votes
still waiting for their ballot; a coordinator sees the votes that are over and wait for their result."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import ngettext

from grenier.core import permissions
from grenier.core.home import NextAction, register
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.governance import selectors
from grenier.governance.models import Ballot, Participation
from grenier.governance.services import is_member


@register
def governance_actions(request: HttpRequest, territory: Territory) -> list[NextAction]:
    user = request.user
    if not user.is_authenticated:
        return []
    actions: list[NextAction] = []
    voted = set(Ballot.objects.filter(voter=user).values_list("proposal_id", flat=True)) | set(
        Participation.objects.filter(voter=user).values_list("proposal_id", flat=True)
    )
    waiting = [  # open votes the person may cast a ballot in (a member when it opened and still) and has not
        proposal
        for proposal in selectors.proposals_open(territory)
        if proposal.pk not in voted
        and is_member(proposal.body, user, proposal.opens_at)
        and is_member(proposal.body, user)
    ]
    if waiting:
        only = len(waiting) == 1
        actions.append(
            NextAction(
                ngettext(
                    "%(count)s vote waits for your ballot",
                    "%(count)s votes wait for your ballot",
                    len(waiting),
                )
                % {"count": len(waiting)},
                reverse("governance_proposal", args=[territory.slug, waiting[0].pk])
                if only
                else reverse("governance_proposals", args=[territory.slug]),
                primary=True,
            )
        )
    if permissions.can(user, territory, Action.GOV_MANAGE):
        due = selectors.proposals_due(territory).count()
        if due:
            actions.append(
                NextAction(
                    ngettext(
                        "%(count)s vote is over: count its result",
                        "%(count)s votes are over: count their results",
                        due,
                    )
                    % {"count": due},
                    reverse("governance_proposals", args=[territory.slug]),
                )
            )
    return actions
