"""Outage and works notices (rak_requests.outages, issue 11): who is concerned (the right district's
or round's customers with an active dossier of that service), one SMS per customer, the opt-out,
publishing twice, the updates, the refusals with their French message, the back office's
permission, and the portal pages (home, dashboard, « Coupures et travaux en cours ») with their
query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rak_base import clock
from rak_base.models import Message
from rak_base.sms_length import sms_length
from rak_customer.models import Dossier, Service
from rak_requests import outages
from rak_requests.complaint_models import OutageNotice, OutageNoticeRecipient
from tests.factories import (
    CustomerFactory,
    DossierFactory,
    MeterFactory,
    PhoneFactory,
    PremisesFactory,
    customer_with_account,
    staff_in,
)
from tests.reading_factories import ReadingRoundFactory

pytestmark = pytest.mark.django_db


def _customer(district: str, *, service=Service.EAU, phone: bool = True, opt_in: bool = True, round_code: str = ""):
    customer = CustomerFactory(sms_service_notices=opt_in)
    if phone:
        PhoneFactory(customer=customer)
    _dossier(customer, district, service=service, round_code=round_code)
    return customer


def _dossier(customer, district: str, *, service=Service.EAU, status=Dossier.Status.ACTIVE, round_code: str = ""):
    meter = MeterFactory(service=service) if service != Service.ASSAINISSEMENT else None
    return DossierFactory(
        customer=customer,
        service=service,
        status=status,
        meter=meter,
        premises=PremisesFactory(district=district, round_code=round_code),
    )


def _data(**kwargs) -> outages.OutageNoticeData:
    now = kwargs.pop("now", None) or clock.now()
    values = {
        "kind": OutageNotice.Kind.PLANNED,
        "service": Service.EAU,
        "starts_at": now + timedelta(days=2),
        "expected_end_at": now + timedelta(days=2, hours=5),
        "reason": "Raccordement sur la conduite principale",
        "districts": ("Saknia",),
    }
    values.update(kwargs)
    return outages.OutageNoticeData(**values)


def _sms(notice: OutageNotice) -> list[Message]:
    return list(Message.objects.filter(channel=Message.Channel.SMS, kind__startswith=f"outage:{notice.pk}:"))


@pytest.fixture
def staff(db):
    return staff_in("technique")


def test_publish_reaches_only_the_districts_customers_with_an_active_dossier_of_that_service(staff):
    now = clock.now()
    inside = _customer("Saknia")
    other_district = _customer("Maamora")
    electricity_only = _customer("Saknia", service=Service.ELECTRICITE)
    terminated = CustomerFactory()
    PhoneFactory(customer=terminated)
    _dossier(terminated, "Saknia", status=Dossier.Status.TERMINATED)
    notice = outages.outage_notice_create(data=_data(now=now), user=staff, now=now)

    result = outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)

    concerned = set(OutageNoticeRecipient.objects.filter(notice=notice).values_list("customer_id", flat=True))
    assert concerned == {inside.pk}
    assert (result.recipients, result.sms) == (1, 1)
    notice.refresh_from_db()
    assert notice.status == OutageNotice.Status.PUBLISHED and notice.published_by == staff
    assert (notice.recipients_count, notice.sms_count) == (1, 1)
    [sms] = _sms(notice)
    assert sms.recipient == inside.contacts.get().value
    assert "coupure d'eau programmée" in sms.body and "Saknia" in sms.body and notice.number in sms.body
    assert not Message.objects.filter(
        recipient__in=[c.contacts.get().value for c in (other_district, electricity_only)]
    )


def test_reading_rounds_are_an_area_too(staff):
    now = clock.now()
    ReadingRoundFactory(code="K07")
    in_round = _customer("Bir Rami", round_code="K07")
    _customer("Bir Rami", round_code="K08")
    notice = outages.outage_notice_create(data=_data(now=now, districts=(), round_codes=("k07",)), user=staff, now=now)
    assert notice.round_codes == ["K07"]
    outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    assert list(notice.recipients.values_list("customer_id", flat=True)) == [in_round.pk]


def test_one_sms_per_customer_whatever_the_number_of_dossiers(staff):
    now = clock.now()
    customer = _customer("Saknia")
    _dossier(customer, "Saknia")
    _dossier(customer, "Saknia")
    notice = outages.outage_notice_create(data=_data(now=now), user=staff, now=now)
    result = outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    assert (result.recipients, result.sms) == (1, 1)
    assert len(_sms(notice)) == 1


def test_opt_out_gets_no_sms_but_still_sees_the_notice_on_the_dashboard(staff, client):
    now = clock.now()
    customer, user = customer_with_account(phone="+212661000111")
    customer.sms_service_notices = False
    customer.save()
    _dossier(customer, "Saknia")
    no_phone = _customer("Saknia", phone=False)
    notice = outages.outage_notice_create(data=_data(now=now), user=staff, now=now)
    preview = outages.outage_notice_preview(notice, now=now)
    assert (preview.customers, preview.sms, preview.opted_out, preview.no_phone) == (2, 0, 1, 1)

    result = outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)

    assert (result.recipients, result.sms) == (2, 0)
    assert not Message.objects.filter(recipient="+212661000111").exists()
    assert OutageNoticeRecipient.objects.filter(notice=notice, customer=no_phone, sms_queued=False).exists()
    client.force_login(user)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="outage-banner"' in page and notice.number in page


def test_publishing_twice_sends_nothing_more(staff):
    now = clock.now()
    _customer("Saknia")
    notice = outages.outage_notice_create(data=_data(now=now), user=staff, now=now)
    outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    with pytest.raises(outages.OutageNoticeAlreadyPublished, match="déjà publié"):
        outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    # and even the set-based steps themselves add nobody a second time
    assert outages._recipients_insert(notice) == 0
    assert outages._first_sms_recipients(notice) == []
    assert len(_sms(notice)) == 1


def test_refusals_have_their_french_message(staff):
    now = clock.now()
    ReadingRoundFactory(code="K01")
    _customer("Saknia")
    cases = [
        (_data(now=now, expected_end_at=now + timedelta(days=1)), "postérieure au début"),
        (_data(now=now, reason="  "), "Indiquez le motif"),
        (_data(now=now, districts=("Atlantide",)), "Quartier inconnu : Atlantide"),
        (_data(now=now, districts=(), round_codes=("ZZ9",)), "Tournée de relève inconnue : ZZ9"),
        (_data(now=now, service=Service.ASSAINISSEMENT), "l'avis est un avis de « Travaux »"),
        (_data(now=now, expected_end_at=now + timedelta(days=90)), "dépasse 60 jours"),
    ]
    for data, message in cases:
        with pytest.raises(outages.OutageNoticeInvalid, match=message):
            outages.outage_notice_create(data=data, user=staff, now=now)
    # a planned cut whose start is past: refused at publication (it is an unplanned one)
    past = outages.outage_notice_create(
        data=_data(now=now, starts_at=now - timedelta(hours=1), expected_end_at=now + timedelta(hours=3)),
        user=staff,
        now=now,
    )
    with pytest.raises(outages.OutageNoticeInvalid, match="Coupure imprévue"):
        outages.outage_notice_publish(notice_id=past.pk, user=staff, now=now)
    assert not past.recipients.exists() and not Message.objects.exists()
    # …which is fine for an unplanned cut; sanitation works are fine too
    outages.outage_notice_edit(
        notice_id=past.pk,
        data=_data(
            now=now,
            kind=OutageNotice.Kind.UNPLANNED,
            starts_at=now - timedelta(hours=1),
            expected_end_at=now + timedelta(hours=3),
        ),
        user=staff,
        now=now,
    )
    outages.outage_notice_publish(notice_id=past.pk, user=staff, now=now)
    with pytest.raises(outages.OutageNoticeNotDraft):
        outages.outage_notice_edit(notice_id=past.pk, data=_data(now=now), user=staff, now=now)
    outages.outage_notice_create(
        data=_data(now=now, kind=OutageNotice.Kind.WORKS, service=Service.ASSAINISSEMENT), user=staff, now=now
    )


def test_update_end_and_cancel_tell_the_customers_who_were_told_once(staff):
    now = clock.now()
    told = _customer("Saknia")
    _customer("Saknia", opt_in=False)
    notice = outages.outage_notice_create(
        data=_data(now=now, kind=OutageNotice.Kind.UNPLANNED, starts_at=now - timedelta(hours=1)), user=staff, now=now
    )
    outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    new_end = notice.expected_end_at + timedelta(hours=3)

    assert outages.outage_notice_update(notice_id=notice.pk, expected_end_at=new_end, user=staff, now=now) == 1
    with pytest.raises(outages.OutageNoticeInvalid, match="déjà celle-ci"):  # a double click sends nothing
        outages.outage_notice_update(notice_id=notice.pk, expected_end_at=new_end, user=staff, now=now)
    # only the information changed: saved, nothing sent
    assert (
        outages.outage_notice_update(
            notice_id=notice.pk, expected_end_at=new_end, details="Citernes place de la mairie", user=staff, now=now
        )
        == 0
    )
    updated = Message.objects.get(kind=f"outage:{notice.pk}:updated")
    assert updated.recipient == told.contacts.get().value and "maintenant prévue" in updated.body

    assert outages.outage_notice_end(notice_id=notice.pk, user=staff, now=now, notify=True) == 1
    assert "rétabli" in Message.objects.get(kind=f"outage:{notice.pk}:ended").body
    with pytest.raises(outages.OutageNoticeEnded):
        outages.outage_notice_end(notice_id=notice.pk, user=staff, now=now)
    with pytest.raises(outages.OutageNoticeEnded):
        outages.outage_notice_cancel(notice_id=notice.pk, reason="Erreur", user=staff, now=now)
    notice.refresh_from_db()
    assert notice.sms_count == 3
    reasons = list(notice.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons[0] == "Brouillon créé" and reasons[1].startswith("Publié") and "Rétablissement" in reasons[-1]


def test_cancel_tells_those_who_were_told_and_leaves_the_portal(staff, client):
    now = clock.now()
    _customer("Saknia")
    notice = outages.outage_notice_create(data=_data(now=now), user=staff, now=now)
    outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    with pytest.raises(outages.OutageNoticeInvalid, match="motif de l'annulation"):
        outages.outage_notice_cancel(notice_id=notice.pk, reason=" ", user=staff, now=now)
    assert outages.outage_notice_cancel(notice_id=notice.pk, reason="Travaux reportés", user=staff, now=now) == 1
    assert "Travaux reportés" in Message.objects.get(kind=f"outage:{notice.pk}:cancelled").body
    assert notice.number not in client.get(reverse("portal:outages")).content.decode()
    assert client.get(reverse("portal:outage_detail", args=[notice.number])).status_code == 404


def test_sms_stays_within_two_parts_with_many_long_districts(staff):
    now = clock.now()
    names = [f"Quartier Maâmora Extension {i}" for i in range(12)]
    for name in names:
        _customer(name)
    notice = outages.outage_notice_create(
        data=_data(now=now, districts=tuple(names), reason="Réparation d'une fuite " * 10), user=staff, now=now
    )
    outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    bodies = {m.body for m in _sms(notice)}
    assert len(bodies) == 1 and len(_sms(notice)) == 12
    length = sms_length(bodies.pop())
    assert length.encoding == "GSM-7" and length.segments <= 2
    assert "autres" in _sms(notice)[0].body


def test_current_for_a_place_is_what_signaler_une_coupure_shows(staff):
    now = clock.now()
    _customer("Saknia")
    notice = outages.outage_notice_create(
        data=_data(now=now, kind=OutageNotice.Kind.UNPLANNED, starts_at=now - timedelta(hours=1)), user=staff, now=now
    )
    assert outages.outage_notice_current_for(service=Service.EAU, district="Saknia", now=now) is None  # a draft
    outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    assert outages.outage_notice_current_for(service=Service.EAU, district="Saknia", now=now) == notice
    assert outages.outage_notice_current_for(service=Service.ELECTRICITE, district="Saknia", now=now) is None
    assert outages.outage_notice_current_for(service=Service.EAU, district="Maamora", now=now) is None
    assert outages.outage_notice_current_for(service=Service.EAU, now=now) is None
    later = now + timedelta(days=3)
    assert outages.outage_notice_current_for(service=Service.EAU, district="Saknia", now=later) is None
    assert list(outages.outage_notices_current(now=now)) == [notice]


def test_the_back_office_needs_the_publish_permission(client, staff):
    now = clock.now()
    _customer("Saknia")
    notice = outages.outage_notice_create(data=_data(now=now), user=staff, now=now)
    accueil = staff_in("accueil", client=client)
    assert accueil.has_perm("rak_requests.view_outagenotice")
    page = client.get(reverse("admin:rak_requests_outagenotice_change", args=[notice.pk]))
    assert (
        page.status_code == 200
        and "Publier" not in page.content.decode().split("notice-preview")[-1].split("</section>")[0]
    )
    assert client.post(reverse("admin:rak_requests_outage_publish", args=[notice.pk])).status_code == 403
    assert client.get(reverse("admin:rak_requests_outagenotice_add")).status_code == 403
    notice.refresh_from_db()
    assert notice.status == OutageNotice.Status.DRAFT and not Message.objects.exists()


def test_the_back_office_creates_previews_and_publishes(client, staff):
    _customer("Saknia")
    _customer("Saknia", opt_in=False)
    client.force_login(staff)
    day = timezone.localtime(clock.now() + timedelta(days=5)).strftime("%Y-%m-%d")  # within MAX_ADVANCE
    form = {
        "kind": "PLANNED",
        "service": "EAU",
        "districts": ["Saknia"],
        "starts_at": f"{day}T08:00",
        "expected_end_at": f"{day}T07:00",
        "reason": "Raccordement",
    }
    bad = client.post(reverse("admin:rak_requests_outagenotice_add"), form)
    assert bad.status_code == 400 and "postérieure au début" in bad.content.decode()
    assert 'value="Raccordement"' in bad.content.decode()  # what was typed is kept
    form["expected_end_at"] = f"{day}T12:00"
    response = client.post(reverse("admin:rak_requests_outagenotice_add"), form)
    notice = OutageNotice.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("admin:rak_requests_outagenotice_change", args=[notice.pk])).content.decode()
    assert 'data-testid="preview-customers">2<' in page and 'data-testid="preview-sms">1<' in page
    client.post(reverse("admin:rak_requests_outage_publish", args=[notice.pk]))
    client.post(reverse("admin:rak_requests_outage_publish", args=[notice.pk]))  # double click
    notice.refresh_from_db()
    assert notice.status == OutageNotice.Status.PUBLISHED and len(_sms(notice)) == 1
    listing = client.get(reverse("admin:rak_requests_outagenotice_changelist") + "?periode=upcoming")
    assert listing.status_code == 200 and notice.number in listing.content.decode()


def test_portal_pages_cost_a_fixed_number_of_queries(client, staff, django_assert_max_num_queries):
    now = clock.now()
    customer, user = customer_with_account(phone="+212661000222")
    for district in ("Saknia", "Maamora", "Bir Rami"):
        _dossier(customer, district)
        _dossier(customer, district, service=Service.ELECTRICITE)
    other, _user = customer_with_account(phone="+212661000333")
    _dossier(other, "Mimosas")
    for district in ("Saknia", "Maamora", "Bir Rami", "Mimosas"):
        notice = outages.outage_notice_create(
            data=_data(
                now=now, districts=(district,), kind=OutageNotice.Kind.UNPLANNED, starts_at=now - timedelta(hours=1)
            ),
            user=staff,
            now=now,
        )
        outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    mimosas = OutageNotice.objects.get(districts=["Mimosas"])

    with django_assert_max_num_queries(3):
        public = client.get(reverse("portal:outages"))
    assert public.status_code == 200 and public.content.decode().count('class="outage outage-') == 4
    home = client.get(reverse("portal:home")).content.decode()
    assert 'data-testid="outage-banner"' in home and "Voir toutes les coupures" in home

    with django_assert_max_num_queries(3):
        assert client.get(reverse("portal:outage_detail", args=[mimosas.number])).status_code == 200

    client.force_login(user)
    client.get(reverse("portal:dashboard"))  # warm the session
    with CaptureQueriesContext(connection) as before:
        dashboard = client.get(reverse("portal:dashboard"))
    page = dashboard.content.decode()
    assert page.count('class="outage outage-') == 3 and mimosas.number not in page  # only theirs
    # more dossiers and more notices of theirs: the same number of queries
    for district in ("Saknia", "Maamora"):
        _dossier(customer, district)
    notice = outages.outage_notice_create(
        data=_data(now=now, districts=("Saknia",), service=Service.ELECTRICITE), user=staff, now=now
    )
    outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    with CaptureQueriesContext(connection) as after:
        page = client.get(reverse("portal:dashboard")).content.decode()
    assert page.count('class="outage outage-') == 4
    assert len(after) == len(before)


def test_the_back_office_follow_up_forms_refuse_with_the_input_kept(client, staff):
    now = clock.now().replace(second=0, microsecond=0)  # what the form's minutes give back
    _customer("Saknia")
    notice = outages.outage_notice_create(
        data=_data(now=now, kind=OutageNotice.Kind.UNPLANNED, starts_at=now - timedelta(hours=1)), user=staff, now=now
    )
    outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    client.force_login(staff)
    same_end = timezone.localtime(notice.expected_end_at).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("admin:rak_requests_outage_update", args=[notice.pk]),
        {"update-expected_end_at": same_end, "update-details": "", "update-notify": "on"},
    )
    assert response.status_code == 400 and "déjà celle-ci" in response.content.decode()
    response = client.post(reverse("admin:rak_requests_outage_cancel", args=[notice.pk]), {"cancel-reason": ""})
    assert response.status_code == 400
    assert "Indiquez le motif de l'annulation." in response.content.decode().replace("&#x27;", "'")
    later = timezone.localtime(notice.expected_end_at + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("admin:rak_requests_outage_update", args=[notice.pk]),
        {"update-expected_end_at": later, "update-details": "Citernes", "update-notify": "on"},
    )
    assert response.status_code == 302
    response = client.post(reverse("admin:rak_requests_outage_end", args=[notice.pk]), {"end-notify": "on"})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.ended_at is not None and notice.details == "Citernes" and notice.sms_count == 3
    page = client.get(reverse("admin:rak_requests_outagenotice_change", args=[notice.pk])).content.decode()
    assert 'data-testid="notice-history"' in page and "Rétablissement constaté, 1 SMS" in page
    assert 'data-testid="update-form"' not in page  # restored: nothing left to do but read it
    # its history is read only: no « revert » back to a draft around the services
    version = notice.history.order_by("history_date").first()
    revert = reverse("admin:rak_requests_outagenotice_simple_history", args=[notice.pk, version.history_id])
    assert client.post(revert, {}).status_code == 403
    notice.refresh_from_db()
    assert notice.status == OutageNotice.Status.PUBLISHED


@pytest.mark.django_db(transaction=True)
def test_two_publications_at_the_same_time_send_one_sms_each():
    """A double click that reaches two processes: the notice's row lock lets one publish, the other
    is refused; every customer gets one SMS."""
    import threading

    now = clock.now()
    staff = staff_in("technique")
    for _ in range(5):
        _customer("Saknia")
    notice = outages.outage_notice_create(data=_data(now=now), user=staff, now=now)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def publish():
        try:
            barrier.wait(timeout=10)
            results.append(outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now))
        except outages.OutageNoticeAlreadyPublished as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(type(r).__name__ for r in results) == ["OutageNoticeAlreadyPublished", "OutagePublished"]
    assert len(_sms(notice)) == 5 and len({m.recipient for m in _sms(notice)}) == 5
