"""Subscription contracts: one per service requested (water and electricity give two), generated
from the request's data with its technical details and fees, signed on a canvas.

Fees schedule (« barème des frais de branchement et d'abonnement »), prices in DH:

==============  ======================  ==========================================================
Service         Frais d'abonnement HT   Dépôt de garantie (avance sur consommation, sans TVA)
==============  ======================  ==========================================================
Eau             150,00 (TVA 20 %)       15 mm : 250 ; 20 mm : 500 ; 25 mm : 800 ; 40 mm : 2 000
Électricité     200,00 (TVA 20 %)       ≤ 3 kVA : 300 ; ≤ 6 : 400 ; ≤ 9 : 600 ; ≤ 12 : 800 ; plus : 1 200
==============  ======================  ==========================================================

The caliber is the request's ``caliber_mm`` (water) and the power its ``power_kva``
(electricity); a value not in the table takes the default (15 mm, 3 kVA). The deposit becomes
the dossier's ``deposit_amount`` when the meter is installed. The schedule is code (constants
below) on purpose: it changes rarely and every change is reviewed; move it to a model when the
back office must edit it.

Signing: the browser posts the drawn signature as a PNG data URL. ``signature_png_decode`` accepts
only a real, small PNG (decoded by Pillow, not blank); it is stored under a random name in the
private media. The signed PDF (WeasyPrint) carries the contract text, the signature image, the
date, the signer's IP and the SHA-256 of the contract text, and is registered in the document
registry (kind CONTRACT) with its own SHA-256 and a reference code + QR code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.documents import document_reference_new, document_register, reference_display, verification_url
from rak_base.errors import RakError
from rak_base.models import Document
from rak_base.money import round_money
from rak_base.uploads import UploadRefused, upload_validate
from rak_billing.api import vat_rate_other
from rak_billing.ledger import OtherLine
from rak_customer.language import customer_language
from rak_customer.models import Dossier, PortalAccount, Service
from rak_requests.models import Contract, ServiceRequest

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

NO_VAT = Decimal("0.0000")
SIGNATURE_MAX_BYTES = 300 * 1024
SIGNATURE_MAX_SIDE = 2000
DATA_URL_PREFIX = "data:image/png;base64,"


SUBSCRIPTION_HT: dict[str, Decimal] = {Service.EAU: Decimal("150.00"), Service.ELECTRICITE: Decimal("200.00")}
WATER_DEPOSITS = {
    "15 mm": Decimal("250.00"),
    "20 mm": Decimal("500.00"),
    "25 mm": Decimal("800.00"),
    "40 mm": Decimal("2000.00"),
}
WATER_DEFAULT = "15 mm"
#: (up to this power in kVA, deposit); above the last band: ELECTRICITY_DEPOSIT_ABOVE
ELECTRICITY_DEPOSITS = [
    (Decimal("3"), Decimal("300.00")),
    (Decimal("6"), Decimal("400.00")),
    (Decimal("9"), Decimal("600.00")),
    (Decimal("12"), Decimal("800.00")),
]
ELECTRICITY_DEPOSIT_ABOVE = Decimal("1200.00")
ELECTRICITY_DEFAULT = "3 kVA"
SERVICE_WORDS: dict[str, StrOrPromise] = {
    Service.EAU: gettext_lazy("eau potable"),
    Service.ELECTRICITE: gettext_lazy("électricité"),
}
#: the request's usage (public form) -> the dossier's tariff category
USAGE_CATEGORIES = {
    "DOMESTIQUE": Dossier.TariffCategory.DOMESTIQUE,
    "PROFESSIONNEL": Dossier.TariffCategory.PROFESSIONNEL,
    "INDUSTRIEL": Dossier.TariffCategory.INDUSTRIEL,
    "ADMINISTRATIF": Dossier.TariffCategory.ADMINISTRATION,
}


class ContractError(RakError):
    default_message = gettext_lazy("Le contrat ne peut pas être signé.")


class SignatureInvalid(ContractError):
    default_message = gettext_lazy(
        "Votre signature n'a pas pu être lue : dessinez-la dans le cadre puis cliquez sur « Signer »."
    )


# --- what the request asks for ---------------------------------------------------------------------------


def _kva(value) -> Decimal | None:
    text = str(value or "").lower().replace("kva", "").replace(",", ".").strip()
    try:
        power = Decimal(text)
    except ArithmeticError:
        return None
    return power if power.is_finite() and power > 0 else None


def _norm_caliber(value, service: str) -> str:
    """« 15 », « 15mm » -> « 15 mm » (water); « 6 », « 6 kVA » -> « 6 kVA » (electricity)."""
    if service == Service.EAU:
        digits = "".join(ch for ch in str(value or "") if ch.isdigit())
        text = f"{digits} mm"
        return text if text in WATER_DEPOSITS else WATER_DEFAULT
    power = _kva(value)
    if power is None:
        return ELECTRICITY_DEFAULT
    return f"{power.normalize():f}".replace(".", ",") + " kVA"


def request_services(request: ServiceRequest) -> list[str]:
    """The services of a subscription request, water first: ``data["services"]`` (list) or
    ``data["service"]`` (``EAU``, ``ELECTRICITE``, ``EAU_ELECTRICITE``/``BOTH``)."""
    data = request.data or {}
    raw = data.get("services")
    if not raw:
        single = str(data.get("service") or "").upper()
        raw = [Service.EAU, Service.ELECTRICITE] if single in ("EAU_ELECTRICITE", "BOTH", "LES_DEUX") else [single]
    if isinstance(raw, str):
        raw = [raw]
    wanted = {str(item).upper() for item in raw}
    return [service for service in (Service.EAU, Service.ELECTRICITE) if service in wanted]


def request_caliber(request: ServiceRequest, service: str) -> str:
    """The caliber (water, « 15 mm ») or power (electricity, « 6 kVA ») asked for ``service``
    (``data["caliber_mm"]`` / ``data["power_kva"]`` of the public form)."""
    data = request.data or {}
    key = "caliber_mm" if service == Service.EAU else "power_kva"
    return _norm_caliber(data.get(key), service)


def request_category(request: ServiceRequest) -> str:
    """The dossier's tariff category from the request's usage (domestic when unknown)."""
    usage = str((request.data or {}).get("usage") or "").upper()
    return USAGE_CATEGORIES.get(usage, Dossier.TariffCategory.DOMESTIQUE)


def request_category_label(request: ServiceRequest, service: str) -> str:
    """The tariff category printed on the contract of ``service``: the one chosen for that service
    (one list per service), else the dossier category of the usage. A category of the old single
    list is used only when it belongs to this service (« Basse tension » never on a water contract)."""
    data = request.data or {}
    label = data.get(f"tariff_category_{service.lower()}_label")
    if label:
        return _(str(label))  # stored in French, as the form offered it
    old = str(data.get("tariff_category") or "")
    if old and data.get("tariff_category_label") and old.startswith("EAU_") == (service == Service.EAU):
        return _(str(data["tariff_category_label"]))
    return str(Dossier.TariffCategory(request_category(request)).label)


def request_address(request: ServiceRequest) -> dict[str, str]:
    """The premises address: the request's premises when set, else the data entered."""
    premises = request.premises  # no query when premises_id is None
    if premises is not None:
        return {
            "address": premises.address,
            "district": premises.district,
            "city": premises.city,
            "postal_code": premises.postal_code,
        }
    data = request.data or {}
    return {
        "address": str(data.get("address") or data.get("premises_address") or ""),
        "district": str(data.get("district") or ""),
        "city": str(data.get("city") or "Kénitra"),
        "postal_code": str(data.get("postal_code") or ""),
    }


