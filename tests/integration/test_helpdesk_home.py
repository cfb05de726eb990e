"""The back-office home shows the helpdesk's figures (open, overdue, mine complaints; interventions
to do) to those who may see them, each linked to its filtered list — through HOOK_BACKOFFICE_STATS,
so rak_customer's home knows nothing of complaints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from rak_base import clock
from rak_requests.complaint_models import ComplaintCategory
from rak_requests.complaints import services
from tests.factories import staff_in

pytestmark = pytest.mark.django_db


def _file(now, **kwargs):
    filing = services.ComplaintFiling(
        category=ComplaintCategory.objects.get(code=kwargs.pop("category", "facturation")),
        name="Client Test",
        phone="0612345678",
        message="Facture contestée",
        **kwargs,
    )
    return services.complaint_file(filing=filing, now=now, staff_user=None)


def test_home_shows_open_overdue_and_mine(client):
    now = clock.now()
    agent = staff_in("accueil", client=client)
    mine = _file(now)
    services.complaint_take(complaint_id=mine.pk, staff_user=agent, now=now)
    _file(now - timedelta(days=2), category="coupure", source="INCIDENT", address="Rue 1")  # 12 h: overdue
    page = client.get(reverse("admin:index")).content.decode()
    complaints = reverse("admin:rak_requests_complaint_changelist")
    assert "Réclamations ouvertes" in page and f"{complaints}?etat=ouvertes" in page
    assert "Réclamations en retard" in page and f"{complaints}?delai=overdue" in page
    assert "Mes réclamations" in page


def test_home_hides_the_helpdesk_from_who_may_not_see_it(client):
    staff_in(client=client)  # no group
    page = client.get(reverse("admin:index")).content.decode()
    assert "Réclamations ouvertes" not in page


def test_sidebar_has_the_helpdesk(client):
    staff_in("technique", client=client)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Réclamations et incidents" in page
    assert reverse("admin:rak_requests_fieldintervention_changelist") in page
    assert reverse("admin:rak_requests_outagenotice_changelist") in page
