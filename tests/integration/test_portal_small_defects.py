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
