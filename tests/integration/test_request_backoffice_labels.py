"""What staff read on the requests' back-office screens is French words, never raw values: a walk
through every request screen (queues, a request's page open and closed, quotes, contracts, calls,
installation orders, the low-code setup) as each staff group that may open it, asserting that no
tuple or list repr, no raw JSON, no constraint name, no Python literal and none of the English
words once seen there appears. A closed request shows how and when it ended and by whom (never
« En cours : aucune action »), and a constraint violation reads as a French sentence."""

from __future__ import annotations

import html
import importlib
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import NoReverseMatch, reverse

from rak_billing.ledger import payment_record
from rak_billing.models import Payment
from rak_customer.groups import STAFF_GROUPS
from rak_requests import lifecycle
from rak_requests.models import (
    CallRequest,
    Contract,
    InstallationOrder,
    Phase,
    Quote,
    RequestType,
    RequiredDocument,
    ServiceRequest,
)
from rak_requests.quotes import QuoteLine, quote_accept, quote_issue
from rak_requests.services import request_reject
from tests.factories import StaffFactory, customer_with_account
from tests.integration.test_backoffice import changeform_data
from tests.integration.test_connection_works import connection
from tests.integration.test_lifecycle import NOW, make_request, sign_all, to_signature
from tests.request_factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db

D = Decimal
CONSTRAINT_NAMES = sorted(
    {
        constraint.name
        for model in apps.get_app_config("rak_requests").get_models()
        for constraint in model._meta.constraints
    }
)
# raw values and leftovers that must never reach a staff member's eyes
LEAKS = [
    (re.compile(r"\(\s*['\"]"), "tuple repr"),
    (re.compile(r"\[\s*['\"{]"), "list repr"),
    (re.compile(r"\{\s*['\"]"), "JSON / dict"),
    (re.compile(r"\b(None|True|False)\b"), "Python literal"),
    (re.compile(r"IntegrityError|Traceback|violates|duplicate key"), "database error"),
    (re.compile(r"\b(ACCEPTEE|REJETEE|ANNULEE|EN_COURS|COMPLEMENT_DEMANDE|RECEVABILITE_\w+|POSE_COMPTEUR)\b"), "code"),
    (re.compile(r"\b(services_labels|tariff_category|power_kva|caliber_mm|building_type)\b"), "data key"),
    (re.compile(r"En cours : aucune action"), "closed shown as open"),
    (re.compile(r"All applications|Select all rows|Go back|This item will be deleted"), "English admin words"),
    (re.compile(r"^\d+ (Demande déposée|Changement de phase|Devis émis)", re.MULTILINE), "row id and repr"),
]


