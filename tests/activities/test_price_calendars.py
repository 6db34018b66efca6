"""A session's price where people find sessions without logging in: the printable programme, the territory's
iCalendar feed, a person's feed and the public calendar page say "free" or the price per adult and per child and
how it is paid."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from grenier.activities import feeds, services
from grenier.activities.models import PaidIn, Session
from grenier.activities.wording import price_text

from .. import ical
from ..pdf import pdf_text
from .conftest import Workshop, make_session

CREDIT = "3,00\u00a0€ par adulte, 1,00\u00a0€ par enfant, en crédit alimentaire"


def priced(w: Workshop, paid_in: str = PaidIn.CREDIT, adult: int = 300, child: int = 100) -> Session:
    return make_session(
        w.activity,
        key=f"priced-{paid_in}-{adult}-{child}",
        address="Ferme de la Combe",
        paid_in=paid_in,
        price_adult_cents=adult,
        price_child_cents=child,
    )


def test_the_price_in_a_few_words(workshop: Workshop) -> None:
    w = workshop
    assert price_text(w.session) == "gratuit"
    assert price_text(priced(w)) == CREDIT
    assert price_text(priced(w, PaidIn.EUROS)) == "3,00\u00a0€ par adulte, 1,00\u00a0€ par enfant, en euros"
    assert price_text(priced(w, PaidIn.EUROS, child=0)).startswith("3,00\u00a0€ par adulte, gratuit pour les")
    assert price_text(priced(w, PaidIn.CREDIT, adult=0)) == (
        "gratuit pour les adultes, 1,00\u00a0€ par enfant, en crédit alimentaire"
    )
    assert price_text(priced(w, PaidIn.CREDIT, adult=200, child=200)).startswith("2,00\u00a0€ par personne")


def test_the_programme_gives_each_session_its_price(workshop: Workshop, client: Client) -> None:
    priced(workshop)
    response = client.get(reverse("activities_programme", args=["vallee", 2026, 12]))
    text = pdf_text(response.content)
    # The PDF's text in octal escapes (é \351, € \200), the line wrapped in its narrow column.
    assert "(Gratuit) Tj" in text  # the free workshop
    assert (
        "(3,00 \\200 par adulte, 1,00 \\200 par) Tj" in text and "(enfant, en cr\\351dit alimentaire)" in text
    )
    assert text.index("(Gratuit)") < text.index("(3,00 \\200 par adulte")  # in the order of the sessions


def test_the_territory_feed_gives_the_price(workshop: Workshop, client: Client) -> None:
    visit = priced(workshop)
    calendar = ical.parse(client.get(reverse("activities_feed", args=["vallee"])).content)
    descriptions = {event.text("LOCATION"): event.text("DESCRIPTION") for event in calendar.events}
    assert "Prix : gratuit" in descriptions["12 rue des Sources"]
    assert f"Prix : {CREDIT}" in descriptions[visit.where]


def test_a_person_feed_gives_the_price_of_their_sessions(workshop: Workshop) -> None:
    w = workshop
    services.register(
        session=priced(w, PaidIn.EUROS), actor=None, idempotency_key="k", adults=1, household=w.cast.household
    )
    feed = services.calendar_feed_renew(user=w.cast["member"], territory=w.cast.territory)
    body = feeds.person_calendar(feed, w.session.date, lambda session: f"https://grenier.test/{session.pk}")
    (event,) = ical.parse(body.encode()).events
    assert "Prix : 3,00\u00a0€ par adulte, 1,00\u00a0€ par enfant, en euros" in event.text("DESCRIPTION")


def test_the_public_calendar_and_the_home_cards_give_the_price(workshop: Workshop, client: Client) -> None:
    visit = priced(workshop)
    page = client.get(reverse("activities_calendar", args=["vallee"])).content.decode()
    card = page[page.index(f'id="session-{visit.pk}"') :]
    assert f'<small class="price">{CREDIT.capitalize()}</small>' in card[: card.index("</li>")]
    free_card = page[page.index(f'id="session-{workshop.session.pk}"') :]
    assert '<small class="price">Gratuit</small>' in free_card[: free_card.index("</li>")]
    client.force_login(workshop.cast["member"])
    home = client.get(reverse("activities_home", args=["vallee"])).content.decode()
    assert f'<small class="price">{CREDIT.capitalize()}</small>' in home
