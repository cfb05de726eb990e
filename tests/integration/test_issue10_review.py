"""Issue 10 code review: the defects found in the diff, each with the test that failed before its fix."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.functional import Promise

from rak_base.models import Message
from rak_customer.models import Service
from rak_requests.models import ServiceRequest
from tests.factories import DossierFactory, customer_with_account
from tests.request_factories import pdf_upload

ROOT = Path(__file__).resolve().parents[2]
COLLECTIVE = reverse("portal:kind_service", args=["compteurs-collectifs"])


# --- security: filing through the generic flow without OTP sends an SMS: throttled -----------------


@pytest.mark.django_db
def test_filing_without_otp_is_throttled_like_every_sms_sending_post(client, settings):
    """« Demande de bénéficier du système tarification des compteurs collectifs » has no OTP step,
    yet its filing queues the acknowledgement SMS: like « Demande de remboursement », the filing
    counts against the SMS limits (refused with the French message, the typed choice kept)."""
    settings.SMS_PER_SESSION_HOURLY = 1
    customer, user = customer_with_account(phone="+212612300071", email="amal@example.ma")
    DossierFactory(customer=customer, service=Service.EAU, number="EA00000971")
    DossierFactory(customer=customer, service=Service.EAU, number="EA00000972")
    client.force_login(user)

    def submit(number: str):
        return client.post(
            COLLECTIVE,
            {
                "action": "submit",
                "dossiers": [number],
                "doc_demande_signee": pdf_upload("demande.pdf"),
                "doc_attestation_administrative": pdf_upload("attestation.pdf"),
            },
        )

    assert submit("EA00000971").status_code == 302
    sms_before = Message.objects.filter(channel=Message.Channel.SMS).count()

    refused = submit("EA00000972")

    assert refused.status_code == 400
    assert "Vous avez demandé trop de SMS" in refused.content.decode().replace("&#x27;", "'")
    assert ServiceRequest.objects.filter(customer=customer).count() == 1
    assert Message.objects.filter(channel=Message.Channel.SMS).count() == sms_before


# --- gettext: the strings issue 10 added are translatable ----------------------------------------

GETTEXT = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext", "ngettext_lazy"}
FRENCH = re.compile(r"[àâçéèêëîïôûùüœ«]")
# proper nouns, not sentences: the banks' names of the RIB check and the default city
NOT_TEXT = {"Crédit du Maroc", "Société Générale Maroc", "Crédit Agricole du Maroc", "Trésorerie Générale du Royaume"}
NOT_TEXT |= {"Kénitra"}

# the Python modules issue 10 created (git diff --name-status ee4746e..HEAD, « A »)
ISSUE10_MODULES = [
    "addons/rak_base/rib.py",
    "addons/rak_billing/admin/direct_debit.py",
    "addons/rak_billing/admin/refunds.py",
    "addons/rak_billing/closing.py",
    "addons/rak_billing/direct_debit.py",
    "addons/rak_billing/direct_debit_models.py",
    "addons/rak_billing/provisions.py",
    "addons/rak_billing/refunds.py",
    "addons/rak_customer/dossier_history.py",
    "addons/rak_customer/dossiers.py",
    "addons/rak_portal/templatetags/rak_termination.py",
    "addons/rak_portal/views/attestations.py",
    "addons/rak_portal/views/direct_debit.py",
    "addons/rak_portal/views/kind_services.py",
    "addons/rak_portal/views/provisions.py",
    "addons/rak_portal/views/refunds.py",
    "addons/rak_portal/views/termination.py",
    "addons/rak_requests/admin_actions.py",
    "addons/rak_requests/admin_counter.py",
    "addons/rak_requests/flow.py",
    "addons/rak_requests/kinds/attestation.py",
    "addons/rak_requests/kinds/base.py",
    "addons/rak_requests/kinds/collective_meter.py",
    "addons/rak_requests/kinds/connection.py",
    "addons/rak_requests/kinds/direct_debit.py",
    "addons/rak_requests/kinds/refund.py",
    "addons/rak_requests/kinds/subscription.py",
    "addons/rak_requests/kinds/termination.py",
    "addons/rak_requests/seeding.py",
    "addons/rak_requests/termination.py",
    "addons/rak_requests/tracking.py",
    "addons/rak_requests/uploads.py",
]


def untranslated(tree: ast.AST, text: re.Pattern = FRENCH) -> list[str]:
    """String literals of ``tree`` matching ``text`` (default: French) outside a gettext call
    (docstrings left out)."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    docstrings = {
        node.body[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or node in docstrings:
            continue
        if not text.search(node.value) or node.value in NOT_TEXT:
            continue
        parent = parents.get(node)
        while parent is not None and not (
            isinstance(parent, ast.Call) and getattr(parent.func, "id", getattr(parent.func, "attr", "")) in GETTEXT
        ):
            parent = parents.get(parent)
        if parent is None:
            found.append(f"{node.lineno}: {node.value[:80]}")
    return found


@pytest.mark.parametrize("path", ISSUE10_MODULES)
def test_every_french_string_of_the_new_modules_goes_through_gettext(path):
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    assert untranslated(tree) == []


def test_the_installation_reading_note_goes_through_gettext():
    tree = ast.parse((ROOT / "addons/rak_billing/readings/services.py").read_text(encoding="utf-8"))
    function = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "reading_installation_record"
    )
    assert untranslated(function, re.compile(r"[A-Za-z]+ [A-Za-z]+")) == []


def test_the_complement_forms_file_label_is_translatable():
    from rak_portal.views.requests import ComplementAnswerForm

    label = ComplementAnswerForm.base_fields["file"].label
    assert isinstance(label, Promise)
    assert str(label) == "Fichier"


# --- query counts: the back office's list of refunds ---------------------------------------------


def _refunds(count: int, *, offset: int) -> None:
    import datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from rak_billing.api import refund_cancel, refund_record
    from rak_billing.ledger import payment_record
    from rak_billing.models import Payment, Refund
    from tests.factories import StaffFactory

    now = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=ZoneInfo("Africa/Casablanca"))
    for index in range(offset, offset + count):
        customer, _user = customer_with_account(phone=f"+2126124000{index:02d}")
        payment_record(customer=customer, amount=Decimal("50.00"), method=Payment.Method.CASH, paid_at=now)
        refund = refund_record(
            customer=customer,
            method=Refund.Method.ESPECES,
            amount=Decimal("20.00"),
            paid_at=now,
            now=now,
            recorded_by=StaffFactory(),
            external_id=f"REVIEW-{index}",
        )
        if index % 2:
            refund_cancel(refund=refund, reason="Chèque non encaissé", by=StaffFactory(), at=now)


@pytest.mark.django_db
def test_the_back_office_list_of_refunds_costs_the_same_queries_for_2_or_8_rows(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import staff_in

    staff_in("recouvrement", client=client)
    url = reverse("admin:rak_billing_refund_changelist")
    _refunds(2, offset=0)
    client.get(url)  # warm the caches (permissions, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _refunds(6, offset=2)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count("20,00") >= 8
    assert len(many) == len(few) <= 20
