"""The fund's kinds of proposal: approving or suspending a point of sale, a new contribution scale, a new allocation
rule. Each kind here owns its payload, the fields of the proposal page and what they start from, its preview, its
effect and, for the rules, the projection shown beside the open vote. Registered with governance when Django starts
(``FundConfig.ready``)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import Field, field_validator

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.forms import EurosField
from grenier.core.models import Territory
from grenier.core.money import euros_input, format_cents, parse_euros
from grenier.core.months import shift_month
from grenier.fund import charts, planning, services
from grenier.fund.models import CarryOver, Store
from grenier.fund.rules import validate_brackets
from grenier.governance.kinds import Kind, Payload, register

# --- points of sale ------------------------------------------------------------------------------------------------


class StorePayload(Payload):
    store_id: int
    coverage_percent: int = Field(100, ge=1, le=100)

    def check_in(self, territory: Territory) -> None:
        if not Store.objects.filter(territory=territory, pk=self.store_id).exists():
            raise InvalidInput(
                _("No store has this number here."), errors={"payload.store_id": [_("Unknown store.")]}
            )


def _store(territory: Territory, store_id: int) -> Store:
    return Store.objects.get(territory=territory, pk=store_id)


def _approve_preview(territory: Territory, payload: StorePayload, month: date | None) -> list[str]:
    store = _store(territory, payload.store_id)
    return [
        _("%(store)s becomes an approved point of sale: it takes food-credit payments from the decision on.")
        % {"store": store.name},
        _("Food credit pays %(p)s %% of a purchase there.") % {"p": payload.coverage_percent},
    ]


def _approve_apply(territory: Territory, payload: StorePayload, month: date | None, decided_by: str) -> str:
    store = services.store_approve(
        store=_store(territory, payload.store_id), coverage_percent=payload.coverage_percent, actor=None
    )
    return _("%(store)s approved (%(p)s %%).") % {"store": store.name, "p": payload.coverage_percent}


def _store_choice(territory: Territory, label: Any) -> forms.Field:
    stores = [
        (s.pk, f"{s.name} ({s.get_status_display()})")
        for s in Store.objects.filter(territory=territory).order_by("name")
    ]
    return forms.TypedChoiceField(
        label=label, coerce=int, choices=[("", gettext_lazy("— choose a store —")), *stores]
    )


class StoreSuspendPayload(Payload):
    store_id: int

    check_in = StorePayload.check_in


def _suspend_preview(territory: Territory, payload: StoreSuspendPayload, month: date | None) -> list[str]:
    store = _store(territory, payload.store_id)
    return [_("%(store)s stops taking food-credit payments from the decision on.") % {"store": store.name}]


def _suspend_apply(
    territory: Territory, payload: StoreSuspendPayload, month: date | None, decided_by: str
) -> str:
    store = services.store_suspend(store=_store(territory, payload.store_id), actor=None)
    return _("%(store)s suspended.") % {"store": store.name}


register(
    Kind(
        name="store_approve",
        label=gettext_lazy("Approve a point of sale"),
        payload=StorePayload,
        preview=_approve_preview,
        apply=_approve_apply,
        form_fields=lambda territory: {
            "store_id": _store_choice(territory, gettext_lazy("Store to approve")),
            "coverage_percent": forms.IntegerField(
                label=gettext_lazy("Share of a purchase paid in food credit (%)"),
                min_value=1,
                max_value=100,
                initial=100,
            ),
        },
    )
)
register(
    Kind(
        name="store_suspend",
        label=gettext_lazy("Suspend a point of sale"),
        payload=StoreSuspendPayload,
        preview=_suspend_preview,
        apply=_suspend_apply,
        form_fields=lambda territory: {
            "store_id": _store_choice(territory, gettext_lazy("Store to suspend"))
        },
    )
)


# --- the fund's rules ----------------------------------------------------------------------------------------------


class ScalePayload(Payload):
    brackets: list[tuple[int | None, int]] = Field(..., min_length=1, max_length=30)
    minimum_cents: int = Field(100, ge=0, le=100_000)
    free_choice: bool = True

    @field_validator("brackets")
    @classmethod
    def _valid(cls, value: list[tuple[int | None, int]]) -> list[tuple[int | None, int]]:
        problems = validate_brackets([list(b) for b in value])
        if problems:
            raise ValueError(" ".join(problems))
        return value


def _scale_preview(territory: Territory, payload: ScalePayload, month: date | None) -> list[str]:
    lines = [
        _("From %(month)s, a new contribution scale: minimum %(min)s a month.")
        % {"month": f"{month:%m/%Y}" if month else "—", "min": format_cents(payload.minimum_cents)}
    ]
    current = services.scale_for(territory, month or timezone.localdate())
    lines.extend(
        (
            _("Resources per consumption unit up to %(up)s: %(s)s suggested.")
            % {"up": format_cents(up), "s": format_cents(suggested)}
            if up is not None
            else _("Resources per consumption unit above that: %(s)s suggested.")
            % {"s": format_cents(suggested)}
        )
        for up, suggested in payload.brackets
    )
    if current is not None:
        lines.append(
            _("Today: %(n)s brackets, minimum %(min)s.")
            % {"n": len(current.brackets), "min": format_cents(current.minimum_cents)}
        )
    return lines


def _scale_apply(territory: Territory, payload: ScalePayload, month: date | None, decided_by: str) -> str:
    assert month is not None  # noqa: S101 - the service refuses a rule proposal without its month
    services.scale_set(
        territory=territory,
        effective_month=month,
        brackets=[list(b) for b in payload.brackets],
        minimum_cents=payload.minimum_cents,
        free_choice=payload.free_choice,
        actor=None,
        decided_by=decided_by,
    )
    return _("Contribution scale in force from %(month)s.") % {"month": f"{month:%m/%Y}"}


class AllocationPayload(Payload):
    base_cents: int = Field(..., ge=0, le=10_000_00)
    per_additional_person_cents: int = Field(0, ge=0, le=10_000_00)
    per_child_cents: int = Field(0, ge=0, le=10_000_00)
    child_age_limit: int = Field(14, ge=1, le=25)
    carry_over: str = Field("keep", pattern="^(keep|cap|return)$")
    carry_over_cap_cents: int = Field(0, ge=0)


def _allocation_preview(territory: Territory, payload: AllocationPayload, month: date | None) -> list[str]:
    carry = {
        "keep": _("unspent credit is kept"),
        "cap": _("unspent credit is kept up to %(cap)s")
        % {"cap": format_cents(payload.carry_over_cap_cents)},
        "return": _("unspent credit returns to the fund at month end"),
    }[payload.carry_over]
    lines = [
        _(
            "From %(month)s: %(base)s a month for the household, %(person)s per additional person, "
            "%(child)s more per child under %(age)s; %(carry)s."
        )
        % {
            "month": f"{month:%m/%Y}" if month else "—",
            "base": format_cents(payload.base_cents),
            "person": format_cents(payload.per_additional_person_cents),
            "child": format_cents(payload.per_child_cents),
            "age": payload.child_age_limit,
            "carry": carry,
        }
    ]
    current = services.rule_for(territory, month or timezone.localdate())
    if current is not None:
        lines.append(
            _("Today: %(base)s for the household, %(person)s per additional person, %(child)s per child.")
            % {
                "base": format_cents(current.base_cents),
                "person": format_cents(current.per_additional_person_cents),
                "child": format_cents(current.per_child_cents),
            }
        )
    return lines


def _allocation_apply(
    territory: Territory, payload: AllocationPayload, month: date | None, decided_by: str
) -> str:

    assert month is not None  # noqa: S101 - the service refuses a rule proposal without its month
    services.allocation_rule_set(
        territory=territory,
        effective_month=month,
        base_cents=payload.base_cents,
        per_additional_person_cents=payload.per_additional_person_cents,
        per_child_cents=payload.per_child_cents,
        child_age_limit=payload.child_age_limit,
        carry_over=CarryOver(payload.carry_over),
        carry_over_cap_cents=payload.carry_over_cap_cents,
        actor=None,
        decided_by=decided_by,
    )
    return _("Allocation rule in force from %(month)s.") % {"month": f"{month:%m/%Y}"}


# --- the page's fields for the rules ---------------------------------------------------------------------------------


def parse_brackets(text: str) -> list[list[int | None]]:
    """``up to ; suggested`` per line, in euros; the last line has no upper bound (``; 150``)."""
    brackets: list[list[int | None]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.count(";") != 1:
            raise forms.ValidationError(
                _("Line %(n)s: write “up to ; suggested”, for example “900 ; 10”.") % {"n": number}
            )
        up_raw, suggested_raw = (part.strip() for part in line.split(";"))
        try:
            up_to = parse_euros(up_raw) if up_raw else None
            suggested = parse_euros(suggested_raw)
        except ValueError as exc:
            raise forms.ValidationError(
                _("Line %(n)s: amounts in euros, for example 900 or 12,50.") % {"n": number}
            ) from exc
        if suggested < 0 or (up_to is not None and up_to < 0):
            raise forms.ValidationError(_("Line %(n)s: amounts cannot be negative.") % {"n": number})
        brackets.append([up_to, suggested])
    if not brackets:
        raise forms.ValidationError(_("Write at least one line."))
    if brackets[-1][0] is not None:
        raise forms.ValidationError(_("The last line has no upper bound: write it as “; 150”."))
    if any(up is None for up, _suggested in brackets[:-1]):
        raise forms.ValidationError(_("Only the last line may have no upper bound."))
    bounds = [up for up, _suggested in brackets[:-1]]
    if any(b is None or a is None or b <= a for a, b in itertools.pairwise(bounds)):
        raise forms.ValidationError(_("The upper bounds must increase from line to line."))
    return brackets


def format_brackets(brackets: Any) -> str:
    """The other way round, to fill the field with the scale in force."""
    return "\n".join(
        f"{euros_input(up_to) if up_to is not None else ''} ; {euros_input(suggested or 0)}"
        for up_to, suggested in brackets
    )


class BracketsField(forms.CharField):
    """The scale's brackets, one per line, cleaned to ``[[up to, suggested], …]`` in cents."""

    widget = forms.Textarea(attrs={"rows": 6, "spellcheck": "false"})

    def clean(self, value: object) -> list[list[int | None]] | None:
        raw = str(super().clean(value) or "")
        return parse_brackets(raw) if raw.strip() else None


