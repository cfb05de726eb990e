"""« Demande de résiliation » and « Suivre ma demande de résiliation » (seed 000).

The customer selects one or several of their dossiers (active or suspended), joins their identity
document (the type's RequiredDocument « cin »: PDF, image or archive, 2 Mo at most), gives an
optional reason, confirms by the OTP sent by SMS (``requires_otp``; phone and e-mail filled in first
when missing) and gets the « accusé de réception » by e-mail; their termination requests are listed
below the form (the generic flow, ``/espace/services/resiliation/``).

Phases (data: migration 0007):

- TRAITEMENT — the front desk checks the request and the identity document: accept, ask a
  complement, reject. Accepting moves on to « Relève finale » (``termination_treatment_accept``).
- RELEVE_FINALE — technical; the customer is asked « Communiquer l'index final de votre compteur »
  (READ_METER): they send their own index with a photo from the tracking page, or staff record the
  technician's reading (« Enregistrer la relève finale »). Either ends the phase once every metered
  dossier has its final index; never « Accepter la phase ».
- CLOTURE — the system, at once: final bill, deposit set against the last bills, dossier TERMINATED,
  request ACCEPTEE, the customer told the balance (``rak_requests.termination``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_customer.api import Dossier
from rak_requests.engine import OPEN_STATUSES, RequestError
from rak_requests.kinds.base import PhaseRule, RequestData, RequestKind, StaffAction, kind_register
from rak_requests.models import Phase, RequestType, ServiceRequest

CODE = RequestType.Code.TERMINATION
TERMINABLE = (Dossier.Status.ACTIVE, Dossier.Status.SUSPENDED)
TECHNICAL_PERMISSION = "rak_requests.act_technical_phase"


class TerminationRefused(RequestError):
    default_message = _("Cette demande de résiliation ne peut pas être déposée.")


class NoDossierChosen(TerminationRefused):
    default_message = _("Sélectionnez au moins un dossier à résilier.")


class DossierNotYours(TerminationRefused):
    default_message = _("Ce dossier ne fait pas partie de vos dossiers.")


class DossierAlreadyTerminated(TerminationRefused):
    default_message = _("Ce dossier est déjà résilié.")


class TerminationInProgress(TerminationRefused):
    default_message = _("Ce dossier fait déjà l'objet d'une demande de résiliation en cours.")


# --- reads --------------------------------------------------------------------------------------


def terminable_dossiers(customer_id: int):
    """The customer's dossiers that may be terminated: active or suspended."""
    return (
        Dossier.objects.filter(customer_id=customer_id, status__in=TERMINABLE)
        .select_related("premises")
        .order_by("number")
    )


def open_terminations(customer_id: int, numbers: list[str]) -> dict[str, str]:
    """dossier number -> the number of the open termination request it is in (one query)."""
    rows = ServiceRequest.objects.filter(
        customer_id=customer_id,
        request_type__code=CODE,
        status__in=OPEN_STATUSES,
        dossiers__number__in=numbers,
    ).values_list("dossiers__number", "number")
    return dict(rows)


def dossiers_check(*, customer_id: int, numbers: list[str]) -> list[Dossier]:
    """The chosen dossiers, or the French refusal: none chosen; not the customer's; terminated;
    already in an open termination request."""
    numbers = sorted({str(n).strip() for n in numbers if str(n).strip()})
    if not numbers:
        raise NoDossierChosen()
    found = {d.number: d for d in Dossier.objects.filter(customer_id=customer_id, number__in=numbers)}
    for number in numbers:
        dossier = found.get(number)
        if dossier is None:
            raise DossierNotYours(
                gettext("Le dossier %(number)s ne fait pas partie de vos dossiers.") % {"number": number}
            )
        if dossier.status not in TERMINABLE:
            raise DossierAlreadyTerminated(gettext("Le dossier %(number)s est déjà résilié.") % {"number": number})
    busy = open_terminations(customer_id, numbers)
    if busy:
        number = sorted(busy)[0]
        raise TerminationInProgress(
            gettext("Le dossier %(number)s fait déjà l'objet d'une demande de résiliation en cours (n° %(request)s).")
            % {"number": number, "request": busy[number]}
        )
    return [found[n] for n in numbers]


# --- the customer's form and data -------------------------------------------------------------------


def _dossier_label(dossier: Dossier, busy: dict[str, str]) -> str:
    text = f"{dossier.number} — {dossier.get_service_display()} — {dossier.premises.address}"
    if dossier.status == Dossier.Status.SUSPENDED:
        text += " " + gettext("(suspendu)")
    if dossier.number in busy:
        text += " " + gettext("(résiliation en cours : %(request)s)") % {"request": busy[dossier.number]}
    return text