def deposit_for(service: str, caliber: str) -> Decimal:
    """The deposit (dépôt de garantie) of ``service`` at ``caliber``/power, from the schedule."""
    caliber = _norm_caliber(caliber, service)
    if service == Service.EAU:
        return WATER_DEPOSITS[caliber]
    power = _kva(caliber) or Decimal("0")
    for limit, deposit in ELECTRICITY_DEPOSITS:
        if power <= limit:
            return deposit
    return ELECTRICITY_DEPOSIT_ABOVE


def fee_lines(service: str, caliber: str, *, on_date: date) -> list[OtherLine]:
    """The invoice lines of ``service`` at ``caliber`` on ``on_date``: subscription fee (VAT: the
    table's normal rate « frais et travaux » in force that day) + deposit (no VAT)."""
    caliber = _norm_caliber(caliber, service)
    word = SERVICE_WORDS[service]
    vat = vat_rate_other(on_date=on_date)
    return [
        OtherLine(
            label=_("Frais d'abonnement %(service)s") % {"service": word},
            unit_price=SUBSCRIPTION_HT[service],
            vat_rate=vat,
        ),
        OtherLine(
            label=_("Dépôt de garantie %(service)s (%(caliber)s)") % {"service": word, "caliber": caliber},
            unit_price=deposit_for(service, caliber),
            vat_rate=NO_VAT,
        ),
    ]


