"""``grenier governance close-due`` as cron runs it, and ``grenier governance bodies``."""

from __future__ import annotations

import dataclasses
import io
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from grenier.core.models import AuditEvent
from grenier.fund import services as fund_services
from grenier.fund.models import Store, StoreStatus
from grenier.governance import kinds, services
from grenier.governance.models import BodyKind, Decision, EffectStatus, Proposal

from ..conftest import Cast
from .test_api import VOTERS, Gov, end_voting, make_gov, next_month, propose

QUIET = "0 opened notified, 0 reminders, 0 closed, 0 effects applied, 0 effects failed."


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("governance", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


@pytest.fixture
def api_cli_gov(cast: Cast) -> Gov:
    return make_gov(cast)


def store_proposal(gov: Gov, key: str, **extra: Any) -> tuple[Proposal, Store]:
    """A store waiting for approval, and an adopted-to-be proposal to approve it (every member votes for)."""
    store = fund_services.store_create(territory=gov.cast.territory, name=f"Boutique {key}", actor=None)
    proposal = propose(gov, key, secret=True, kind="store_approve", payload={"store_id": store.pk}, **extra)
    for who in VOTERS:
        services.ballot_cast(proposal=proposal, voter=gov[who], choice="for")
    return proposal, store


def test_close_due_closes_applies_and_then_does_nothing(
    api_cli_gov: Gov, django_capture_on_commit_callbacks: Any
) -> None:
    proposal, store = store_proposal(api_cli_gov, "due")
    still_open = propose(api_cli_gov, "still-open", closes_in=timedelta(days=5))
    end_voting(proposal)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        out, err = run("close-due", "--territory", "vallee")
    assert "1 closed" in out and "0 effects failed" in out and err == ""
    decision = Decision.objects.get(proposal=proposal)
    assert decision.adopted and decision.effect_status == EffectStatus.APPLIED and decision.closed_by is None
    store.refresh_from_db()
    assert store.status == StoreStatus.APPROVED
    assert not Decision.objects.filter(proposal=still_open).exists()
    assert sorted(a for m in mail.outbox for a in m.to) == sorted(f"{who}@test.grenier" for who in VOTERS)
    assert all(proposal.title in m.subject for m in mail.outbox)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again, _err = run("close-due", "--territory", "vallee")
    assert again == QUIET
    assert mail.outbox == []
    assert Decision.objects.count() == 1
    assert AuditEvent.objects.filter(action="fund.store.approve", subject=f"store:{store.pk}").count() == 1


def test_the_summary_counts_an_effect_applied_at_the_close(api_cli_gov: Gov) -> None:
    """The one-line summary says what cron did: an effect applied while closing is an effect applied."""
    proposal, _store = store_proposal(api_cli_gov, "counted")
    end_voting(proposal)
    out, _err = run("close-due", "--territory", "vallee")
    assert Decision.objects.get(proposal=proposal).effect_status == EffectStatus.APPLIED
    assert out == "0 opened notified, 0 reminders, 1 closed, 1 effects applied, 0 effects failed."


def test_an_effect_waiting_for_its_month_is_applied_by_a_later_run(api_cli_gov: Gov) -> None:
    proposal, store = store_proposal(api_cli_gov, "later", effective_month=next_month())
    end_voting(proposal)
    out, _err = run("close-due")
    assert "1 closed" in out and "0 effects applied" in out
    assert Decision.objects.get(proposal=proposal).effect_status == EffectStatus.PENDING
    store.refresh_from_db()
    assert store.status == StoreStatus.PENDING

    Proposal.objects.filter(pk=proposal.pk).update(effective_month=timezone.localdate().replace(day=1))
    out, _err = run("close-due")
    assert out == "0 opened notified, 0 reminders, 0 closed, 1 effects applied, 0 effects failed."
    store.refresh_from_db()
    assert store.status == StoreStatus.APPROVED
    assert run("close-due")[0] == QUIET


def test_a_failed_effect_exits_non_zero_and_is_recorded(api_cli_gov: Gov) -> None:
    proposal, store = store_proposal(api_cli_gov, "gone")
    end_voting(proposal)
    Store.objects.filter(pk=store.pk).delete()  # the store the proposal names no longer exists
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("governance", "close-due", "--territory", "vallee", stdout=out, stderr=err)
    assert raised.value.returncode == 1
    assert "1 closed" in out.getvalue()
    decision = Decision.objects.get(proposal=proposal)
    assert decision.adopted and decision.effect_status == EffectStatus.FAILED
    assert "Store" in decision.effect_error and "does not exist" in decision.effect_error
    assert f"proposal {proposal.pk}" in err.getvalue() and decision.effect_error in err.getvalue()
    # Reported once: the next run has nothing new to say (a coordinator retries the effect from the page).
    assert run("close-due", "--territory", "vallee")[0] == QUIET


def test_the_summary_counts_an_effect_failed_at_the_close(
    api_cli_gov: Gov, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> str:
        raise RuntimeError("the till is on fire")

    monkeypatch.setitem(
        kinds.REGISTRY, "store_approve", dataclasses.replace(kinds.REGISTRY["store_approve"], apply=broken)
    )
    proposal, store = store_proposal(api_cli_gov, "broken")
    end_voting(proposal)
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("governance", "close-due", stdout=out, stderr=io.StringIO())
    assert raised.value.returncode == 1
    decision = Decision.objects.get(proposal=proposal)
    assert decision.effect_status == EffectStatus.FAILED
    assert decision.effect_error == "RuntimeError: the till is on fire"
    store.refresh_from_db()
    assert store.status == StoreStatus.PENDING
    assert (
        out.getvalue().strip()
        == "0 opened notified, 0 reminders, 1 closed, 0 effects applied, 1 effects failed."
    )


def test_close_due_leaves_other_territories_alone(api_cli_gov: Gov) -> None:
    proposal = end_voting(propose(api_cli_gov, "vallee-only"))
    assert run("close-due", "--territory", "ailleurs")[0] == QUIET
    assert not Decision.objects.filter(proposal=proposal).exists()
    with pytest.raises(CommandError, match="No territory"):
        run("close-due", "--territory", "nowhere")


def test_bodies_lists_members_now(api_cli_gov: Gov) -> None:
    services.body_ensure(
        territory=api_cli_gov.cast.territory, kind=BodyKind.ASSEMBLY, name="Assemblée générale"
    )
    out, _err = run("bodies", "--territory", "vallee")
    lines = out.splitlines()
    committee = next(line for line in lines if "Comité citoyen" in line)
    assert " 3 members" in committee  # the kitchen left
    assembly = next(line for line in lines if "Assemblée générale" in line)
    assert " 0 members" in assembly
    assert lines[-1].startswith("2 bodies")
    with pytest.raises(CommandError):
        run("bodies")
