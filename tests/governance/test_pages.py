"""Governance pages: who may open each one and use each action, and the journeys they exist for (vote, change a
vote, secret ballots, close, retry, propose, the decision log and its exports, bodies)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from grenier.core.models import Role
from grenier.fund.models import StoreStatus
from grenier.governance import kinds, services
from grenier.governance.models import (
    Ballot,
    Body,
    BodyKind,
    BodyMembership,
    Decision,
    EffectStatus,
    Participation,
    Proposal,
)

from .conftest import MEMBERS, Gov, end_voting, propose

ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]
MANAGERS = {"coordinator"}


def _url(name: str, gov: Gov, *args: object) -> str:
    return reverse(name, args=[gov.cast.territory.slug, *args])


def _pages(gov: Gov) -> dict[str, tuple[str, set[str]]]:
    """url and who gets a 200 on GET; every other role gets 403, people with no role here 404."""
    everyone = set(ROLES)
    return {
        "proposals": (_url("governance_proposals", gov), everyone),
        "public": (_url("governance_proposal", gov, gov.public.pk), everyone),
        "secret": (_url("governance_proposal", gov, gov.secret.pk), everyone),
        "due": (_url("governance_proposal", gov, gov.due.pk), everyone),
        "closed": (_url("governance_proposal", gov, gov.closed.pk), everyone),
        "new": (_url("governance_new", gov), MEMBERS),
        "decisions": (_url("governance_decisions", gov), everyone),
        "decisions_csv": (_url("governance_decisions_csv", gov), everyone),
        "decisions_json": (_url("governance_decisions_json", gov), everyone),
        "bodies": (_url("governance_bodies", gov), everyone),
    }


PAGES = ["proposals", "public", "secret", "due", "closed", "new", "decisions", "decisions_csv"]
PAGES += ["decisions_json", "bodies"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", [*EVERYONE, "anonymous"])
def test_page_access(gov: Gov, login: Callable[..., Client], page: str, who: str) -> None:
    url, allowed = _pages(gov)[page]
    response = login(None if who == "anonymous" else gov.cast[who]).get(url)
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        return
    expected = 200 if who in allowed else 403 if who in ROLES else 404
    assert response.status_code == expected, f"{who} on {page}"


def test_a_proposal_of_another_territory_is_not_found(gov: Gov, login: Callable[..., Client]) -> None:
    from ..conftest import make_user

    other_body = services.body_ensure(territory=gov.cast.elsewhere, kind=BodyKind.COMMITTEE)
    outsider = gov.cast["outsider"]
    services.membership_join(
        body=other_body, user=outsider, actor=None, at=timezone.now() - timedelta(days=1)
    )
    elsewhere = propose(other_body, outsider, "Ailleurs")
    client = login(gov.cast["coordinator"])
    for name in ("governance_proposal",):
        assert client.get(_url(name, gov, elsewhere.pk)).status_code == 404
    for name in ("governance_vote", "governance_close", "governance_retry"):
        assert client.post(_url(name, gov, elsewhere.pk), {"choice": "for"}).status_code == 404
    assert client.post(_url("governance_join", gov, other_body.pk)).status_code == 404
    assert not Ballot.objects.filter(proposal=elsewhere).exists()
    assert login(make_user("lost@test.grenier")).get(_url("governance_proposals", gov)).status_code == 404


@pytest.mark.parametrize("who", [*EVERYONE, "anonymous"])
def test_only_members_of_the_body_vote(gov: Gov, login: Callable[..., Client], who: str) -> None:
    client = login(None if who == "anonymous" else gov.cast[who])
    url = _url("governance_vote", gov, gov.public.pk)
    response = client.post(url, {"choice": "for"})
    voted = Ballot.objects.filter(proposal=gov.public).count()
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    elif who in ROLES:
        assert response.status_code == 302
        assert response["Location"] == _url("governance_proposal", gov, gov.public.pk)
    else:
        assert response.status_code == 404
    assert voted == (1 if who in MEMBERS else 0), who
    if who in ROLES and who not in MEMBERS:
        assert _messages(client, response["Location"])  # told why
    secret = client.post(_url("governance_vote", gov, gov.secret.pk), {"choice": "for"})
    assert Participation.objects.filter(proposal=gov.secret).count() == (1 if who in MEMBERS else 0)
    assert services.tally(gov.secret).votes_for == (1 if who in MEMBERS else 0)
    assert secret.status_code == (404 if who in ("outsider", "nobody") else 302)


@pytest.mark.parametrize(("name", "target"), [("governance_close", "due"), ("governance_retry", "failed")])
@pytest.mark.parametrize("who", [*EVERYONE, "anonymous"])
def test_only_coordinators_close_and_retry(
    gov: Gov, login: Callable[..., Client], name: str, target: str, who: str
) -> None:
    proposal = gov.due if target == "due" else _failed_decision(gov).proposal
    response = login(None if who == "anonymous" else gov.cast[who]).post(_url(name, gov, proposal.pk))
    decision = Decision.objects.filter(proposal=proposal).first()
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    elif who in MANAGERS:
        assert response.status_code == 302
    else:
        assert response.status_code == (403 if who in ROLES else 404), who
    if target == "due":
        assert (decision is not None) == (who in MANAGERS)
    else:
        assert decision is not None
        assert decision.effect_status == (EffectStatus.APPLIED if who in MANAGERS else EffectStatus.FAILED)


@pytest.mark.parametrize("action", ["governance_join", "governance_leave"])
@pytest.mark.parametrize("who", [*EVERYONE, "anonymous"])
def test_every_person_of_the_territory_joins_and_leaves(
    gov: Gov, login: Callable[..., Client], action: str, who: str
) -> None:
    response = login(None if who == "anonymous" else gov.cast[who]).post(_url(action, gov, gov.body.pk))
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        return
    if who not in ROLES:
        assert response.status_code == 404
        assert not BodyMembership.objects.filter(user=gov.cast[who]).exists()
        return
    assert response.status_code == 302
    assert services.is_member(gov.body, gov.cast[who]) == (action == "governance_join")


@pytest.mark.parametrize(
    "name",
    ["governance_vote", "governance_close", "governance_retry", "governance_join", "governance_leave"],
)
def test_actions_take_post_only(gov: Gov, login: Callable[..., Client], name: str) -> None:
    target = gov.body.pk if name in ("governance_join", "governance_leave") else gov.public.pk
    assert login(gov.cast["coordinator"]).get(_url(name, gov, target)).status_code == 405


def test_every_role_finds_the_votes_in_the_navigation(gov: Gov, login: Callable[..., Client]) -> None:
    link = f'href="{_url("governance_proposals", gov)}"'
    for who in ROLES:
        page = login(gov.cast[who]).get(reverse("territory_home", args=["vallee"])).content.decode()
        assert link in page, who


# --- journeys ------------------------------------------------------------------------------------------------------


def _messages(client: Client, url: str) -> list[str]:
    return [str(m) for m in client.get(url).context["messages"]]


def test_the_open_votes_page(gov: Gov, login: Callable[..., Client]) -> None:
    services.ballot_cast(proposal=gov.public, voter=gov.cast["coordinator"], choice="against")
    response = login(gov.cast["committee"]).get(_url("governance_proposals", gov))
    rows = {row["proposal"].pk: row for row in response.context["open_rows"]}
    assert set(rows) == {gov.public.pk, gov.secret.pk}
    assert (rows[gov.public.pk]["participation"], rows[gov.public.pk]["electorate"]) == (1, 2)
    assert rows[gov.public.pk]["may_vote"] and rows[gov.secret.pk]["may_vote"]
    assert [p.pk for p in response.context["due"]] == [gov.due.pk]
    page = response.content.decode()
    assert page.count('type="radio"') == 6  # two vote forms, three choices each
    assert _url("governance_close", gov, gov.due.pk) not in page  # only a coordinator closes
    coordinator = login(gov.cast["coordinator"]).get(_url("governance_proposals", gov)).content.decode()
    assert _url("governance_close", gov, gov.due.pk) in coordinator
    member = login(gov.cast["member"]).get(_url("governance_proposals", gov)).content.decode()
    assert 'type="radio"' not in member  # not a member of the body: nothing to vote with


def test_a_member_votes_and_changes_a_public_vote(gov: Gov, login: Callable[..., Client]) -> None:
    client = login(gov.cast["committee"])
    url = _url("governance_vote", gov, gov.public.pk)
    detail = _url("governance_proposal", gov, gov.public.pk)
    assert client.post(url, {"choice": "for"})["Location"] == detail
    assert Ballot.objects.get(proposal=gov.public, voter=gov.cast["committee"]).choice == "for"
    client.post(url, {"choice": "against"})
    ballot = Ballot.objects.get(proposal=gov.public, voter=gov.cast["committee"])
    assert ballot.choice == "against" and ballot.changed_at is not None
    response = client.get(detail)
    assert response.context["my_vote"] == "against"
    assert response.context["participation"] == 1 and response.context["electorate"] == 2
    assert response.context["public_ballots"] == [
        (gov.cast["committee"].get_full_name(), response.context["my_choice"])
    ]
    # Anyone of the territory reads names and choices of a public vote.
    other = login(gov.cast["funder"]).get(detail)
    assert gov.cast["committee"].get_full_name() in other.content.decode()
    client = login(gov.cast["committee"])
    client.post(url, {"choice": "nonsense"})
    assert Ballot.objects.get(proposal=gov.public).choice == "against"
    end_voting(gov.public)
    decision = services.proposal_close(proposal=gov.public, actor=None)
    assert (decision.votes_for, decision.votes_against) == (0, 1) and not decision.adopted


def test_a_member_votes_and_changes_a_secret_vote(gov: Gov, login: Callable[..., Client]) -> None:
    client = login(gov.cast["committee"])
    url = _url("governance_vote", gov, gov.secret.pk)
    response = client.post(url, {"choice": "for"})
    cookie = response.cookies[f"grenier_secret_receipt_{gov.secret.pk}"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 90 * 24 * 3600
    assert cookie["path"] == _url("governance_proposals", gov)
    receipt = cookie.value.split(":", 1)[1]
    assert len(receipt) >= 24
    # Nothing of the receipt or the choice in the session, which is a database row linked to the person.
    for session in Session.objects.all():
        assert receipt not in json.dumps(session.get_decoded())
    detail = client.get(_url("governance_proposal", gov, gov.secret.pk))
    assert detail.context["my_vote"] == "secret" and detail.context["has_receipt"]
    assert "my_choice" in detail.context and detail.context["my_choice"] == ""
    changed = client.post(url, {"choice": "against"})  # the test client keeps the cookie
    assert changed.status_code == 302
    assert Participation.objects.filter(proposal=gov.secret).count() == 1
    assert services.tally(gov.secret) == services.Tally(1, 0, 1, 0)
    # Each ballot hands the device a new receipt (it holds the choice, sealed), of the same length.
    renewed = changed.cookies[f"grenier_secret_receipt_{gov.secret.pk}"].value
    assert renewed != cookie.value and len(renewed) == len(cookie.value)
    # From another device (no cookie), the same person cannot vote twice nor change it.
    elsewhere = Client()
    elsewhere.force_login(gov.cast["committee"])
    refused = elsewhere.post(url, {"choice": "for"})
    assert refused.status_code == 302
    assert _messages(elsewhere, refused["Location"])
    # Someone else's receipt on a shared device does not change their ballot.
    services.ballot_cast(proposal=gov.secret, voter=gov.cast["coordinator"], choice="abstain")
    shared = login(gov.cast["coordinator"])
    shared.cookies[f"grenier_secret_receipt_{gov.secret.pk}"] = cookie.value
    shared.post(url, {"choice": "for"})
    end_voting(gov.secret)
    services.proposal_close(proposal=gov.secret, actor=None)
    counts = services.tally(gov.secret)
    assert (counts.participants, counts.votes_for, counts.votes_against, counts.abstentions) == (2, 0, 1, 1)


def test_a_secret_vote_shows_no_choice_before_the_close(gov: Gov, login: Callable[..., Client]) -> None:
    services.ballot_cast(proposal=gov.secret, voter=gov.cast["committee"], choice="for")
    services.ballot_cast(proposal=gov.secret, voter=gov.cast["coordinator"], choice="for")
    url = _url("governance_proposal", gov, gov.secret.pk)
    for who in ROLES:
        response = login(gov.cast[who]).get(url)
        page = response.content.decode()
        assert response.context["participation"] == 2
        assert response.context["public_ballots"] == []
        assert response.context["decision"] is None
        assert 'id="result"' not in page
        assert (
            gov.cast["committee"].get_full_name() not in page.split('<main id="main"')[1].split("</main>")[0]
        )
    end_voting(gov.secret)
    login(gov.cast["coordinator"]).post(_url("governance_close", gov, gov.secret.pk))
    response = login(gov.cast["member"]).get(url)
    assert 'id="result"' in response.content.decode()
    decision = response.context["decision"]
    assert (decision.votes_for, decision.adopted, decision.effect_status) == (2, True, EffectStatus.APPLIED)
    assert response.context["public_ballots"] == []  # never names for a secret vote
    gov.fund.pending_store.refresh_from_db()
    assert gov.fund.pending_store.status == StoreStatus.APPROVED
    assert gov.fund.pending_store.coverage_percent == 80


def test_the_text_is_escaped(gov: Gov, login: Callable[..., Client]) -> None:
    proposal = propose(
        gov.body, gov.cast["committee"], "<b>Titre</b>", text='<script>alert("x")</script>\nSecond line'
    )
    page = login(gov.cast["member"]).get(_url("governance_proposal", gov, proposal.pk)).content.decode()
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>Second line" in page
    assert "<b>Titre</b>" not in page and "&lt;b&gt;Titre&lt;/b&gt;" in page


def test_a_coordinator_closes_a_due_vote_and_everyone_reads_the_result(
    gov: Gov, login: Callable[..., Client]
) -> None:
    client = login(gov.cast["coordinator"])
    response = client.post(_url("governance_close", gov, gov.due.pk))
    assert response["Location"] == _url("governance_proposal", gov, gov.due.pk)
    decision = Decision.objects.get(proposal=gov.due)
    assert decision.adopted and decision.reason == "adopted" and decision.participants == 1
    early = client.post(_url("governance_close", gov, gov.public.pk))  # still open: refused, with a reason
    assert early.status_code == 302 and not Decision.objects.filter(proposal=gov.public).exists()
    assert _messages(client, early["Location"])
    page = login(gov.cast["kitchen"]).get(response["Location"])
    assert page.context["reason"] and 'id="result"' in page.content.decode()


def test_a_quorum_not_met_is_explained(gov: Gov, login: Callable[..., Client]) -> None:
    proposal = propose(gov.body, gov.cast["committee"], "Avec quorum", quorum_percent=100)
    services.ballot_cast(proposal=proposal, voter=gov.cast["committee"], choice="for")
    end_voting(proposal)
    decision = services.proposal_close(proposal=proposal, actor=None)
    assert decision.reason == "quorum_not_met"
    response = login(gov.cast["member"]).get(_url("governance_proposal", gov, proposal.pk))
    assert "100" in response.context["reason"]


def _failed_decision(gov: Gov) -> Decision:
    """An adopted store approval whose effect failed (as if the store had been locked meanwhile)."""
    proposal = propose(
        gov.body,
        gov.cast["committee"],
        "Conventionner encore",
        kind="store_approve",
        payload={"store_id": gov.fund.pending_store.pk, "coverage_percent": 100},
    )
    services.ballot_cast(proposal=proposal, voter=gov.cast["committee"], choice="for")
    end_voting(proposal)
    decision = services.proposal_close(proposal=proposal, actor=None)
    Decision.objects.filter(pk=decision.pk).update(
        effect_status=EffectStatus.FAILED, effect_error="The store was locked.", effect_applied_at=None
    )
    decision.refresh_from_db()
    return decision


def test_a_failed_effect_is_shown_and_a_coordinator_tries_again(
    gov: Gov, login: Callable[..., Client]
) -> None:
    decision = _failed_decision(gov)
    url = _url("governance_proposal", gov, decision.proposal.pk)
    retry = _url("governance_retry", gov, decision.proposal.pk)
    committee = login(gov.cast["committee"]).get(url).content.decode()
    assert "The store was locked." in committee and retry not in committee
    client = login(gov.cast["coordinator"])
    assert retry in client.get(url).content.decode()
    response = client.post(retry)
    decision.refresh_from_db()
    assert decision.effect_status == EffectStatus.APPLIED and decision.effect_summary
    assert _messages(client, response["Location"])
    again = client.post(retry)  # applied already: refused with a message, nothing changes
    assert again.status_code == 302
    decision.refresh_from_db()
    assert decision.effect_status == EffectStatus.APPLIED


def test_an_effect_that_really_fails_shows_its_error(gov: Gov, login: Callable[..., Client]) -> None:
    month = timezone.localdate().replace(day=1)
    proposal = propose(
        gov.body,
        gov.cast["committee"],
        "Plafond sans montant",
        kind="allocation_rule",
        payload={"base_cents": 12_000, "carry_over": "cap", "carry_over_cap_cents": 0},
        effective_month=date(month.year + (month.month == 12), month.month % 12 + 1, 1),
    )
    services.ballot_cast(proposal=proposal, voter=gov.cast["committee"], choice="for")
    end_voting(proposal)
    decision = services.proposal_close(proposal=proposal, actor=None)
    assert decision.effect_status == EffectStatus.FAILED
    page = login(gov.cast["coordinator"]).get(_url("governance_proposal", gov, proposal.pk)).content.decode()
    assert escape(decision.effect_error) in page
    assert _url("governance_retry", gov, proposal.pk) in page


def test_decision_exports(gov: Gov, login: Callable[..., Client]) -> None:
    services.ballot_cast(proposal=gov.public, voter=gov.cast["committee"], choice="for")
    end_voting(gov.public)
    services.proposal_close(proposal=gov.public, actor=None)
    client = login(gov.cast["producer"])
    response = client.get(_url("governance_decisions_csv", gov))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [row["title"] for row in rows] == ["Ouvrir une halle le samedi", "Fêter les moissons"]
    closed = rows[1]
    assert (closed["votes_for"], closed["abstentions"], closed["participants"], closed["electorate"]) == (
        "1",
        "1",
        "2",
        "2",
    )
    assert closed["adopted"] == "yes" and closed["body"] == "Comité de test"
    data = client.get(_url("governance_decisions_json", gov)).json()
    assert isinstance(data, list) and len(data) == 2
    assert data[1]["votes_for"] == 1 and data[1]["adopted"] is True and data[1]["reason"] == "adopted"
    for person in ("committee", "coordinator"):  # who voted what stays on the page, out of the exports
        user = gov.cast[person]
        assert user.get_full_name() not in text and user.email not in text
        assert user.get_full_name() not in json.dumps(data, ensure_ascii=False)
    log = client.get(_url("governance_decisions", gov))
    assert len(log.context["rows"]) == 2
    assert "Fêter les moissons" in log.content.decode()
    assert "1 pour, 0 contre, 0 abstention<" in log.content.decode()  # "abstention" agrees with 0 and 1


def _form(gov: Gov, **changes: object) -> dict[str, object]:
    now = timezone.localtime().replace(second=0, microsecond=0)
    month = now.date().replace(day=1)
    following = date(month.year + (month.month >= 11), (month.month + 1) % 12 + 1, 1)  # two months ahead
    data: dict[str, object] = {
        "idempotency_key": "form-proposal-0001",
        "body": gov.body.pk,
        "title": "Porter l'allocation à 120 €",
        "text": "Les prix ont monté.",
        "kind": "allocation_rule",
        "opens_at": f"{now:%Y-%m-%dT%H:%M}",
        "closes_at": f"{now + timedelta(days=7):%Y-%m-%dT%H:%M}",
        "quorum_percent": "25",
        "majority": "simple",
        "secret": "on",
        "effective_month": f"{following:%Y-%m}",
        "allocation_rule__base_cents": "120",
        "allocation_rule__per_additional_person_cents": "40",
        "allocation_rule__per_child_cents": "20,50",
        "allocation_rule__child_age_limit": "14",
        "allocation_rule__carry_over": "keep",
        "allocation_rule__carry_over_cap_cents": "",
        "contribution_scale__brackets": "",
        "contribution_scale__minimum_cents": "",
        "store_approve__store_id": "",
        "store_approve__coverage_percent": "100",
        "store_suspend__store_id": "",
        "producer_admit__email": "",
        "producer_admit__farm": "",
    }
    data.update(changes)
    return data


def test_a_member_proposes_a_new_allocation_rule_and_reads_the_projection(
    gov: Gov, login: Callable[..., Client]
) -> None:
    client = login(gov.cast["committee"])
    url = _url("governance_new", gov)
    form = client.get(url)
    assert form.status_code == 200
    assert list(form.context["form"].fields["body"].choices) == [(gov.body.pk, "Comité de test")]
    assert (
        form.context["form"]["allocation_rule__base_cents"].value() == "100"
    )  # the rule in force, to start from
    response = client.post(url, _form(gov))
    proposal = Proposal.objects.get(title="Porter l'allocation à 120 €")
    assert response.status_code == 302
    assert response["Location"] == _url("governance_proposal", gov, proposal.pk)
    assert proposal.payload == {
        "base_cents": 12_000,
        "per_additional_person_cents": 4_000,
        "per_child_cents": 2_050,
        "child_age_limit": 14,
        "carry_over": "keep",
        "carry_over_cap_cents": 0,
    }
    assert proposal.secret and proposal.quorum_percent == 25 and proposal.author == gov.cast["committee"]
    client.post(url, _form(gov))  # sent again (a double tap): one proposal
    assert Proposal.objects.filter(title="Porter l'allocation à 120 €").count() == 1
    page = client.get(response["Location"])
    rows = page.context["projection_rows"]
    assert rows[0][1] != rows[0][2]  # more credit issued a month under the proposal
    html = page.content.decode()
    assert html.count('class="chart chart-compare"') == 1 and 'role="img"' in html
    assert page.context["preview"]


def test_the_form_explains_what_is_wrong(gov: Gov, login: Callable[..., Client]) -> None:
    client = login(gov.cast["committee"])
    url = _url("governance_new", gov)
    now = timezone.localtime()
    response = client.post(
        url,
        _form(gov, idempotency_key="bad-1", closes_at=f"{now - timedelta(days=1):%Y-%m-%dT%H:%M}"),
    )
    assert response.status_code == 200 and "closes_at" in response.context["form"].errors
    response = client.post(url, _form(gov, idempotency_key="bad-2", effective_month="2020-01"))
    assert "effective_month" in response.context["form"].errors
    response = client.post(url, _form(gov, idempotency_key="bad-3", allocation_rule__base_cents=""))
    assert "allocation_rule__base_cents" in response.context["form"].errors
    response = client.post(url, _form(gov, idempotency_key="bad-4", allocation_rule__carry_over="cap"))
    assert response.status_code == 302  # a cap of 0 passes the form; the effect would fail and say so
    response = client.post(url, _form(gov, idempotency_key="bad-5", allocation_rule__child_age_limit="40"))
    assert "allocation_rule__child_age_limit" in response.context["form"].errors
    assert Proposal.objects.filter(idempotency_key__startswith="bad-").count() == 1


def test_a_member_proposes_a_contribution_scale(gov: Gov, login: Callable[..., Client]) -> None:
    client = login(gov.cast["coordinator"])
    url = _url("governance_new", gov)
    brackets = "600 ; 1\n900 ; 10\n1 200 ; 30\n; 150"
    response = client.post(
        url,
        _form(
            gov,
            idempotency_key="scale-1",
            title="Nouveau barème",
            kind="contribution_scale",
            allocation_rule__base_cents="",
            contribution_scale__brackets=brackets,
            contribution_scale__minimum_cents="1",
        ),
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get(title="Nouveau barème")
    assert proposal.payload["brackets"] == [[60_000, 100], [90_000, 1_000], [120_000, 3_000], [None, 15_000]]
    assert proposal.payload["minimum_cents"] == 100 and proposal.payload["free_choice"] is False
    response = client.post(
        url,
        _form(
            gov,
            idempotency_key="scale-2",
            kind="contribution_scale",
            contribution_scale__brackets="900 ; 10\n600 ; 1",
        ),
    )
    assert "contribution_scale__brackets" in response.context["form"].errors


def test_a_member_proposes_a_store_a_producer_and_a_motion(gov: Gov, login: Callable[..., Client]) -> None:
    client = login(gov.cast["committee"])
    url = _url("governance_new", gov)
    cases: dict[str, dict[str, object]] = {
        "store_suspend": {"store_suspend__store_id": gov.fund.store.pk},
        "producer_admit": {
            "producer_admit__email": "ferme@test.grenier",
            "producer_admit__farm": "Ferme du Pont",
        },
        "motion": {},
        "store_approve": {
            "store_approve__store_id": gov.fund.pending_store.pk,
            "store_approve__coverage_percent": "60",
        },
    }
    for kind, fields in cases.items():
        response = client.post(
            url,
            _form(gov, idempotency_key=f"kind-{kind}", title=f"Proposition {kind}", kind=kind, **fields),
        )
        assert response.status_code == 302, (kind, response.context and response.context["form"].errors)
    assert Proposal.objects.get(kind="store_suspend").payload == {"store_id": gov.fund.store.pk}
    assert Proposal.objects.get(kind="producer_admit").payload == {
        "email": "ferme@test.grenier",
        "farm": "Ferme du Pont",
    }
    assert Proposal.objects.get(title="Proposition store_approve").payload["coverage_percent"] == 60
    response = client.post(url, _form(gov, idempotency_key="kind-none", kind="store_suspend"))
    assert "store_suspend__store_id" in response.context["form"].errors


class _TreePayload(kinds.Payload):
    species: str
    count: int = 3  # the one place the default lives: the page does not repeat it


def test_a_kind_registered_by_another_module_brings_its_own_fields_and_defaults(
    gov: Gov, login: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proposal page knows no kind: a kind registered elsewhere shows its fields, starts from its values, refuses
    its required field left empty on that field, and takes the payload's own default for a field left empty."""
    from django import forms as django_forms

    tree = kinds.Kind(
        name="tree_plant",
        label="Planter des arbres",
        payload=_TreePayload,
        preview=lambda territory, payload, month: [f"{payload.count} {payload.species}"],
        apply=lambda territory, payload, month, decided_by: "planted",
        form_fields=lambda territory: {
            "species": django_forms.CharField(label="Essence"),
            "count": django_forms.IntegerField(label="Combien", min_value=1),
        },
        initial=lambda territory, today: {"species": "Noyer"},
    )
    monkeypatch.setitem(kinds.REGISTRY, "tree_plant", tree)
    client = login(gov.cast["committee"])
    url = _url("governance_new", gov)
    page = client.get(url)
    assert page.context["form"]["tree_plant__species"].value() == "Noyer"
    assert "tree_plant" in [group["kind"] for group in page.context["payload_groups"]]
    refused = client.post(
        url, _form(gov, idempotency_key="tree-1", kind="tree_plant", tree_plant__species="")
    )
    assert "tree_plant__species" in refused.context["form"].errors
    assert not Proposal.objects.filter(kind="tree_plant").exists()
    made = client.post(
        url,
        _form(
            gov, idempotency_key="tree-2", title="Des noyers", kind="tree_plant", tree_plant__species="Noyer"
        ),
    )
    assert made.status_code == 302
    assert Proposal.objects.get(kind="tree_plant").payload == {"species": "Noyer", "count": 3}


