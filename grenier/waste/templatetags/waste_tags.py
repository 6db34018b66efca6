"""The biowaste figures as pages show them, each rounded once: ``{{ figure|g_per_meal }}``, ``{{ grams|kg }}``,
``{{ share|percent }}``, and a bar's width against the largest figure (``{% bar_width value largest %}``)."""

from __future__ import annotations

from fractions import Fraction

from django import template

from grenier.waste import figures

register = template.Library()


@register.filter
def g_per_meal(value: Fraction | None) -> str:
    return figures.grams_per_meal_text(value)


@register.filter
def kg(grams: Fraction | int | None) -> str:
    return figures.kilograms_text(grams)


@register.filter
def percent(share: Fraction | None) -> str:
    return figures.percent_text(share)


@register.simple_tag
def bar_width(value: Fraction | int | None, largest: Fraction | int | None) -> str:
    """A bar's width in percent of the largest (a CSS length, always with a dot)."""
    if not value or not largest:
        return "0%"
    return f"{min(100, round(float(Fraction(value) / Fraction(largest)) * 100))}%"
