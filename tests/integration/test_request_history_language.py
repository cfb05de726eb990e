"""A request's history lines written by the system are stored in French (the source language) and
translated for whoever reads them: filed from the Arabic portal, « Demande déposée sur l'agence en
ligne. » was stored in Arabic, then shown in Arabic on the French portal and to the back office."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from rak_base import clock
from rak_requests.flow import kind_request_file
from rak_requests.kinds.attestation import KIND, AttestationData, AttestationType
from rak_requests.models import RequestEvent, ServiceRequest
from tests.factories import DossierFactory, StaffFactory, customer_with_account

pytestmark = pytest.mark.django_db

FILED_FR = "Demande déposée sur l'agence en ligne."


def file_in(language: str, channel: str, *, customer, actor):
    dossier = DossierFactory(customer=customer)
    with translation.override(language):
        return kind_request_file(
            kind=KIND,
            customer=customer,
            data=AttestationData(attestation_type=AttestationType.SUBSCRIPTION, dossier_number=dossier.number),
            staged={},
            staging_token="",
            now=clock.now(),
            actor=actor,
            channel=channel,
            identity_checked=channel == ServiceRequest.Channel.AGENCY,
        )


def test_filed_from_the_arabic_portal_is_stored_in_french_and_read_in_each_language(client):
    customer, user = customer_with_account()
    request = file_in("ar", ServiceRequest.Channel.WEB, customer=customer, actor=user)
    filed = RequestEvent.objects.get(request=request, kind=RequestEvent.Kind.FILED)
    assert filed.message == FILED_FR
    with translation.override("ar"):
        arabic = translation.gettext(FILED_FR)
    assert arabic != FILED_FR  # the catalogue has it

    client.force_login(user)
    url = reverse("portal:request_detail", args=[request.number])
    client.cookies["rak_language"] = "fr"
    french_page = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert FILED_FR.replace("'", "&#x27;") in french_page and arabic not in french_page
    client.cookies["rak_language"] = "ar"
    arabic_page = client.get(url, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert arabic in arabic_page


def test_identity_checked_at_the_counter_is_stored_in_french_whatever_the_active_language():
    customer, _user = customer_with_account()
    request = file_in("ar", ServiceRequest.Channel.AGENCY, customer=customer, actor=StaffFactory())
    messages = dict(RequestEvent.objects.filter(request=request).values_list("kind", "message"))
    assert messages[RequestEvent.Kind.FILED] == "Demande déposée au guichet."
    assert messages[RequestEvent.Kind.IDENTITY_CHECKED] == "Pièce d'identité vérifiée au guichet."
