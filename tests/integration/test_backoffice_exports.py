"""« Exporter (XLSX) » on every back-office list (rak_base.admin_exports): the rows of the list as
filtered, searched and ordered on the page, typed; the view permission required; a cap; hostile
query strings never an error 500; secrets never exported."""

from __future__ import annotations

import datetime
import io
import logging

import pytest
from django.contrib import admin
from django.db.models import F
from django.urls import reverse
from openpyxl import load_workbook

from rak_base.admin_exports import EXCLUDED_MODELS, model_exportable
from rak_base.models import Message, OneTimeCode
from rak_billing.models import Bill
from rak_customer.models import Customer
from tests.billing_factories import bill_create
from tests.factories import CompanyFactory, CustomerFactory, DossierFactory, StaffFactory, staff_in

pytestmark = pytest.mark.django_db


def export_url(model, query: str = "") -> str:
    opts = model._meta
    url = reverse("admin:rak_export_xlsx", args=[opts.app_label, opts.model_name])
    return f"{url}?{query}" if query else url


def changelist_url(model, query: str = "") -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{query}" if query else url


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


@pytest.fixture
def superuser(client):
    user = StaffFactory(is_superuser=True)
    client.force_login(user)
    return user


def test_filtered_customer_list_exports_the_listed_rows(client, superuser):
    people = CustomerFactory.create_batch(3)
    companies = CompanyFactory.create_batch(2)
    query = "kind__exact=ENTREPRISE"
    page = client.get(changelist_url(Customer, query))
    listed = [customer.code for customer in page.context["cl"].result_list]
    assert sorted(listed) == sorted(company.code for company in companies)
    assert 'data-testid="export-xlsx"' in page.content.decode()
    assert export_url(Customer) in page.content.decode()  # the button carries the list's query string
    rows = sheet_rows(client.get(export_url(Customer, query)))
    assert rows[0][:3] == ("code client", "nom", "type")
    assert [row[0] for row in rows[1:]] == listed  # same rows, same order
    assert {row[2] for row in rows[1:]} == {"Entreprise"}  # the choice's label
    assert not {person.code for person in people} & {row[0] for row in rows[1:]}


def test_search_and_ordering_follow_the_query_string(client, superuser):
    customers = CustomerFactory.create_batch(4)
    target = customers[2]
    rows = sheet_rows(client.get(export_url(Customer, f"q={target.code}")))
    assert [row[0] for row in rows[1:]] == [target.code]
    rows = sheet_rows(client.get(export_url(Customer, "o=-1")))
    codes = [row[0] for row in rows[1:]]
    assert codes == sorted(codes, reverse=True) and len(codes) == 4


def test_bill_list_values_are_typed(client, superuser):
    dossier = DossierFactory()
    bill_create(dossier=dossier, kind="WORKS", period_start=None, total_ht="100.00")
    bill_create(dossier=dossier)
    page = client.get(changelist_url(Bill, "kind__exact=WORKS"))
    assert page.context["cl"].result_count == 1
    rows = sheet_rows(client.get(export_url(Bill, "kind__exact=WORKS")))
    header, values = rows[0], rows[1:]
    assert len(values) == 1
    row = dict(zip(header, values[0], strict=True))
    assert row["type"] == "Travaux / devis"  # the choice's label, as shown
    assert isinstance(row["date d'échéance"], datetime.datetime | datetime.date)
    assert row["estimée"] is False


def test_permission_required(client):
    CustomerFactory()
    client.force_login(StaffFactory())  # staff, no permission
    assert client.get(export_url(Customer)).status_code == 403
    accueil = staff_in("accueil", client=client)
    assert accueil.has_perm("rak_customer.view_customer")
    assert client.get(export_url(Customer)).status_code == 200
    client.logout()
    assert client.get(export_url(Customer)).status_code == 302  # to the back office's login


def test_cap_refuses_with_a_message(client, superuser, settings):
    settings.RAK_EXPORT_MAX_ROWS = 2
    CustomerFactory.create_batch(3)
    response = client.get(export_url(Customer), follow=True)
    assert response.redirect_chain[-1][0].startswith(changelist_url(Customer))
    assert "affinez les filtres" in response.content.decode()
    settings.RAK_EXPORT_MAX_ROWS = 3
    assert len(sheet_rows(client.get(export_url(Customer)))) == 4


