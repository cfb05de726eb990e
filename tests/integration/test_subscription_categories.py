"""Subscription: one tariff category list per service, checked by the server (the water contract
printed « Basse tension — usage domestique » when the single mixed list was used)."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps

from rak_requests.contracts import contract_body
from tests.integration.test_subscription_filing import INFO, step, text, verified_step1
from tests.request_factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _types(db):
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)


def select_options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no <select name={name}>"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_step_2_has_a_category_list_per_service(client, sms_outbox):
    verified_step1(client, sms_outbox)
    page = text(client.get(step(2)))
    water = [v for v in select_options(page, "tariff_category_eau") if v]
    power = [v for v in select_options(page, "tariff_category_electricite") if v]
    assert water and all(v.startswith("EAU_") for v in water)
    assert power and not any(v.startswith("EAU_") for v in power)


def test_a_category_of_the_other_service_is_refused(client, sms_outbox):
    verified_step1(client, sms_outbox)
    data = {**INFO, "services": ["EAU"], "tariff_category_eau": "BT_DOMESTIQUE", "action": "next"}
    data.pop("tariff_category", None)
    response = client.post(step(2), data)
    assert response.status_code in (200, 400)
    assert "tariff_category_eau" in text(response) and "Sélectionnez un choix valide" in text(response)
    missing = client.post(step(2), {**data, "tariff_category_eau": ""})
    assert "Choisissez la catégorie tarifaire de l'eau." in text(missing)
    ok = client.post(step(2), {**data, "tariff_category_eau": "EAU_DOMESTIQUE"})
    assert ok.status_code == 302 and ok["Location"] == step(3)


def test_water_contract_prints_the_water_category(now):
    request_ = ServiceRequestFactory(
        data={
            "services": ["EAU", "ELECTRICITE"],
            "usage": "DOMESTIQUE",
            "tariff_category_eau": "EAU_DOMESTIQUE",
            "tariff_category_eau_label": "Eau — usage domestique",
            "tariff_category_electricite": "BT_DOMESTIQUE",
            "tariff_category_electricite_label": "Basse tension — usage domestique",
            "caliber_mm": "15",
            "power_kva": "6",
        }
    )
    water = contract_body(request_, "EAU", now=now)
    power = contract_body(request_, "ELECTRICITE", now=now)
    assert "Eau — usage domestique" in water and "Basse tension" not in water
    assert "Basse tension — usage domestique" in power


def test_old_mixed_category_is_not_printed_on_the_other_service_contract(now):
    request_ = ServiceRequestFactory(
        data={
            "services": ["EAU"],
            "usage": "DOMESTIQUE",
            "tariff_category": "BT_DOMESTIQUE",
            "tariff_category_label": "Basse tension — usage domestique",
            "caliber_mm": "15",
        }
    )
    assert "Basse tension" not in contract_body(request_, "EAU", now=now)
