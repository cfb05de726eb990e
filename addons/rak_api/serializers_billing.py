"""What the billing endpoints answer and accept (rak_api.views.billing, rak_api.views.readings):
dossiers, bills and their lines, the dashboard, consumption, readings and the self-reading.

Amounts are strings with two decimals (« 1070.00 », DH TTC unless the name says ``_ht``),
quantities strings with up to three; codes (``status``, ``kind``, ``service``…) are stable
UPPER_CASE values and each has a ``…_label`` in the request's language, as the portal shows it.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rak_billing.line_labels import bill_line_label, tranche_notice
from rak_billing.models import Bill, BillLine, MeterReading, Payment
from rak_billing.readings import PHOTO_REQUIRED
from rak_billing.readings.rules import fmt_quantity
from rak_billing.selectors import BillFilter, BillSettlement, BillStatus, billing_month_of, service_unit
from rak_customer.models import Dossier, Service
from rak_portal.templatetags.rak_bills import period

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
QUANTITY: dict[str, Any] = {"max_digits": 12, "decimal_places": 3}


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


# --- dossiers ---------------------------------------------------------------------------------------


class DossierSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="N° dossier.")
    service = serializers.ChoiceField(choices=Service.choices, help_text="Métier.")
    service_label = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Dossier.Status.choices)
    status_label = serializers.SerializerMethodField()
    tariff_category = serializers.ChoiceField(choices=Dossier.TariffCategory.choices)
    tariff_category_label = serializers.SerializerMethodField()
    billing_mode = serializers.ChoiceField(choices=Dossier.BillingMode.choices)
    billing_mode_label = serializers.SerializerMethodField()
    address = serializers.CharField(source="premises.address")
    district = serializers.CharField(source="premises.district")
    city = serializers.CharField(source="premises.city")
    meter_number = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField(help_text="Unité de consommation (« m³ », « kWh »), vide sinon.")
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)

    def get_service_label(self, dossier) -> str:
        return _label(Service, dossier.service)

    def get_status_label(self, dossier) -> str:
        return _label(Dossier.Status, dossier.status)

    def get_tariff_category_label(self, dossier) -> str:
        return _label(Dossier.TariffCategory, dossier.tariff_category)

    def get_billing_mode_label(self, dossier) -> str:
        return _label(Dossier.BillingMode, dossier.billing_mode)

    def get_meter_number(self, dossier) -> str | None:
        return dossier.meter.number if dossier.meter_id else None

    def get_unit(self, dossier) -> str:
        return service_unit(dossier.service)


class DossierOperationSerializer(serializers.Serializer):
    date = serializers.DateField(source="day")
    label = serializers.CharField(help_text="Opération (« Pose du compteur », « Demande de résiliation »…).")  # type: ignore[assignment]  # a declared field (DRF)
    detail = serializers.CharField(allow_blank=True)
    status = serializers.CharField(allow_blank=True, help_text="Statut affiché (« Réalisée », « En cours »…).")
    request_number = serializers.CharField(allow_blank=True, help_text="N° de la demande concernée, vide sinon.")


class DossierMandateSerializer(serializers.Serializer):
    reference = serializers.CharField()
    bank_name = serializers.CharField()


class DossierDetailSerializer(DossierSerializer):
    operations = DossierOperationSerializer(many=True, help_text="Opérations effectuées, les plus récentes d'abord.")
    mandate = DossierMandateSerializer(allow_null=True, help_text="Domiciliation bancaire active, sinon null.")


def dossier_detail_data(overview) -> dict:
    data = dict(DossierSerializer(overview.dossier).data)
    data["operations"] = DossierOperationSerializer(overview.operations, many=True).data
    data["mandate"] = DossierMandateSerializer(overview.mandate).data if overview.mandate else None
    return data


# --- bills ------------------------------------------------------------------------------------------


class BillSerializer(serializers.Serializer):
    """A bill as the e-facture table and « Mes consommations » list it (status computed as of
    today)."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=Bill.Kind.choices)
    kind_label = serializers.SerializerMethodField()
    dossier = serializers.SerializerMethodField(help_text="N° dossier, null pour une facture sans dossier.")
    service = serializers.SerializerMethodField(help_text="Métier du dossier (EAU, ELECTRICITE, ASSAINISSEMENT).")
    billing_month = serializers.SerializerMethodField(help_text="« Échéance » : premier jour du mois facturé.")
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True, help_text="Fin de période, exclue.")
    period_label = serializers.SerializerMethodField(help_text="Période telle que le portail l'écrit.")
    issue_date = serializers.DateField()
    due_date = serializers.DateField(help_text="Date limite de paiement.")
    consumption = serializers.DecimalField(**QUANTITY)
    unit = serializers.SerializerMethodField()
    estimated = serializers.BooleanField(help_text="Consommation estimée, faute de relève.")
    total_ht = serializers.DecimalField(**MONEY)
    total_tva = serializers.DecimalField(**MONEY)
    total_ttc = serializers.DecimalField(**MONEY)
    paid_amount = serializers.DecimalField(**MONEY, help_text="Déjà réglé (paiements et avoirs).")
    open_amount = serializers.DecimalField(**MONEY, help_text="Reste à payer.")
    status = serializers.ChoiceField(
        choices=[(s, s) for s in BillFilter.STATUSES], help_text="PAID, UNPAID, EXIGIBLE ou CREDIT (avoir)."
    )
    status_label = serializers.SerializerMethodField()

    def get_kind_label(self, bill) -> str:
        return _label(Bill.Kind, bill.kind)

    def get_dossier(self, bill) -> str | None:
        return bill.dossier.number if bill.dossier_id else None

    def get_service(self, bill) -> str | None:
        return bill.dossier.service if bill.dossier_id else None

    def get_billing_month(self, bill) -> str:
        return billing_month_of(bill).isoformat()

    def get_period_label(self, bill) -> str:
        return period(bill) if bill.period_start else ""

    def get_unit(self, bill) -> str:
        return service_unit(bill.dossier.service) if bill.dossier_id else ""

    def get_status_label(self, bill) -> str:
        return str(BillStatus.LABELS.get(bill.status, bill.status))


class BillLineSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=BillLine.Kind.choices)
    label = serializers.SerializerMethodField(help_text="Libellé dans la langue de la requête.")  # type: ignore[assignment]  # a declared field (DRF)
    quantity = serializers.DecimalField(**QUANTITY)
    unit_price_ht = serializers.DecimalField(max_digits=12, decimal_places=4)
    amount_ht = serializers.DecimalField(**MONEY)
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=4, help_text="0.2000 pour 20 %.")
    amount_tva = serializers.DecimalField(**MONEY)
    amount_ttc = serializers.DecimalField(**MONEY)

    def get_label(self, line) -> str:
        return bill_line_label(line.label)


class BillSettlementSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[(k, k) for k in (BillSettlement.PAYMENT, BillSettlement.CREDIT_NOTE, BillSettlement.REVERSAL)],
        help_text="PAYMENT (paiement), CREDIT_NOTE (avoir) ou REVERSAL (paiement annulé, montant négatif).",
    )
    date = serializers.DateField(source="day")
    amount = serializers.DecimalField(**MONEY)
    method = serializers.CharField(allow_blank=True, help_text="Mode de paiement (CASH, CARD_CMI…), vide sinon.")
    method_label = serializers.SerializerMethodField()
    reference = serializers.CharField(allow_blank=True)
    credit_note_id = serializers.IntegerField(allow_null=True)
    credit_note_number = serializers.CharField(allow_blank=True)

    def get_method_label(self, row) -> str:
        return _label(Payment.Method, row.method) if row.method else ""


