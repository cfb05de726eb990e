"""« Demande de domiciliation bancaire » (seed 000, with « Suivre ma demande de domiciliation
bancaire »): the customer authorises the RAK to debit their bills from their bank account.

The seed's steps: (1) download the form from the request, for the premises chosen (« Télécharger
le formulaire de demande »: a PDF pre-filled here — customer, code client, address, dossiers — with
a blank section for the bank's signature); (2) have it signed by the bank; (3) « Sélectionnez
l'adresse concernée par la demande »; (4) the RIB, 24 digits, checked by its key and its bank code
(``rak_base.rib``); (5) the documents (RequiredDocument rows of the type: the signed form, a RIB,
the ID; PDF, image or archive, 2 Mo at most) — then « Valider », acknowledgement by e-mail; the
customer's requests of the type are listed below (generic flow, ``/espace/services/
domiciliation-bancaire/``).

Phase TRAITEMENT (front desk): accept, ask for a complement or reject. Acceptance: one direct-debit
mandate per dossier of the address (RIB, date, reference) through ``rak_billing.api.mandate_create``,
which switches each dossier to « Prélèvement bancaire » (``rak_customer``'s service); the customer
is told the mandate's reference and bank. The monthly bank files and the rejects are the back
office's (``rak_billing.direct_debit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, cast

from django import forms
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base.rib import InvalidRib, rib_validate
from rak_billing.api import mandate_create
from rak_customer.api import Dossier, Premises
from rak_requests.engine import Notice, RequestError, notify_customer
from rak_requests.kinds.base import PhaseRule, RequestData, RequestKind, kind_register
from rak_requests.models import Phase, RequestType, ServiceRequest

CODE = RequestType.Code.DIRECT_DEBIT
OPEN_STATUSES = (ServiceRequest.Status.EN_COURS, ServiceRequest.Status.COMPLEMENT_DEMANDE)
ADDRESS_LABEL = _("Sélectionnez l'adresse concernée par la demande")


class DirectDebitRefused(RequestError):
    default_message = _("Cette demande de domiciliation bancaire ne peut pas être déposée.")

    def __init__(self, message: object = None, **params: object) -> None:
        super().__init__(str(message or self.default_message), **params)


class NoAddressChosen(DirectDebitRefused):
    default_message = _("Sélectionnez l'adresse concernée par la demande.")


# --- what the customer may choose -----------------------------------------------------------------


def customer_dossiers(customer_id: int):
    """The customer's dossiers that can be debited (not terminated), with their premises."""
    return (
        Dossier.objects.filter(customer_id=customer_id)
        .exclude(status=Dossier.Status.TERMINATED)
        .select_related("premises")
        .order_by("premises__reference", "number")
    )


def customer_premises(customer_id: int):
    """The addresses (premises) of the customer's dossiers that can be debited."""
    return Premises.objects.filter(pk__in=customer_dossiers(customer_id).values("premises_id")).order_by(
        "address", "reference"
    )


def premises_of_customer(customer_id: int, reference: str) -> Premises | None:
    """The customer's premises ``reference``, or None (not theirs, or nothing left to debit there):
    every lookup from a customer's URL goes through this."""
    return customer_premises(customer_id).filter(reference=reference).first()


def premises_dossiers(customer_id: int, premises_id: int) -> list[Dossier]:
    return list(customer_dossiers(customer_id).filter(premises_id=premises_id))


class PremisesChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Premises) -> str:
        return str(obj)


class DirectDebitForm(forms.Form):
    premises = PremisesChoiceField(
        label=ADDRESS_LABEL,
        queryset=Premises.objects.none(),
        to_field_name="reference",
        empty_label=_("— Choisissez l'adresse —"),
        error_messages={
            "required": _("Sélectionnez l'adresse concernée par la demande."),
            "invalid_choice": _("Choisissez une des adresses de vos abonnements."),
        },
        help_text=_("Les dossiers d'abonnement de cette adresse seront prélevés."),
    )
    rib = forms.CharField(
        label=_("N° de RIB"),
        max_length=40,
        help_text=_("Le RIB doit contenir 24 chiffres."),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false", "dir": "ltr"}
        ),
        error_messages={"required": _("Veuillez saisir votre N° de RIB.")},
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["premises"]).queryset = customer_premises(customer.pk)

    def clean_rib(self) -> str:
        try:
            return rib_validate(self.cleaned_data.get("rib")).number
        except InvalidRib as exc:
            raise forms.ValidationError(exc.message) from exc


# --- typed data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectDebitData(RequestData):
    LABELS: ClassVar[dict] = {
        "address": _("Adresse concernée"),
        "dossiers": _("Dossier(s) concerné(s)"),
        "rib": _("N° de RIB"),
        "bank_name": _("Banque"),
    }

    #: the premises' reference (« LK… »)
    premises: str = ""
    #: its address, as shown when the request was filed
    address: str = ""
    #: the numbers of the dossiers of that address to debit
    dossiers: list[str] = field(default_factory=list)
    #: the 24 digits, without spaces
    rib: str = ""
    #: the bank read from the RIB's code
    bank_name: str = ""

    def validate(self) -> None:
        if not self.premises:
            raise NoAddressChosen()
        try:
            rib_validate(self.rib)
        except InvalidRib as exc:
            raise DirectDebitRefused(exc.message) from exc

    def display(self, name: str, value) -> str:
        if name == "rib" and isinstance(value, str) and len(value) == 24:
            return f"{value[:3]} {value[3:6]} {value[6:22]} {value[22:]}"
        return super().display(name, value)


