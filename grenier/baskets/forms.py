"""Forms of the baskets' pages: they parse and validate input; services decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.baskets.models import BasketSize, Frequency, Weekday, WorkshopKind
from grenier.core.forms import DateWidget, EurosField
from grenier.core.models import PaymentMethod


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
    persons = forms.IntegerField(
        label=_("Number of persons"), min_value=1, max_value=20, initial=1, required=False
    )
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
            self.add_error("end", _("The period must end after it starts."))
        return data


# --- the coordinator's reference data ------------------------------------------------------------------------------


def euros_text(cents: int | None) -> str:
    """Cents as a form shows them back (``12,50``)."""
    return "" if cents is None else f"{cents // 100},{cents % 100:02d}"


class TimeWidget(forms.TimeInput):
    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


class GardenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    store = forms.TypedChoiceField(
        label=_("Point of sale of the common fund"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Members may pay their part in food credit where this store is approved."),
    )

    def __init__(self, *args: object, stores: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["store"].choices = [("", _("None")), *stores]  # type: ignore[attr-defined]


class OfferForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    size = forms.ChoiceField(label=_("Size"), choices=BasketSize.choices)
    price = EurosField(
        label=_("Price, in euros"),
        help_text=_("A new price applies to the baskets not yet on a sheet."),
    )
    season_start = forms.DateField(label=_("Season starts"), widget=DateWidget())
    season_end = forms.DateField(label=_("Season ends"), widget=DateWidget())
    weekday = forms.TypedChoiceField(label=_("Distribution day"), coerce=int, choices=Weekday.choices)
    active = forms.BooleanField(label=_("Open to new subscriptions"), required=False, initial=True)


class PickupPointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    weekday = forms.TypedChoiceField(label=_("Day"), coerce=int, choices=Weekday.choices)
    opens_at = forms.TimeField(label=_("Opens at"), widget=TimeWidget())
    volunteers = forms.TypedMultipleChoiceField(
        label=_("Volunteers"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Chosen among the territory's cashiers: they check this point's sheets off."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: object, cashiers: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["volunteers"].choices = cashiers  # type: ignore[attr-defined]


class AgreementForm(forms.Form):
    funder = forms.TypedChoiceField(label=_("Funder"), coerce=int)
    name = forms.CharField(label=_("Reference"), max_length=200)
    share_percent = forms.DecimalField(
        label=_("Share of each basket's price, in %"),
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        decimal_places=2,
        required=False,
        help_text=_("Either a share or a fixed amount per basket, not both."),
    )
    amount_per_basket = EurosField(label=_("Or a fixed amount per basket, in euros"), required=False)
    budget = EurosField(label=_("Budget, in euros"))
    starts_on = forms.DateField(label=_("From"), widget=DateWidget())
    ends_on = forms.DateField(label=_("To"), widget=DateWidget())
    priority = forms.IntegerField(
        label=_("Priority"), min_value=1, max_value=99, initial=1, help_text=_("1 pays first.")
    )

    def __init__(self, *args: object, funders: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["funder"].choices = funders  # type: ignore[attr-defined]


class SettingsForm(forms.Form):
    member_cap_percent = forms.DecimalField(
        label=_("The most a member pays, in % of the price"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        help_text=_("30 % by default. Baskets already booked keep their split."),
    )
    warn_weeks = forms.IntegerField(
        label=_("Warn the coordinators this many weeks before budgets run short"), min_value=0, max_value=52
    )


class FunderPaymentForm(forms.Form):
    start = forms.DateField(label=_("For the baskets from"), widget=DateWidget())
    end = forms.DateField(label=_("To"), widget=DateWidget())
    amount = EurosField(label=_("Amount received, in euros"))
    received_on = forms.DateField(label=_("Received on"), initial=timezone.localdate, widget=DateWidget())
    reference = forms.CharField(label=_("Transfer reference"), max_length=100, required=False)
    agreement = forms.TypedChoiceField(
        label=_("Agreement"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Leave empty to split the payment among the funder's agreements by priority."),
    )

    def __init__(self, *args: object, agreements: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["agreement"].choices = [("", _("All its agreements")), *agreements]  # type: ignore[attr-defined]
