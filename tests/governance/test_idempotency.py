"""A proposal's idempotency key means one proposal (issue 11, item 3): the form sent again returns it, another
proposal under its key is refused and nothing is put to the vote."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grenier.core.idempotency import KeyReused
from grenier.governance import services
from grenier.governance.models import Majority, Proposal

from .conftest import Gov


def test_a_proposal_key_means_one_proposal(gov: Gov) -> None:
    now = timezone.now()
    form = {
        "body": gov.body,
        "author": gov.cast["committee"],
        "title": "Ouvrir le samedi",
        "text": "",
        "kind": "motion",
        "payload": {},
        "opens_at": now,
        "closes_at": now + timedelta(days=7),
        "quorum_percent": 0,
        "majority": Majority.SIMPLE,
        "secret": False,
        "effective_month": None,
        "idempotency_key": "proposal-key-1",
    }
    first = services.proposal_create(**form)  # type: ignore[arg-type]
    assert services.proposal_create(**form).pk == first.pk  # type: ignore[arg-type]
    count = Proposal.objects.count()
    with pytest.raises(KeyReused):
        services.proposal_create(**{**form, "title": "Fermer le samedi"})  # type: ignore[arg-type]
    with pytest.raises(KeyReused):
        services.proposal_create(**{**form, "author": gov.cast["coordinator"]})  # type: ignore[arg-type]
    assert Proposal.objects.count() == count
