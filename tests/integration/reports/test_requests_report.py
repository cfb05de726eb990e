"""« Demandes » (rak_reports.reports.requests): figures checked against the requests and their phase
history (the engine's own transitions), each filter narrowing, the engine's notion of « en retard »,
the XLSX equal to the page, a bounded number of queries."""

from __future__ import annotations

import io
import statistics
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from rak_reports.matviews import matviews_refresh_all
from rak_reports.query import ReportFilters
from rak_reports.reports import report_get
from rak_reports.reports.requests import median_of_histogram
from rak_requests.engine import request_transition
from rak_requests.models import RequestEvent, ServiceRequest
from rak_requests.selectors import overdue_requests
from tests.factories import AgencyFactory, CompanyFactory, CustomerFactory, PremisesFactory, StaffFactory, staff_in
from tests.request_factories import ServiceRequestFactory, subscription_type, termination_type

CASABLANCA = ZoneInfo("Africa/Casablanca")
PERIOD = ReportFilters(month_from=date(2026, 1, 1), month_to=date(2026, 3, 1))

pytestmark = pytest.mark.django_db


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=CASABLANCA)


def _file(request_type, customer, filed_at, *, premises=None, agent=None) -> ServiceRequest:
    """A request filed as ``filing`` does: in the type's first phase, with its FILED event."""
    first = request_type.phases.order_by("position").first()
    request = ServiceRequestFactory(
        request_type=request_type,
        customer=customer,
        filed_at=filed_at,
        phase=first,
        premises=premises,
        assigned_to=agent,
    )
    RequestEvent.objects.create(
        request=request, at=filed_at, kind=RequestEvent.Kind.FILED, actor_kind="CUSTOMER", to_phase=first
    )
    return request


def _advance(request, when) -> None:
    following = request.request_type.phases.filter(position__gt=request.phase.position).order_by("position").first()
    request_transition(request_id=request.pk, now=when, event_kind=RequestEvent.Kind.PHASE, to_phase=following)
    request.refresh_from_db()


def _close(request, when, status=ServiceRequest.Status.REJETEE) -> None:
    kind = RequestEvent.Kind.REJECTED if status == ServiceRequest.Status.REJETEE else RequestEvent.Kind.ACCEPTED
    request_transition(request_id=request.pk, now=when, event_kind=kind, status=status, close=True)
    request.refresh_from_db()


@pytest.fixture
def data(now):
    """Two agencies, two districts, a company; requests moved through the engine."""
    centre, nord = AgencyFactory(name="Agence Centre"), AgencyFactory(name="Agence Nord")
    saknia, bir_rami = PremisesFactory(district="Saknia"), PremisesFactory(district="Bir Rami")
    amina = CustomerFactory(agency=centre)
    omar = CustomerFactory(agency=nord)
    sebou = CompanyFactory(agency=nord)
    agent = StaffFactory(first_name="Salma", last_name="Idrissi")
    sub, term = subscription_type(), termination_type()
    r1 = _file(sub, amina, at("2026-01-05"), premises=saknia)
    _advance(r1, at("2026-01-07"))  # 2 days in « Recevabilité administrative »
    _advance(r1, at("2026-01-10", 21))  # 3.5 days in « Recevabilité technique »
    r2 = _file(sub, omar, at("2026-02-10"), premises=bir_rami, agent=agent)
    _advance(r2, at("2026-02-16", 15))  # 6.25 days (late: the phase's SLA is 3 days)
    r3 = _file(term, amina, at("2026-02-20"), premises=saknia)
    _close(r3, at("2026-02-23", 21))  # rejected after 3.5 days
    r4 = _file(sub, sebou, at("2026-02-27"), premises=bir_rami, agent=agent)  # due 2 March 9:00: late at 10:00
    r5 = _file(sub, omar, at("2026-03-01"), premises=bir_rami)  # due 6 March
    r6 = _file(term, amina, at("2025-06-02"), premises=saknia)  # before the period
    r7 = _file(term, omar, at("2026-01-20"), premises=bir_rami)
    _close(r7, at("2026-01-21"), status=ServiceRequest.Status.ACCEPTEE)  # accepted after 1 day
    matviews_refresh_all(now=now)
    return {
        "agencies": (centre, nord),
        "agent": agent,
        "requests": (r1, r2, r3, r4, r5, r6, r7),
    }


