"""Governance in a real browser, on a phone-sized screen: a committee member votes, changes a secret vote, reads
the result; a member proposes a new allocation rule and reads the projection beside the rules in force."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.utils import timezone
from playwright.sync_api import expect

from grenier.core.models import Territory, User
from grenier.governance import services
from grenier.governance.models import Body, BodyKind, Majority, Participation, Proposal

from .conftest import expect_at_least, screenshot
from .test_journeys import _no_sideways_scroll, log_in

COMMITTEE = "committee@demo.grenier.test"


def _committee(territory: Territory) -> tuple[Body, User]:
    """The demo's citizen committee with the committee login among its members (the demo may have made both).
    Bodies are found by name now that a territory may have several of a kind: this one is the demo's committee."""
    body = Body.objects.get(territory=territory, kind=BodyKind.COMMITTEE)
    person = User.objects.get(email=COMMITTEE)
    services.membership_join(body=body, user=person, actor=None, at=timezone.now() - timedelta(days=30))
    return body, person


def _open_secret_vote(territory: Territory) -> Proposal:
    body, person = _committee(territory)
    now = timezone.now()
    return services.proposal_create(
        body=body,
        author=person,
        title="Ouvrir un marché le samedi matin",
        text="Un marché de producteurs, place de la Halle.\nLe samedi de 8 h à 12 h.",
        kind="motion",
        payload={},
        opens_at=now - timedelta(minutes=5),
        closes_at=now + timedelta(days=3),
        quorum_percent=0,
        majority=Majority.SIMPLE,
        secret=True,
        effective_month=None,
        idempotency_key="browser-market",
    )


def _participation(page) -> str:
    return str(page.locator("main .participation").first.inner_text())


def test_a_committee_member_votes_changes_a_secret_vote_and_reads_the_result(page, demo_territory) -> None:
    proposal = _open_secret_vote(demo_territory)
    electorate = services.electorate_at(proposal.body, proposal.opens_at)
    log_in(page, COMMITTEE)
    page.wait_for_url(re.compile(r"/t/demo/$"))
    page.get_by_role("navigation", name="Principale").get_by_role("link", name="Votes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votes")
    assert _no_sideways_scroll(page)
    screenshot(page, "votes-open")

    page.get_by_role("link", name=proposal.title).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(proposal.title)
    assert "place de la Halle" in page.locator(".proposal-text").inner_text()
    assert re.search(rf"\b0\b\D+\b{electorate}\b", _participation(page))

    page.get_by_label("Pour", exact=True).check()
    page.get_by_role("button", name="Voter").click()
    assert page.get_by_role("status").inner_text()
    assert re.search(rf"\b1\b\D+\b{electorate}\b", _participation(page))
    expect(page.locator(".my-vote")).to_have_count(1)
    assert page.get_by_label("Pour", exact=True).is_checked() is False  # a secret choice is shown to nobody

    page.get_by_label("Contre", exact=True).check()
    page.get_by_role("button", name="Changer mon vote").click()
    assert page.get_by_role("status").inner_text()
    assert re.search(rf"\b1\b\D+\b{electorate}\b", _participation(page))
    assert Participation.objects.filter(proposal=proposal).count() == 1
    assert services.tally(proposal) == services.Tally(1, 0, 1, 0)  # counted once, as changed
    assert _no_sideways_scroll(page)
    screenshot(page, "vote-changed")

    services.proposal_close(proposal=proposal, actor=None, now=proposal.closes_at + timedelta(minutes=1))
    page.reload()
    result = page.locator("#result")
    expect(result).to_be_visible()
    expect(page.locator(".result.rejected")).to_have_count(1)  # one vote, against
    expect(page.get_by_label("Contre", exact=True)).to_have_count(0)  # no vote form once closed
    assert _no_sideways_scroll(page)
    screenshot(page, "vote-result")
    page.get_by_role("link", name="Journal des décisions").click()
    expect(page.get_by_role("link", name=proposal.title)).to_have_count(1)
    assert _no_sideways_scroll(page)
    screenshot(page, "decision-log")
    page.get_by_role("link", name="Instances").click()
    expect(page.get_by_role("heading", level=2).filter(has_text=proposal.body.name)).to_have_count(1)
    assert _no_sideways_scroll(page)
    screenshot(page, "bodies")


def test_a_member_proposes_a_new_allocation_and_reads_the_projection(page, demo_territory) -> None:
    _committee(demo_territory)
    today = timezone.localdate()
    next_month = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    log_in(page, COMMITTEE)
    page.wait_for_url(re.compile(r"/t/demo/$"))
    page.goto(page.base_url + "/t/demo/votes/new/")
    page.get_by_label("Titre").fill("Porter l'allocation à 130 € par foyer")
    page.get_by_label("Ce qui change dans Grenier").select_option("allocation_rule")
    allocation = page.locator('fieldset[data-kind="allocation_rule"]')
    expect(allocation).to_be_visible()
    expect(page.locator('fieldset[data-kind="contribution_scale"]')).to_be_hidden()  # only the chosen kind
    allocation.get_by_label(re.compile("^Pour le foyer")).fill("130")
    page.get_by_label("S'applique à partir du mois").fill(f"{next_month:%Y-%m}")
    assert _no_sideways_scroll(page)
    screenshot(page, "proposal-form")
    page.get_by_role("button", name="Mettre au vote").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Porter l'allocation à 130 € par foyer")
    expect(page.locator("svg.chart")).to_have_count(1)
    expect_at_least(page.locator("table.compare tbody tr"), 6)
    assert _no_sideways_scroll(page)
    screenshot(page, "proposal-projection")
    assert Proposal.objects.get(title="Porter l'allocation à 130 € par foyer").payload["base_cents"] == 13_000
