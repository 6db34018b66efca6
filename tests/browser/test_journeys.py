"""The main journeys in a real browser, on a phone-sized screen."""

from __future__ import annotations

import re

import pytest

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
    assert page.locator("h1").inner_text() == demo.DEMO_NAME
    heading = HOME_HEADINGS[login.role.value]
    assert page.get_by_role("heading", level=2).filter(has_text=heading).count() == 1, heading
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
    assert page.get_by_role("heading", name="Citizen committee").count() == 1
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
    assert page.get_by_role("link", name="Foyer Navigateur").count() == 1
    screenshot(page, "household-list")


def test_a_member_reads_their_household_and_may_leave(page, demo_territory) -> None:
    log_in(page, "member@demo.grenier.test")
    page.get_by_role("navigation", name="Principale").get_by_role("link", name="Mon foyer").click()
    assert page.locator("h1").inner_text() == "Foyer Lemoine"
    assert page.get_by_text("Sandrine").count() == 1
    page.get_by_role("link", name="Quitter Grenier").click()
    page.get_by_role("button", name="Confirmer : le foyer part").click()
    assert page.locator(".field-error").count() == 1  # the confirmation box is required
    screenshot(page, "household-leave")


def test_the_skip_link_and_keyboard(page, demo_territory) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
