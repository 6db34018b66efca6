"""Money is integer cents everywhere; this formats it at the edge, the French way: ``1 234,56 €``."""

from __future__ import annotations

NARROW_NBSP = "\u202f"
NBSP = "\u00a0"


def format_cents(cents: int, currency: str = "€") -> str:
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(int(cents)), 100)
    grouped = f"{euros:,}".replace(",", NARROW_NBSP)
    return f"{sign}{grouped},{rest:02d}{NBSP}{currency}"


def parse_euros(text: str) -> int:
    """Parse ``12``, ``12,5``, ``12.50`` or ``1 234,56 €`` into cents. Raises ``ValueError`` on anything else."""
    cleaned = text.strip().replace("€", "").replace(NBSP, "").replace(NARROW_NBSP, "").replace(" ", "")
    cleaned = cleaned.replace(",", ".")
    if not cleaned or cleaned.count(".") > 1:
        raise ValueError(text)
    negative = cleaned.startswith("-")
    if negative:
        cleaned = cleaned[1:]
    whole, _, fraction = cleaned.partition(".")
    if not whole.isdigit() and whole != "":
        raise ValueError(text)
    if fraction and (not fraction.isdigit() or len(fraction) > 2):
        raise ValueError(text)
    cents = int(whole or "0") * 100 + int((fraction + "00")[:2])
    return -cents if negative else cents


def euros_input(cents: int) -> str:
    """Cents as one types them in a field: ``900`` or ``12,50``."""
    euros, rest = divmod(int(cents), 100)
    return f"{euros}" if not rest else f"{euros},{rest:02d}"