def test_people_outside_every_body_are_told_how_to_propose(gov: Gov, login: Callable[..., Client]) -> None:
    client = login(gov.cast["member"])
    response = client.get(_url("governance_new", gov))
    assert response.status_code == 403
    assert _url("governance_bodies", gov) in response.content.decode()
    response = client.post(_url("governance_new", gov), _form(gov, idempotency_key="outside-1"))
    assert response.status_code == 403 and not Proposal.objects.filter(idempotency_key="outside-1").exists()
    client.post(_url("governance_join", gov, gov.body.pk))
    assert client.get(_url("governance_new", gov)).status_code == 200
    # A new member votes on what opens from now on, not on what was already open.
    assert not services.may_vote(gov.public, gov.cast["member"])
    client.post(_url("governance_vote", gov, gov.public.pk), {"choice": "for"})
    assert not Ballot.objects.filter(voter=gov.cast["member"]).exists()
    client.post(_url("governance_leave", gov, gov.body.pk))
    assert client.get(_url("governance_new", gov)).status_code == 403


def test_the_bodies_page(gov: Gov, login: Callable[..., Client]) -> None:
    response = login(gov.cast["member"]).get(_url("governance_bodies", gov))
    [(body, member)] = response.context["bodies"]
    assert body.members == 2 and not member
    page = response.content.decode()
    assert _url("governance_join", gov, gov.body.pk) in page
    assert _url("governance_body_create", gov) not in page
    coordinator = login(gov.cast["coordinator"])
    assert (
        _url("governance_body_create", gov)
        in coordinator.get(_url("governance_bodies", gov)).content.decode()
    )
    coordinator.post(_url("governance_body_create", gov), {"kind": "assembly", "name": "AG de la vallée"})
    assert Body.objects.filter(territory=gov.cast.territory, kind="assembly", name="AG de la vallée").exists()
    login(gov.cast["committee"]).post(_url("governance_body_create", gov), {"kind": "growers"})
    assert not Body.objects.filter(territory=gov.cast.territory, kind="growers").exists()
