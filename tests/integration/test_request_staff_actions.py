"""The back office renders any request type's own actions (``RequestKind.staff_actions``) on the
request's page, one small form each, and runs them: permission, form errors next to the fields with
the input kept, the service's refusal shown, a stale page refused — never a 500. A test-only type
is registered here (no real type is needed to prove the generic rendering)."""

from __future__ import annotations

from html import unescape

import pytest
from django import forms
from django.urls import reverse

from rak_requests.engine import RequestError
from rak_requests.kinds.base import PhaseRule, RequestKind, StaffAction, kind_register, kind_unregister
from rak_requests.models import Phase, RequestEvent, RequestType, ServiceRequest
from rak_requests.services import request_accept_phase, request_note
from tests.factories import staff_in
from tests.integration.test_backoffice import followed_messages, page_messages
from tests.request_factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db

CODE = "TEST_ACTIONS"


class AmountForm(forms.Form):
    amount = forms.IntegerField(label="Montant relevé", min_value=1)


def _record(*, request_id, staff, now, data):
    request_note(request_id=request_id, staff=staff, text=f"Montant relevé : {data['amount']}", now=now)
    return "montant enregistré."


def _refuse(*, request_id, staff, now, data):
    raise RequestError("Le compteur n'est pas accessible.")


class ActionsKind(RequestKind):
    code = CODE
    phases = {Phase.Code.TRAITEMENT: PhaseRule(), Phase.Code.ENQUETE: PhaseRule(technical=True)}

    def staff_actions(self, request):
        return [
            StaffAction(
                name="record",
                label="Enregistrer le montant",
                run=_record,
                form_class=AmountForm,
                phases=(Phase.Code.TRAITEMENT,),
            ),
            StaffAction(name="refuse", label="Tenter l'accès", run=_refuse),
            StaffAction(
                name="technical",
                label="Action technique",
                run=_record,
                form_class=AmountForm,
                permission="rak_requests.act_technical_phase",
            ),
        ]


@pytest.fixture
def test_kind():
    kind_register(ActionsKind())
    yield
    kind_unregister(CODE)


@pytest.fixture
def request_(test_kind):
    request_type = RequestType.objects.create(code=CODE, name="Demande de test", number_prefix="TT")
    phase = Phase.objects.create(request_type=request_type, code=Phase.Code.TRAITEMENT, name="Traitement", position=1)
    Phase.objects.create(request_type=request_type, code=Phase.Code.ENQUETE, name="Enquête", position=2)
    return ServiceRequestFactory(request_type=request_type, phase=phase, data={})


def text(response) -> str:
    return unescape(response.content.decode())


def page_url(r) -> str:
    return reverse("admin:rak_requests_servicerequest_change", args=[r.pk])


def action_url(r, name) -> str:
    return reverse("admin:rak_requests_servicerequest_staff_action", args=[r.pk, name])


def seen(r) -> dict:
    r.refresh_from_db()
    return {"seen_phase": r.phase.code if r.phase_id else "", "seen_status": r.status}


def test_actions_render_as_forms_and_run_one_service(client, request_):
    staff_in("accueil", client=client)
    page = text(client.get(page_url(request_)))
    assert "Actions de cette phase" in page
    assert "Enregistrer le montant" in page and "Montant relevé" in page and "Tenter l'accès" in page
    assert action_url(request_, "record") in page
    assert "Action technique" not in page  # the front desk lacks the technical permission

    done = client.post(action_url(request_, "record"), {"sa_record-amount": "125", **seen(request_)})
    assert any("montant enregistré." in m for m in followed_messages(client, done))
    note = request_.events.get(kind=RequestEvent.Kind.NOTE)
    assert note.message == "Montant relevé : 125"


def test_form_errors_are_shown_by_the_field_with_the_input_kept(client, request_):
    staff_in("accueil", client=client)
    response = client.post(action_url(request_, "record"), {"sa_record-amount": "0", **seen(request_)})
    assert response.status_code == 400
    page = text(response)
    assert "Assurez-vous que cette valeur est supérieure ou égale à 1." in page
    assert 'value="0"' in page  # what the agent typed is still there
    assert any("Montant relevé" in m for m in page_messages(response))
    assert not request_.events.filter(kind=RequestEvent.Kind.NOTE).exists()


def test_a_refusal_of_the_service_is_an_error_message(client, request_):
    staff_in("accueil", client=client)
    response = client.post(action_url(request_, "refuse"), seen(request_))
    assert any("Le compteur n'est pas accessible." in m for m in followed_messages(client, response))


def test_without_the_permission_the_action_is_refused(client, request_):
    staff_in("accueil", client=client)
    response = client.post(action_url(request_, "technical"), {"sa_technical-amount": "3", **seen(request_)})
    assert response.status_code == 403
    assert not request_.events.filter(kind=RequestEvent.Kind.NOTE).exists()

    staff_in("technique", client=client)
    assert "Action technique" in text(client.get(page_url(request_)))
    response = client.post(action_url(request_, "technical"), {"sa_technical-amount": "3", **seen(request_)})
    assert any("montant enregistré." in m for m in followed_messages(client, response))


def test_stale_page_phase_filter_and_closed_request(client, request_):
    agent = staff_in("accueil", "technique", client=client)  # « Enquête » is a technical phase
    loaded = seen(request_)
    request_accept_phase(request_id=request_.pk, staff=agent, now=request_.filed_at)  # -> Enquête
    stale = client.post(action_url(request_, "refuse"), loaded)
    assert any("a changé depuis l'affichage de votre page" in m for m in followed_messages(client, stale))
    # « record » is offered in « Traitement » only
    page = text(client.get(page_url(request_)))
    assert "Enregistrer le montant" not in page and "Tenter l'accès" in page
    wrong_phase = client.post(action_url(request_, "record"), {"sa_record-amount": "5", **seen(request_)})
    assert followed_messages(client, wrong_phase)
    assert not request_.events.filter(kind=RequestEvent.Kind.NOTE).exists()
    # closed: no action at all (open_only)
    ServiceRequest.objects.filter(pk=request_.pk).update(status=ServiceRequest.Status.ACCEPTEE)
    assert "Actions de cette phase" not in text(client.get(page_url(request_)))
    unknown = client.post(action_url(request_, "nope"), seen(request_))
    assert unknown.status_code == 302
    assert client.get(action_url(request_, "refuse")).status_code == 405
