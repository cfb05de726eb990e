"""Guards on tariff versions: a version without tranches is refused (service and back office), and a
version already used by a bill is not edited — its prices, rules or dates stay what the bills were
computed with; a new version is created instead. Closing it (a later end date) stays possible."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.urls import reverse

from rak_billing.models import TariffSchedule, TariffTranche
from rak_billing.tariffs import TariffVersionInUse, TariffWithoutTranches, tariff_schedule_save
from tests.billing_factories import bill_create
from tests.factories import DossierFactory, StaffFactory
from tests.integration.test_tariffs import _inline_rows, _schedule_post

pytestmark = pytest.mark.django_db

WATER, HOME, PRO = "EAU", "DOMESTIQUE", "PROFESSIONNEL"


def _page(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&laquo;", "«").replace("&raquo;", "»")


@pytest.fixture
def facturation(client):
    from django.contrib.auth.models import Group

    user = StaffFactory()
    user.groups.set(Group.objects.filter(name="facturation"))
    client.force_login(user)
    return user


def _billed(service: str = WATER, category: str = HOME, period_start=datetime.date(2026, 1, 1)):
    """A consumption bill of January 2026 for a dossier of that service and category."""
    dossier = DossierFactory(service=service, tariff_category=category)
    return bill_create(dossier=dossier, period_start=period_start)


# --- a version without tranches ----------------------------------------------------------------------


def test_service_refuses_a_new_version_without_tranches():
    current = TariffSchedule.objects.get(service=WATER, category=PRO)
    current.valid_to = datetime.date(2027, 1, 1)
    tariff_schedule_save(schedule=current)

    with pytest.raises(TariffWithoutTranches) as error:
        tariff_schedule_save(
            schedule=TariffSchedule(
                service=WATER, category=PRO, name="Sans tranches", unit="m³", valid_from=datetime.date(2027, 1, 1)
            )
        )

    assert "au moins une tranche" in error.value.message
    assert not TariffSchedule.objects.filter(name="Sans tranches").exists()


def test_service_saves_a_new_version_with_its_tranches():
    current = TariffSchedule.objects.get(service=WATER, category=PRO)
    current.valid_to = datetime.date(2027, 1, 1)
    tariff_schedule_save(schedule=current)

    new = tariff_schedule_save(
        schedule=TariffSchedule(
            service=WATER, category=PRO, name="Professionnel 2027", unit="m³", valid_from=datetime.date(2027, 1, 1)
        ),
        tranches=[TariffTranche(lower_bound=D("0"), upper_bound=None, unit_price=D("8.0000"))],
    )

    assert list(new.tranches.values_list("unit_price", flat=True)) == [D("8.0000")]


def test_back_office_refuses_a_new_version_without_tranches(client, facturation):
    current = TariffSchedule.objects.get(service=WATER, category=PRO)
    current.valid_to = datetime.date(2027, 1, 1)
    tariff_schedule_save(schedule=current)

    response = client.post(
        reverse("admin:rak_billing_tariffschedule_add"),
        _schedule_post(service=WATER, category=PRO, unit="m³", name="Vide", valid_from="2027-01-01"),
    )

    assert response.status_code == 200
    assert "au moins une tranche" in _page(response)
    assert not TariffSchedule.objects.filter(name="Vide").exists()


def test_back_office_saves_a_new_version_with_a_tranche(client, facturation):
    current = TariffSchedule.objects.get(service=WATER, category=PRO)
    current.valid_to = datetime.date(2027, 1, 1)
    tariff_schedule_save(schedule=current)

    response = client.post(
        reverse("admin:rak_billing_tariffschedule_add"),
        _schedule_post(
            service=WATER,
            category=PRO,
            unit="m³",
            name="Professionnel 2027",
            valid_from="2027-01-01",
            **{
                "tranches-TOTAL_FORMS": "1",
                "tranches-0-position": "1",
                "tranches-0-mode": "PROGRESSIVE",
                "tranches-0-lower_bound": "0",
                "tranches-0-upper_bound": "",
                "tranches-0-unit_price": "8.0000",
            },
        ),
    )

    assert response.status_code == 302, _page(response)[:3000]
    new = TariffSchedule.objects.get(name="Professionnel 2027")
    assert list(new.tranches.values_list("unit_price", flat=True)) == [D("8.0000")]


def test_back_office_refuses_deleting_every_tranche_of_a_version(client, facturation):
    schedule = TariffSchedule.objects.get(service=WATER, category=PRO)
    data = {
        "name": schedule.name,
        "service": WATER,
        "category": PRO,
        "valid_from": schedule.valid_from.isoformat(),
        "valid_to": "",
        "unit": schedule.unit,
        "combination": schedule.combination,
        "switch_threshold": "",
        "source": schedule.source,
        **_inline_rows(schedule),
    }
    count = schedule.tranches.count()
    for index in range(count):
        data[f"tranches-{index}-DELETE"] = "on"

    response = client.post(reverse("admin:rak_billing_tariffschedule_change", args=[schedule.pk]), data)

    assert response.status_code == 200
    assert "au moins une tranche" in _page(response)
    assert schedule.tranches.count() == count


# --- a version already used by a bill ------------------------------------------------------------------


def test_service_refuses_changing_the_rules_of_a_version_used_by_a_bill():
    _billed()
    schedule = TariffSchedule.objects.get(service=WATER, category=HOME)
    schedule.prices_include_tax = not schedule.prices_include_tax

    with pytest.raises(TariffVersionInUse) as error:
        tariff_schedule_save(schedule=schedule)

    assert "nouvelle version" in error.value.message
    schedule.refresh_from_db()
    assert schedule.prices_include_tax is False


def test_service_lets_a_used_version_be_closed_after_its_last_bill_but_not_before():
    _billed(period_start=datetime.date(2026, 1, 1))
    schedule = TariffSchedule.objects.get(service=WATER, category=HOME)

    schedule.valid_to = datetime.date(2026, 1, 1)  # the January bill would lose its version
    with pytest.raises(TariffVersionInUse):
        tariff_schedule_save(schedule=schedule)

    schedule = TariffSchedule.objects.get(pk=schedule.pk)
    schedule.valid_to = datetime.date(2026, 2, 1)
    schedule.name = "Eau domestique (2020-2026)"
    tariff_schedule_save(schedule=schedule)
    schedule.refresh_from_db()
    assert schedule.valid_to == datetime.date(2026, 2, 1)


def test_an_unused_version_can_still_be_corrected():
    _billed(service=WATER, category=HOME)
    schedule = TariffSchedule.objects.get(service=WATER, category=PRO)  # no professional bill
    schedule.prices_include_tax = True

    tariff_schedule_save(schedule=schedule)

    schedule.refresh_from_db()
    assert schedule.prices_include_tax is True


def test_back_office_refuses_a_price_change_on_a_version_used_by_a_bill(client, facturation):
    _billed()
    schedule = TariffSchedule.objects.get(service=WATER, category=HOME)
    data = {
        "name": schedule.name,
        "service": WATER,
        "category": HOME,
        "valid_from": schedule.valid_from.isoformat(),
        "valid_to": "",
        "unit": schedule.unit,
        "combination": schedule.combination,
        "switch_threshold": "",
        "source": schedule.source,
        **_inline_rows(schedule),
    }
    social = schedule.tranches.get(lower_bound=0)
    index = sorted(t.pk for t in schedule.tranches.all()).index(social.pk)
    data[f"tranches-{index}-unit_price"] = "2.4500"

    response = client.post(reverse("admin:rak_billing_tariffschedule_change", args=[schedule.pk]), data)

    assert response.status_code == 200
    page = _page(response)
    assert "déjà utilisé par des factures" in page and "nouvelle version" in page
    social.refresh_from_db()
    assert social.unit_price == D("2.3700")
