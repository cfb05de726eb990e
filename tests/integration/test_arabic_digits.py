"""Digits typed on an Arabic keyboard (issue 12): « ٢٠٠٠٠٠٠٠٠ » is a code client, « ١٢٦٣ » an index —
the portal's forms receive ASCII digits (what bills, codes and the database write); passwords are
kept exactly as typed; the back office is not touched."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from rak_base.middleware import ARABIC_DIGITS, ArabicDigitsMiddleware
from tests.factories import TEST_PASSWORD, customer_with_account

pytestmark = pytest.mark.django_db


def _seen(path: str, data: dict) -> dict:
    request = RequestFactory().post(path, data)
    ArabicDigitsMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})
    return {key: request.POST.getlist(key) for key in request.POST}


def test_arabic_indic_and_persian_digits_become_ascii_passwords_and_back_office_untouched():
    seen = _seen("/espace/releve/", {"index": "١٢٦٣", "phone": "۰۶۱۲۳۴۵۶۷۸", "password": "Mot٣de", "note": "x"})
    assert seen["index"] == ["1263"] and seen["phone"] == ["0612345678"]
    assert seen["password"] == ["Mot٣de"] and seen["note"] == ["x"]
    assert _seen("/backoffice/x/", {"index": "١٢٦٣"})["index"] == ["١٢٦٣"]
    assert "٠١٢٣٤٥٦٧٨٩".translate(ARABIC_DIGITS) == "0123456789"


def test_a_customer_logs_in_with_a_code_client_typed_in_arabic_digits(client):
    customer, _user = customer_with_account()
    arabic_code = customer.code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert arabic_code != customer.code
    client.cookies["rak_language"] = "ar"
    response = client.post("/connexion/", {"username": arabic_code, "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/espace/"
