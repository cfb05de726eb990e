"""Serializers of the complaints, outage notices, notifications (the bell), public endpoints
(agencies, simulator, document verification, contact) and « facture électronique »."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext
from rest_framework import serializers

from rak_base.models import Message
from rak_requests.complaint_models import Complaint, ComplaintEntry
from rak_requests.complaints.categories import category_description, category_name
from rak_requests.complaints.selectors import (
    complaint_can_rate,
    complaint_can_reopen,
    complaint_is_overdue,
    complaint_public_entries,
    complaint_reopen_until,
    complaint_sla_text,
)
from rak_requests.outages import OUTAGE_STATE_LABELS, outage_area_text, outage_notice_state, outage_what

# --- complaints --------------------------------------------------------------------------------------


class ComplaintCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField(help_text="Nom de la catégorie, dans la langue de la requête.")
    description = serializers.CharField(help_text="Aide pour choisir la catégorie.")
    is_incident = serializers.BooleanField(help_text="Fuite ou coupure (POST /api/v1/incidents/).")
    is_urgent = serializers.BooleanField()
    about_bill = serializers.BooleanField(help_text="Contestation de facture : indiquer la facture.")
    service = serializers.CharField(help_text="Métier (EAU, ELECTRICITE…) ou vide.")

    def to_representation(self, category):
        return {
            "id": category.pk,
            "code": category.code,
            "name": category_name(category),
            "description": category_description(category),
            "is_incident": category.is_incident,
            "is_urgent": category.is_urgent,
            "about_bill": category.about_bill,
            "service": category.service or "",
        }


class ComplaintCategoryBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


def _category_brief(category) -> dict:
    return {"id": category.pk, "code": category.code, "name": category_name(category)}


class ComplaintSummarySerializer(serializers.Serializer):
    """One line of « Mes réclamations »."""

    number = serializers.CharField()
    category = ComplaintCategoryBriefSerializer()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Complaint.Status.choices)
    status_label = serializers.CharField()
    is_open = serializers.BooleanField()
    overdue = serializers.BooleanField()
    sla_text = serializers.CharField(help_text="Le délai en mots (« Réponse prévue au plus tard le … »).")
    filed_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    rating = serializers.IntegerField(allow_null=True)

    def to_representation(self, complaint):
        now = self.context["now"]
        return {
            "number": complaint.number,
            "category": _category_brief(complaint.category),
            "subject": complaint.subject,
            "status": complaint.status,
            "status_label": complaint.get_status_display(),
            "is_open": complaint.is_open,
            "overdue": complaint_is_overdue(complaint, now),
            "sla_text": complaint_sla_text(complaint, now),
            "filed_at": serializers.DateTimeField().to_representation(complaint.filed_at),
            "due_at": serializers.DateTimeField().to_representation(complaint.due_at),
            "closed_at": serializers.DateTimeField().to_representation(complaint.closed_at)
            if complaint.closed_at
            else None,
            "rating": complaint.rating,
        }


class ComplaintAttachmentSerializer(serializers.Serializer):
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(allow_null=True)
    url = serializers.CharField(help_text="GET avec le jeton : le fichier.")


class ComplaintEntrySerializer(serializers.Serializer):
    """One message of the exchange (never an internal note)."""

    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=ComplaintEntry.Kind.choices)
    kind_label = serializers.CharField()
    from_customer = serializers.BooleanField(help_text="Vrai : écrit par le client ; faux : par la RAK.")
    body = serializers.CharField(allow_blank=True)
    rating = serializers.IntegerField(allow_null=True, help_text="Pour une appréciation (RATED) : la note.")
    attachment = ComplaintAttachmentSerializer(allow_null=True)

    def to_representation(self, entry):
        attachment = None
        if entry.file:
            attachment = {
                "name": entry.file_name or "",
                "content_type": entry.file_type or "",
                "size": entry.file_size,
                "url": reverse("api:complaint_attachment", args=[entry.pk]),
            }
        rating = (entry.data or {}).get("rating") if entry.kind == ComplaintEntry.Kind.RATED else None
        return {
            "id": entry.pk,
            "at": serializers.DateTimeField().to_representation(entry.at),
            "kind": entry.kind,
            "kind_label": entry.get_kind_display(),
            "from_customer": entry.actor_kind == ComplaintEntry.Actor.CUSTOMER,
            "body": entry.body,
            "rating": rating if isinstance(rating, int) else None,
            "attachment": attachment,
        }


class ComplaintDetailSerializer(ComplaintSummarySerializer):
    """A complaint with its exchange and what the customer may do now."""

    message = serializers.CharField()
    source = serializers.ChoiceField(choices=Complaint.Source.choices)  # type: ignore[assignment]  # a declared field (DRF)
    dossier_number = serializers.CharField(allow_blank=True)
    bill_id = serializers.IntegerField(allow_null=True)
    bill_number = serializers.CharField(allow_blank=True)
    address = serializers.CharField(allow_blank=True)
    district = serializers.CharField(allow_blank=True)
    outage_notice_number = serializers.CharField(allow_blank=True)
    result = serializers.CharField(allow_blank=True, help_text="Résultat du traitement (réclamation clôturée).")
    rating_comment = serializers.CharField(allow_blank=True)
    can_add_info = serializers.BooleanField(help_text="« Ajouter une information » (réclamation en cours).")
    waiting_for_customer = serializers.BooleanField(help_text="La RAK attend une réponse (demande d'information).")
    can_reopen = serializers.BooleanField()
    reopen_until = serializers.DateTimeField(allow_null=True)
    can_rate = serializers.BooleanField()
    entries = ComplaintEntrySerializer(many=True)

    def to_representation(self, complaint):
        now = self.context["now"]
        data = super().to_representation(complaint)
        until = complaint_reopen_until(complaint)
        data.update(
            {
                "message": complaint.message,
                "source": complaint.source,
                "dossier_number": complaint.dossier.number if complaint.dossier_id else "",
                "bill_id": complaint.bill_id,
                "bill_number": complaint.bill.number if complaint.bill_id else "",
                "address": complaint.address,
                "district": complaint.district,
                "outage_notice_number": complaint.outage_notice.number if complaint.outage_notice_id else "",
                "result": complaint.result if complaint.status == Complaint.Status.CLOSED else "",
                "rating_comment": complaint.rating_comment,
                "can_add_info": complaint.is_open,
                "waiting_for_customer": complaint.status == Complaint.Status.WAITING_CUSTOMER,
                "can_reopen": complaint_can_reopen(complaint, now),
                "reopen_until": serializers.DateTimeField().to_representation(until) if until else None,
                "can_rate": complaint_can_rate(complaint),
                "entries": [
                    ComplaintEntrySerializer().to_representation(e) for e in complaint_public_entries(complaint)
                ],
            }
        )
        return data


class ComplaintFileSerializer(serializers.Serializer):
    """« Envoyer une réclamation » (connecté) : the portal's form rules (rak_portal.complaint_forms)."""

    category = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text="GET /api/v1/complaint-categories/")
    subject = serializers.CharField(max_length=160, required=False, allow_blank=True)
    message = serializers.CharField(max_length=4000)
    dossier = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False, allow_null=True)
    bill = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False, allow_null=True)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, help_text="Défaut : le client.")
    phone = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        help_text="Mobile du SMS de prise en charge (défaut : celui du client).",
    )
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    file = serializers.FileField(required=False, help_text="PDF ou image, 2 Mo au plus (multipart/form-data).")