def _scale_fields(territory: Territory) -> dict[str, forms.Field]:
    return {
        "brackets": BracketsField(
            label=gettext_lazy(
                "Brackets: up to (resources per consumption unit) ; suggested contribution, in euros"
            ),
            help_text=gettext_lazy(
                "One bracket per line, for example “900 ; 10”. The last line has no upper bound: “; 150”."
            ),
        ),
        "minimum_cents": EurosField(
            label=gettext_lazy("Minimum contribution a month, in euros"), allow_zero=True
        ),
        "free_choice": forms.BooleanField(
            label=gettext_lazy("Each household may choose its amount at or above the minimum"), initial=True
        ),
    }


def _scale_initial(territory: Territory, today: date) -> dict[str, Any]:
    scale = services.scale_for(territory, today)
    if scale is None:
        return {}
    return {
        "brackets": format_brackets(scale.brackets),
        "minimum_cents": euros_input(scale.minimum_cents),
        "free_choice": scale.free_choice,
    }


def _allocation_fields(territory: Territory) -> dict[str, forms.Field]:
    return {
        "base_cents": EurosField(
            label=gettext_lazy("For the household (first person), in euros"), allow_zero=True
        ),
        "per_additional_person_cents": EurosField(
            label=gettext_lazy("Per additional person, in euros"), allow_zero=True
        ),
        "per_child_cents": EurosField(
            label=gettext_lazy("Extra per child under the age limit, in euros"), allow_zero=True
        ),
        "child_age_limit": forms.IntegerField(
            label=gettext_lazy("Child age limit"), min_value=1, max_value=25, initial=14
        ),
        "carry_over": forms.ChoiceField(
            label=gettext_lazy("Unspent credit at month end"),
            choices=[
                ("keep", gettext_lazy("is kept")),
                ("cap", gettext_lazy("is kept up to a cap")),
                ("return", gettext_lazy("returns to the fund")),
            ],
        ),
        "carry_over_cap_cents": EurosField(
            label=gettext_lazy("Cap, in euros (if kept up to a cap)"), allow_zero=True
        ),
    }


