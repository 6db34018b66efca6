"""The biowaste pages for every member of the cast: a kitchen's manager records and reads its own kitchen's, never
another's; coordinators and the committee read every kitchen's and record none; nobody else sees any. A service's
weighing typed in kilograms the French way, refused on its field, or held back until an unusual value is confirmed;
the exports."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from grenier.core.models import Role
from grenier.waste.models import BiowasteDelivery, Campaign, Weighing

from .conftest import Kitchens, weigh

EVERYONE = [*(role.value for role in Role), "outsider", "nobody", "other_kitchen"]
READERS = {"coordinator", "committee"}


def _user(k: Kitchens, who: str):
    return k.other_kitchen if who == "other_kitchen" else k.cast[who]


def _expected(who: str, *, school: bool, write: bool) -> int:
    """What ``who`` gets on a page of the school's campaign (``school``) or on a list page: no role here 404, a
    role with no part in biowaste 403, another kitchen's campaign 404, a reader writing 403."""
    if who in {"outsider", "nobody"}:
        return 404
    if who in READERS:
        return 403 if write else 200
    if who == "kitchen" or (who == "other_kitchen" and not school):
        return 200
    return 404 if who == "other_kitchen" else 403


@pytest.mark.parametrize("who", EVERYONE)
def test_who_sees_which_page(kitchens: Kitchens, login: Callable[..., Client], who: str) -> None:
    client = login(_user(kitchens, who))
    campaign = kitchens.autumn.pk
    pages = {
        "waste_home": ((), False, False),
        "waste_deliveries": ((), False, False),
        "waste_campaign": ((campaign,), True, False),
        "waste_weigh": ((campaign,), True, True),
        "waste_weighings_csv": ((campaign,), True, False),
        "waste_weighings_xlsx": ((campaign,), True, False),
        "waste_report_pdf": ((campaign,), True, False),
        "waste_ma_cantine": ((campaign,), True, False),
        "waste_ma_cantine_year": ((), False, False),
        "waste_ma_cantine_kitchen": ((kitchens.school.pk,), True, False),
    }
    for name, (args, school, write) in pages.items():
        status = client.get(reverse(name, args=["vallee", *args])).status_code
        assert status == _expected(who, school=school, write=write), (name, who, status)
    new = client.get(reverse("waste_campaign_new", args=["vallee"])).status_code
    assert new == (
        200 if who in {"kitchen", "other_kitchen"} else 404 if who in {"outsider", "nobody"} else 403
    )


