"""Back office of payments against the real database: CMI settlement file reconciliation (the
mismatch report, one-click resolution that records the lost payment and cancels the late fee),
other networks' payment files (per-row report, idempotent)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from rak_billing.ledger import customer_balance
from rak_billing.models import Bill, Payment
from rak_payment_cmi import paying, reconciliation
from rak_payment_cmi.csvfiles import ImportFileError
from rak_payment_cmi.models import NetworkPaymentImport, PaymentOrder, SettlementLine
from rak_payment_cmi.network_imports import network_payments_import
from tests.factories import DossierFactory, StaffFactory, customer_with_account
from tests.integration.test_cmi_callback import callback_for, post_callback
from tests.integration.test_payment_pages import seed_bill

pytestmark = pytest.mark.django_db

CASABLANCA = ZoneInfo("Africa/Casablanca")
NOW = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=CASABLANCA)
PAID_AT = datetime.datetime(2026, 3, 10, 14, 5, 9, tzinfo=CASABLANCA)
Check = SettlementLine.Check
HEADER = "date;oid;transid;autorisation;montant;carte;statut\n"


@pytest.fixture
def customer_bills():
    customer, _user = customer_with_account(first_name="Hajar", last_name="Bennani")
    dossier = DossierFactory(customer=customer, number="D500000001")
    bill = seed_bill(dossier, "113.02", period=datetime.date(2026, 1, 1), due=datetime.date(2026, 3, 14))
    return customer, dossier, bill


def make_order(customer, bills, *, at=PAID_AT) -> PaymentOrder:
    order = paying.order_create_for_bills(customer=customer, bills=bills, email="h@example.ma", now=at)
    from rak_payment_cmi.services import order_checkout_form

    order_checkout_form(order, now=at)
    order.refresh_from_db()
    return order


def csv_line(at, oid, trans_id, amount, status="ACCEPTEE", auth="448788") -> str:
    return f"{at:%d/%m/%Y %H:%M:%S};{oid};{trans_id};{auth};{amount};4111 11** **** 1111;{status}\n"


def test_lost_callback_is_found_and_resolved_in_one_click_with_the_late_fee_cancelled(customer_bills):
    customer, dossier, bill = customer_bills
    order = make_order(customer, [bill])  # paid at the gateway on 10/03, the callback never came
    late_callback = callback_for(order, TransId="26069TRX0001")
    # the bill stayed unpaid here, so a cut fee was charged on 16/03
    cut_fee = seed_bill(dossier, "150.00", period=None, due=datetime.date(2026, 3, 31), kind=Bill.Kind.CUT_FEE)
    Bill.objects.filter(pk=cut_fee.pk).update(issue_date=datetime.date(2026, 3, 16))
    data = (HEADER + csv_line(PAID_AT, order.oid, "26069TRX0001", "114.26")).encode()

    settlement = reconciliation.settlement_import(data=data, file_name="releve-20260310.csv", now=NOW)
    line = settlement.lines.get()
    assert line.check_result == Check.NOT_RECORDED and line.order == order
    assert settlement.rows_mismatched == 1

    staff = StaffFactory(is_superuser=True)
    client = Client()
    client.force_login(staff)
    report = client.get(reverse("admin:rak_payment_cmi_settlementimport_change", args=[settlement.pk]))
    html = report.content.decode()
    assert "Payé au CMI, non enregistré ici" in html and "Enregistrer le paiement" in html
    response = client.post(
        reverse("admin:rak_payment_cmi_settlementimport_resolve", args=[settlement.pk, line.pk, "enregistrer"])
    )
    assert response.status_code == 302

    order.refresh_from_db()
    line.refresh_from_db()
    bill.refresh_from_db()
    assert order.status == PaymentOrder.Status.PAID and order.trans_id == "26069TRX0001"
    assert order.payment.external_id == "CMI:26069TRX0001" and order.payment.paid_at == PAID_AT
    assert bill.settled_at is not None
    note = Bill.objects.get(kind=Bill.Kind.CREDIT_NOTE)
    assert note.credited_bill_id == cut_fee.pk and note.total_ttc == Decimal("150.00")
    assert customer_balance(customer) == Decimal("0.00")  # bill paid, late fee cancelled
    assert line.resolution == SettlementLine.Resolution.APPLIED and note.number in line.resolution_note
    assert line.resolved_by == staff
    # a late callback for the same transaction changes nothing
    assert post_callback(Client(), late_callback) == "ACTION=POSTAUTH"
    assert Payment.objects.count() == 1
    # resolving twice is refused
    with pytest.raises(reconciliation.ReconciliationError):
        reconciliation.settlement_line_apply(line_id=line.pk, user=staff, now=NOW)


def test_report_lists_every_kind_of_mismatch(customer_bills):
    customer, dossier, bill = customer_bills
    other = seed_bill(dossier, "105.81", period=datetime.date(2026, 2, 1), due=datetime.date(2026, 4, 14))
    matched = make_order(customer, [bill])
    post_callback(Client(), callback_for(matched, TransId="26069MATCH01"))
    absent = make_order(customer, [other])
    post_callback(Client(), callback_for(absent, TransId="26069ABSENT1"))  # paid here, not in the file
    matched.refresh_from_db()
    wrong_amount = make_order(
        customer, [seed_bill(dossier, "40.00", period=datetime.date(2026, 3, 1), due=datetime.date(2026, 5, 1))]
    )
    Payment.objects.update(paid_at=PAID_AT)
    PaymentOrder.objects.filter(status="PAID").update(paid_at=PAID_AT)
    data = (
        HEADER
        + csv_line(PAID_AT, matched.oid, "26069MATCH01", matched.amount_total)
        + csv_line(PAID_AT, wrong_amount.oid, "26069WRONG01", "10.00")
        + csv_line(PAID_AT, "RAKUNKNOWN00000000001", "26069UNKN001", "50.00")
        + csv_line(PAID_AT, matched.oid, "26069DOUBLE1", matched.amount_total)
        + csv_line(PAID_AT, "RAKX", "26069REF0001", "12.00", status="REMBOURSEE")
        + "pas une date;X;Y;;abc;;?\n"
    ).encode()
    settlement = reconciliation.settlement_import(data=data, file_name="releve.csv", now=NOW)
    checks = sorted(settlement.lines.values_list("check_result", flat=True))
    assert checks == sorted(
        [
            Check.MATCHED,
            Check.AMOUNT_DIFFERS,
            Check.UNKNOWN_ORDER,
            Check.DOUBLE_CHARGE,
            Check.NO_MONEY,
            Check.NOT_AT_GATEWAY,
        ]
    )
    assert settlement.rows_rejected == 1 and "Date illisible" in settlement.report[0]["reason"]
    assert settlement.lines.get(check_result=Check.NOT_AT_GATEWAY).order == absent
    # « Signaler » records the decision; « Enregistrer » is refused for anything but a lost payment
    unknown = settlement.lines.get(check_result=Check.UNKNOWN_ORDER)
    staff = StaffFactory(is_superuser=True)
    with pytest.raises(reconciliation.ReconciliationError):
        reconciliation.settlement_line_apply(line_id=unknown.pk, user=staff, now=NOW)
    flagged = reconciliation.settlement_line_flag(
        line_id=unknown.pk, user=staff, now=NOW, note="Remboursement demandé au CMI"
    )
    assert flagged.resolution == SettlementLine.Resolution.REFUND_FLAGGED and flagged.resolution_note.startswith("Remb")
    # the same file again is refused
    with pytest.raises(ImportFileError, match="déjà été importé"):
        reconciliation.settlement_import(data=data, file_name="releve.csv", now=NOW)


def test_network_payments_file_is_idempotent_with_a_per_row_report(customer_bills):
    customer, _dossier, bill = customer_bills
    data = (
        "code_client;numero_facture;montant;date;reference;reseau\n"
        f"{customer.code};;50,00;12/03/2026 09:30;TSH-0001;Tasshilat\n"
        f";{bill.number};63.02;2026-03-12;TSH-0002;Tasshilat\n"
        "XX000000;;10,00;12/03/2026;TSH-0003;Tasshilat\n"
        f"{customer.code};;-5;12/03/2026;TSH-0004;Tasshilat\n"
        f"{customer.code};;10,00;12/03/2026;TSH-0001;Tasshilat\n"
    ).encode()
    first = network_payments_import(data=data, file_name="tasshilat-0312.csv", now=NOW)
    assert (first.rows_total, first.rows_created, first.rows_unchanged, first.rows_rejected) == (5, 2, 0, 3)
    assert first.amount_created == Decimal("113.02")
    reasons = {e["line"]: e["reason"] for e in first.report if e["status"] == "rejected"}
    assert "Code client inconnu" in reasons[4] and "Montant invalide" in reasons[5] and "en double" in reasons[6]
    bill.refresh_from_db()
    assert bill.settled_at is not None
    assert set(Payment.objects.values_list("method", flat=True)) == {Payment.Method.AGENT_NETWORK}
    second = network_payments_import(data=data, file_name="tasshilat-0312.csv", now=NOW)
    assert (second.rows_created, second.rows_unchanged, second.rows_rejected) == (0, 2, 3)
    assert Payment.objects.count() == 2 and NetworkPaymentImport.objects.count() == 2


def test_back_office_import_pages(customer_bills):
    customer = customer_bills[0]
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    for name in ("networkpaymentimport", "settlementimport", "settlementline"):
        assert client.get(reverse(f"admin:rak_payment_cmi_{name}_changelist")).status_code == 200
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "wafacash.csv", f"code_client;montant;date;reference\n{customer.code};20;12/03/2026;WC-1\n".encode()
    )
    response = client.post(
        reverse("admin:rak_payment_cmi_networkpaymentimport_import_file"), {"file": upload, "network": "Wafacash"}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "WC-1" in page and "enregistré" in page
    assert Payment.objects.get().external_id == "RESEAU:WAFACASH:WC-1"
