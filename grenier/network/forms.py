"""Forms of the map's pages: they parse what a person types; ``network.services`` decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grenier.core.forms import DateWidget
from grenier.network.models import (
    Actor,
    ActorKind,
    DocumentKind,
    Level,
    People,
    ResourceKind,
    Scale,
    Sort,
    Theme,
)


class FilterForm(forms.Form):
    """The map's filters, read from the query string; every one may be left empty."""

    kind = forms.ChoiceField(
        label=_("Kind of actor"), required=False, choices=[("", _("every kind")), *ActorKind.choices]
    )
    level = forms.TypedChoiceField(
        label=_("Level at least"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("every level")), *Level.choices],
    )
    theme = forms.ChoiceField(
        label=_("Theme"), required=False, choices=[("", _("every theme")), *Theme.choices]
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[("", _("every sort")), *Sort.choices])
    since = forms.DateField(label=_("From"), required=False, widget=DateWidget())
    until = forms.DateField(label=_("To"), required=False, widget=DateWidget())


class ActorForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=ActorKind.choices)
    scale = forms.ChoiceField(label=_("Scale"), choices=Scale.choices, initial=Scale.NON_PROFIT)
    description = forms.CharField(
        label=_("What it does"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    address = forms.CharField(label=_("Address"), required=False, max_length=300)
    latitude = forms.DecimalField(label=_("Latitude"), required=False, max_digits=9, decimal_places=6)
    longitude = forms.DecimalField(label=_("Longitude"), required=False, max_digits=9, decimal_places=6)
    contact_name = forms.CharField(label=_("Contact person"), required=False, max_length=150)
    contact_phone = forms.CharField(label=_("Contact phone"), required=False, max_length=30)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)


class ResourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ResourceKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, max_length=2000)
    shareable = forms.BooleanField(label=_("May be lent to another actor"), required=False, initial=True)
    terms = forms.CharField(label=_("On what terms"), required=False, max_length=300)


def _actor_choices(actors: Any) -> list[tuple[int, str]]:
    return [(a.pk, a.name) for a in actors]


class CooperationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    actors = forms.TypedMultipleChoiceField(
        label=_("Actors (two or more)"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    sort = forms.ChoiceField(label=_("Sort"), choices=Sort.choices)
    level = forms.TypedChoiceField(
        label=_("Level"), coerce=int, choices=Level.choices, widget=forms.RadioSelect
    )
    starts_on = forms.DateField(label=_("Since"), widget=DateWidget())
    themes = forms.MultipleChoiceField(
        label=_("Themes"), required=False, choices=Theme.choices, widget=forms.CheckboxSelectMultiple
    )
    scale = forms.ChoiceField(label=_("Scale"), required=False, choices=[("", "—"), *Scale.choices])
    people = forms.MultipleChoiceField(
        label=_("People concerned"),
        required=False,
        choices=People.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    documents = forms.CharField(
        label=_("Documents"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Letters of commitment, agreements: one a line."),
    )

    def __init__(self, *args: Any, actors: list[Actor], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actors"].choices = _actor_choices(actors)  # type: ignore[attr-defined]


class LevelForm(forms.Form):
    level = forms.TypedChoiceField(label=_("New level"), coerce=int, choices=Level.choices)
    on = forms.DateField(label=_("On"), widget=DateWidget())
    reason = forms.CharField(label=_("Why"), max_length=300)


class EndForm(forms.Form):
    on = forms.DateField(label=_("Ended on"), widget=DateWidget())
    reason = forms.CharField(label=_("Why"), required=False, max_length=300)


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("What it is"), choices=DocumentKind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("A PDF, or a photo of the signed paper (JPEG or PNG), at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class BookingForm(forms.Form):
    requester = forms.TypedChoiceField(label=_("For"), coerce=int)
    starts_on = forms.DateField(label=_("From"), widget=DateWidget())
    ends_on = forms.DateField(label=_("To (included)"), widget=DateWidget())
    note = forms.CharField(label=_("Note for the owner"), required=False, max_length=300)

    def __init__(self, *args: Any, actors: list[Actor], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["requester"].choices = _actor_choices(actors)  # type: ignore[attr-defined]


class RefuseForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=300)
