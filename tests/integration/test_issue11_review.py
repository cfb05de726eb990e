"""Issue 11 review (H7): defects found reading the outage notices, resolving actions,
interventions, escalation and message templates — each test failed before its fix."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rak_requests.complaint_models import ComplaintEntry, FieldIntervention
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
