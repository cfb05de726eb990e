"""The cost of an SMS in the outbox (issue 12): each SMS stores its encoding and number of segments
when it is queued (single and bulk paths; rows written without these columns get the database
defaults), and the back office shows « SMS : N segments (UCS-2) » on the list and the message, a
filter by encoding, and the segments by day and type of the selection, so that staff see what
Arabic costs. The back office stays French, whatever the agent's browser says."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from rak_base import clock
from rak_base.admin_outbox import sms_cost_label, sms_segments_summary
from rak_base.models import Message
from rak_base.outbox import message_deliver, message_queue_bulk, message_queue_email, message_queue_sms
from tests.integration.test_backoffice import listed, staff_in

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 15, 10, 0, tzinfo=CASABLANCA)
ARABIC_100 = ("فاتورتك متوفرة " * 7)[:100]  # 100 Arabic characters: 2 SMS
FRENCH = "RAK : votre facture de mars est disponible sur l'agence en ligne."


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def supervisor(client):
    user = staff_in("superviseur")
    client.force_login(user)
    return user


def test_an_sms_stores_its_encoding_and_segments_when_queued():
    arabic = message_queue_sms(to="+212612345678", body=ARABIC_100, kind="bill")
    french = message_queue_sms(to="+212612345678", body=FRENCH, kind="bill")
    arabic.refresh_from_db()
    french.refresh_from_db()
    assert (arabic.sms_encoding, arabic.sms_segments) == ("UCS-2", 2)
    assert (french.sms_encoding, french.sms_segments) == ("GSM-7", 1)
    email = message_queue_email(to="a@example.ma", subject="Objet", body=ARABIC_100)
    email.refresh_from_db()
    assert (email.sms_encoding, email.sms_segments) == ("", 0)


def test_a_code_keeps_its_cost_after_its_body_is_masked():
    message = message_queue_sms(to="+212612345678", body="رمزك المؤقت 123456", kind="otp", sensitive=True)
    message_deliver(message_id=message.pk, now=NOW)
    message.refresh_from_db()
    if message.status == Message.Status.SENT:
        assert message.body == Message.REDACTED
    assert (message.sms_encoding, message.sms_segments) == ("UCS-2", 1)


def test_bulk_queue_counts_each_sms():
    rows = [
        Message(channel=Message.Channel.SMS, recipient="+212612345678", body=ARABIC_100, kind="bill"),
        Message(channel=Message.Channel.SMS, recipient="+212612345679", body=FRENCH, kind="bill"),
        Message(channel=Message.Channel.EMAIL, recipient="a@example.ma", subject="x", body=ARABIC_100, kind="bill"),
    ]
    assert message_queue_bulk(rows) == 3
    stored = {m.recipient: (m.sms_encoding, m.sms_segments) for m in Message.objects.all()}
    assert stored == {"+212612345678": ("UCS-2", 2), "+212612345679": ("GSM-7", 1), "a@example.ma": ("", 0)}


def test_a_row_written_without_the_new_columns_gets_the_database_defaults():
    """COPY-based loaders and raw INSERTs that do not know the columns keep working."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO rak_base_message (channel, recipient, kind, event, subject, body, sensitive, status,"
            " attempts, last_error, provider_id, created_at) VALUES ('SMS', '+212600000000', 'info', '', '',"
            " 'RAK', false, 'SENT', 1, '', '', now()) RETURNING id"
        )
        pk = cursor.fetchone()[0]
    assert Message.objects.values_list("sms_encoding", "sms_segments").get(pk=pk) == ("", 0)


def test_cost_label():
    sms = message_queue_sms(to="+212612345678", body=ARABIC_100)
    assert sms_cost_label(sms) == "SMS : 2 segments (UCS-2)"
    one = message_queue_sms(to="+212612345678", body=FRENCH)
    assert sms_cost_label(one) == "SMS : 1 segment (GSM-7)"
    assert sms_cost_label(message_queue_email(to="a@example.ma", subject="x", body="y")) == "—"


