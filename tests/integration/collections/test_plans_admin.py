"""Back office of payment plans: the customer 360 card, « Accorder un échéancier » (hostile posts
answered with a message, never a 500), the list (bounded queries), the plan page, the agreement PDF,
the cancellation; the portal lists the instalment bills."""

from __future__ import annotations

import datetime
import html
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from rak_billing.models import Bill
from rak_collections.models import PaymentPlan
from rak_collections.plans import payment_plan_grant
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, PhoneFactory, staff_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def debtor(db):
    dossier = DossierFactory()
    PhoneFactory(customer=dossier.customer, value="+212612000222")
    bills = [
        bill_create(dossier=dossier, period_start=datetime.date(2025, month, 1), total_ht="1000.00")
        for month in (10, 11)
    ]
    return dossier.customer, bills


def grant_url(customer) -> str:
    return reverse("admin:rak_collections_paymentplan_grant", args=[customer.pk])


def test_customer_360_offers_the_grant_to_recouvrement_only(client, debtor):
    customer, _bills = debtor
    staff_in("recouvrement", client=client)
    page = client.get(reverse("admin:rak_customer_customer_change", args=[customer.pk]))
    assert page.status_code == 200
    assert grant_url(customer) in page.content.decode()
    staff_in("accueil", client=client)
    page = client.get(reverse("admin:rak_customer_customer_change", args=[customer.pk]))
    assert grant_url(customer) not in page.content.decode()
    assert client.get(grant_url(customer)).status_code == 403


def test_grant_page_grants_a_plan(client, debtor):
    customer, bills = debtor
    staff_in("recouvrement", client=client)
    page = client.get(grant_url(customer))
    assert page.status_code == 200
    body = page.content.decode()
    assert bills[0].number in body and "checked" in body
    first = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    response = client.post(
        grant_url(customer),
        {
            "bills": [b.pk for b in bills],
            "instalments": "4",
            "first_due_date": first,
            "down_payment": "360,00",
            "reason": "accord signé au guichet",
        },
    )
    plan = PaymentPlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rak_collections_paymentplan_change", args=[plan.pk])
    assert plan.total_amount == Decimal("2360.00") and plan.down_payment == Decimal("360.00")
    assert plan.instalments.count() == 5
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "500,00" in page.content.decode() or "500.00" in page.content.decode()
    pdf = client.get(reverse("admin:rak_collections_paymentplan_agreement", args=[plan.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"instalments": "0"}, ""),
        ({"instalments": "99"}, ""),
        ({"instalments": "deux"}, "nombre entier"),
        ({"first_due_date": "2020-01-01"}, "dans le passé"),
        ({"first_due_date": "31/02/2027"}, "Date invalide"),
        ({"down_payment": "-10"}, "négatif"),
        ({"down_payment": "9" * 40}, "au plus 20 caract"),
        ({"down_payment": "9" * 19}, "trop élevé"),
        ({"down_payment": "<script>"}, "Montant invalide"),
        ({"bills": ["999999999"]}, ""),
        ({"bills": []}, "au moins une facture"),
    ],
)
def test_hostile_grant_posts_get_a_message(client, debtor, changes, message):
    customer, bills = debtor
    staff_in("recouvrement", client=client)
    data = {
        "bills": [b.pk for b in bills],
        "instalments": "4",
        "first_due_date": (timezone.localdate() + datetime.timedelta(days=10)).isoformat(),
        "down_payment": "",
    }
    data.update(changes)
    response = client.post(grant_url(customer), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PaymentPlan.objects.exists()


def test_list_flags_overdue_plans_with_bounded_queries(client, django_assert_max_num_queries, now):
    agent = staff_in("recouvrement", client=client)
    for _ in range(4):
        dossier = DossierFactory()
        bills = [bill_create(dossier=dossier, period_start=datetime.date(2025, 10, 1), total_ht="1000.00")]
        payment_plan_grant(
            customer=dossier.customer,
            bills=bills,
            instalments=3,
            first_due_date=datetime.date(2026, 3, 10),
            by=agent,
            now=now,
        )  # the first instalment (10/03/2026) is overdue today
    url = reverse("admin:rak_collections_paymentplan_changelist")
    with django_assert_max_num_queries(20):
        page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count("en retard") >= 4
    assert "10/03/2026" in body


def test_cancel_action(client, debtor, now):
    customer, bills = debtor
    agent = staff_in("recouvrement", client=client)
    plan = payment_plan_grant(
        customer=customer, bills=bills, instalments=2, first_due_date=datetime.date(2026, 4, 1), by=agent, now=now
    )
    url = reverse("admin:rak_collections_paymentplan_cancel_plan", args=[plan.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "dossier repris par le contentieux"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PaymentPlan.Status.CANCELLED


def test_portal_lists_the_instalment_bills(client, now):
    from tests.factories import customer_with_account

    customer, user = customer_with_account(phone="+212612000333")
    bills = [
        bill_create(
            customer=customer,
            dossier=DossierFactory(customer=customer),
            period_start=datetime.date(2025, 10, 1),
            total_ht="1000.00",
        )
    ]
    agent = staff_in("recouvrement")
    plan = payment_plan_grant(
        customer=customer, bills=bills, instalments=2, first_due_date=datetime.date(2026, 4, 1), by=agent, now=now
    )
    client.force_login(user)
    instalment_bill = plan.instalments.order_by("position").first().bill
    assert instalment_bill.kind == Bill.Kind.INSTALMENT
    page = client.get(reverse("portal:other_bills"))
    assert page.status_code == 200
    body = html.unescape(page.content.decode())
    assert instalment_bill.number in body
    assert "Échéance d'un échéancier" in body


def test_plan_page_queries_do_not_grow_with_instalments(client, debtor, now, django_assert_max_num_queries):
    customer, bills = debtor
    agent = staff_in("recouvrement", client=client)
    plan = payment_plan_grant(
        customer=customer, bills=bills, instalments=24, first_due_date=datetime.date(2026, 4, 1), by=agent, now=now
    )
    with django_assert_max_num_queries(30):
        page = client.get(reverse("admin:rak_collections_paymentplan_change", args=[plan.pk]))
    assert page.status_code == 200
    assert page.content.decode().count("F2026-") >= 24 + 2


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_agreement_pdf_in_the_customers_language(debtor, now, language):
    from rak_collections.admin_plans import plan_agreement_pdf

    customer, bills = debtor
    customer.language = language
    customer.save(update_fields=["language"])
    agent = staff_in("recouvrement")
    plan = payment_plan_grant(
        customer=customer, bills=bills, instalments=3, first_due_date=datetime.date(2026, 4, 1), by=agent, now=now
    )
    assert plan_agreement_pdf(plan, printed_at=now).startswith(b"%PDF")
