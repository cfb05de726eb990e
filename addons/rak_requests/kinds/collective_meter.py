"""« Demande de bénéficier du système tarification des compteurs collectifs » (seed 000).

Who may ask: the families living in a place equipped with a collective water meter and a
collective electricity meter (old medinas, unstructured districts where the distributor cannot
place individual meters for technical reasons). The customer downloads the two templates (« modèle
de la demande », « attestation administrative »: PDFs made here, pre-filled with their name and
code client), sends them back signed (the RequiredDocument rows of the type: « Demande signée »,
« Attestation administrative signée par les autorités locales », ≤ 2 Mo) with the dossier(s)
concerned, and gets the request receipt.

Phases (data: RequestType COLLECTIVE_METER, seeded by rak_requests 0011): TRAITEMENT, the front
desk checks the signed request and the attestation; ENQUETE (« Enquête technique »), the technical
service checks on site that the place is served by collective meters. Acceptance gives the
dossier(s) the tariff category « Compteur collectif » through ``rak_customer.api
.dossier_tariff_category_set`` (the next bill uses the collective schedule of rak_billing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, cast

from django import forms
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_customer.api import Dossier, Service, dossier_tariff_category_set
from rak_requests.engine import RequestError
from rak_requests.kinds.base import PhaseRule, RequestData, RequestKind, kind_register
from rak_requests.models import Phase, RequestType, ServiceRequest

CODE = RequestType.Code.COLLECTIVE_METER
ELIGIBLE_SERVICES = (Service.EAU, Service.ELECTRICITE)
OPEN_STATUSES = (ServiceRequest.Status.EN_COURS, ServiceRequest.Status.COMPLEMENT_DEMANDE)

#: the two documents to download: URL part -> (template, file name, title)
TEMPLATES = {
    "modele-de-la-demande": (
        "rak_requests/pdf/collective_meter/request_form.html",
        "modele-demande-compteurs-collectifs.pdf",
        _("Modèle de la demande"),
    ),
    "attestation-administrative": (
        "rak_requests/pdf/collective_meter/attestation_form.html",
        "attestation-administrative-compteurs-collectifs.pdf",
        _("Attestation administrative"),
    ),
}


class CollectiveMeterRefused(RequestError):
    default_message = _("Cette demande ne peut pas être déposée.")


class NoDossierChosen(CollectiveMeterRefused):
    default_message = _("Choisissez au moins un dossier concerné par la demande.")


def eligible_dossiers(customer_id: int):
    """The customer's active water and electricity dossiers (what the request may be about)."""
    return (
        Dossier.objects.filter(customer_id=customer_id, status=Dossier.Status.ACTIVE, service__in=ELIGIBLE_SERVICES)
        .select_related("premises")
        .order_by("number")
    )


def _dossier_label(dossier: Dossier) -> str:
    text = f"{dossier.number} — {dossier.get_service_display()} — {dossier.premises.address}"
    if dossier.tariff_category == Dossier.TariffCategory.COLLECTIF:
        text += " " + gettext("(déjà au tarif des compteurs collectifs)")
    return text


class DossierChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Dossier) -> str:
        return _dossier_label(obj)


def dossiers_refusal(*, customer_id: int, numbers: list[str]) -> str | None:
    """Why the dossiers ``numbers`` cannot be the subject of the request (the first reason, in
    French), or None: not one of the customer's, terminated or not active, neither water nor
    electricity, already at the collective tariff, or a request of this type in progress for it."""
    if not numbers:
        return str(NoDossierChosen.default_message)
    found = {d.number: d for d in Dossier.objects.filter(customer_id=customer_id, number__in=list(numbers))}
    for number in numbers:
        dossier = found.get(number)
        if dossier is None:
            return gettext("Le dossier %(number)s ne fait pas partie de vos dossiers.") % {"number": number}
        if dossier.status == Dossier.Status.TERMINATED:
            return gettext("Le dossier %(number)s est résilié : il ne peut pas bénéficier de ce tarif.") % {
                "number": number
            }
        if dossier.status != Dossier.Status.ACTIVE:
            return gettext("Le dossier %(number)s n'est pas actif : il ne peut pas bénéficier de ce tarif.") % {
                "number": number
            }
        if dossier.service not in ELIGIBLE_SERVICES:
            return gettext("Le dossier %(number)s n'est ni un dossier d'eau ni un dossier d'électricité.") % {
                "number": number
            }
        if dossier.tariff_category == Dossier.TariffCategory.COLLECTIF:
            return gettext("Le dossier %(number)s bénéficie déjà de la tarification des compteurs collectifs.") % {
                "number": number
            }
    pending = (
        ServiceRequest.objects.filter(
            request_type__code=CODE,
            customer_id=customer_id,
            status__in=OPEN_STATUSES,
            dossiers__number__in=list(numbers),
        )
        .values_list("dossiers__number", flat=True)
        .first()
    )
    if pending:
        return gettext(
            "Une demande de tarification des compteurs collectifs est déjà en cours pour le dossier %(number)s."
        ) % {"number": pending}
    return None


