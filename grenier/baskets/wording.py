"""Small rules of French typography the pages and messages share."""

from __future__ import annotations

from django.utils.translation import get_language


def in_sentence(text: str) -> str:
    """A weekday or month name set mid-sentence: lowercase in French (« le jeudi 3 décembre »); English keeps its
    capital. The names come capitalised from the catalogue because lists and headings start with them."""
    if (get_language() or "").startswith("en"):
        return text
    return text[:1].lower() + text[1:]