class TerminationForm(forms.Form):
    dossiers = forms.MultipleChoiceField(
        label=_("Dossier(s) à résilier"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Sélectionnez au moins un dossier à résilier."),
            "invalid_choice": _("Le dossier %(value)s ne fait pas partie de vos dossiers actifs ou suspendus."),
        },
        help_text=_("Sélectionnez un ou plusieurs dossiers à résilier."),
    )
    reason = forms.CharField(
        label=_("Motif de la résiliation"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        dossiers = list(terminable_dossiers(customer.pk))
        busy = open_terminations(customer.pk, [d.number for d in dossiers])
        cast(forms.ChoiceField, self.fields["dossiers"]).choices = [
            (d.number, _dossier_label(d, busy)) for d in dossiers
        ]

    def clean_dossiers(self):
        numbers = self.cleaned_data["dossiers"]
        try:
            dossiers_check(customer_id=self.customer.pk, numbers=numbers)
        except TerminationRefused as exc:
            raise forms.ValidationError(exc.message) from exc
        return numbers


@dataclass(frozen=True)
class TerminationData(RequestData):
    LABELS: ClassVar[dict] = {"dossiers": _("Dossier(s) à résilier"), "reason": _("Motif de la résiliation")}

    #: the numbers of the dossiers to terminate
    dossiers: list[str] = field(default_factory=list)
    reason: str = ""

    def validate(self) -> None:
        if not self.dossiers:
            raise NoDossierChosen()
        if len(self.reason or "") > 500:
            raise TerminationRefused(_("Le motif ne peut pas dépasser 500 caractères."))


# --- the back office's « Enregistrer la relève finale » ------------------------------------------


def final_reading_form(request: ServiceRequest) -> type[forms.Form]:
    """The form of « Enregistrer la relève finale » for ``request``: one of its dossiers still to be
    read, the index, the date of the technician's reading, a note."""
    from rak_requests.termination import termination_pending_dossiers

    choices = [
        (d.number, f"{d.number} — {d.get_service_display()} — {d.meter.number if d.meter is not None else ''}")
        for d in termination_pending_dossiers(request)
    ]

    class FinalReadingForm(forms.Form):
        dossier = forms.ChoiceField(label=_("Dossier"), choices=choices)
        index = forms.CharField(label=_("Index final"), max_length=20)
        reading_date = forms.DateField(
            label=_("Date de la relève"),
            initial=lambda: timezone.localdate(),
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        )
        note = forms.CharField(label=_("Observation"), required=False, max_length=500)

    return FinalReadingForm


def _final_reading_run(*, request_id: int, staff, now: datetime, data: dict) -> str:
    from rak_requests.termination import termination_final_reading_record

    request = termination_final_reading_record(
        request_id=request_id,
        staff=staff,
        dossier_number=data["dossier"],
        index=data["index"],
        reading_date=data.get("reading_date") or timezone.localdate(now),
        note=data.get("note") or "",
        now=now,
    )
    message = gettext("Relève finale du dossier %(number)s enregistrée.") % {"number": data["dossier"]}
    if request.status == ServiceRequest.Status.ACCEPTEE:
        message += " " + gettext("Demande acceptée : dossier(s) résilié(s), facture de clôture et dépôt de garantie.")
    return message


# --- the kind ---------------------------------------------------------------------------------------


class TerminationKind(RequestKind):
    code = CODE
    slug = "resiliation"
    title = _("Demande de résiliation")
    list_title = _("Toutes vos demandes de résiliation")
    intro_template = "rak_portal/services/termination_intro.html"
    phases: ClassVar[dict[str, PhaseRule]] = {
        Phase.Code.TRAITEMENT: PhaseRule(),
        Phase.Code.RELEVE_FINALE: PhaseRule(
            entry_action=ServiceRequest.Action.READ_METER, customer_driven=True, technical=True
        ),
        Phase.Code.CLOTURE: PhaseRule(customer_driven=True),
    }
    data_class = TerminationData
    requires_otp = True
    requires_contact = True

    def customer_form(self, *, customer, data=None, files=None) -> forms.Form:
        return TerminationForm(data=data, files=files, customer=customer)

    def data_from_form(self, *, customer, cleaned: dict) -> TerminationData:
        return TerminationData(
            dossiers=sorted(str(n) for n in cleaned.get("dossiers") or []),
            reason=(cleaned.get("reason") or "").strip(),
        )

    def dossiers_from_data(self, *, customer, data: TerminationData):  # type: ignore[override]  # each kind reads its own RequestData subclass
        return list(Dossier.objects.filter(customer_id=customer.pk, number__in=list(data.dossiers)).order_by("number"))

    def premises_from_data(self, *, customer, data: TerminationData):  # type: ignore[override]  # each kind reads its own RequestData subclass
        first = (
            Dossier.objects.filter(customer_id=customer.pk, number__in=list(data.dossiers))
            .select_related("premises")
            .order_by("number")
            .first()
        )
        return first.premises if first else None

    def filing_check(self, *, customer, data: TerminationData, now: datetime) -> None:  # type: ignore[override]  # each kind reads its own RequestData subclass
        """Refused: no dossier chosen; a dossier that is not the customer's or is terminated; one
        already in an open termination request (called under the customer's lock)."""
        data.validate()
        dossiers_check(customer_id=customer.pk, numbers=list(data.dossiers))

    def phase_accept(self, *, request: ServiceRequest, staff, now: datetime, message: str) -> ServiceRequest | None:
        if request.phase is not None and request.phase.code == Phase.Code.TRAITEMENT:
            from rak_requests.termination import termination_treatment_accept

            return termination_treatment_accept(request_id=request.pk, staff=staff, now=now, message=message)
        return None

    def staff_actions(self, request: ServiceRequest) -> list[StaffAction]:
        if request.status != ServiceRequest.Status.EN_COURS or not (
            request.phase is not None and request.phase.code == Phase.Code.RELEVE_FINALE
        ):
            return []
        return [
            StaffAction(
                name="final_reading",
                label=_("Enregistrer la relève finale"),
                run=_final_reading_run,
                form_class=final_reading_form(request),
                phases=(Phase.Code.RELEVE_FINALE,),
                permission=TECHNICAL_PERMISSION,
            )
        ]


kind_register(TerminationKind())
