from __future__ import annotations

from grenier.core.errors import Conflict, InvalidInput


class InsufficientBalance(Conflict):
    """A guarded account would go below zero."""

    code = "insufficient-balance"

    def __init__(self, detail: str, *, account_code: str) -> None:
        super().__init__(detail)
        self.account_code = account_code


class UnbalancedEntry(InvalidInput):
    code = "unbalanced-entry"
