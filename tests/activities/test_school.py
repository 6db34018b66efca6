"""A school (a teacher) registers its classes: on a session for school classes only (elsewhere a clear 409), a name and
a head count, never a child's name; it cancels them until the deadline and sees only the registrations it made, never
a household nor another school's class. Every other role but the organisers and coordinators is refused (403)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.activities import services
from grenier.activities.models import Registration, RegistrationStatus, Session
from grenier.core import demo
from grenier.core import services as core_services
from grenier.core.models import Role, User
from grenier.supply import demo as supply_demo

from ..conftest import make_user
from ..core.test_api import assert_problem, bearer, post
from .conftest import Workshop

ROLES = [role.value for role in Role]
CLASS = {"class_name": "CE2 école des Sources", "adults": 2, "children": 24}


@pytest.mark.parametrize("who", ROLES)
def test_who_may_register_a_class_through_the_api(
    workshop: Workshop, school_session: Session, client: Client, who: str
) -> None:
    url = f"/api/v1/activities/sessions/{school_session.pk}/registrations"
    made = post(client, url, {**CLASS, "idempotency_key": f"class-{who}"}, headers=bearer(workshop.cast, who))
    if who in {"school", "coordinator"}:
        assert made.status_code == 201 and made.json()["status"] == "confirmed"
        assert Registration.objects.get().registered_by == workshop.cast[who]
    else:
        assert_problem(made, 403)
        assert not Registration.objects.exists()


def test_a_class_on_a_session_not_for_classes_is_refused_clearly(workshop: Workshop, client: Client) -> None:
    url = f"/api/v1/activities/sessions/{workshop.session.pk}/registrations"
    refused = post(
        client, url, {**CLASS, "idempotency_key": "class-0001"}, headers=bearer(workshop.cast, "school")
    )
    assert assert_problem(refused, 409)["detail"] == "Cette séance n'est pas destinée aux classes."
    assert not Registration.objects.exists()


def test_a_school_sees_and_cancels_only_its_own_classes(
    workshop: Workshop, school_session: Session, client: Client
) -> None:
    w = workshop
    other_school = make_user("autre-ecole@test.grenier")
    core_services.role_grant(user=other_school, territory=w.cast.territory, role=Role.SCHOOL)
    theirs = services.register(
        session=school_session,
        actor=other_school,
        idempotency_key="theirs",
        adults=1,
        children=20,
        class_name="CM1 école du Moulin",
    ).registration
    household = services.register(
        session=w.session,
        actor=w.cast["member"],
        idempotency_key="family",
        adults=2,
        household=w.cast.household,
    ).registration
    school = bearer(w.cast, "school")
    url = f"/api/v1/activities/sessions/{school_session.pk}/registrations"
    mine = post(client, url, {**CLASS, "idempotency_key": "mine-0001"}, headers=school).json()
    listed = client.get("/api/v1/activities/registrations", headers=school).json()
    assert [r["id"] for r in listed] == [mine["id"]]
    for other in (theirs, household):
        assert_problem(
            post(client, f"/api/v1/activities/registrations/{other.pk}/cancel", {}, headers=school), 404
        )
    assert_problem(client.get("/api/v1/households", headers=school), 403)
    assert_problem(client.get(f"/api/v1/households/{w.cast.household.pk}", headers=school), 404)
    cancel = f"/api/v1/activities/registrations/{mine['id']}/cancel"
    with time_machine.travel(school_session.registration_deadline + timedelta(hours=1)):
        assert (
            "L'annulation était possible"
            in assert_problem(post(client, cancel, {}, headers=school), 409)["detail"]
        )
    cancelled = post(client, cancel, {}, headers=school)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert Registration.objects.get(pk=theirs.pk).status == RegistrationStatus.CONFIRMED


def test_a_teacher_registers_a_class_on_the_session_page_and_finds_it_on_the_home(
    workshop: Workshop, school_session: Session, login: Callable[..., Client]
) -> None:
    w = workshop
    slug = w.cast.territory.slug
    page = reverse("activities_session", args=[slug, school_session.pk])
    client = login(w.cast["school"])
    form = client.get(page).content.decode()
    assert 'id="class-form"' in form and 'inputmode="numeric"' in form and 'id="register-form"' not in form
    answer = client.post(page, {**CLASS, "idempotency_key": "page-1"})
    assert answer.status_code == 302 and answer["Location"] == reverse("activities_mine", args=[slug])
    registration = Registration.objects.get()
    assert (registration.class_name, registration.children, registration.adults) == (
        "CE2 école des Sources",
        24,
        2,
    )
    assert registration.household is None and registration.registered_by == w.cast["school"]
    home = client.get(reverse("territory_home", args=[slug])).content.decode()
    assert "École / enseignant" in home and "Visite de ferme pour les classes" in home
    assert "CE2 école des Sources" in home and "Atelier cuisine de saison" not in home  # not for classes
    assert (
        client.get(reverse("activities_mine", args=[slug])).content.decode().count("CE2 école des Sources")
        == 1
    )
    assert client.get(reverse("household_list", args=[slug])).status_code == 403
    assert client.get(reverse("household_detail", args=[slug, w.cast.household.pk])).status_code == 404
    # a household's session: no form for a school, and a post registers nothing
    assert (
        'id="class-form"'
        not in client.get(reverse("activities_session", args=[slug, w.session.pk])).content.decode()
    )


@pytest.mark.parametrize("who", ["member", "producer", "funder"])
def test_no_class_form_for_others_on_the_session_page(
    workshop: Workshop, school_session: Session, login: Callable[..., Client], who: str
) -> None:
    page = reverse("activities_session", args=[workshop.cast.territory.slug, school_session.pk])
    client = login(workshop.cast[who])
    assert 'id="class-form"' not in client.get(page).content.decode()
    assert client.post(page, {**CLASS, "idempotency_key": f"page-{who}"}).status_code == 200
    assert not Registration.objects.exists()


def test_the_demo_school_has_a_class_on_the_growers_school_session(
    db: None, monkeypatch: pytest.MonkeyPatch, login: Callable[..., Client]
) -> None:
    monkeypatch.setattr(supply_demo, "WEEKS", 3)
    territory = demo.build(log=lambda _line: None, household_count=5)
    teacher = User.objects.get(email="school@demo.grenier.test")
    coming = Registration.objects.filter(
        registered_by=teacher,
        session__audience="school",
        session__date__gte=timezone.localdate(),
        session__activity__title="Le goût des légumes de saison",
    ).exclude(status=RegistrationStatus.CANCELLED)
    assert coming.exists() and not coming.filter(household__isnull=False).exists()
    home = login(teacher).get(reverse("territory_home", args=[territory.slug])).content.decode()
    assert coming.first().class_name in home  # type: ignore[union-attr]