class BillDetailSerializer(BillSerializer):
    address = serializers.SerializerMethodField()
    previous_index = serializers.DecimalField(**QUANTITY, allow_null=True)
    current_index = serializers.DecimalField(**QUANTITY, allow_null=True)
    tranche_notice = serializers.SerializerMethodField(help_text="Avis de changement de tranche, vide sinon.")
    credited_bill_id = serializers.IntegerField(allow_null=True, help_text="Avoir : la facture créditée.")
    lines = BillLineSerializer(many=True, source="lines.all")
    settlements = serializers.SerializerMethodField()
    open_complaint = serializers.SerializerMethodField(help_text="N° de la réclamation en cours sur cette facture.")

    def get_address(self, bill) -> str:
        return str(bill.dossier.premises) if bill.dossier_id else ""

    def get_tranche_notice(self, bill) -> str:
        return tranche_notice(bill.tranche_notice) if bill.tranche_notice else ""

    @extend_schema_field(BillSettlementSerializer(many=True))
    def get_settlements(self, bill) -> list[dict]:
        return BillSettlementSerializer(self.context.get("settlements", []), many=True).data  # type: ignore[return-value]  # many=True: a ReturnList

    def get_open_complaint(self, bill) -> str | None:
        complaint = self.context.get("open_complaint")
        return complaint.number if complaint else None


class BillFilterSerializer(serializers.Serializer):
    """The query string of the bill list and its exports (the e-facture filters)."""

    period = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=10,
        help_text="Échéance (mois facturé) : MM/AAAA ou AAAA-MM, par ex. 01/2026.",
    )
    dossier = serializers.CharField(required=False, allow_blank=True, max_length=16, help_text="N° dossier.")
    service = serializers.ChoiceField(choices=Service.choices, required=False, allow_blank=True)
    status = serializers.ChoiceField(
        choices=[(s, s) for s in BillFilter.STATUSES],
        required=False,
        allow_blank=True,
        help_text="PAID (payées), UNPAID (reste à payer, exigibles comprises), EXIGIBLE (échues), CREDIT (avoirs).",
    )
    kind = serializers.ChoiceField(
        choices=[(k, k) for k in BillFilter.KINDS],
        required=False,
        allow_blank=True,
        help_text="CONSUMPTION (factures de consommation) ou OTHER (autres factures, avoirs).",
    )


# --- dashboard, consumption ---------------------------------------------------------------------------


class MonthPointSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="Premier jour du mois.")
    value = serializers.DecimalField(**QUANTITY, allow_null=True, help_text="null : pas de facture ce mois-là.")
    estimated = serializers.BooleanField()


class AmountPointSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="Premier jour du mois (échéance).")
    value = serializers.DecimalField(**MONEY, allow_null=True, help_text="Montant HT facturé, avoirs déduits.")


class ConsumptionSerializer(serializers.Serializer):
    dossier = serializers.CharField()
    service = serializers.ChoiceField(choices=Service.choices)
    unit = serializers.CharField(allow_blank=True)
    months = MonthPointSerializer(many=True, help_text="Les mois facturés, du plus ancien au plus récent.")


class BilledAmountsSerializer(serializers.Serializer):
    months = AmountPointSerializer(many=True, help_text="« Evolution des montants facturés » (6 mois, DH HT).")


class ReadingWindowSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(source="last_day", help_text="Dernier jour inclus.")


class ReadingBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField(source="reading_date")
    index = serializers.DecimalField(**QUANTITY)
    source = serializers.ChoiceField(choices=MeterReading.Source.choices)  # type: ignore[assignment]  # a declared field (DRF)
    status = serializers.ChoiceField(choices=MeterReading.Status.choices)


