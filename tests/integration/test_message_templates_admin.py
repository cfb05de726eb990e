"""Back office « Modèles de messages » (rak_base.admin_templates), through the admin with the real
test client: every registered message is listed (even one nobody edited yet), the change page shows
the variables, the default and the SMS length; superviseur edits (checked, French reasons, nothing
typed lost) and « Rétablir le texte par défaut »; accueil only reads; technique does not see it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rak_base.message_templates import _REGISTRY, message_render, message_template_register
from rak_base.models import Message, MessageTemplate
from tests.factories import staff_in

pytestmark = pytest.mark.django_db

SMS, EMAIL = Message.Channel.SMS, Message.Channel.EMAIL
CODE = "test.admin_sample"
LIST = reverse("admin:rak_base_messagetemplate_changelist")


@pytest.fixture
def sample():
    spec = message_template_register(
        CODE,
        label="Réclamation de test prise en charge",
        placeholders={"number": ("numéro de la réclamation", "REC-2026-000123"), "url": "adresse du suivi"},
        defaults={
            SMS: ("", "RAK : votre réclamation {number} est prise en charge."),
            EMAIL: ("Réclamation {number}", "Bonjour,\n\nRéclamation {number} : suivi sur {url}"),
        },
        required=("number",),
    )
    yield spec
    _REGISTRY.pop(CODE, None)


def change_url(channel=SMS) -> str:
    template = MessageTemplate.objects.get(code=CODE, channel=channel, language="fr")
    return reverse("admin:rak_base_messagetemplate_change", args=[template.pk])


def test_the_list_holds_every_registered_message_even_never_edited(client, sample, django_assert_max_num_queries):
    MessageTemplate.objects.filter(code=CODE).delete()  # e.g. registered after the last migrate
    staff_in("superviseur", client=client)
    with django_assert_max_num_queries(20):
        response = client.get(LIST, {"q": CODE})  # more than a page of messages since issue 14
    assert response.status_code == 200
    rows = [r for r in response.context["cl"].result_list if r.code == CODE]
    assert {r.channel for r in rows} == {SMS, EMAIL}
    html = response.content.decode()
    assert "Réclamation de test prise en charge" in html and "Par défaut" in html
    assert "Modèles de messages" in html  # the sidebar's entry


def test_the_list_stays_bounded_with_more_messages(client, sample, django_assert_max_num_queries):
    staff_in("superviseur", client=client)
    client.get(LIST)
    for i in range(8):
        message_template_register(f"test.more{i}", label=f"Autre {i}", placeholders={}, defaults={SMS: ("", "Texte")})
    try:
        with django_assert_max_num_queries(20):
            assert client.get(LIST).status_code == 200
    finally:
        for i in range(8):
            _REGISTRY.pop(f"test.more{i}")


def test_the_label_search_finds_the_message(client, sample):
    staff_in("superviseur", client=client)
    client.get(LIST)
    response = client.get(LIST, {"q": "réclamation de test"})
    assert {r.code for r in response.context["cl"].result_list} == {CODE}


def test_the_change_page_shows_variables_default_and_sms_length(client, sample):
    staff_in("superviseur", client=client)
    client.get(LIST)
    html = client.get(change_url()).content.decode()
    assert "{number}" in html and "numéro de la réclamation" in html and "REC-2026-000123" in html
    assert "obligatoire" in html
    assert 'data-testid="default-text"' in html
    # 60 characters with REC-2026-000123 for {number}: one GSM-7 SMS
    assert "60 caractères — 1 SMS (GSM-7, 160 par SMS)" in html
    assert "data-sms-examples" in html and "rak_base/sms_counter.js" in html


def test_superviseur_edits_and_the_next_message_uses_it(client, sample):
    user = staff_in("superviseur", client=client)
    client.get(LIST)
    response = client.post(change_url(), {"body": "RAK : réclamation {number} reçue, merci."})
    assert response.status_code == 302, response.content.decode()[:2000]
    template = MessageTemplate.objects.get(code=CODE, channel=SMS, language="fr")
    assert template.customized and template.updated_by == user
    assert message_render(code=CODE, channel=SMS, context={"number": "R7"})[1] == "RAK : réclamation R7 reçue, merci."
    assert template.history.filter(body="RAK : réclamation {number} reçue, merci.", history_user=user).exists()


def test_an_unknown_placeholder_is_refused_on_the_page_and_the_text_kept(client, sample):
    staff_in("superviseur", client=client)
    client.get(LIST)
    typed = "RAK : réclamation {numero} reçue."
    response = client.post(change_url(), {"body": typed})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Variable inconnue : {numero}. Variables possibles : {number}, {url}." in html
    assert typed in html  # nothing typed lost
    assert not MessageTemplate.objects.get(code=CODE, channel=SMS, language="fr").customized


def test_an_sms_over_two_parts_is_refused(client, sample):
    staff_in("superviseur", client=client)
    client.get(LIST)
    response = client.post(change_url(), {"body": "{number} " + "très long " * 40})
    assert response.status_code == 200
    assert "Ce SMS est trop long" in response.content.decode()


def test_an_email_subject_is_checked_too(client, sample):
    staff_in("superviseur", client=client)
    client.get(LIST)
    response = client.post(change_url(EMAIL), {"subject": "Réclamation {dossier}", "body": "N° {number}"})
    assert response.status_code == 200
    assert "Variable inconnue : {dossier}." in response.content.decode()
    response = client.post(change_url(EMAIL), {"subject": "Votre réclamation {number}", "body": "N° {number}"})
    assert response.status_code == 302
    assert message_render(code=CODE, channel=EMAIL, context={"number": "R1"}) == ("Votre réclamation R1", "N° R1")


def test_reset_to_the_default(client, sample):
    staff_in("superviseur", client=client)
    client.get(LIST)
    client.post(change_url(), {"body": "Texte maison {number}"})
    reset = change_url().replace("/change/", "/retablir/")
    page = client.get(reset)
    assert page.status_code == 200 and "Texte maison {number}" in page.content.decode()
    assert MessageTemplate.objects.get(code=CODE, channel=SMS, language="fr").customized  # a GET changes nothing
    response = client.post(reset)
    assert response.status_code == 302
    template = MessageTemplate.objects.get(code=CODE, channel=SMS, language="fr")
    assert not template.customized and template.body == "RAK : votre réclamation {number} est prise en charge."
    assert "rétabli" in " ".join(str(m) for m in client.get(response["Location"]).context["messages"])


def test_accueil_reads_but_cannot_change_or_reset(client, sample):
    staff_in("accueil", client=client)
    assert client.get(LIST).status_code == 200
    page = client.get(change_url())
    assert page.status_code == 200
    assert 'name="body"' not in page.content.decode()  # read only
    assert client.post(change_url(), {"body": "Piratage {number}"}).status_code == 403
    assert client.post(change_url().replace("/change/", "/retablir/")).status_code == 403
    assert not MessageTemplate.objects.get(code=CODE, channel=SMS, language="fr").customized


def test_technique_does_not_see_the_templates(client, sample):
    staff_in("technique", client=client)
    assert client.get(LIST).status_code == 403


def test_no_revert_from_the_history(client, sample):
    staff_in("superviseur", client=client)
    client.get(LIST)
    client.post(change_url(), {"body": "V2 {number}"})
    template = MessageTemplate.objects.get(code=CODE, channel=SMS, language="fr")
    first = template.history.order_by("history_id").first()
    url = reverse("admin:rak_base_messagetemplate_simple_history", args=[template.pk, first.history_id])
    client.post(url, {"body": "V1 {numero}"})
    assert MessageTemplate.objects.get(pk=template.pk).body == "V2 {number}"
    history = client.get(reverse("admin:rak_base_messagetemplate_history", args=[template.pk]))
    assert history.status_code == 200 and "Texte modifié" in history.content.decode()
