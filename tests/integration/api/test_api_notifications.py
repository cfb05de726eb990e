"""The bell through the API (issue 13): each notice once as the portal shows it (copies of one event
on several channels are one line naming them), read / unread and the unread count, mark one read
(every copy), mark all read; another account's notice is 404; no token is 401."""

from __future__ import annotations

import pytest

from rak_base import clock
from rak_base.models import Message
from tests.api_helpers import api_client, assert_error
from tests.factories import customer_with_account

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


def notice(user, *, channel="BELL", event="", subject="Facture disponible", body="Votre facture est prête.", **kw):
    return Message.objects.create(
        channel=channel, user=user, event=event, subject=subject, body=body, status="SENT", **kw
    )


@pytest.fixture
def account():
    _customer, user = customer_with_account()
    return user


def test_each_notice_once_with_its_channels_and_the_unread_count(account, django_assert_max_num_queries):
    bell = notice(account, event="evt-1")
    notice(account, channel="SMS", event="evt-1")
    notice(account, channel="EMAIL", event="evt-1", read_at=clock.now())
    notice(account, subject="", body="Sans objet", read_at=clock.now())
    notice(account, channel="SMS", kind="otp", sensitive=True, body="Code 123456", subject="Code")
    for i in range(25):
        notice(account, event=f"bulk-{i}", subject=f"Avis {i}")
    other_user = customer_with_account(phone="+212612345600")[1]
    notice(other_user, subject="Pas pour moi")
    client = api_client(account)
    with django_assert_max_num_queries(8):
        body = client.get(URL, {"page_size": 50}).json()
    assert body["count"] == 28 and body["unread_count"] == 27
    rows = {row["id"]: row for row in body["results"]}
    line = rows[bell.pk]
    assert line["channels"] == ["SMS", "EMAIL", "BELL"] or set(line["channels"]) == {"SMS", "EMAIL", "BELL"}
    assert line["unread"] is True
    assert all(row["subject"] != "Pas pour moi" for row in body["results"])
    otp = next(row for row in body["results"] if row["kind"] == "otp")
    assert "123456" not in otp["body"] and otp["body"] == "Un code de confirmation vous a été envoyé."
    assert any(row["subject"] == "Message de la RAK" and row["unread"] is False for row in body["results"])
    assert client.get(URL).json()["next"]  # paginated by 20
    assert client.get(URL + "unread-count/").json() == {"unread_count": 27}


def test_mark_one_read_marks_every_copy(account):
    bell = notice(account, event="evt-1")
    sms = notice(account, channel="SMS", event="evt-1")
    other = notice(account, event="evt-2")
    client = api_client(account)
    response = client.post(f"{URL}{bell.pk}/read/")
    assert response.status_code == 200 and response.json() == {"id": bell.pk, "unread": False, "unread_count": 1}
    sms.refresh_from_db()
    other.refresh_from_db()
    assert sms.read_at is not None and other.read_at is None
    assert client.post(f"{URL}{bell.pk}/read/").status_code == 200  # again: nothing changes


def test_mark_all_read(account):
    for i in range(3):
        notice(account, event=f"e{i}")
    client = api_client(account)
    assert client.post(URL + "read-all/").json() == {"unread_count": 0}
    assert not Message.objects.filter(user=account, read_at__isnull=True).exists()


def test_another_accounts_notice_is_404_and_a_token_is_needed(account):
    theirs = notice(customer_with_account(phone="+212612345600")[1])
    assert_error(api_client(account).post(f"{URL}{theirs.pk}/read/"), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert_error(api_client(account).post(f"{URL}999999999/read/"), 404)
    for method, url in (
        ("get", URL),
        ("get", URL + "unread-count/"),
        ("post", URL + "read-all/"),
        ("post", f"{URL}{theirs.pk}/read/"),
    ):
        assert_error(getattr(api_client(), method)(url), 401)


def test_the_portal_page_and_the_api_agree(account, client):
    notice(account, event="evt-1")
    notice(account, channel="SMS", event="evt-1")
    client.force_login(account)
    page = client.get("/espace/notifications/")
    api = api_client(account).get(URL).json()
    assert len(page.context["lines"]) == api["count"] == 1
