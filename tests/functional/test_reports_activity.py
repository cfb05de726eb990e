"""The « Demandes » and « Réclamations » reports in a real browser (issue 14): a « direction » user
signs in to the back office, opens each report, narrows it to one agency with the filters, reads
the figures (checked against the requests and complaints made here) and downloads the XLSX and the
PDF of the filtered page."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from rak_base import clock
from rak_reports.matviews import matviews_refresh_all
from rak_reports.query import add_months
from rak_requests.complaint_models import Complaint, ComplaintCategory
from rak_requests.complaints import services as complaints
from rak_requests.engine import request_transition
from rak_requests.models import RequestEvent, ServiceRequest
from tests.factories import TEST_PASSWORD, AgencyFactory, PremisesFactory, StaffFactory, customer_with_account, staff_in
from tests.request_factories import ServiceRequestFactory, subscription_type, termination_type

pytestmark = pytest.mark.functional


def _file(request_type, customer, filed_at, *, agent=None) -> ServiceRequest:
    first = request_type.phases.order_by("position").first()
    request = ServiceRequestFactory(
        request_type=request_type,
        customer=customer,
        filed_at=filed_at,
        phase=first,
        assigned_to=agent,
        premises=PremisesFactory(district="Saknia"),
    )
    RequestEvent.objects.create(
        request=request, at=filed_at, kind=RequestEvent.Kind.FILED, actor_kind="CUSTOMER", to_phase=first
    )
    return request


def _complaint(code, customer, user, filed_at) -> Complaint:
    filing = complaints.ComplaintFiling(
        category=ComplaintCategory.objects.get(code=code), name="Client", phone="0612345678", message="Bonjour."
    )
    return complaints.complaint_file(filing=filing, customer=customer, user=user, now=filed_at)


def _sign_in(page) -> None:
    staff_in("direction", username="direction1", first_name="Nadia", last_name="Tazi")
    page.goto("/backoffice/login/")
    page.fill("input[name=username]", "direction1")
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _download(page, test_id: str) -> bytes:
    with page.expect_download() as download:
        page.get_by_test_id(test_id).click()
    return Path(download.value.path()).read_bytes()


def _summary(xlsx: bytes) -> dict:
    wb = load_workbook(io.BytesIO(xlsx))
    return {r[0]: r[1] for r in wb["Résumé"].iter_rows(values_only=True) if r and r[0]}


def test_direction_reads_requests_and_complaints_reports_with_filters(page, live_server):
    now = clock.now()
    centre, nord = AgencyFactory(name="Agence Centre"), AgencyFactory(name="Agence Nord")
    amina, amina_user = customer_with_account(phone="+212611111111", agency=centre)
    omar, omar_user = customer_with_account(phone="+212622222222", agency=nord)
    agent = StaffFactory(first_name="Salma", last_name="Idrissi")
    sub, term = subscription_type(), termination_type()

    late = _file(sub, amina, now - timedelta(days=10), agent=agent)  # first phase (3 days): overdue
    done = _file(term, amina, now - timedelta(days=6))
    request_transition(
        request_id=done.pk,
        now=now - timedelta(days=4),
        event_kind=RequestEvent.Kind.ACCEPTED,
        status=ServiceRequest.Status.ACCEPTEE,
        close=True,
    )
    _file(sub, omar, now - timedelta(days=1))  # another agency

    answered = _complaint("facturation", amina, amina_user, now - timedelta(days=5))
    complaints.complaint_reply(
        complaint_id=answered.pk, staff_user=agent, body="Nous vérifions.", now=now - timedelta(days=5, hours=-2)
    )
    complaints.complaint_close(
        complaint_id=answered.pk, staff_user=agent, result="Corrigée.", now=now - timedelta(days=3)
    )
    complaints.complaint_rate(complaint_id=answered.pk, customer=amina, user=amina_user, rating=4, now=now)
    _complaint("coupure", omar, omar_user, now - timedelta(days=1))
    matviews_refresh_all(now=clock.now())

    month = timezone.localdate(now).replace(day=1)
    period = f"du={add_months(month, -2):%Y-%m}&au={month:%Y-%m}"
    _sign_in(page)

    # « Demandes »: every agency, then « Agence Centre » through the filters
    page.goto(f"/backoffice/rapports/demandes/?{period}")
    expect(page.get_by_test_id("kpi-filed").get_by_test_id("kpi-value")).to_have_text("3")
    page.get_by_label("Agence").select_option(label="Agence Centre")
    page.get_by_test_id("report-apply").click()
    expect(page).to_have_url(re.compile(rf"agence={centre.pk}"))
    expect(page.get_by_test_id("kpi-filed").get_by_test_id("kpi-value")).to_have_text("2")
    expect(page.get_by_test_id("kpi-open").get_by_test_id("kpi-value")).to_have_text("1")
    expect(page.get_by_test_id("kpi-overdue").get_by_test_id("kpi-value")).to_have_text("1")
    by_agent = page.get_by_test_id("table-by_agent")
    expect(by_agent.get_by_role("row", name="Salma Idrissi")).to_contain_text("1")
    expect(page.get_by_test_id("table-by_phase")).to_contain_text(late.phase.name)
    expect(page.get_by_test_id("chart-by_type")).to_be_visible()
    summary = _summary(_download(page, "export-xlsx"))
    assert summary["Demandes déposées"] == 2 and summary["En dépassement de délai"] == 1
    assert summary["Agence"] == "Agence Centre"
    assert _download(page, "export-pdf").startswith(b"%PDF")

    # « Réclamations », narrowed the same way
    page.goto(f"/backoffice/rapports/reclamations/?{period}")
    expect(page.get_by_test_id("kpi-filed").get_by_test_id("kpi-value")).to_have_text("2")
    page.get_by_label("Agence").select_option(label="Agence Centre")
    page.get_by_test_id("report-apply").click()
    expect(page.get_by_test_id("kpi-filed").get_by_test_id("kpi-value")).to_have_text("1")
    expect(page.get_by_test_id("kpi-open").get_by_test_id("kpi-value")).to_have_text("0")
    expect(page.get_by_test_id("kpi-answer_hours").get_by_test_id("kpi-value")).to_have_text("2,00")
    expect(page.get_by_test_id("kpi-rating_avg").get_by_test_id("kpi-value")).to_have_text("4,00")
    expect(page.get_by_test_id("table-by_category")).to_contain_text("Facturation")
    summary = _summary(_download(page, "export-xlsx"))
    assert summary["Réclamations déposées"] == 1 and summary["Note moyenne des clients"] == 4
    assert _download(page, "export-pdf").startswith(b"%PDF")
