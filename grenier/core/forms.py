"""Forms of the pages. They parse and validate input; services decide."""

from __future__ import annotations

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.core.money import parse_euros


class DateWidget(forms.DateInput):
    """The browser's date picker. Its value is always ISO (``2026-11-28``), whatever the page's language: a
    localised ``28/11/2026`` would be dropped by the browser and the field would look empty."""

    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


DATETIME_INPUT = "%Y-%m-%dT%H:%M"


class DateTimeWidget(forms.DateTimeInput):
    """The browser's date-and-time picker: its value is always ``2026-11-28T18:30``, whatever the language."""

    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format=DATETIME_INPUT)


class EurosField(forms.CharField):
    """An amount typed the French way (``12,50``) or the English way (``12.50``), cleaned to integer cents."""

    def __init__(self, *, allow_zero: bool = False, **kwargs: object) -> None:
        self.allow_zero = allow_zero
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def widget_attrs(self, widget: forms.Widget) -> dict[str, str]:
        attrs: dict[str, str] = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        return attrs

    def clean(self, value: object) -> int | None:
        raw = super().clean(value)
        if raw in (None, ""):
            return None
        try:
            cents = parse_euros(str(raw))
        except ValueError as exc:
            raise forms.ValidationError(_("Enter an amount in euros, for example 23,50.")) from exc
        if cents < 0 or (cents == 0 and not self.allow_zero):
            raise forms.ValidationError(_("Enter an amount above zero."))
        return cents


class HouseholdForm(forms.Form):
    name = forms.CharField(
        label=_("Household name"), max_length=150, help_text=_("As the household wishes to be called.")
    )
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    phone = forms.CharField(label=_("Phone (optional)"), max_length=30, required=False)
    monthly_resources = forms.CharField(
        label=_("Declared monthly resources, in euros (optional)"),
        required=False,
        help_text=_("Used later to suggest a contribution. Example: 1 250,00"),
    )
    joined_on = forms.DateField(label=_("Joined on"), initial=timezone.localdate, widget=DateWidget())

    def clean_monthly_resources(self) -> int | None:
        raw = self.cleaned_data["monthly_resources"].strip()
        if not raw:
            return None
        try:
            cents = parse_euros(raw)
        except ValueError as exc:
            raise forms.ValidationError(_("Enter an amount in euros, for example 1 250,00.")) from exc
        if cents < 0:
            raise forms.ValidationError(_("Resources cannot be negative."))
        return cents


class PersonForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateWidget())


PersonFormSet = formset_factory(PersonForm, extra=6, max_num=20)


class LeaveForm(forms.Form):
    on = forms.DateField(label=_("Leaves on"), initial=timezone.localdate, widget=DateWidget())
    confirm = forms.BooleanField(
        label=_("I confirm this household leaves. Its personal data will be erased.")
    )
