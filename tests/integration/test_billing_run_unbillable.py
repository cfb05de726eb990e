"""A billing run lists up front the dossiers it cannot bill — no tariff, no meter, a reading held
for review — instead of skipping them silently: the back office shows the counts and the list
before the run is launched (with the full list as CSV), and the run keeps the report."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from rak_billing.billing import billing_run_create, billing_run_process
from rak_billing.models import Bill, BillingRun, MeterReading
from rak_billing.unbillable import NO_METER, NO_TARIFF, READING_HELD, billing_run_unbillable
from rak_customer.models import Dossier, Service
from tests.factories import DossierFactory, MeterFactory, PremisesFactory, StaffFactory
from tests.integration.test_billing_run import read

pytestmark = pytest.mark.django_db

FEB = datetime.date(2026, 2, 1)


@pytest.fixture
def month():
    """February 2026: one dossier of each kind the run cannot bill, and two it bills."""
    billable = DossierFactory(service=Service.EAU)
    read(billable, datetime.date(2026, 1, 20), 100)
    read(billable, datetime.date(2026, 2, 20), 112)
    estimated = DossierFactory(service=Service.EAU)  # not read in February: billed on an estimate
    industrial = DossierFactory(  # no industrial electricity schedule is seeded
        service=Service.ELECTRICITE,
        tariff_category=Dossier.TariffCategory.INDUSTRIEL,
        meter=MeterFactory(service=Service.ELECTRICITE),
    )
    no_meter = DossierFactory(service=Service.ELECTRICITE, meter=None)
    lonely_sanitation = DossierFactory(service=Service.ASSAINISSEMENT, meter=None, premises=PremisesFactory())
    held = DossierFactory(service=Service.EAU)
    read(held, datetime.date(2026, 1, 20), 100)
    read(held, datetime.date(2026, 2, 20), 900, status=MeterReading.Status.HELD)
    return {
        "billable": billable,
        "estimated": estimated,
        "industrial": industrial,
        "no_meter": no_meter,
        "lonely_sanitation": lonely_sanitation,
        "held": held,
    }


def test_the_report_lists_each_dossier_the_run_cannot_bill_with_its_reason(month):
    report = billing_run_unbillable(period_start=FEB)

    reasons = {row["dossier"]: row["reason"] for row in report.rows}
    assert reasons == {
        month["industrial"].number: NO_TARIFF,
        month["no_meter"].number: NO_METER,
        month["lonely_sanitation"].number: NO_METER,
        month["held"].number: READING_HELD,
    }
    assert report.counts == {NO_TARIFF: 1, NO_METER: 2, READING_HELD: 1}
    assert (report.to_bill, report.already_billed, report.without_reading) == (2, 0, 1)
    assert report.missing_tariffs == [(Service.ELECTRICITE, Dossier.TariffCategory.INDUSTRIEL)]


def test_the_run_keeps_the_report_and_bills_what_it_announced(month):
    run = billing_run_create(
        period_start=FEB, issue_date=datetime.date(2026, 3, 2), due_date=datetime.date(2026, 3, 17), enqueue=False
    )

    assert run.unbillable["total"] == 4
    assert {row["dossier"] for row in run.unbillable["rows"]} == {
        month[key].number for key in ("industrial", "no_meter", "lonely_sanitation", "held")
    }
    run = billing_run_process(run_id=run.pk)
    assert run.bills_created == 2
    assert set(Bill.objects.values_list("dossier__number", flat=True)) == {
        month["billable"].number,
        month["estimated"].number,
    }
    # after the run, what is still unbilled is what it announced
    assert billing_run_unbillable(period_start=FEB).total == 4
    assert billing_run_unbillable(period_start=FEB).already_billed == 2


@pytest.fixture
def facturation(client):
    user = StaffFactory()
    user.groups.set(Group.objects.filter(name="facturation"))
    client.force_login(user)
    return user


def _page(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&laquo;", "«").replace("&raquo;", "»")


RUN_FORM = {"period": "2026-02", "round_code": "", "issue_date": "2026-03-02", "due_date": "2026-03-17"}


def test_back_office_shows_the_unbillable_dossiers_before_launching_the_run(client, facturation, month):
    add = reverse("admin:rak_billing_billingrun_add")

    preview = client.post(add, RUN_FORM)

    assert preview.status_code == 200
    page = _page(preview)
    assert not BillingRun.objects.exists()  # nothing launched yet: the list comes first
    assert "4 dossiers ne seront pas facturés" in page
    assert "Aucun barème en vigueur" in page and "Sans compteur" in page and "en attente de vérification" in page
    for key in ("industrial", "no_meter", "lonely_sanitation", "held"):
        assert month[key].number in page
    assert month["billable"].number not in page
    assert "2 dossiers à facturer" in page

    confirm = client.post(add, {**RUN_FORM, "confirm": preview.context["adminform"].form["confirm"].value()})

    assert confirm.status_code == 302, _page(confirm)[:3000]
    run = BillingRun.objects.get()
    assert run.unbillable["total"] == 4
    detail = _page(client.get(reverse("admin:rak_billing_billingrun_change", args=[run.pk])))
    assert month["held"].number in detail and "Relevé du mois en attente de vérification" in detail


def test_the_full_list_downloads_as_csv(client, facturation, month):
    url = reverse("admin:rak_billing_billingrun_unbillable_csv") + "?period=2026-02-01&round_code="

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["N° dossier", "Code client"]
    assert {row[0] for row in rows[1:]} == {
        month[key].number for key in ("industrial", "no_meter", "lonely_sanitation", "held")
    }


def test_changing_the_month_after_the_preview_shows_the_new_preview(client, facturation, month):
    add = reverse("admin:rak_billing_billingrun_add")
    preview = client.post(add, RUN_FORM)
    token = preview.context["adminform"].form["confirm"].value()

    again = client.post(add, {**RUN_FORM, "period": "2026-01", "confirm": token})

    assert again.status_code == 200
    assert not BillingRun.objects.exists()