def _allocation_initial(territory: Territory, today: date) -> dict[str, Any]:
    rule = services.rule_for(territory, today)
    if rule is None:
        return {}
    return {
        "base_cents": euros_input(rule.base_cents),
        "per_additional_person_cents": euros_input(rule.per_additional_person_cents),
        "per_child_cents": euros_input(rule.per_child_cents),
        "child_age_limit": rule.child_age_limit,
        "carry_over": rule.carry_over,
        "carry_over_cap_cents": euros_input(rule.carry_over_cap_cents),
    }


# --- beside the open vote: will the fund hold? ----------------------------------------------------------------------


def rule_projection(proposal: Any, *, months: int = 12, scenarios: int = 500) -> tuple[Any, Any] | None:
    """The fund under the current rules and under the proposed ones (``planning.PlanningResult`` each), same seed
    and assumptions, side by side. ``None`` where the fund has no rules yet."""
    payload = dict(proposal.payload)
    overrides: dict[str, Any] = {}
    if proposal.kind == "allocation_rule":
        overrides = {
            "base_cents": payload["base_cents"],
            "per_additional_person_cents": payload.get("per_additional_person_cents", 0),
            "per_child_cents": payload.get("per_child_cents", 0),
            "carry_over": payload.get("carry_over", "keep"),
            "carry_over_cap_cents": payload.get("carry_over_cap_cents", 0),
        }
    elif proposal.kind == "contribution_scale":
        overrides = {
            "brackets": [list(b) for b in payload["brackets"]],
            "minimum_cents": payload.get("minimum_cents", 100),
        }
    today = timezone.localdate()
    scale, rule = services.scale_for(proposal.territory, today), services.rule_for(proposal.territory, today)
    if scale is None or rule is None:
        return None
    # The households are read once, grouped by the bounds of both scales, for both projections.
    bounds = [b[0] for b in scale.brackets] + [b[0] for b in overrides.get("brackets", [])]
    households = planning.household_arrays(proposal.territory, rule.child_age_limit, bounds)
    observed = planning.observe(proposal.territory)  # the books, read once for both
    try:
        current = planning.project_territory(
            proposal.territory, months=months, scenarios=scenarios, households=households, observed=observed
        )
        proposed = planning.project_territory(
            proposal.territory,
            months=months,
            scenarios=scenarios,
            households=households,
            observed=observed,
            **overrides,
        )
    except Conflict:
        return None
    return current, proposed


