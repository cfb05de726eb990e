"""Small defects a customer walkthrough found (issue 9 §2): « Payer en ligne » with nothing to pay,
the step-2 title of « Demande de branchement »."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from tests.factories import customer_with_account

pytestmark = pytest.mark.django_db


def test_pay_online_with_nothing_to_pay_says_so_without_an_empty_table(client):
    _customer, user = customer_with_account()
    client.force_login(user)
    html = client.get(reverse("portal:pay_online")).content.decode().replace("&#x27;", "'")
    assert "Vous n'avez aucune facture à payer" in html
    assert 'data-testid="pay-bills"' not in html and "Total Général" not in html and ">Valider<" not in html


def test_connection_request_step_2_title(client):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    _customer, user = customer_with_account()
    client.force_login(user)
    url = reverse("portal:request_step", kwargs={"kind": "branchement", "step": 2})
    html = client.get(url, follow=True).content.decode().replace("&#x27;", "'")
    assert "Saisie des informations relatives au branchement" in html
    assert "relatives à au" not in html


def test_agencies_directions_phone_and_address(client):
    from decimal import Decimal

    from rak_customer.models import Agency

    Agency.objects.create(
        name="Agence Centre-ville",
        address="Boulevard Mohammed Diouri, Ville Haute, Kénitra",
        city="Kénitra",
        phone="+212537372100",
        latitude=Decimal("34.261100"),
        longitude=Decimal("-6.580200"),
    )
    Agency.objects.create(name="Agence Mehdia", address="Avenue de la Plage", city="Mehdia")
    html = client.get(reverse("portal:agencies")).content.decode()
    assert "Kénitra, Kénitra" not in html and "Avenue de la Plage, Mehdia" in html
    assert "05 37 37 21 00" in html and 'href="tel:+212537372100"' in html
    assert "destination=34.261100,-6.580200" in html  # decimal points, not the French comma
    assert "34,261100" not in html


def test_dashboard_opens_on_a_metered_dossier_not_sanitation(client):
    from rak_customer.models import Service
    from tests.factories import DossierFactory

    customer, user = customer_with_account()
    sanitation = DossierFactory(customer=customer, number="D100000001", service=Service.ASSAINISSEMENT, meter=None)
    water = DossierFactory(customer=customer, number="D100000002", service=Service.EAU)
    assert sanitation.number < water.number and water.meter_id is not None
    client.force_login(user)
    response = client.get(reverse("portal:dashboard"))
    assert response.context["chart_dossier"] == water


def test_password_sent_page_gives_the_crc_phone_and_the_facebook_page(client, settings):
    from tests.factories import CustomerFactory, PhoneFactory

    settings.COMPANY_PHONE = "05 37 37 00 00"
    settings.COMPANY_FACEBOOK_URL = "https://www.facebook.com/rak.kenitra"
    customer = CustomerFactory(cin="AB123456")
    PhoneFactory(customer=customer, value="+212661234578")
    response = client.post(
        reverse("portal:register_start"),
        {"identity": "AB123456", "phone": "0661234578", "accept_terms": "on", "accept_data_processing": "on"},
        follow=True,
    )
    html = response.content.decode().replace("&#x27;", "'")
    assert "se terminant par 78" in html
    assert 'href="tel:0537370000"' in html and "05 37 37 00 00" in html
    assert 'href="https://www.facebook.com/rak.kenitra"' in html


def test_terms_to_accept_are_linked_and_readable(client):
    response = client.post(
        reverse("portal:register_start"),
        {"identity": "ZZ999999", "phone": "0661234500", "accept_terms": "on", "accept_data_processing": "on"},
    )
    assert response["Location"] == reverse("portal:register_prospect")
    form = client.get(reverse("portal:register_prospect")).content.decode()
    terms = reverse("portal:terms")
    assert f'href="{terms}"' in form  # « J'accepte les conditions d'utilisation » links to their text
    page = client.get(terms).content.decode().replace("&#x27;", "'")
    assert "Conditions d'utilisation de l'agence en ligne" in page and "09-08" in page
