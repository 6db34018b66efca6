"""The activities' kind of proposal: the reciprocity rule (so many hours of volunteering give food credit or a
basket), voted by the committee like the fund's rules and in force from its month. Registered with governance when
Django starts (``ActivitiesConfig.ready``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import Field

from grenier.activities import reciprocity
from grenier.activities.models import RewardKind
from grenier.baskets.models import Garden
from grenier.core.errors import InvalidInput
from grenier.core.forms import EurosField
from grenier.core.models import Territory
from grenier.core.money import euros_input
from grenier.governance.kinds import Kind, Payload, register


class ReciprocityPayload(Payload):
    hours: int = Field(..., ge=1, le=reciprocity.MAX_HOURS)
    reward: str = Field("credit", pattern="^(credit|basket|none)$")
    credit_cents: int = Field(0, ge=0, le=reciprocity.MAX_REWARD_CENTS)
    garden_id: int | None = None
    basket_cents: int = Field(0, ge=0, le=reciprocity.MAX_REWARD_CENTS)

    def check_in(self, territory: Territory) -> None:
        errors = reciprocity.rule_check(
            territory=territory,
            hours=self.hours,
            reward=self.reward,
            credit_cents=self.credit_cents,
            garden_id=self.garden_id,
            basket_cents=self.basket_cents,
        )
        if errors:
            problems = [problem for found in errors.values() for problem in found]
            raise InvalidInput(
                problems[0] if len(problems) == 1 else _("The reciprocity rule is not valid."),
                errors={f"payload.{name}": problems for name, problems in errors.items()},
            )


def _preview(territory: Territory, payload: ReciprocityPayload, month: date | None) -> list[str]:
    since = f"{month:%m/%Y}" if month else "—"
    garden = Garden.objects.filter(territory=territory, pk=payload.garden_id or 0).first()
    if payload.reward == RewardKind.NONE:
        lines = [_("From %(month)s, volunteering is no longer rewarded.") % {"month": since}]
    elif payload.reward == RewardKind.CREDIT:
        lines = [
            _("From %(month)s, every %(hours)s hours of volunteering give %(amount)s of food credit.")
            % {
                "month": since,
                "hours": payload.hours,
                "amount": reciprocity.format_cents(payload.credit_cents),
            },
            _("The food credit is issued by the common fund into the volunteer's household's wallet."),
        ]
    else:
        lines = [
            _(
                "From %(month)s, every %(hours)s hours of volunteering give a basket of %(garden)s worth %(amount)s."
            )
            % {
                "month": since,
                "hours": payload.hours,
                "garden": garden or "—",
                "amount": reciprocity.format_cents(payload.basket_cents),
            },
            _("The basket is paid on the household's basket account at the garden."),
        ]
    lines.append(_("Each hour is rewarded once; hours count from the first rule's month."))
    current = reciprocity.rule_for(territory, month or timezone.localdate())
    lines.append(_("Today: %(rule)s") % {"rule": reciprocity.rule_words(current)})
    return lines


def _apply(territory: Territory, payload: ReciprocityPayload, month: date | None, decided_by: str) -> str:
    assert month is not None  # noqa: S101 - the service refuses a rule proposal without its month
    reciprocity.rule_set(
        territory=territory,
        effective_month=month,
        hours=payload.hours,
        reward=payload.reward,
        credit_cents=payload.credit_cents,
        garden_id=payload.garden_id,
        basket_cents=payload.basket_cents,
        actor=None,
        decided_by=decided_by,
    )
    return _("Reciprocity rule in force from %(month)s.") % {"month": f"{month:%m/%Y}"}


def _fields(territory: Territory) -> dict[str, forms.Field]:
    gardens = [(g.pk, g.name) for g in Garden.objects.filter(territory=territory).order_by("name")]
    return {
        "hours": forms.IntegerField(
            label=gettext_lazy("Hours of volunteering for one reward"),
            min_value=1,
            max_value=reciprocity.MAX_HOURS,
        ),
        "reward": forms.ChoiceField(label=gettext_lazy("Reward"), choices=RewardKind.choices),
        "credit_cents": EurosField(label=gettext_lazy("Food credit given, in euros"), allow_zero=True),
        "garden_id": forms.TypedChoiceField(
            label=gettext_lazy("Garden whose basket is given"),
            coerce=int,
            empty_value=None,
            choices=[("", gettext_lazy("— no basket —")), *gardens],
        ),
        "basket_cents": EurosField(label=gettext_lazy("The basket's value, in euros"), allow_zero=True),
    }


def _initial(territory: Territory, today: date) -> dict[str, Any]:
    rule = reciprocity.rule_for(territory, today)
    if rule is None:
        return {"hours": 10, "reward": RewardKind.CREDIT}
    return {
        "hours": rule.hours,
        "reward": rule.reward,
        "credit_cents": euros_input(rule.credit_cents),
        "garden_id": rule.garden_id,
        "basket_cents": euros_input(rule.basket_cents),
    }


register(
    Kind(
        name="reciprocity_rule",
        label=gettext_lazy("A reciprocity rule (volunteering hours rewarded)"),
        payload=ReciprocityPayload,
        preview=_preview,
        apply=_apply,
        needs_month=True,
        form_fields=_fields,
        initial=_initial,
    )
)
