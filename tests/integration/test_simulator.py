"""« Simulateur de consommation » (seed 000): fill in the form, click « Simuler ma facture », the
page shows the detailed bill — each line, HT / TVA / TTC, totals, the tranche warning, the
monthly-equivalent consumption; water comes with its sanitation. Wrong input gets a French
message on the field, never a server error."""

from __future__ import annotations

import html as html_lib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from rak_billing.models import TariffSchedule
from tests.factories import customer_with_account

pytestmark = pytest.mark.django_db

URL = "/services/simulation/"


@pytest.fixture(autouse=True)
def _march_2026(monkeypatch):
    """The simulator uses the tariffs of « today »: 2 March 2026 (VAT on electricity 20 %)."""
    monkeypatch.setattr("rak_base.clock.now", lambda: datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Africa/Casablanca")))


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def form(**overrides) -> dict:
    data = {
        "service": "ELECTRICITE",
        "category": "DOMESTIQUE",
        "mode": "consommation",
        "consumption": "151",
        "old_index": "",
        "new_index": "",
        "period": "jours",
        "days": "30",
        "start_date": "",
        "end_date": "",
    }
    data.update(overrides)
    return data


def test_url_and_services_menu(client):
    assert reverse("portal:simulator") == URL
    home = text(client.get(reverse("portal:home")))
    assert f'href="{URL}"' in home  # « Simuler votre consommation » leads to the simulator
    response = client.get(URL)
    assert response.status_code == 200
    page = text(response)
    assert "Simuler ma facture" in page
    assert "Domestique" in page and "Professionnel" in page
    assert "Borne-fontaine" not in page  # no schedule for that category: not offered


def test_get_query_count_is_bounded(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert client.get(URL).status_code == 200


def test_electricity_above_150_kwh_shows_the_switch_warning_and_the_bill(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = client.post(URL, form())
    assert response.status_code == 200
    page = text(response)
    assert "Estimation de votre facture" in page
    assert "a dépassé 150 kWh : toute votre consommation est facturée au prix de la tranche atteinte" in page
    assert 'data-testid="tranche-notice"' in page
    assert "Électricité — tranche 151 à 210 kWh (sélective)" in page
    assert "162,05" in page  # 151 × 1,0732 TTC
    assert "TPPAN" in page and "Location du compteur" in page
    result = response.context["result"]
    assert result.total_ttc == sum(line.amount_ttc for line in result.main.computation.lines)
    assert f"{result.total_ttc:.2f}".replace(".", ",") in page
    assert "151 kWh par mois" in page
    # what 1 kWh more than 150 costs: 150 kWh would be 143,76 + 5,60 fixed + 17,50 TPPAN = 166,86
    assert "avec 150 kWh par mois, cette facture serait de 166,86 DH TTC, soit 18,44 DH de moins" in page


def test_progressive_below_150_warns_of_the_first_tranche(client):
    page = text(client.post(URL, form(consumption="120")))
    assert "Pour comparaison" not in page
    assert "Vous avez dépassé la tranche 0 à 100 kWh" in page
    assert "90,10" in page and "21,46" in page  # 100 × 0,9010 and 20 × 1,0732


def test_small_consumption_has_no_warning(client):
    page = text(client.post(URL, form(consumption="80")))
    assert 'data-testid="tranche-notice"' not in page
    assert "72,08" in page  # 80 × 0,9010


def test_old_and_new_index(client):
    response = client.post(URL, form(mode="index", consumption="", old_index="10 250", new_index="10400"))
    # « 10 250 » with a space is not a number: the message says what to type
    assert response.status_code == 400
    assert "Saisissez un nombre" in text(response)
    response = client.post(URL, form(mode="index", consumption="", old_index="10250", new_index="10400,5"))
    assert response.status_code == 200
    assert "150,5 kWh sur 30 jours" in text(response)


def test_new_index_below_old_is_refused_in_french(client):
    response = client.post(URL, form(mode="index", consumption="", old_index="10400", new_index="10250"))
    assert response.status_code == 400
    page = text(response)
    assert "Le nouvel index doit être supérieur ou égal à l'ancien index" in page
    assert "Estimation de votre facture" not in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"days": "0"}, "La période doit compter au moins un jour."),
        ({"days": "-4"}, "La période doit compter au moins un jour."),
        ({"days": "400"}, "La période ne peut pas dépasser 366 jours."),
        ({"days": "trente"}, "Saisissez un nombre entier de jours."),
        ({"days": ""}, "Saisissez la durée de la période en jours"),
        ({"consumption": ""}, "Saisissez votre consommation."),
        ({"consumption": "-5"}, "La consommation ne peut pas être négative."),
        ({"consumption": "abc"}, "Saisissez un nombre"),
        ({"consumption": "5000000"}, "Cette consommation paraît anormale"),
        ({"consumption": "1e400"}, "Ce nombre est trop grand"),
        ({"consumption": "12,34567"}, "Au plus 3 chiffres après la virgule."),
        ({"consumption": "NaN"}, "Saisissez un nombre"),
        ({"mode": "index", "old_index": "", "new_index": "12"}, "Saisissez l'ancien index"),
        ({"period": "dates", "start_date": "2026-02-01", "end_date": "2026-01-01"}, "doit être postérieure"),
        ({"period": "dates", "start_date": "2026-02-01", "end_date": ""}, "Saisissez la date de la nouvelle relève."),
        ({"period": "dates", "start_date": "hier", "end_date": "2026-03-01"}, "Saisissez une date valide"),
        ({"category": "BORNE_FONTAINE"}, "Sélectionnez un choix valide"),
        ({"service": "GAZ"}, "Sélectionnez un choix valide"),
    ],
)
def test_wrong_input_gets_a_french_message_never_a_500(client, overrides, message):
    response = client.post(URL, form(**overrides))
    assert response.status_code == 400
    assert message in text(response)


