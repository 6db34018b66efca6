"""Forms of the governance pages: a new proposal and its details per kind. They parse; services decide."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grenier.core.forms import DATETIME_INPUT, DateTimeWidget
from grenier.core.models import Territory
from grenier.core.months import MonthField
from grenier.governance import kinds
from grenier.governance.models import Majority


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

    def __init__(
        self,
        *args: Any,
        territory: Territory,
        bodies: list[tuple[int, str]],
        today: date,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].choices = bodies  # type: ignore[attr-defined]
        self.fields["kind"].choices = [(name, kind.label) for name, kind in kinds.REGISTRY.items()]  # type: ignore[attr-defined]
        # Each kind's own fields, named ``<kind>__<payload field>``: only the chosen kind's are read.
        self.kind_fields: dict[str, dict[str, str]] = {}
        self.required_of: dict[str, set[str]] = {}
        for name, kind in kinds.REGISTRY.items():
            starts = kind.initial(territory, today)
            names: dict[str, str] = {}
            for payload_name, field in kind.form_fields(territory).items():
                form_name = f"{name}__{payload_name}"
                payload_field = kind.payload.model_fields.get(payload_name)
                if payload_field is not None and payload_field.is_required():
                    self.required_of.setdefault(name, set()).add(form_name)
                field.required = False
                self.fields[form_name] = field
                if payload_name in starts:
                    self.initial.setdefault(form_name, starts[payload_name])
                names[payload_name] = form_name
            self.kind_fields[name] = names
        self.payload: dict[str, Any] = {}

    def fields_of(self, kind: str) -> list[forms.BoundField]:
        return [self[name] for name in self.kind_fields.get(kind, {}).values()]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        kind = data.get("kind", "")
        for name in self.required_of.get(kind, set()):
            if name not in self.errors and data.get(name) in (None, ""):
                self.add_error(name, _("Needed for this kind of proposal."))
        if not self.errors:
            # A field left empty takes the payload's own default: the kind's payload model is the one place for them.
            self.payload = {
                payload_name: data[form_name]
                for payload_name, form_name in self.kind_fields.get(kind, {}).items()
                if data.get(form_name) not in (None, "")
            }
        return data

    def field_for(self, kind: str, service_name: str) -> str | None:
        """The form field a service error is about: ``closes_at``, or ``payload.base_cents`` →
        ``allocation_rule__base_cents``."""
        if service_name.startswith("payload."):
            parts = service_name.split(".")
            return self.kind_fields.get(kind, {}).get(parts[1]) if len(parts) > 1 else None
        return service_name if service_name in self.fields else None
