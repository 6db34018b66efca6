"""Forms of the governance pages: a new proposal and its details per kind. They parse; services decide."""

from __future__ import annotations

import itertools
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grenier.core.forms import DATETIME_INPUT, DateTimeWidget, EurosField
from grenier.core.money import parse_euros
from grenier.core.months import MonthField
from grenier.governance import kinds
from grenier.governance.models import Majority


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


def euros_input(cents: int) -> str:
    """Cents as one types them in a field: ``900`` or ``12,50``."""
    euros, rest = divmod(int(cents), 100)
    return f"{euros}" if not rest else f"{euros},{rest:02d}"


def format_brackets(brackets: Any) -> str:
    """The other way round, to fill the field with the scale in force."""
    return "\n".join(
        f"{euros_input(up_to) if up_to is not None else ''} ; {euros_input(suggested or 0)}"
        for up_to, suggested in brackets
    )


# Where each kind's payload fields live in the form, and which service name each one answers to.
PAYLOAD_FIELDS: dict[str, dict[str, str]] = {
    "allocation_rule": {
        "base_cents": "alloc_base",
        "per_additional_person_cents": "alloc_per_person",
        "per_child_cents": "alloc_per_child",
        "child_age_limit": "alloc_child_age_limit",
        "carry_over": "alloc_carry_over",
        "carry_over_cap_cents": "alloc_carry_over_cap",
    },
    "contribution_scale": {
        "brackets": "scale_brackets",
        "minimum_cents": "scale_minimum",
        "free_choice": "scale_free_choice",
    },
    "store_approve": {"store_id": "approve_store", "coverage_percent": "approve_coverage"},
    "store_suspend": {"store_id": "suspend_store"},
    "producer_admit": {"email": "producer_email", "farm": "producer_farm"},
    "motion": {},
}
# Fields a kind cannot do without (the others have a default).
REQUIRED: dict[str, set[str]] = {
    "allocation_rule": {"alloc_base"},
    "contribution_scale": {"scale_brackets"},
    "store_approve": {"approve_store"},
    "store_suspend": {"suspend_store"},
    "producer_admit": {"producer_email"},
}


