"""The VAT of the invoices that are not consumption — fees, works, subscription fees of a
contract, quotes — comes from the versioned VAT table (its « frais et travaux » line), not from a
rate written in the code: when the law changes the rate on a date, invoices issued from that date
carry the new rate, earlier ones keep the old one."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from rak_billing.api import TariffNotFound, vat_rate_other
from rak_billing.ledger import OtherLine, bill_issue_other
from rak_billing.models import VAT_OTHER, Bill, VatRate
from rak_requests.contracts import fee_lines
from rak_requests.quotes import quote_vat_rate
from tests.factories import CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db

D = Decimal
CASABLANCA = ZoneInfo("Africa/Casablanca")
CHANGE = datetime.date(2026, 7, 1)


@pytest.fixture
def new_rate():
    """A (hypothetical) finance law: 22 % from 1 July 2026."""
    return VatRate.objects.create(service=VAT_OTHER, category="", valid_from=CHANGE, rate=D("0.2200"), source="LF")


def fee_on(customer, day: datetime.date) -> Bill:
    return bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        lines=[OtherLine("Frais de coupure", D("100.00"))],
        issue_date=day,
        now=datetime.datetime.combine(day, datetime.time(10), tzinfo=CASABLANCA),
    )


def test_other_invoice_takes_the_rate_in_force_on_its_issue_date(new_rate):
    customer = CustomerFactory()
    before = fee_on(customer, CHANGE - datetime.timedelta(days=1))
    after = fee_on(customer, CHANGE)

    assert (before.total_tva, before.total_ttc) == (D("20.00"), D("120.00"))
    assert (after.total_tva, after.total_ttc) == (D("22.00"), D("122.00"))
    assert after.lines.get().vat_rate == D("0.2200")
    # the table is edited in the back office: a later correction applies to later invoices only
    new_rate.rate = D("0.2100")
    new_rate.save()
    assert fee_on(customer, CHANGE).total_tva == D("21.00")
    before.refresh_from_db()
    assert before.total_tva == D("20.00")


def test_contract_fees_and_quotes_use_the_table(new_rate):
    june = CHANGE - datetime.timedelta(days=1)
    subscription_june = fee_lines("EAU", "15 mm", on_date=june)[0]
    subscription_july = fee_lines("EAU", "15 mm", on_date=CHANGE)[0]
    assert (subscription_june.vat_rate, subscription_july.vat_rate) == (D("0.2000"), D("0.2200"))
    assert fee_lines("EAU", "15 mm", on_date=CHANGE)[1].vat_rate == 0  # the deposit: no VAT
    july_now = datetime.datetime.combine(CHANGE, datetime.time(9), tzinfo=CASABLANCA)
    assert quote_vat_rate(now=july_now) == D("0.2200")
    assert quote_vat_rate(now=july_now - datetime.timedelta(days=1)) == D("0.2000")


def test_back_office_other_invoice_without_a_rate_uses_the_table(client, new_rate):
    agent = StaffFactory()
    agent.groups.set(Group.objects.filter(name="facturation"))
    client.force_login(agent)
    customer = CustomerFactory()
    response = client.post(
        reverse("admin:rak_billing_bill_add"),
        {
            "kind": "WORKS",
            "customer_code": customer.code,
            "dossier_number": "",
            "label": "Déplacement du compteur",
            "amount_ht": "1000",
            "vat_rate": "",
            "issue_date": "2026-07-02",
            "due_date": "",
        },
    )
    assert response.status_code == 302
    assert Bill.objects.get(customer=customer).total_tva == D("220.00")


def test_no_rate_in_the_table_is_a_clear_error():
    VatRate.objects.filter(service=VAT_OTHER).delete()
    with pytest.raises(TariffNotFound, match="frais et travaux"):
        vat_rate_other(on_date=CHANGE)
