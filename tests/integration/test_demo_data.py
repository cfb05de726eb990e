"""``manage.py demo_data``: deterministic, valid, loadable twice, with working demo logins."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import RequestFactory
from django.utils import timezone

from rak_base.phones import phone_normalize
from rak_customer.demo import (
    AGENCIES,
    DEMO_ADMIN_PASSWORD,
    DEMO_ADMIN_USERNAME,
    DEMO_CUSTOMER_PASSWORD,
    DEMO_DIRECTION_PASSWORD,
    DEMO_DIRECTION_USERNAME,
    DEMO_STAFF_PASSWORD,
    DEMO_STAFF_USERNAME,
    LOAD_ORDER,
    DemoGenerator,
    demo_data_load,
    demo_logins_ensure,
)
from rak_customer.models import Agency, Contact, Customer, Dossier, Meter, PortalAccount, Premises, Service
from rak_customer.services import CUSTOMER_CODE_START, customer_code_next
from rak_customer.validators import cin_normalize, ice_normalize
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
COUNT = 150


def run_demo_data(**options) -> str:
    out = StringIO()
    call_command("demo_data", stdout=out, **options)
    return out.getvalue()


def login_request():
    return RequestFactory().post("/connexion/", REMOTE_ADDR="127.0.0.1")


def snapshot() -> dict[str, list[tuple]]:
    """Everything generated, without primary keys (they depend on what the tables held before)."""
    return {
        "customers": list(
            Customer.objects.order_by("code").values_list(
                "code",
                "kind",
                "status",
                "cin",
                "ice",
                "civility",
                "first_name",
                "last_name",
                "company_name",
                "birth_date",
                "agency__name",
            )
        ),
        "contacts": list(
            Contact.objects.order_by("customer__code", "id").values_list(
                "customer__code",
                "kind",
                "value",
                "is_sms",
                "is_primary_email",
            )
        ),
        "dossiers": list(
            Dossier.objects.order_by("number").values_list(
                "number",
                "customer__code",
                "service",
                "status",
                "tariff_category",
                "billing_mode",
                "deposit_amount",
                "start_date",
                "end_date",
                "premises__reference",
                "premises__address",
                "premises__district",
                "meter__number",
                "meter__caliber",
                "meter__brand",
                "meter__installed_date",
            )
        ),
    }


def in_memory(count: int, seed: int, now) -> dict[str, list[tuple]]:
    """The same rows as ``snapshot``, from the generator alone (no database)."""
    generator = DemoGenerator(
        seed=seed, as_of=timezone.localdate(now), now=now, agency_ids={key: key for key in AGENCIES}
    )
    customers, contacts, premises, meters, dossiers = [], [], {}, {}, []
    for batch in generator.batches(count, batch_size=40):
        customers += batch.rows[Customer]
        contacts += batch.rows[Contact]
        premises.update({row[0]: row for row in batch.rows[Premises]})
        meters.update({row[0]: row for row in batch.rows[Meter]})
        dossiers += batch.rows[Dossier]
    codes = {row[0]: row[1] for row in customers}
    return {
        "customers": sorted((*row[1:11], AGENCIES[row[11]]["name"]) for row in customers),
        "contacts": sorted(((codes[row[1]], *row[2:6]) for row in contacts), key=lambda r: r[0]),
        "dossiers": sorted(
            (
                row[1],
                codes[row[2]],
                *row[3:10],
                *premises[row[10]][1:4],
                *(meters[row[11]][1:2] + meters[row[11]][3:6] if row[11] else (None, None, None, None)),
            )
            for row in dossiers
        ),
    }


def delete_demo_data() -> None:
    Dossier.objects.all().delete()
    Meter.objects.all().delete()
    Premises.objects.all().delete()
    PortalAccount.objects.all().delete()
    Customer.objects.all().delete()


# --- determinism ----------------------------------------------------------------------------------


def test_database_rows_are_the_in_memory_generation(now):
    demo_data_load(count=COUNT, seed=2026, now=now)

    assert snapshot() == in_memory(COUNT, 2026, now)


def test_same_seed_same_data_after_reload_and_another_seed_differs(now):
    demo_data_load(count=COUNT, seed=2026, now=now)
    first = snapshot()
    delete_demo_data()

    demo_data_load(count=COUNT, seed=2026, now=now)
    assert snapshot() == first

    delete_demo_data()
    demo_data_load(count=COUNT, seed=7, now=now)
    other = snapshot()["customers"]
    assert [row[0] for row in other] == [row[0] for row in first["customers"]]  # same codes
    assert [row[3:9] for row in other] != [row[3:9] for row in first["customers"]]  # other people


def test_first_customers_do_not_depend_on_how_many_are_generated(now):
    small = in_memory(20, 2026, now)["customers"]
    large = in_memory(200, 2026, now)["customers"]
    assert large[:20] == small


def test_copy_and_bulk_create_write_the_same_rows(now):
    demo_data_load(count=60, seed=11, now=now, use_copy=True)
    copied = snapshot()
    delete_demo_data()

    demo_data_load(count=60, seed=11, now=now, use_copy=False)
    assert snapshot() == copied


# --- what was generated ---------------------------------------------------------------------------


def test_counts_and_structure(now):
    result = demo_data_load(count=COUNT, seed=2026, now=now)

    assert Customer.objects.count() == COUNT == result.counts["customer"]
    assert result.rows == sum(model.objects.count() for model in LOAD_ORDER)
    assert (result.first_code, result.last_code) == (str(CUSTOMER_CODE_START), str(CUSTOMER_CODE_START + COUNT - 1))
    assert set(Agency.objects.values_list("name", flat=True)) >= {a["name"] for a in AGENCIES.values()}
    assert Agency.objects.filter(latitude__range=(34.1, 34.4), longitude__range=(-6.8, -6.4)).count() >= len(AGENCIES)

    clients = Customer.objects.filter(status=Customer.Status.CLIENT)
    assert not clients.filter(dossiers__isnull=True).exists()
    assert not Customer.objects.filter(status=Customer.Status.PROSPECT, dossiers__isnull=False).exists()
    assert not Premises.objects.filter(dossiers__isnull=True).exists()
    assert not Customer.objects.filter(agency__isnull=True).exists()

    # most customers: water + electricity on one premises, sanitation alongside water
    both = sum(
        1
        for c in clients.prefetch_related("dossiers")
        if {Service.EAU, Service.ELECTRICITE} <= {d.service for d in c.dossiers.all()}
    )
    assert both > 0.7 * clients.count()
    water = Dossier.objects.filter(service=Service.EAU).count()
    sanitation = Dossier.objects.filter(service=Service.ASSAINISSEMENT)
    assert 0.6 * water < sanitation.count() <= water
    assert not sanitation.filter(meter__isnull=False).exists()
    for dossier in sanitation.select_related("premises"):
        assert Dossier.objects.filter(premises=dossier.premises, service=Service.EAU).exists()
    metered = Dossier.objects.exclude(service=Service.ASSAINISSEMENT).select_related("meter")
    for dossier in metered:
        assert dossier.meter.service == dossier.service
        assert dossier.meter.caliber in (
            ("15 mm", "20 mm") if dossier.service == Service.EAU else ("5 A", "10 A", "15 A", "30 A")
        )
        assert dossier.start_date <= dossier.meter.installed_date < timezone.localdate(now)

    statuses = dict(Dossier.objects.values_list("status").annotate(n=Count("id")))
    assert statuses[Dossier.Status.ACTIVE] > 0.8 * sum(statuses.values())
    assert statuses.get(Dossier.Status.TERMINATED, 0) > 0
    terminated = Dossier.objects.filter(status=Dossier.Status.TERMINATED)
    assert not terminated.filter(end_date__isnull=True).exists()
    assert not Dossier.objects.exclude(status=Dossier.Status.TERMINATED).filter(end_date__isnull=False).exists()
    domestic = Dossier.objects.filter(tariff_category=Dossier.TariffCategory.DOMESTIQUE)
    assert domestic.count() > 0.75 * Dossier.objects.count()
    oldest = Dossier.objects.order_by("start_date").first().start_date
    assert (timezone.localdate(now) - oldest).days < 25 * 366

    companies = Customer.objects.exclude(ice="")
    assert 0.03 * COUNT < companies.count() < 0.15 * COUNT
    assert not Customer.objects.filter(kind=Customer.Kind.ENTREPRISE, company_name="").exists()


def test_identities_phones_and_emails_are_valid(now):
    demo_data_load(count=COUNT, seed=2026, now=now)

    for cin, ice in Customer.objects.values_list("cin", "ice"):
        assert cin or ice
        if cin:
            assert cin_normalize(cin) == cin
        if ice:
            assert ice_normalize(ice) == ice
    kenitra = Customer.objects.filter(cin__startswith="G").count()
    assert kenitra > 0.5 * Customer.objects.exclude(cin="").count()

    phones = list(Contact.objects.filter(kind=Contact.Kind.PHONE).values_list("value", flat=True))
    assert phones and len(set(phones)) == len(phones)
    for phone in phones:
        assert phone_normalize(phone, mobile=True) == phone
        assert phone.startswith(("+2126", "+2127")) and len(phone) == 13
    for email in Contact.objects.filter(kind=Contact.Kind.EMAIL).values_list("value", flat=True):
        local, _, domain = email.partition("@")
        assert local and email == email.lower() and domain.split(".")[-1] in ("com", "net", "org", "example")
        assert "example" in domain  # reserved domains: a demo e-mail is never delivered


# --- command, logins, sequence --------------------------------------------------------------------


def test_command_prints_and_creates_working_demo_logins():
    Group.objects.get_or_create(name="superviseur")
    Group.objects.get_or_create(name="direction")

    output = run_demo_data(customers=40)

    code = str(CUSTOMER_CODE_START)
    assert f"Connexion client : code client {code} / mot de passe {DEMO_CUSTOMER_PASSWORD}" in output
    assert f"Back office : http://127.0.0.1:8000/backoffice/ {DEMO_STAFF_USERNAME} / {DEMO_STAFF_PASSWORD}" in output
    assert (
        f"Direction (rapports) : http://127.0.0.1:8000/backoffice/rapports/ "
        f"{DEMO_DIRECTION_USERNAME} / {DEMO_DIRECTION_PASSWORD}" in output
    )
    assert Customer.objects.count() == 40

    customer = Customer.objects.get(code=code)
    assert customer.kind == Customer.Kind.PARTICULIER
    assert customer.contacts.filter(kind=Contact.Kind.PHONE, is_sms=True).exists()
    assert customer.contacts.filter(kind=Contact.Kind.EMAIL, is_primary_email=True).exists()

    user = authenticate(login_request(), username=code, password=DEMO_CUSTOMER_PASSWORD)
    assert user is not None and user.role == User.Role.CUSTOMER and not user.must_change_password
    assert user.portal_account.customer == customer
    assert user.portal_account.origin == PortalAccount.Origin.STAFF

    agent = authenticate(login_request(), username=DEMO_STAFF_USERNAME, password=DEMO_STAFF_PASSWORD)
    assert agent is not None and agent.is_staff and not agent.is_superuser and agent.role == User.Role.STAFF
    assert agent.groups.filter(name="superviseur").exists()
    direction = authenticate(login_request(), username=DEMO_DIRECTION_USERNAME, password=DEMO_DIRECTION_PASSWORD)
    assert direction is not None and direction.is_staff and not direction.is_superuser
    assert list(direction.groups.values_list("name", flat=True)) == ["direction"]
    assert direction.email == "direction.demo@rak.example"  # the monthly report reaches it (var/mail/)
    admin = authenticate(login_request(), username=DEMO_ADMIN_USERNAME, password=DEMO_ADMIN_PASSWORD)
    assert admin is not None and admin.is_superuser and admin.is_staff


def test_demo_logins_are_idempotent(now):
    demo_data_load(count=10, seed=2026, now=now)
    demo_logins_ensure(now=now)
    demo_logins_ensure(now=now)

    usernames = [str(CUSTOMER_CODE_START), DEMO_STAFF_USERNAME, DEMO_DIRECTION_USERNAME, DEMO_ADMIN_USERNAME]
    assert User.objects.filter(username__in=usernames).count() == 4
    assert PortalAccount.objects.count() == 1


def test_no_logins_option_creates_no_account():
    output = run_demo_data(customers=10, no_logins=True)

    assert "Connexion client" not in output
    assert not User.objects.exists()
    assert not PortalAccount.objects.exists()


def test_if_empty_does_nothing_on_a_populated_database_but_prints_the_logins():
    run_demo_data(customers=10)
    before = snapshot()

    output = run_demo_data(customers=50, if_empty=True)

    assert "aucune donnée de démonstration chargée" in output
    assert f"code client {CUSTOMER_CODE_START} / mot de passe {DEMO_CUSTOMER_PASSWORD}" in output
    assert snapshot() == before


def test_if_empty_leaves_a_real_customer_base_alone():
    CustomerFactory()

    output = run_demo_data(customers=10, if_empty=True)

    assert Customer.objects.count() == 1
    assert "Aucun compte de démonstration" in output
    assert not User.objects.exists()


def test_without_if_empty_a_populated_database_is_refused():
    CustomerFactory()

    with pytest.raises(CommandError, match="déjà des clients"):
        run_demo_data(customers=10)
    assert Customer.objects.count() == 1


def test_refused_in_production_mode(settings):
    settings.RAK_MODE = "production"

    with pytest.raises(CommandError, match="production"):
        run_demo_data(customers=10)
    assert not Customer.objects.exists()


def test_if_empty_in_production_mode_is_a_quiet_no_op(settings):
    """bin/run passes --if-empty at every start: a production server starts, with no demo data."""
    settings.RAK_MODE = "production"

    output = run_demo_data(customers=10, if_empty=True)

    assert "Mode production" in output
    assert not Customer.objects.exists()
    assert not User.objects.exists()


def test_code_sequence_is_moved_past_the_generated_codes(now):
    demo_data_load(count=COUNT, seed=2026, now=now)

    last = int(Customer.objects.order_by("-code").values_list("code", flat=True)[0])
    assert last == CUSTOMER_CODE_START + COUNT - 1
    assert int(customer_code_next()) == last + 1


def test_primary_key_sequences_follow_the_explicit_ids(now):
    demo_data_load(count=20, seed=2026, now=now)

    # a row created the ordinary way after a bulk load with explicit ids gets a fresh id
    customer = Customer.objects.get(code=str(CUSTOMER_CODE_START))
    contact = Contact.objects.create(customer=customer, kind=Contact.Kind.PHONE, value="+212600000001")
    premises = Premises.objects.create(reference="LTEST0001", address="N° 1 rue 1", district="Saknia")
    assert contact.pk > Contact.objects.exclude(pk=contact.pk).order_by("-pk").first().pk
    assert premises.pk > Premises.objects.exclude(pk=premises.pk).order_by("-pk").first().pk
