"""Cut-off and reconnection orders (issue 14): one order per active dossier with the « avis de
coupure », execution (dossier suspended with its history, « frais de coupure » invoice with VAT and
ledger debit), « non exécuté », cancelled when the customer pays first, reconnection issued on
payment only once nothing overdue is left (the fee included), executed → dossier active; the
technical team's back office (filters, order sheet PDF, forms that refuse hostile input)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from rak_base.models import Message
from rak_billing.api import customer_balance, payment_record_staff
from rak_billing.models import Bill, LedgerEntry, Payment
from rak_collections.cutoffs import (
    CutoffError,
    cutoff_order_cancel,
    cutoff_order_execute,
    cutoff_order_issue,
    cutoff_order_not_done,
    overdue_amounts,
    reconnection_order_execute,
)
from rak_collections.models import CutoffOrder, ReconnectionOrder
from rak_collections.reminders import reminder_plan_seed
from rak_customer.models import Dossier
from tests.billing_factories import bill_create
from tests.factories import AgencyFactory, DossierFactory, PremisesFactory, customer_with_account, staff_in

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
DUE = datetime.date(2026, 2, 1)


def at(days: int, hour: int = 9) -> datetime.datetime:
    day = DUE + datetime.timedelta(days=days)
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=CASABLANCA)


@pytest.fixture(autouse=True)
def _plan():
    reminder_plan_seed()


def debtor(phone: str = "+212661000501", *, dossiers: int = 1, district: str = "Maamora"):
    customer, _user = customer_with_account(phone=phone)
    made = [DossierFactory(customer=customer, premises=PremisesFactory(district=district)) for _ in range(dossiers)]
    bill = bill_create(dossier=made[0], issue_date=DUE - datetime.timedelta(days=15), due_date=DUE, total_ht="400.00")
    return customer, made, bill


def pay(customer, amount, when):
    return payment_record_staff(
        customer=customer,
        amount=amount,
        method=Payment.Method.CASH,
        paid_at=when,
        now=when,
        received_by=staff_in("recouvrement"),
    )


def test_overdue_amount_counts_open_amounts_of_bills_past_due():
    customer, (dossier,), bill = debtor()
    bill_create(
        dossier=dossier,
        period_start=datetime.date(2026, 2, 1),
        issue_date=DUE,
        due_date=DUE + datetime.timedelta(days=20),
        total_ht="100.00",
    )
    pay(customer, Decimal("100.00"), at(2))
    assert overdue_amounts(as_of=DUE + datetime.timedelta(days=5)) == {customer.pk: (bill.total_ttc - 100, DUE)}
    assert overdue_amounts(as_of=DUE) == {}


def test_issue_one_order_per_active_dossier_with_the_cutoff_notice():
    customer, dossiers, bill = debtor(dossiers=2)
    terminated = DossierFactory(customer=customer, status=Dossier.Status.TERMINATED)
    orders = cutoff_order_issue(customer=customer, now=at(30))
    assert sorted(o.dossier_id for o in orders) == sorted(d.pk for d in dossiers)
    assert terminated.pk not in [o.dossier_id for o in orders]
    assert all(o.number.startswith("OC2026-") and o.amount_due == bill.total_ttc for o in orders)
    notices = Message.objects.filter(kind=f"cutoff:order:{orders[0].pk}")
    assert set(notices.values_list("channel", flat=True)) == {"SMS", "BELL"}
    assert "avis de coupure" in notices.get(channel="SMS").body
    assert cutoff_order_issue(customer=customer, now=at(31)) == []  # one order to do per dossier


def test_execute_suspends_the_dossier_and_bills_the_fee():
    customer, (dossier,), bill = debtor()
    (order,) = cutoff_order_issue(customer=customer, now=at(30))
    tech = staff_in("technique")
    cutoff_order_execute(order=order, now=at(31), by=tech, meter_index=Decimal("321.000"), note="Compteur plombé")
    order.refresh_from_db()
    dossier.refresh_from_db()
    assert order.status == CutoffOrder.Status.EXECUTED and order.executed_by == tech
    assert order.meter_index == Decimal("321.000")
    assert dossier.status == Dossier.Status.SUSPENDED
    assert dossier.history.first().history_change_reason.startswith("Coupure pour impayé")
    fee = order.fee_bill
    assert fee.kind == Bill.Kind.CUT_FEE and fee.dossier == dossier and fee.total_ht == Decimal("100.00")
    assert fee.total_tva == Decimal("20.00")  # « frais et travaux » 20 %
    assert LedgerEntry.objects.filter(bill=fee, amount=fee.total_ttc).exists()
    with pytest.raises(CutoffError):
        cutoff_order_execute(order=order, now=at(31), by=tech)
    assert Bill.objects.filter(kind=Bill.Kind.CUT_FEE).count() == 1


def test_not_done_needs_a_reason_and_cancel_too():
    customer, _dossiers, _bill = debtor()
    (order,) = cutoff_order_issue(customer=customer, now=at(30))
    with pytest.raises(CutoffError):
        cutoff_order_not_done(order=order, reason="  ", now=at(31), by=None)
    cutoff_order_not_done(order=order, reason="Compteur inaccessible", now=at(31), by=None)
    order.refresh_from_db()
    assert order.status == CutoffOrder.Status.NOT_DONE and order.closed_reason == "Compteur inaccessible"
    with pytest.raises(CutoffError):
        cutoff_order_cancel(order=order, reason="x", now=at(31))


def test_paying_before_the_cut_cancels_the_order():
    customer, _dossiers, bill = debtor()
    (order,) = cutoff_order_issue(customer=customer, now=at(30))
    pay(customer, bill.total_ttc, at(30, hour=15))
    order.refresh_from_db()
    assert order.status == CutoffOrder.Status.CANCELLED and order.closed_reason
    assert not ReconnectionOrder.objects.exists()


def test_reconnection_waits_for_the_fee_then_is_due_the_same_day():
    customer, (dossier,), bill = debtor()
    (order,) = cutoff_order_issue(customer=customer, now=at(30))
    cutoff_order_execute(order=order, now=at(31), by=None)
    order.refresh_from_db()
    pay(customer, bill.total_ttc, at(32))  # the overdue bill, not the fee
    assert not ReconnectionOrder.objects.exists()
    pay(customer, order.fee_bill.total_ttc, at(33, hour=17))
    reconnection = ReconnectionOrder.objects.get()
    assert reconnection.cutoff == order and reconnection.dossier == dossier
    local_due = reconnection.due_at.astimezone(CASABLANCA)
    assert (local_due.date(), local_due.hour) == (at(33).date(), 23)
    assert customer_balance(customer) == 0
    reconnection_order_execute(order=reconnection, now=at(33, hour=20), by=None)
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.ACTIVE
    with pytest.raises(CutoffError):
        reconnection_order_execute(order=reconnection, now=at(33, hour=21), by=None)


def test_hook_costs_nothing_for_customers_without_orders(django_assert_max_num_queries):
    customer, _dossiers, bill = debtor()
    with django_assert_max_num_queries(40):
        pay(customer, bill.total_ttc, at(5))


# --- back office -----------------------------------------------------------------------------------------


def test_technique_lists_filters_prints_and_executes(client, django_assert_max_num_queries):
    agency = AgencyFactory(name="Agence Saknia")
    orders = []
    for i in range(6):
        customer, _dossiers, _bill = debtor(f"+21266100052{i}", district="Saknia" if i % 2 else "Maamora")
        customer.agency = agency
        customer.save(update_fields=["agency"])
        orders += cutoff_order_issue(customer=customer, now=at(30))
    staff_in("technique", client=client)
    url = reverse("admin:rak_collections_cutofforder_changelist")
    with django_assert_max_num_queries(30):
        response = client.get(url, {"status": "ISSUED", "quartier": "Saknia", "agence": str(agency.pk)})
    page = response.content.decode()
    assert response.status_code == 200
    assert sum(o.number in page for o in orders) == 3
    for params in ({"agence": "abc"}, {"quartier": "<script>alert(1)</script>"}, {"status": "' OR 1=1"}):
        assert client.get(url, params).status_code in (200, 302)

    order = orders[0]
    sheet = client.get(reverse("admin:rak_collections_cutofforder_sheet", args=[order.pk]))
    assert sheet.status_code == 200 and sheet.content[:4] == b"%PDF"

    execute = reverse("admin:rak_collections_cutofforder_execute", args=[order.pk])
    assert client.get(execute).status_code == 200
    for hostile in ({"meter_index": "-5"}, {"meter_index": "abc"}, {"meter_index": "9" * 40}, {"note": "x" * 5000}):
        response = client.post(execute, hostile)
        assert response.status_code == 200, hostile
        assert "errorlist" in response.content.decode() or 'role="alert"' in response.content.decode()
    order.refresh_from_db()
    assert order.status == CutoffOrder.Status.ISSUED
    response = client.post(execute, {"meter_index": "1 234,5".replace(" ", "").replace(",", "."), "note": "<b>ok</b>"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == CutoffOrder.Status.EXECUTED and order.meter_index == Decimal("1234.5")
    response = client.post(execute, {"meter_index": "1"})  # twice: a French message, not a 500
    assert response.status_code == 200 and "plus à exécuter" in response.content.decode()

    not_done = reverse("admin:rak_collections_cutofforder_not_done", args=[orders[1].pk])
    assert client.post(not_done, {"reason": ""}).status_code == 200
    assert client.post(not_done, {"reason": "Portail fermé"}).status_code == 302
    assert client.get(reverse("admin:rak_collections_cutofforder_execute", args=["999999"])).status_code in (
        302,
        404,
    )


def test_accueil_cannot_execute_orders(client):
    customer, _dossiers, _bill = debtor()
    (order,) = cutoff_order_issue(customer=customer, now=at(30))
    staff_in("accueil", client=client)
    response = client.post(reverse("admin:rak_collections_cutofforder_execute", args=[order.pk]), {})
    assert response.status_code in (302, 403)
    order.refresh_from_db()
    assert order.status == CutoffOrder.Status.ISSUED


def test_reconnection_list_highlights_overdue_orders_and_reconnects(client):
    customer, _dossiers, bill = debtor()
    (order,) = cutoff_order_issue(customer=customer, now=at(-40))
    cutoff_order_execute(order=order, now=at(-39), by=None)
    order.refresh_from_db()
    pay(customer, customer_balance(customer), at(-38))  # yesterday or before: now overdue
    reconnection = ReconnectionOrder.objects.get()
    staff_in("technique", client=client)
    response = client.get(reverse("admin:rak_collections_reconnectionorder_changelist"))
    assert response.status_code == 200
    assert 'data-testid="reconnection-overdue"' in response.content.decode()
    url = reverse("admin:rak_collections_reconnectionorder_reconnect", args=[reconnection.pk])
    assert client.post(url, {"note": "Rétabli à 10 h"}).status_code == 302
    reconnection.refresh_from_db()
    assert reconnection.status == ReconnectionOrder.Status.EXECUTED
    assert Dossier.objects.get(pk=reconnection.dossier_id).status == Dossier.Status.ACTIVE


def test_the_reminders_job_cancels_an_order_once_a_part_payment_brings_the_debt_under_the_minimum():
    from rak_collections.reminders import reminders_run

    customer, _dossiers, bill = debtor()
    (order,) = cutoff_order_issue(customer=customer, now=at(30))
    pay(customer, bill.total_ttc - Decimal("10.00"), at(30, hour=12))  # no bill settled: no hook
    order.refresh_from_db()
    assert order.status == CutoffOrder.Status.ISSUED
    reminders_run(now=at(31))
    order.refresh_from_db()
    assert order.status == CutoffOrder.Status.CANCELLED


def test_technique_prints_the_sheets_of_the_selected_orders_in_one_pdf(client):
    import io

    from pypdf import PdfReader

    orders = []
    for i in range(3):
        customer, _dossiers, _bill = debtor(f"+21266100053{i}")
        orders += cutoff_order_issue(customer=customer, now=at(30))
    staff_in("technique", client=client)
    response = client.post(
        reverse("admin:rak_collections_cutofforder_changelist"),
        {"action": "print_sheets", "_selected_action": [str(o.pk) for o in orders]},
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 3
    text = "".join(page.extract_text() for page in reader.pages)
    assert all(o.number in text and o.dossier.meter.number in text for o in orders)