class IncidentFileSerializer(serializers.Serializer):
    """« Signaler une fuite ou une coupure » (connecté)."""

    category = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text="Une catégorie is_incident.")
    service = serializers.ChoiceField(choices=["EAU", "ELECTRICITE"], required=False, allow_blank=True)
    premises = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False, allow_null=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    district = serializers.CharField(max_length=80, required=False, allow_blank=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False)
    message = serializers.CharField(max_length=4000)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    outage_notice = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        allow_null=True,
        help_text="Renvoyé après un refus « outage_notice_covers » : envoyer quand même, lié à cet avis.",
    )
    photo = serializers.FileField(required=False, help_text="Image, 2 Mo au plus (multipart/form-data).")


class ComplaintAddInfoSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    file = serializers.FileField(required=False)


class ComplaintReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ComplaintRateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True)


# --- outage notices ----------------------------------------------------------------------------------


class OutageNoticeSerializer(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.CharField()
    service = serializers.CharField()
    what = serializers.CharField(help_text="« coupure d'eau programmée »…")
    area = serializers.CharField(help_text="Quartiers et tournées concernés.")
    districts = serializers.ListField(child=serializers.CharField())
    state = serializers.ChoiceField(choices=["upcoming", "in_progress", "overrun", "restored"])
    state_label = serializers.CharField()
    starts_at = serializers.DateTimeField()
    expected_end_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    details = serializers.CharField(allow_blank=True)

    def to_representation(self, notice):
        dt = serializers.DateTimeField()
        state = outage_notice_state(notice, now=self.context["now"])
        return {
            "number": notice.number,
            "kind": notice.kind,
            "service": notice.service,
            "what": outage_what(notice),
            "area": outage_area_text(notice),
            "districts": list(notice.districts),
            "state": state,
            "state_label": str(OUTAGE_STATE_LABELS.get(state, "")),
            "starts_at": dt.to_representation(notice.starts_at),
            "expected_end_at": dt.to_representation(notice.expected_end_at),
            "ended_at": dt.to_representation(notice.ended_at) if notice.ended_at else None,
            "reason": notice.reason,
            "details": notice.details,
        }


class OutageListSerializer(serializers.Serializer):
    results = OutageNoticeSerializer(many=True)


# --- the bell ----------------------------------------------------------------------------------------


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField(help_text="Masqué pour un code ou un mot de passe.")
    created_at = serializers.DateTimeField()
    channels = serializers.ListField(child=serializers.CharField(), help_text="Canaux de l'avis (SMS, EMAIL, BELL…).")
    channel_labels = serializers.ListField(child=serializers.CharField())
    unread = serializers.BooleanField()

    def to_representation(self, line):
        message = line.message
        body = message.body
        if message.sensitive:
            body = {
                "otp": gettext("Un code de confirmation vous a été envoyé."),
                "password": gettext("Un mot de passe vous a été envoyé."),
            }.get(message.kind, gettext("Message confidentiel."))
        labels = dict(Message.Channel.choices)
        return {
            "id": message.pk,
            "kind": message.kind,
            "subject": message.subject or gettext("Message de la RAK"),
            "body": body,
            "created_at": serializers.DateTimeField().to_representation(message.created_at),
            "channels": list(line.channels),
            "channel_labels": [str(labels.get(c, c)) for c in line.channels],
            "unread": line.unread,
        }


class NotificationPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    unread_count = serializers.IntegerField(help_text="Avis non lus (le badge de la cloche).")
    results = NotificationSerializer(many=True)


class UnreadCountSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField()


class NotificationReadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unread = serializers.BooleanField()
    unread_count = serializers.IntegerField()


# --- public ------------------------------------------------------------------------------------------


class AgencySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField(help_text="Adresse avec la ville.")
    city = serializers.CharField()
    hours = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True, help_text="« 05 37 37 21 00 ».")
    phone_e164 = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    directions_url = serializers.CharField(allow_blank=True)

    def to_representation(self, card):
        agency = card["agency"]
        return {
            "id": agency.pk,
            "name": agency.name,
            "address": card["address"],
            "city": agency.city,
            "hours": agency.hours,
            "phone": card["phone"],
            "phone_e164": card["tel"],
            "email": agency.email,
            "latitude": None if agency.latitude is None else f"{agency.latitude:.6f}",
            "longitude": None if agency.longitude is None else f"{agency.longitude:.6f}",
            "directions_url": card["directions"],
        }


class SimulatorChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)


class SimulatorOptionsSerializer(serializers.Serializer):
    services = SimulatorChoiceSerializer(many=True)
    categories = SimulatorChoiceSerializer(many=True)
    categories_by_service = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    max_days = serializers.IntegerField()


class SimulatorInputSerializer(serializers.Serializer):
    """The portal simulator's inputs (same names, same rules)."""

    service = serializers.ChoiceField(choices=["ELECTRICITE", "EAU"])
    category = serializers.CharField(max_length=20)
    mode = serializers.ChoiceField(choices=["consommation", "index"], default="consommation")
    consumption = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    old_index = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    new_index = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    period = serializers.ChoiceField(choices=["jours", "dates"], default="jours")
    days = serializers.IntegerField(required=False, allow_null=True, min_value=-(2**31), max_value=2**31 - 1)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)


class SimulatedLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4)
    amount_ht = serializers.DecimalField(max_digits=14, decimal_places=2)
    vat_rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    amount_tva = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount_ttc = serializers.DecimalField(max_digits=14, decimal_places=2)


class SimulatedPartSerializer(serializers.Serializer):
    service = serializers.CharField()
    title = serializers.CharField()
    total_ht = serializers.DecimalField(max_digits=14, decimal_places=2)
    total_tva = serializers.DecimalField(max_digits=14, decimal_places=2)
    total_ttc = serializers.DecimalField(max_digits=14, decimal_places=2)
    at_threshold = serializers.CharField(allow_blank=True)
    lines = SimulatedLineSerializer(many=True)


