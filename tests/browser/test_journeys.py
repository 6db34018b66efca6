"""The main journeys in a real browser, on a phone-sized screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from grenier.core import demo
from grenier.core.models import Household

from .conftest import screenshot

# What each demo login should see first on its home page (French is the default language).
HOME_HEADINGS = {
    "coordinator": "Coordination",
    "committee": "Comité citoyen",
    "member": "Mon foyer",
    "cashier": "Point de vente",
    "producer": "Producteur",
    "kitchen": "Restauration collective",
    "social_worker": "Travailleur",
    "funder": "Financeur",
    "school": "École / enseignant",
}


def log_in(page, email: str, password: str = demo.DEMO_PASSWORD) -> None:
    page.goto(page.base_url + "/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


@pytest.mark.parametrize("login", demo.LOGINS, ids=[login.role.value for login in demo.LOGINS])
def test_each_demo_login_reaches_its_home_page(page, demo_territory, login) -> None:
    log_in(page, login.email)
    page.wait_for_url(re.compile(r"/t/demo/$"))
    expect(page.locator("h1")).to_have_text(demo.DEMO_NAME)
    heading = HOME_HEADINGS[login.role.value]
    expect(page.get_by_role("heading", level=2).filter(has_text=heading), heading).to_have_count(1)
    # A phone-sized page never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, f"home-{login.role.value}")


def test_a_wrong_password_is_explained(page, demo_territory) -> None:
    log_in(page, "member@demo.grenier.test", "pas-le-bon")
    assert page.get_by_role("alert").inner_text().startswith("Votre adresse e-mail et votre mot de passe")


def test_the_language_switch(page, demo_territory) -> None:
    log_in(page, "committee@demo.grenier.test")
    page.wait_for_url(re.compile(r"/t/demo/$"))
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Changer").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("heading", name="Citizen committee")).to_have_count(1)
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"


def test_a_coordinator_creates_a_household_and_sees_it_listed(page, demo_territory) -> None:
    log_in(page, "coordinator@demo.grenier.test")
    page.get_by_role("link", name="Ajouter un foyer").first.click()
    page.get_by_label("Nom du foyer").fill("Foyer Navigateur")
    page.get_by_label("Ressources mensuelles déclarées, en euros (facultatif)").fill("1 180,00")
    page.get_by_label("Prénom de la personne 1").fill("Maëlle")
    page.get_by_label("Date de naissance de la personne 1").fill("1990-05-06")
    page.get_by_label("Prénom de la personne 2").fill("Sacha")
    page.get_by_label("Date de naissance de la personne 2").fill("2020-02-03")
    screenshot(page, "household-form")
    page.get_by_role("button", name="Enregistrer le foyer").click()
    assert page.get_by_role("status").inner_text().startswith("Foyer Navigateur")
    household = Household.objects.get(name="Foyer Navigateur")
    assert household.persons.count() == 2 and household.monthly_resources_cents == 118000
    page.get_by_role("navigation", name="Principale").get_by_role("link", name="Foyers").click()
    page.get_by_label("Rechercher par nom, e-mail ou numéro de carte").fill("Navigateur")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("link", name="Foyer Navigateur")).to_have_count(1)
    screenshot(page, "household-list")


def test_a_member_reads_their_household_and_may_leave(page, demo_territory) -> None:
    log_in(page, "member@demo.grenier.test")
    page.get_by_role("navigation", name="Principale").get_by_role("link", name="Mon foyer").click()
    expect(page.locator("h1")).to_have_text("Foyer Lemoine")
    expect(page.locator("main").get_by_text("Sandrine")).to_have_count(1)
    page.get_by_role("link", name="Quitter Grenier").click()
    page.get_by_role("button", name="Confirmer : le foyer part").click()
    expect(page.locator(".field-error")).to_have_count(1)  # the confirmation box is required
    screenshot(page, "household-leave")


def test_the_skip_link_and_keyboard(page, demo_territory) -> None:
    log_in(page, "committee@demo.grenier.test")  # a page with no field that takes the focus on load
    page.wait_for_url(re.compile(r"/t/demo/$"))
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def _no_sideways_scroll(page) -> bool:
    # measured once the page's stylesheet applies: on a busy machine a click's new page can be read before it has
    page.wait_for_load_state("load")
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_a_cashier_takes_a_payment_and_refunds_it_on_a_phone(page, demo_territory) -> None:
    from grenier.fund import services

    member = Household.objects.get(territory=demo_territory, persons__user__email="member@demo.grenier.test")
    before = services.credit_balance(member)
    log_in(page, "cashier@demo.grenier.test")
    page.get_by_role("navigation", name="Principale").get_by_role("link", name="Caisse", exact=True).click()
    page.get_by_label("Numéro de carte").fill(member.card_number)
    page.get_by_label("Total de l'achat, en euros").fill("12,40")
    screenshot(page, "till")
    page.get_by_role("button", name="Encaisser le paiement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiement accepté")
    assert services.credit_balance(member) == before - 1240
    assert "12,40" in page.locator(".receipt").inner_text()
    assert _no_sideways_scroll(page)
    screenshot(page, "receipt")
    page.get_by_role("link", name="Rembourser").click()
    page.get_by_label("Crédit alimentaire à rendre, en euros").fill("2,40")
    page.get_by_role("button", name="Rendre le crédit").click()
    expect(page.get_by_role("status")).to_have_count(1)
    assert services.credit_balance(member) == before - 1000


def test_the_till_refuses_more_than_the_credit(page, demo_territory) -> None:
    from grenier.fund import services

    member = Household.objects.get(territory=demo_territory, persons__user__email="member@demo.grenier.test")
    before = services.credit_balance(member)
    log_in(page, "cashier@demo.grenier.test")
    page.goto(page.base_url + "/t/demo/till/")
    page.get_by_label("Numéro de carte").fill(member.card_number)
    page.get_by_label("Total de l'achat, en euros").fill(str(before // 100 + 50))
    page.get_by_role("button", name="Encaisser le paiement").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    assert services.credit_balance(member) == before
    screenshot(page, "till-refused")


def test_a_member_reads_their_credit_and_statement(page, demo_territory) -> None:
    from grenier.fund import services

    member = Household.objects.get(territory=demo_territory, persons__user__email="member@demo.grenier.test")
    log_in(page, "member@demo.grenier.test")
    page.get_by_role("navigation", name="Principale").get_by_role("link", name="Mon crédit").click()
    balance = page.locator(".balance").inner_text()
    assert balance.replace("\u202f", " ").startswith(
        f"{services.credit_balance(member) // 100:,}".replace(",", " ")
    )
    expect(page.locator(".qr svg")).to_have_count(1)
    page.get_by_role("link", name=re.compile("←")).click()  # last month's statement
    expect(page.get_by_role("heading", name=re.compile("Relevé du mois"))).to_have_count(1)
    assert _no_sideways_scroll(page)
    screenshot(page, "my-credit")


def test_a_coordinator_tries_next_month_and_reads_the_dashboard(page, demo_territory) -> None:
    from datetime import date

    from django.utils import timezone

    from grenier.fund.models import MonthlyRun

    today = timezone.localdate()
    next_month = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    log_in(page, "coordinator@demo.grenier.test")
    page.get_by_role("navigation", name="Principale").get_by_role("link", name="Caisse commune").click()
    expect(page.locator("svg.chart")).to_have_count(1)
    screenshot(page, "fund-dashboard")
    page.get_by_role("link", name="Mois et règles").click()
    # Next month has not begun: refused, with the reason (issue 13, item 1).
    page.get_by_label("Mois à calculer").fill(f"{next_month:%Y-%m}")
    page.get_by_role("button", name="Voir ce que le lancement va faire").click()
    assert "pas commencé" in page.get_by_role("alert").first.inner_text()
    assert not MonthlyRun.objects.filter(territory=demo_territory, month=next_month).exists()
    # This month: the demo ran it, so the page says running it again changes nothing and offers no button.
    page.get_by_label("Mois à calculer").fill(f"{today:%Y-%m}")
    page.get_by_role("button", name="Voir ce que le lancement va faire").click()
    assert "déjà été lancé" in page.locator("#run-preview").inner_text()
    expect(page.locator("#run-confirm")).to_have_count(0)
    page.get_by_role("link", name="Projection").click()
    expect(page.locator("svg.chart")).to_have_count(1)
    assert _no_sideways_scroll(page)
    screenshot(page, "fund-projection")
