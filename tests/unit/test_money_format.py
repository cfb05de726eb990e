"""One French amount format everywhere (« 1 070,00 DH »): pages and PDFs with a narrow no-break
space, SMS and e-mail texts with a plain space (GSM-7 has no U+202F); SMS grammar by number."""

from __future__ import annotations

from decimal import Decimal

from rak_base.money import money_format
from rak_billing.notifications import bill_available_texts


def test_money_format_pages_and_messages():
    assert money_format(Decimal("1070")) == "1\u202f070,00\u00a0DH"
    assert money_format(Decimal("1070"), plain_space=True) == "1 070,00 DH"
    assert money_format(Decimal("1234567.891"), plain_space=True) == "1 234 567,89 DH"
    assert money_format(Decimal("-5.5"), plain_space=True) == "-5,50 DH"
    assert money_format(Decimal("0"), plain_space=True, currency="") == "0,00"


def test_bill_available_sms_agrees_with_the_number_of_bills():
    one, *_ = bill_available_texts(month="mars 2026", count=1, total=Decimal("1070"), due="14/04/2026", estimated=False)
    three, _, body = bill_available_texts(
        month="mars 2026", count=3, total=Decimal("1070"), due="14/04/2026", estimated=False
    )
    assert "Votre facture de mars 2026 est disponible" in one and "Consultez-la" in one
    assert "Vos 3 factures de mars 2026 sont disponibles" in three and "Consultez-les" in three
    assert "1 070,00 DH" in three and "\u202f" not in three and "1 070,00 DH" in body
    assert "Vous pouvez les consulter, les télécharger et les payer" in body