def _vat_rate(line: OtherLine) -> Decimal:
    """The line's VAT rate: ``fee_lines`` always sets it (None would be the table's rate at issue)."""
    if line.vat_rate is None:
        raise ValueError(f"the fee line « {line.label} » has no VAT rate")
    return line.vat_rate


def lines_total_ttc(lines: list[OtherLine]) -> Decimal:
    """The TTC total as ``bill_issue_other`` computes it (HT and VAT each rounded per line)."""
    total = Decimal("0.00")
    for line in lines:
        ht = round_money(line.quantity * line.unit_price)
        total += ht + round_money(ht * _vat_rate(line))
    return total


# --- generation ----------------------------------------------------------------------------------------


def contract_body(request: ServiceRequest, service: str, *, now: datetime) -> str:
    """The contract's text, written in the customer's language (generated by an agent's decision)."""
    with customer_language(request.customer):
        return _contract_body(request, service, now=now)


def _contract_body(request: ServiceRequest, service: str, *, now: datetime) -> str:
    caliber = request_caliber(request, service)
    lines = fee_lines(service, caliber, on_date=timezone.localdate(now))
    rows = [
        {
            "label": line.label,
            "ht": round_money(line.unit_price * line.quantity),
            "vat": f"{_vat_rate(line) * 100:.0f} %",
            "ttc": lines_total_ttc([line]),
        }
        for line in lines
    ]
    data = request.data or {}
    return render_to_string(
        "rak_requests/contract_body.html",
        {
            "request": request,
            "customer": request.customer,
            "service": service,
            "service_label": Service(service).label,
            "service_word": SERVICE_WORDS[service],
            "caliber": caliber,
            "caliber_label": _("Calibre du compteur") if service == Service.EAU else _("Puissance souscrite"),
            "category": request_category_label(request, service),
            "usage": _(data["usage_label"]) if data.get("usage_label") else data.get("usage") or "",
            "address": request_address(request),
            "rows": rows,
            "total": lines_total_ttc(lines),
            "generated_date": timezone.localdate(now),
        },
    ).strip()


def contracts_generate(*, request: ServiceRequest, now: datetime) -> list[Contract]:
    """One draft contract per service requested (existing ones are kept: idempotent)."""
    services = request_services(request)
    if not services:
        raise ContractError(_("La demande ne précise aucun service (eau ou électricité) : contrat impossible."))
    contracts = []
    for service in services:
        contract = Contract.objects.filter(request=request, service=service).first()
        if contract is None:
            lines = fee_lines(service, request_caliber(request, service), on_date=timezone.localdate(now))
            try:
                with transaction.atomic():
                    contract = Contract.objects.create(
                        request=request,
                        service=service,
                        body_html=contract_body(request, service, now=now),
                        fees_amount=lines_total_ttc(lines),
                        generated_at=now,
                    )
            except IntegrityError:  # generated at the same moment by another page load
                contract = Contract.objects.get(request=request, service=service)
        contracts.append(contract)
    return contracts


