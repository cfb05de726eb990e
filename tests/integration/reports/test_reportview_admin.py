"""The reports addon's back-office screens (rak_reports.admin): « Agrégats des rapports » (each view's
last refresh, duration, rows; « Rafraîchir maintenant » for superviseur, on POST) and « Rapports
mensuels » (what was sent; « Envoyer le rapport mensuel maintenant » for superviseur)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message
from rak_base.scheduler import jobs_run_due
from rak_reports import matviews, monthly
from rak_reports.matviews import MatView, matview_register
from rak_reports.models import MonthlyReport, ReportView
from rak_reports.query import rows
from tests.factories import DossierFactory, staff_in

pytestmark = pytest.mark.django_db

PREMISES = matview_register(
    MatView(
        name="test_admin_premises",
        sql="SELECT district, count(*) AS premises FROM rak_customer_premises GROUP BY district",
        unique=("district",),
        label="locaux par quartier (test)",
    )
)
LIST = reverse("admin:rak_reports_reportview_changelist")
REFRESH = reverse("admin:rak_reports_reportview_refresh_now")
MONTHLY_LIST = reverse("admin:rak_reports_monthlyreport_changelist")
SEND = reverse("admin:rak_reports_monthlyreport_send_now")


@pytest.fixture(autouse=True)
def _views():
    matviews.matviews_sync(now=clock.now() - timedelta(hours=1))


def test_list_shows_each_aggregate_with_its_refresh(client, django_assert_max_num_queries):
    staff_in("superviseur", client=client)
    ReportView.objects.filter(name="test_admin_premises").update(refresh_seconds=1.25, row_count=42)
    with django_assert_max_num_queries(25):
        response = client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "test_admin_premises" in html and "locaux par quartier (test)" in html
    assert "1,25 s" in html and "42" in html
    assert REFRESH in html  # the button


def test_refresh_now_confirms_then_refreshes_on_post(client):
    staff_in("superviseur", client=client)
    DossierFactory(premises__district="Saknia")
    assert rows(f"SELECT count(*) AS n FROM {PREMISES.table}")[0]["n"] == 0  # noqa: S608
    page = client.get(REFRESH)
    assert page.status_code == 200 and 'data-testid="reportview-refresh-form"' in page.content.decode()
    assert rows(f"SELECT count(*) AS n FROM {PREMISES.table}")[0]["n"] == 0  # noqa: S608 - GET writes nothing
    before = ReportView.objects.get(name="test_admin_premises").refreshed_at
    response = client.post(REFRESH, follow=True)
    assert response.status_code == 200
    assert "Rafraîchissement demandé" in response.content.decode()
    # the request only made the job due: the worker's scheduler does the refresh
    assert rows(f"SELECT count(*) AS n FROM {PREMISES.table}")[0]["n"] == 0  # noqa: S608
    assert "reports_refresh" in jobs_run_due(now=clock.now(), worker="test")
    assert rows(f"SELECT count(*) AS n FROM {PREMISES.table}")[0]["n"] == 1  # noqa: S608
    row = ReportView.objects.get(name="test_admin_premises")
    assert row.refreshed_at is not None and (before is None or row.refreshed_at > before) and row.row_count == 1


def test_direction_reads_but_cannot_refresh_nor_send(client):
    staff_in("direction", client=client)
    assert client.get(LIST).status_code == 200
    assert client.get(MONTHLY_LIST).status_code == 200
    html = client.get(LIST).content.decode()
    assert REFRESH not in html
    assert client.post(REFRESH).status_code == 403
    assert client.post(SEND).status_code == 403
    assert not Message.objects.exists()


def test_other_staff_see_nothing(client):
    staff_in("accueil", client=client)
    assert client.get(LIST).status_code == 403
    assert client.post(REFRESH).status_code == 403
    assert client.get(MONTHLY_LIST).status_code == 403


def test_read_only(client):
    staff_in("superviseur", client=client)
    row = ReportView.objects.get(name="test_admin_premises")
    change = reverse("admin:rak_reports_reportview_change", args=[row.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"name": "x"}).status_code == 403
    assert client.get(reverse("admin:rak_reports_reportview_add")).status_code == 403
    assert client.get(reverse("admin:rak_reports_reportview_delete", args=[row.pk])).status_code == 403


def test_send_monthly_report_now(client, monkeypatch, run_worker):
    supervisor = staff_in("superviseur", client=client)
    member = staff_in("direction", email="directeur@rak.example")
    monkeypatch.setattr(monthly, "monthly_pdf", lambda **kwargs: b"%PDF-1.7 test")  # the PDF: test_monthly_report
    page = client.get(SEND)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="monthly-send-form"' in html and member.email in html
    response = client.post(SEND, follow=True)
    assert response.status_code == 200
    assert "lancé" in response.content.decode()
    assert not MonthlyReport.objects.exists()  # a worker builds and sends it, not the request
    run_worker()
    record = MonthlyReport.objects.get()
    assert record.sent_by == supervisor and record.recipients == [member.email]
    run_worker()
    [email] = mail.outbox
    assert email.to == [member.email] and [name for name, _c, _t in email.attachments] == [
        f"rapport-mensuel-{record.month:%Y-%m}.xlsx",
        f"rapport-mensuel-{record.month:%Y-%m}.pdf",
    ]
    listing = client.get(MONTHLY_LIST).content.decode()
    assert member.email in listing and supervisor.username in listing
