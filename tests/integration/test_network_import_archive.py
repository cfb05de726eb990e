"""An import of other networks' payments is archived, never deleted: the imported CSV is kept and
downloadable, « Archiver » (with a reason, recouvrement and superviseur) takes it out of the list
while its file, report and payments stay; the « Archivés » filter shows it again."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rak_base import clock
from rak_billing.models import Payment
from rak_payment_cmi.models import NetworkPaymentImport
from tests.factories import DossierFactory, customer_with_account, staff_in
from tests.integration.test_payment_pages import seed_bill

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=ZoneInfo("Africa/Casablanca"))


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _page(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&laquo;", "«").replace("&raquo;", "»")


@pytest.fixture
def imported(client):
    """A Tasshilat file imported by recouvrement through the back office: one payment recorded."""
    staff_in("recouvrement", client=client)
    customer, _user = customer_with_account()
    bill = seed_bill(
        DossierFactory(customer=customer), "63.02", period=datetime.date(2026, 2, 1), due=datetime.date(2026, 3, 14)
    )
    data = (
        "code_client;numero_facture;montant;date;reference;reseau\n"
        f";{bill.number};63,02;12/03/2026 09:30;TSH-0100;Tasshilat\n"
    ).encode()
    upload = SimpleUploadedFile("tasshilat-mars.csv", data, content_type="text/csv")
    response = client.post(reverse("admin:rak_payment_cmi_networkpaymentimport_import_file"), {"file": upload})
    assert response.status_code == 302, _page(response)[:2000]
    batch = NetworkPaymentImport.objects.get()
    assert batch.rows_created == 1, batch.report
    return batch


def test_the_imported_file_is_kept_and_downloadable(client, imported):
    page = _page(client.get(reverse("admin:rak_payment_cmi_networkpaymentimport_change", args=[imported.pk])))
    assert "Télécharger le fichier" in page and "Archiver" in page

    response = client.get(reverse("admin:rak_payment_cmi_networkpaymentimport_file", args=[imported.pk]))

    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"TSH-0100" in body
    assert "tasshilat-mars.csv" in response["Content-Disposition"]


def test_archiving_keeps_file_report_and_payments_and_hides_it_from_the_list(client, imported):
    changelist = reverse("admin:rak_payment_cmi_networkpaymentimport_changelist")
    archive = reverse("admin:rak_payment_cmi_networkpaymentimport_archive", args=[imported.pk])
    assert (
        client.post(
            reverse("admin:rak_payment_cmi_networkpaymentimport_delete", args=[imported.pk]), {"post": "yes"}
        ).status_code
        == 403
    )

    response = client.post(archive, {"reason": "Fichier de test envoyé par Tasshilat"})

    assert response.status_code == 302
    imported.refresh_from_db()
    assert imported.archived_at == NOW and imported.archive_reason == "Fichier de test envoyé par Tasshilat"
    assert imported.file and imported.report
    assert Payment.objects.filter(external_id__contains="TSH-0100").exists()  # the payments stay
    assert [row.pk for row in client.get(changelist).context["cl"].result_list] == []
    assert [row.pk for row in client.get(changelist, {"archived": "1"}).context["cl"].result_list] == [imported.pk]
    assert client.get(reverse("admin:rak_payment_cmi_networkpaymentimport_file", args=[imported.pk])).status_code == 200


@pytest.mark.parametrize("group", ["facturation", "technique", "accueil"])
def test_groups_away_from_collections_do_not_archive(client, imported, group):
    staff_in(group, client=client)

    response = client.post(
        reverse("admin:rak_payment_cmi_networkpaymentimport_archive", args=[imported.pk]), {"reason": "x"}
    )

    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/login/" in response["Location"]
    imported.refresh_from_db()
    assert imported.archived_at is None
