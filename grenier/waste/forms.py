"""Forms of the biowaste pages: they parse what is typed (kilograms the French way, ``12,5``) into the services'
arguments; the services decide."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from grenier.core.forms import DateWidget
from grenier.supply.models import Kitchen, Producer
from grenier.waste.models import Campaign, Destination, MealService, Phase


class KilogramsField(forms.CharField):
    """A weight typed in kilograms (``12,5``, ``12.5``, ``0,350``), cleaned to integer grams. Blank is 0 where the
    field is not required; anything finer than a gram is refused."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def widget_attrs(self, widget: forms.Widget) -> dict[str, str]:
        attrs: dict[str, str] = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "autocomplete": "off", "placeholder": "0,0"})
        return attrs

    def clean(self, value: object) -> int:
        raw = str(super().clean(value) or "").strip()
        if not raw:
            return 0
        text = raw.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            kilograms = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError(_("Type a weight in kilograms, for example 12,5.")) from None
        if not kilograms.is_finite():
            raise forms.ValidationError(_("Type a weight in kilograms, for example 12,5."))
        if kilograms < 0:
            raise forms.ValidationError(_("A weight cannot be negative."))
        grams = kilograms * 1000
        if grams != grams.to_integral_value():
            raise forms.ValidationError(_("To the gram at most: three decimals."))
        if grams > 1_000_000_000:
            raise forms.ValidationError(_("Check the weight: it is in kilograms."))
        return int(grams)


class WeighingForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=DateWidget())
    service = forms.ChoiceField(label=_("Service"), choices=MealService.choices, widget=forms.RadioSelect)
    meals = forms.IntegerField(
        label=_("Meals served"),
        min_value=0,
        max_value=1_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    preparation = KilogramsField(
        label=_("Preparation losses (kg)"), help_text=_("Peelings, trimmings, spoilt.")
    )
    unserved = KilogramsField(label=_("Unserved leftovers (kg)"), help_text=_("Cooked, never served."))
    plate = KilogramsField(label=_("Plate waste (kg)"), help_text=_("Left on the plates and trays."))
    bread = KilogramsField(label=_("Bread (kg)"))
    note = forms.CharField(label=_("Note"), required=False, max_length=300)
    confirm = forms.BooleanField(label=_("Yes, these figures are right"), required=False)

    def __init__(self, *args: object, services: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["service"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [(value, label) for value, label in MealService.choices if value in services]


class CorrectionForm(WeighingForm):
    """A recorded weighing's figures, corrected: its day and service stay."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, services=[], **kwargs)
        del self.fields["day"]
        del self.fields["service"]


class CampaignForm(forms.Form):
    kitchen: forms.ModelChoiceField[Kitchen] = forms.ModelChoiceField(
        label=_("Kitchen"), queryset=Kitchen.objects.none(), empty_label=None
    )
    name = forms.CharField(
        label=_("Name"), max_length=150, help_text=_("E.g. “Autumn, before the new menu”.")
    )
    phase = forms.ChoiceField(
        label=_("When"), choices=Phase.choices, widget=forms.RadioSelect, initial=Phase.BEFORE
    )
    action = forms.CharField(
        label=_("The action"),
        required=False,
        max_length=300,
        help_text=_("What changes between the campaigns: a new menu, portion sizes, a talk with the pupils…"),
    )
    starts_on = forms.DateField(label=_("First day"), widget=DateWidget())
    ends_on = forms.DateField(label=_("Last day"), widget=DateWidget())
    services = forms.MultipleChoiceField(
        label=_("Services weighed"),
        choices=MealService.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[MealService.LUNCH],
        required=False,
    )
    weighed_by = forms.CharField(
        label=_("Who weighs"),
        required=False,
        max_length=200,
        help_text=_("E.g. the kitchen team and two pupils."),
    )
    compares_with: forms.ModelChoiceField[Campaign] = forms.ModelChoiceField(
        label=_("Compare with"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=_("No earlier campaign"),
        help_text=_("An earlier campaign of the same kitchen, before the action."),
    )

    def __init__(self, *args: object, kitchens: object, campaigns: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["kitchen"].queryset = kitchens  # type: ignore[attr-defined]
        self.fields["compares_with"].queryset = campaigns  # type: ignore[attr-defined]
        self.fields["compares_with"].label_from_instance = _campaign_label  # type: ignore[attr-defined]


def _campaign_label(campaign: Campaign) -> str:
    return f"{campaign.kitchen.name} — {campaign.name} ({campaign.starts_on:%d/%m/%Y})"


class DeliveryForm(forms.Form):
    kitchen: forms.ModelChoiceField[Kitchen] = forms.ModelChoiceField(
        label=_("Kitchen"), queryset=Kitchen.objects.none(), empty_label=None
    )
    day = forms.DateField(label=_("Day"), widget=DateWidget())
    weight = KilogramsField(label=_("Weight (kg)"), required=True)
    kind = forms.ChoiceField(
        label=_("Sent to"), choices=Destination.choices, widget=forms.RadioSelect, initial=Destination.FARM
    )
    producer: forms.ModelChoiceField[Producer] = forms.ModelChoiceField(
        label=_("Farm"), queryset=Producer.objects.none(), required=False, empty_label=_("Choose the farm")
    )
    destination = forms.CharField(
        label=_("Or where"),
        required=False,
        max_length=200,
        help_text=_("The composting site or the actor, when it is not a farm of the platform."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args: object, kitchens: object, farms: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["kitchen"].queryset = kitchens  # type: ignore[attr-defined]
        self.fields["producer"].queryset = farms  # type: ignore[attr-defined]
