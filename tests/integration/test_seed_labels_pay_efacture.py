"""The labels of guides 001 (paying by card) and 002 (e-facture) as the guides write them, in the
French pages: an outside reader follows the guide word for word.

- 001 étape 2 « Email : » (Django's own French catalogue turned the form's « Email » into
  « Courriel »: the project's French catalogue keeps « Email »), also on the receipt;
- 001 étapes 3 and 4 « Nom & Prenom : » (the guide's spelling);
- 002 « Consultation de factures »: the table's « Numéro client » column and « Export options : »."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.integration.test_bill_pages import account, efacture_data, logged  # noqa: F401 - fixtures
from tests.integration.test_payment_pages import (  # noqa: F401 - fixtures
    fixed_clock,
    html_of,
    identified,
    seed_customer,
)

pytestmark = pytest.mark.django_db


def label_of(html: str, field: str) -> str:
    return re.search(rf'<label for="id_{field}">([^<]*)</label>', html).group(1).strip()


def test_quick_pay_labels_are_the_guide_s(client):
    html = html_of(client.get(reverse("portal:quickpay"), HTTP_ACCEPT_LANGUAGE="fr"))
    assert label_of(html, "code") == "Code Client *"
    assert label_of(html, "email") == "Email *"
    assert label_of(html, "email_confirm") == "Confirmer votre email *"
    assert "Courriel" not in html


def test_bill_list_and_recap_say_nom_et_prenom_as_the_guide(identified, seed_customer):  # noqa: F811
    bills = html_of(identified.get(reverse("portal:quickpay_bills")))
    assert "Nom &amp; Prenom :" in bills
    identified.post(reverse("portal:quickpay_bills"), {"facture": [seed_customer[4].pk], "valider": "1"})
    recap = html_of(identified.get(reverse("portal:quickpay_recap")))
    assert "Récapitulatif des factures à payer" in recap and "Nom &amp; Prenom :" in recap


def test_efacture_table_says_numero_client_and_export_options(logged, efacture_data):  # noqa: F811
    html = html_of(logged.get(reverse("portal:efacture")))
    assert '<th scope="col">Numéro client</th>' in html
    assert "Export options :" in html
    assert label_of(html, "client") == "N° client"  # the guide's filter keeps « N° Client »
