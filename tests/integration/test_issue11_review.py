"""Issue 11 review (H7): defects found reading the outage notices, resolving actions,
interventions, escalation and message templates — each test failed before its fix."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rak_requests.complaint_models import ComplaintEntry, FieldIntervention
from tests.factories import staff_in
from tests.integration.test_backoffice import followed_messages
from tests.integration.test_intervention_backoffice import _post_done, ordered  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def test_the_agent_who_ordered_an_intervention_may_cancel_it_but_not_report_it(client, ordered):  # noqa: F811
    """« Annuler l'ordre » was offered to whoever may order (add_fieldintervention) but the page was
    read only for them: the agent who ordered by mistake got a 403."""
    complaint, order, agent, _user = ordered
    client.force_login(agent)
    url = reverse("admin:rak_requests_fieldintervention_change", args=[order.pk])
    page = client.get(url).content.decode()
    assert "Annuler l&#x27;ordre" in page or "Annuler l'ordre" in page
    assert "Marquer réalisée" not in page and "report_text" not in page  # the report is the technician's

    response = _post_done(client, order, report_text="Fait", rak_requests_fieldintervention_mark_done="")
    order.refresh_from_db()
    assert order.status == FieldIntervention.Status.PENDING  # not carried out by the agent

    messages = followed_messages(
        client, _post_done(client, order, cancel_reason="Ordonné par erreur", rak_requests_fieldintervention_cancel="")
    )
    assert any("annulé" in m for m in messages), messages
    order.refresh_from_db()
    assert order.status == FieldIntervention.Status.CANCELLED and "par erreur" in order.report
    assert complaint.entries.filter(kind=ComplaintEntry.Kind.ACTION, data__action="intervention_cancelled").exists()

    # once cancelled, the page is read only again
    assert client.post(url, {"cancel_reason": "x", "rak_requests_fieldintervention_cancel": ""}).status_code == 403
    assert response.status_code in (200, 302)


@pytest.mark.django_db(transaction=True)
def test_asking_again_while_the_reviewer_decides_is_refused_without_a_deadlock():
    """The agent's « Envoyer le relevé en vérification » locks the complaint then the reading; the
    reviewer's decision locks the reading then (hook) the complaint waiting for it. The agent asking
    again at that moment deadlocked (PostgreSQL killed one side: a 500 for the agent or a lost
    decision); now a complaint already waiting for this reading is refused before the reading is
    touched, and the decision goes through."""
    import datetime
    import threading
    from decimal import Decimal

    from django.db import connection, transaction

    from rak_base import clock
    from rak_billing.models import MeterReading
    from rak_billing.readings import reading_review
    from rak_requests.complaint_models import ComplaintCategory
    from rak_requests.complaints import services
    from rak_requests.complaints.actions import ComplaintActionRefused, complaint_action
    from tests.factories import DossierFactory, staff_in
    from tests.reading_factories import MeterReadingFactory

    now = clock.now()
    dossier = DossierFactory()
    reading = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 20), index=Decimal("1500"))
    complaint = services.complaint_file(
        filing=services.ComplaintFiling(
            category=ComplaintCategory.objects.get(code="releve-compteur"),
            name="Amina Alaoui",
            message="Index contesté.",
            phone="",
            dossier_id=dossier.pk,
        ),
        customer=dossier.customer,
        now=now,
    )
    agent, reviewer = staff_in("facturation"), staff_in("technique")
    action = complaint_action("reading_review")
    action.run(complaint=complaint, staff_user=agent, data={"reason": "Le client lit 1150."}, now=now)

    reading_locked, agent_started = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def reviewer_decides():
        try:
            with transaction.atomic():
                MeterReading.objects.select_for_update().get(pk=reading.pk)  # the reviewer's lock, first
                reading_locked.set()
                agent_started.wait(timeout=10)
                threading.Event().wait(0.5)  # the agent now holds the complaint
                reading_review(reading_id=reading.pk, staff_user=reviewer, accept=False, reason="Mal lu", now=now)
            outcome["reviewer"] = "decided"
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test looks at
            outcome["reviewer"] = exc
        finally:
            connection.close()

    def agent_asks_again():
        try:
            reading_locked.wait(timeout=10)
            agent_started.set()
            action.run(complaint=complaint, staff_user=agent, data={"reason": "Encore"}, now=now)
            outcome["agent"] = "sent"
        except Exception as exc:  # noqa: BLE001
            outcome["agent"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=reviewer_decides), threading.Thread(target=agent_asks_again)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome["reviewer"] == "decided", outcome
    assert isinstance(outcome["agent"], ComplaintActionRefused) and "déjà demandée" in outcome["agent"].message
    reading.refresh_from_db()
    assert reading.status == MeterReading.Status.REJECTED
    assert complaint.entries.filter(data__action="reading_reviewed").count() == 1


def test_the_reviewers_decision_reaches_the_customers_bell_once(now):
    """rak_billing tells the dossier's customer of the decision (SMS and bell); the complaint's hook
    told the same portal account again by bell (two notices of one decision); it now adds the
    e-mail and the thread only, and the bell for a complaint filed from another account."""
    import datetime
    from decimal import Decimal

    from rak_base.models import Message
    from rak_billing.readings import reading_review
    from rak_requests.complaint_models import ComplaintCategory
    from rak_requests.complaints import services
    from rak_requests.complaints.actions import complaint_action
    from tests.factories import DossierFactory, customer_with_account, staff_in
    from tests.reading_factories import MeterReadingFactory

    customer, user = customer_with_account(email="amina@example.ma")
    dossier = DossierFactory(customer=customer)
    reading = MeterReadingFactory(dossier=dossier, reading_date=datetime.date(2026, 2, 20), index=Decimal("1500"))
    complaint = services.complaint_file(
        filing=services.ComplaintFiling(
            category=ComplaintCategory.objects.get(code="releve-compteur"),
            name="Amina Alaoui",
            message="Index contesté.",
            phone="",
            email="amina@example.ma",
            dossier_id=dossier.pk,
        ),
        customer=customer,
        user=user,
        now=now,
    )
    complaint_action("reading_review").run(
        complaint=complaint, staff_user=staff_in("facturation"), data={"reason": "Le client lit 1150."}, now=now
    )
    before = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    reading_review(reading_id=reading.pk, staff_user=staff_in("technique"), accept=False, reason="Mal lu", now=now)
    after = Message.objects.filter(pk__gt=before)
    assert after.filter(channel="BELL", user=user).count() == 1, list(after.values_list("channel", "subject"))
    assert after.filter(channel="SMS").count() == 1  # rak_billing's, to the customer's SMS number
    assert after.filter(channel="EMAIL", recipient="amina@example.ma", body__contains="Mal lu").exists()


def test_the_label_search_of_the_message_templates_keeps_the_list_filters(client):
    """« Modèles de messages »: a search on a message's label OR-ed the whole table back in, so the
    channel (or « Modifié ») filter chosen beside it was dropped for those rows."""
    from rak_base.models import Message, MessageTemplate

    staff_in("superviseur", client=client)
    url = reverse("admin:rak_base_messagetemplate_changelist")
    client.get(url)  # the rows of every registered message
    response = client.get(url, {"q": "prise en charge", "channel__exact": Message.Channel.SMS})
    rows = list(response.context["cl"].result_list)
    assert rows and all(row.channel == Message.Channel.SMS for row in rows), [(r.code, r.channel) for r in rows]
    assert any(row.code == "complaint.filed" for row in rows)
    assert MessageTemplate.objects.filter(code="complaint.filed").exclude(channel=Message.Channel.SMS).exists()


@pytest.mark.django_db(transaction=True)
def test_a_staff_edit_during_the_templates_sync_is_not_overwritten_by_the_default():
    """message_templates_sync (after migrate, on opening the list) rewrites the rows nobody changed
    whose code default changed. It read a row as « not customized », then its UPDATE waited for a
    superviseur saving that row, and overwrote the text just saved with the default (the row still
    said « Modifié »). The UPDATE is now conditioned on the row still not being customized."""
    import threading

    from django.db import connection, transaction

    from rak_base import clock
    from rak_base.message_templates import message_template_update, message_templates_sync
    from rak_base.models import Message, MessageTemplate

    message_templates_sync()
    row = MessageTemplate.objects.get(code="complaint.filed", channel=Message.Channel.SMS, language="fr")
    MessageTemplate.objects.filter(pk=row.pk).update(body="RAK : ancien texte {number}.", customized=False)
    editor = staff_in("superviseur")
    staff_text = "RAK : réclamation {number} reçue, nous revenons vers vous."
    saved, synced = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def superviseur_saves():
        try:
            with transaction.atomic():
                message_template_update(template_id=row.pk, subject="", body=staff_text, user=editor, now=clock.now())
                saved.set()
                synced.wait(timeout=2)  # the sync has read the row and waits for it
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    def sync_runs():
        try:
            saved.wait(timeout=10)
            timer = threading.Timer(0.5, synced.set)
            timer.start()
            message_templates_sync()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=superviseur_saves), threading.Thread(target=sync_runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    row.refresh_from_db()
    assert row.customized and row.body == staff_text


def _outage_form() -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from rak_base import clock

    day = timezone.localtime(clock.now() + timedelta(days=5)).strftime("%Y-%m-%d")
    return {
        "kind": "PLANNED",
        "service": "EAU",
        "districts": ["Saknia"],
        "starts_at": f"{day}T08:00",
        "expected_end_at": f"{day}T12:00",
        "reason": "Raccordement sur la conduite principale",
    }


def test_enregistrer_le_brouillon_sent_twice_makes_one_draft(client):
    """A double click on « Enregistrer le brouillon » of a new outage notice made two drafts (two
    numbers): publishing both would send every customer two SMS for one cut."""
    from rak_requests.complaint_models import OutageNotice
    from tests.integration.test_outage_notices import _customer

    _customer("Saknia")
    staff_in("technique", client=client)
    url = reverse("admin:rak_requests_outagenotice_add")
    first = client.post(url, _outage_form())
    second = client.post(url, _outage_form())
    assert first.status_code == second.status_code == 302
    assert OutageNotice.objects.count() == 1
    assert first["Location"] == second["Location"]  # the same draft's page

    other = {**_outage_form(), "reason": "Remplacement d'une vanne"}  # another notice is another draft
    client.post(url, other)
    assert OutageNotice.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_creating_the_same_draft_make_one():
    import threading

    from django.db import connection

    from rak_base import clock
    from rak_requests import outages
    from rak_requests.complaint_models import OutageNotice
    from tests.integration.test_outage_notices import _customer, _data

    _customer("Saknia")
    staff = staff_in("technique")
    now = clock.now()
    barrier = threading.Barrier(2)
    numbers: list[str] = []

    def create():
        try:
            barrier.wait(timeout=10)
            numbers.append(outages.outage_notice_create(data=_data(now=now), user=staff, now=now).number)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(numbers) == 2 and len(set(numbers)) == 1
    assert OutageNotice.objects.count() == 1
