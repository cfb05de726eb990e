"""The helpdesk in the back office (issue 11), through the real admin: the « Réclamations » queue
(counters, filters, order, search, a fixed number of queries), a complaint's page (header, links,
thread with internal lines, attachments) and its forms (reply with canned replies, note, assign,
take, close — each refused when empty, on a stale page, or without « Traiter les réclamations »),
the categories' deadlines (superviseur only), staff filing, « Contactez-nous » answered or turned
into a complaint, and the customer 360's panel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message
from rak_customer.models import ContactMessage
from rak_requests.complaint_models import Complaint, ComplaintCategory, ComplaintEntry
from rak_requests.complaints import services
from tests.billing_factories import BillFactory
from tests.factories import AgencyFactory, DossierFactory, StaffFactory, customer_with_account, staff_in
from tests.integration.test_backoffice import followed_messages, page_messages

pytestmark = pytest.mark.django_db

LIST = reverse("admin:rak_requests_complaint_changelist")
ADD = reverse("admin:rak_requests_complaint_add")


@pytest.fixture
def agent(client):
    user = staff_in("accueil", first_name="Salma", last_name="Idrissi")
    client.force_login(user)
    return user


def category(code: str) -> ComplaintCategory:
    return ComplaintCategory.objects.get(code=code)


def file(*, now=None, code="facturation", phone="0612345678", **kwargs) -> Complaint:
    values = {
        "category": category(code),
        "name": "Amina Alaoui",
        "phone": phone,
        "email": "amina@example.ma",
        "message": "Ma facture de février est trop élevée.",
    }
    if category(code).is_incident:
        values.update(source="INCIDENT", address="Rue 5, Saknia", district="Saknia")
    values.update(kwargs)
    return services.complaint_file(
        filing=services.ComplaintFiling(**values), now=now or clock.now(), staff_user=StaffFactory()
    )


def page_url(c: Complaint) -> str:
    return reverse("admin:rak_requests_complaint_change", args=[c.pk])


def handle_url(c: Complaint, what: str) -> str:
    return reverse("admin:rak_requests_complaint_handle", args=[c.pk, what])


def fresh(c: Complaint) -> Complaint:
    return Complaint.objects.get(pk=c.pk)


def stamp(c: Complaint) -> str:
    return fresh(c).updated_at.isoformat()


def numbers(response) -> list[str]:
    return [c.number for c in response.context["cl"].result_list]


# --- the queue ----------------------------------------------------------------------------------------


def test_queue_counters_filters_order_and_search(client, agent):
    now = clock.now()
    customer, _user = customer_with_account(phone="+212612000031")
    late = file(code="coupure", now=now - timedelta(hours=13), district="Saknia", phone="0612000099")
    billing = file(now=now - timedelta(hours=1), name="Karim Benali", customer_code=customer.code, phone="0612000031")
    mine = file(now=now - timedelta(hours=2))
    services.complaint_take(complaint_id=mine.pk, staff_user=agent, now=now)
    waiting = file(now=now - timedelta(hours=3))
    services.complaint_reply(
        complaint_id=waiting.pk, staff_user=StaffFactory(), body="Photo ?", asks_information=True, now=now
    )
    closed = file(now=now - timedelta(hours=4))
    services.complaint_close(complaint_id=closed.pk, staff_user=agent, result="Réglé.", now=now)

    page = client.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    counters = {key: count for key, _label, count, _query, _variant in page.context["complaint_counters"]}
    assert counters == {
        "open": 4,
        "new": 2,
        "overdue": 1,
        "waiting": 1,
        "mine": 1,
        "unassigned": 2,
        "closed-today": 1,
    }
    assert 'data-testid="counter-overdue"' in html and "⚠ En retard" in html
    # open ones first, nearest deadline first (the urgent, overdue one on top), the closed one last
    listed = numbers(page)
    assert listed[0] == late.number and listed[-1] == closed.number
    # urgent category and overdue row: a badge with a word, not a colour alone
    assert "⚡ Urgente" in html and "⚠ En retard" in html

    assert numbers(client.get(LIST + "?delai=overdue")) == [late.number]
    assert set(numbers(client.get(LIST + "?delai=ok"))) == {billing.number, mine.number, waiting.number}
    assert numbers(client.get(LIST + "?mine=1&etat=ouvertes")) == [mine.number]
    assert set(numbers(client.get(LIST + "?agent=aucun&etat=ouvertes"))) == {late.number, billing.number}
    assert numbers(client.get(LIST + f"?agent={agent.pk}&etat=ouvertes")) == [mine.number]
    assert numbers(client.get(LIST + "?quartier=Saknia")) == [late.number]
    assert numbers(client.get(LIST + "?status__exact=WAITING_CUSTOMER")) == [waiting.number]
    assert numbers(client.get(LIST + f"?category__id__exact={category('coupure').pk}")) == [late.number]
    assert numbers(client.get(LIST + "?urgent=1")) == [late.number]
    assert numbers(client.get(LIST + "?etat=closes-jour")) == [closed.number]
    # search: number, beginning of the name, phone as typed, code client
    assert numbers(client.get(LIST, {"q": late.number.lower()})) == [late.number]
    assert numbers(client.get(LIST, {"q": "karim"})) == [billing.number]
    assert numbers(client.get(LIST, {"q": "06 12 00 00 99"})) == [late.number]
    assert numbers(client.get(LIST, {"q": customer.code})) == [billing.number]


def test_queue_agency_filter(client, agent):
    agency = AgencyFactory(name="Agence Saknia")
    customer, _ = customer_with_account(phone="+212612000032", agency=agency)
    linked = services.complaint_file(
        filing=services.ComplaintFiling(category=category("accueil"), name="X", phone="0612000032", message="m"),
        customer=customer,
        staff_user=agent,
        now=clock.now(),
    )
    file()
    assert numbers(client.get(LIST + f"?agency__id__exact={agency.pk}")) == [linked.number]


def test_queue_has_no_n_plus_one(client, agent, django_assert_max_num_queries):
    agency = AgencyFactory(name="Agence Maamora")
    for i in range(3):
        customer, _ = customer_with_account(phone=f"+21261200{i:04d}", agency=agency)
        c = services.complaint_file(
            filing=services.ComplaintFiling(
                category=category("facturation"), name=f"Client {i}", phone=f"+21261200{i:04d}", message="m"
            ),
            customer=customer,
            staff_user=agent,
            now=clock.now(),
        )
        services.complaint_take(complaint_id=c.pk, staff_user=agent, now=clock.now())
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    for i in range(27):
        file(code="fuite" if i % 2 else "facturation", phone=f"06130{i:05d}", district=f"Quartier {i % 4}")
    assert Complaint.objects.count() == 30
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(LIST)
    assert len(page.context["cl"].result_list) == 30


# --- the complaint's page -----------------------------------------------------------------------------


def test_complaint_page_header_links_thread_and_attachment(client, agent):
    customer, _user = customer_with_account(phone="+212612000040", email="nadia@example.ma")
    dossier = DossierFactory(customer=customer, number="D-700001")
    bill = BillFactory(customer=customer, dossier=dossier, number="TF-700001")
    c = services.complaint_file(
        filing=services.ComplaintFiling(
            category=category("facturation"),
            name="Nadia Tazi",
            phone="0612000040",
            email="nadia@example.ma",
            message="Montant trop élevé",
            bill_id=bill.pk,
            source="BILL",
        ),
        customer=customer,
        staff_user=agent,
        now=clock.now(),
    )
    services.complaint_note(complaint_id=c.pk, staff_user=agent, body="Vérifier l'index de janvier", now=clock.now())
    entry = ComplaintEntry.objects.create(
        complaint=c, at=clock.now(), kind="CUSTOMER_MESSAGE", actor_kind="CUSTOMER", body="Photo jointe"
    )
    entry.file.save("compteur.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    entry.file_name = "compteur.pdf"
    entry.save()

    page = client.get(page_url(c))
    assert page.status_code == 200
    html = page.content.decode()
    assert c.number in html and "Facturation" in html and "Reçue" in html and "Dans les délais" in html
    assert "Téléphone (CRC)" not in html  # staff_user without channel: default WEB (the service's)
    assert reverse("admin:rak_customer_customer_change", args=[customer.pk]) in html
    assert reverse("admin:rak_customer_dossier_change", args=[dossier.pk]) in html
    assert reverse("admin:rak_billing_bill_change", args=[bill.pk]) in html
    thread = html.split('data-testid="complaint-thread"')[1]
    assert "Vérifier l&#x27;index de janvier" in thread and 'data-testid="entry-internal">interne<' in thread
    attachment = reverse("admin:rak_requests_complaint_attachment", args=[c.pk, entry.pk])
    assert attachment in thread
    served = client.get(attachment)
    assert served.status_code == 200 and b"".join(served.streaming_content).startswith(b"%PDF")
    # the file of another complaint is not reachable through this one
    other = file()
    assert client.get(reverse("admin:rak_requests_complaint_attachment", args=[other.pk, entry.pk])).status_code == 404


def test_reply_sends_on_the_chosen_channels_and_can_ask_for_information(client, agent):
    c = file()
    response = client.post(
        handle_url(c, "reply"),
        {
            "expected_updated_at": stamp(c),
            "reply-body": "Pouvez-vous nous envoyer une photo du compteur ?",
            "reply-channels": ["SMS"],
            "reply-asks_information": "on",
        },
    )
    assert "complément d'information demandé au client" in followed_messages(client, response)[0]
    c = fresh(c)
    assert c.status == Complaint.Status.WAITING_CUSTOMER and c.assigned_to == agent
    entry = c.entries.get(kind="INFO_REQUEST")
    assert entry.channels == ["SMS"]
    assert Message.objects.filter(channel="SMS", body__contains="photo du compteur").count() == 1
    assert not Message.objects.filter(channel="EMAIL", body__contains="photo du compteur").exists()


def test_canned_reply_is_inserted_without_sending(client, agent):
    c = file()
    response = client.post(
        handle_url(c, "reply"),
        {
            "expected_updated_at": stamp(c),
            "reply-canned": "accuse",
            "reply-body": "Bonjour,",
            "reply-channels": ["SMS", "EMAIL"],
            "insert": "1",
        },
    )
    assert response.status_code == 200
    body = response.context["forms"]["reply"]["body"].value()
    assert body.startswith("Bonjour,\n\nBonjour Amina Alaoui, nous avons bien reçu votre réclamation " + c.number)
    assert fresh(c).entries.count() == 1  # nothing sent, nothing written


@pytest.mark.parametrize(
    "what,fields,empty_error",
    [
        ("reply", {"reply-body": "Votre facture est en cours de vérification.", "reply-channels": ["SMS"]}, "réponse"),
        ("note", {"note-body": "Client rappelé, absent."}, "Écrivez la note."),
        ("close", {"close-result": "Index corrigé, facture rectifiée."}, "résultat du traitement"),
    ],
)
def test_text_forms_success_empty_stale_and_forbidden(client, agent, what, fields, empty_error):
    c = file()
    text_field = next(k for k in fields if k.endswith(("body", "result")))
    # empty text: refused, the page again with the French message, nothing written
    empty = client.post(handle_url(c, what), {"expected_updated_at": stamp(c), **fields, text_field: "  "})
    assert empty.status_code == 400
    assert empty_error in " ".join(page_messages(empty))
    assert fresh(c).entries.count() == 1
    # stale page: refused, what was typed kept on the page
    stale = client.post(
        handle_url(c, what), {"expected_updated_at": (fresh(c).updated_at - timedelta(seconds=5)).isoformat(), **fields}
    )
    assert stale.status_code == 400
    assert "modifiée entre-temps" in " ".join(page_messages(stale))
    assert fields[text_field] in stale.content.decode()
    assert fresh(c).entries.count() == 1
    # without « Traiter les réclamations »: 403
    reader = StaffFactory()
    reader.user_permissions.add(Permission.objects.get(codename="view_complaint"))
    client.force_login(reader)
    assert client.get(page_url(c)).status_code == 200
    assert client.post(handle_url(c, what), {"expected_updated_at": stamp(c), **fields}).status_code == 403
    # success
    client.force_login(agent)
    done = client.post(handle_url(c, what), {"expected_updated_at": stamp(c), **fields})
    assert done.status_code == 302, page_messages(done)
    assert fresh(c).entries.count() == 2
    if what == "close":
        c = fresh(c)
        assert c.status == Complaint.Status.CLOSED and c.result == fields[text_field]
        assert Message.objects.filter(channel="SMS", body__contains="facture rectifiée").exists()
        page = client.get(page_url(c)).content.decode()
        assert 'data-testid="form-reply"' not in page and "Index corrigé" in page


def test_take_and_assign(client, agent):
    c = file()
    colleague = staff_in("facturation", first_name="Youssef")
    stale = client.post(handle_url(c, "take"), {"expected_updated_at": "2020-01-01T00:00:00+00:00"})
    assert stale.status_code == 400 and fresh(c).assigned_to is None
    assert client.post(handle_url(c, "take"), {"expected_updated_at": stamp(c)}).status_code == 302
    c = fresh(c)
    assert c.assigned_to == agent and c.status == Complaint.Status.IN_PROGRESS
    page = client.get(page_url(c))
    assert 'data-testid="form-take"' not in page.content.decode()  # already mine
    assert colleague in page.context["forms"]["assign"].fields["assignee"].queryset
    response = client.post(handle_url(c, "assign"), {"expected_updated_at": stamp(c), "assign-assignee": colleague.pk})
    assert "affectation enregistrée" in followed_messages(client, response)[0]
    assert fresh(c).assigned_to == colleague
    assert Message.objects.filter(channel="BELL", user=colleague).exists()  # told it is theirs
    # a customer's account is not an agent
    _customer, portal_user = customer_with_account(phone="+212612000050")
    refused = client.post(handle_url(c, "assign"), {"expected_updated_at": stamp(c), "assign-assignee": portal_user.pk})
    assert refused.status_code == 400 and fresh(c).assigned_to == colleague
    reader = StaffFactory()
    reader.user_permissions.add(Permission.objects.get(codename="view_complaint"))
    client.force_login(reader)
    assert client.post(handle_url(c, "take"), {"expected_updated_at": stamp(c)}).status_code == 403


# --- categories, staff filing ---------------------------------------------------------------------------


def test_category_deadlines_are_the_superviseurs_with_history(client):
    fuite = category("fuite")
    url = reverse("admin:rak_requests_complaintcategory_change", args=[fuite.pk])
    staff_in("accueil", client=client)
    assert client.get(url).status_code == 200  # read only
    assert client.post(url, {"name": "Fuite", "sla_hours": 1, "first_answer_hours": 1}).status_code == 403
    staff_in("superviseur", client=client)
    data = {
        "name": "Fuite d'eau",
        "description": fuite.description,
        "sla_hours": 12,
        "first_answer_hours": 2,
        "is_urgent": "on",
        "is_incident": "on",
        "service": fuite.service,
        "position": fuite.position,
        "is_active": "on",
    }
    assert client.post(url, data).status_code == 302
    fuite.refresh_from_db()
    assert fuite.sla_hours == 12 and fuite.name == "Fuite d'eau"
    assert fuite.history.count() >= 1
    bad = client.post(url, {**data, "first_answer_hours": 48})
    assert bad.status_code == 200 and "ne pas dépasser le délai de traitement" in bad.content.decode()


def test_staff_files_a_phone_complaint_for_a_customer_of_the_360(client, agent):
    customer, _user = customer_with_account(phone="+212612000060", email="hind@example.ma", first_name="Hind")
    dossier = DossierFactory(customer=customer, number="D-700060")
    form_page = client.get(ADD + f"?customer={customer.pk}")
    assert form_page.status_code == 200
    assert form_page.context["form"]["phone"].value() == "+212612000060"
    refused = client.post(
        ADD + f"?customer={customer.pk}",
        {"channel": "PHONE", "category": category("releve-compteur").pk, "name": "Hind", "phone": "0612000060"},
    )
    assert refused.status_code == 400 and "Écrivez le message de la réclamation." in refused.content.decode()
    response = client.post(
        ADD + f"?customer={customer.pk}",
        {
            "channel": "PHONE",
            "category": category("releve-compteur").pk,
            "name": "Hind",
            "phone": "0612000060",
            "dossier": dossier.pk,
            "message": "Le compteur est bloqué depuis une semaine.",
        },
    )
    c = Complaint.objects.get(customer=customer)
    assert response.status_code == 302 and response["Location"] == page_url(c)
    assert c.channel == "PHONE" and c.dossier == dossier
    assert c.entries.get().actor == agent
    assert Message.objects.filter(channel="SMS", recipient="+212612000060", body__contains=c.number).exists()


def test_staff_files_from_the_queue_without_a_customer(client, agent):
    page = client.get(LIST)
    assert ADD in page.content.decode()
    response = client.post(
        ADD,
        {
            "channel": "AGENCY",
            "category": category("fuite").pk,
            "name": "Passant",
            "phone": "0612000070",
            "message": "Fuite sur le trottoir",
            "address": "Bd Mohammed V",
        },
    )
    assert response.status_code == 302
    assert Complaint.objects.get(phone="+212612000070").channel == "AGENCY"


# --- « Contactez-nous » ---------------------------------------------------------------------------------


def contact_message(**kwargs) -> ContactMessage:
    values = {
        "name": "Omar",
        "email": "omar@example.ma",
        "phone": "+212612000080",
        "subject": "Facture",
        "body": "Je conteste ma facture.",
    }
    values.update(kwargs)
    return ContactMessage.objects.create(**values)


def test_contact_message_answered_by_email_and_sms(client, agent):
    message = contact_message()
    url = reverse("admin:rak_customer_contactmessage_change", args=[message.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="contact-reply"' in page and 'data-testid="contact-to-complaint"' in page
    reply = reverse("admin:rak_customer_contactmessage_reply", args=[message.pk])
    empty = client.post(reply, {"answer-body": ""})
    assert empty.status_code == 400 and "Écrivez votre réponse." in empty.content.decode()
    response = client.post(reply, {"answer-body": "L'agence est ouverte de 8 h 30 à 16 h 30."})
    assert "par e-mail et par SMS" in followed_messages(client, response)[0]
    message.refresh_from_db()
    assert message.status == "HANDLED" and message.handled_by == agent and "16 h 30" in message.staff_note
    assert Message.objects.filter(channel="EMAIL", recipient="omar@example.ma", body__contains="16 h 30").exists()
    assert Message.objects.filter(channel="SMS", recipient="+212612000080", body__contains="16 h 30").exists()
    again = client.post(reply, {"answer-body": "Encore"})
    assert again.status_code == 400 and "déjà été traité" in again.content.decode()


def test_contact_message_turned_into_a_complaint_in_one_click(client, agent):
    message = contact_message()
    post = reverse("admin:rak_customer_contactmessage_complaint", args=[message.pk])
    assert client.post(post, {"convert-category": ""}).status_code == 400
    response = client.post(post, {"convert-category": category("facturation").pk})
    c = Complaint.objects.get(contact_message=message)
    assert response.status_code == 302 and response["Location"] == page_url(c)
    assert c.channel == "CONTACT" and c.message == "Je conteste ma facture."
    message.refresh_from_db()
    assert message.status == "HANDLED" and c.number in message.staff_note
    page = client.get(page_url(c)).content.decode()
    assert reverse("admin:rak_customer_contactmessage_change", args=[message.pk]) in page
    listing = client.get(reverse("admin:rak_customer_contactmessage_changelist")).content.decode()
    assert c.number in listing


# --- the customer 360 -----------------------------------------------------------------------------------


def test_customer_360_lists_the_customers_complaints(client, agent, django_assert_max_num_queries):
    customer, _user = customer_with_account(phone="+212612000090")
    for i in range(3):
        services.complaint_file(
            filing=services.ComplaintFiling(
                category=category("facturation"), name="Sara", phone="0612000090", message=f"m{i}"
            ),
            customer=customer,
            staff_user=agent,
            now=clock.now(),
        )
    file()  # somebody else's
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    page = client.get(url)
    html = page.content.decode()
    panel = html.split('data-testid="customer-complaints"')[1]
    assert "Réclamations du client" in panel
    assert panel.count('data-testid="customer-complaint"') == 3
    assert f"{ADD}?customer={customer.pk}" in panel and "Nouvelle réclamation" in panel
    from rak_requests.admin_complaints import customer_complaints_panel

    request = page.wsgi_request
    with django_assert_max_num_queries(1):
        customer_complaints_panel(request=request, customer_id=customer.pk)


def test_search_is_served_by_indexes(rf, agent):
    from django.contrib import admin

    from tests.integration.test_search_indexes import plan

    file(name="Karim Benali")
    model_admin = admin.site._registry[Complaint]
    for term in ("karim", "REC2026-000001", "0612345678"):
        queryset, _distinct = model_admin.get_search_results(None, Complaint.objects.order_by(), term)
        explained = plan(queryset)
        assert "Seq Scan on rak_requests_complaint" not in explained, explained
    queryset, _distinct = model_admin.get_search_results(None, Complaint.objects.order_by(), "karim")
    assert "complaint_name_prefix" in plan(queryset)


def test_resolving_action_from_the_page_intervention_order(client, agent):
    from rak_requests.complaint_models import FieldIntervention

    c = file(code="fuite")
    page = client.get(page_url(c)).content.decode()
    assert 'data-testid="action-intervention"' in page  # accueil: add_fieldintervention
    assert 'data-testid="action-credit_note"' not in page  # facturation's only
    url = reverse("admin:rak_requests_complaint_action", args=[c.pk, "intervention"])
    fields = {"intervention-kind": "LEAK_REPAIR", "intervention-instructions": "Fuite avant compteur, trottoir"}
    # the form's own refusal: the page again, what was typed kept
    invalid = client.post(url, {"expected_updated_at": stamp(c), "intervention-kind": "LEAK_REPAIR"})
    assert invalid.status_code == 400 and not FieldIntervention.objects.exists()
    stale = client.post(url, {"expected_updated_at": "2020-01-01T00:00:00+00:00", **fields})
    assert stale.status_code == 400 and "modifiée entre-temps" in " ".join(page_messages(stale))
    assert "Fuite avant compteur, trottoir" in stale.content.decode()
    done = client.post(url, {"expected_updated_at": stamp(c), **fields})
    order = FieldIntervention.objects.get(complaint=c)
    assert order.number in followed_messages(client, done)[0]
    assert fresh(c).entries.filter(kind="ACTION").exists()
    # someone without the action's permission: 403 (recouvrement handles complaints, issues no order)
    staff_in("recouvrement", client=client)
    assert client.post(url, {"expected_updated_at": stamp(c), **fields}).status_code == 403
    # an action that does not exist
    bogus = reverse("admin:rak_requests_complaint_action", args=[c.pk, "nope"])
    client.force_login(agent)
    assert client.post(bogus, {"expected_updated_at": stamp(c)}).status_code == 404


def test_page_shows_the_rating_and_its_queries_do_not_grow_with_the_thread(client, agent):
    customer, user = customer_with_account(phone="+212612000095")
    c = services.complaint_file(
        filing=services.ComplaintFiling(category=category("accueil"), name="Sara", phone="0612000095", message="m"),
        customer=customer,
        user=user,
        now=clock.now(),
    )
    with CaptureQueriesContext(connection) as short:
        assert client.get(page_url(c)).status_code == 200
    colleague = staff_in("facturation")
    for i in range(10):
        services.complaint_note(
            complaint_id=c.pk, staff_user=colleague if i % 2 else agent, body=f"n{i}", now=clock.now()
        )
        services.complaint_customer_add(complaint_id=c.pk, customer=customer, user=user, body=f"c{i}", now=clock.now())
    with CaptureQueriesContext(connection) as long:
        assert client.get(page_url(c)).status_code == 200
    assert len(long.captured_queries) <= len(short.captured_queries) + 1, [q["sql"] for q in long.captured_queries]
    services.complaint_close(complaint_id=c.pk, staff_user=agent, result="Agent reçu en entretien.", now=clock.now())
    services.complaint_rate(
        complaint_id=c.pk, customer=customer, user=user, rating=4, comment="Merci, bon suivi.", now=clock.now()
    )
    html = client.get(page_url(c)).content.decode()
    rating = html.split('data-testid="complaint-rating"')[1]
    assert "4 sur 5" in rating and "★★★★☆" in rating
    assert "Merci, bon suivi." in html
