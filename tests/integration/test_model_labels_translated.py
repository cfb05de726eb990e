"""The models' words the portal shows — statuses, choices, field labels — follow the visitor's
language (issue 12): Arabic and English from locale/{ar,en} (fragment « models »), French unchanged.

Every choice label and every field / model name of the customer-facing models is checked in
Arabic (it must contain Arabic letters, but for a few codes written the same in every language),
which also catches a label left unmarked (it would stay French)."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from rak_billing.models import Bill
from rak_customer.models import Customer, Dossier
from rak_requests.complaint_models import Complaint
from rak_requests.models import ServiceRequest

ARABIC = re.compile(r"[\u0600-\u06FF]")
# Written the same in Arabic (codes, acronyms, the payment platform's own field names).
SAME_IN_ARABIC = {"RIB", "ICE", "RAK", "oid", "TransId", "kWh ou m³", "iOS"}  # iOS: the system's own name
CUSTOMER_APPS = ("rak_base", "rak_customer", "rak_billing", "rak_payment_cmi", "rak_requests", "rak_portal")


def _customer_models():
    for app in CUSTOMER_APPS:
        for model in apps.get_app_config(app).get_models():
            if model.__name__.startswith("Historical"):
                continue  # simple_history's copies, back office only
            yield model


def _labels(model):
    """(where, lazy label) of the model's names, its fields' names, help texts and choices."""
    opts = model._meta
    yield f"{opts.label} verbose_name", opts.verbose_name
    yield f"{opts.label} verbose_name_plural", opts.verbose_name_plural
    for field in opts.get_fields():
        if not isinstance(field, models.Field) or field.auto_created:
            continue
        if isinstance(field, models.AutoField | models.BigAutoField):
            continue  # a declared id (the bill's month-carrying id, issue 15): technical like an automatic one
        if isinstance(field.verbose_name, str) and field.verbose_name == field.name.replace("_", " "):
            continue  # no verbose_name: a technical column the portal never names
        yield f"{opts.label}.{field.name}", field.verbose_name
        if field.help_text:
            yield f"{opts.label}.{field.name} help_text", field.help_text
        for value, label in field.flatchoices:
            yield f"{opts.label}.{field.name}={value}", label


def test_every_model_label_and_choice_has_an_arabic_translation():
    untranslated = []
    with translation.override("ar"):
        for model in _customer_models():
            for where, label in _labels(model):
                text = str(label)
                if where.startswith("rak_customer.Customer.language="):
                    continue  # autonyms: each language named in itself
                if text in SAME_IN_ARABIC or ARABIC.search(text):
                    continue
                untranslated.append((where, text))
    assert untranslated == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Reçue", "En cours de traitement", "En attente de votre réponse", "Clôturée"]),
        ("ar", ["تم التوصل بها", "قيد المعالجة", "في انتظار ردك", "مغلقة"]),
        ("en", ["Received", "Being handled", "Awaiting your reply", "Closed"]),
    ],
)
def test_complaint_statuses_in_each_language(language, expected):
    with translation.override(language):
        assert [str(label) for label in Complaint.Status.labels] == expected


def test_statuses_and_labels_the_portal_shows():
    with translation.override("ar"):
        assert str(ServiceRequest._meta.get_field("status").verbose_name) == "الحالة"
        assert str(Bill._meta.get_field("due_date").verbose_name) == "تاريخ الاستحقاق"
        assert str(Customer._meta.get_field("code").verbose_name) == "رقم الزبون"
        assert str(Dossier._meta.verbose_name) == "ملف الاشتراك"
    with translation.override("en"):
        assert str(Bill._meta.get_field("due_date").verbose_name) == "due date"
        assert str(Customer._meta.get_field("code").verbose_name) == "customer code"
        assert str(Dossier._meta.verbose_name) == "contract"
        assert str(Customer._meta.get_field("language").verbose_name) == "communication language"
    with translation.override("fr"):  # the source, unchanged
        assert str(Customer._meta.get_field("code").verbose_name) == "code client"
        assert str(Dossier._meta.verbose_name) == "dossier"
