"""Forms of the fund's pages: they parse euros (months with ``grenier.core.months``); services decide."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.core.forms import DateWidget, EurosField
from grenier.core.months import MonthField, month_name
from grenier.fund.models import FunderKind


class PaymentForm(forms.Form):
    store = forms.TypedChoiceField(label=_("Store"), coerce=int)
    card = forms.CharField(
        label=_("Card number"),
        max_length=30,
        help_text=_("Type the 12 digits, or scan the card's QR code."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "autofocus": True}),
    )
    amount = EurosField(label=_("Purchase total, in euros"))
    code = forms.CharField(
        label=_("Member's personal code (if they have one)"),
        max_length=6,
        required=False,
        help_text=_("The member types it themselves."),
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args: object, stores: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["store"].choices = stores  # type: ignore[attr-defined]
        if len(stores) == 1:
            self.fields["store"].widget = forms.HiddenInput()
            self.fields["store"].initial = stores[0][0]


class RefundForm(forms.Form):
    amount = EurosField(label=_("Food credit to give back, in euros"))


class PaymentCodeForm(forms.Form):
    code = forms.CharField(
        label=_("New personal code (4 to 6 digits)"),
        min_length=4,
        max_length=6,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "new-password"}),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        if not code.isdigit():
            raise forms.ValidationError(_("Digits only."))
        return code


class ContributionForm(forms.Form):
    amount = EurosField(label=_("My monthly contribution, in euros"))


class RunForm(forms.Form):
    month = MonthField(label=_("Month to run"), initial=lambda: month_name(timezone.localdate()))


class SettleForm(forms.Form):
    month = MonthField(label=_("Month to settle"))


class MarkPaidForm(forms.Form):
    reference = forms.CharField(label=_("Transfer reference (optional)"), max_length=100, required=False)


class StoreForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.CharField(label=_("Kind (grocery, market, bakery…)"), max_length=100, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)


class ApproveForm(forms.Form):
    coverage_percent = forms.IntegerField(
        label=_("Share of a purchase paid in food credit (%)"), min_value=1, max_value=100, initial=100
    )


class AllocationRuleForm(forms.Form):
    effective_month = MonthField(label=_("Takes effect from (month)"))
    base = EurosField(label=_("For the household (first person), in euros"))
    per_additional_person = EurosField(label=_("Per additional person, in euros"), allow_zero=True)
    per_child = EurosField(label=_("Extra per child under the age limit, in euros"), allow_zero=True)
    child_age_limit = forms.IntegerField(label=_("Child age limit"), min_value=1, max_value=25, initial=14)
    carry_over = forms.ChoiceField(
        label=_("Unspent credit at month end"),
        choices=[
            ("keep", _("is kept")),
            ("cap", _("is kept up to a cap")),
            ("return", _("returns to the fund")),
        ],
    )
    carry_over_cap = EurosField(
        label=_("Cap, in euros (if kept up to a cap)"), allow_zero=True, required=False
    )


class GrantForm(forms.Form):
    funder = forms.TypedChoiceField(label=_("Funder"), coerce=int)
    amount = EurosField(label=_("Amount received, in euros"))
    received_on = forms.DateField(label=_("Received on"), initial=timezone.localdate, widget=DateWidget())
    purpose = forms.CharField(label=_("Purpose (optional)"), max_length=300, required=False)

    def __init__(self, *args: object, funders: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["funder"].choices = funders  # type: ignore[attr-defined]


class FunderForm(forms.Form):
    name = forms.CharField(label=_("Funder's name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=FunderKind.choices)


class ProjectionForm(forms.Form):
    months = forms.IntegerField(label=_("Months ahead"), min_value=1, max_value=36, initial=12)
    base = EurosField(label=_("Allocation for the household, in euros"), required=False)
    per_additional_person = EurosField(
        label=_("Per additional person, in euros"), allow_zero=True, required=False
    )
    monthly_grants = EurosField(
        label=_("Grants expected per month, in euros"), allow_zero=True, required=False
    )


class ReferralForm(forms.Form):
    """A social worker refers a household to the common fund: a member household by its card, or a new one."""

    card = forms.CharField(
        label=_("Card number of a member household"),
        max_length=30,
        required=False,
        help_text=_(
            "If the household is already a member of a garden or a buying group. Otherwise fill in the fields "
            "below."
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("New household: name"), max_length=150, required=False)
    first_name = forms.CharField(label=_("First name of the contact person"), max_length=100, required=False)
    persons = forms.IntegerField(
        label=_("Number of persons"), min_value=1, max_value=20, initial=1, required=False
    )
    phone = forms.CharField(label=_("Phone (optional)"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    note = forms.CharField(
        label=_("Note for the coordinator (optional)"),
        max_length=300,
        required=False,
        help_text=_("No detail of the household's situation: only what the coordinator needs to take it in."),
    )
    consent = forms.BooleanField(
        label=_(
            "The household agrees to join the common fund and to share these details with its coordinators."
        ),
        required=False,
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the referral is declined"),
        max_length=300,
        help_text=_("The social worker who made it reads it."),
    )
