"""Forms of the activities' pages: they parse and validate input; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from grenier.activities.models import Audience, PaidIn
from grenier.core.forms import DateTimeWidget, DateWidget, EurosField


def _count(label: object, initial: int) -> forms.IntegerField:
    """A number of persons typed on a phone (0 to 50)."""
    return forms.IntegerField(
        label=label,  # type: ignore[arg-type]
        initial=initial,
        min_value=0,
        max_value=50,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class RegisterForm(forms.Form):
    """A household registers (the household chosen among those the person may register)."""

    household = forms.TypedChoiceField(label=_("Household"), coerce=int)
    adults = _count(_("Adults"), 1)
    children = _count(_("Children"), 0)

    def __init__(self, *args: object, households: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["household"].choices = households  # type: ignore[attr-defined]
        self.only_household = households[0][1] if len(households) == 1 else ""
        if len(households) == 1:
            self.fields["household"].widget = forms.HiddenInput()
            self.fields["household"].initial = households[0][0]


class ClassForm(forms.Form):
    """A school class: a name and a head count, no child's name."""

    class_name = forms.CharField(
        label=_("Class (school and level)"),
        max_length=120,
        help_text=_("For example: CE2, école Jean-Moulin. No child's name."),
    )
    children = forms.IntegerField(
        label=_("Pupils"), min_value=1, max_value=50, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    adults = _count(_("Accompanying adults"), 1)


class ActivityForm(forms.Form):
    kind = forms.TypedChoiceField(label=_("Kind"), coerce=int)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    organiser = forms.ChoiceField(
        label=_("Organiser"),
        required=False,
        help_text=_("A garden, a group, a farm or a kitchen of Grenier."),
    )
    association = forms.CharField(
        label=_("Or an association of the territory"), max_length=200, required=False
    )
    managers = forms.TypedMultipleChoiceField(
        label=_("Who runs it"),
        coerce=int,
        required=False,
        help_text=_("They add its sessions and take attendance. Coordinators always may."),
        widget=forms.CheckboxSelectMultiple,
    )
    payee_store = forms.TypedChoiceField(
        label=_("Store receiving the food credit"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_(
            "An approved store of the territory: a session priced in food credit is paid there, and the fund pays "
            "the store in euros with its monthly settlement. Without one, sessions are free or paid in euros."
        ),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not data.get("organiser") and not str(data.get("association", "")).strip():
            self.add_error("organiser", _("Name at least one organiser."))
        return data


class PayeeStoreForm(forms.Form):
    """The coordinator's choice of the store receiving an activity's food credit."""

    payee_store = ActivityForm.base_fields["payee_store"]


class KindForm(forms.Form):
    name = forms.CharField(label=_("New kind of activity"), max_length=100)


class PriceForm(forms.Form):
    """A session's price: free, or per adult and per child in euros or food credit."""

    paid_in = forms.ChoiceField(
        label=_("Price"),
        choices=PaidIn.choices,
        initial=PaidIn.FREE,
        required=False,
        help_text=_(
            "Food credit is taken from the household's credit when its place is confirmed, paid to the store a "
            "coordinator chose for the activity, and given back if the household cancels in time; euros are paid "
            "to you at the session."
        ),
    )
    price_adult = EurosField(label=_("Per adult (€)"), required=False, allow_zero=True)
    price_child = EurosField(
        label=_("Per child (€)"),
        required=False,
        allow_zero=True,
        help_text=_("Empty or 0: free for children."),
    )


class SessionForm(PriceForm):
    """A new session; its price fields (``PriceForm``) come last."""

    field_order = [
        "day",
        "starts_at",
        "ends_at",
        "place",
        "address",
        "capacity",
        "audience",
        "audience_garden",
        "audience_group",
        "accessibility",
        "registration_deadline",
    ]

    day = forms.DateField(label=_("Date"), widget=DateWidget)
    starts_at = forms.TimeField(
        label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    ends_at = forms.TimeField(
        label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    place = forms.ChoiceField(label=_("Place of Grenier"), required=False)
    address = forms.CharField(
        label=_("Address"),
        max_length=300,
        required=False,
        help_text=_("Or in addition to the place: how to find it."),
    )
    capacity = forms.IntegerField(label=_("Places (persons)"), min_value=1, max_value=10_000)
    audience = forms.ChoiceField(label=_("Who may come"), choices=Audience.choices)
    audience_garden = forms.TypedChoiceField(
        label=_("Garden (its members only)"), coerce=int, required=False, empty_value=None
    )
    audience_group = forms.TypedChoiceField(
        label=_("Buying group (its members only)"), coerce=int, required=False, empty_value=None
    )
    accessibility = forms.CharField(
        label=_("Accessibility"),
        max_length=500,
        required=False,
        help_text=_("Step-free access, parking, what to bring…"),
    )
    registration_deadline = forms.DateTimeField(
        label=_("Registrations and cancellations until"),
        required=False,
        widget=DateTimeWidget,
        help_text=_("Empty: the day before at noon."),
    )


class AttendanceForm(forms.Form):
    attended = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda value: value == "1")


class WalkInForm(forms.Form):
    card = forms.CharField(
        label=_("Card number (optional)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    adults = _count(_("Adults"), 1)
    children = _count(_("Children"), 0)


class SlotForm(forms.Form):
    """A call for volunteers on a session or a distribution (chosen among those the person runs)."""

    target = forms.ChoiceField(label=_("For"))
    task = forms.CharField(label=_("Task"), max_length=200, help_text=_("e.g. welcome, hand out the baskets"))
    starts_at = forms.TimeField(
        label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    ends_at = forms.TimeField(
        label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    places = forms.IntegerField(
        label=_("Volunteers wanted"),
        initial=2,
        min_value=1,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class HoursForm(forms.Form):
    """The time a volunteer gave: hours and minutes, kept as minutes."""

    hours = forms.IntegerField(
        label=_("Hours"), min_value=0, max_value=12, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    minutes = forms.IntegerField(
        label=_("Minutes"),
        min_value=0,
        max_value=59,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def total(self) -> int:
        return int(self.cleaned_data["hours"]) * 60 + int(self.cleaned_data["minutes"])
