"""Forms of the baskets' pages: they parse and validate input; services decide."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.baskets.models import Frequency, PaymentMethod, WorkshopKind
from grenier.core.forms import DateWidget
from grenier.fund.forms import EurosField


class ReferralForm(forms.Form):
    garden = forms.TypedChoiceField(label=_("Garden"), coerce=int)
    card = forms.CharField(
        label=_("Card number of a member household"),
        max_length=30,
        required=False,
        help_text=_(
            "If the household is already a member of the territory. Otherwise fill in the fields below."
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("New household: name"), max_length=150, required=False)
    first_name = forms.CharField(label=_("First name of the contact person"), max_length=100, required=False)
    persons = forms.IntegerField(label=_("Number of persons"), min_value=1, max_value=20, initial=1)
    phone = forms.CharField(label=_("Phone (optional)"), max_length=30, required=False)
    member_share_percent = forms.IntegerField(
        label=_("Member's part, in % (optional)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Only if lower than the usual cap."),
    )
    note = forms.CharField(label=_("Note for the garden (optional)"), max_length=300, required=False)
    consent = forms.BooleanField(
        label=_("The household agrees to be referred and to share these details with the garden."),
        required=False,
    )

    def __init__(self, *args: object, gardens: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["garden"].choices = gardens  # type: ignore[attr-defined]
        if len(gardens) == 1:
            self.fields["garden"].initial = gardens[0][0]


class SubscribeForm(forms.Form):
    offer = forms.TypedChoiceField(label=_("Basket"), coerce=int)
    pickup_point = forms.TypedChoiceField(label=_("Pickup point"), coerce=int)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Frequency.choices, initial=Frequency.WEEKLY)
    start_on = forms.DateField(label=_("From"), initial=timezone.localdate, widget=DateWidget())

    def __init__(
        self,
        *args: object,
        offers: list[tuple[int, str]],
        points: list[tuple[int, str]],
        households: list[tuple[int, str]] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["offer"].choices = offers  # type: ignore[attr-defined]
        self.fields["pickup_point"].choices = points  # type: ignore[attr-defined]
        if households is not None:
            self.fields["household"] = forms.TypedChoiceField(
                label=_("Household"), coerce=int, choices=households
            )
            self.order_fields(["household", "offer", "pickup_point", "frequency", "start_on"])


class DayForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DateWidget())


class GenerateForm(forms.Form):
    day = forms.DateField(label=_("Week of"), initial=timezone.localdate, widget=DateWidget())


class PaymentForm(forms.Form):
    card = forms.CharField(
        label=_("Card number"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    amount = EurosField(label=_("Amount, in euros"))
    method = forms.ChoiceField(label=_("Paid by"), choices=PaymentMethod.choices)
    reference = forms.CharField(
        label=_("Cheque number or transfer reference"), max_length=100, required=False
    )
    code = forms.CharField(
        label=_("Member's personal code (food credit, if they have one)"),
        max_length=6,
        required=False,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class WorkshopForm(forms.Form):
    on = forms.DateField(label=_("Date"), initial=timezone.localdate, widget=DateWidget())
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=WorkshopKind.choices)
    participants = forms.IntegerField(label=_("Participants"), min_value=0, initial=0)


class PeriodForm(forms.Form):
    funder = forms.TypedChoiceField(label=_("Funder"), coerce=int)
    start = forms.DateField(label=_("From"), widget=DateWidget())
    end = forms.DateField(label=_("To"), widget=DateWidget())

    def __init__(self, *args: object, funders: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["funder"].choices = funders  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The period ends after it starts."))
        return data
