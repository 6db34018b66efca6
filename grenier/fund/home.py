"""The common fund's next actions on a person's territory home (``core.home``): a member household sees the food
credit it can spend now; a coordinator sees the month still to run, the referrals waiting for a decision and what the
stores are still owed; a social worker refers a household to the fund and follows their referrals."""

from __future__ import annotations

from django.db.models import Count, Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grenier.core import permissions
from grenier.core.home import NextAction, register
from grenier.core.models import Household, Territory
from grenier.core.money import format_cents
from grenier.core.months import month_name
from grenier.core.permissions import Action
from grenier.fund.models import FundReferral, MonthlyRun, ReferralStatus, Settlement, SettlementStatus
from grenier.fund.services import credit_balance


@register
def fund_actions(request: HttpRequest, territory: Territory) -> list[NextAction]:
    user = request.user
    actions: list[NextAction] = []
    if permissions.can(user, territory, Action.FUND_OWN_CREDIT):
        households = Household.objects.filter(
            territory=territory, persons__user_id=user.pk or 0, left_on=None
        )
        for household in households.distinct().order_by("pk"):
            actions.append(
                NextAction(
                    _("My food credit: %(amount)s to spend")
                    % {"amount": format_cents(credit_balance(household))},
                    reverse("fund_my_credit", args=[territory.slug]),
                    primary=True,
                )
            )
    if permissions.can(user, territory, Action.FUND_REFER):
        actions.extend(_referrer_actions(user.pk or 0, territory))
    if permissions.can(user, territory, Action.FUND_MANAGE):
        waiting = FundReferral.objects.filter(territory=territory, status=ReferralStatus.PENDING).count()
        if waiting:
            actions.append(
                NextAction(
                    ngettext(
                        "%(count)s referral to the common fund waits for your decision",
                        "%(count)s referrals to the common fund wait for your decision",
                        waiting,
                    )
                    % {"count": waiting},
                    reverse("fund_referrals", args=[territory.slug]),
                    primary=True,
                )
            )
        month = timezone.localdate().replace(day=1)
        if not MonthlyRun.objects.filter(
            territory=territory, month=month, finished_at__isnull=False
        ).exists():
            actions.append(
                NextAction(
                    _("Run the month of %(month)s") % {"month": month_name(month)},
                    reverse("fund_runs", args=[territory.slug]),
                    primary=True,
                )
            )
        due = Settlement.objects.filter(store__territory=territory, status=SettlementStatus.DUE).aggregate(
            count=Count("pk"), cents=Sum("amount_cents")
        )
        if due["count"]:
            actions.append(
                NextAction(
                    ngettext(
                        "%(count)s settlement to transfer to a store: %(amount)s",
                        "%(count)s settlements to transfer to the stores: %(amount)s",
                        due["count"],
                    )
                    % {"count": due["count"], "amount": format_cents(due["cents"] or 0)},
                    reverse("fund_settlements", args=[territory.slug]),
                )
            )
    return actions


def _referrer_actions(user_id: int, territory: Territory) -> list[NextAction]:
    mine = FundReferral.objects.filter(territory=territory, social_worker_id=user_id)
    waiting = mine.filter(status=ReferralStatus.PENDING).count()
    actions = [
        NextAction(
            _("Refer a household to the common fund"),
            reverse("fund_referral_new", args=[territory.slug]),
        )
    ]
    if waiting or mine.exists():
        label = (
            ngettext(
                "My referrals to the common fund: %(count)s waits for a coordinator",
                "My referrals to the common fund: %(count)s wait for a coordinator",
                waiting,
            )
            % {"count": waiting}
            if waiting
            else _("My referrals to the common fund")
        )
        actions.append(NextAction(label, reverse("fund_referrals", args=[territory.slug])))
    return actions
