"""An import of readings is archived, never deleted: the imported file is kept and downloadable,
« Archiver » (with a reason) takes it out of the list while its file, report and readings stay;
the « Archivés » filter shows it again. Nobody deletes an import from the back office."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rak_base import clock
from rak_billing.models import MeterReading, ReadingImport
from tests.factories import DossierFactory, staff_in
from tests.reading_factories import csv_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch, now):
    monkeypatch.setattr(clock, "now", lambda: now)


def _page(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&laquo;", "«").replace("&raquo;", "»")


@pytest.fixture
def imported(client):
    """A file imported through the back office by facturation: one reading, one rejected line."""
    staff_in("facturation", client=client)
    dossier = DossierFactory()
    upload = csv_file([[dossier.number, "25/02/2026", "1234", "", "RAS"], ["D999999999", "25/02/2026", "10", "", ""]])
    upload.name = "tournee-R01.csv"
    response = client.post(reverse("admin:rak_billing_readingimport_import_file"), {"file": upload})
    assert response.status_code == 302, _page(response)[:2000]
    return ReadingImport.objects.get()


def test_the_imported_file_is_kept_and_downloadable(client, imported):
    page = _page(client.get(reverse("admin:rak_billing_readingimport_change", args=[imported.pk])))
    assert "Télécharger le fichier" in page

    response = client.get(reverse("admin:rak_billing_readingimport_file", args=[imported.pk]))

    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"D999999999" in body
    assert "tournee-R01.csv" in response["Content-Disposition"]


def test_an_import_cannot_be_deleted(client, imported):
    response = client.post(reverse("admin:rak_billing_readingimport_delete", args=[imported.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert ReadingImport.objects.filter(pk=imported.pk).exists()


def test_archiving_keeps_file_report_and_readings_and_hides_it_from_the_list(client, imported):
    changelist = reverse("admin:rak_billing_readingimport_changelist")
    archive = reverse("admin:rak_billing_readingimport_archive", args=[imported.pk])
    assert "Archiver" in _page(client.get(reverse("admin:rak_billing_readingimport_change", args=[imported.pk])))

    refused = client.post(archive, {"reason": ""})
    assert refused.status_code == 200
    imported.refresh_from_db()
    assert imported.archived_at is None

    response = client.post(archive, {"reason": "Fichier de la tournée R01 importé deux fois par erreur"})

    assert response.status_code == 302
    imported.refresh_from_db()
    assert imported.archived_at is not None and imported.archived_by is not None
    assert imported.archive_reason.startswith("Fichier de la tournée R01")
    assert imported.file and imported.report  # file and per-row report kept
    assert MeterReading.objects.get().import_batch == imported  # the readings keep their import
    assert imported.pk not in [row.pk for row in client.get(changelist).context["cl"].result_list]
    shown = client.get(changelist, {"archived": "1"})
    assert [row.pk for row in shown.context["cl"].result_list] == [imported.pk]
    page = _page(client.get(reverse("admin:rak_billing_readingimport_change", args=[imported.pk])))
    assert "Fichier de la tournée R01 importé deux fois" in page
    assert client.get(reverse("admin:rak_billing_readingimport_file", args=[imported.pk])).status_code == 200


@pytest.mark.parametrize("group", ["technique", "recouvrement"])
def test_only_facturation_and_superviseur_archive(client, imported, group):
    staff_in(group, client=client)

    response = client.post(reverse("admin:rak_billing_readingimport_archive", args=[imported.pk]), {"reason": "x"})

    assert response.status_code == 403
    imported.refresh_from_db()
    assert imported.archived_at is None
