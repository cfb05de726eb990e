"""Two tabs (or two agents) on one request page: each button posts the phase and the state the
agent saw; an action from a page that no longer shows the request as it is is refused with a
French message, whatever the button (accept, reject, complement) — a refusal from a stale tab
never overrides a phase accepted elsewhere. Also on real threads against PostgreSQL: of an accept
and a reject pressed at the same instant, exactly one wins and the other is told why."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from rak_requests.models import Phase, RequestEvent, ServiceRequest
from tests.integration.test_backoffice import followed_messages
from tests.integration.test_request_backoffice import change_url, form_data, staff_in
from tests.request_factories import ServiceRequestFactory

Code = Phase.Code
STALE = "a changé depuis l'affichage de votre page"


def tab(client, r) -> dict[str, list]:
    """The request page as one tab loaded it: what its form would post."""
    return form_data(client, change_url(r))


def press_from(client, r, data: dict[str, list], button: str, **fields):
    posted = {**data, **{key: [value] for key, value in fields.items()}}
    posted[f"rak_requests_servicerequest_{button}"] = [""]
    return client.post(change_url(r), posted)


@pytest.fixture
def agent(client, db):
    user = staff_in("accueil", first_name="Salma")
    client.force_login(user)
    return user


@pytest.mark.django_db
def test_a_reject_from_a_stale_tab_does_not_override_a_phase_accepted_in_another(client, agent):
    r = ServiceRequestFactory()
    first, second = tab(client, r), tab(client, r)
    followed_messages(client, press_from(client, r, first, "accept_phase"))
    r.refresh_from_db()
    assert r.phase.code == Code.RECEVABILITE_TECH

    answer = followed_messages(client, press_from(client, r, second, "reject", action_message="Pièces illisibles"))
    assert any(STALE in m and "Recevabilité technique" in m for m in answer), answer
    r.refresh_from_db()
    assert r.status == ServiceRequest.Status.EN_COURS and r.phase.code == Code.RECEVABILITE_TECH
    assert not r.events.filter(kind=RequestEvent.Kind.REJECTED).exists()

    # nor a complement asked from the stale tab
    answer = followed_messages(client, press_from(client, r, second, "ask_complement", action_message="CIN ?"))
    assert any(STALE in m for m in answer), answer
    r.refresh_from_db()
    assert r.status == ServiceRequest.Status.EN_COURS
    # the page reloaded acts normally
    followed_messages(client, press_from(client, r, tab(client, r), "reject", action_message="Pièces illisibles"))
    r.refresh_from_db()
    assert r.status == ServiceRequest.Status.REJETEE


@pytest.mark.django_db
def test_a_stale_tab_cannot_reject_while_a_complement_was_asked_in_another(client, agent):
    r = ServiceRequestFactory()
    first, second = tab(client, r), tab(client, r)
    followed_messages(client, press_from(client, r, first, "ask_complement", action_message="Joignez la CIN."))
    answer = followed_messages(client, press_from(client, r, second, "reject", action_message="Dossier incomplet"))
    assert any(STALE in m and "Complément demandé" in m for m in answer), answer
    r.refresh_from_db()
    assert r.status == ServiceRequest.Status.COMPLEMENT_DEMANDE


@pytest.mark.django_db
def test_a_post_without_the_phase_seen_is_refused(client, agent):
    r = ServiceRequestFactory()
    data = tab(client, r)
    data.pop("seen_phase")
    data.pop("seen_status", None)
    answer = followed_messages(client, press_from(client, r, data, "reject", action_message="Motif"))
    assert any("rechargez la page" in m.lower() for m in answer), answer
    r.refresh_from_db()
    assert r.status == ServiceRequest.Status.EN_COURS


@pytest.mark.django_db(transaction=True)
def test_accept_and_reject_pressed_at_once_on_real_threads_one_wins(db):
    accueil = staff_in("accueil", username="agent.a")
    other = staff_in("accueil", username="agent.b")
    r = ServiceRequestFactory()
    clients = []
    for user in (accueil, other):
        c = Client()
        c.force_login(user)
        clients.append(c)
    pages = [tab(clients[0], r), tab(clients[1], r)]
    barrier = threading.Barrier(2)
    responses: dict[str, object] = {}

    def run(index: int, button: str, **fields):
        try:
            barrier.wait(timeout=10)
            responses[button] = (index, press_from(clients[index], r, pages[index], button, **fields))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            responses[button] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(0, "accept_phase")),
        threading.Thread(target=run, args=(1, "reject"), kwargs={"action_message": "Local non raccordable"}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(isinstance(v, tuple) for v in responses.values()), responses
    # the pages the two agents land on, read one after the other (the test client's page context
    # is not thread-safe)
    results = {button: followed_messages(clients[index], response) for button, (index, response) in responses.items()}
    r.refresh_from_db()
    decisions = r.events.filter(kind__in=[RequestEvent.Kind.PHASE, RequestEvent.Kind.REJECTED]).count()
    assert decisions == 1
    refused = [m for messages in results.values() for m in messages if STALE in m or "changé" in m]
    assert len(refused) == 1, results
    if r.status == ServiceRequest.Status.REJETEE:
        assert r.phase.code == Code.RECEVABILITE_ADMIN
    else:
        assert r.status == ServiceRequest.Status.EN_COURS and r.phase.code == Code.RECEVABILITE_TECH
