"""Household card numbers: 12 digits, the last a Luhn check digit so a mistyped number is caught at the till."""

from __future__ import annotations

import secrets

CARD_LENGTH = 12


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:  # every second digit from the right, the check digit to come being position 0
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def new_card_number() -> str:
    body = "".join(secrets.choice("0123456789") for _ in range(CARD_LENGTH - 1))
    body = str(secrets.randbelow(9) + 1) + body[1:]  # never starts with 0, so it survives spreadsheets
    return body + luhn_check_digit(body)


def normalise_card_number(raw: str) -> str | None:
    """The card number without spaces or dashes, or ``None`` if it is not a well-formed card number."""
    digits = "".join(char for char in raw if char not in " -\u00a0")
    if len(digits) != CARD_LENGTH or not digits.isdigit():
        return None
    if luhn_check_digit(digits[:-1]) != digits[-1]:
        return None
    return digits


def format_card_number(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
