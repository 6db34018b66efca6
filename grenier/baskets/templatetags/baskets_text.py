"""``{{ day|date:"l j F"|in_sentence }}``: a weekday (or month) name set in the middle of a sentence."""

from __future__ import annotations

from django import template

from grenier.baskets.wording import in_sentence as _in_sentence

register = template.Library()


@register.filter
def in_sentence(text: object) -> str:
    return _in_sentence(str(text))
