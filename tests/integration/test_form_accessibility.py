"""Forms a screen reader can use (issue 9 §2): every id a field's ``aria-describedby`` names exists
in the page (help text ``<id>_helptext``, errors ``<id>_error``, Django 5.2), and a form sent back
with errors starts with « Le formulaire contient des erreurs », one link per field in error,
focusable (tabindex=-1) for portal.js to move the focus to."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


class Ids(HTMLParser):
    """The ids of a page and the aria-describedby of its elements."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if attrs.get("aria-describedby"):
            self.described.append((attrs.get("name") or attrs.get("id") or tag, attrs["aria-describedby"]))


def parse(html: str) -> Ids:
    parser = Ids()
    parser.feed(html)
    return parser


def assert_descriptions_exist(html: str) -> Ids:
    page = parse(html)
    missing = [(who, ref) for who, refs in page.described for ref in refs.split() if ref not in page.ids]
    assert not missing, f"aria-describedby vers des ids absents : {missing}"
    return page


def test_help_text_is_linked_to_its_field(client):
    html = client.get(reverse("portal:quickpay")).content.decode()
    page = assert_descriptions_exist(html)
    assert ("code", "id_code_helptext") in page.described
    assert re.search(r'<small class="help" id="id_code_helptext">Il figure sur votre facture.</small>', html)
    assert "Le formulaire contient des erreurs" not in html


def test_errors_are_linked_to_their_fields_and_summed_up_at_the_top(client):
    html = client.post(reverse("portal:quickpay"), {"email": "a@example.ma", "email_confirm": "b@example.ma"}).content
    html = html.decode()
    page = assert_descriptions_exist(html)
    described = dict(page.described)
    assert described["code"] == "id_code_helptext id_code_error"
    assert described["email_confirm"] == "id_email_confirm_error"
    assert re.search(r'id="id_email_confirm_error"><p>Les deux adresses email ne sont pas identiques.</p>', html)

    summary = re.search(r'<div class="error-summary" tabindex="-1" data-error-summary.*?</div>', html, re.S)
    assert summary, "pas de résumé des erreurs"
    assert summary.start() < html.index('name="code"'), "le résumé doit précéder les champs"
    assert "Le formulaire contient des erreurs" in summary.group()
    assert 'href="#id_code"' in summary.group()
    assert 'href="#id_email_confirm">Confirmer votre email : Les deux adresses email ne sont pas identiques.' in (
        summary.group()
    )
    assert 'href="#id_captcha_1"' in summary.group()


def test_form_fields_include_links_errors_on_account_creation(client):
    html = client.post(
        reverse("portal:register_start"),
        {"identity": "", "phone": "", "accept_terms": "on", "accept_data_processing": "on"},
    ).content.decode()
    page = assert_descriptions_exist(html)
    assert dict(page.described) == {"identity": "id_identity_error", "phone": "id_phone_error"}
    assert 'href="#id_identity">CIN / ICE : ' in html


def test_efacture_filters_written_out_link_their_help_and_errors(client):
    from rak_base.models import User
    from tests.factories import customer_with_account

    customer, _user = customer_with_account()
    client.force_login(User.objects.get(username=customer.code))
    html = client.get(reverse("portal:efacture"), {"echeance": "13/2026"}).content.decode()
    page = assert_descriptions_exist(html)
    assert dict(page.described)["echeance"] == "id_echeance_helptext id_echeance_error"
    assert 'aria-invalid="true"' in html


def test_simulator_choice_groups_are_described_by_their_errors(client):
    html = client.post(reverse("portal:simulator"), {}).content.decode()
    page = assert_descriptions_exist(html)
    assert ("fieldset", "id_service_error") in page.described
    assert "Le formulaire contient des erreurs" in html