def contract_text_sha256(contract: Contract) -> str:
    return hashlib.sha256(contract.body_html.encode("utf-8")).hexdigest()


# --- signature ------------------------------------------------------------------------------------------


def signature_png_decode(data_url: str) -> bytes:
    """The PNG bytes of a canvas's ``toDataURL("image/png")``; refuses anything else (another
    format, a forged header, a huge or blank image)."""
    text = (data_url or "").strip()
    if not text.startswith(DATA_URL_PREFIX):
        raise SignatureInvalid()
    encoded = text[len(DATA_URL_PREFIX) :]
    if len(encoded) > SIGNATURE_MAX_BYTES * 4 // 3 + 8:
        raise SignatureInvalid(_("La signature est trop volumineuse."))
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureInvalid() from exc
    try:
        upload_validate(io.BytesIO(raw), kinds={"png"}, max_bytes=SIGNATURE_MAX_BYTES)
    except UploadRefused as exc:
        raise SignatureInvalid() from exc
    from PIL import Image

    with Image.open(io.BytesIO(raw)) as image:
        if image.width > SIGNATURE_MAX_SIDE or image.height > SIGNATURE_MAX_SIDE:
            raise SignatureInvalid(_("La signature est trop grande."))
        rgba = image.convert("RGBA")
        # ink: a pixel that is both visible and not white
        alpha = rgba.getchannel("A").point(lambda value: 255 if value > 32 else 0)
        dark = rgba.convert("L").point(lambda value: 255 if value < 200 else 0)
        from PIL import ImageChops

        if ImageChops.multiply(alpha, dark).getbbox() is None:
            raise SignatureInvalid(_("Le cadre de signature est vide : signez avant de valider."))
    return raw


def _owner_user(request: ServiceRequest):
    account = PortalAccount.objects.select_related("user").filter(customer_id=request.customer_id).first()
    return account.user if account else None


def contract_pdf_render(contract: Contract, *, reference: str, text_sha256: str, signature_png: bytes) -> bytes:
    from rak_base.pdf import pdf_render
    from rak_billing.pdf import qr_data_uri

    html = render_to_string(
        "rak_requests/pdf/contract.html",
        {
            "contract": contract,
            "request": contract.request,
            "customer": contract.request.customer,
            "body": contract.body_html,
            "signature_uri": "data:image/png;base64," + base64.b64encode(signature_png).decode(),
            "signed_at": timezone.localtime(contract.signed_at),
            "signer_ip": contract.signer_ip,
            "text_sha256": text_sha256,
            "reference": reference_display(reference),
            "qr": qr_data_uri(verification_url(reference)),
        },
    )
    return pdf_render(html)


def contract_sign_store(*, contract: Contract, signature_png: bytes, ip: str, now: datetime) -> Document:
    """Store the signature, render and register the signed PDF (caller holds the request lock
    and has checked the request's state)."""
    contract.signature.save(f"{secrets.token_urlsafe(18)}.png", ContentFile(signature_png), save=False)
    contract.signed_at = now
    contract.signer_ip = ip or None
    contract.status = Contract.Status.SIGNED
    text_sha256 = contract_text_sha256(contract)
    reference = document_reference_new()
    pdf = contract_pdf_render(contract, reference=reference, text_sha256=text_sha256, signature_png=signature_png)
    request = contract.request
    document = document_register(
        kind=Document.Kind.CONTRACT,
        title=_("Contrat d'abonnement %(service)s — demande %(number)s")
        % {"service": SERVICE_WORDS[contract.service], "number": request.number},
        owner=_owner_user(request),
        owner_label=request.customer.display_name,
        subject=contract,
        pdf_bytes=pdf,
        reference=reference,
    )
    contract.document = document
    contract.save(update_fields=["signature", "signed_at", "signer_ip", "status", "document"])
    return document