class ProposalForm(forms.Form):
    body = forms.TypedChoiceField(label=_("Put to"), coerce=int)
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("The proposal, in your words"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Why, what for, what it changes. Plain text: line breaks are kept."),
    )
    kind = forms.ChoiceField(
        label=_("What it changes in Grenier"),
        help_text=_("If it is adopted, Grenier applies it by itself. Fill in the matching details below."),
    )
    opens_at = forms.DateTimeField(
        label=_("Voting opens"), widget=DateTimeWidget(), input_formats=[DATETIME_INPUT]
    )
    closes_at = forms.DateTimeField(
        label=_("Voting closes"), widget=DateTimeWidget(), input_formats=[DATETIME_INPUT]
    )
    quorum_percent = forms.IntegerField(
        label=_("Quorum: share of the members who must take part (%)"),
        min_value=0,
        max_value=100,
        initial=0,
        help_text=_("0 for no quorum."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    majority = forms.ChoiceField(
        label=_("Majority needed"), choices=Majority.choices, initial=Majority.SIMPLE
    )
    secret = forms.BooleanField(
        label=_("Secret ballot"),
        required=False,
        initial=True,
        help_text=_(
            "Nobody, not even Grenier, can tell who chose what. Otherwise names and choices are shown."
        ),
    )
    effective_month = MonthField(
        label=_("Takes effect from (month)"),
        required=False,
        help_text=_("For the fund's rules: the month the vote closes, or later, for example janvier 2027."),
    )

    # a new allocation rule
    alloc_base = EurosField(
        label=_("For the household (first person), in euros"), allow_zero=True, required=False
    )
    alloc_per_person = EurosField(label=_("Per additional person, in euros"), allow_zero=True, required=False)
    alloc_per_child = EurosField(
        label=_("Extra per child under the age limit, in euros"), allow_zero=True, required=False
    )
    alloc_child_age_limit = forms.IntegerField(
        label=_("Child age limit"), min_value=1, max_value=25, initial=14, required=False
    )
    alloc_carry_over = forms.ChoiceField(
        label=_("Unspent credit at month end"),
        required=False,
        choices=[
            ("keep", _("is kept")),
            ("cap", _("is kept up to a cap")),
            ("return", _("returns to the fund")),
        ],
    )
    alloc_carry_over_cap = EurosField(
        label=_("Cap, in euros (if kept up to a cap)"), allow_zero=True, required=False
    )
    # a new contribution scale
    scale_brackets = forms.CharField(
        label=_("Brackets: up to (resources per consumption unit) ; suggested contribution, in euros"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=_(
            "One bracket per line, for example “900 ; 10”. The last line has no upper bound: “; 150”."
        ),
    )
    scale_minimum = EurosField(
        label=_("Minimum contribution a month, in euros"), allow_zero=True, required=False
    )
    scale_free_choice = forms.BooleanField(
        label=_("Each household may choose its amount at or above the minimum"), required=False, initial=True
    )
    # a point of sale
    approve_store = forms.TypedChoiceField(label=_("Store to approve"), coerce=int, required=False)
    approve_coverage = forms.IntegerField(
        label=_("Share of a purchase paid in food credit (%)"),
        min_value=1,
        max_value=100,
        initial=100,
        required=False,
    )
    suspend_store = forms.TypedChoiceField(label=_("Store to suspend"), coerce=int, required=False)
    # a producer
    producer_email = forms.EmailField(label=_("Producer's e-mail"), required=False)
    producer_farm = forms.CharField(label=_("Farm's name (optional)"), max_length=200, required=False)

    def __init__(
        self,
        *args: Any,
        bodies: list[tuple[int, str]],
        stores: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].choices = bodies  # type: ignore[attr-defined]
        self.fields["kind"].choices = [(name, kind.label) for name, kind in kinds.REGISTRY.items()]  # type: ignore[attr-defined]
        choose = [("", _("— choose a store —"))]
        self.fields["approve_store"].choices = choose + stores  # type: ignore[attr-defined]
        self.fields["suspend_store"].choices = choose + stores  # type: ignore[attr-defined]
        self.payload: dict[str, Any] = {}

    def fields_of(self, kind: str) -> list[forms.BoundField]:
        return [self[name] for name in PAYLOAD_FIELDS.get(kind, {}).values()]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        kind = data.get("kind", "")
        for name in REQUIRED.get(kind, set()):
            if name not in self.errors and data.get(name) in (None, ""):
                self.add_error(name, _("Needed for this kind of proposal."))
        if (
            kind == "contribution_scale"
            and data.get("scale_brackets")
            and "scale_brackets" not in self.errors
        ):
            try:
                data["scale_brackets"] = parse_brackets(data["scale_brackets"])
            except forms.ValidationError as exc:
                self.add_error("scale_brackets", exc)
        if not self.errors:
            self.payload = self._payload(kind, data)
        return data

    @staticmethod
    def _payload(kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """The payload the service expects, from the fields of ``kind``; defaults where a field is left empty."""
        if kind == "allocation_rule":
            return {
                "base_cents": data["alloc_base"],
                "per_additional_person_cents": data.get("alloc_per_person") or 0,
                "per_child_cents": data.get("alloc_per_child") or 0,
                "child_age_limit": data.get("alloc_child_age_limit") or 14,
                "carry_over": data.get("alloc_carry_over") or "keep",
                "carry_over_cap_cents": data.get("alloc_carry_over_cap") or 0,
            }
        if kind == "contribution_scale":
            minimum = data.get("scale_minimum")
            return {
                "brackets": data["scale_brackets"],
                "minimum_cents": 100 if minimum is None else minimum,
                "free_choice": bool(data.get("scale_free_choice")),
            }
        if kind == "store_approve":
            return {
                "store_id": data["approve_store"],
                "coverage_percent": data.get("approve_coverage") or 100,
            }
        if kind == "store_suspend":
            return {"store_id": data["suspend_store"]}
        if kind == "producer_admit":
            return {"email": data["producer_email"], "farm": data.get("producer_farm") or ""}
        return {}

    def field_for(self, kind: str, service_name: str) -> str | None:
        """The form field a service error is about: ``closes_at``, or ``payload.base_cents`` → ``alloc_base``."""
        if service_name.startswith("payload."):
            parts = service_name.split(".")
            return PAYLOAD_FIELDS.get(kind, {}).get(parts[1]) if len(parts) > 1 else None
        return service_name if service_name in self.fields else None