def test_an_empty_or_forged_post_is_a_400_with_messages(client):
    response = client.post(URL, {})
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in text(response)
    response = client.post(URL, form(mode="autre", period="siècle", days="30"))
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in text(response)


def test_category_without_a_schedule_for_the_service(client):
    TariffSchedule.objects.filter(service="ELECTRICITE", category="PROFESSIONNEL").delete()
    response = client.post(URL, form(category="PROFESSIONNEL"))
    assert response.status_code == 400
    assert "n'a pas de tarif d’électricité" in text(response)


def test_dates_give_the_period_length_and_the_tariff_date(client):
    response = client.post(URL, form(period="dates", days="", start_date="2025-11-15", end_date="2026-01-14"))
    assert response.status_code == 200
    result = response.context["result"]
    assert result.days == 60
    assert str(result.on_date) == "2026-01-14"
    assert "75,5 kWh par mois" in text(response)  # 151 kWh over 60 days: progressive, no switch
    assert "a dépassé 150" not in text(response)


def test_dates_before_any_tariff_are_explained(client):
    response = client.post(URL, form(period="dates", days="", start_date="2018-12-01", end_date="2019-01-01"))
    assert response.status_code == 400
    assert "Aucun barème n'est en vigueur le 01/01/2019 pour Électricité / Domestique." in text(response)


def test_water_comes_with_sanitation(client):
    response = client.post(URL, form(service="EAU", consumption="15"))
    assert response.status_code == 200
    page = text(response)
    assert "Eau potable — tranche 0 à 6 m³" in page
    assert "Assainissement — tranche 7 à 20 m³" in page
    assert "Sous-total eau potable" in page and "Sous-total assainissement" in page
    assert page.count("Vous avez dépassé la tranche 0 à 6 m³") == 1  # water and sanitation: said once
    assert "125,82" in page  # water 86,73 + sanitation 39,09, domestic water exempt of VAT since 2024
    assert 'data-testid="lines-assainissement"' in page


def test_sanitation_notice_is_named_when_it_differs(client):
    page = text(client.post(URL, form(service="EAU", consumption="25")))
    assert "Vous avez dépassé la tranche 13 à 20 m³" in page
    assert "Assainissement : vous avez dépassé la tranche 7 à 20 m³" in page


def test_professional_water_pays_vat(client):
    response = client.post(URL, form(service="EAU", category="PROFESSIONNEL", consumption="15"))
    result = response.context["result"]
    assert result.total_tva > 0
    assert "10 %" in text(response)


def test_logged_in_customer_keeps_the_menu(client):
    _customer, user = customer_with_account()
    client.force_login(user)
    page = text(client.get(URL))
    assert "Tableau de bord" in page  # the private sidebar
    assert "Simuler ma facture" in page


def test_each_category_names_the_services_it_has_a_tariff_for(client):
    """The category list follows the chosen service (simulator.js hides the others; the server
    refuses a category without a tariff for the service in any case)."""
    import re

    from rak_billing.tariffs import tariff_book

    book = tariff_book(
        datetime(2026, 3, 2, tzinfo=ZoneInfo("Africa/Casablanca")).date(), services=["ELECTRICITE", "EAU"]
    )
    page = client.get(URL).content.decode()
    select = re.search(r'<select name="category"[^>]*>(.*?)</select>', page, re.S).group(1)
    options = re.findall(r'<option value="([^"]+)"([^>]*)>', select)
    assert options
    for value, attrs in options:
        services = re.search(r'data-services="([^"]*)"', attrs)
        assert services, f"option {value} without data-services"
        expected = {s for s in ("ELECTRICITE", "EAU") if value in book.categories(s)}
        assert set(services.group(1).split()) == expected
    assert 'src="/static/rak_portal/simulator.js"' in page
