"""Test data for the meter readings: rounds, readings, a monthly history, real images, import files."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from rak_billing.models import MeterReading, ReadingRound
from tests.factories import DossierFactory, PremisesFactory


class ReadingRoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReadingRound
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Tournée {o.code}")
    window_start_day = 1
    window_days = 7


class MeterReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeterReading

    dossier = factory.SubFactory(DossierFactory)
    meter = factory.SelfAttribute("dossier.meter")
    reading_date = datetime.date(2026, 1, 5)
    index = Decimal("1000")
    source = MeterReading.Source.AGENT
    status = MeterReading.Status.ACCEPTED


def dossier_in_round(round_code: str, **kwargs):
    return DossierFactory(premises=PremisesFactory(round_code=round_code), **kwargs)


def monthly_history(dossier, *, last: datetime.date, months: int = 6, start_index: int = 1000, per_month: int = 10):
    """``months + 1`` accepted agent readings, one every 30 days up to ``last``, +``per_month`` each."""
    readings = []
    index = start_index
    for k in range(months, -1, -1):
        day = last - datetime.timedelta(days=30 * k)
        previous = index - per_month if readings else None
        readings.append(
            MeterReading.objects.create(
                dossier=dossier,
                meter=dossier.meter,
                reading_date=day,
                index=Decimal(index),
                previous_index=Decimal(previous) if previous is not None else None,
                consumption=Decimal(per_month) if readings else None,
                source=MeterReading.Source.AGENT,
            )
        )
        index += per_month
    return readings


def png_bytes(size=(32, 24), color=(20, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name: str = "index.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def csv_file(rows: list[list], header=("N° dossier", "Date de relève", "Index", "Compteur remplacé", "Observation")):
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";")
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile("releves.csv", text.getvalue().encode("utf-8"), content_type="text/csv")


def xlsx_file(rows: list[list], header=("N° dossier", "Date de relève", "Index", "Compteur remplacé", "Observation")):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        "releves.xlsx",
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def portal_customer_with_reading_window_and_unpaid_bill(*, round_code: str, power_number: str):
    """« Salma Benjelloun » as the portal journeys meet her: a water dossier whose reading window is
    open today (last index 1 250, 40 days ago) and an electricity dossier with four months of bills,
    the last one unpaid. Returns (customer, water dossier, unpaid bill)."""
    from django.utils import timezone

    from rak_base import clock
    from rak_customer.models import Service
    from tests.billing_factories import bill_history
    from tests.factories import MeterFactory, customer_with_account

    today = timezone.localdate(clock.now())
    ReadingRoundFactory(code=round_code, window_start_day=min(today.day, 28), window_days=7)
    customer, _user = customer_with_account(phone="+212661112233", first_name="Salma", last_name="Benjelloun")
    water = dossier_in_round(round_code, customer=customer)
    MeterReadingFactory(dossier=water, reading_date=today - datetime.timedelta(days=40), index=Decimal(1250))
    power = DossierFactory(
        customer=customer,
        number=power_number,
        service=Service.ELECTRICITE,
        meter=MeterFactory(service=Service.ELECTRICITE, caliber="10 A"),
    )
    last = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    bills = bill_history(power, months=4, last_period=last, consumption=180)
    bills[-1].allocations.all().delete()
    type(bills[-1]).objects.filter(pk=bills[-1].pk).update(settled_at=None)
    return customer, water, bills[-1]