class SelfReadingStateSerializer(serializers.Serializer):
    """Where a dossier stands for the self-reading today."""

    dossier = serializers.CharField(source="dossier.number")
    service = serializers.CharField(source="dossier.service")
    address = serializers.CharField(source="dossier.premises.address")
    unit = serializers.SerializerMethodField()
    available = serializers.BooleanField(
        source="ready", help_text="La relève est ouverte et l'index pas encore relevé."
    )
    already_read = serializers.BooleanField(help_text="Fenêtre ouverte, index déjà relevé (agent ou client).")
    correctable = serializers.BooleanField(help_text="Le relevé de la fenêtre est le vôtre et peut être corrigé.")
    window = ReadingWindowSerializer(allow_null=True, help_text="Fenêtre de relève ouverte, sinon null.")
    next_window = ReadingWindowSerializer(allow_null=True, help_text="Fenêtre fermée : la prochaine.")
    reading = ReadingBriefSerializer(allow_null=True, help_text="Le relevé déjà fait dans la fenêtre ouverte.")
    last_reading = serializers.SerializerMethodField(help_text="Le dernier relevé du dossier (« dernier index »).")

    def get_unit(self, state) -> str:
        return service_unit(state.dossier.service)

    @extend_schema_field(ReadingBriefSerializer(allow_null=True))
    def get_last_reading(self, state) -> dict | None:
        reading = self.context.get("last_readings", {}).get(state.dossier.pk)
        return ReadingBriefSerializer(reading).data if reading else None


class SelfReadingStatusSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="Aujourd'hui (Africa/Casablanca).")
    dossiers = SelfReadingStateSerializer(many=True)


class UnpaidTotalsSerializer(serializers.Serializer):
    total = serializers.DecimalField(**MONEY, help_text="Total des impayés.")
    count = serializers.IntegerField()
    exigible_total = serializers.DecimalField(**MONEY, help_text="Dont échu (exigible).")
    exigible_count = serializers.IntegerField()


class AccountSummarySerializer(serializers.Serializer):
    balance = serializers.DecimalField(**MONEY, help_text="Solde à payer (négatif : en votre faveur).")
    last_billed_month = serializers.DateField(allow_null=True)


class DashboardNewsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    link = serializers.CharField(allow_blank=True)
    published_at = serializers.DateTimeField()


class DashboardConsumptionSerializer(serializers.Serializer):
    dossier = DossierSerializer(allow_null=True, help_text="Le dossier du graphique (?dossier=…), null sans dossier.")
    unit = serializers.CharField(allow_blank=True)
    months = MonthPointSerializer(many=True)


class DashboardSerializer(serializers.Serializer):
    customer_code = serializers.CharField()
    customer_name = serializers.CharField()
    summary = AccountSummarySerializer()
    unpaid = UnpaidTotalsSerializer()
    last_bills = BillSerializer(many=True, help_text="Les dernières factures, les plus récentes d'abord.")
    consumption = DashboardConsumptionSerializer()
    dossiers = DossierSerializer(many=True)
    reading_open = serializers.BooleanField(help_text="Un dossier peut être relevé aujourd'hui (auto-relève).")
    reading_states = SelfReadingStateSerializer(many=True)
    unread_notifications = serializers.IntegerField(help_text="Notifications non lues.")
    news = DashboardNewsSerializer(many=True)


def dashboard_data(details, customer) -> dict:
    unpaid = details.unpaid
    return {
        "customer_code": customer.code,
        "customer_name": customer.display_name,
        "summary": AccountSummarySerializer(details.summary).data,
        "unpaid": {
            "total": serializers.DecimalField(**MONEY).to_representation(unpaid.total),
            "count": len(unpaid.bills),
            "exigible_total": serializers.DecimalField(**MONEY).to_representation(unpaid.exigible_total),
            "exigible_count": unpaid.exigible_count,
        },
        "last_bills": BillSerializer(details.last_bills, many=True).data,
        "consumption": {
            "dossier": DossierSerializer(details.chart_dossier).data if details.chart_dossier else None,
            "unit": details.unit,
            "months": MonthPointSerializer(details.consumption, many=True).data,
        },
        "dossiers": DossierSerializer(details.dossiers, many=True).data,
        "reading_open": details.reading_open,
        "reading_states": SelfReadingStateSerializer(
            details.reading_states, many=True, context={"last_readings": details.last_readings}
        ).data,
        "unread_notifications": details.unread_notifications,
        "news": DashboardNewsSerializer(details.news, many=True).data,
    }


