"""Forms of the supply pages: they parse quantities typed in sales units ("12,5" kg) into base units; services
decide whether the write is allowed."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grenier.core.errors import InvalidInput
from grenier.supply import quantities
from grenier.supply.models import Product


class QuantityInput(forms.TextInput):
    """A phone shows its decimal keyboard; the browser does not second-guess "12,5"."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        base = {"inputmode": "decimal", "autocomplete": "off", "class": "qty"}
        super().__init__({**base, **(attrs or {})})


def clean_quantity(raw: object, product: Product, *, field: str = "quantity") -> int:
    """Sales units typed by a person → base units, or a form error in their words."""
    try:
        return quantities.parse_quantity(str(raw or ""), product, field=field)
    except InvalidInput as exc:
        messages = [message for errors in exc.errors.values() for message in errors] or [exc.detail]
        raise forms.ValidationError(messages) from exc


def shown(quantity: int | None, product: Product) -> str:
    """Base units → what a person types back (no unit): ``12500`` g → ``12,5``."""
    if not quantity:
        return ""
    return quantities.format_quantity(quantity, product, with_unit=False)


class AvailabilityRowForm(forms.Form):
    """One product of a grower's weekly declaration: how much, and the smallest lot worth a trip."""

    quantity = forms.CharField(required=False, max_length=20, widget=QuantityInput())
    minimum_lot = forms.CharField(required=False, max_length=20, widget=QuantityInput())

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        self.product = product
        super().__init__(*args, **kwargs)
        unit = quantities.unit_label(product)
        self.fields["quantity"].label = _("Available (%(unit)s)") % {"unit": unit}
        self.fields["minimum_lot"].label = _("Minimum lot (%(unit)s)") % {"unit": unit}

    def clean_quantity(self) -> int:
        return clean_quantity(self.cleaned_data.get("quantity"), self.product)

    def clean_minimum_lot(self) -> int:
        return clean_quantity(self.cleaned_data.get("minimum_lot"), self.product, field="minimum_lot")


class DemandRowForm(forms.Form):
    """One contract product of a kitchen: a quantity per delivery day (fields ``d<yyyy-mm-dd>``)."""

    def __init__(
        self, *args: Any, product: Product, days: list[date], day_labels: dict[date, str], **kwargs: Any
    ):
        self.product = product
        self.days = days
        super().__init__(*args, **kwargs)
        for day in days:
            self.fields[self.field_name(day)] = forms.CharField(
                required=False, max_length=20, label=day_labels[day], widget=QuantityInput()
            )

    @staticmethod
    def field_name(day: date) -> str:
        return f"d{day.isoformat()}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for day in self.days:
            name = self.field_name(day)
            if name in cleaned:
                try:
                    cleaned[name] = clean_quantity(cleaned[name], self.product)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return cleaned

    def quantities(self) -> dict[date, int]:
        return {day: self.cleaned_data[self.field_name(day)] for day in self.days}


class PlanLineForm(forms.Form):
    """The coordinator of the week changes one line of the plan by hand."""

    quantity = forms.CharField(label=_("Quantity"), max_length=20, widget=QuantityInput())

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        self.product = product
        super().__init__(*args, **kwargs)
        self.fields["quantity"].label = _("Quantity (%(unit)s)") % {"unit": quantities.unit_label(product)}

    def clean_quantity(self) -> int:
        return clean_quantity(self.cleaned_data.get("quantity"), self.product)


class PlanLineAddForm(forms.Form):
    """A line the solver did not propose: farm, kitchen, product, day, quantity."""

    producer = forms.TypedChoiceField(label=_("Farm"), coerce=int)
    kitchen = forms.TypedChoiceField(label=_("Kitchen"), coerce=int)
    product = forms.TypedChoiceField(label=_("Product"), coerce=int)
    day = forms.ChoiceField(label=_("Delivery day"))
    quantity = forms.CharField(
        label=_("Quantity, in the product's unit"), max_length=20, widget=QuantityInput()
    )

    def __init__(
        self,
        *args: Any,
        producers: list[tuple[int, str]],
        kitchens: list[tuple[int, str]],
        products: dict[int, Product],
        days: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.products = products
        self.fields["producer"].choices = producers  # type: ignore[attr-defined]
        self.fields["kitchen"].choices = kitchens  # type: ignore[attr-defined]
        self.fields["product"].choices = [(pk, p.name) for pk, p in products.items()]  # type: ignore[attr-defined]
        self.fields["day"].choices = days  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        product = self.products.get(cleaned.get("product") or 0)
        if product is not None and "quantity" in cleaned:
            try:
                cleaned["quantity"] = clean_quantity(cleaned["quantity"], product)
            except forms.ValidationError as exc:
                self.add_error("quantity", exc)
        cleaned["day"] = date.fromisoformat(cleaned["day"]) if cleaned.get("day") else None
        return cleaned


class ShortfallForm(forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int)
    available = forms.CharField(
        label=_("What you will still have this week, in the product's unit"),
        help_text=_("0 if nothing is left."),
        max_length=20,
        widget=QuantityInput(),
    )
    cause = forms.CharField(
        label=_("Cause (hail, pests, drought…)"), required=False, max_length=300, widget=forms.TextInput()
    )

    def __init__(self, *args: Any, products: dict[int, Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.products = products
        self.fields["product"].choices = [(pk, p.name) for pk, p in products.items()]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        product = self.products.get(cleaned.get("product") or 0)
        if product is not None and "available" in cleaned:
            try:
                cleaned["available"] = clean_quantity(cleaned["available"], product, field="available")
            except forms.ValidationError as exc:
                self.add_error("available", exc)
        return cleaned


class ReceiptForm(forms.Form):
    """What arrived of one delivery line, and a note (damaged, late, replaced)."""

    received = forms.CharField(required=False, max_length=20, widget=QuantityInput())
    note = forms.CharField(required=False, max_length=300)

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        self.product = product
        super().__init__(*args, **kwargs)
        unit = quantities.unit_label(product)
        self.fields["received"].label = _("Received (%(unit)s)") % {"unit": unit}
        self.fields["note"].label = _("Note")

    def clean_received(self) -> int | None:
        raw = self.cleaned_data.get("received")
        if raw in (None, ""):
            return None
        return clean_quantity(raw, self.product, field="received")


class WeekCoordinatorForm(forms.Form):
    coordinator = forms.TypedChoiceField(
        label=_("Coordinator of the week"), coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coordinator"].choices = [("", _("Nobody (coordinators only)")), *people]  # type: ignore[attr-defined]