class SimulationSerializer(serializers.Serializer):
    service = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    consumption = serializers.DecimalField(max_digits=14, decimal_places=3)
    monthly_consumption = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit = serializers.CharField()
    days = serializers.IntegerField()
    on_date = serializers.DateField()
    total_ht = serializers.DecimalField(max_digits=14, decimal_places=2)
    total_tva = serializers.DecimalField(max_digits=14, decimal_places=2)
    total_ttc = serializers.DecimalField(max_digits=14, decimal_places=2)
    notices = serializers.ListField(child=serializers.CharField())
    parts = SimulatedPartSerializer(many=True)


class VerifyInputSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=40, help_text="Code de référence imprimé sous le QR code.")
    file = serializers.FileField(required=False, help_text="Le PDF reçu, pour vérifier qu'il n'a pas été modifié.")


class VerificationSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=["AUTHENTIC", "ALTERED", "NOT_FOUND", "REVOKED"])
    authentic = serializers.BooleanField()
    message = serializers.CharField()
    reference = serializers.CharField(help_text="« 7KQ2-M9XD-4TRA ».")
    file_checked = serializers.BooleanField()
    document_kind = serializers.CharField(allow_blank=True)
    document_title = serializers.CharField(allow_blank=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    owner_masked = serializers.CharField(allow_blank=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ContactInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=160)
    body = serializers.CharField(max_length=4000)


class ContactSentSerializer(serializers.Serializer):
    message = serializers.CharField()


# --- « facture électronique » -----------------------------------------------------------------------


class EInvoiceChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    enabled = serializers.BooleanField()
    by_staff = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)


class EInvoiceSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(
        help_text="Vrai : plus de facture papier ; les factures restent dans « Mes factures »."
    )
    since = serializers.DateTimeField(allow_null=True)
    explanation = serializers.CharField()
    history = EInvoiceChangeSerializer(many=True)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only (``true`` / ``false``): « 0 », « "oui" » are refused, as the schema says."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
        return None


class EInvoiceInputSerializer(serializers.Serializer):
    enabled = StrictBooleanField(help_text="true : facture électronique ; false : facture papier.")