class CollectiveMeterForm(forms.Form):
    dossiers = DossierChoiceField(
        label=_("Dossier(s) concerné(s)"),
        queryset=Dossier.objects.none(),
        to_field_name="number",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choisissez au moins un dossier concerné par la demande."),
            "invalid_choice": _("Le dossier %(value)s ne fait pas partie de vos dossiers."),
            "invalid_pk_value": _("Le dossier %(pk)s ne fait pas partie de vos dossiers."),
        },
        help_text=_("Vos dossiers d'eau et d'électricité actifs desservis par des compteurs collectifs."),
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        field = cast(forms.ModelMultipleChoiceField, self.fields["dossiers"])
        # any of the customer's own dossiers is understood (a terminated one gets its reason); the
        # boxes offered are the active water and electricity ones
        field.queryset = Dossier.objects.filter(customer_id=customer.pk).select_related("premises")
        field.widget.choices = [(d.number, _dossier_label(d)) for d in eligible_dossiers(customer.pk)]

    def clean_dossiers(self):
        chosen = self.cleaned_data["dossiers"]
        refusal = dossiers_refusal(customer_id=self.customer.pk, numbers=sorted(d.number for d in chosen))
        if refusal:
            raise forms.ValidationError(refusal)
        return chosen


@dataclass(frozen=True)
class CollectiveMeterData(RequestData):
    LABELS: ClassVar[dict] = {"dossiers": _("Dossier(s) concerné(s)")}

    #: the numbers of the dossiers concerned
    dossiers: list[str] = field(default_factory=list)

    def validate(self) -> None:
        if not self.dossiers:
            raise NoDossierChosen(str(NoDossierChosen.default_message))


class CollectiveMeterKind(RequestKind):
    code = CODE
    slug = "compteurs-collectifs"
    title = _("Demande de bénéficier du système tarification des compteurs collectifs")
    phases: ClassVar[dict[str, PhaseRule]] = {
        Phase.Code.TRAITEMENT: PhaseRule(),
        Phase.Code.ENQUETE: PhaseRule(technical=True),
    }
    data_class = CollectiveMeterData
    requires_otp = False
    requires_contact = True
    intro_template = "rak_portal/services/collective_meter_intro.html"
    #: the seed's button (« cliquez sur le bouton « envoyer » »), for the generic flow
    submit_label = _("Envoyer")

    def customer_form(self, *, customer, data=None, files=None) -> forms.Form:
        return CollectiveMeterForm(data=data, files=files, customer=customer)

    def data_from_form(self, *, customer, cleaned: dict) -> CollectiveMeterData:
        chosen = cleaned.get("dossiers") or []
        return CollectiveMeterData(dossiers=sorted(d.number if isinstance(d, Dossier) else str(d) for d in chosen))

    def dossiers_from_data(self, *, customer, data: CollectiveMeterData):  # type: ignore[override]  # each kind reads its own RequestData subclass
        return list(Dossier.objects.filter(customer_id=customer.pk, number__in=list(data.dossiers)).order_by("number"))

    def premises_from_data(self, *, customer, data: CollectiveMeterData):  # type: ignore[override]  # each kind reads its own RequestData subclass
        dossiers = Dossier.objects.filter(customer_id=customer.pk, number__in=list(data.dossiers)).order_by("number")
        first = dossiers.select_related("premises").first()
        return first.premises if first else None

    def filing_check(self, *, customer, data: CollectiveMeterData, now: datetime) -> None:  # type: ignore[override]  # each kind reads its own RequestData subclass
        """Refused (the form says the same next to the field): no dossier chosen; a dossier that
        is not the customer's, terminated or not active, neither water nor electricity; one
        already at the collective tariff or with such a request in progress."""
        data.validate()
        refusal = dossiers_refusal(customer_id=customer.pk, numbers=list(data.dossiers))
        if refusal:
            raise CollectiveMeterRefused(refusal)

    def on_accepted(self, *, request: ServiceRequest, actor, now: datetime) -> None:
        dossier_tariff_category_set(
            dossier_ids=list(request.dossiers.values_list("pk", flat=True)),
            category=Dossier.TariffCategory.COLLECTIF,
            customer_id=request.customer_id,
            reason=gettext("Demande %(number)s acceptée") % {"number": request.number},
        )


KIND = kind_register(CollectiveMeterKind())

#: blank templates (no customer logged in) rendered once per process: anonymous downloads cost no
#: PDF rendering each time
_BLANK: dict[str, bytes] = {}


def template_pdf(which: str, *, customer=None) -> tuple[bytes, str]:
    """The PDF of a template to download (``which``: a key of ``TEMPLATES``), pre-filled with the
    customer's name, code client and active dossiers when one is given. Returns (bytes, file name).
    Raises KeyError for an unknown template."""
    from rak_base.pdf import pdf_render

    template, filename, title = TEMPLATES[which]
    if customer is None and which in _BLANK:  # the blank template is the same for everyone
        return _BLANK[which], filename
    dossiers = list(eligible_dossiers(customer.pk)) if customer is not None else []
    html = render_to_string(
        template,
        {
            "title": title,
            "customer": customer,
            "dossiers": dossiers,
        },
    )
    pdf = pdf_render(html)
    if customer is None:
        _BLANK[which] = pdf
    return pdf, filename
