"""The customer 360's timeline (rak_customer.timeline and each addon's source): every kind of event
of the customer in one list, newest first, 50 a page with « Voir plus », filtered by kind, never
another customer's events, and a bounded number of queries whatever the number of events."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from rak_base.models import Message
from rak_billing.models import MeterReading, Payment, PaymentReversal, Refund
from rak_collections.models import (
    CutoffOrder,
    DunningCase,
    PaymentPlan,
    ReconnectionOrder,
    ReminderEvent,
    ReminderPlan,
    ReminderStep,
)
from rak_customer.timeline import Cursor, timeline_page
from rak_requests.complaint_models import Complaint, ComplaintCategory
from tests.billing_factories import bill_create, bill_pay
from tests.factories import DossierFactory, StaffFactory, customer_with_account, staff_in
from tests.request_factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
ALL_KINDS = {
    "bill",
    "payment",
    "payment_reversal",
    "refund",
    "reading",
    "request",
    "complaint",
    "plan",
    "reminder",
    "cutoff",
    "reconnection",
    "message",
}


def at(day: int, hour: int = 10, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, 0, tzinfo=CASABLANCA)


def customer_history(phone: str = "+212612345678", *, tag: str = "A"):
    """A customer with one event of every kind, on distinct days of March 2026 (kind -> day)."""
    customer, user = customer_with_account(phone=phone)
    dossier = DossierFactory(customer=customer)
    staff = StaffFactory()
    bill = bill_create(dossier=dossier, period_start=datetime.date(2026, 1, 1), issue_date=datetime.date(2026, 3, 1))
    payment = bill_pay(bill, paid_at=at(2))
    reversed_payment = Payment.objects.create(
        customer=customer, amount=Decimal("10.00"), method="CHEQUE", paid_at=at(3)
    )
    PaymentReversal.objects.create(
        payment=reversed_payment, reason="Chèque impayé", reversed_by=staff, reversed_at=at(4)
    )
    Refund.objects.create(customer=customer, amount=Decimal("5.00"), method="ESPECES", paid_at=at(5), recorded_by=staff)
    MeterReading.objects.create(
        dossier=dossier,
        meter=dossier.meter,
        reading_date=datetime.date(2026, 3, 6),
        index=Decimal("1200"),
        source="SELF",
    )
    ServiceRequestFactory(customer=customer, filed_at=at(7))
    category = ComplaintCategory.objects.get(code="facturation")
    Complaint.objects.create(
        number=f"RC{tag}{customer.pk:06d}",
        category=category,
        customer=customer,
        name="Amina Alaoui",
        subject="Facture trop élevée",
        message="Ma facture de février est trop élevée.",
        filed_at=at(8),
        first_answer_due_at=at(9),
        due_at=at(20),
        updated_at=at(8),
    )
    PaymentPlan.objects.create(
        number=f"EC{tag}{customer.pk:06d}",
        customer=customer,
        status="COMPLETED",
        total_amount=Decimal("900.00"),
        instalments_count=3,
        first_due_date=datetime.date(2026, 4, 1),
        created_at=at(9),
        created_by=staff,
    )
    reminder_plan, _ = ReminderPlan.objects.get_or_create(name="Plan test", defaults={"is_active": False})
    step, _ = ReminderStep.objects.get_or_create(plan=reminder_plan, position=1, days_after_due=5, action="SMS")
    case = DunningCase.objects.create(
        customer=customer,
        plan=reminder_plan,
        status="PAID",
        oldest_due_date=datetime.date(2026, 3, 1),
        amount_due=Decimal("118.00"),
        opened_at=at(10),
    )
    ReminderEvent.objects.create(
        case=case, step=step, customer=customer, at=at(10), action="SMS", amount_due=Decimal("118.00")
    )
    cutoff = CutoffOrder.objects.create(
        number=f"OC{tag}{customer.pk:06d}",
        customer=customer,
        dossier=dossier,
        case=case,
        amount_due=Decimal("118.00"),
        status="EXECUTED",
        issued_at=at(11),
    )
    ReconnectionOrder.objects.create(
        number=f"OR{tag}{customer.pk:06d}",
        cutoff=cutoff,
        customer=customer,
        dossier=dossier,
        issued_at=at(12),
        due_at=at(12, 23),
    )
    message = Message.objects.create(channel="SMS", recipient=phone, kind="test", body="Votre facture est disponible.")
    Message.objects.filter(pk=message.pk).update(created_at=at(13))
    return customer, {"bill": bill, "payment": payment}


@pytest.fixture
def superuser():
    return StaffFactory(is_superuser=True)


def test_every_kind_appears_newest_first(superuser):
    customer, _ = customer_history()
    page = timeline_page(user=superuser, customer_id=customer.pk)
    kinds = [event.kind for event in page.events]
    assert set(kinds) == ALL_KINDS
    assert {kind.code for kind in page.kinds} == ALL_KINDS
    # the payment of the bill (2 March) is one event; the reversed cheque another
    assert kinds == [
        "message",
        "reconnection",
        "cutoff",
        "reminder",
        "plan",
        "complaint",
        "request",
        "reading",
        "refund",
        "payment_reversal",
        "payment",
        "payment",
        "bill",
    ]
    keys = [event.sort_key for event in page.events]
    assert keys == sorted(keys, reverse=True)
    assert page.next_cursor is None
    assert all(event.url.startswith("/backoffice/") for event in page.events if event.kind not in {"plan", "reminder"})


def test_another_customers_events_are_never_shown(superuser):
    customer, _ = customer_history()
    other, _ = customer_history(phone="+212612000000", tag="B")
    mine = timeline_page(user=superuser, customer_id=customer.pk)
    theirs = timeline_page(user=superuser, customer_id=other.pk)
    assert {(e.kind, e.pk) for e in mine.events}.isdisjoint({(e.kind, e.pk) for e in theirs.events})
    assert len(mine.events) == len(theirs.events) == 13


def test_pagination_by_cursor_repeats_and_skips_nothing(superuser):
    customer, _ = customer_with_account()
    dossier = DossierFactory(customer=customer)
    # 60 bills on 30 days (two per day: ties on the date), 45 payments at the same instant
    for index in range(60):
        bill_create(
            dossier=dossier,
            kind="WORKS",
            period_start=None,
            issue_date=datetime.date(2026, 1, 1) + datetime.timedelta(days=index // 2),
        )
    for _ in range(45):
        Payment.objects.create(customer=customer, amount=Decimal("1.00"), method="CASH", paid_at=at(15))
    seen = []
    before = None
    pages = 0
    while True:
        page = timeline_page(user=superuser, customer_id=customer.pk, before=before, limit=50)
        pages += 1
        seen.extend((event.kind, event.pk) for event in page.events)
        assert len(page.events) <= 50
        if page.next_cursor is None:
            break
        before = Cursor.decode(page.next_cursor.encode())
    assert pages == 3
    assert len(seen) == len(set(seen)) == 105


def test_filter_by_kind(superuser):
    customer, _ = customer_history()
    page = timeline_page(user=superuser, customer_id=customer.pk, kinds=["payment", "complaint"])
    assert sorted(event.kind for event in page.events) == ["complaint", "payment", "payment"]
    assert {kind.code for kind in page.kinds} == ALL_KINDS  # every checkbox stays offered


def test_kinds_follow_the_staff_members_permissions():
    customer, _ = customer_history()
    accueil = staff_in("accueil")
    page = timeline_page(user=accueil, customer_id=customer.pk)
    offered = {kind.code for kind in page.kinds}
    assert {event.kind for event in page.events} <= offered
    nobody = StaffFactory()
    assert timeline_page(user=nobody, customer_id=customer.pk).events == []


def test_hostile_cursor_gives_the_first_page():
    for value in [
        "",
        "x",
        "2026-13-01~bill~1",
        "2026-03-01T00:00:00~bill~1",
        "2026-03-01T00:00:00+01:00~b;ll~1",
        "a~b~c~d",
    ]:
        assert Cursor.decode(value) is None
    assert Cursor.decode("2026-03-01T00:00:00+01:00~bill~7") is not None


# --- the customer's page ----------------------------------------------------------------------------


def test_customer_page_shows_the_timeline_with_the_balance(client, superuser, django_assert_max_num_queries):
    customer, _ = customer_history()
    client.force_login(superuser)
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="customer-timeline"' in html
    assert html.count('data-testid="timeline-event"') == 13
    assert 'data-testid="timeline-summary-balance"' in html
    assert 'data-testid="timeline-summary-overdue"' in html
    assert f"RCA{customer.pk:06d}" in html
    assert "Chèque impayé" in html
    # filtered: the checkboxes of the kinds not asked are unticked
    response = client.get(url, {"type": ["reading", "cutoff"]})
    html = response.content.decode()
    assert html.count('data-testid="timeline-event"') == 2
    assert 'value="reading" checked' in html
    assert 'value="bill" checked' not in html


def test_timeline_queries_are_bounded(client, superuser, django_assert_max_num_queries):
    customer, _ = customer_history()
    client.force_login(superuser)
    url = reverse("admin:rak_customer_customer_timeline", args=[customer.pk])
    cursor = Cursor(at=at(28), kind="zzz", pk=1).encode()
    # session, user, the admin's page context, the customer, one per kind (12), the messages' addresses
    with django_assert_max_num_queries(20):
        response = client.get(url, {"avant": cursor, "fragment": "1"})
    small = response.content.decode().count('data-testid="timeline-event"')
    assert small == 13
    # ten times the events: the same number of queries
    dossier = DossierFactory(customer=customer)
    for index in range(100):
        bill_create(dossier=dossier, kind="WORKS", period_start=None, issue_date=datetime.date(2026, 2, 1))
        MeterReading.objects.create(
            dossier=dossier,
            meter=dossier.meter,
            reading_date=datetime.date(2025, 1, 1) + datetime.timedelta(days=index),
            index=Decimal(index),
            source="AGENT",
        )
    with django_assert_max_num_queries(20):
        response = client.get(url, {"avant": cursor, "fragment": "1"})
    assert response.content.decode().count('data-testid="timeline-event"') == 50
    # the sources alone: one query per kind (12) and the messages' addresses
    with django_assert_max_num_queries(13):
        page = timeline_page(user=superuser, customer_id=customer.pk, before=Cursor.decode(cursor))
    assert len(page.events) == 50 and page.next_cursor is not None
    assert 'data-testid="timeline-more"' in response.content.decode()


def test_load_more_page_and_fragment(client, superuser):
    customer, _ = customer_with_account()
    for _ in range(55):
        Payment.objects.create(customer=customer, amount=Decimal("1.00"), method="CASH", paid_at=at(15))
    client.force_login(superuser)
    html = client.get(reverse("admin:rak_customer_customer_change", args=[customer.pk])).content.decode()
    assert html.count('data-testid="timeline-event"') == 50
    more = html.split('data-testid="timeline-more"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    fragment = client.get(more + "&fragment=1")
    assert fragment.status_code == 200
    assert fragment.content.decode().count('data-testid="timeline-event"') == 5
    assert 'data-testid="timeline-more"' not in fragment.content.decode()
    page = client.get(more)  # without JavaScript: a page of its own
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="timeline-event"') == 5


def test_timeline_page_refused_without_the_customer_permission(client):
    customer, _ = customer_with_account()
    client.force_login(StaffFactory())
    response = client.get(reverse("admin:rak_customer_customer_timeline", args=[customer.pk]))
    assert response.status_code == 403
    # a hostile query string on the page: no error
    client.force_login(StaffFactory(is_superuser=True))
    url = reverse("admin:rak_customer_customer_timeline", args=[customer.pk])
    for query in (
        {"avant": "'; drop table x"},
        {"type": ["<script>", "bill"]},
        {"avant": "2026-03-01T00:00:00+01:00~x~99999999999999999999"},
    ):
        assert client.get(url, query).status_code == 200


def test_summary_gives_the_balance_and_the_overdue(superuser):
    from rak_base.money import money_format
    from rak_customer.timeline import customer_summary

    customer, _ = customer_with_account()
    dossier = DossierFactory(customer=customer)
    overdue = bill_create(dossier=dossier, period_start=datetime.date(2026, 1, 1))  # due 16 February
    bill_pay(overdue, Decimal("18.00"))
    later = bill_create(dossier=dossier, period_start=datetime.date(2026, 2, 1))  # due 16 March
    figures = {f["key"]: f for f in customer_summary(user=superuser, customer_id=customer.pk, now=at(2))}
    assert figures["balance"]["value"] == money_format(overdue.total_ttc - Decimal("18.00") + later.total_ttc)
    assert figures["overdue"]["value"] == money_format(overdue.total_ttc - Decimal("18.00"))
    assert figures["overdue"]["variant"] == "danger"
    assert customer_summary(user=StaffFactory(), customer_id=customer.pk, now=at(2)) == []
