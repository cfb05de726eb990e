"""Serialisers of the payment side of the API (issue 13): bills to pay and card payment orders,
receipts, advance top-ups, provisions, refunds, direct debit. Input serialisers only parse; the
amounts always come from the services (``rak_payment_cmi.paying``)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from rak_payment_cmi.models import PaymentOrder
from rak_payment_cmi.selectors import OrderState
from rak_portal.payment_forms import ConditionsForm

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}
MAX_ID = 2**63 - 1
TERMS_REFUSED = ConditionsForm.base_fields["conditions"].error_messages["required"]


def _terms_accepted(value: bool) -> bool:
    if value is not True:
        raise serializers.ValidationError(TERMS_REFUSED, code="terms_required")
    return value


# --- bills to pay ---------------------------------------------------------------------------------


class PayableBillSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="bill.pk")
    number = serializers.CharField(source="bill.number")
    kind = serializers.CharField(source="bill.kind")
    dossier_number = serializers.CharField(source="bill.dossier.number", default="", allow_blank=True)
    period_start = serializers.DateField(source="bill.period_start", allow_null=True)
    due_date = serializers.DateField(source="bill.due_date")
    total_ttc = serializers.DecimalField(source="bill.total_ttc", **MONEY)
    open_amount = serializers.DecimalField(**MONEY, help_text="Reste à payer sur la facture.")
    exigible = serializers.BooleanField(help_text="Échue : obligatoirement comprise dans le paiement.")
    description = serializers.CharField(help_text="Libellé du paiement (« GERANCE:EAU, PERIODE:… »).")


class SelectionSerializer(serializers.Serializer):
    bill_ids = serializers.ListField(child=serializers.IntegerField(), source="ids")
    amount = serializers.DecimalField(**MONEY, help_text="Total des factures choisies.")
    fee = serializers.DecimalField(**MONEY, help_text="Frais du service en ligne (HT).")
    fee_vat = serializers.DecimalField(**MONEY)
    fee_total = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY, help_text="À envoyer tel quel dans « expected_total ».")


class FeeConfigSerializer(serializers.Serializer):
    mode = serializers.CharField(help_text="Mode de calcul des frais (NONE, PERCENT, FIXED…).")
    fixed = serializers.DecimalField(**MONEY)
    percent = serializers.DecimalField(max_digits=7, decimal_places=4, coerce_to_string=True)
    vat_rate = serializers.DecimalField(max_digits=7, decimal_places=4, coerce_to_string=True)


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)


class OrderBillSerializer(serializers.Serializer):
    bill_id = serializers.IntegerField()
    number = serializers.CharField(source="bill.number")
    amount = serializers.DecimalField(**MONEY, help_text="Montant figé à la création de l'ordre.")


class OrderReceiptSerializer(serializers.Serializer):
    payment_id = serializers.IntegerField()
    number = serializers.CharField(help_text="Numéro de reçu de paiement.")
    paid_at = serializers.DateTimeField()
    pdf_url = serializers.CharField(help_text="GET : le reçu en PDF (jeton requis).")
    trans_id = serializers.CharField(allow_blank=True)
    auth_code = serializers.CharField(allow_blank=True)
    masked_pan = serializers.CharField(allow_blank=True)


class OrderSerializer(serializers.Serializer):
    oid = serializers.CharField(help_text="Identifiant de l'ordre chez CMI.")
    purpose = serializers.CharField(help_text="BILLS, ADVANCE, REQUEST_FEE.")
    state = serializers.CharField(help_text="État en un mot : " + ", ".join(OrderState.choices) + ".")
    status = serializers.CharField(
        help_text="Statut détaillé de l'ordre : " + ", ".join(PaymentOrder.Status.values) + "."
    )
    message = serializers.CharField(help_text="Phrase à afficher pour ce statut.")
    failure_reason = serializers.CharField(allow_blank=True)
    awaiting_gateway = serializers.BooleanField(
        help_text="Peut encore être payé : « Reprendre » (POST …/checkout/) ou « Abandonner » (POST …/abandon/)."
    )
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    amount_bills = serializers.DecimalField(**MONEY)
    fee_amount = serializers.DecimalField(**MONEY)
    fee_vat = serializers.DecimalField(**MONEY)
    amount_total = serializers.DecimalField(**MONEY)
    currency = serializers.CharField(help_text="Code ISO 4217 numérique (504 : MAD).")
    card_type = serializers.CharField(help_text="MOROCCAN, INTERNATIONAL.")
    email = serializers.CharField()
    bills = OrderBillSerializer(many=True)
    receipt = OrderReceiptSerializer(allow_null=True)
    return_url = serializers.CharField(help_text="Page de suivi de l'ordre sur le portail (navigateur).")


class PayableBillsSerializer(serializers.Serializer):
    customer_code = serializers.CharField()
    customer_name = serializers.CharField()
    customer_address = serializers.CharField(allow_blank=True)
    bills = PayableBillSerializer(many=True)
    selection = SelectionSerializer(help_text="Les factures choisies (?bill_ids=…, toutes par défaut) et le total.")
    fee = FeeConfigSerializer()
    email_default = serializers.CharField(allow_blank=True)
    card_types = ChoiceSerializer(many=True)
    terms_url = serializers.CharField(help_text="Conditions générales du paiement en ligne (page du portail).")
    pending_order = OrderSerializer(
        allow_null=True, help_text="Votre ordre qui attend encore la plateforme pour une de ces factures."
    )


class OrderCreateSerializer(serializers.Serializer):
    bill_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=200,
        help_text="Les factures à payer (les factures exigibles sont obligatoires).",
    )
    expected_total = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        help_text="Le total affiché au client (frais compris) : refusé (amount_changed) s'il a changé.",
    )
    email = serializers.EmailField(
        max_length=254, required=False, help_text="E-mail de confirmation (par défaut celui du compte)."
    )
    card_type = serializers.ChoiceField(choices=PaymentOrder.CardType.choices, default=PaymentOrder.CardType.MOROCCAN)
    accept_terms = serializers.BooleanField(help_text="« J'ai lu et j'accepte les conditions générales ».")

    def validate_accept_terms(self, value):
        return _terms_accepted(value)


class CheckoutSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="Adresse de la page de paiement CMI.")
    method = serializers.CharField(help_text="Toujours POST.")
    fields = serializers.DictField(  # type: ignore[assignment]  # a declared field (DRF)
        child=serializers.CharField(allow_blank=True),
        help_text="Champs du formulaire à poster tels quels (signés HASH ver3).",
    )


class CheckoutAnswerSerializer(serializers.Serializer):
    order = OrderSerializer()
    checkout = CheckoutSerializer()
    portal_url = serializers.CharField(
        allow_null=True,
        help_text="Page du portail ouvrant le paiement dans un navigateur, quand elle existe (sinon null).",
    )


# --- receipts -------------------------------------------------------------------------------------


class ReceiptSerializer(serializers.Serializer):
    payment_id = serializers.IntegerField()
    number = serializers.CharField(help_text="Numéro de reçu de paiement.")
    amount = serializers.DecimalField(**MONEY)
    method = serializers.CharField()
    method_label = serializers.CharField()
    paid_at = serializers.DateTimeField()
    reference = serializers.CharField(allow_blank=True)
    oid = serializers.CharField(allow_null=True, help_text="Ordre de paiement par carte, le cas échéant.")
    reversed = serializers.BooleanField(help_text="Paiement annulé : son reçu n'est plus valable.")
    pdf_url = serializers.CharField(allow_null=True)


# --- advance top-ups ------------------------------------------------------------------------------


class DossierBriefSerializer(serializers.Serializer):
    number = serializers.CharField()
    service = serializers.CharField()
    service_label = serializers.CharField(source="get_service_display")
    address = serializers.CharField(source="premises", default="")


class AdvanceInfoSerializer(serializers.Serializer):
    dossiers = DossierBriefSerializer(many=True)
    amount_min = serializers.DecimalField(**MONEY)
    amount_max = serializers.DecimalField(**MONEY)
    fee = FeeConfigSerializer()
    email_default = serializers.CharField(allow_blank=True)
    card_types = ChoiceSerializer(many=True)


class AdvanceCreateSerializer(serializers.Serializer):
    dossier = serializers.CharField(max_length=20, help_text="Numéro du dossier facturé par avance.")
    amount = serializers.CharField(max_length=12, help_text="Montant de l'avance en dirhams (« 200 », « 150,50 »).")
    expected_total = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Le total affiché (avance + frais) : refusé (amount_changed) s'il diffère.",
    )
    email = serializers.EmailField(max_length=254, required=False)
    card_type = serializers.ChoiceField(choices=PaymentOrder.CardType.choices, default=PaymentOrder.CardType.MOROCCAN)
    accept_terms = serializers.BooleanField()

    def validate_accept_terms(self, value):
        return _terms_accepted(value)


# --- provisions -----------------------------------------------------------------------------------


class DepositDossierSerializer(DossierBriefSerializer):
    deposit_amount = serializers.DecimalField(**MONEY)


class ProvisionMovementSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="DEPOSIT, DEDUCTION, REVERSAL, RELEASE.")
    day = serializers.DateField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)
    amount = serializers.DecimalField(**MONEY)
    balance = serializers.DecimalField(**MONEY)
    bill_id = serializers.IntegerField(allow_null=True)


class ProvisionsSerializer(serializers.Serializer):
    has_advance = serializers.BooleanField()
    advance_dossiers = DossierBriefSerializer(many=True)
    deposit_dossiers = DepositDossierSerializer(many=True)
    movements = ProvisionMovementSerializer(many=True)
    deposited = serializers.DecimalField(**MONEY)
    deducted = serializers.DecimalField(**MONEY)
    released = serializers.DecimalField(**MONEY)
    balance = serializers.DecimalField(**MONEY)
    available = serializers.DecimalField(**MONEY)
    deposits_total = serializers.DecimalField(**MONEY)


# --- refunds --------------------------------------------------------------------------------------


class RefundableItemSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="À envoyer dans « item » pour demander ce remboursement.")
    amount = serializers.DecimalField(**MONEY)
    origin = serializers.CharField()
    origin_label = serializers.CharField()
    date = serializers.DateField()
    reference = serializers.CharField(allow_blank=True)
    dossier_number = serializers.CharField(allow_blank=True)
    pending_request = serializers.CharField(allow_null=True, help_text="Demande déjà en attente pour ce montant.")


class TerminationSerializer(serializers.Serializer):
    dossier_number = serializers.CharField()
    service_label = serializers.CharField()
    reference = serializers.CharField(allow_blank=True)
    end_date = serializers.DateField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    final_bill_number = serializers.CharField(source="final_bill.number", default=None, allow_null=True)
    deposit_amount = serializers.DecimalField(**MONEY)
    dues_amount = serializers.DecimalField(**MONEY)
    balance = serializers.DecimalField(**MONEY)


class RefundsOverviewSerializer(serializers.Serializer):
    credit = serializers.DecimalField(**MONEY, help_text="Ce que la RAK vous doit.")
    items = RefundableItemSerializer(many=True)
    terminations = TerminationSerializer(many=True)


class RefundPaidSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)
    method = serializers.CharField()
    method_label = serializers.CharField()
    paid_at = serializers.DateTimeField()
    reference = serializers.CharField(allow_blank=True)
    request_number = serializers.CharField(allow_blank=True)
    receipt_number = serializers.CharField()
    cancelled = serializers.BooleanField()
    receipt_url = serializers.CharField(allow_null=True)


class RefundRequestSerializer(serializers.Serializer):
    number = serializers.CharField()
    filed_at = serializers.DateTimeField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    item = serializers.CharField(allow_blank=True)
    amount = serializers.DecimalField(**MONEY, allow_null=True)
    origin = serializers.CharField(allow_blank=True)
    reference = serializers.CharField(allow_blank=True)
    refund = RefundPaidSerializer(allow_null=True)


class RefundRequestCreateSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=24, help_text="La clé du montant dû (GET /refunds/ : items[].key).")


# --- direct debit ---------------------------------------------------------------------------------


class MandateSerializer(serializers.Serializer):
    reference = serializers.CharField()
    bank_name = serializers.CharField(allow_blank=True)
    rib_masked = serializers.CharField()
    signed_date = serializers.DateField()
    created_at = serializers.DateTimeField()


class DebitDossierSerializer(DossierBriefSerializer):
    billing_mode = serializers.CharField()
    mandate = MandateSerializer(allow_null=True)


class DebitAddressSerializer(serializers.Serializer):
    premises = serializers.CharField(help_text="Référence du local (à envoyer dans « premises »).")
    address = serializers.CharField()
    dossiers = DebitDossierSerializer(many=True)
    form_pdf_url = serializers.CharField()


class DebitRequestSerializer(serializers.Serializer):
    number = serializers.CharField()
    filed_at = serializers.DateTimeField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    address = serializers.CharField(allow_blank=True)
    dossiers = serializers.ListField(child=serializers.CharField())
    bank_name = serializers.CharField(allow_blank=True)


class RequiredDocumentSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Nom du champ du fichier dans l'envoi multipart.")
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)
    required = serializers.BooleanField()  # type: ignore[assignment]  # a declared field (DRF)


class DirectDebitOverviewSerializer(serializers.Serializer):
    addresses = DebitAddressSerializer(many=True)
    requests = DebitRequestSerializer(many=True)
    documents = RequiredDocumentSerializer(many=True)


class DirectDebitRequestCreateSerializer(serializers.Serializer):
    premises = serializers.CharField(max_length=40, help_text="Référence du local (GET /direct-debit/).")
    rib = serializers.CharField(max_length=40, help_text="N° de RIB, 24 chiffres.")


class FiledRequestSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    message = serializers.CharField()