def build(now, **kwargs):
    from dataclasses import replace

    return report_get("demandes").build(replace(PERIOD, **kwargs), now=now)


def kpis(result) -> dict:
    return {k.key: k.value for k in result.kpis}


def table(result, key) -> list[dict]:
    return next(t for t in result.tables if t.key == key).rows


def _phase_durations(requests) -> dict[tuple[str, str], list[Decimal]]:
    """Time in each ended phase, walked from the events (the reference the aggregate must match)."""
    out: dict[tuple[str, str], list[Decimal]] = {}
    for request in requests:
        starts = [e for e in request.events.order_by("at", "id") if e.to_phase_id]
        for i, event in enumerate(starts):
            end = starts[i + 1].at if i + 1 < len(starts) else request.processed_at
            if end is None:
                continue
            days = Decimal((end - event.at).total_seconds()) / 86400
            out.setdefault((request.request_type.name, event.to_phase.name), []).append(days)
    return out


def test_figures_match_the_requests(data, now):
    result = build(now)
    in_period = ServiceRequest.objects.filter(filed_at__gte=at("2026-01-01", 0), filed_at__lt=at("2026-04-01", 0))
    figures = kpis(result)
    assert figures["filed"] == in_period.count() == 6
    assert figures["open"] == in_period.filter(status__in=["EN_COURS", "COMPLEMENT_DEMANDE"]).count() == 4
    # the engine's own notion of overdue (r1 in « Signature », r2, and r4 due an hour ago)
    assert figures["overdue"] == overdue_requests(now=now).filter(pk__in=in_period).count() == 3
    assert figures["decided_days"] == Decimal("2.3")  # (3.5 + 1) / 2
    assert figures["accepted_share"] == Decimal("50.0")

    by_type = {r["type"]: r for r in table(result, "by_type")}
    sub = by_type["Demande d'abonnement"]
    assert (sub["filed"], sub["open"], sub["overdue"], sub["accepted"]) == (4, 4, 3, 0)
    term = next(r for name, r in by_type.items() if name != "Demande d'abonnement")
    assert (term["filed"], term["rejected"], term["accepted"], term["open"]) == (2, 1, 1, 0)

    phases = {(r["type"], r["phase"]): r for r in table(result, "by_phase")}
    expected = _phase_durations(in_period)
    assert expected  # the reference walked something
    for key, durations in expected.items():
        row = phases[key]
        assert row["passages"] == len(durations)
        assert row["avg_days"] == (sum(durations) / len(durations)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        median = statistics.median([int(d) for d in durations])
        assert row["median_days"] == Decimal(median).quantize(Decimal("0.1"))
    admin_phase = phases[("Demande d'abonnement", "Recevabilité administrative")]
    assert admin_phase["passages"] == 2 and admin_phase["late"] == 1  # r2 took 6.25 days of 5
    assert admin_phase["open"] == 2 and admin_phase["overdue"] == 1  # r4 (late) and r5
    signature = phases[("Demande d'abonnement", "Signature du contrat")]
    assert signature["open"] == 1 and signature["overdue"] == 1


def test_by_agency_and_agent(data, now):
    result = build(now)
    agencies = {r["name"]: r for r in table(result, "by_agency")}
    assert agencies["Agence Centre"]["filed"] == 2  # r1, r3 (r6 before the period)
    assert agencies["Agence Nord"]["filed"] == 4
    assert agencies["Agence Nord"]["overdue"] == 2 and agencies["Agence Centre"]["overdue"] == 1
    agents = {r["name"]: r for r in table(result, "by_agent")}
    assert agents["Salma Idrissi"]["filed"] == 2 and agents["Salma Idrissi"]["overdue"] == 2
    assert agents["(non affectées)"]["filed"] == 4


def test_each_filter_narrows(data, now):
    centre, nord = data["agencies"]
    assert kpis(build(now, district="Saknia"))["filed"] == 2
    assert kpis(build(now, district="Bir Rami"))["filed"] == 4
    assert kpis(build(now, agency_id=centre.pk))["filed"] == 2
    assert kpis(build(now, agency_id=nord.pk))["overdue"] == 2
    assert kpis(build(now, customer_kind="ENTREPRISE"))["filed"] == 1
    assert kpis(build(now, month_from=date(2026, 3, 1)))["filed"] == 1
    everything = build(now, month_from=date(2025, 4, 1))
    assert kpis(everything)["filed"] == 7
    # a later page (the clock moved on) sees r5 overdue too, from the same aggregates
    assert kpis(build(now + timedelta(days=5)))["overdue"] == 4


def test_open_now_follows_the_engine_after_a_refresh(data, now):
    r1 = data["requests"][0]
    _advance(r1, now)  # to « Paiement des frais », a fresh deadline
    matviews_refresh_all(now=now)
    phases = {(r["type"], r["phase"]): r for r in table(build(now), "by_phase")}
    assert phases[("Demande d'abonnement", "Paiement des frais")]["open"] == 1
    assert phases[("Demande d'abonnement", "Paiement des frais")]["overdue"] == 0
    assert phases[("Demande d'abonnement", "Signature du contrat")]["passages"] == 1
    in_period = overdue_requests(now=now).filter(filed_at__gte=at("2026-01-01", 0))
    assert kpis(build(now))["overdue"] == in_period.count() == 2


def test_median_of_histogram():
    assert median_of_histogram({}) is None
    assert median_of_histogram({2: 1}) == 2
    assert median_of_histogram({1: 1, 3: 1}) == 2
    assert median_of_histogram({0: 3, 10: 2}) == 0
    assert median_of_histogram({1: 2, 4: 2}) == Decimal("2.5")


def test_page_xlsx_pdf_and_queries(data, client, now, django_assert_max_num_queries, settings):
    staff_in("direction", client=client)
    query = {"du": "2026-01", "au": "2026-03", "quartier": "Bir Rami"}
    url = reverse("reports:report", args=["demandes"])
    with django_assert_max_num_queries(24):
        page = client.get(url, query)
    assert page.status_code == 200
    html = page.content.decode()
    for key in ("kpi-filed", "kpi-overdue", "chart-by_type", "chart-phase_days", "table-by_phase", "table-by_agent"):
        assert f'data-testid="{key}"' in html
    assert "Salma Idrissi" in html
    xlsx = client.get(reverse("reports:report_xlsx", args=["demandes"]), query)
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    from rak_base import clock

    result = report_get("demandes").build(replace_filters(district="Bir Rami"), now=clock.now())
    sheet = wb["Par type de demande"]
    header = [c.value for c in sheet[1]]
    assert header[0] == "Type"
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    for row in table(result, "by_type"):
        assert rows[row["type"]][1] == row["filed"]
        assert rows[row["type"]][5] == row["open"]
    summary = {r[0]: r[1] for r in wb["Résumé"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Demandes déposées"] == kpis(result)["filed"] == 4
    pdf = client.get(reverse("reports:report_pdf", args=["demandes"]), query)
    assert pdf.content.startswith(b"%PDF")


def replace_filters(**kwargs):
    from dataclasses import replace

    return replace(PERIOD, **kwargs)


def test_report_lists_its_filters(client):
    staff_in("direction", client=client)
    html = client.get(reverse("reports:report", args=["demandes"])).content.decode()
    assert 'name="quartier"' in html and 'name="agence"' in html
    assert 'name="metier"' not in html  # a request may be about several services: not offered


def test_queries_do_not_grow_with_the_data(data, client, now):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff_in("direction", client=client)
    url = reverse("reports:report", args=["demandes"])
    query = {"du": "2026-01", "au": "2026-03"}
    with CaptureQueriesContext(connection) as before:
        client.get(url, query)
    sub = subscription_type()
    for n in range(4):  # more agencies, agents, districts, customers
        agency = AgencyFactory(name=f"Agence {n}")
        _file(
            sub,
            CustomerFactory(agency=agency),
            at("2026-02-02"),
            premises=PremisesFactory(district=f"Quartier {n}"),
            agent=StaffFactory(),
        )
    matviews_refresh_all(now=now)
    with CaptureQueriesContext(connection) as after:
        page = client.get(url, query)
    assert "Agence 3" in page.content.decode()
    assert len(after) == len(before)
