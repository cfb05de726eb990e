"""Guide 000's words in the logged-in portal, as an outside reader following the guide looks for them:

- « Services et demandes » — « Le bouton « service et demande » du menu permet d'accéder à
  l'ensemble des services »: a menu link to the services page (it was the title of a folding group,
  whose click only folded the group; the link read « Tous les services »);
- « Suivi des demandes » — the list's columns « Statut de la demande » and « Type de la demande »
  (were « Statut » and « Type »), also the labels of a row's cells on a phone;
- « Alimentation des avances sur consommation » — « saisissez le montant de l'avance et cliquez sur
  « envoyer » » (the button read « Continuer »)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from rak_customer.models import Dossier
from tests.factories import DossierFactory, customer_with_account
from tests.request_factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return customer_with_account(phone="+212612000711", email="salma@example.ma", first_name="Salma")


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


def menu_of(html: str) -> str:
    return re.search(r'<nav id="menu-nav".*?</nav>', html, re.S).group(0)


def test_menu_services_et_demandes_is_a_link_to_every_service(logged):
    menu = menu_of(logged.get(reverse("portal:dashboard"), HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    link = re.search(r'<a href="([^"]+)"[^>]*>Services et demandes</a>', menu)
    assert link is not None, "« Services et demandes » is a link of the menu"
    assert link.group(1) == reverse("portal:customer_services")
    assert "<summary>Services et demandes</summary>" not in menu  # one element only reads it

    page = logged.get(link.group(1)).content.decode()
    for service in (
        "Demande d&#x27;abonnement",
        "Demande de résiliation",
        "Demande de remboursement",
        "Relève de mon index de consommation",
        "Alimentation des avances sur consommation",
    ):
        assert service in page


def test_request_list_columns_are_the_guide_s(logged, account):
    ServiceRequestFactory(customer=account[0])
    html = logged.get(reverse("portal:requests"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    headers = re.findall(r'<th scope="col">([^<]*)</th>', html)
    assert headers[:5] == [
        "N° de la demande",
        "Statut de la demande",
        "Type de la demande",
        "Date de la demande",
        "Date de traitement",
    ]
    row = html.split('data-testid="request-row"')[1]
    assert 'data-label="Statut de la demande"' in row and 'data-label="Type de la demande"' in row


def test_advance_amount_is_sent_with_envoyer(logged, account):
    DossierFactory(customer=account[0], billing_mode=Dossier.BillingMode.ADVANCE)
    html = logged.get(reverse("portal:advance"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    form = html.split("Montant de l")[1]
    assert re.search(r'<button class="btn btn-primary" type="submit">Envoyer</button>', form)
    assert ">Continuer</button>" not in html
