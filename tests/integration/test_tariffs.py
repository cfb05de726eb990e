"""Tariffs in the database: the seeded schedules and VAT rates, the version picked by date, the
book a billing run loads in a fixed number of queries, overlapping schedules refused, and the
back-office screens (schedules with tranches and charges, VAT rates, history, « Simuler »)."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.urls import reverse

from rak_billing import tariffs
from rak_billing.models import TariffCharge, TariffSchedule, TariffTranche, VatRate
from rak_billing.tariffs import (
    TariffNotFound,
    TariffOverlap,
    schedule_for,
    simulate,
    tariff_book,
    tariff_schedule_save,
    vat_rate_for,
)
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

ELEC, WATER, SANITATION = "ELECTRICITE", "EAU", "ASSAINISSEMENT"
HOME, PRO = "DOMESTIQUE", "PROFESSIONNEL"


def energy_ttc(computation) -> D:
    return sum((line.amount_ttc for line in computation.lines if line.kind == "TRANCHE"), D("0"))


def energy_ht(computation) -> D:
    return sum((line.amount_ht for line in computation.lines if line.kind == "TRANCHE"), D("0"))


# --- seed ------------------------------------------------------------------------------------------


def test_seed_migration_loads_the_published_electricity_prices():
    row = TariffSchedule.objects.get(service=ELEC, category=HOME)
    assert row.prices_include_tax
    assert row.combination == TariffSchedule.Combination.SWITCH
    assert row.switch_threshold == 150
    assert "2451-14" in row.source
    prices = list(row.tranches.order_by("mode", "lower_bound").values_list("mode", "lower_bound", "unit_price"))
    assert prices == [
        ("PROGRESSIVE", D("0"), D("0.9010")),
        ("PROGRESSIVE", D("100"), D("1.0732")),
        ("SELECTIVE", D("150"), D("1.0732")),
        ("SELECTIVE", D("210"), D("1.1676")),
        ("SELECTIVE", D("310"), D("1.3817")),
        ("SELECTIVE", D("510"), D("1.5958")),
    ]
    tppan = row.charges.filter(label__startswith="TPPAN").order_by("position")
    assert [(c.lower_bound, c.upper_bound, c.amount) for c in tppan] == [
        (None, D("100"), D("0.1000")),
        (D("100"), D("200"), D("0.1500")),
        (D("200"), None, D("0.2000")),
    ]
    assert {(c.exempt_up_to, c.monthly_cap) for c in tppan} == {(D("50"), D("100"))}


def test_seeded_tppan_exemption_and_cap():
    def tppan(kwh):
        result = simulate(service=ELEC, category=HOME, consumption=D(kwh), days=30, on_date=datetime.date(2026, 3, 1))
        return sum((line.amount_ttc for line in result.main.computation.lines if "TPPAN" in line.label), D("0"))

    assert (tppan(40), tppan(120), tppan(800)) == (D("0"), D("13.00"), D("100.00"))


def test_seed_water_has_a_social_tranche_and_sanitation_its_own_tranches():
    water = TariffSchedule.objects.get(service=WATER, category=HOME)
    assert not water.prices_include_tax
    first = water.tranches.order_by("lower_bound").first()
    assert (first.lower_bound, first.upper_bound, first.unit_price) == (D("0"), D("6"), D("2.3700"))
    assert water.tranches.count() == 5
    sanitation = TariffSchedule.objects.get(service=SANITATION, category=HOME)
    assert sanitation.tranches.count() == 3
    assert sanitation.charges.filter(kind=TariffCharge.Kind.FIXED_MONTHLY).exists()
    for service in (ELEC, WATER, SANITATION):
        assert TariffSchedule.objects.filter(service=service, category=PRO).exists()


# --- versions by date ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_date", "rate"),
    [
        (datetime.date(2023, 12, 31), "0.14"),
        (datetime.date(2024, 1, 1), "0.16"),
        (datetime.date(2025, 6, 30), "0.18"),
        (datetime.date(2026, 1, 1), "0.20"),
        (datetime.date(2030, 1, 1), "0.20"),
    ],
)
def test_electricity_vat_by_date(on_date, rate):
    assert vat_rate_for(service=ELEC, category=HOME, on_date=on_date) == D(rate)


def test_category_rate_wins_over_the_service_wide_rate():
    # domestic water is exempt since 2024; other uses pay 10 %; before 2024 everybody paid 7 %
    assert vat_rate_for(service=WATER, category=HOME, on_date=datetime.date(2023, 6, 1)) == D("0.07")
    assert vat_rate_for(service=WATER, category=HOME, on_date=datetime.date(2024, 1, 1)) == D("0")
    assert vat_rate_for(service=WATER, category=PRO, on_date=datetime.date(2024, 1, 1)) == D("0.10")
    assert vat_rate_for(service=SANITATION, category=PRO, on_date=datetime.date(2026, 3, 1)) == D("0.10")
    with pytest.raises(TariffNotFound, match="Aucun taux de TVA"):
        vat_rate_for(service=ELEC, category=HOME, on_date=datetime.date(2010, 1, 1))


def _new_version(service: str, category: str, starts: datetime.date, price: str) -> TariffSchedule:
    current = TariffSchedule.objects.get(service=service, category=category, valid_to__isnull=True)
    current.valid_to = starts
    tariff_schedule_save(schedule=current)
    return tariff_schedule_save(
        schedule=TariffSchedule(
            service=service,
            category=category,
            name="Nouveau barème",
            unit=current.unit,
            valid_from=starts,
            prices_include_tax=current.prices_include_tax,
        ),
        tranches=[TariffTranche(lower_bound=0, upper_bound=None, unit_price=D(price))],
    )


def test_schedule_for_picks_the_version_valid_on_the_date():
    old = TariffSchedule.objects.get(service=WATER, category=PRO)
    new = _new_version(WATER, PRO, datetime.date(2027, 1, 1), "8.0000")
    row, schedule = schedule_for(service=WATER, category=PRO, on_date=datetime.date(2026, 12, 31))
    assert row == old
    assert schedule.tranches[0].price == D("7.5200")
    row, schedule = schedule_for(service=WATER, category=PRO, on_date=datetime.date(2027, 1, 1))
    assert row == new
    assert schedule.tranches[0].price == D("8.0000")
    assert schedule.unit == "m³"
    with pytest.raises(TariffNotFound, match="Aucun barème n'est en vigueur le 01/01/2019"):
        schedule_for(service=WATER, category=PRO, on_date=datetime.date(2019, 1, 1))


def test_vat_2025_to_2026_keeps_ttc_electricity_unchanged():
    """The regulator kept TTC prices while VAT rose: same TTC, smaller HT, bigger TVA."""
    day_2025, day_2026 = datetime.date(2025, 12, 15), datetime.date(2026, 1, 15)
    before = simulate(service=ELEC, category=HOME, consumption=D("180"), days=30, on_date=day_2025)
    after = simulate(service=ELEC, category=HOME, consumption=D("180"), days=30, on_date=day_2026)
    assert before.main.vat_rate == D("0.18") and after.main.vat_rate == D("0.20")
    assert energy_ttc(before.main.computation) == energy_ttc(after.main.computation) == D("193.18")
    assert energy_ht(after.main.computation) < energy_ht(before.main.computation)
    assert before.total_ttc == after.total_ttc


def test_worked_examples_from_the_seeded_schedule():
    for kwh, expected in ((120, "111.56"), (150, "143.76"), (151, "162.05")):
        result = simulate(service=ELEC, category=HOME, consumption=D(kwh), days=30, on_date=datetime.date(2026, 3, 1))
        assert energy_ttc(result.main.computation) == D(expected)


# --- the book of a billing run ---------------------------------------------------------------------


def test_tariff_book_loads_everything_in_four_queries(django_assert_num_queries):
    on_date = datetime.date(2026, 3, 1)
    with django_assert_num_queries(4):
        book = tariff_book(on_date)
    with django_assert_num_queries(0):
        tariff = book.lookup(ELEC, HOME)
        first = book.compute(ELEC, HOME, consumption=D("151"), days=30)
        again = book.compute(ELEC, HOME, consumption=D("151.000"), days=30)
        book.compute(WATER, HOME, consumption=D("12"), days=30)
    assert again is first
    assert (book.hits, book.misses) == (1, 2)
    assert tariff.vat_rate == D("0.20")
    schedule_id, schedule, vat_rate = book.lookup(ELEC, HOME)
    assert (schedule_id, vat_rate) == (tariff.schedule_id, D("0.20")) and schedule is tariff.schedule
    assert tariff.key(D("151"), 30) == (tariff.schedule_id, D("0.20"), D("151"), 30)
    assert len(tariff.fingerprint) == 16
    row, schedule = schedule_for(service=ELEC, category=HOME, on_date=on_date)
    assert tariffs.schedule_fingerprint(schedule) == tariff.fingerprint
    assert tariff.schedule_id == row.pk
    with pytest.raises(TariffNotFound):
        book.lookup(ELEC, "BORNE_FONTAINE")


def test_tariff_book_query_count_does_not_grow_with_schedules(django_assert_num_queries):
    for year in range(2027, 2031):
        _new_version(WATER, PRO, datetime.date(year, 1, 1), "8.0000")
    with django_assert_num_queries(4):
        book = tariff_book(datetime.date(2029, 6, 1))
    assert book.lookup(WATER, PRO).valid_from == datetime.date(2029, 1, 1)


def test_fingerprint_changes_when_a_price_changes():
    on_date = datetime.date(2026, 3, 1)
    before = tariff_book(on_date).lookup(WATER, HOME).fingerprint
    TariffTranche.objects.filter(schedule__service=WATER, schedule__category=HOME, lower_bound=0).update(
        unit_price=D("2.5000")
    )
    assert tariff_book(on_date).lookup(WATER, HOME).fingerprint != before


def test_water_simulation_comes_with_sanitation():
    result = simulate(service=WATER, category=HOME, consumption=D("15"), days=30, on_date=datetime.date(2026, 3, 1))
    assert [part.service for part in result.parts] == [WATER, SANITATION]
    water, sanitation = (part.computation for part in result.parts)
    assert water.total_ttc == D("86.73")  # 6×2.37 + 6×7.39 + 3×7.39 + 6 fixed, exempt of VAT
    assert sanitation.total_ttc == D("39.09")  # 6×0.75 + 9×3.51 + 3 fixed
    assert result.total_ttc == D("125.82")
    assert result.total_tva == 0
    pro = simulate(service=WATER, category=PRO, consumption=D("15"), days=30, on_date=datetime.date(2026, 3, 1))
    assert [part.vat_rate for part in pro.parts] == [D("0.10"), D("0.10")]
    assert abs(pro.total_tva - pro.total_ht * D("0.10")) <= D("0.01") * sum(len(p.computation.lines) for p in pro.parts)


# --- overlaps --------------------------------------------------------------------------------------


def test_overlapping_schedule_is_refused_in_french():
    with pytest.raises(TariffOverlap) as error:
        tariff_schedule_save(
            schedule=TariffSchedule(
                service=ELEC, category=HOME, name="Doublon", valid_from=datetime.date(2026, 1, 1), unit="kWh"
            )
        )
    assert "chevauche « Électricité — usage domestique »" in error.value.message
    assert "Électricité / Domestique" in error.value.message
    assert TariffSchedule.objects.filter(service=ELEC, category=HOME).count() == 1


def test_adjacent_versions_do_not_overlap():
    new = _new_version(ELEC, PRO, datetime.date(2027, 1, 1), "1.5000")
    assert new.pk
    with pytest.raises(TariffOverlap):
        tariff_schedule_save(
            schedule=TariffSchedule(
                service=ELEC,
                category=PRO,
                name="Chevauche la fin",
                valid_from=datetime.date(2026, 6, 1),
                valid_to=datetime.date(2026, 7, 1),
            )
        )


# --- back office -----------------------------------------------------------------------------------


@pytest.fixture
def admin_user(client):
    user = StaffFactory(is_superuser=True)
    client.force_login(user)
    return user


def test_admin_pages_open(client, admin_user):
    schedule = TariffSchedule.objects.get(service=ELEC, category=HOME)
    vat = VatRate.objects.filter(service=ELEC).first()
    for url in (
        reverse("admin:rak_billing_tariffschedule_changelist"),
        reverse("admin:rak_billing_tariffschedule_add"),
        reverse("admin:rak_billing_tariffschedule_change", args=[schedule.pk]),
        reverse("admin:rak_billing_tariffschedule_history", args=[schedule.pk]),
        reverse("admin:rak_billing_vatrate_changelist"),
        reverse("admin:rak_billing_vatrate_change", args=[vat.pk]),
        reverse("admin:rak_billing_vatrate_history", args=[vat.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    html = client.get(reverse("admin:rak_billing_tariffschedule_change", args=[schedule.pk])).content.decode()
    assert "Simuler" in html
    assert "1,0732" in html or "1.0732" in html


def test_admin_simulate_previews_the_bill(client, admin_user):
    schedule = TariffSchedule.objects.get(service=ELEC, category=HOME)
    url = reverse("admin:rak_billing_tariffschedule_simulate", args=[schedule.pk])
    response = client.get(url, {"consumption": "151", "days": "30", "on_date": "2026-03-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "162,05" in html
    assert "a dépassé 150 kWh" in html
    assert "Taux de TVA au 01/03/2026 : 20 %" in html
    assert "Barèmes tarifaires" in html and "Taux de TVA" in html  # the sidebar section « Tarifs »
    response = client.get(url, {"consumption": "-3", "days": "0"})
    assert response.status_code == 200
    assert "162,05" not in response.content.decode()


def _schedule_post(**overrides) -> dict:
    data = {
        "name": "Électricité 2026 bis",
        "service": ELEC,
        "category": HOME,
        "valid_from": "2026-01-01",
        "valid_to": "",
        "unit": "kWh",
        "combination": "PROGRESSIVE",
        "switch_threshold": "",
        "prices_include_tax": "on",
        "source": "",
    }
    for prefix in ("tranches", "charges"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    data.update(overrides)
    return data


def test_admin_refuses_an_overlapping_schedule(client, admin_user):
    response = client.post(reverse("admin:rak_billing_tariffschedule_add"), _schedule_post())
    assert response.status_code == 200
    html = response.content.decode().replace("&#x27;", "'").replace("&laquo;", "«").replace("&raquo;", "»")
    assert "ne peuvent pas se chevaucher" in html
    assert TariffSchedule.objects.filter(service=ELEC, category=HOME).count() == 1


def test_admin_saves_a_new_version_with_history(client, admin_user):
    current = TariffSchedule.objects.get(service=ELEC, category=PRO)
    response = client.post(
        reverse("admin:rak_billing_tariffschedule_change", args=[current.pk]),
        _schedule_post(
            name=current.name,
            category=PRO,
            valid_from=current.valid_from.isoformat(),
            valid_to="2027-01-01",
            **{"tranches-INITIAL_FORMS": "0"},
        ),
    )
    assert response.status_code == 302, response.content[:2000]
    response = client.post(
        reverse("admin:rak_billing_tariffschedule_add"),
        _schedule_post(
            name="Professionnel 2027",
            category=PRO,
            valid_from="2027-01-01",
            **{
                "tranches-TOTAL_FORMS": "1",
                "tranches-0-position": "1",
                "tranches-0-mode": "PROGRESSIVE",
                "tranches-0-lower_bound": "0",
                "tranches-0-upper_bound": "",
                "tranches-0-unit_price": "1.5000",
            },
        ),
    )
    assert response.status_code == 302
    assert TariffSchedule.objects.filter(service=ELEC, category=PRO).count() == 2
    current.refresh_from_db()
    assert current.valid_to == datetime.date(2027, 1, 1)
    assert current.history.count() >= 1


def _inline_rows(schedule: TariffSchedule) -> dict:
    """The inline formsets of the schedule page as the browser would post them, unchanged."""
    data = {}
    tranches = list(schedule.tranches.order_by("pk"))
    charges = list(schedule.charges.order_by("pk"))
    for prefix, rows, fields in (
        ("tranches", tranches, ("position", "mode", "lower_bound", "upper_bound", "unit_price")),
        (
            "charges",
            charges,
            (
                "position",
                "label",
                "kind",
                "amount",
                "vat_rate_override",
                "lower_bound",
                "upper_bound",
                "exempt_up_to",
                "monthly_cap",
            ),
        ),
    ):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(len(rows)),
                f"{prefix}-INITIAL_FORMS": str(len(rows)),
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
        for i, row in enumerate(rows):
            data[f"{prefix}-{i}-id"] = str(row.pk)
            data[f"{prefix}-{i}-schedule"] = str(schedule.pk)
            for name in fields:
                value = getattr(row, name)
                data[f"{prefix}-{i}-{name}"] = "" if value is None else str(value)
            if prefix == "charges" and row.taxable:
                data[f"{prefix}-{i}-taxable"] = "on"
    return data


def test_a_price_changed_in_the_inline_shows_in_the_history(client, admin_user):
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
    assert response.status_code == 302, response.content[:3000]
    social.refresh_from_db()
    assert social.unit_price == D("2.4500")
    page = client.get(reverse("admin:rak_billing_tariffschedule_history", args=[schedule.pk])).content.decode()
    assert "Tranches et redevances : modifications" in page
    assert "Progressive 0–6 : 2,4500" in page
    assert admin_user.username in page
    record = social.history.latest()
    assert record.history_user == admin_user and record.history_type == "~"
