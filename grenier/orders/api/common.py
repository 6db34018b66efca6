"""The buying groups' API router."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["buying groups"])
