"""PDFs a screen reader can read (issue 9 §2): every PDF the agency issues (bill, receipt, quote,
contract, request receipt, e-facture list) is rendered by one function, rak_base.pdf.pdf_render,
as PDF/UA-1: a structure tree (/StructTreeRoot), /MarkInfo << /Marked true >>, the document's
language (/Lang (fr), from <html lang="fr">) and its title shown as the window title."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from rak_base.documents import document_read
from rak_base.models import User
from rak_billing.pdf import bill_pdf
from tests.integration.test_documents import billed  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

ADDONS = Path(settings.BASE_DIR) / "addons"


def assert_tagged(pdf: bytes, title: str) -> None:
    root = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert "/StructTreeRoot" in root, "PDF sans arbre de structure (non balisé)"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "fr"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info.title and title in info.title, info.title


def test_bill_pdf_is_tagged_in_french(billed):  # noqa: F811
    assert_tagged(document_read(bill_pdf(billed)), billed.number)


def test_efacture_pdf_export_is_tagged(client, billed):  # noqa: F811
    client.force_login(User.objects.get(username=billed.customer.code))
    response = client.get("/espace/e-facture/factures.pdf")
    assert response.status_code == 200
    assert_tagged(b"".join(response), "Mes factures")


def test_every_pdf_goes_through_the_one_tagged_renderer():
    callers = sorted(
        str(path.relative_to(ADDONS))
        for path in ADDONS.rglob("*.py")
        if re.search(r"\.write_pdf\(", path.read_text(encoding="utf-8"))
    )
    assert callers == ["rak_base/pdf.py"], f"PDF rendus hors de rak_base.pdf.pdf_render : {callers}"
