"""« Prélèvements bancaires » in the back office (/backoffice/): recouvrement exports the month's
debits (one file per bank, downloadable) and imports a bank's reject file (per-line report, the
bill re-opened); facturation may not move money; a mandate is revoked with a reason."""

from __future__ import annotations

import datetime
import html
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rak_base.rib import rib_key
from rak_billing.direct_debit import mandate_create
from rak_billing.direct_debit_models import DebitBatch, DebitOrder, DebitRejectImport, Mandate
from rak_billing.ledger import OtherLine, bill_issue_other, bill_outstanding
from rak_billing.models import Bill
from rak_customer.models import Dossier
from tests.factories import DossierFactory, customer_with_account, staff_in

pytestmark = pytest.mark.django_db

EXPORT = "admin:rak_billing_debitbatch_export"
REJECTS = "admin:rak_billing_debitrejectimport_import_rejects"


def rib(bank: str = "007") -> str:
    first = bank + "780" + "0001234567890123"
    return first + rib_key(first)


@pytest.fixture
def debit_bill(now):
    customer, _user = customer_with_account(phone="+212612000011")
    dossier = DossierFactory(customer=customer)
    mandate_create(dossier_id=dossier.pk, rib=rib(), signed_date=datetime.date(2026, 2, 1), now=now)
    return bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        dossier=dossier,
        lines=[OtherLine("Frais", Decimal("88.00"), vat_rate=Decimal("0"))],
        issue_date=datetime.date(2026, 2, 20),
        now=now,
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_recouvrement_exports_downloads_and_imports_the_rejects(client, debit_bill):
    staff_in("recouvrement", client=client)
    page = client.get(reverse(EXPORT))
    assert page.status_code == 200
    assert "Exporter les prélèvements du mois" in text(page)

    response = client.post(reverse(EXPORT), {"month": "2026-03"}, follow=True)
    assert "1 prélèvement(s) exporté(s) pour 88,00 DH : 1 fichier(s), un par banque." in text(response)
    batch = DebitBatch.objects.get()
    assert batch.bank_name == "Attijariwafa bank"
    download = client.get(reverse("admin:rak_billing_debitbatch_file", args=[batch.pk]))
    content = b"".join(download.streaming_content) if download.streaming else download.content
    order = DebitOrder.objects.get()
    assert f"D;{order.reference};{rib()};88.00;{debit_bill.number}".encode() in content

    # exporting the same month again debits nothing twice
    again = client.post(reverse(EXPORT), {"month": "2026-03"}, follow=True)
    assert "Aucune facture à prélever : rien n'a été exporté." in text(again)

    upload = SimpleUploadedFile(
        "rejets.csv", f"{order.reference};AM04;Provision insuffisante\r\nPRL000;AM04;x\r\n".encode(), "text/csv"
    )
    response = client.post(reverse(REJECTS), {"file": upload}, follow=True)
    body = text(response)
    assert "1 rejet(s) enregistré(s)" in body
    assert "1 ligne(s) en erreur" in body
    assert "Ordre de prélèvement inconnu : PRL000." in body
    assert bill_outstanding(debit_bill) == Decimal("88.00")
    assert DebitRejectImport.objects.get().file


