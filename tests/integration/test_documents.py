"""Documents the agency issues, as a customer or a third party sees them: a bill's PDF is a real
A4 PDF, generated once (downloading it twice gives the same file), registered with its SHA-256 and
a reference code printed under a QR code; the public page « Vérifier des documents » says a
presented document is authentic, altered (the uploaded file differs) or unknown, shows the
titulaire only partly, and stops a client that tries too many codes."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rak_base.documents import (
    ALPHABET,
    DocumentError,
    Verdict,
    document_read,
    document_register,
    document_verify,
    mask_name,
    reference_display,
    reference_normalize,
)
from rak_base.models import Document
from rak_base.money import amount_in_words
from rak_billing.billing import billing_run_create, billing_run_process
from rak_billing.ledger import OtherLine, bill_issue_other, credit_note_issue
from rak_billing.models import Bill, MeterReading
from rak_billing.pdf import ChartBar, bill_context, bill_pdf, consumption_chart_svg, qr_svg
from rak_customer.models import Service
from rak_portal.views import verify as verify_view
from tests.factories import CustomerFactory, DossierFactory, MeterFactory, customer_with_account

pytestmark = pytest.mark.django_db

VERIFY = reverse("portal:verify")


def _read(dossier, day, index):
    return MeterReading.objects.create(
        dossier=dossier, meter=dossier.meter, reading_date=day, index=Decimal(index), source="AGENT", status="ACCEPTED"
    )


@pytest.fixture
def billed():
    """An electricity customer with a portal account and three months of bills."""
    customer, user = customer_with_account(phone="+212661234567", first_name="Youssef", last_name="Alaoui")
    dossier = DossierFactory(
        customer=customer, service=Service.ELECTRICITE, meter=MeterFactory(service=Service.ELECTRICITE, caliber="10 A")
    )
    for month, index in ((11, 1000), (12, 1090), (1, 1200), (2, 1390)):
        _read(dossier, datetime.date(2026 if month < 6 else 2025, month, 20), index)
    for period in (datetime.date(2025, 12, 1), datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)):
        issue = (period.replace(day=28) + datetime.timedelta(days=5)).replace(day=3)
        run = billing_run_create(
            period_start=period, issue_date=issue, due_date=issue + datetime.timedelta(days=15), enqueue=False
        )
        billing_run_process(run_id=run.pk)
    return Bill.objects.get(dossier=dossier, period_start=datetime.date(2026, 2, 1))


def test_bill_pdf_is_a_registered_a4_pdf_generated_once(billed):
    document = bill_pdf(billed)

    data = document_read(document)
    assert data.startswith(b"%PDF-") and len(data) > 10_000
    assert document.kind == Document.Kind.BILL and document.size == len(data)
    assert document.title.startswith(f"Facture {billed.number}")
    assert document.owner.username == billed.customer.code
    assert document.owner_label == "Youssef Alaoui"
    assert Path(document.file.path).is_file() and billed.number not in document.file.name  # unguessable name
    assert len(document.reference) == 12 and set(document.reference) <= set(ALPHABET)
    assert document_verify(document.reference, data).verdict == Verdict.AUTHENTIC

    pdftotext = shutil.which("pdftotext")
    if pdftotext:  # poppler-utils installed: read the PDF as a customer would
        text = subprocess.run(
            [pdftotext, "-layout", document.file.path, "-"], capture_output=True, text=True, check=True
        ).stdout
        for expected in (
            billed.number,
            "Youssef Alaoui",
            billed.customer.code,
            billed.dossier.number,
            billed.dossier.meter.number,
            "Net à payer",
            amount_in_words(billed.total_ttc)[1:20],  # capitalised on the bill
            reference_display(document.reference),
        ):
            assert expected in text, expected

    again = bill_pdf(Bill.objects.get(pk=billed.pk))
    assert again.pk == document.pk and document_read(again) == data
    assert Document.objects.count() == 1


def test_bill_fits_one_a4_page(billed):
    from django.template.loader import render_to_string
    from weasyprint import HTML

    Bill.objects.filter(pk=billed.pk).update(estimated=True)  # the longest variant: estimate notice
    billed.refresh_from_db()
    html = render_to_string("rak_billing/pdf/bill.html", bill_context(billed, reference="7KQ2M9XD4TRA"))
    rendered = HTML(string=html).render()
    html = unescape(html)
    assert len(rendered.pages) == 1
    assert (round(rendered.pages[0].width), round(rendered.pages[0].height)) == (794, 1123)  # A4 in CSS px
    assert "Consommation estimée" in html
    assert "7KQ2-M9XD-4TRA" in html and "Facture de consommation d'électricité" in html
    assert "Votre consommation des 12 derniers mois" in html and html.count("<rect x=") == 3  # 3 months billed


def test_estimated_bill_and_credit_note_and_other_invoices_render(billed, now):
    Bill.objects.filter(pk=billed.pk).update(estimated=True)
    billed.refresh_from_db()
    assert document_read(bill_pdf(billed)).startswith(b"%PDF")
    note = credit_note_issue(bill=billed, reason="Erreur de relève", issue_date=datetime.date(2026, 3, 10), now=now)
    assert document_read(bill_pdf(note)).startswith(b"%PDF")
    cut = bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=billed.customer,
        dossier=billed.dossier,
        lines=[OtherLine("Frais de coupure et de rétablissement", Decimal("150.00"))],
        issue_date=datetime.date(2026, 3, 10),
        now=now,
    )
    document = bill_pdf(cut)
    assert document.title.startswith(f"Facture {cut.number}")
    assert Document.objects.filter(kind=Document.Kind.BILL).count() == 3


def test_qr_code_and_chart_are_plain_svg():
    svg = qr_svg("http://testserver/verifier-document/?ref=7KQ2-M9XD-4TRA")
    assert svg.startswith("<?xml") or svg.startswith("<svg")
    assert "<path" in svg
    chart = consumption_chart_svg(
        [ChartBar("janv. 26", Decimal("120")), ChartBar("févr. 26", Decimal("95.5"), estimated=True, current=True)],
        unit="kWh",
    )
    assert chart.count("<rect") == 2 + 1  # two bars + the hatch pattern tile
    assert "url(#hatch)" in chart and ">120<" in chart and ">95,5<" in chart


# --- the registry ----------------------------------------------------------------------------------


def test_register_and_verify_authentic_altered_unknown_revoked(now):
    customer = CustomerFactory(first_name="Fatima Zahra", last_name="El Idrissi")
    pdf = b"%PDF-1.7\n" + b"x" * 500
    document = document_register(
        kind=Document.Kind.ATTESTATION,
        title="Attestation d'abonnement",
        owner_label=customer.display_name,
        subject=customer,
        pdf_bytes=pdf,
    )

    typed = reference_display(document.reference).lower().replace("-", " ")
    assert document_verify(typed).verdict == Verdict.AUTHENTIC  # case and separators ignored
    assert document_verify(document.reference, pdf).file_checked
    altered = document_verify(document.reference, pdf.replace(b"x", b"y", 1))
    assert altered.verdict == Verdict.ALTERED and altered.document == document
    assert document_verify("7KQ2M9XD4TRA").verdict in (Verdict.NOT_FOUND,)
    assert document_verify("not a code").verdict == Verdict.NOT_FOUND
    Document.objects.filter(pk=document.pk).update(revoked_at=now)
    assert document_verify(document.reference).verdict == Verdict.REVOKED
    assert document.subject_type == "rak_customer.customer" and document.subject_id == str(customer.pk)


def test_register_refuses_empty_file_and_duplicate_reference():
    with pytest.raises(DocumentError):
        document_register(kind=Document.Kind.OTHER, title="Vide", pdf_bytes=b"")
    first = document_register(kind=Document.Kind.OTHER, title="Un", pdf_bytes=b"%PDF-1.7 one")
    with pytest.raises(DocumentError):
        document_register(kind=Document.Kind.OTHER, title="Deux", pdf_bytes=b"%PDF-1.7 two", reference=first.reference)


def test_reference_typing_is_forgiving_and_names_are_masked():
    assert reference_normalize(" 7kq2-m9xd-4tra ") == "7KQ2M9XD4TRA"
    assert reference_normalize("O1IL") == "0111"  # O reads as zero, I and L as one
    assert mask_name("Youssef El Alaoui") == "Yo***** E* Al****"
    assert mask_name("") == ""


# --- the public page --------------------------------------------------------------------------------


def test_verification_page_is_listed_in_the_public_services(client):
    html = client.get(reverse("portal:home")).content.decode()
    assert VERIFY in html


def test_verification_page_says_authentic_with_masked_titulaire(client, billed):
    document = bill_pdf(billed)
    data = document_read(document)

    response = client.post(
        VERIFY,
        {"reference": reference_display(document.reference), "file": SimpleUploadedFile("f.pdf", data)},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Document authentique" in html and "identique au document émis" in html
    assert billed.number in html
    assert "Yo***** Al****" in html and "Youssef" not in html


def test_qr_code_link_verifies_on_arrival(client, billed):
    document = bill_pdf(billed)
    response = client.get(VERIFY, {"ref": reference_display(document.reference)})
    assert "Document authentique" in response.content.decode()


def test_verification_page_says_altered_and_not_found(client, billed):
    document = bill_pdf(billed)
    data = bytearray(document_read(document))
    data[-20] ^= 1

    altered = client.post(VERIFY, {"reference": document.reference, "file": SimpleUploadedFile("f.pdf", bytes(data))})
    unknown = client.post(VERIFY, {"reference": "ZZZZ-ZZZZ-ZZZZ"})
    malformed = client.post(VERIFY, {"reference": "ABC"})
    not_pdf = client.post(VERIFY, {"reference": document.reference, "file": SimpleUploadedFile("f.txt", b"hello")})

    assert "a été modifié" in altered.content.decode()
    assert "Aucun document émis par la RAK ne porte cette référence" in unknown.content.decode()
    assert malformed.status_code == 400 and "12 caractères" in malformed.content.decode()
    assert not_pdf.status_code == 400 and "pas un PDF" in not_pdf.content.decode()


def test_verification_page_is_throttled_per_address(client, monkeypatch):
    monkeypatch.setattr(verify_view, "VERIFY_LIMIT", 3)
    for _ in range(3):
        assert client.post(VERIFY, {"reference": "ZZZZ-ZZZZ-ZZZ1"}).status_code == 200

    blocked = client.post(VERIFY, {"reference": "ZZZZ-ZZZZ-ZZZ2"})
    other_address = client.post(VERIFY, {"reference": "ZZZZ-ZZZZ-ZZZ3"}, REMOTE_ADDR="198.51.100.9")

    assert blocked.status_code == 429 and "Trop de vérifications" in blocked.content.decode()
    assert "verify-result" not in blocked.content.decode()  # no answer given while blocked
    assert other_address.status_code == 200
