"""Private files and generated PDFs through the storage API (issue 15, several web hosts): the same
tests on the file system (``MEDIA_ROOT``) and on an S3-compatible server (moto in server mode, a
real HTTP endpoint on this worker's port, a bucket per run, a key prefix per test).

A new person files a subscription with three attachments through the portal (staged between the
steps in the storage, so « valider » may reach another host), gets the request's receipt PDF; the
owner downloads both through the access-checked views, staff too through the back office; another
customer gets 404; a file gone from the storage is a 404, never a 500; abandoned staged uploads are
purged from the storage."""

from __future__ import annotations

import hashlib
import importlib
import os
import uuid
from pathlib import Path

import boto3
import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from django.urls import reverse

from rak_base.documents import document_read
from rak_customer.models import Customer, PortalAccount
from rak_requests.filing import staging_purge
from rak_requests.models import ServiceRequest
from tests.factories import customer_with_account, staff_in
from tests.integration.test_subscription_filing import INFO, required_files, step, verified_step1

pytestmark = pytest.mark.django_db

BUCKET = "rak-private-test"
KEYS = {"access_key": "test-access", "secret_key": "test-secret"}


def _port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 8181 + int("".join(c for c in worker if c.isdigit()) or 0) % 15  # 8181-8195: scale-out's range


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture(params=["filesystem", "s3"])
def backend(request, settings):
    """The private storage: the file system of this test, or the S3 server under a prefix of its own."""
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": BUCKET,
                    "endpoint_url": endpoint,
                    "region_name": "us-east-1",
                    **KEYS,
                    "location": f"t-{uuid.uuid4().hex[:10]}",
                    "default_acl": None,
                    "file_overwrite": False,
                    "addressing_style": "path",
                    "signature_version": "s3v4",
                },
            },
        }
    return request.param


def stored_names(_backend: str = "") -> list[str]:
    """Every file of the private storage, as storage names."""
    found = []

    def walk(folder: str) -> None:
        dirs, files = default_storage.listdir(folder)
        found.extend(f"{folder}/{name}".lstrip("/") for name in files)
        for name in dirs:
            walk(f"{folder}/{name}".lstrip("/"))

    try:
        walk("")
    except FileNotFoundError:
        return []
    return sorted(found)


def file_a_subscription(client, sms_outbox) -> ServiceRequest:
    verified_step1(client, sms_outbox)
    client.post(step(2), {**INFO, "action": "next"})
    assert client.post(step(3), {**required_files(), "action": "next"})["Location"] == step(4)
    staged = [name for name in stored_names() if name.startswith("staging/")]
    assert len(staged) == 3  # the uploads wait in the private storage between the steps
    client.post(step(4), {"accept_terms": "on", "accept_data_processing": "on", "action": "submit"})
    return ServiceRequest.objects.get()


def test_portal_upload_then_download_owner_staff_and_not_another(client, sms_outbox, backend, settings):
    request = file_a_subscription(client, sms_outbox)
    names = stored_names(backend)
    assert not [name for name in names if name.startswith("staging/")]  # staging emptied at « valider »
    attachments = list(request.attachments.order_by("pk"))
    assert len(attachments) == 3
    assert {a.file.name for a in attachments} | {request.receipt.file.name} <= set(names)
    if backend == "s3":  # nothing written on the local disk
        assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).rglob("*.*"))
        assert default_storage.__class__.__name__ == "S3Storage"

    receipt_pdf = document_read(request.receipt)
    assert receipt_pdf.startswith(b"%PDF") and hashlib.sha256(receipt_pdf).hexdigest() == request.receipt.sha256

    owner = PortalAccount.objects.get(customer=Customer.objects.get(cin="GK123456")).user
    owner.must_change_password = False  # the password sent by SMS, changed already
    owner.save(update_fields=["must_change_password"])
    client.force_login(owner)
    for attachment in attachments:
        response = client.get(reverse("portal:request_attachment", args=[attachment.pk]))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response["Cache-Control"] == "private, no-store"
        assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == attachment.sha256
    pdf = client.get(reverse("portal:request_receipt_pdf", args=[request.number]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content) == receipt_pdf

    client.force_login(staff_in("accueil"))
    url = reverse("admin:rak_requests_servicerequest_attachment", args=[request.pk, attachments[0].pk])
    response = client.get(url)
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == attachments[0].sha256

    _other, other_user = customer_with_account(phone="+212612000002")
    client.force_login(other_user)
    assert client.get(reverse("portal:request_attachment", args=[attachments[0].pk])).status_code == 404
    assert client.get(reverse("portal:request_receipt_pdf", args=[request.number])).status_code == 404

    # a file gone from the storage: 404, not a server error
    default_storage.delete(attachments[1].file.name)
    client.force_login(owner)
    assert client.get(reverse("portal:request_attachment", args=[attachments[1].pk])).status_code == 404


def test_abandoned_staged_uploads_are_purged_from_the_storage(client, sms_outbox, backend):
    from datetime import timedelta

    verified_step1(client, sms_outbox)
    client.post(step(2), {**INFO, "action": "next"})
    client.post(step(3), {**required_files(), "action": "next"})
    assert len(stored_names(backend)) == 3
    assert staging_purge() == 0  # still fresh
    assert staging_purge(max_age=timedelta(seconds=-60)) == 1  # « older than a minute in the future »
    assert stored_names(backend) == []
