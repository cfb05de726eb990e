"""Back office of the cash closing: « Clôturer ma caisse » (hostile posts answered with a message),
an agent sees only their own closings, a supervisor every agent's, the closing sheet PDF."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from rak_billing.api import payment_record
from rak_collections.models import CashClosing, CounterPost
from tests.factories import AgencyFactory, CustomerFactory, staff_in

pytestmark = pytest.mark.django_db

CLOSE_URL = "admin:rak_collections_cashclosing_close_day"


def counter_agent(client=None, **kwargs):
    """A front-desk agent with a counter post and the closing permissions (given to accueil by the
    lead in rak_customer.groups; set here so that the test does not depend on it)."""
    user = staff_in("accueil", client=client, **kwargs)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="rak_collections", codename__in=["add_cashclosing", "view_cashclosing"]
        )
    )
    CounterPost.objects.create(user=user, agency=AgencyFactory())
    return user


def pay(agent, amount, method="CASH"):
    return payment_record(
        customer=CustomerFactory(),
        amount=Decimal(amount),
        method=method,
        paid_at=timezone.now() - datetime.timedelta(minutes=5),
        received_by=agent,
        reason="avance",
    )


def test_close_my_cash_page_and_sheet(client):
    agent = counter_agent(client=client)
    pay(agent, "120.00")
    pay(agent, "300.00", "CHEQUE")
    url = reverse(CLOSE_URL)
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="expected-total"' in body and "420,00" in body
    response = client.post(url, {"counted_CASH": "120", "counted_CHEQUE": "290", "explanation": ""})
    assert response.status_code == 400
    assert "expliquez-le" in response.content.decode()
    response = client.post(
        url, {"counted_CASH": "120", "counted_CHEQUE": "290", "explanation": "chèque de 10 DH manquant"}
    )
    closing = CashClosing.objects.get()
    assert response.status_code == 302
    assert closing.difference == Decimal("-10.00") and closing.status == CashClosing.Status.CLOSED
    assert client.get(response["Location"]).status_code == 200
    sheet = client.get(reverse("admin:rak_collections_cashclosing_sheet", args=[closing.pk]))
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    again = client.post(url, {"counted_CASH": "0", "counted_CHEQUE": "0", "explanation": "x"})
    assert again.status_code == 200 and "a été clôturée le" in again.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"counted_CASH": "-1", "counted_CHEQUE": "0"}, "négatif"),
        ({"counted_CASH": "abc", "counted_CHEQUE": "0"}, "invalide"),
        ({"counted_CASH": "1" * 60, "counted_CHEQUE": "0"}, "trop élevé"),
        ({"counted_CASH": "", "counted_CHEQUE": "0"}, "0 s&#x27;il n&#x27;y a rien"),
        ({"counted_CASH": "0", "counted_CHEQUE": "0", "jour": "2999-01-01"}, "à venir"),
        ({"counted_CASH": "0", "counted_CHEQUE": "0", "jour": "pas-une-date"}, ""),
    ],
)
def test_hostile_closing_posts(client, data, message):
    counter_agent(client=client)
    response = client.post(reverse(CLOSE_URL), data)
    assert response.status_code in (200, 302, 400)
    if message:
        assert response.status_code == 400
        assert message in response.content.decode()


def test_agents_see_their_own_closings_supervisors_all(client, django_assert_max_num_queries):
    now = timezone.now()
    mine, other = counter_agent(), counter_agent()
    from rak_collections.cash import cash_closing_close

    closing_mine = cash_closing_close(
        agent=mine, day=timezone.localdate(), counted={"CASH": "0", "CHEQUE": "0"}, by=mine, now=now
    )
    closing_other = cash_closing_close(
        agent=other, day=timezone.localdate(), counted={"CASH": "5", "CHEQUE": "0"}, explanation="x", by=other, now=now
    )
    client.force_login(mine)
    listing = client.get(reverse("admin:rak_collections_cashclosing_changelist"))
    assert listing.status_code == 200
    assert reverse("admin:rak_collections_cashclosing_change", args=[closing_mine.pk]) in listing.content.decode()
    assert reverse("admin:rak_collections_cashclosing_change", args=[closing_other.pk]) not in listing.content.decode()
    assert client.get(reverse("admin:rak_collections_cashclosing_sheet", args=[closing_other.pk])).status_code == 404
    staff_in("superviseur", client=client)
    with django_assert_max_num_queries(20):
        listing = client.get(reverse("admin:rak_collections_cashclosing_changelist"))
    assert reverse("admin:rak_collections_cashclosing_change", args=[closing_other.pk]) in listing.content.decode()
    assert client.get(reverse("admin:rak_collections_cashclosing_sheet", args=[closing_other.pk])).status_code == 200


def test_supervisor_filters_closings_with_a_difference(client):
    from rak_collections.cash import cash_closing_close

    now = timezone.now()
    exact, short = counter_agent(), counter_agent()
    balanced = cash_closing_close(
        agent=exact, day=timezone.localdate(), counted={"CASH": "0", "CHEQUE": "0"}, by=exact, now=now
    )
    missing = cash_closing_close(
        agent=short, day=timezone.localdate(), counted={"CASH": "7", "CHEQUE": "0"}, explanation="x", by=short, now=now
    )
    staff_in("superviseur", client=client)
    listing = client.get(reverse("admin:rak_collections_cashclosing_changelist") + "?ecart=avec")
    body = listing.content.decode()
    assert listing.status_code == 200
    assert reverse("admin:rak_collections_cashclosing_change", args=[missing.pk]) in body
    assert reverse("admin:rak_collections_cashclosing_change", args=[balanced.pk]) not in body