def test_anonymous_visitors_are_sent_to_log_in(kitchens: Kitchens, client: Client) -> None:
    response = client.get(reverse("waste_campaign", args=["vallee", kitchens.autumn.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_kitchen_sees_only_its_own_kitchen(kitchens: Kitchens, login: Callable[..., Client]) -> None:
    weigh(kitchens.autumn, date(2026, 11, 16), 300, plate=20_000)
    page = login(kitchens.other_kitchen).get(reverse("waste_home", args=["vallee"])).content.decode()
    assert "EHPAD des Tilleuls" in page and "Cantine de l" not in page and "Automne, avant" not in page
    page = login(kitchens.cast["committee"]).get(reverse("waste_home", args=["vallee"])).content.decode()
    assert "EHPAD des Tilleuls" in page and "Automne, avant" in page and 'id="new-campaign"' not in page


def test_the_navigation_shows_biowaste_to_who_may_see_it(
    kitchens: Kitchens, login: Callable[..., Client]
) -> None:
    link = f'href="{reverse("waste_home", args=["vallee"])}"'
    for who, shown in (
        ("kitchen", True),
        ("coordinator", True),
        ("committee", True),
        ("member", False),
        ("funder", False),
    ):
        page = login(kitchens.cast[who]).get(reverse("territory_home", args=["vallee"])).content.decode()
        assert (link in page) == shown, who


# --- weighing on the phone ------------------------------------------------------------------------------------------


def _form(**change: str) -> dict[str, str]:
    data = {
        "idempotency_key": "page-weigh-0001",
        "day": "2026-11-16",
        "service": "lunch",
        "meals": "312",
        "preparation": "4,2",
        "unserved": "9.5",
        "plate": "21,35",
        "bread": "",
        "note": "",
    }
    data.update(change)
    return data


def test_a_service_is_weighed_in_kilograms_the_french_way(
    kitchens: Kitchens, login: Callable[..., Client]
) -> None:
    client = login(kitchens.cast["kitchen"])
    url = reverse("waste_weigh", args=["vallee", kitchens.autumn.pk])
    page = client.get(url).content.decode()
    assert 'inputmode="decimal"' in page and 'value="2026-11-25"' in page  # today, a day of the campaign
    response = client.post(url, _form())
    assert response.status_code == 302
    weighing = Weighing.objects.get()
    assert (
        weighing.meals,
        weighing.preparation_g,
        weighing.unserved_g,
        weighing.plate_g,
        weighing.bread_g,
    ) == (
        312,
        4_200,
        9_500,
        21_350,
        0,
    )
    assert weighing.recorded_by == kitchens.cast["kitchen"]
    client.post(url, _form())  # sent again (a double tap): recorded once
    assert Weighing.objects.count() == 1
    page = client.get(reverse("waste_campaign", args=["vallee", kitchens.autumn.pk])).content.decode()
    assert 'id="per-meal">112,3\u00a0g<' in page  # 4,200 + 9,500 + 21,350 = 35,050 g for 312 meals: 112.34 g


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"meals": "0"}, "meals"),
        ({"plate": "-2"}, "plate"),
        ({"plate": "douze"}, "plate"),
        ({"plate": "1,2345"}, "plate"),
        ({"day": "2026-11-30"}, "day"),
        ({"meals": "10", "plate": "40"}, "plate"),  # 4.7 kg a meal
    ],
)
def test_impossible_input_is_refused_on_its_field(
    kitchens: Kitchens, login: Callable[..., Client], change: dict[str, str], field: str
) -> None:
    response = login(kitchens.cast["kitchen"]).post(
        reverse("waste_weigh", args=["vallee", kitchens.autumn.pk]), _form(**change)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Weighing.objects.exists()


def test_an_unusual_value_is_confirmed_before_it_is_stored(
    kitchens: Kitchens, login: Callable[..., Client]
) -> None:
    client = login(kitchens.cast["kitchen"])
    url = reverse("waste_weigh", args=["vallee", kitchens.autumn.pk])
    response = client.post(url, _form(meals="100", plate="35"))
    assert response.status_code == 200 and "plate" in response.context["form"].errors
    assert 'id="confirm-box"' in response.content.decode() and not Weighing.objects.exists()
    assert client.post(url, _form(meals="100", plate="35", confirm="on")).status_code == 302
    assert Weighing.objects.get().confirmed_unusual


def test_a_reader_may_not_weigh(kitchens: Kitchens, login: Callable[..., Client]) -> None:
    response = login(kitchens.cast["coordinator"]).post(
        reverse("waste_weigh", args=["vallee", kitchens.autumn.pk]), _form()
    )
    assert response.status_code == 403 and not Weighing.objects.exists()


# --- campaigns and deliveries ---------------------------------------------------------------------------------------


def test_a_kitchen_sets_up_a_campaign_after_its_action(
    kitchens: Kitchens, login: Callable[..., Client]
) -> None:
    client = login(kitchens.cast["kitchen"])
    url = reverse("waste_campaign_new", args=["vallee"])
    page = client.get(url)
    assert list(page.context["form"].fields["kitchen"].queryset) == [kitchens.school]
    data = {
        "idempotency_key": "page-campaign-1",
        "kitchen": kitchens.school.pk,
        "name": "Printemps, après",
        "phase": "after",
        "action": "Pain à la demande",
        "starts_on": "2026-11-23",
        "ends_on": "2026-11-20",
        "services": ["lunch"],
        "compares_with": kitchens.autumn.pk,
    }
    refused = client.post(url, data)
    assert "ends_on" in refused.context["form"].errors and Campaign.objects.count() == 1
    data["ends_on"] = "2026-12-04"
    created = client.post(url, data)
    campaign = Campaign.objects.exclude(pk=kitchens.autumn.pk).get()
    assert created["Location"] == reverse("waste_campaign", args=["vallee", campaign.pk])
    assert campaign.compares_with == kitchens.autumn and campaign.action == "Pain à la demande"
    # the other kitchen's campaigns are not offered, nor may it create for the school
    other = login(kitchens.other_kitchen).post(url, {**data, "idempotency_key": "page-campaign-2"})
    assert "kitchen" in other.context["form"].errors


def test_biowaste_sent_to_a_farm(kitchens: Kitchens, login: Callable[..., Client]) -> None:
    client = login(kitchens.cast["kitchen"])
    url = reverse("waste_deliveries", args=["vallee"])
    data = {
        "idempotency_key": "page-delivery-1",
        "kitchen": kitchens.school.pk,
        "day": "2026-11-20",
        "weight": "85,5",
        "kind": "farm",
        "producer": "",
        "destination": "",
    }
    refused = client.post(url, data)
    assert "producer" in refused.context["form"].errors
    data["producer"] = kitchens.farm.pk
    assert client.post(url, data).status_code == 302
    delivery = BiowasteDelivery.objects.get()
    assert delivery.weight_g == 85_500 and delivery.producer == kitchens.farm
    page = login(kitchens.cast["committee"]).get(url).content.decode()
    assert "Ferme des Saules" in page and 'id="delivery-form"' not in page
    assert login(kitchens.cast["committee"]).post(url, data).status_code == 403


# --- exports ---------------------------------------------------------------------------------------------------------


def test_the_exports(kitchens: Kitchens, login: Callable[..., Client]) -> None:
    from openpyxl import load_workbook

    weigh(
        kitchens.autumn, date(2026, 11, 16), 300, preparation=4_000, unserved=9_000, plate=21_000, bread=1_500
    )
    kitchens.school.siret = "21310000000014"
    kitchens.school.save()
    client = login(kitchens.cast["committee"])
    args = ["vallee", kitchens.autumn.pk]
    csv_text = client.get(reverse("waste_weighings_csv", args=args)).content.decode()
    assert csv_text.splitlines()[1].split(";")[:8] == [
        "16/11/2026",
        "Déjeuner",
        "300",
        "4",
        "9",
        "21",
        "1,5",
        "35,5",
    ]
    book = load_workbook(io.BytesIO(client.get(reverse("waste_weighings_xlsx", args=args)).content))
    row = [cell.value for cell in book.active[2]]
    assert row[2] == 300 and float(row[7]) == 35.5 and float(row[8]) == 118.3
    pdf = client.get(reverse("waste_report_pdf", args=args))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    ma_cantine = client.get(reverse("waste_ma_cantine", args=args)).content.decode().splitlines()
    assert ma_cantine[0].startswith("canteen_siret,period_start_date,period_end_date,meal_count,total_mass")
    assert ma_cantine[1] == "21310000000014,2026-11-16,2026-11-27,300,35.5,true,4,9,22.5"


def test_the_year_s_waste_for_ma_cantine_beside_the_egalim_export(
    kitchens: Kitchens, login: Callable[..., Client]
) -> None:
    weigh(
        kitchens.autumn, date(2026, 11, 16), 300, preparation=4_000, unserved=9_000, plate=21_000, bread=1_500
    )
    client = login(kitchens.cast["kitchen"])
    page = client.get(reverse("waste_ma_cantine_year", args=["vallee"]) + "?year=2026").content.decode()
    assert f'id="ma-cantine-{kitchens.school.pk}"' in page and "22.5" in page  # plates and bread
    csv_text = client.get(
        reverse("waste_ma_cantine_kitchen", args=["vallee", kitchens.school.pk]) + "?year=2026"
    )
    assert csv_text.content.decode().splitlines()[1].endswith(",300,35.5,true,4,9,22.5")
    assert (
        "Automne"
        not in login(kitchens.other_kitchen)
        .get(reverse("waste_ma_cantine_year", args=["vallee"]) + "?year=2026")
        .content.decode()
    )
    egalim = login(kitchens.cast["kitchen"]).get(reverse("supply_egalim", args=["vallee"])).content.decode()
    assert 'id="waste-for-ma-cantine"' in egalim


def test_the_kitchen_s_home_offers_today_s_weighing(kitchens: Kitchens, login: Callable[..., Client]) -> None:
    weigh_url = reverse("waste_weigh", args=["vallee", kitchens.autumn.pk])
    home = login(kitchens.cast["kitchen"]).get(reverse("territory_home", args=["vallee"])).content.decode()
    assert f'href="{weigh_url}"' in home  # 25 November, a day of the campaign
    home = login(kitchens.other_kitchen).get(reverse("territory_home", args=["vallee"])).content.decode()
    assert f'href="{weigh_url}"' not in home


def test_a_weighing_is_corrected_by_its_kitchen_only(
    kitchens: Kitchens, login: Callable[..., Client]
) -> None:
    weighing = weigh(kitchens.autumn, date(2026, 11, 16), 300, unserved=9_500, plate=21_350)
    url = reverse("waste_weighing_correct", args=["vallee", weighing.pk])
    for who, status in (("committee", 403), ("coordinator", 403), ("member", 403), ("outsider", 404)):
        assert login(kitchens.cast[who]).get(url).status_code == status, who
    assert login(kitchens.other_kitchen).get(url).status_code == 404
    client = login(kitchens.cast["kitchen"])
    page = client.get(url)
    assert page.context["form"]["plate"].value() == "21,35" and 'name="day"' not in page.content.decode()
    data = {
        "meals": "310",
        "preparation": "",
        "unserved": "9,5",
        "plate": "21,35",
        "bread": "0,8",
        "note": "",
    }
    assert client.post(url, data).status_code == 302
    weighing.refresh_from_db()
    assert (weighing.meals, weighing.bread_g) == (310, 800)
    refused = client.post(url, {**data, "meals": "0"})
    assert "meals" in refused.context["form"].errors