def test_hostile_query_strings_never_fail(client, superuser):
    CustomerFactory()
    bill_create(dossier=DossierFactory())
    for model, query in [
        (Customer, "kind__exact=%3Cscript%3E"),
        (Customer, "o=abc.-99.x"),
        (Customer, "p=-1"),
        (Customer, "id__gt=abc"),
        (Customer, "quartier=%27%3B%20drop%20table"),
        (Customer, "agency__id__exact=zz"),
        (Bill, "customer__user__password__startswith=pbkdf2"),
        (Bill, "due_date__gte=2026-99-99"),
        (Bill, "q=" + "x" * 3000),
        (Message, "status__exact=NOPE&channel__exact=%00"),
    ]:
        response = client.get(export_url(model, query))
        assert response.status_code in {200, 302, 400}, (query, response.status_code)
    assert client.get(reverse("admin:rak_export_xlsx", args=["rak_base", "nope"])).status_code == 404
    assert client.get(reverse("admin:rak_export_xlsx", args=["auth", "permission"])).status_code == 404


def test_secrets_are_never_exported(client, superuser):
    # the OTP codes' list has no export at all
    assert not model_exportable(admin.site._registry[OneTimeCode])
    assert "rak_base.onetimecode" in EXCLUDED_MODELS
    assert client.get(export_url(OneTimeCode)).status_code == 404
    page = client.get(changelist_url(OneTimeCode))
    assert 'data-testid="export-xlsx"' not in page.content.decode()
    # a confidential message is masked as on the page, and no password hash in the users' list
    Message.objects.create(channel="SMS", recipient="+212612345678", kind="otp", body="Code 987654", sensitive=True)
    rows = sheet_rows(client.get(export_url(Message)))
    assert "987654" not in repr(rows)
    staff = type(superuser)
    rows = sheet_rows(client.get(export_url(staff)))
    assert "pbkdf2" not in repr(rows)
    assert all("mot de passe" != str(label).lower() for label in rows[0])


def test_every_list_has_the_button(client, superuser):
    for model, model_admin in admin.site._registry.items():
        if not model_exportable(model_admin):
            continue
        opts = model._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if response.status_code != 200:  # a list that redirects to its single record (settings)
            continue
        assert 'data-testid="export-xlsx"' in response.content.decode(), opts.label


def test_every_list_exports_without_error(client, superuser):
    for model, model_admin in admin.site._registry.items():
        if not model_exportable(model_admin):
            continue
        response = client.get(export_url(model))
        assert response.status_code in {200, 302}, model._meta.label


def test_export_is_logged(client, superuser, caplog):
    CompanyFactory()
    with caplog.at_level(logging.INFO, logger="rak_base.admin_exports"):
        sheet_rows(client.get(export_url(Customer, "kind__exact=ENTREPRISE")))
    record = next(r for r in caplog.records if r.name == "rak_base.admin_exports")
    text = record.getMessage()
    assert superuser.username in text and "rak_customer.customer" in text and "ENTREPRISE" in text and "rows=1" in text


def test_formula_like_text_stays_text(client, superuser):
    company = CompanyFactory(company_name='=HYPERLINK("http://evil.example","x")')
    response = client.get(export_url(Customer, f"q={company.code}"))
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [
        cell for row in workbook.worksheets[0].iter_rows(min_row=2) for cell in row if "HYPERLINK" in str(cell.value)
    ]
    assert cells and all(cell.data_type == "s" for cell in cells)


def header_cell(model, obj):
    """The first column of a list for ``obj``, as the export writes it."""
    from rak_base.admin_exports import column_value

    model_admin = admin.site._registry[model]
    name = next(n for n in model_admin.list_display if n != "action_checkbox")
    return column_value(name, obj, model_admin)


def test_filtered_queues_export_the_rows_their_page_lists(client, superuser):
    from rak_requests.complaint_models import Complaint
    from rak_requests.models import ServiceRequest
    from tests.integration.test_customer_timeline import customer_history
    from tests.request_factories import ServiceRequestFactory

    customer_history()
    customer_history(phone="+212612000001", tag="B")
    ServiceRequestFactory(status=ServiceRequest.Status.ANNULEE)
    bill_create(dossier=DossierFactory(), kind="WORKS", period_start=None)
    Complaint.objects.filter(number__startswith="RCB").update(status="CLOSED", closed_at=F("filed_at"), result="Fait")
    for model, query in [
        (ServiceRequest, "open=1"),
        (ServiceRequest, "status__exact=ANNULEE"),
        (Complaint, "etat=ouvertes"),
        (Complaint, "status__exact=CLOSED"),
        (Bill, "kind__exact=CONSUMPTION&o=1"),
    ]:
        changelist = client.get(changelist_url(model, query)).context["cl"]
        listed = list(changelist.result_list)
        rows = sheet_rows(client.get(export_url(model, query)))[1:]
        assert 0 < len(rows) == changelist.result_count == len(listed) < model.objects.count(), (model, query)
        assert [row[0] for row in rows] == [header_cell(model, obj) for obj in listed], (model, query)