class _Text(HTMLParser):
    """The text a person reads: text nodes outside scripts, styles and hidden inputs, plus
    title attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template", "textarea", "select"):
            self._skip += 1
        for name, value in attrs:
            if name == "title" and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "textarea", "select") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(content: bytes) -> str:
    parser = _Text()
    parser.feed(content.decode())
    return html.unescape("\n".join(parser.parts))


def leaks_in(text: str) -> list[str]:
    found = [f"{what}: {m.group(0)!r}" for pattern, what in LEAKS for m in pattern.finditer(text)]
    found += [f"constraint name: {name}" for name in CONSTRAINT_NAMES if name in text]
    return found


@pytest.fixture
def world(db):
    """One of everything a request screen shows."""
    agent = StaffFactory(username="agent.walk", first_name="Salma", last_name="Alaoui")
    customer, _ = customer_with_account(phone="+212614000001", email="walk@example.ma")
    # a subscription request through to its activation (closed, accepted)
    done = sign_all(to_signature(make_request(customer), agent))
    payment_record(customer=customer, amount=D("1320.00"), method=Payment.Method.CASH, paid_at=NOW)
    lifecycle.fees_paid_check(request_id=done.pk, now=NOW)
    water, power = done.installations.order_by("service")
    lifecycle.installation_record(
        order_id=water.pk, agent=agent, meter_number="SN26W0001", caliber="", brand="Sensus", index=0, now=NOW
    )
    lifecycle.installation_record(
        order_id=power.pk, agent=agent, meter_number="IS26E0001", caliber="", brand="Iskra", index=0, now=NOW
    )
    # one waiting for its installation, one with a pending call
    other, _ = customer_with_account(phone="+212614000002")
    waiting = sign_all(to_signature(make_request(other), agent))
    payment_record(customer=other, amount=D("1320.00"), method=Payment.Method.CASH, paid_at=NOW)
    lifecycle.fees_paid_check(request_id=waiting.pk, now=NOW)
    calling = make_request(customer_with_account(phone="+212614000003")[0])
    lifecycle.call_request_create(request_id=calling.pk, customer=calling.customer, now=NOW)
    # a rejected one, a connection request with an accepted quote
    rejected = ServiceRequestFactory(customer=other)
    request_reject(request_id=rejected.pk, staff=agent, reason="Local non raccordable", now=NOW)
    importlib.import_module("rak_requests.migrations.0002_seed_request_types").seed(apps, None)
    works = connection(customer, NOW)
    quote = quote_issue(
        request_id=works.pk,
        lines=[QuoteLine("Branchement BT", D(1), D("4500")), QuoteLine("Câble (m)", D("12.5"), D("80"))],
        now=NOW,
        actor=agent,
    )
    quote_accept(quote_id=quote.pk, customer=customer, now=NOW)
    return {"done": done, "waiting": waiting, "calling": calling, "rejected": rejected, "works": works, "quote": quote}


def screens(world) -> list[str]:
    urls = []
    for model in (
        ServiceRequest,
        Quote,
        Contract,
        CallRequest,
        InstallationOrder,
        RequestType,
        Phase,
        RequiredDocument,
    ):
        name = f"admin:rak_requests_{model._meta.model_name}"
        urls.append(reverse(f"{name}_changelist"))
        obj = model.objects.order_by("pk").first()
        if model is ServiceRequest:
            objects = [world[key] for key in ("done", "waiting", "calling", "rejected", "works")]
        elif obj is not None:
            objects = [obj]
        else:
            objects = []
        for item in objects:
            urls.append(reverse(f"{name}_change", args=[item.pk]))
            try:
                urls.append(reverse(f"{name}_history", args=[item.pk]))
            except NoReverseMatch:  # pragma: no cover
                pass
    urls.append(reverse("admin:rak_requests_quote_issue"))
    urls.append(reverse("admin:rak_requests_servicerequest_changelist") + "?open=0")
    try:
        urls.append(reverse("admin:rak_requests_callrequest_changelist") + "?result=all")
    except NoReverseMatch:  # pragma: no cover
        pass
    return urls


def test_every_request_screen_reads_french_for_every_staff_group(world):
    opened: dict[str, int] = {}
    problems: dict[str, list[str]] = {}
    for group in ["superuser", *STAFF_GROUPS]:
        if group == "superuser":
            user = StaffFactory(username="root.walk", is_superuser=True)
        else:
            user = StaffFactory(username=f"walk.{group}")
            user.groups.set(Group.objects.filter(name=group))
        client = Client()
        client.force_login(user)
        for url in screens(world):
            response = client.get(url)
            if response.status_code in (302, 403):
                continue
            assert response.status_code == 200, (group, url, response.status_code)
            opened[group] = opened.get(group, 0) + 1
            found = leaks_in(visible_text(response.content))
            if found:
                problems[f"{group} {url}"] = sorted(set(found))
    assert opened["superuser"] >= 20
    assert not problems, problems


def test_a_closed_request_shows_how_when_and_by_whom_it_ended(world, admin_client):
    page = visible_text(
        admin_client.get(reverse("admin:rak_requests_servicerequest_change", args=[world["done"].pk])).content
    )
    assert "Clôturée (acceptée) le 10/03/2026 à 10:00 par Salma Alaoui" in page
    assert "En cours : aucune action" not in page
    page = visible_text(
        admin_client.get(reverse("admin:rak_requests_servicerequest_change", args=[world["rejected"].pk])).content
    )
    assert "Refusée le 10/03/2026 à 10:00 par Salma Alaoui — motif : Local non raccordable" in page
    listing = visible_text(
        admin_client.get(reverse("admin:rak_requests_servicerequest_changelist") + "?open=0").content
    )
    assert "Clôturée (acceptée) le 10/03/2026" in listing and "Refusée le 10/03/2026" in listing


def test_a_duplicate_phase_reads_as_a_french_sentence(admin_client):
    request_type, _ = RequestType.objects.get_or_create(
        code=RequestType.Code.REFUND, defaults={"name": "Remboursement", "number_prefix": "RB"}
    )
    request_type.phases.all().delete()
    Phase.objects.create(request_type=request_type, code=Phase.Code.TRAITEMENT, name="Traitement", position=1)
    second = Phase.objects.create(request_type=request_type, code=Phase.Code.DEVIS, name="Devis", position=2)
    # the phase's own page: moving it onto the other's order is refused with the model's sentence
    url = reverse("admin:rak_requests_phase_change", args=[second.pk])
    data = changeform_data(admin_client.get(url))
    data["position"] = ["1"]
    response = admin_client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    text = visible_text(response.content)
    assert "Deux phases d'un même type ne peuvent pas avoir le même ordre." in text
    assert not leaks_in(text), leaks_in(text)
    second.refresh_from_db()
    assert second.position == 2

    # the type's page with the same phase twice: the inline's own French message, no English
    url = reverse("admin:rak_requests_requesttype_change", args=[request_type.pk])
    data = changeform_data(admin_client.get(url))
    index = int(data["phases-TOTAL_FORMS"][0])
    data["phases-TOTAL_FORMS"] = [str(index + 1)]
    data.update(
        {
            f"phases-{index}-position": ["3"],
            f"phases-{index}-code": [Phase.Code.TRAITEMENT],
            f"phases-{index}-name": ["Encore la même"],
            f"phases-{index}-sla_days": ["3"],
            f"phases-{index}-customer_help": [""],
            f"phases-{index}-request_type": [str(request_type.pk)],
            f"phases-{index}-id": [""],
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    text = visible_text(response.content)
    assert "Corrigez les données en double dans code." in text
    assert "This item will be deleted" not in text and "Click to cancel" not in text
    assert not leaks_in(text), leaks_in(text)
    assert request_type.phases.count() == 2


def test_history_of_a_change_made_without_a_user_or_reason_reads_french(db):
    """A change saved by the system (a seed, a job: no user, no reason) used to show the Python
    literal None in the « Raison de la modification » column, and the page's English words."""
    request_type, _created = RequestType.objects.get_or_create(  # the seed, unless a flush took it
        code=RequestType.Code.SUBSCRIPTION, defaults={"name": "Demande d'abonnement", "number_prefix": "AB"}
    )
    request_type.save()  # a history row with no user and no change reason
    client = Client()
    client.force_login(StaffFactory(username="root.history", is_superuser=True))
    response = client.get(reverse("admin:rak_requests_requesttype_history", args=[request_type.pk]))
    assert response.status_code == 200
    text = visible_text(response.content)
    assert leaks_in(text) == []
    assert "Modifications" in text and "Changes" not in text
    assert "revenir à une version précédente" in text
