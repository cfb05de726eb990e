"""Guards on dossiers and meters edited in the back office:

- a dossier's service (métier) decides what it is billed: technique (and accueil) see it read only,
  the service layer refuses the change to them; facturation and superviseur change it;
- a meter's caliber is one the utility installs (water diameters, electricity amperage/phases or
  kVA): typed values are normalised, others refused with a French message, and the database
  refuses what bypasses both."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from rak_customer.models import Dossier, Meter
from rak_customer.services import DossierServiceLocked, dossier_save
from rak_customer.validators import InvalidCaliber
from tests.factories import DossierFactory, MeterFactory, staff_in
from tests.integration.test_backoffice import changeform_data

pytestmark = pytest.mark.django_db


def _page(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&laquo;", "«").replace("&raquo;", "»")


# --- a dossier's service ----------------------------------------------------------------------------


def test_service_layer_refuses_a_service_change_by_technique():
    dossier = DossierFactory(service="EAU")
    dossier.service = "ASSAINISSEMENT"

    with pytest.raises(DossierServiceLocked) as error:
        dossier_save(dossier=dossier, staff_user=staff_in("technique"))

    assert "facturation ou un superviseur" in error.value.message
    assert Dossier.objects.get(pk=dossier.pk).service == "EAU"


@pytest.mark.parametrize("group", ["facturation", "superviseur"])
def test_facturation_and_superviseur_change_a_dossier_service(group):
    dossier = DossierFactory(service="EAU")
    dossier.service = "ASSAINISSEMENT"

    dossier_save(dossier=dossier, staff_user=staff_in(group))

    assert Dossier.objects.get(pk=dossier.pk).service == "ASSAINISSEMENT"


def test_technique_sees_the_service_read_only_and_still_changes_the_meter(client):
    dossier = DossierFactory(service="EAU")
    new_meter = MeterFactory()
    client.force_login(staff_in("technique"))
    url = reverse("admin:rak_customer_dossier_change", args=[dossier.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "service" not in page.context["adminform"].form.fields
    data = changeform_data(page)
    data["service"] = ["ASSAINISSEMENT"]  # a forged post: the field is not in the form
    data["meter"] = [str(new_meter.pk)]

    response = client.post(url, data)

    assert response.status_code == 302, _page(response)[:2000]
    dossier.refresh_from_db()
    assert dossier.service == "EAU"
    assert dossier.meter_id == new_meter.pk


def test_facturation_changes_the_service_in_the_back_office(client):
    dossier = DossierFactory(service="EAU")
    user = staff_in("facturation")
    client.force_login(user)
    url = reverse("admin:rak_customer_dossier_change", args=[dossier.pk])
    data = changeform_data(client.get(url))
    data["service"] = ["ASSAINISSEMENT"]

    response = client.post(url, data)

    assert response.status_code == 302, _page(response)[:2000]
    dossier.refresh_from_db()
    assert dossier.service == "ASSAINISSEMENT"
    assert dossier.history.latest().history_user == user


# --- a meter's caliber ------------------------------------------------------------------------------


def _meter_post(**overrides) -> dict:
    data = {
        "number": "M900000001",
        "service": "EAU",
        "caliber": "20",
        "brand": "Itron",
        "installed_date": "2026-03-02",
        "dossiers-TOTAL_FORMS": "0",
        "dossiers-INITIAL_FORMS": "0",
        "dossiers-MIN_NUM_FORMS": "0",
        "dossiers-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_technique_adds_a_meter_with_a_typed_caliber_normalised(client):
    client.force_login(staff_in("technique"))

    response = client.post(reverse("admin:rak_customer_meter_add"), _meter_post(caliber="20"))

    assert response.status_code == 302, _page(response)[:3000]
    assert Meter.objects.get(number="M900000001").caliber == "20 mm"


@pytest.mark.parametrize(
    ("service", "caliber", "message"),
    [
        ("EAU", "17 mm", "Calibre d'un compteur d'eau invalide"),
        ("ELECTRICITE", "7 A", "Calibre d'un compteur électrique invalide"),
        ("ELECTRICITE", "15 mm", "Calibre d'un compteur électrique invalide"),
    ],
)
def test_back_office_refuses_a_caliber_the_utility_does_not_install(client, service, caliber, message):
    client.force_login(staff_in("technique"))

    response = client.post(reverse("admin:rak_customer_meter_add"), _meter_post(service=service, caliber=caliber))

    assert response.status_code == 200
    assert message in _page(response)
    assert not Meter.objects.filter(number="M900000001").exists()


def test_every_write_path_normalises_or_refuses_the_caliber():
    meter = MeterFactory(service="ELECTRICITE", caliber="10 a tri")
    assert Meter.objects.get(pk=meter.pk).caliber == "10 A triphasé"
    with pytest.raises(InvalidCaliber):
        MeterFactory(service="EAU", caliber="33 mm")


def test_database_refuses_an_invalid_caliber_written_in_bulk():
    with pytest.raises(IntegrityError), transaction.atomic():
        Meter.objects.bulk_create(
            [Meter(number="M900000002", service="EAU", caliber="17 mm", installed_date="2026-03-02")]
        )
