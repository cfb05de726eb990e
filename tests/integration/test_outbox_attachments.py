"""E-mail attachments in the outbox (rak_base.outbox, MessageAttachment): the files are stored with
the message in the caller's transaction, sent with it by the worker (names, content types, bytes as
given), sent again at a retry, and an e-mail without files is unchanged."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from rak_base.models import Message, MessageAttachment
from rak_base.outbox import (
    ATTACHMENTS_MAX_BYTES,
    AttachmentsTooLarge,
    message_deliver,
    message_queue_email,
    message_retry,
)

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILES = [
    ("rapport-2026-02.xlsx", XLSX, b"PK\x03\x04 not really a workbook \x00\xff"),
    ("rapport-2026-02.pdf", "application/pdf", b"%PDF-1.7 fake\n"),
]


def test_attachments_are_sent_with_the_email(run_worker):
    message = message_queue_email(
        to="direction@rak.example", subject="Rapport mensuel", body="Ci-joint.", attachments=FILES, kind="report"
    )
    assert message.attachments.count() == 2
    assert sorted(message.attachments.values_list("size", flat=True)) == sorted(len(f[2]) for f in FILES)
    run_worker()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    [email] = mail.outbox
    assert email.to == ["direction@rak.example"] and email.subject == "Rapport mensuel"
    assert email.body.startswith("Ci-joint.")
    assert [(name, content_type, content) for name, content, content_type in email.attachments] == FILES
    # the MIME message really carries them (what the SMTP server receives)
    raw = email.message().as_bytes()
    assert b'filename="rapport-2026-02.xlsx"' in raw and b"application/pdf" in raw


def test_email_without_attachments_is_unchanged(run_worker):
    message_queue_email(to="client@example.com", subject="Bonjour", body="Texte.")
    assert MessageAttachment.objects.count() == 0
    run_worker()
    [email] = mail.outbox
    assert email.attachments == []
    assert not email.message().is_multipart()


def test_rolled_back_email_leaves_no_attachment():
    with pytest.raises(RuntimeError), transaction.atomic():
        message_queue_email(to="a@example.com", subject="s", body="b", attachments=FILES)
        raise RuntimeError
    assert MessageAttachment.objects.count() == 0 and Message.objects.count() == 0


def test_a_failed_attempt_and_a_retry_send_the_files_again(settings, monkeypatch, now):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    message = message_queue_email(to="direction@rak.example", subject="Rapport", body="Ci-joint.", attachments=FILES)
    real_send = EmailMultiAlternatives.send

    def refused(self, fail_silently=False):
        raise OSError("SMTP indisponible")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refused)
    Message.objects.filter(pk=message.pk).update(next_attempt_at=now)
    message = message_deliver(message_id=message.pk, now=now)
    assert message.status == Message.Status.FAILED and "SMTP" in message.last_error
    assert message.attachments.count() == 2  # kept for the retry
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    message_retry(message_id=message.pk)
    Message.objects.filter(pk=message.pk).update(next_attempt_at=now)
    message = message_deliver(message_id=message.pk, now=now)
    assert message.status == Message.Status.SENT
    [email] = mail.outbox
    assert [(name, content_type, content) for name, content, content_type in email.attachments] == FILES


def test_sensitive_email_attachments_are_deleted_once_sent(now):
    message = message_queue_email(to="a@example.com", subject="Code", body="123456", sensitive=True, attachments=FILES)
    Message.objects.filter(pk=message.pk).update(next_attempt_at=now)
    message_deliver(message_id=message.pk, now=now)
    assert len(mail.outbox[0].attachments) == 2
    assert MessageAttachment.objects.filter(message=message).count() == 0


def test_too_large_attachments_are_refused():
    big = b"x" * (ATTACHMENTS_MAX_BYTES + 1)
    with pytest.raises(AttachmentsTooLarge):
        message_queue_email(to="a@example.com", subject="s", body="b", attachments=[("gros.bin", "x/y", big)])
    assert Message.objects.count() == 0


def test_the_outbox_page_lists_the_files(client):
    from django.urls import reverse

    from tests.factories import staff_in

    staff_in("superviseur", client=client)
    message = message_queue_email(to="direction@rak.example", subject="Rapport", body="Ci-joint.", attachments=FILES)
    response = client.get(reverse("admin:rak_base_message_change", args=[message.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "rapport-2026-02.xlsx" in html and "rapport-2026-02.pdf (application/pdf, 14" in html
