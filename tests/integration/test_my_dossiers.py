"""« Mes abonnements » (seed 000): the customer's dossiers with their status (actif, suspendu,
résilié), service, address, dates and billing mode; the magnifier lists what the RAK did on each
(creation, meter change, category change, billing mode change, cut, reconnection, termination) with
its date and status, from the dossier's history (django-simple-history) and the requests about it.
Another customer's dossier is a 404; the pages cost a fixed number of queries.

Also « Relevé index » in « Suivi des demandes »: the customer's own readings are rows of that type
with the reading's status, and the magnifier opens the reading in « Historique des relevés »."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from rak_billing.models import MeterReading
from rak_customer.models import Dossier
from rak_requests.kinds.attestation import AttestationType, attestation_generate
from tests.factories import DossierFactory, MeterFactory, PremisesFactory, customer_with_account, staff_in
from tests.integration.test_backoffice import changeform_data
from tests.reading_factories import MeterReadingFactory
from tests.request_factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return customer_with_account(phone="+212612000310", first_name="Omar", last_name="Bennani")


@pytest.fixture
def customer(account):
    return account[0]


@pytest.fixture
def logged(client, account):
    client.force_login(account[1])
    return client


def page_text(response) -> str:
    html = response.content.decode().replace("&#x27;", "'").replace("&gt;", ">")
    return " ".join(html.replace("\u202f", " ").replace("\xa0", " ").split())


def rows_of(html: str, testid: str) -> list[str]:
    return html.split(f'data-testid="{testid}"')[1:]


# --- « Mes abonnements » ----------------------------------------------------------------------------


def test_list_shows_each_dossier_with_status_service_address_dates_and_billing_mode(logged, customer):
    active = DossierFactory(
        customer=customer, premises=PremisesFactory(address="12 rue Ibn Sina"), start_date=datetime.date(2018, 5, 2)
    )
    suspended = DossierFactory(
        customer=customer, service="ELECTRICITE", status=Dossier.Status.SUSPENDED, billing_mode="DIRECT_DEBIT"
    )
    terminated = DossierFactory(
        customer=customer,
        status=Dossier.Status.TERMINATED,
        start_date=datetime.date(2010, 1, 4),
        end_date=datetime.date(2024, 9, 30),
    )
    other = DossierFactory()

    page = logged.get(reverse("portal:my_dossiers"))

    html = page_text(page)
    assert page.status_code == 200
    assert "Mes abonnements" in html
    rows = rows_of(html, "dossier-row")
    assert len(rows) == 3 and other.number not in html
    assert active.number in rows[0] and suspended.number in rows[1] and terminated.number in rows[2]
    assert "Actif" in rows[0] and "Eau" in rows[0] and "12 rue Ibn Sina" in rows[0] and "02/05/2018" in rows[0]
    assert "Normal" in rows[0]
    assert "Suspendu" in rows[1] and "Électricité" in rows[1] and "Prélèvement bancaire" in rows[1]
    assert "Résilié" in rows[2] and "04/01/2010" in rows[2] and "30/09/2024" in rows[2]
    assert reverse("portal:my_dossier", args=[active.number]) in rows[0]  # the magnifier


def test_list_query_count_does_not_grow_with_the_dossiers(logged, customer, django_assert_max_num_queries):
    for _ in range(6):
        DossierFactory(customer=customer)

    with django_assert_max_num_queries(10):
        page = logged.get(reverse("portal:my_dossiers"))
    assert len(rows_of(page.content.decode(), "dossier-row")) == 6


def test_another_customers_dossier_is_a_404(logged, customer):
    other = DossierFactory()

    assert logged.get(reverse("portal:my_dossier", args=[other.number])).status_code == 404
    assert logged.get(reverse("portal:my_dossier", args=["EA99999999"])).status_code == 404


def test_magnifier_lists_what_the_staff_did_with_dates_and_status(
    client, logged, customer, now, django_assert_max_num_queries
):
    """Staff change the dossier in the back office (facturation: category and billing mode; then a
    cut, the reconnection; technique: a new meter; then the termination): each change is an
    operation under the magnifier, with the day it was made and « Réalisée »."""
    old_meter = MeterFactory(number="M000000777")
    dossier = DossierFactory(customer=customer, meter=old_meter, start_date=datetime.date(2016, 7, 1))
    staff_client = client.__class__()
    facturation = staff_in("facturation", client=staff_client)
    url = reverse("admin:rak_customer_dossier_change", args=[dossier.pk])

    def edit(**fields):
        data = changeform_data(staff_client.get(url))
        data.update({name: [value] for name, value in fields.items()})
        response = staff_client.post(url, data)
        assert response.status_code == 302, page_text(response)[:3000]

    edit(tariff_category="PROFESSIONNEL", billing_mode="DIRECT_DEBIT")
    edit(status="SUSPENDED")
    edit(status="ACTIVE")
    new_meter = MeterFactory(number="M000000888")
    staff_in("technique", client=staff_client)
    edit(meter=str(new_meter.pk))
    staff_client.force_login(facturation)
    edit(status="TERMINATED", end_date="27/02/2026")
    attestation = attestation_generate(
        customer=customer, attestation_type=AttestationType.TERMINATION, dossier_number=dossier.number, now=now
    )

    with django_assert_max_num_queries(12):
        page = logged.get(reverse("portal:my_dossier", args=[dossier.number]))

    html = page_text(page)
    assert page.status_code == 200
    operations = rows_of(html, "dossier-operation")
    today = timezone.localdate().strftime("%d/%m/%Y")
    expected = {
        "Changement de catégorie tarifaire": "Domestique → Professionnel / commercial",
        "Changement du mode de facturation": "Normal → Prélèvement bancaire",
        "Coupure (suspension de la fourniture)": "",
        "Rétablissement de la fourniture": "",
        "Changement de compteur": "Compteur n° M000000777 remplacé par le n° M000000888",
        "Résiliation de l'abonnement": "Fin de l'abonnement le 27/02/2026",
    }
    for label, detail in expected.items():
        row = next(row for row in operations if label in row)
        assert today in row and "Réalisée" in row and detail in row, (label, row[:400])
    creation = next(row for row in operations if "Création de l'abonnement" in row)
    assert "01/07/2016" in creation
    assert operations.index(creation) == len(operations) - 1  # newest first, the creation last
    request_row = next(row for row in operations if attestation.request.number in row)
    assert "Demande d'attestation" in request_row and "Accepté" in request_row
    assert reverse("portal:request_detail", args=[attestation.request.number]) in request_row
    # in the order they were made: termination above the reconnection above the cut
    labels = [
        next(label for label in expected if label in row) for row in operations if any(x in row for x in expected)
    ]
    assert labels.index("Résiliation de l'abonnement") < labels.index("Rétablissement de la fourniture")
    assert labels.index("Rétablissement de la fourniture") < labels.index("Coupure (suspension de la fourniture)")


def test_a_dossier_without_history_rows_still_shows_its_creation(logged, customer):
    dossier = DossierFactory(customer=customer, start_date=datetime.date(2012, 3, 5))
    dossier.history.all().delete()  # as the demo's dossiers, loaded in bulk

    html = page_text(logged.get(reverse("portal:my_dossier", args=[dossier.number])))

    rows = rows_of(html, "dossier-operation")
    assert len(rows) == 1 and "Création de l'abonnement" in rows[0] and "05/03/2012" in rows[0]


# --- « Relevé index » in « Suivi des demandes » -----------------------------------------------------


def _self_reading(dossier, day, index, status, **extra):
    return MeterReadingFactory(
        dossier=dossier,
        reading_date=day,
        index=Decimal(index),
        source=MeterReading.Source.SELF,
        status=status,
        **extra,
    )


def test_self_readings_are_rows_of_type_releve_index_with_their_status(logged, customer, now):
    dossier = DossierFactory(customer=customer)
    held = _self_reading(dossier, datetime.date(2026, 1, 5), 1263, MeterReading.Status.HELD)
    contested = _self_reading(dossier, datetime.date(2025, 12, 5), 1250, MeterReading.Status.CONTESTED)
    accepted = _self_reading(dossier, datetime.date(2025, 11, 5), 1240, MeterReading.Status.ACCEPTED)
    MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2025, 10, 5), index=1230)  # an agent's
    MeterReadingFactory(
        dossier=DossierFactory(), reading_date=datetime.date(2026, 1, 5), source=MeterReading.Source.SELF
    )  # another customer's
    request = ServiceRequestFactory(customer=customer)

    page = logged.get(reverse("portal:requests"))

    html = page_text(page)
    readings = rows_of(html, "reading-row")
    assert len(readings) == 3
    assert request.number in html
    by_index = {r: next(row for row in readings if f"Index {r}" in row) for r in ("1 263", "1 250", "1 240")}
    assert "Relevé index" in by_index["1 263"]
    assert "En attente de vérification (consommation anormale)" in by_index["1 263"]
    assert "Contesté par le client" in by_index["1 250"]
    assert "Validé" in by_index["1 240"]
    assert f"Dossier {dossier.number}" in by_index["1 263"]
    today = timezone.localdate(held.created_at).strftime("%d/%m/%Y")
    assert today in by_index["1 263"]  # date de la demande: when it was sent
    assert today in by_index["1 240"].split("Validé")[1]  # accepted at once: processed the same day
    link = f"{reverse('portal:reading_history')}?dossier={dossier.number}#releve-{held.pk}"
    assert link in by_index["1 263"]
    history = logged.get(f"{reverse('portal:reading_history')}?dossier={dossier.number}")
    assert f'id="releve-{held.pk}"' in history.content.decode()
    assert f'id="releve-{contested.pk}"' in history.content.decode()
    assert f'id="releve-{accepted.pk}"' in history.content.decode()


def test_requests_list_query_count_stays_bounded_with_readings(logged, customer, django_assert_max_num_queries):
    dossier = DossierFactory(customer=customer)
    for k in range(8):
        _self_reading(dossier, datetime.date(2025, 1, 5) + datetime.timedelta(days=31 * k), 1000 + k, "ACCEPTED")
    for _ in range(3):
        ServiceRequestFactory(customer=customer)

    with django_assert_max_num_queries(12):
        page = logged.get(reverse("portal:requests"))

    html = page.content.decode()
    assert len(rows_of(html, "reading-row")) == 8 and len(rows_of(html, "request-row")) == 3
