"""Direct debit on the billing side: a mandate switches the dossier to « Prélèvement bancaire »;
the monthly export debits each open bill once (one file per bank, the payment recorded under the
order's reference); a bank's reject re-opens the bill and tells the customer; importing the same
reject file again changes nothing; a bad line is reported, never a 500."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rak_base.models import Message
from rak_base.rib import InvalidRib, rib_key
from rak_billing.direct_debit import (
    MandateRefused,
    debit_rejects_import,
    debits_export,
    mandate_create,
    mandate_revoke,
)
from rak_billing.direct_debit_models import DebitBatch, DebitOrder, Mandate
from rak_billing.ledger import OtherLine, bill_issue_other, bill_outstanding, customer_balance
from rak_billing.models import Bill, Payment
from rak_customer.models import Dossier
from tests.factories import DossierFactory, StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db

D = Decimal


def rib(bank: str = "007", city: str = "780", account: str = "0001234567890123") -> str:
    first = bank + city + account
    return first + rib_key(first)


def invoice(dossier, amount: str, *, now, issue=datetime.date(2026, 2, 20)) -> Bill:
    return bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=dossier.customer,
        dossier=dossier,
        lines=[OtherLine("Frais", D(amount), vat_rate=D("0"))],
        issue_date=issue,
        now=now,
    )


@pytest.fixture
def agent(db):
    return StaffFactory()


@pytest.fixture
def debited(now, agent):
    """A customer (phone + e-mail + portal account) whose dossier is debited from Attijariwafa."""
    customer, user = customer_with_account(phone="+212612000001", email="dd@example.ma")
    dossier = DossierFactory(customer=customer)
    mandate = mandate_create(
        dossier_id=dossier.pk, rib=rib(), signed_date=datetime.date(2026, 2, 1), now=now, created_by=agent
    )
    return customer, user, dossier, mandate


def test_mandate_switches_the_dossier_to_direct_debit_with_its_bank(debited):
    customer, _user, dossier, mandate = debited
    dossier.refresh_from_db()
    assert dossier.billing_mode == Dossier.BillingMode.DIRECT_DEBIT
    assert dossier.get_billing_mode_display() == "Prélèvement bancaire"
    assert mandate.status == Mandate.Status.ACTIVE
    assert mandate.bank_name == "Attijariwafa bank"
    assert mandate.reference.startswith("MDT2026-")
    assert dossier.history.first().history_change_reason == f"Mandat de prélèvement {mandate.reference}"


def test_a_new_mandate_replaces_the_active_one(debited, now, agent):
    _customer, _user, dossier, first = debited
    second = mandate_create(
        dossier_id=dossier.pk, rib=rib("230"), signed_date=datetime.date(2026, 3, 1), now=now, created_by=agent
    )
    first.refresh_from_db()
    assert first.status == Mandate.Status.REVOKED
    assert first.revoke_reason == f"Remplacé par le mandat {second.reference}"
    assert second.bank_name == "CIH Bank"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0077800001234567890", "Le RIB doit contenir 24 chiffres."),
        (rib()[:22] + ("00" if rib()[22:] != "00" else "01"), "la clé RIB ne correspond pas"),
        (rib("999"), "Banque inconnue"),
    ],
)
def test_a_bad_rib_is_refused_and_nothing_changes(value, message, now, agent):
    dossier = DossierFactory()
    with pytest.raises(InvalidRib, match=message):
        mandate_create(dossier_id=dossier.pk, rib=value, signed_date=datetime.date(2026, 2, 1), now=now)
    dossier.refresh_from_db()
    assert dossier.billing_mode == Dossier.BillingMode.NORMAL
    assert not Mandate.objects.exists()


def test_terminated_dossier_cannot_get_a_mandate(now):
    dossier = DossierFactory(status=Dossier.Status.TERMINATED, end_date=datetime.date(2026, 1, 1))
    with pytest.raises(MandateRefused, match="résilié"):
        mandate_create(dossier_id=dossier.pk, rib=rib(), signed_date=datetime.date(2026, 2, 1), now=now)


def test_revoking_puts_the_dossier_back_to_normal(debited, now, agent):
    _customer, _user, dossier, mandate = debited
    with pytest.raises(MandateRefused, match="motif"):
        mandate_revoke(mandate_id=mandate.pk, by=agent, reason=" ", now=now)
    mandate_revoke(mandate_id=mandate.pk, by=agent, reason="Compte clôturé", now=now)
    dossier.refresh_from_db()
    assert dossier.billing_mode == Dossier.BillingMode.NORMAL
    with pytest.raises(MandateRefused, match="déjà révoqué"):
        mandate_revoke(mandate_id=mandate.pk, by=agent, reason="encore", now=now)


def test_export_debits_each_open_bill_once_one_file_per_bank(debited, now, agent):
    customer, _user, dossier, mandate = debited
    bill = invoice(dossier, "123.45", now=now)
    other_customer, _ = customer_with_account(phone="+212612000002")
    other = DossierFactory(customer=other_customer)
    mandate_create(dossier_id=other.pk, rib=rib("011"), signed_date=datetime.date(2026, 2, 1), now=now)
    other_bill = invoice(other, "50.00", now=now)
    normal = DossierFactory(customer=customer)  # billed normally: not debited
    invoice(normal, "70.00", now=now)
    next_month = invoice(dossier, "10.00", now=now, issue=datetime.date(2026, 4, 1))  # not yet

    result = debits_export(period=datetime.date(2026, 3, 1), by=agent, now=now)

    assert result.orders == 2
    assert result.total == D("173.45")
    assert sorted(b.bank_code for b in result.batches) == ["007", "011"]
    order = DebitOrder.objects.get(bill=bill)
    assert order.amount == D("123.45")
    assert order.payment.method == Payment.Method.DIRECT_DEBIT
    assert order.payment.external_id == order.reference
    bill.refresh_from_db()
    assert bill.settled_at is not None
    assert bill_outstanding(other_bill) == D("0.00")
    assert bill_outstanding(next_month) == D("10.00")
    # the file of the Attijariwafa batch: header, one detail line, trailer
    batch = DebitBatch.objects.get(bank_code="007")
    lines = batch.file.open("rb").read().decode("utf-8").splitlines()
    batch.file.close()
    assert lines[0].startswith(f"E;RAK;{batch.reference};007;Attijariwafa bank;20260302;202603;1;123.45")
    assert lines[1] == (
        f"D;{order.reference};{mandate.rib};123.45;{bill.number};{bill.due_date:%Y%m%d};{customer.code};"
        f"{customer.display_name};{mandate.reference}"
    )
    assert lines[2] == "T;1;123.45"

    # exporting again debits nothing twice
    again = debits_export(period=datetime.date(2026, 3, 1), by=agent, now=now)
    assert again.orders == 0
    assert Payment.objects.filter(method=Payment.Method.DIRECT_DEBIT).count() == 2
    assert customer_balance(customer) == D("80.00")  # 70 (normal dossier) + 10 (next month)


def test_revoked_mandate_is_not_debited(debited, now, agent):
    _customer, _user, dossier, mandate = debited
    invoice(dossier, "40.00", now=now)
    mandate_revoke(mandate_id=mandate.pk, by=agent, reason="Compte clôturé", now=now)
    assert debits_export(period=datetime.date(2026, 3, 1), by=agent, now=now).orders == 0


def reject_file(*lines: str, name: str = "rejets.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\r\n".join(lines) + "\r\n").encode("utf-8"), content_type="text/csv")


def test_reject_reopens_the_bill_tells_the_customer_and_a_reimport_changes_nothing(debited, now, agent):
    customer, user, dossier, _mandate = debited
    bill = invoice(dossier, "123.45", now=now)
    debits_export(period=datetime.date(2026, 3, 1), by=agent, now=now)
    order = DebitOrder.objects.get(bill=bill)
    later = now + datetime.timedelta(days=5)
    content = ("reference;code_rejet;motif", f"{order.reference};AM04;Provision insuffisante")

    result = debit_rejects_import(file=reject_file(*content), file_name="rejets-mars.csv", by=agent, now=later)

    assert (result.batch.rows_rejected, result.batch.rows_unchanged, result.batch.rows_errors) == (1, 0, 0)
    order.refresh_from_db()
    bill.refresh_from_db()
    assert order.status == DebitOrder.Status.REJECTED
    assert (order.reject_code, order.reject_reason) == ("AM04", "Provision insuffisante")
    assert bill.settled_at is None
    assert bill_outstanding(bill) == D("123.45")
    assert customer_balance(customer) == D("123.45")
    assert order.payment.reversal.reason.startswith(f"Prélèvement {order.reference} rejeté par la banque")
    sms = Message.objects.get(channel=Message.Channel.SMS, recipient="+212612000001", kind="direct_debit")
    assert f"le prélèvement de votre facture {bill.number} (123,45 DH) a été rejeté par votre banque" in sms.body
    assert "Provision insuffisante" in sms.body
    assert Message.objects.filter(channel=Message.Channel.EMAIL, recipient="dd@example.ma", kind="direct_debit")
    assert Message.objects.filter(channel=Message.Channel.BELL, user=user, kind="direct_debit").exists()
    assert result.batch.file  # the imported file is kept

    # the same file again: nothing changes, nobody is told twice
    again = debit_rejects_import(file=reject_file(*content), file_name="rejets-mars.csv", by=agent, now=later)
    assert (again.batch.rows_rejected, again.batch.rows_unchanged) == (0, 1)
    assert again.previously_imported == result.batch
    assert customer_balance(customer) == D("123.45")
    assert Message.objects.filter(kind="direct_debit", channel=Message.Channel.SMS).count() == 1

    # a rejected bill goes in the next export again, under a new order
    retry = debits_export(period=datetime.date(2026, 4, 1), by=agent, now=later)
    assert retry.orders == 1
    assert DebitOrder.objects.filter(bill=bill).count() == 2


def test_bad_lines_are_reported_one_by_one_and_the_good_ones_applied(debited, now, agent):
    _customer, _user, dossier, _mandate = debited
    bill = invoice(dossier, "60.00", now=now)
    debits_export(period=datetime.date(2026, 3, 1), by=agent, now=now)
    order = DebitOrder.objects.get(bill=bill)
    result = debit_rejects_import(
        file=reject_file(
            "PRL202699999999;AM04;Provision insuffisante",
            ";AC01;Compte inexistant",
            f"{order.reference};;",
            f"{order.reference};AC04;Compte clôturé",
            f"{order.reference};AC04;Compte clôturé",
        ),
        file_name="rejets.csv",
        by=agent,
        now=now,
    )
    batch = result.batch
    assert (batch.rows_total, batch.rows_rejected, batch.rows_unchanged, batch.rows_errors) == (5, 1, 1, 3)
    reasons = [entry["reason"] for entry in batch.report]
    assert reasons[0] == "Ordre de prélèvement inconnu : PRL202699999999."
    assert reasons[1] == "Référence de l'ordre manquante."
    assert reasons[2] == "Code de rejet manquant."
    assert reasons[3] == f"Rejet enregistré : la facture {bill.number} est à nouveau à régler."
    assert reasons[4] == "Ligne en double (déjà à la ligne 4)."


def test_a_reject_file_that_is_not_text_is_refused(agent, now):
    from rak_base.uploads import UploadRefused

    png = SimpleUploadedFile("rejets.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="text/csv")
    with pytest.raises(UploadRefused):
        debit_rejects_import(file=png, file_name="rejets.csv", by=agent, now=now)


def test_demo_dossiers_in_direct_debit_get_a_mandate_once(now):
    from rak_billing.direct_debit import demo_mandates_create

    dossier = DossierFactory(billing_mode=Dossier.BillingMode.DIRECT_DEBIT)
    DossierFactory()  # billed normally: no mandate
    assert demo_mandates_create(now=now) == 1
    mandate = Mandate.objects.get()
    assert mandate.dossier == dossier and mandate.status == Mandate.Status.ACTIVE
    from rak_base.rib import rib_validate

    assert rib_validate(mandate.rib).bank_name == mandate.bank_name
    assert demo_mandates_create(now=now) == 0


@pytest.mark.django_db(transaction=True)
def test_two_agents_exporting_at_the_same_instant_debit_each_bill_once(now):
    """Two agents press « Exporter les prélèvements du mois » at once: the exports run one after the
    other (a lock), so the second finds nothing left; one order and one payment per bill."""
    import threading

    from django.db import connection

    customer, _user = customer_with_account(phone="+212612000031")
    dossier = DossierFactory(customer=customer)
    mandate_create(dossier_id=dossier.pk, rib=rib(), signed_date=datetime.date(2026, 2, 1), now=now)
    bills = [invoice(dossier, amount, now=now) for amount in ("10.00", "20.00", "30.00")]
    agents = [StaffFactory(), StaffFactory()]
    barrier = threading.Barrier(2)
    counts: list[int | str] = []

    def one(agent):
        try:
            barrier.wait(timeout=10)
            counts.append(debits_export(period=datetime.date(2026, 3, 1), by=agent, now=now).orders)
        except BaseException as exc:  # reported below
            counts.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(counts, key=str) == [0, 3]
    assert DebitOrder.objects.count() == 3
    assert Payment.objects.filter(method=Payment.Method.DIRECT_DEBIT).count() == 3
    assert all(bill_outstanding(bill) == D("0.00") for bill in bills)
    assert customer_balance(customer) == D("0.00")
