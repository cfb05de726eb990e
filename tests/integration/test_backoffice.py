"""The staff back office (/backoffice/, Django admin themed with unfold).

What a staff member would notice: they log in and land on the back office; the search box finds a
customer by code client, CIN, ICE, phone (typed 06... or +212...) or name; the customer list and
the customer page stay fast (bounded queries) and show contacts, dossiers, the portal account,
the messages sent (codes and passwords masked) and the change requests; accepting a change request
changes the customer (with history), refusing it does not; a contact message leaves the « new »
queue once handled; a failed SMS goes back to the queue; a password can be resent; each staff group
sees what its job needs; a customer never gets in."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.forms import CheckboxInput
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message, OneTimeCode
from rak_base.otp import otp_send
from rak_base.outbox import message_queue_sms
from rak_customer.groups import STAFF_GROUPS, staff_groups_sync
from rak_customer.models import Contact, ContactMessage, Customer, PortalAccount
from rak_customer.services import change_request_create, contact_message_create, password_reset
from tests.factories import (
    TEST_PASSWORD,
    CompanyFactory,
    CustomerFactory,
    DossierFactory,
    EmailFactory,
    PhoneFactory,
    StaffFactory,
    customer_with_account,
    staff_in,
)

User = get_user_model()

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("admin:rak_customer_customer_changelist")


@pytest.fixture
def supervisor(client):
    user = staff_in("superviseur")
    client.force_login(user)
    return user


@pytest.fixture
def front_desk(client):
    """An « accueil » agent, logged in."""
    user = staff_in("accueil")
    client.force_login(user)
    return user


def listed(response) -> list:
    assert response.status_code == 200, response.content[:500]
    return list(response.context["cl"].result_list)


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def followed_messages(client, response) -> list[str]:
    """The flash messages a redirect lands on."""
    assert response.status_code == 302, response.content[:500]
    page = client.get(response["Location"])
    return page_messages(page)


def changeform_data(response) -> dict[str, list]:
    """What the browser would post back from a change page: every editable field of the form
    and of each inline, with the management forms."""
    data: dict[str, list] = {}

    def add_form(form) -> None:
        for bound in form:
            value = bound.value()
            if isinstance(bound.field.widget, CheckboxInput):
                if value:
                    data[bound.html_name] = ["on"]
                continue
            if value is None:
                values = [""]
            elif isinstance(value, list | tuple):
                values = [str(v) for v in value]
            else:
                values = [str(value)]
            data[bound.html_name] = values

    add_form(response.context["adminform"].form)
    inlines = response.context["inline_admin_formsets"] if "inline_admin_formsets" in response.context else []
    for inline in inlines:
        formset = inline.formset
        add_form(formset.management_form)
        for form in formset.forms:
            add_form(form)
    return data


# --- access ---------------------------------------------------------------------------------------


def test_staff_logs_in_and_lands_on_the_back_office(client):
    staff_in("accueil", username="fatima")

    # the login page opened directly, as from a bookmark: the form posts where it says
    form = client.get(reverse("admin:login")).content.decode()
    action = re.search(r'<form action="([^"]*)" method="post" id="login-form"', form).group(1)
    response = client.post(action.replace("&amp;", "&"), {"username": "fatima", "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/backoffice/"
    home = client.get("/backoffice/")
    assert home.status_code == 200
    body = home.content.decode()
    assert "Clients" in body
    assert reverse("admin:rak_customer_changerequest_changelist") in body


def test_a_customer_never_gets_into_the_back_office(client):
    customer, user = customer_with_account()

    response = client.post(
        reverse("admin:login") + "?next=/backoffice/", {"username": customer.code, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200  # the login form again, with its error
    assert "compte autorisé" in response.content.decode()  # « ...d'un compte autorisé »

    client.force_login(user)
    for url in ("/backoffice/", CUSTOMERS, reverse("admin:rak_base_message_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_a_customer_account_cannot_be_made_staff():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        StaffFactory(role="CUSTOMER", username="mal-configure")
    superuser = User.objects.create_superuser("chef", "chef@rak.ma", "Chef-RAK-2026!")
    assert superuser.role == "STAFF" and superuser.is_staff


def test_staff_created_from_the_back_office_can_log_in(client):
    admin = StaffFactory(is_superuser=True)
    client.force_login(admin)

    response = client.post(
        reverse("admin:rak_base_user_add"),
        {
            "username": "nadia",
            "password1": "Sebou-Kenitra-77",
            "password2": "Sebou-Kenitra-77",
            "first_name": "Nadia",
            "last_name": "Bennani",
            "email": "nadia@rak.ma",
            "groups": [Group.objects.get(name="accueil").pk],
        },
    )

    assert response.status_code == 302, response.content[:800]
    client.logout()
    login = client.post(reverse("admin:login"), {"username": "nadia", "password": "Sebou-Kenitra-77"})
    assert login.status_code == 302
    assert client.get(CUSTOMERS).status_code == 200


# --- customer search and list --------------------------------------------------------------------


@pytest.fixture
def three_customers():
    youssef, _ = customer_with_account(phone="+212612345678", cin="AB123456", last_name="Alaoui", first_name="Youssef")
    company = CompanyFactory(company_name="Société Sebou Eaux SARL")
    PhoneFactory(customer=company, value="+212661000111")
    other = CustomerFactory(cin="G998877", last_name="Berrada", first_name="Karim")
    PhoneFactory(customer=other, value="+212699887766")
    return youssef, company, other


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("code", "youssef"),
        ("ab 123456", "youssef"),  # CIN typed in lower case, with a space
        ("ice", "company"),
        ("06 12 34 56 78", "youssef"),
        ("0612345678", "youssef"),
        ("+212612345678", "youssef"),
        ("00212661000111", "company"),
        ("alaoui", "youssef"),
        ("Youssef Alaoui", "youssef"),
        ("Sebou", "company"),
        ("berrada", "other"),
    ],
)
def test_search_finds_the_right_customer(client, supervisor, three_customers, term, expected):
    youssef, company, other = three_customers
    customers = {"youssef": youssef, "company": company, "other": other}
    term = {"code": youssef.code, "ice": company.ice}.get(term, term)

    found = listed(client.get(CUSTOMERS, {"q": term}))

    assert [customer.code for customer in found] == [customers[expected].code]


def test_search_with_no_match_shows_nobody(client, supervisor, three_customers):
    assert listed(client.get(CUSTOMERS, {"q": "0600000000"})) == []


def test_customer_list_shows_sms_phone_and_stays_bounded(client, supervisor, django_assert_max_num_queries):
    for n in range(30):
        customer = CustomerFactory()
        PhoneFactory(customer=customer, value=f"+2126611{n:05d}")
        PhoneFactory(customer=customer, value=f"+2126622{n:05d}", is_sms=False)
        DossierFactory(customer=customer)

    with django_assert_max_num_queries(12):
        response = client.get(CUSTOMERS)

    rows = listed(response)
    assert len(rows) == 30
    body = response.content.decode()
    # the SMS number, in the national form staff read on the phone
    assert "06 61 10 00 00" in body
    assert "+2126622" not in body  # the other phone is not the SMS one


def test_customer_filters_by_district_service_and_dossier_status(client, supervisor):
    maamora = DossierFactory(premises__district="Maamora", service="EAU").customer
    saknia = DossierFactory(premises__district="Saknia", service="ELECTRICITE", status="SUSPENDED").customer
    DossierFactory(customer=saknia, premises__district="Saknia", service="EAU")  # two dossiers, listed once

    assert [c.code for c in listed(client.get(CUSTOMERS, {"quartier": "Saknia"}))] == [saknia.code]
    assert {c.code for c in listed(client.get(CUSTOMERS, {"metier": "EAU"}))} == {maamora.code, saknia.code}
    assert [c.code for c in listed(client.get(CUSTOMERS, {"statut_dossier": "SUSPENDED"}))] == [saknia.code]
    assert [c.code for c in listed(client.get(CUSTOMERS, {"kind__exact": "ENTREPRISE"}))] == []


# --- the customer page (« 360 ») -------------------------------------------------------------------


@pytest.fixture
def rich_customer(now):
    """A customer with two phones, an e-mail, two dossiers, a portal account, a change request and
    messages (a password SMS still queued: sensitive)."""
    customer, user = customer_with_account(phone="+212612345678", email="youssef@example.ma", cin="AB123456")
    PhoneFactory(customer=customer, value="+212537112233", is_sms=False)
    DossierFactory(customer=customer, number="D-EAU-0001", meter__number="M-EAU-77", premises__reference="L-KEN-9")
    DossierFactory(customer=customer, number="D-ELE-0002", service="ELECTRICITE", meter__service="ELECTRICITE")
    change_request_create(customer=customer, user=user, field="NAME", requested_value="Youssef El Alaoui")
    password_reset(customer_code=customer.code, identity="AB123456", now=now)
    message_queue_sms(to="+212612345678", body="RAK : votre facture de mars est disponible.", kind="info")
    return customer, user


def test_customer_page_shows_contacts_dossiers_account_messages_and_requests(
    client, supervisor, rich_customer, django_assert_max_num_queries
):
    customer, user = rich_customer
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    password_sms = Message.objects.get(kind="password")
    password = re.search(r"mot de passe (\w+)\.", password_sms.body).group(1)

    # 23 before issue 13; its sections add a fixed 6: connected devices (2), linked codes clients,
    # notification preferences and push browsers (2), the e-invoice history — none per row; issue 14's
    # timeline a fixed 16 (one per kind of event, the messages' addresses, the balance and the overdue)
    with django_assert_max_num_queries(45):
        response = client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    for shown in (
        "+212612345678",
        "+212537112233",
        "youssef@example.ma",  # contacts
        "D-EAU-0001",
        "D-ELE-0002",
        "M-EAU-77",
        "L-KEN-9",  # dossiers, meter, premises
        reverse("admin:rak_customer_meter_change", args=[customer.dossiers.get(number="D-EAU-0001").meter_id]),
        "Créé par le personnel",  # portal account origin
        "Youssef El Alaoui",  # the pending change request
        "votre facture de mars est disponible",  # a message sent to the customer
        "contenu confidentiel",  # ...and the password SMS, masked
        "Renvoyer un mot de passe",
    ):
        assert shown in body, shown
    assert password not in body


def test_front_desk_edits_contacts_but_not_identity(client, front_desk, rich_customer):
    customer, _ = rich_customer
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    page = client.get(url)
    assert 'name="cin"' not in page.content.decode()  # identity: read only for the front desk
    data = changeform_data(page)
    history_before = customer.history.count()
    # move the SMS flag to a new number typed the way a customer dictates it
    for key in list(data):
        if key.startswith("contacts-") and key.endswith("-is_sms"):
            del data[key]
    total = int(data["contacts-TOTAL_FORMS"][0])
    data.update(
        {
            f"contacts-{total}-kind": ["PHONE"],
            f"contacts-{total}-value": ["06 70 11 22 33"],
            f"contacts-{total}-is_sms": ["on"],
            f"contacts-{total}-customer": [str(customer.pk)],
            "contacts-TOTAL_FORMS": [str(total + 1)],
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert Contact.objects.get(customer=customer, is_sms=True).value == "+212670112233"
    assert Contact.objects.filter(customer=customer, kind="PHONE").count() == 3
    customer.refresh_from_db()
    assert customer.cin == "AB123456"
    assert customer.history.count() == history_before  # no empty revision of the customer


def _contact_prefix(data: dict, value: str) -> str:
    return next(key[: -len("-value")] for key, values in data.items() if key.endswith("-value") and values == [value])


@pytest.mark.parametrize("drop_old", [False, True], ids=["moved", "old-number-deleted"])
def test_sms_flag_moves_between_two_existing_numbers(client, front_desk, rich_customer, drop_old):
    customer, _ = rich_customer
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    data = changeform_data(client.get(url))
    old, new = _contact_prefix(data, "+212612345678"), _contact_prefix(data, "+212537112233")
    data.pop(f"{old}-is_sms")
    if drop_old:
        data[f"{old}-DELETE"] = ["on"]
    # a landline cannot receive SMS: the form says so instead of failing
    data[f"{new}-is_sms"] = ["on"]
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "mobile" in refused.content.decode()
    data[f"{new}-value"] = ["0661 22 33 44"]

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert Contact.objects.get(customer=customer, is_sms=True).value == "+212661223344"
    assert Contact.objects.filter(customer=customer, value="+212612345678").exists() is not drop_old


def test_two_sms_numbers_are_refused_with_a_message(client, front_desk, rich_customer):
    customer, _ = rich_customer
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    data = changeform_data(client.get(url))
    for key, values in list(data.items()):
        if key.startswith("contacts-") and key.endswith("-kind") and values == ["PHONE"]:
            data[key.replace("-kind", "-is_sms")] = ["on"]

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Un seul numéro peut recevoir les SMS" in response.content.decode()


def test_password_resent_from_the_customer_page(client, front_desk, rich_customer):
    customer, _ = rich_customer
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    data = changeform_data(client.get(url))
    data["rak_customer_customer_password_resend"] = [""]
    before = Message.objects.filter(kind="password").count()

    response = client.post(url, data)

    assert response["Location"] == url
    assert any("se terminant par 78" in text for text in followed_messages(client, response))
    assert Message.objects.filter(kind="password", recipient="+212612345678").count() == before + 1


# --- portal accounts --------------------------------------------------------------------------------


def test_password_resend_action_on_portal_accounts(client, front_desk):
    customer, user = customer_with_account(phone="+212612345600")
    no_phone = CustomerFactory(cin="K11111")  # no phone, no e-mail: the service refuses
    no_phone_user = StaffFactory(role="CUSTOMER", is_staff=False, username=no_phone.code)
    PortalAccount.objects.create(user=no_phone_user, customer=no_phone, origin="STAFF")

    response = client.post(
        reverse("admin:rak_customer_portalaccount_changelist"),
        {
            "action": "password_resend_selected",
            "_selected_action": [user.portal_account.pk, no_phone.portal_account.pk],
        },
    )

    texts = followed_messages(client, response)
    assert any(f"{customer.code} : nouveau mot de passe envoyé par SMS" in text for text in texts)
    assert any(f"{no_phone.code} : Aucun numéro de téléphone" in text for text in texts)
    assert Message.objects.filter(kind="password", recipient="+212612345600", sensitive=True).count() == 1
    # the sent password waits until used (issue 9): the current one keeps working meanwhile
    user.portal_account.refresh_from_db()
    assert user.portal_account.pending_password


# --- change requests ---------------------------------------------------------------------------------


@pytest.fixture
def name_request():
    customer, user = customer_with_account(first_name="Youssef", last_name="Alaoui")
    return change_request_create(customer=customer, user=user, field="NAME", requested_value="Youssef El Alaoui")


def test_pending_requests_come_first(client, front_desk, name_request, now):
    customer, user = customer_with_account(phone="+212612000001")
    done = change_request_create(customer=customer, user=user, field="NAME", requested_value="X Y")
    from rak_customer.services import change_request_decide

    change_request_decide(request_id=done.pk, staff_user=front_desk, accept=False, note="", now=now)
    later = change_request_create(customer=customer, user=user, field="NAME", requested_value="Z W")

    rows = listed(client.get(reverse("admin:rak_customer_changerequest_changelist")))

    assert [row.status for row in rows] == ["PENDING", "PENDING", "REJECTED"]
    assert rows[0].pk == later.pk


def test_accepting_a_request_changes_the_customer_with_history(client, front_desk, name_request):
    url = reverse("admin:rak_customer_changerequest_change", args=[name_request.pk])
    data = changeform_data(client.get(url))
    data["staff_note"] = ["Vu la CIN au guichet."]
    data["rak_customer_changerequest_accept"] = [""]

    response = client.post(url, data)

    assert response["Location"] == reverse("admin:rak_customer_changerequest_changelist")
    assert any("acceptée" in text for text in followed_messages(client, response))
    customer = Customer.objects.get(pk=name_request.customer_id)
    assert (customer.first_name, customer.last_name) == ("Youssef", "El Alaoui")
    latest = customer.history.first()
    assert latest.last_name == "El Alaoui"
    assert latest.history_user == front_desk
    name_request.refresh_from_db()
    assert name_request.status == "ACCEPTED"
    assert name_request.staff_note == "Vu la CIN au guichet."
    assert name_request.handled_by == front_desk
    # the customer is told, and the request page is now read only
    assert Message.objects.filter(user__portal_account__customer=customer, subject__contains="acceptée").exists()
    assert "rak_customer_changerequest_accept" not in client.get(url).content.decode()


def test_rejecting_a_request_leaves_the_customer_unchanged(client, front_desk, name_request):
    customer = name_request.customer
    revisions = customer.history.count()

    response = client.post(
        reverse("admin:rak_customer_changerequest_changelist"),
        {"action": "reject_selected", "_selected_action": [name_request.pk]},
    )

    assert any("refusée" in text for text in followed_messages(client, response))
    customer.refresh_from_db()
    assert customer.last_name == "Alaoui"
    assert customer.history.count() == revisions
    name_request.refresh_from_db()
    assert name_request.status == "REJECTED"


def test_a_refused_decision_shows_the_service_message(client, front_desk):
    holder = CustomerFactory(cin="BK77777")
    customer, user = customer_with_account(cin="AB123456")
    request = change_request_create(customer=customer, user=user, field="IDENTITY", requested_value=holder.cin)

    response = client.post(
        reverse("admin:rak_customer_changerequest_changelist"),
        {"action": "accept_selected", "_selected_action": [request.pk]},
    )

    assert any("Ce CIN/ICE appartient déjà à un autre client." in text for text in followed_messages(client, response))
    request.refresh_from_db()
    assert request.status == "PENDING"
    customer.refresh_from_db()
    assert customer.cin == "AB123456"


def test_technical_staff_cannot_decide_requests(client, name_request):
    client.force_login(staff_in("technique"))

    response = client.post(
        reverse("admin:rak_customer_changerequest_changelist"),
        {"action": "accept_selected", "_selected_action": [name_request.pk]},
    )

    assert response.status_code == 403
    name_request.refresh_from_db()
    assert name_request.status == "PENDING"


# --- contact messages -----------------------------------------------------------------------------------


def test_contact_message_handled_leaves_the_new_queue(client, front_desk):
    old = contact_message_create(
        name="Amina", email="amina@example.ma", phone="0612345678", subject="Coupure", body="Pas d'eau", customer=None
    )
    new = contact_message_create(
        name="Omar", email="omar@example.ma", phone="", subject="Facture", body="Montant élevé", customer=None
    )
    changelist = reverse("admin:rak_customer_contactmessage_changelist")

    response = client.post(changelist, {"action": "handle_selected", "_selected_action": [old.pk]})

    assert any("traité" in text for text in followed_messages(client, response))
    old.refresh_from_db()
    assert old.status == "HANDLED"
    assert old.handled_by == front_desk
    rows = listed(client.get(changelist))
    assert [row.pk for row in rows] == [new.pk, old.pk]  # NEW first
    assert [row.pk for row in listed(client.get(changelist, {"q": "06 12 34 56 78"}))] == [old.pk]


def test_contact_message_handled_from_its_page_with_a_note(client, front_desk):
    message = contact_message_create(
        name="Amina", email="amina@example.ma", phone="", subject="Coupure", body="Pas d'eau", customer=None
    )
    url = reverse("admin:rak_customer_contactmessage_change", args=[message.pk])
    data = changeform_data(client.get(url))
    data["staff_note"] = ["Rappelée, intervention planifiée."]
    data["rak_customer_contactmessage_handle"] = [""]

    response = client.post(url, data)

    assert any("marqué comme traité" in text for text in followed_messages(client, response))
    message.refresh_from_db()
    assert (message.status, message.staff_note) == (ContactMessage.Status.HANDLED, "Rappelée, intervention planifiée.")


# --- outbox -------------------------------------------------------------------------------------------


def test_retry_puts_a_failed_message_back_in_the_queue(client, supervisor):
    failed = message_queue_sms(to="+212612345678", body="RAK : rappel", kind="info")
    Message.objects.filter(pk=failed.pk).update(
        status="FAILED", attempts=6, next_attempt_at=None, last_error="HTTP 500"
    )
    sent = message_queue_sms(to="+212612345679", body="RAK : ok", kind="info")
    Message.objects.filter(pk=sent.pk).update(status="SENT", attempts=1)
    changelist = reverse("admin:rak_base_message_changelist")
    assert [m.pk for m in listed(client.get(changelist, {"status__exact": "FAILED"}))] == [failed.pk]

    response = client.post(changelist, {"action": "retry_selected", "_selected_action": [failed.pk, sent.pk]})

    texts = followed_messages(client, response)
    assert "1 message remis en file d'envoi." in texts
    assert any("n'était pas en échec" in text for text in texts)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("QUEUED", 0)
    sent.refresh_from_db()
    assert sent.status == "SENT"


def test_front_desk_reads_the_outbox_but_cannot_retry(client, front_desk):
    failed = message_queue_sms(to="+212612345678", body="RAK : rappel", kind="info")
    Message.objects.filter(pk=failed.pk).update(status="FAILED")
    changelist = reverse("admin:rak_base_message_changelist")

    page = client.get(changelist)
    assert page.status_code == 200
    assert "retry_selected" not in page.content.decode()
    response = client.post(changelist, {"action": "retry_selected", "_selected_action": [failed.pk]})
    assert response.status_code in (200, 302)
    failed.refresh_from_db()
    assert failed.status == "FAILED"


def test_outbox_masks_codes_and_passwords_and_never_shows_otp_hashes(client, supervisor):
    otp = otp_send(phone="+212612345678", purpose=OneTimeCode.Purpose.PHONE_CONFIRM, now=clock.now())
    sms = Message.objects.get(kind="otp")
    code = re.search(r"\b(\d{6})\b", sms.body).group(1)

    message_page = client.get(reverse("admin:rak_base_message_change", args=[sms.pk])).content.decode()
    list_page = client.get(reverse("admin:rak_base_message_changelist"), {"q": "0612345678"})
    otp_page = client.get(reverse("admin:rak_base_onetimecode_change", args=[otp.pk])).content.decode()

    assert code not in message_page
    assert "contenu confidentiel" in message_page
    assert [m.pk for m in listed(list_page)] == [sms.pk]
    assert otp.code_hash not in otp_page
    assert "En cours de validité" in otp_page


# --- history ----------------------------------------------------------------------------------------


def test_history_of_a_meter_is_visible(client, supervisor):
    dossier = DossierFactory(meter__number="M-HIST-1", meter__brand="Itron")
    meter = dossier.meter
    url = reverse("admin:rak_customer_meter_change", args=[meter.pk])
    data = changeform_data(client.get(url))
    data["brand"] = ["Sensus"]
    assert client.post(url, data).status_code == 302

    history = client.get(reverse("admin:rak_customer_meter_history", args=[meter.pk]))

    assert history.status_code == 200
    assert supervisor.username in history.content.decode()
    assert meter.history.count() == 2


def test_dossier_search_by_meter_number(client, supervisor):
    dossier = DossierFactory(meter__number="M000123456")
    DossierFactory()

    found = listed(client.get(reverse("admin:rak_customer_dossier_changelist"), {"q": "m000123456"}))

    assert [d.pk for d in found] == [dossier.pk]


def test_only_who_may_change_a_customer_reverts_it(client, supervisor, rich_customer):
    customer, _ = rich_customer
    first_version = customer.history.earliest()
    Customer.objects.filter(pk=customer.pk).update(last_name="Erroné")
    customer.refresh_from_db()
    customer.save()  # a second revision, with the wrong name
    url = reverse("admin:rak_customer_customer_simple_history", args=[customer.pk, first_version.history_id])
    data = changeform_data(client.get(url))

    for group in ("technique", "accueil"):
        client.force_login(staff_in(group))
        assert client.post(url, data).status_code == 403, group
        customer.refresh_from_db()
        assert customer.last_name == "Erroné"

    client.force_login(supervisor)
    assert client.post(url, data).status_code == 302
    customer.refresh_from_db()
    assert customer.last_name == first_version.last_name


# --- groups ---------------------------------------------------------------------------------------


def perms_of(name: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Permission.objects.filter(group__name=name).values_list(
            "content_type__app_label", "codename"
        )
    }


def test_staff_groups_exist_after_migrate_with_their_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(STAFF_GROUPS)

    accueil = perms_of("accueil")
    assert {
        "rak_customer.view_customer",
        "rak_customer.change_contact",
        "rak_customer.change_changerequest",
        "rak_customer.change_contactmessage",
        "rak_base.view_message",
    } <= accueil
    assert "rak_customer.change_customer" not in accueil  # identity changes go through a request
    assert "rak_base.change_message" not in accueil

    technique = perms_of("technique")
    assert {
        "rak_customer.change_meter",
        "rak_customer.change_premises",
        "rak_customer.change_dossier",
        "rak_customer.view_customer",
    } <= technique
    assert "rak_base.view_message" not in technique

    assert {"rak_customer.view_customer", "rak_customer.view_dossier"} <= perms_of("facturation")
    assert {"rak_customer.view_customer", "rak_customer.view_dossier", "rak_base.view_message"} <= perms_of(
        "recouvrement"
    )

    superviseur = perms_of("superviseur")
    assert {
        "rak_customer.delete_contact",
        "rak_customer.view_historicalcustomer",
        "rak_base.change_message",
        "rak_base.view_onetimecode",
    } <= superviseur
    assert not {"rak_base.change_user", "rak_base.add_user", "rak_base.delete_message"} & superviseur


def test_staff_groups_sync_is_idempotent_and_restores_the_code_version():
    first = staff_groups_sync()
    group = Group.objects.get(name="accueil")
    group.permissions.add(Permission.objects.get(codename="change_customer"))  # hand edit

    second = staff_groups_sync()

    assert first == second
    assert Group.objects.filter(name__in=STAFF_GROUPS).count() == len(STAFF_GROUPS)
    assert "rak_customer.change_customer" not in perms_of("accueil")


def test_each_group_sees_its_screens(client):
    client.force_login(staff_in("technique"))
    assert client.get(CUSTOMERS).status_code == 200
    assert client.get(reverse("admin:rak_customer_meter_changelist")).status_code == 200
    assert client.get(reverse("admin:rak_base_message_changelist")).status_code == 403
    assert client.get(reverse("admin:rak_base_user_changelist")).status_code == 403


# --- home -----------------------------------------------------------------------------------------


def test_home_page_figures_with_the_dashboard_callback(client, supervisor, settings, name_request):
    settings.UNFOLD = {**settings.UNFOLD, "DASHBOARD_CALLBACK": "rak_customer.admin.dashboard_callback"}
    contact_message_create(name="A", email="a@example.ma", phone="", subject="S", body="B", customer=None)
    failed = message_queue_sms(to="+212612345678", body="x")
    Message.objects.filter(pk=failed.pk).update(status="FAILED")

    body = client.get("/backoffice/").content.decode()

    assert 'id="rak-dashboard"' in body
    assert "Demandes de modification en attente" in body
    assert reverse("admin:rak_base_message_changelist") + "?status__exact=FAILED" in body


def test_every_backoffice_list_opens(client, supervisor):
    DossierFactory()
    EmailFactory()
    StaffFactory(is_superuser=True)
    for name in (
        "rak_customer_customer",
        "rak_customer_dossier",
        "rak_customer_premises",
        "rak_customer_meter",
        "rak_customer_agency",
        "rak_customer_portalaccount",
        "rak_customer_changerequest",
        "rak_customer_contactmessage",
        "rak_base_message",
        "rak_base_onetimecode",
        "rak_base_sequence",
        "rak_base_user",
    ):
        response = client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200, name


def test_administrator_screens_open_in_the_back_office_theme(client):
    client.force_login(StaffFactory(is_superuser=True))
    for url in (
        reverse("admin:auth_group_changelist"),
        reverse("admin:auth_group_change", args=[Group.objects.get(name="accueil").pk]),
        reverse("admin:axes_accessattempt_changelist"),
        reverse("admin:rak_base_user_add"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "/static/unfold/" in response.content.decode(), url
