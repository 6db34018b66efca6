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