# --- the kind ---------------------------------------------------------------------------------------


class DirectDebitKind(RequestKind):
    code = CODE
    slug = "domiciliation-bancaire"
    title = _("Demande de domiciliation bancaire")
    list_title = _("Toutes vos demandes de domiciliation bancaire")
    phases: ClassVar[dict[str, PhaseRule]] = {Phase.Code.TRAITEMENT: PhaseRule()}
    data_class = DirectDebitData
    requires_otp = False
    requires_contact = True
    intro_template = "rak_portal/services/direct_debit_intro.html"

    def customer_form(self, *, customer, data=None, files=None) -> forms.Form:
        return DirectDebitForm(data=data, files=files, customer=customer)

    def data_from_form(self, *, customer, cleaned: dict) -> DirectDebitData:
        premises = cleaned.get("premises")
        number = cleaned.get("rib") or ""
        try:
            bank = rib_validate(number).bank_name
        except InvalidRib:
            bank = ""
        if premises is None:
            return DirectDebitData(rib=number, bank_name=bank)
        return DirectDebitData(
            premises=premises.reference,
            address=str(premises),
            dossiers=[d.number for d in premises_dossiers(customer.pk, premises.pk)],
            rib=number,
            bank_name=bank,
        )

    def dossiers_from_data(self, *, customer, data: DirectDebitData):  # type: ignore[override]  # each kind reads its own RequestData subclass
        return list(
            customer_dossiers(customer.pk).filter(premises__reference=data.premises, number__in=list(data.dossiers))
        )

    def premises_from_data(self, *, customer, data: DirectDebitData):  # type: ignore[override]  # each kind reads its own RequestData subclass
        return premises_of_customer(customer.pk, data.premises) if data.premises else None

    def filing_check(self, *, customer, data: DirectDebitData, now: datetime) -> None:  # type: ignore[override]  # each kind reads its own RequestData subclass
        """Refused: no address, a RIB of the wrong length or key or of an unknown bank, an address
        that is not the customer's (or has no dossier left to debit), a request already in progress
        for that address."""
        data.validate()
        premises = premises_of_customer(customer.pk, data.premises)
        if premises is None or not data.dossiers:
            raise DirectDebitRefused(_("Choisissez une des adresses de vos abonnements."))
        pending = (
            ServiceRequest.objects.filter(
                request_type__code=CODE, customer_id=customer.pk, status__in=OPEN_STATUSES, premises=premises
            )
            .values_list("number", flat=True)
            .first()
        )
        if pending:
            raise DirectDebitRefused(
                gettext("Une demande de domiciliation bancaire est déjà en cours pour cette adresse (n° %(number)s).")
                % {"number": pending}
            )

    def on_accepted(self, *, request: ServiceRequest, actor, now: datetime) -> None:
        """One mandate per dossier of the address (RIB, the request's date, a reference), each dossier
        switched to « Prélèvement bancaire »; the customer is told the mandates' references."""
        data = DirectDebitData.from_json(request.data)
        staff = actor if getattr(actor, "is_staff", False) else None
        mandates = [
            mandate_create(
                dossier_id=dossier.pk,
                rib=data.rib,
                signed_date=timezone.localdate(request.filed_at),
                now=now,
                request_reference=request.number,
                created_by=staff,
            )
            for dossier in request.dossiers.exclude(status=Dossier.Status.TERMINATED).order_by("number")
        ]
        if not mandates:
            raise DirectDebitRefused(
                _("Aucun dossier actif à prélever à cette adresse : la demande ne peut pas être acceptée.")
            )
        dossiers = ", ".join(m.dossier.number for m in mandates)
        references = ", ".join(m.reference for m in mandates)
        notify_customer(
            request=request,
            notice=Notice(
                subject=_("Domiciliation bancaire acceptée"),
                text=lambda: (
                    gettext(
                        "vos factures du dossier %(dossiers)s seront désormais prélevées sur votre compte %(bank)s "
                        "(mandat %(references)s)."
                    )
                    % {"dossiers": dossiers, "bank": mandates[0].bank_name, "references": references}
                ),
                sms=False,
            ),
        )


KIND = kind_register(DirectDebitKind())


# --- « Télécharger le formulaire de demande » -------------------------------------------------------


def form_pdf(*, customer, premises: Premises, now: datetime) -> tuple[bytes, str]:
    """The request form pre-filled for ``premises`` of ``customer`` (who, code client, address,
    dossiers; the bank's section left blank for its stamp and signature). The caller has looked
    the premises up through the customer (``premises_of_customer``). Returns (bytes, file name)."""
    from rak_base.pdf import pdf_render

    html = render_to_string(
        "rak_requests/pdf/direct_debit_form.html",
        {
            "customer": customer,
            "premises": premises,
            "dossiers": premises_dossiers(customer.pk, premises.pk),
            "today": timezone.localdate(now),
        },
    )
    return pdf_render(html), f"formulaire-domiciliation-bancaire-{premises.reference}.pdf"
