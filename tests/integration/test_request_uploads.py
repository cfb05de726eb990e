"""One upload check for every path of the requests (``rak_requests.uploads``): a required document's
formats (« formats acceptés », data) mean the same in the public wizard's step 3, ``attachment_add``
and the complement answer — ``allowed_kinds = "jpg"`` used to let a PDF through the public form —;
the file inputs' ``accept=`` and formats come from the same data; staff editing « formats acceptés »
in the back office get a French message for a name that is not a format."""

from __future__ import annotations

import io
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from rak_base.uploads import UploadWrongKind
from rak_requests.models import Attachment, RequestType, RequiredDocument
from rak_requests.services import attachment_add, request_ask_complement
from rak_requests.uploads import document_upload_hints, request_upload_validate
from tests.factories import StaffFactory, customer_with_account, staff_in
from tests.integration.test_backoffice import changeform_data
from tests.request_factories import ServiceRequestFactory, pdf_upload

pytestmark = pytest.mark.django_db


def jpeg_upload(name: str = "cin.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def text(response) -> str:
    return unescape(response.content.decode())


def cin_document() -> RequiredDocument:
    return RequestType.objects.get(code=RequestType.Code.SUBSCRIPTION).documents.get(code="cin")


def test_jpg_only_document_refuses_a_pdf_in_the_public_wizard(client):
    document = cin_document()
    document.allowed_kinds = "jpg"
    document.save()
    customer, user = customer_with_account(phone="+212661000001")
    client.force_login(user)
    session = client.session
    session["rak_request_abonnement"] = {"info": {"services": ["EAU"]}}
    session.save()
    url = reverse("portal:request_step", kwargs={"kind": "abonnement", "step": 3})

    page = text(client.get(url))
    assert 'accept=".jpeg,.jpg"' in page  # the picker offers what the check accepts, nothing more
    assert ".pdf" not in page.split('id="doc_cin"')[1].split(">")[0]

    refused = client.post(url, {"doc_cin": pdf_upload(), "action": "next"})
    assert refused.status_code == 400
    assert "Le fichier joint n'est pas dans un format accepté (JPEG)" in text(refused)
    assert "cin" not in client.session["rak_request_abonnement"].get("files", {})

    client.post(url, {"doc_cin": jpeg_upload(), "action": "next"})
    assert "cin" in client.session["rak_request_abonnement"]["files"]


def test_every_path_applies_the_same_check(now):
    document = cin_document()
    document.allowed_kinds = "jpg"
    document.max_bytes = 1024 * 1024
    with pytest.raises(UploadWrongKind):
        request_upload_validate(pdf_upload(), document=document)
    assert request_upload_validate(jpeg_upload(), document=document).kind == "jpeg"
    r = ServiceRequestFactory()
    with pytest.raises(UploadWrongKind):
        attachment_add(request=r, file=pdf_upload(), document=document, now=now)
    assert not Attachment.objects.filter(request=r).exists()
    # a free attachment (complement): PDF, image, ZIP or RAR, 2 Mo
    assert request_upload_validate(pdf_upload()).kind == "pdf"
    assert document_upload_hints(document) == {"accept": ".jpeg,.jpg", "formats": "JPEG", "max_size": "1 Mo"}
    assert document_upload_hints()["accept"] == ".heic,.jpeg,.jpg,.pdf,.png,.rar,.webp,.zip"


def test_complement_answer_input_says_what_the_check_accepts(client, now):
    customer, user = customer_with_account(phone="+212661000002")
    r = ServiceRequestFactory(customer=customer)
    request_ask_complement(request_id=r.pk, staff=StaffFactory(), message="Joignez le bail.", now=now)
    client.force_login(user)
    page = text(client.get(reverse("portal:request_detail", kwargs={"number": r.number})))
    assert 'accept=".heic,.jpeg,.jpg,.pdf,.png,.rar,.webp,.zip"' in page
    assert "PDF, image ou fichier compressé, 2 Mo au plus" in page


def test_formats_are_checked_when_staff_edit_a_document(client):
    document = cin_document()
    document.allowed_kinds = "pdf, docx"
    with pytest.raises(ValidationError) as error:
        document.full_clean()
    assert "Format(s) inconnu(s) : docx." in str(error.value)

    client.force_login(staff_in("superviseur"))
    url = reverse("admin:rak_requests_requireddocument_change", args=[document.pk])
    data = changeform_data(client.get(url))
    data.update({"allowed_kinds": ["pdf,exe"]})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Format(s) inconnu(s) : exe. Formats possibles : pdf, image, jpg, jpeg, png, webp, heic, zip, rar." in text(
        response
    )
    document.refresh_from_db()
    assert document.allowed_kinds == "pdf,image,zip,rar"

    data.update({"allowed_kinds": [" PDF , Image "]})
    assert client.post(url, data).status_code == 302
    document.refresh_from_db()
    assert document.allowed_kinds == "pdf,image"  # stored as the check reads it