def _projection_panel(proposal: Any) -> SafeString:
    """The fund under the rules in force and under the proposed ones: a chart and the figures that decide."""
    comparison = rule_projection(proposal, months=12, scenarios=500)
    if comparison is None:
        return render_to_string("fund/_rule_projection.html", {"projection_missing": True})
    current, proposed = comparison[0].projection, comparison[1].projection
    start = timezone.localdate().replace(day=1)
    labels = [f"{shift_month(start, i + 1):%m/%y}" for i in range(proposed.months)]

    def at(values: Sequence[int], month: int) -> int | None:
        return int(values[month - 1]) if len(values) >= month else None

    def money(value: int | None) -> str:
        return "—" if value is None else format_cents(value)

    rows = [
        (
            _("Food credit issued a month"),
            money(current.monthly_allocation_cents),
            money(proposed.monthly_allocation_cents),
        ),
        (
            _("Contributions a month"),
            money(current.monthly_contribution_cents),
            money(proposed.monthly_contribution_cents),
        ),
    ]
    for month in (6, 12):
        rows.append(
            (
                _("In the fund after %(n)s months: median") % {"n": month},
                money(at(current.balance_p50_cents, month)),
                money(at(proposed.balance_p50_cents, month)),
            )
        )
        rows.append(
            (
                _("In the fund after %(n)s months: pessimistic (1 in 20)") % {"n": month},
                money(at(current.balance_p05_cents, month)),
                money(at(proposed.balance_p05_cents, month)),
            )
        )
    rows.append(
        (
            _("Risk the fund runs dry within %(n)s months") % {"n": proposed.months},
            f"{round(100 * current.depletion_probability)} %",
            f"{round(100 * proposed.depletion_probability)} %",
        )
    )
    return render_to_string(
        "fund/_rule_projection.html",
        {
            "projection_rows": rows,
            "projection_chart": charts.compare_bands(
                labels,
                current=(current.balance_p05_cents, current.balance_p50_cents, current.balance_p95_cents),
                proposed=(proposed.balance_p05_cents, proposed.balance_p50_cents, proposed.balance_p95_cents),
                title=_("The fund's euro balance month by month, under the rules in force and as proposed"),
            ),
            "projection_scenarios": proposed.scenarios,
        },
    )


register(
    Kind(
        name="contribution_scale",
        label=gettext_lazy("A new contribution scale"),
        payload=ScalePayload,
        preview=_scale_preview,
        apply=_scale_apply,
        needs_month=True,
        form_fields=_scale_fields,
        initial=_scale_initial,
        panel=_projection_panel,
    )
)
register(
    Kind(
        name="allocation_rule",
        label=gettext_lazy("A new allocation rule"),
        payload=AllocationPayload,
        preview=_allocation_preview,
        apply=_allocation_apply,
        needs_month=True,
        form_fields=_allocation_fields,
        initial=_allocation_initial,
        panel=_projection_panel,
    )
)
