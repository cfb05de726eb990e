"""The monthly bank files in a real browser (back office, recouvrement): « Fichiers de
prélèvements » → « Exporter les prélèvements du mois » (the month proposed is the current one),
download the bank's file, then the bank's rejects: « Rejets de prélèvements (imports) » →
« Importer les rejets » with a line naming an order of that file: the report says « rejet
enregistré » and the bill is to be paid again."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from rak_base import clock
from rak_base.rib import rib_key
from rak_billing.direct_debit import mandate_create
from rak_billing.direct_debit_models import DebitOrder
from rak_billing.ledger import OtherLine, bill_issue_other, bill_outstanding
from rak_billing.models import Bill
from tests.factories import TEST_PASSWORD, DossierFactory, StaffFactory, customer_with_account


def test_recouvrement_exports_the_month_and_imports_the_banks_rejects(page, tmp_path):
    now = clock.now()
    today = timezone.localdate(now)
    agent = StaffFactory(username="rachid", first_name="Rachid")
    agent.groups.set(Group.objects.filter(name="recouvrement"))
    customer, _user = customer_with_account(phone="+212661112260", first_name="Karim")
    dossier = DossierFactory(customer=customer)
    first = "230780" + "0009876543210987"
    mandate_create(dossier_id=dossier.pk, rib=first + rib_key(first), signed_date=today, now=now)
    bill = bill_issue_other(
        kind=Bill.Kind.CUT_FEE,
        customer=customer,
        dossier=dossier,
        lines=[OtherLine("Frais de coupure", Decimal("75.50"), vat_rate=Decimal("0"))],
        issue_date=today - datetime.timedelta(days=1),
        now=now,
    )

    page.goto("/backoffice/login/")
    page.fill("input[name=username]", "rachid")
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.get_by_role("link", name="Fichiers de prélèvements").first.click()
    page.get_by_role("link", name="Exporter les prélèvements du mois").first.click()
    form = page.get_by_test_id("direct-debit-form")
    expect(form).to_contain_text("1 facture à prélever ce mois-ci.")
    with page.expect_navigation():
        form.get_by_role("button", name="Exporter les prélèvements du mois").click()
    expect(page.get_by_text("1 prélèvement(s) exporté(s) pour 75,50 DH", exact=False)).to_be_visible()
    with page.expect_download() as downloading:
        page.get_by_test_id("batch-file").first.click()
    lines = open(downloading.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0].split(";")[3:5] == ["230", "CIH Bank"]
    detail = lines[1].split(";")
    assert detail[0] == "D" and detail[3] == "75.50" and detail[4] == bill.number
    assert bill_outstanding(bill) == Decimal("0.00")

    rejects = tmp_path / "rejets.csv"
    rejects.write_text(f"reference;code_rejet;motif\n{detail[1]};AM04;Provision insuffisante\n", encoding="utf-8")
    page.get_by_role("link", name="Rejets de prélèvements (imports)").first.click()
    page.get_by_role("link", name="Importer les rejets").first.click()
    page.get_by_label("Fichier de rejets de la banque").set_input_files(str(rejects))
    with page.expect_navigation():
        page.get_by_role("button", name="Importer les rejets").click()
    expect(page.get_by_text("1 rejet(s) enregistré(s)", exact=False)).to_be_visible()
    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text(f"Rejet enregistré : la facture {bill.number} est à nouveau à régler.")
    assert DebitOrder.objects.get().status == DebitOrder.Status.REJECTED
    assert bill_outstanding(bill) == Decimal("75.50")
