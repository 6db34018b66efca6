"""Forms of the buying groups' pages. They parse euros, dates and quantities; services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grenier.core.forms import DATETIME_INPUT, DateTimeWidget, DateWidget, EurosField
from grenier.core.models import PaymentMethod
from grenier.orders.models import CycleProduct, PayoutMethod, Unit


def _choices(form: forms.Form, name: str, choices: list[tuple[int, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)  # noqa: S101 - a programming error, not input
    field.choices = choices


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name of the group"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tiers = forms.CharField(
        label=_("Price tiers (% of the price)"),
        initial="70, 100, 130",
        help_text=_(
            "Separated by commas. 100 is the full price; below it the pot helps, above it a household helps."
        ),
    )
    pickup_point = forms.CharField(label=_("First pickup point"), max_length=200)

    def clean_tiers(self) -> list[int]:
        try:
            values = [
                int(part) for part in self.cleaned_data["tiers"].replace(";", ",").split(",") if part.strip()
            ]
        except ValueError as exc:
            raise forms.ValidationError(
                _("Whole percentages separated by commas, for example 70, 100, 130.")
            ) from exc
        if not values:
            raise forms.ValidationError(_("At least one tier."))
        return values


class PickupPointForm(forms.Form):
    name = forms.CharField(label=_("Pickup point"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    hours = forms.CharField(label=_("Opening hours"), max_length=200, required=False)


class MemberAddForm(forms.Form):
    household = forms.TypedChoiceField(label=_("Household"), coerce=int)
    tier = forms.TypedChoiceField(label=_("Tier"), coerce=int)

    def __init__(
        self, *args: Any, households: list[tuple[int, str]], tiers: list[tuple[int, str]], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        _choices(self, "household", households)
        _choices(self, "tier", tiers)


class MemberCardForm(forms.Form):
    """A group's coordinator adds a household by its card number (no list of the territory's households)."""

    card = forms.CharField(
        label=_("Card number of the household"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    tier = forms.TypedChoiceField(label=_("Tier"), coerce=int)

    def __init__(self, *args: Any, tiers: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choices(self, "tier", tiers)


class ReferredTierForm(forms.Form):
    """A social worker sets the tier of a household they referred, in one group."""

    group = forms.IntegerField(widget=forms.HiddenInput)
    tier = forms.TypedChoiceField(label=_("Tier"), coerce=int)

    def __init__(self, *args: Any, tiers: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choices(self, "tier", tiers)


class PayoutForm(forms.Form):
    producer = forms.IntegerField(widget=forms.HiddenInput)
    amount = EurosField(label=_("Amount paid, in euros"))
    method = forms.ChoiceField(label=_("Paid by"), choices=PayoutMethod.choices)
    reference = forms.CharField(label=_("Reference"), max_length=120, required=False)


class TierForm(forms.Form):
    tier = forms.TypedChoiceField(label=_("My tier"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args: Any, tiers: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choices(self, "tier", tiers)


class ReferralTierForm(forms.Form):
    tier = forms.TypedChoiceField(label=_("Tier"), coerce=int)
    referral = forms.CharField(
        label=_("Set by a referral (which one)"),
        max_length=200,
        required=False,
        help_text=_(
            "A social worker's referral, e.g. CCAS, 12 March. The household can no longer change it."
        ),
    )

    def __init__(self, *args: Any, tiers: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choices(self, "tier", tiers)


class CycleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    opens_at = forms.DateTimeField(
        label=_("Opens at"), widget=DateTimeWidget(), input_formats=[DATETIME_INPUT]
    )
    closes_at = forms.DateTimeField(
        label=_("Closes at"), widget=DateTimeWidget(), input_formats=[DATETIME_INPUT]
    )
    delivery_date = forms.DateField(label=_("Delivery date"), widget=DateWidget())
    pickup_point = forms.TypedChoiceField(label=_("Pickup point"), coerce=int)
    products = forms.TypedMultipleChoiceField(
        label=_("Products"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    round_to_cases = forms.BooleanField(
        label=_("Round each product to whole cases at the close (the latest orders are trimmed)"),
        required=False,
    )

    def __init__(
        self, *args: Any, points: list[tuple[int, str]], products: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "pickup_point", points)
        _choices(self, "products", products)


class OrderForm(forms.Form):
    """One quantity field per product of the cycle, named ``quantity_<id>``."""

    def __init__(
        self, *args: Any, products: list[CycleProduct], initial_quantities: dict[int, int], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.products = products
        for product in products:
            self.fields[f"quantity_{product.pk}"] = forms.IntegerField(
                label=product.name,
                min_value=0,
                max_value=10_000,
                required=False,
                initial=initial_quantities.get(product.pk, 0),
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty"}),
            )

    def quantities(self) -> dict[int, int]:
        return {p.pk: int(self.cleaned_data.get(f"quantity_{p.pk}") or 0) for p in self.products}


class CoverForm(forms.Form):
    funder = forms.TypedChoiceField(label=_("Funder"), coerce=int)
    amount = EurosField(label=_("Amount covered, in euros"))

    def __init__(self, *args: Any, funders: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choices(self, "funder", funders)


class PaymentForm(forms.Form):
    method = forms.ChoiceField(label=_("Paid by"), choices=PaymentMethod.choices)
    amount = EurosField(label=_("Amount, in euros"))
    code = forms.CharField(
        label=_("Member's personal code (food credit, if they have one)"),
        max_length=6,
        required=False,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Product"), max_length=150)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices)
    price = EurosField(label=_("Price per unit, in euros"))
    case_size = forms.IntegerField(label=_("Units per case"), min_value=1, initial=1)
    stock = forms.IntegerField(
        label=_("Stock (units)"), min_value=0, required=False, help_text=_("Empty: no limit.")
    )
    is_active = forms.BooleanField(label=_("Offered"), required=False, initial=True)


class CloseForm(forms.Form):
    """The close's confirmation: always ticked by hand; before the announced closing time, the early close too."""

    confirm = forms.BooleanField(
        label=_("I have checked the quantities above: close the cycle and freeze every order"), required=True
    )
    early = forms.BooleanField(
        label=_("Close early, before the announced time: members can no longer order from now on"),
        required=False,
    )

    def __init__(self, *args: Any, early: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if early:
            self.fields["early"].required = True
        else:
            del self.fields["early"]
        self.is_early = early