# --- readings ---------------------------------------------------------------------------------------


class ReadingSerializer(serializers.Serializer):
    """A line of « Historique des relevés »."""

    id = serializers.IntegerField()
    date = serializers.DateField(source="reading_date")
    index = serializers.DecimalField(**QUANTITY)
    index_label = serializers.SerializerMethodField(help_text="L'index écrit comme dans la langue de la requête.")
    previous_index = serializers.DecimalField(**QUANTITY, allow_null=True)
    consumption = serializers.DecimalField(**QUANTITY, allow_null=True)
    meter_replaced = serializers.BooleanField()
    source = serializers.ChoiceField(choices=MeterReading.Source.choices)  # type: ignore[assignment]  # a declared field (DRF)
    source_label = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=MeterReading.Status.choices)
    status_label = serializers.SerializerMethodField()
    review_note = serializers.CharField(allow_blank=True, help_text="Motif de la vérification ou du rejet.")
    has_photo = serializers.SerializerMethodField()
    has_contest_photo = serializers.SerializerMethodField()
    contestable = serializers.SerializerMethodField(help_text="Relevé retenu pour vérification : contestable.")

    def get_index_label(self, reading) -> str:
        return fmt_quantity(reading.index)

    def get_source_label(self, reading) -> str:
        return _label(MeterReading.Source, reading.source)

    def get_status_label(self, reading) -> str:
        return _label(MeterReading.Status, reading.status)

    def get_has_photo(self, reading) -> bool:
        return bool(reading.photo)

    def get_has_contest_photo(self, reading) -> bool:
        return bool(reading.contest_photo)

    def get_contestable(self, reading) -> bool:
        return reading.status == MeterReading.Status.HELD


class SelfReadingSerializer(serializers.Serializer):
    """« Relève de mon index »: multipart/form-data with the photo of the meter's dial."""

    index = serializers.CharField(
        max_length=20,
        help_text="Les chiffres affichés par le compteur (sans les décimales rouges pour l'eau).",
        error_messages={
            "required": _("Saisissez l'index affiché par votre compteur."),
            "blank": _("Saisissez l'index affiché par votre compteur."),
        },
    )
    photo = serializers.FileField(
        help_text="Photo nette du cadran (JPEG, PNG, WebP ou HEIC, 2 Mo au plus), vérifiée par son contenu.",
        error_messages={
            "required": PHOTO_REQUIRED,
            "invalid": PHOTO_REQUIRED,
            "empty": PHOTO_REQUIRED,
            "no_name": PHOTO_REQUIRED,
        },
    )
    confirm = serializers.BooleanField(
        required=False,
        default=False,
        help_text="« Je confirme cet index » : renvoyer true après un refus reading_needs_confirmation.",
    )


class CorrectionSerializer(SelfReadingSerializer):
    photo = serializers.FileField(
        required=False,
        help_text="Facultative : sans nouvelle photo, celle du relevé corrigé est conservée.",
        error_messages={"invalid": PHOTO_REQUIRED, "empty": PHOTO_REQUIRED, "no_name": PHOTO_REQUIRED},
    )


class ContestSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    photo = serializers.FileField(
        help_text="Photo de l'index du compteur (JPEG, PNG, WebP ou HEIC, 2 Mo au plus).",
        error_messages={
            "required": _("Joignez une photo de l'index de votre compteur pour contester ce relevé."),
            "invalid": _("Joignez une photo de l'index de votre compteur pour contester ce relevé."),
            "empty": _("Joignez une photo de l'index de votre compteur pour contester ce relevé."),
        },
    )


class SelfReadingResultSerializer(serializers.Serializer):
    reading = ReadingSerializer()
    message = serializers.CharField(help_text="Le message de confirmation du portail.")