def test_summary_by_day_and_kind():
    for _ in range(3):
        message_queue_sms(to="+212612345678", body=ARABIC_100, kind="bill")
    message_queue_sms(to="+212612345678", body=FRENCH, kind="bill")
    message_queue_sms(to="+212612345678", body=FRENCH, kind="otp")
    old = message_queue_sms(to="+212612345678", body=ARABIC_100, kind="bill")
    now = timezone.now()  # created_at is the database's clock
    Message.objects.filter(pk=old.pk).update(created_at=now - datetime.timedelta(days=30))  # out of the week
    summary = sms_segments_summary(Message.objects.all(), now=now)
    rows = {(row["day"], row["kind"]): row for row in summary["rows"]}
    today = timezone.localdate(now)
    bill = rows[(today, "bill")]
    assert (bill["messages"], bill["gsm"], bill["ucs"], bill["segments"]) == (4, 1, 6, 7)
    assert rows[(today, "otp")]["segments"] == 1
    assert summary["totals"] == {"messages": 5, "gsm": 2, "ucs": 6, "ucs_messages": 3, "segments": 8}


def test_outbox_list_and_message_show_the_cost_in_french(client, supervisor):
    arabic = message_queue_sms(to="+212612345678", body=ARABIC_100, kind="bill")
    message_queue_sms(to="+212612345679", body=FRENCH, kind="bill")
    client.cookies["rak_language"] = "ar"  # the back office stays French
    changelist = reverse("admin:rak_base_message_changelist")
    page = client.get(changelist, HTTP_ACCEPT_LANGUAGE="ar")
    html = page.content.decode()
    assert "SMS : 2 segments (UCS-2)" in html and "SMS : 1 segment (GSM-7)" in html
    assert "Segments SMS par jour et par type" in html and 'data-testid="sms-segments-summary"' in html
    assert page.context["sms_summary"]["totals"]["segments"] == 3
    assert "coût SMS" in html and "encodage SMS" in html
    # the encoding filter
    assert [m.pk for m in listed(client.get(changelist, {"sms_encoding": "UCS-2"}))] == [arabic.pk]
    assert page.context["sms_summary"]["totals"]["ucs"] == 2
    filtered = client.get(changelist, {"sms_encoding": "UCS-2"})
    assert filtered.context["sms_summary"]["totals"] == {
        "messages": 1,
        "gsm": 0,
        "ucs": 2,
        "ucs_messages": 1,
        "segments": 2,
    }
    detail = client.get(reverse("admin:rak_base_message_change", args=[arabic.pk])).content.decode()
    assert "SMS : 2 segments (UCS-2)" in detail


def test_outbox_list_queries_do_not_grow_with_the_messages(client, supervisor):
    from django.test.utils import CaptureQueriesContext

    changelist = reverse("admin:rak_base_message_changelist")
    for _ in range(3):
        message_queue_sms(to="+212612345678", body=ARABIC_100, kind="bill")
    client.get(changelist)
    with CaptureQueriesContext(connection) as few:
        assert client.get(changelist).status_code == 200
    for _ in range(20):
        message_queue_sms(to="+212612345678", body=FRENCH, kind="otp")
    with CaptureQueriesContext(connection) as many:
        assert client.get(changelist).status_code == 200
    assert len(many) == len(few)


def test_an_arabic_template_is_edited_right_to_left(client, supervisor):
    from rak_base.message_templates import message_templates_sync
    from rak_base.models import MessageTemplate

    message_templates_sync()
    row = MessageTemplate.objects.filter(language="ar", channel=Message.Channel.SMS).first()
    page = client.get(reverse("admin:rak_base_messagetemplate_change", args=[row.pk])).content.decode()
    assert 'dir="rtl"' in page and 'lang="ar"' in page
    french = MessageTemplate.objects.get(code=row.code, channel=row.channel, language="fr")
    page = client.get(reverse("admin:rak_base_messagetemplate_change", args=[french.pk])).content.decode()
    assert 'name="body"' in page and 'dir="rtl"' not in page.split('name="body"')[0][-300:]
