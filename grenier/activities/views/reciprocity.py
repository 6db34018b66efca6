"""The reciprocity page: the rule in force, one's household's hours and rewards (every person with a role here);
for the coordinators of the activities, the households with a reward due and the button that pays them (the same
service as ``grenier activities reward``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from grenier.activities import access, reciprocity
from grenier.activities.models import ReciprocityReward, ReciprocityRule
from grenier.activities.views.common import activities_page, render_page
from grenier.core.auth import user_of
from grenier.core.models import Territory
from grenier.core.money import format_cents
from grenier.core.permissions import Action
from grenier.core.views import territory_page

coordinator_page = territory_page(Action.ACTIVITIES_MANAGE, nav="activities")
"""404 without a role here; 403 for anyone who does not coordinate the activities."""


@activities_page
def rewards(request: HttpRequest, territory: Territory) -> HttpResponse:
    today = timezone.localdate()
    household = access.volunteer_household(request.user, territory)
    coordinates = access.manages_all(request.user, territory)
    return render_page(
        request,
        territory,
        "rewards.html",
        rule_words=reciprocity.rule_words(reciprocity.rule_for(territory, today)),
        since=reciprocity.counting_since(territory),
        rules=list(ReciprocityRule.objects.filter(territory=territory).order_by("-effective_month")[:12]),
        household=household,
        standing=reciprocity.standing(household, today) if household is not None else None,
        coordinates=coordinates,
        due=reciprocity.households_due(territory, today) if coordinates else [],
        paid=list(
            ReciprocityReward.objects.filter(territory=territory)
            .select_related("household")
            .order_by("-paid_at", "-id")[:30]
        )
        if coordinates
        else [],
    )


@coordinator_page
@require_POST
def rewards_pay(request: HttpRequest, territory: Territory) -> HttpResponse:
    paid = reciprocity.rewards_pay(territory=territory, actor=user_of(request))
    if paid.rewards:
        rewards_text = ngettext("%(n)s reward paid", "%(n)s rewards paid", paid.rewards) % {"n": paid.rewards}
        households_text = ngettext("to %(n)s household", "to %(n)s households", paid.households) % {
            "n": paid.households
        }
        messages.success(
            request,
            _("%(rewards)s %(households)s (food credit %(credit)s, baskets %(baskets)s).")
            % {
                "rewards": rewards_text,
                "households": households_text,
                "credit": format_cents(paid.credit_cents),
                "baskets": format_cents(paid.basket_cents),
            },
        )
    else:
        messages.info(request, _("No reward due: nothing was paid."))
    return redirect("activities_rewards", territory.slug)
