"""``{{ unit|unit_label:quantity }}``: a product's unit, singular or plural for the quantity, translated."""

from __future__ import annotations

from django import template

from grenier.orders.models import unit_label as _unit_label

register = template.Library()


@register.filter
def unit_label(unit: str, quantity: int | None) -> str:
    return _unit_label(unit, int(quantity or 0))
