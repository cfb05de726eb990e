"""The customer account, as a customer or an agent at the counter sees it: the balance is what the
bills add up to minus what was paid or credited; a payment settles the oldest bills first (each
bill settled in full gets its « soldée le » date, a part-paid one stays open); a payment recorded
twice under the same external reference counts once; a credit note cancels all or part of a bill;
other invoices (coupure, fraude, abonnement, travaux) are numbered and owed like consumption bills;
an unpaid bill becomes « exigible » after its due date. And the back-office screens that do this."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from rak_billing.ledger import (
    CreditNoteRefused,
    OtherLine,
    PaymentRefused,
    UnableToIssueBill,
    bill_is_exigible,
    bill_issue_other,
    bill_outstanding,
    bills_exigible,
    credit_note_issue,
    customer_balance,
    payment_record,
)
from rak_billing.models import Bill, BillingRun, LedgerEntry, Payment, PaymentAllocation
from tests.factories import CustomerFactory, DossierFactory, StaffFactory

pytestmark = pytest.mark.django_db

D = Decimal


def other_bill(customer, amount: str, *, issue=datetime.date(2026, 1, 10), due=None, kind=Bill.Kind.CUT_FEE, now):
    return bill_issue_other(
        kind=kind,
        customer=customer,
        lines=[OtherLine("Frais", D(amount), vat_rate=D("0"))],
        issue_date=issue,
        due_date=due,
        now=now,
    )


def pay(customer, amount: str, *, now, external_id=None, method=Payment.Method.CASH):
    return payment_record(
        customer=customer, amount=D(amount), method=method, paid_at=now, reference="", external_id=external_id
    )


def test_other_invoice_is_numbered_with_vat_lines_and_debits_the_account(now):
    customer = CustomerFactory()
    dossier = DossierFactory(customer=customer)
    bill = bill_issue_other(
        kind=Bill.Kind.WORKS,
        customer=customer,
        dossier=dossier,
        lines=[
            OtherLine("Branchement eau potable", D("1200.00")),
            OtherLine("Regard de compteur", D("150.00"), quantity=D("2"), vat_rate=D("0.1000")),
        ],
        issue_date=datetime.date(2026, 3, 2),
        now=now,
    )

    assert bill.number == "F2026-00000001"
    assert (bill.total_ht, bill.total_tva, bill.total_ttc) == (D("1500.00"), D("270.00"), D("1770.00"))
    assert bill.due_date == datetime.date(2026, 3, 17)  # 15 days by default
    assert [line.amount_ttc for line in bill.lines.order_by("position")] == [D("1440.00"), D("330.00")]
    assert customer_balance(customer) == D("1770.00")
    assert LedgerEntry.objects.get(bill=bill).label.startswith("Travaux / devis F2026-00000001")


def test_every_kind_of_other_invoice_and_refusals(now):
    customer = CustomerFactory()
    for kind in (Bill.Kind.CUT_FEE, Bill.Kind.FRAUD, Bill.Kind.SUBSCRIPTION, Bill.Kind.WORKS, Bill.Kind.ADVANCE):
        other_bill(customer, "10.00", kind=kind, now=now)
    assert Bill.objects.filter(customer=customer).count() == 5
    assert customer_balance(customer) == D("50.00")

    with pytest.raises(UnableToIssueBill):
        other_bill(customer, "10.00", kind=Bill.Kind.CONSUMPTION, now=now)
    with pytest.raises(UnableToIssueBill):
        bill_issue_other(
            kind=Bill.Kind.FRAUD, customer=customer, lines=[], issue_date=datetime.date(2026, 1, 1), now=now
        )
    with pytest.raises(UnableToIssueBill):
        bill_issue_other(
            kind=Bill.Kind.FRAUD,
            customer=customer,
            dossier=DossierFactory(),  # another customer's dossier
            lines=[OtherLine("x", D("1"))],
            issue_date=datetime.date(2026, 1, 1),
            now=now,
        )
    assert sorted(Bill.objects.values_list("number", flat=True))[-1] == "F2026-00000005"  # refusals left no gap


def test_payment_settles_oldest_due_first_and_leaves_the_rest_open(now):
    customer = CustomerFactory()
    january = other_bill(customer, "100.00", issue=datetime.date(2026, 1, 5), now=now)
    february = other_bill(customer, "80.00", issue=datetime.date(2026, 2, 5), now=now)
    march = other_bill(customer, "60.00", issue=datetime.date(2026, 3, 5), now=now)

    payment = pay(customer, "150.00", now=now)

    for bill in (january, february, march):
        bill.refresh_from_db()
    assert january.settled_at == now and bill_outstanding(january) == 0
    assert february.settled_at is None and bill_outstanding(february) == D("30.00")
    assert march.settled_at is None and bill_outstanding(march) == D("60.00")
    assert customer_balance(customer) == D("90.00")
    assert sorted(payment.allocations.values_list("amount", flat=True)) == [D("50.00"), D("100.00")]


def test_overpayment_stays_as_credit_and_pays_the_next_bill(now):
    customer = CustomerFactory()
    other_bill(customer, "40.00", now=now)
    pay(customer, "100.00", now=now)
    assert customer_balance(customer) == D("-60.00")

    later = other_bill(customer, "25.00", issue=datetime.date(2026, 2, 1), now=now)

    assert later.settled_at is not None
    assert customer_balance(customer) == D("-35.00")


def test_payment_with_the_same_external_id_counts_once(now):
    customer = CustomerFactory()
    other_bill(customer, "100.00", now=now)

    first = pay(customer, "100.00", now=now, external_id="CMI-ORDER-42")
    again = pay(customer, "100.00", now=now, external_id="CMI-ORDER-42")

    assert again.pk == first.pk
    assert Payment.objects.count() == 1 and PaymentAllocation.objects.count() == 1
    assert customer_balance(customer) == 0
    with pytest.raises(PaymentRefused):
        pay(customer, "99.00", now=now, external_id="CMI-ORDER-42")  # same id, other amount: refused
    with pytest.raises(PaymentRefused):
        pay(customer, "0", now=now)


def test_credit_note_cancels_a_bill_in_full_or_in_part(now):
    customer = CustomerFactory()
    bill = bill_issue_other(
        kind=Bill.Kind.FRAUD,
        customer=customer,
        lines=[OtherLine("Consommation frauduleuse", D("500.00"))],
        issue_date=datetime.date(2026, 1, 10),
        now=now,
    )
    assert bill.total_ttc == D("600.00")

    part = credit_note_issue(
        bill=bill, amount=D("150.00"), reason="Erreur de calcul", issue_date=bill.issue_date, now=now
    )

    assert part.kind == Bill.Kind.CREDIT_NOTE and part.credited_bill == bill
    assert part.total_ttc == D("150.00") and part.total_ht + part.total_tva == D("150.00")
    assert part.number == "F2026-00000002"
    assert LedgerEntry.objects.get(bill=part).amount == D("-150.00")
    assert bill_outstanding(bill) == D("450.00")
    assert customer_balance(customer) == D("450.00")

    rest = credit_note_issue(bill=bill, reason="Annulation", issue_date=bill.issue_date, now=now)
    bill.refresh_from_db()
    assert rest.total_ttc == D("450.00") and bill.settled_at == now
    assert customer_balance(customer) == 0
    with pytest.raises(CreditNoteRefused):
        credit_note_issue(bill=bill, reason="Encore", issue_date=bill.issue_date, now=now)
    with pytest.raises(CreditNoteRefused):
        credit_note_issue(bill=rest, reason="Avoir d'avoir", issue_date=bill.issue_date, now=now)


def test_credit_note_on_a_paid_bill_becomes_credit(now):
    customer = CustomerFactory()
    bill = other_bill(customer, "100.00", now=now)
    pay(customer, "100.00", now=now)
    credit_note_issue(bill=bill, amount=D("30.00"), reason="Geste commercial", issue_date=bill.issue_date, now=now)
    assert customer_balance(customer) == D("-30.00")
    nxt = other_bill(customer, "20.00", issue=datetime.date(2026, 2, 1), now=now)
    assert nxt.settled_at is not None and customer_balance(customer) == D("-10.00")


def test_a_bill_becomes_exigible_after_its_due_date(now):
    customer = CustomerFactory()
    bill = other_bill(customer, "10.00", issue=datetime.date(2026, 1, 1), due=datetime.date(2026, 1, 16), now=now)

    assert not bill_is_exigible(bill, as_of=datetime.date(2026, 1, 16))
    assert bill_is_exigible(bill, as_of=datetime.date(2026, 1, 17))
    assert list(bills_exigible(Bill.objects.all(), as_of=datetime.date(2026, 1, 17))) == [bill]
    pay(customer, "10.00", now=now)
    bill.refresh_from_db()
    assert not bill_is_exigible(bill, as_of=datetime.date(2026, 2, 1))


def test_balance_is_the_sum_of_the_ledger(now):
    customer = CustomerFactory()
    other_bill(customer, "123.45", now=now)
    other_bill(customer, "10.05", now=now)
    pay(customer, "33.50", now=now)
    total = sum(LedgerEntry.objects.filter(customer=customer).values_list("amount", flat=True))
    assert customer_balance(customer) == total == D("100.00")
    assert customer_balance(CustomerFactory()) == 0


# --- back office ---------------------------------------------------------------------------------------


@pytest.fixture
def agent(client):
    """A billing agent (« facturation »), logged in."""
    user = StaffFactory()
    user.groups.set(Group.objects.filter(name="facturation"))
    client.force_login(user)
    return user


@pytest.fixture
def counter(client):
    """A front-desk agent (« accueil »), logged in."""
    user = StaffFactory()
    user.groups.set(Group.objects.filter(name="accueil"))
    client.force_login(user)
    return user


def test_bill_list_search_filters_and_bounded_queries(client, agent, now, django_assert_max_num_queries):
    customers = [CustomerFactory() for _ in range(3)]
    for customer in customers:
        dossier = DossierFactory(customer=customer)
        for month in (1, 2, 3):
            bill_issue_other(
                kind=Bill.Kind.SUBSCRIPTION,
                customer=customer,
                dossier=dossier,
                lines=[OtherLine("Frais", D("10"))],
                issue_date=datetime.date(2026, month, 1),
                now=now,
            )
    url = reverse("admin:rak_billing_bill_changelist")

    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 9

    target = customers[1]
    by_code = client.get(url, {"q": target.code})
    assert {b.customer_id for b in by_code.context["cl"].result_list} == {target.pk}
    number = Bill.objects.filter(customer=target).first().number
    assert [b.number for b in client.get(url, {"q": number.lower()}).context["cl"].result_list] == [number]
    dossier_number = target.dossiers.get().number
    assert len(client.get(url, {"q": dossier_number}).context["cl"].result_list) == 3
    assert len(client.get(url, {"reglement": "open"}).context["cl"].result_list) == 9
    assert len(client.get(url, {"kind": "CUT_FEE"}).context["cl"].result_list) == 0


def test_bill_page_shows_lines_and_pdf_button(client, agent, now, settings):
    bill = other_bill(CustomerFactory(), "42.00", now=now)
    page = client.get(reverse("admin:rak_billing_bill_change", args=[bill.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "Frais" in html and bill.number in html
    pdf_url = reverse("admin:rak_billing_bill_pdf", args=[bill.pk])
    assert pdf_url in html
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_other_invoice_and_credit_note_from_the_back_office(client, agent):
    customer = CustomerFactory()
    response = client.post(
        reverse("admin:rak_billing_bill_add"),
        {
            "kind": "CUT_FEE",
            "customer_code": customer.code,
            "dossier_number": "",
            "label": "Frais de coupure",
            "amount_ht": "100",
            "vat_rate": "0.2",
            "issue_date": "2026-03-02",
            "due_date": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    bill = Bill.objects.get(customer=customer)
    assert bill.total_ttc == D("120.00")

    response = client.post(
        reverse("admin:rak_billing_bill_credit_note", args=[bill.pk]), {"amount": "20", "reason": "Geste"}
    )
    assert response.status_code == 302
    assert customer_balance(customer) == D("100.00")


def test_counter_agent_records_a_payment(client, counter, now):
    customer = CustomerFactory()
    bill = other_bill(customer, "70.00", now=now)
    add = reverse("admin:rak_billing_payment_add")
    assert client.get(add).status_code == 200

    response = client.post(
        add,
        {
            "customer_code": customer.code,
            "amount": "70.00",
            "method": "CASH",
            "paid_at_0": "02/03/2026",
            "paid_at_1": "10:00:00",
            "reference": "REÇU-001",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "1 facture(s) soldée(s)" in response.content.decode()
    bill.refresh_from_db()
    assert bill.settled_at is not None and customer_balance(customer) == 0
    assert Payment.objects.get().received_by == counter
    assert client.get(reverse("admin:rak_billing_bill_add")).status_code == 403  # bills are not theirs


def test_ledger_page_shows_a_customer_account_and_balance(client, agent, now):
    customer = CustomerFactory()
    other_bill(customer, "90.00", now=now)
    pay(customer, "40.00", now=now)
    response = client.get(reverse("admin:rak_billing_ledgerentry_changelist"), {"q": customer.code})
    html = response.content.decode()
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 2
    assert "solde : 50,00 DH" in html


def test_billing_run_screens(client, agent):
    add = reverse("admin:rak_billing_billingrun_add")
    assert client.get(add).status_code == 200
    response = client.post(
        add, {"period": "2026-02", "round_code": "", "issue_date": "2026-03-03", "due_date": "2026-03-18"}
    )
    run = BillingRun.objects.get()
    assert response.status_code == 302 and run.period_start == datetime.date(2026, 2, 1)
    page = client.get(reverse("admin:rak_billing_billingrun_change", args=[run.pk]))
    html = page.content.decode()
    assert "Actualisation automatique" in html and "0 / 0 dossiers" in html
    again = client.post(
        add, {"period": "2026-02", "round_code": "", "issue_date": "2026-03-03", "due_date": "2026-03-18"}, follow=True
    )
    assert "déjà en attente ou en cours" in again.content.decode()
    assert client.get(reverse("admin:rak_billing_billingrun_changelist")).status_code == 200
    assert client.get(reverse("admin:rak_base_document_changelist")).status_code == 200


def test_bulk_payments_follow_the_same_rules_and_are_idempotent(now):
    from rak_billing.ledger import PaymentRow, payments_record_bulk

    good, partial, credit = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for customer in (good, partial, credit):
        other_bill(customer, "100.00", issue=datetime.date(2026, 1, 5), now=now)
        other_bill(customer, "50.00", issue=datetime.date(2026, 2, 5), now=now)
    pay(credit, "20.00", now=now)  # an earlier payment left unallocated? no: it paid January in part
    rows = [
        PaymentRow(good.pk, D("150.00"), Payment.Method.AGENT_NETWORK, now, "WF-1", "wafacash:1"),
        PaymentRow(partial.pk, D("120.00"), Payment.Method.AGENT_NETWORK, now, "WF-2", "wafacash:2"),
        PaymentRow(credit.pk, D("200.00"), Payment.Method.TRANSFER, now, "VIR-3", "bank:3", reason="Avance"),
    ]

    assert payments_record_bulk(rows, now=now) == 3
    assert payments_record_bulk(rows, now=now) == 0  # the same file again changes nothing

    assert customer_balance(good) == 0
    assert customer_balance(partial) == D("30.00")
    assert customer_balance(credit) == D("-70.00")
    assert not Bill.objects.filter(customer=good, settled_at__isnull=True).exists()
    open_partial = Bill.objects.get(customer=partial, settled_at__isnull=True)
    assert open_partial.issue_date == datetime.date(2026, 2, 5) and bill_outstanding(open_partial) == D("30.00")
    later = other_bill(credit, "70.00", issue=datetime.date(2026, 3, 5), now=now)
    assert later.settled_at is not None and customer_balance(credit) == 0
