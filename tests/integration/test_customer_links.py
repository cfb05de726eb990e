"""Several codes clients in one account (issue 13): rak_customer.links (link with the code sent by SMS
to the linked customer's phone, refusals, throttles, unlink), customer_acting_for, and the portal's
« Mes codes clients » page and header switch (every private page shows the chosen code client)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from rak_base import clock
from rak_base.models import Message
from rak_customer import links
from rak_customer.link_models import CustomerLink
from rak_customer.selectors import customer_acting_for, customer_link_choices, user_may_act_for
from rak_portal.views.account import ACTIVE_CUSTOMER_SESSION_KEY
from tests.billing_factories import bill_create
from tests.factories import (
    CustomerFactory,
    DossierFactory,
    PhoneFactory,
    customer_with_account,
)

pytestmark = pytest.mark.django_db

LANDLORD_PHONE = "+212612345678"
FLAT_PHONE = "+212661000111"


@pytest.fixture
def landlord():
    customer, user = customer_with_account(phone=LANDLORD_PHONE, first_name="Karim", last_name="Tazi")
    return customer, user


@pytest.fixture
def flat():
    """Another customer (the flat's contract), with an SMS phone and an unpaid bill."""
    customer = CustomerFactory(first_name="Nadia", last_name="Mehdia", cin="AB123456")
    PhoneFactory(customer=customer, value=FLAT_PHONE)
    bill = bill_create(dossier=DossierFactory(customer=customer))
    customer.unpaid_bill = bill
    return customer


def _link(user, customer, sms_outbox, label="", later=0):
    """Link ``customer`` to ``user``'s account (``later`` minutes from now: a second code to the
    same phone only after a minute)."""
    now = clock.now() + timedelta(minutes=later)
    pending = links.customer_link_start(
        user=user, customer_code=customer.code, identity=customer.cin, label=label, now=now
    )
    code = sms_outbox.last_code(to=customer.contacts.get(is_sms=True).value)
    return links.customer_link_confirm(user=user, token=pending.token, otp_code=code, now=now)


# --- services -----------------------------------------------------------------------------------


def test_link_with_the_code_sent_to_the_linked_customers_phone(landlord, flat, sms_outbox):
    _own, user = landlord
    pending = links.customer_link_start(
        user=user, customer_code=flat.code, identity="ab123456", label="Appartement Mehdia", now=clock.now()
    )
    assert pending.phone_hint == "11"
    assert FLAT_PHONE not in pending.token  # nothing of the phone in what the requester holds
    sms = sms_outbox.last(to=FLAT_PHONE)
    assert flat.code in sms.body and "autre compte" in sms.body and sms.sensitive
    link = links.customer_link_confirm(
        user=user, token=pending.token, otp_code=sms_outbox.last_code(to=FLAT_PHONE), now=clock.now()
    )
    assert (link.user, link.customer, link.label, link.proved_phone) == (user, flat, "Appartement Mehdia", FLAT_PHONE)
    assert customer_acting_for(user, code=flat.code) == flat


def test_the_linked_customers_own_account_is_told(landlord, sms_outbox):
    _own, user = landlord
    other, other_user = customer_with_account(phone="+212662000222", cin="CD654321")
    _link(user, other, sms_outbox)
    bell = Message.objects.get(user=other_user, channel=Message.Channel.BELL)
    assert other.code in bell.body and "Tazi" in bell.body


def test_wrong_code_is_refused_and_counted(landlord, flat, sms_outbox):
    _own, user = landlord
    pending = links.customer_link_start(user=user, customer_code=flat.code, identity=flat.cin, now=clock.now())
    good = sms_outbox.last_code(to=FLAT_PHONE)
    wrong = "000000" if good != "000000" else "111111"
    with pytest.raises(links.RakError) as error:
        links.customer_link_confirm(user=user, token=pending.token, otp_code=wrong, now=clock.now())
    assert "incorrect" in error.value.message
    assert not CustomerLink.objects.exists()
    # another account cannot use this account's pending request
    _stranger_customer, stranger = customer_with_account(phone="+212663000333", cin="EF111222")
    with pytest.raises(links.LinkRequestExpired):
        links.customer_link_confirm(user=stranger, token=pending.token, otp_code=good, now=clock.now())
    assert links.customer_link_confirm(user=user, token=pending.token, otp_code=good, now=clock.now())


@pytest.mark.parametrize("identity", ["ZZ999999", "AB123457"])
def test_unknown_code_or_wrong_identity_get_the_forgotten_password_sentence(landlord, flat, identity):
    _own, user = landlord
    for code in ("999999999", flat.code):
        with pytest.raises(links.LinkIdentityMismatch) as error:
            links.customer_link_start(user=user, customer_code=code, identity=identity, now=clock.now())
        assert error.value.message.startswith("Code client ou CIN/ICE incorrect")
    assert not Message.objects.filter(channel=Message.Channel.SMS).exists()


def test_no_sms_phone_on_file_sends_to_an_agency(landlord):
    _own, user = landlord
    customer = CustomerFactory(cin="GH222333")
    with pytest.raises(links.LinkNoSmsPhone) as error:
        links.customer_link_start(user=user, customer_code=customer.code, identity="GH222333", now=clock.now())
    assert "agence" in error.value.message


def test_own_code_already_linked_and_cap(landlord, flat, sms_outbox, monkeypatch):
    own, user = landlord
    with pytest.raises(links.LinkOwnCode):
        links.customer_link_start(user=user, customer_code=own.code, identity=own.cin, now=clock.now())
    _link(user, flat, sms_outbox)
    with pytest.raises(links.LinkAlreadyLinked):
        links.customer_link_start(user=user, customer_code=flat.code, identity=flat.cin, now=clock.now())
    monkeypatch.setattr(links, "MAX_LINKS", 1)
    other = CustomerFactory(cin="JK444555")
    PhoneFactory(customer=other)
    with pytest.raises(links.LinkTooMany) as error:
        links.customer_link_start(user=user, customer_code=other.code, identity=other.cin, now=clock.now())
    assert "nombre maximal" in error.value.message


def test_link_starts_are_throttled_per_account(landlord, monkeypatch):
    _own, user = landlord
    monkeypatch.setattr(links, "LINK_STARTS_PER_HOUR", 2)
    for _ in range(2):
        with pytest.raises(links.LinkIdentityMismatch):
            links.customer_link_start(user=user, customer_code="999999999", identity="ZZ999999", now=clock.now())
    with pytest.raises(links.LinkTooManyAttempts):
        links.customer_link_start(user=user, customer_code="999999999", identity="ZZ999999", now=clock.now())


def test_expired_request_is_refused(landlord, flat, sms_outbox):
    _own, user = landlord
    pending = links.customer_link_start(user=user, customer_code=flat.code, identity=flat.cin, now=clock.now())
    later = clock.now() + links.TOKEN_MAX_AGE + timedelta(minutes=1)
    from unittest import mock

    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        with pytest.raises(links.LinkRequestExpired):
            links.customer_link_confirm(
                user=user, token=pending.token, otp_code=sms_outbox.last_code(to=FLAT_PHONE), now=clock.now()
            )


def test_unlink_by_the_customer_or_staff(landlord, flat, sms_outbox):
    from tests.factories import StaffFactory

    _own, user = landlord
    link = _link(user, flat, sms_outbox)
    stranger_customer, stranger = customer_with_account(phone="+212664000444", cin="LM777888")
    with pytest.raises(links.LinkNotFound):
        links.customer_link_unlink(link_id=link.pk, user=stranger, by=stranger, now=clock.now())
    staff = StaffFactory()
    links.customer_link_unlink(link_id=link.pk, by=staff, now=clock.now())
    link.refresh_from_db()
    assert link.unlinked_at is not None and link.unlinked_by == staff
    assert customer_acting_for(user, code=flat.code) is None
    with pytest.raises(links.LinkNotFound):
        links.customer_link_unlink(link_id=link.pk, user=user, by=user, now=clock.now())
    # linked again later: a new row, the history kept
    _link(user, flat, sms_outbox, later=2)
    assert CustomerLink.objects.filter(user=user, customer=flat).count() == 2


def test_customer_acting_for_rules_and_queries(landlord, flat, sms_outbox, django_assert_num_queries):
    own, user = landlord
    _link(user, flat, sms_outbox)
    stranger, _ = customer_with_account(phone="+212665000555", cin="NP999000")
    fresh = type(user).objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        assert customer_acting_for(fresh) == own
    with django_assert_num_queries(2):
        assert customer_acting_for(fresh, code=flat.code) == flat
    assert customer_acting_for(fresh, code=f" {own.code} ") == own
    assert customer_acting_for(fresh, code=stranger.code) is None  # another customer's code: never
    assert customer_acting_for(fresh, code="1\x002") is None
    assert customer_acting_for(fresh, code="x" * 200) is None
    arabic = flat.code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert customer_acting_for(fresh, code=arabic) == flat
    assert user_may_act_for(fresh, flat.pk) and user_may_act_for(fresh, own.pk)
    assert not user_may_act_for(fresh, stranger.pk)
    # an account with no link: the header's switch costs no query once customer_acting_for ran
    lonely = type(user).objects.get(pk=stranger.portal_account.user_id)
    customer_acting_for(lonely)
    with django_assert_num_queries(0):
        assert customer_link_choices(lonely) == []


# --- portal -------------------------------------------------------------------------------------


@pytest.fixture
def logged(client, landlord):
    client.force_login(landlord[1])
    return client


def test_page_lists_own_and_linked_codes(logged, landlord, flat, sms_outbox):
    _own, user = landlord
    _link(user, flat, sms_outbox, label="Appartement Mehdia")
    response = logged.get(reverse("portal:customer_links"))
    assert response.status_code == 200
    html = response.content.decode()
    assert landlord[0].code in html and flat.code in html and "Appartement Mehdia" in html
    assert 'data-testid="customer-switch"' in html  # the header switch shows once a code is linked


def test_portal_link_journey_with_otp(logged, landlord, flat, sms_outbox):
    response = logged.post(
        reverse("portal:customer_link_start"),
        {"customer_code": flat.code, "identity": "AB123456", "label": "Appartement"},
    )
    assert response.status_code == 302
    page = logged.get(reverse("portal:customer_links")).content.decode()
    assert 'data-testid="customer-link-otp"' in page and flat.code in page
    response = logged.post(reverse("portal:customer_link_confirm"), {"otp": "12345"})
    assert response.status_code == 400  # 5 digits: the form's error
    wrong = "000000" if sms_outbox.last_code(to=FLAT_PHONE) != "000000" else "111111"
    response = logged.post(reverse("portal:customer_link_confirm"), {"otp": wrong})
    assert response.status_code == 400 and "incorrect" in response.content.decode()
    response = logged.post(reverse("portal:customer_link_confirm"), {"otp": sms_outbox.last_code(to=FLAT_PHONE)})
    assert response.status_code == 302
    assert CustomerLink.objects.filter(user=landlord[1], customer=flat, label="Appartement").exists()
    page = logged.get(reverse("portal:customer_links")).content.decode()
    assert 'data-testid="customer-link-otp"' not in page and 'data-testid="customer-link-row"' in page


def test_portal_refusals(logged, landlord, flat):
    own, _user = landlord
    response = logged.post(reverse("portal:customer_link_start"), {"customer_code": own.code, "identity": own.cin})
    assert response.status_code == 400 and "propre compte" in response.content.decode()
    response = logged.post(reverse("portal:customer_link_start"), {"customer_code": flat.code, "identity": "ZZ999999"})
    assert response.status_code == 400 and "Code client ou CIN/ICE incorrect" in response.content.decode()
    response = logged.post(reverse("portal:customer_link_start"), {"customer_code": "", "identity": ""})
    assert response.status_code == 400 and 'data-testid="error-summary"' in response.content.decode()


def test_portal_identity_checks_are_throttled_like_forgotten_password(logged, flat):
    from rak_portal.throttling import IDENTITY_CHECKS_PER_TARGET

    for _ in range(IDENTITY_CHECKS_PER_TARGET):
        logged.post(reverse("portal:customer_link_start"), {"customer_code": flat.code, "identity": "ZZ999999"})
    response = logged.post(reverse("portal:customer_link_start"), {"customer_code": flat.code, "identity": flat.cin})
    assert response.status_code == 429
    assert "Trop de vérifications" in response.content.decode()


def test_switch_shows_the_linked_customers_dashboard_and_bills_then_back(logged, landlord, flat, sms_outbox):
    own, user = landlord
    _link(user, flat, sms_outbox)
    unpaid = reverse("portal:unpaid")
    assert flat.unpaid_bill.number not in logged.get(unpaid).content.decode()
    response = logged.post(reverse("portal:customer_switch"), {"code": flat.code, "next": unpaid})
    assert response.status_code == 302 and response["Location"] == unpaid
    assert logged.session[ACTIVE_CUSTOMER_SESSION_KEY] == flat.code
    html = logged.get(unpaid).content.decode()
    assert flat.unpaid_bill.number in html
    assert 'data-testid="active-customer"' in html and "Vous consultez le code client" in html
    dashboard = logged.get(reverse("portal:dashboard")).content.decode()
    assert flat.display_name in dashboard and flat.code in dashboard
    # back to the own code client
    logged.post(reverse("portal:customer_switch"), {"code": own.code})
    assert ACTIVE_CUSTOMER_SESSION_KEY not in logged.session
    assert flat.unpaid_bill.number not in logged.get(unpaid).content.decode()


def test_another_users_code_is_refused_and_the_own_customer_shown(logged, landlord):
    own, _user = landlord
    stranger = CustomerFactory(first_name="Omar", last_name="Inconnu")
    bill = bill_create(dossier=DossierFactory(customer=stranger))
    response = logged.post(reverse("portal:customer_switch"), {"code": stranger.code})
    assert response.status_code == 302
    assert ACTIVE_CUSTOMER_SESSION_KEY not in logged.session
    # even written into the session by other means, the code is not honoured
    session = logged.session
    session[ACTIVE_CUSTOMER_SESSION_KEY] = stranger.code
    session.save()
    html = logged.get(reverse("portal:unpaid")).content.decode()
    assert bill.number not in html
    assert own.display_name in logged.get(reverse("portal:dashboard")).content.decode()
    assert ACTIVE_CUSTOMER_SESSION_KEY not in logged.session


def test_removed_link_falls_back_to_the_own_customer(logged, landlord, flat, sms_outbox):
    own, user = landlord
    link = _link(user, flat, sms_outbox)
    logged.post(reverse("portal:customer_switch"), {"code": flat.code})
    response = logged.post(reverse("portal:customer_link_remove", args=[link.pk]))
    assert response.status_code == 302
    assert ACTIVE_CUSTOMER_SESSION_KEY not in logged.session
    assert CustomerLink.objects.get(pk=link.pk).unlinked_at is not None
    assert own.display_name in logged.get(reverse("portal:dashboard")).content.decode()
    # a link removed by staff while its code is chosen: the next page shows the own customer
    link = _link(user, flat, sms_outbox, later=2)
    logged.post(reverse("portal:customer_switch"), {"code": flat.code})
    links.customer_link_unlink(link_id=link.pk, by=None, now=clock.now())
    assert flat.unpaid_bill.number not in logged.get(reverse("portal:unpaid")).content.decode()


def test_cannot_remove_or_rename_another_accounts_link(logged, flat, sms_outbox):
    _other_customer, other_user = customer_with_account(phone="+212666000666", cin="QR121212")
    link = _link(other_user, flat, sms_outbox)
    logged.post(reverse("portal:customer_link_remove", args=[link.pk]))
    logged.post(reverse("portal:customer_link_label", args=[link.pk]), {"label": "pris"})
    link.refresh_from_db()
    assert link.unlinked_at is None and link.label == ""


def test_rename_a_link(logged, landlord, flat, sms_outbox):
    link = _link(landlord[1], flat, sms_outbox)
    response = logged.post(reverse("portal:customer_link_label", args=[link.pk]), {"label": "Garage"})
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.label == "Garage"


def test_switch_needs_csrf(client, landlord, flat, sms_outbox):
    from django.test import Client

    own, user = landlord
    _link(user, flat, sms_outbox)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(reverse("portal:customer_switch"), {"code": flat.code}).status_code == 403


def test_switch_redirects_only_to_this_site(logged, landlord, flat, sms_outbox):
    _link(landlord[1], flat, sms_outbox)
    response = logged.post(reverse("portal:customer_switch"), {"code": flat.code, "next": "https://evil.example/"})
    assert response["Location"] == reverse("portal:dashboard")


def test_no_switch_and_no_extra_query_without_links(logged, django_assert_max_num_queries):
    html = logged.get(reverse("portal:dashboard")).content.decode()
    assert 'data-testid="customer-switch"' not in html
    assert 'data-testid="menu-customer-links"' in html


def test_request_acting_customer_for_pages_outside_customer_required(rf, landlord, flat, sms_outbox):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    from rak_portal.views.customers import request_acting_customer

    own, user = landlord
    request = rf.get("/")
    request.user, request.session = user, SessionStore()
    assert request_acting_customer(request) == own
    request.session[ACTIVE_CUSTOMER_SESSION_KEY] = flat.code
    assert request_acting_customer(request) == own  # not linked (yet): the own customer
    _link(user, flat, sms_outbox)
    assert request_acting_customer(request) == flat
    request.user = AnonymousUser()
    assert request_acting_customer(request) is None


def test_admin_screens_are_sound():
    from django.contrib import admin

    from rak_customer.admin_links import CustomerLinkAdmin, CustomerLinkInline
    from rak_customer.models import Customer

    assert CustomerLinkAdmin(CustomerLink, admin.site).check() == []
    assert CustomerLinkInline(Customer, admin.site).check() == []
