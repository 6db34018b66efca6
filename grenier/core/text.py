"""Text shown to people: sorting names the way a French reader expects."""

from __future__ import annotations

import unicodedata

# Unicode does not decompose these: spelt out, « Œufs » sorts among the O, not after Z.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def sort_key(name: str) -> tuple[str, str]:
    """A key that sorts names in French dictionary order rather than by character code: accents and case are
    ignored first (« Céleri-rave » before « Courgettes », « Épinards » before « Tomates »), then break ties, so the
    order is stable. The database's collation depends on the server (SQLite sorts by code point); this does not."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LIGATURES)
    return plain, name