def test_a_bad_reject_file_is_refused_on_the_page(client, debit_bill):
    staff_in("recouvrement", client=client)
    png = SimpleUploadedFile("rejets.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "text/csv")
    response = client.post(reverse(REJECTS), {"file": png})
    assert response.status_code == 200
    assert 'role="alert"' in text(response)
    assert not DebitRejectImport.objects.exists()


def test_facturation_cannot_export_nor_import_rejects(client, debit_bill):
    staff_in("facturation", client=client)
    assert client.get(reverse(EXPORT)).status_code == 403
    assert client.get(reverse(REJECTS)).status_code == 403
    assert client.get(reverse("admin:rak_billing_mandate_changelist")).status_code == 200


def test_facturation_revokes_a_mandate_with_a_reason(client, debit_bill):
    staff_in("facturation", client=client)
    mandate = Mandate.objects.get()
    url = reverse("admin:rak_billing_mandate_revoke", args=[mandate.pk])
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200
    response = client.post(url, {"reason": "Compte clôturé par le client"}, follow=True)
    assert "repasse en facturation normale" in text(response)
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.REVOKED
    assert Dossier.objects.get(pk=mandate.dossier_id).billing_mode == Dossier.BillingMode.NORMAL


def test_the_lists_cost_a_fixed_number_of_queries(client, now, django_assert_max_num_queries):
    from rak_billing.direct_debit import debits_export

    agent = staff_in("recouvrement", client=client)
    for n in range(6):
        customer, _user = customer_with_account(phone=f"+2126120001{n:02d}")
        dossier = DossierFactory(customer=customer)
        mandate_create(dossier_id=dossier.pk, rib=rib("007" if n % 2 else "230"), signed_date=now.date(), now=now)
        bill_issue_other(
            kind=Bill.Kind.CUT_FEE,
            customer=customer,
            dossier=dossier,
            lines=[OtherLine("Frais", Decimal("10.00"), vat_rate=Decimal("0"))],
            issue_date=datetime.date(2026, 2, 20),
            now=now,
        )
    debits_export(period=datetime.date(2026, 3, 1), by=agent, now=now)
    for name in ("mandate", "debitorder", "debitbatch"):
        url = reverse(f"admin:rak_billing_{name}_changelist")
        client.get(url)  # warm the session and the permission caches
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", ""),
        (b"reference;code_rejet;motif\r\n", "Le fichier ne contient aucune ligne de rejet."),
    ],
)
def test_an_empty_reject_file_is_refused_on_the_page(client, content, message):
    staff_in("recouvrement", client=client)
    response = client.post(reverse(REJECTS), {"file": SimpleUploadedFile("rejets.csv", content, "text/csv")})
    assert response.status_code == 200
    assert 'role="alert"' in text(response)
    assert message in text(response)
    assert not DebitRejectImport.objects.exists()


def test_a_windows_1252_reject_file_is_read(client, debit_bill, now):
    from rak_billing.direct_debit import debits_export

    agent = staff_in("recouvrement", client=client)
    debits_export(period=datetime.date(2026, 3, 1), by=agent, now=now)
    order = DebitOrder.objects.get()
    content = f"R;{order.reference};AC04;Compte clôturé\r\n".encode("cp1252")
    response = client.post(
        reverse(REJECTS), {"file": SimpleUploadedFile("rejets.csv", content, "text/csv")}, follow=True
    )
    assert "1 rejet(s) enregistré(s)" in text(response)
    order.refresh_from_db()
    assert (order.status, order.reject_reason) == (DebitOrder.Status.REJECTED, "Compte clôturé")


def test_a_bad_month_is_refused_next_to_the_field(client, debit_bill):
    staff_in("recouvrement", client=client)
    response = client.post(reverse(EXPORT), {"month": "mars"})
    assert response.status_code == 200
    assert "Indiquez un mois (AAAA-MM)." in text(response)
    assert not DebitBatch.objects.exists()


def test_the_lists_offer_the_actions_to_the_right_group(client):
    staff_in("recouvrement", client=client)
    batches = text(client.get(reverse("admin:rak_billing_debitbatch_changelist")))
    assert "Exporter les prélèvements du mois" in batches and reverse(EXPORT) in batches
    rejects = text(client.get(reverse("admin:rak_billing_debitrejectimport_changelist")))
    assert "Importer les rejets" in rejects and reverse(REJECTS) in rejects
    # the sidebar leads there
    assert "Prélèvements bancaires" in rejects
    assert reverse("admin:rak_billing_debitbatch_changelist") in rejects
    assert reverse("admin:rak_billing_mandate_changelist") in rejects
    client.logout()
    staff_in("facturation", client=client)
    batches = text(client.get(reverse("admin:rak_billing_debitbatch_changelist")))
    assert reverse(EXPORT) not in batches
