"""Online card payment through CMI: payment orders (what the customer is about to pay, frozen at
order time), their history, and every message the gateway sent (raw, with its verification).

States live in ``PaymentOrder.Status`` and change only in ``rak_payment_cmi.services``, under a
row lock, each change writing a ``PaymentOrderEvent``. Money: ``DecimalField(14, 2)``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rak_billing.models import Bill, Payment
from rak_customer.models import Customer

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
OID_REGEX = r"^[A-Za-z0-9]{1,64}$"
CURRENCY_MAD = "504"


class PaymentOrder(models.Model):
    """One payment the customer starts: the bills it pays (amounts frozen), the online-service
    fee, the total sent to CMI under ``oid``. The callback, not the browser, makes it PAID."""

    class Purpose(models.TextChoices):
        BILLS = "BILLS", _("Paiement de factures")
        ADVANCE = "ADVANCE", _("Alimentation des avances sur consommation")
        REQUEST_FEE = "REQUEST_FEE", _("Frais d'une demande")

    class CardType(models.TextChoices):
        MOROCCAN = "MOROCCAN", _("Carte bancaire marocaine")
        INTERNATIONAL = "INTERNATIONAL", _("Carte bancaire internationale")

    class Lang(models.TextChoices):
        FR = "fr", _("Français")
        AR = "ar", _("Arabe")
        EN = "en", _("Anglais")

    class Status(models.TextChoices):
        CREATED = "CREATED", _("Créée")
        SENT = "SENT", _("Envoyée à la plateforme de paiement")
        PAID = "PAID", _("Payée")
        DECLINED = "DECLINED", _("Refusée par la banque")
        FAILED = "FAILED", _("Échec (3-D Secure ou erreur de la plateforme)")
        AMOUNT_MISMATCH = "AMOUNT_MISMATCH", _("Montant non conforme (à vérifier)")
        EXPIRED = "EXPIRED", _("Expirée")
        CANCELLED = "CANCELLED", _("Annulée")

    oid = models.CharField(
        _("n° de commande (oid)"), max_length=64, unique=True, help_text=_("Jusqu'à 64 lettres ou chiffres.")
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="payment_orders"
    )
    purpose = models.CharField(_("objet"), max_length=12, choices=Purpose.choices, default=Purpose.BILLS)
    bills = models.ManyToManyField(
        Bill, through="PaymentOrderBill", verbose_name=_("factures"), related_name="payment_orders"
    )
    amount_bills = models.DecimalField(_("total des factures"), **MONEY)
    fee_amount = models.DecimalField(_("frais du service en ligne (HT)"), **MONEY, default=0)
    fee_vat = models.DecimalField(_("TVA sur les frais"), **MONEY, default=0)
    amount_total = models.DecimalField(_("total général"), **MONEY)
    currency = models.CharField(_("devise (ISO 4217)"), max_length=3, default=CURRENCY_MAD)
    email = models.EmailField(_("e-mail"))
    bill_to_name = models.CharField(_("nom du payeur"), max_length=120, blank=True)
    tel = models.CharField(_("téléphone"), max_length=20, blank=True)
    lang = models.CharField(_("langue de la page de paiement"), max_length=2, choices=Lang.choices, default=Lang.FR)
    card_type = models.CharField(_("type de carte"), max_length=14, choices=CardType.choices, default=CardType.MOROCCAN)
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(_("créée le"))
    updated_at = models.DateTimeField(_("modifiée le"))
    payment = models.OneToOneField(
        Payment,
        verbose_name=_("paiement enregistré"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cmi_order",
    )
    proc_return_code = models.CharField(_("code retour (ProcReturnCode)"), max_length=4, blank=True)
    auth_code = models.CharField(_("code d'autorisation"), max_length=16, blank=True)
    trans_id = models.CharField(_("n° de transaction CMI"), max_length=64, null=True, blank=True, unique=True)
    masked_pan = models.CharField(_("n° de carte masqué"), max_length=32, blank=True)
    paid_at = models.DateTimeField(_("payée le"), null=True, blank=True)
    cancel_reason = models.TextField(_("motif de l'annulation"), blank=True)
    fee_vat_rate = models.DecimalField(
        _("taux de TVA sur les frais"), max_digits=5, decimal_places=4, default=0, help_text=_("0,1000 pour 10 %.")
    )
    fee_bill = models.OneToOneField(
        Bill,
        verbose_name=_("facture des frais du service en ligne"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cmi_fee_order",
    )

    class Meta:
        verbose_name = _("ordre de paiement en ligne")
        verbose_name_plural = _("ordres de paiement en ligne")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(oid__regex=OID_REGEX), name="cmi_order_oid_format"),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "CREATED",
                        "SENT",
                        "PAID",
                        "DECLINED",
                        "FAILED",
                        "AMOUNT_MISMATCH",
                        "EXPIRED",
                        "CANCELLED",
                    ]
                ),
                name="cmi_order_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=["BILLS", "ADVANCE", "REQUEST_FEE"]), name="cmi_order_purpose_valid"
            ),
            models.CheckConstraint(
                condition=Q(card_type__in=["MOROCCAN", "INTERNATIONAL"]), name="cmi_order_card_type_valid"
            ),
            models.CheckConstraint(condition=Q(lang__in=["fr", "ar", "en"]), name="cmi_order_lang_valid"),
            models.CheckConstraint(
                condition=Q(amount_bills__gt=0) & Q(fee_amount__gte=0) & Q(fee_vat__gte=0) & Q(amount_total__gt=0),
                name="cmi_order_amounts_positive",
            ),
            models.CheckConstraint(  # exact: numeric arithmetic, to the centime
                condition=Q(amount_total=F("amount_bills") + F("fee_amount") + F("fee_vat")),
                name="cmi_order_total_is_sum",
            ),
            models.CheckConstraint(
                condition=~Q(status="PAID") | (Q(payment__isnull=False) & Q(paid_at__isnull=False)),
                name="cmi_order_paid_has_payment",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="cmi_order_customer_recent"),
            models.Index(fields=["status", "created_at"], name="cmi_order_status_created"),
        ]

    def __str__(self) -> str:
        return self.oid

    @property
    def fee_total(self):
        """The online-service fee with its VAT (the « FRAIS » line of the recap and receipt)."""
        return self.fee_amount + self.fee_vat


class PaymentOrderBill(models.Model):
    """A bill an order pays, with the amount owed on it when the order was made."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.CASCADE, related_name="order_bills")
    bill = models.ForeignKey(Bill, verbose_name=_("facture"), on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("montant TTC"), **MONEY)

    class Meta:
        verbose_name = _("facture de l'ordre")
        verbose_name_plural = _("factures de l'ordre")
        ordering = ["order", "bill__due_date", "bill_id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "bill"], name="cmi_order_bill_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="cmi_order_bill_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.bill_id}: {self.amount}"


class CmiCallback(models.Model):
    """A message from the gateway, stored raw before anything else is done with it: the
    server-to-server callback, or the browser's return to okUrl / failUrl."""

    class Kind(models.TextChoices):
        CALLBACK = "CALLBACK", _("Notification serveur à serveur (callback)")
        OK_RETURN = "OK_RETURN", _("Retour du navigateur (okUrl)")
        FAIL_RETURN = "FAIL_RETURN", _("Retour du navigateur (failUrl)")

    class Outcome(models.TextChoices):
        RECEIVED = "RECEIVED", _("Reçu, en cours de traitement")
        APPLIED = "APPLIED", _("Paiement enregistré")
        DUPLICATE = "DUPLICATE", _("Doublon d'un paiement déjà enregistré")
        SECOND_SUCCESS = "SECOND_SUCCESS", _("Autre transaction acceptée sur un ordre déjà payé (à annuler)")
        ALREADY_SETTLED = "ALREADY_SETTLED", _("Factures déjà réglées : non capturé, pré-autorisation libérée")
        DECLINED = "DECLINED", _("Refus enregistré (rien n'est modifié)")
        AMOUNT_MISMATCH = "AMOUNT_MISMATCH", _("Montant ou devise non conforme")
        BAD_HASH = "BAD_HASH", _("Signature (HASH) invalide")
        UNKNOWN_ORDER = "UNKNOWN_ORDER", _("Commande inconnue")
        INVALID = "INVALID", _("Message incomplet ou incohérent")
        ERROR = "ERROR", _("Erreur technique")
        RETURN = "RETURN", _("Retour du navigateur (signature vérifiée)")

    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    received_at = models.DateTimeField(_("reçu le"))
    remote_ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    raw = models.JSONField(_("champs reçus"), default=dict)
    oid = models.CharField(_("oid reçu"), max_length=128, blank=True)
    trans_id = models.CharField(_("TransId reçu"), max_length=128, blank=True)
    proc_return_code = models.CharField(_("ProcReturnCode reçu"), max_length=8, blank=True)
    hash_valid = models.BooleanField(_("signature valide"), default=False)
    outcome = models.CharField(_("résultat"), max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED)
    response = models.CharField(_("réponse envoyée"), max_length=32, blank=True)
    detail = models.TextField(_("détail"), blank=True)
    order = models.ForeignKey(PaymentOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="callbacks")

    class Meta:
        verbose_name = _("message de la plateforme CMI")
        verbose_name_plural = _("journal des messages CMI")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["CALLBACK", "OK_RETURN", "FAIL_RETURN"]), name="cmi_callback_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    outcome__in=[
                        "RECEIVED",
                        "APPLIED",
                        "DUPLICATE",
                        "SECOND_SUCCESS",
                        "ALREADY_SETTLED",
                        "DECLINED",
                        "AMOUNT_MISMATCH",
                        "BAD_HASH",
                        "UNKNOWN_ORDER",
                        "INVALID",
                        "ERROR",
                        "RETURN",
                    ]
                ),
                name="cmi_callback_outcome_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["oid"], name="cmi_callback_oid"),
            models.Index(fields=["trans_id"], name="cmi_callback_trans_id"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.oid or '?'} ({self.received_at:%d/%m/%Y %H:%M:%S})"


class PaymentOrderEvent(models.Model):
    """One state change of an order (and the message that caused it, when one did)."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("le"))
    from_status = models.CharField(_("de"), max_length=16, choices=PaymentOrder.Status.choices, blank=True)
    to_status = models.CharField(_("à"), max_length=16, choices=PaymentOrder.Status.choices)
    callback = models.ForeignKey(
        CmiCallback, verbose_name=_("message"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("historique de l'ordre")
        verbose_name_plural = _("historique de l'ordre")
        ordering = ["order", "at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


# --- online-service fee, network payments, reconciliation (back office) ----------------------------


class PaymentSettings(models.Model):
    """The back office's settings of online payment: one row (pk=1), edited in the admin.

    The online-service fee (« Frais du service en ligne », seed 001): none, a fixed amount per
    transaction, or a percentage of the bills; VAT on the fee in both cases. Demo default 1 % +
    10 % VAT (reproduces the seed's 218,83 -> 2,41 DH and 113,02 -> 1,24 DH). Since 2024 the
    regulator puts this cost on the utility: « Aucun frais » is one click in the admin."""

    class FeeMode(models.TextChoices):
        NONE = "NONE", _("Aucun frais (pris en charge par la RAK)")
        FIXED = "FIXED", _("Montant fixe par transaction")
        PERCENT = "PERCENT", _("Pourcentage du montant des factures")

    fee_mode = models.CharField(
        _("frais du service en ligne"), max_length=8, choices=FeeMode.choices, default="PERCENT"
    )
    fee_fixed = models.DecimalField(_("montant fixe (HT)"), **MONEY, default=0)
    fee_percent = models.DecimalField(
        _("pourcentage"), max_digits=6, decimal_places=4, default=1, help_text=_("1,0000 pour 1 %.")
    )
    fee_vat_rate = models.DecimalField(
        _("taux de TVA sur les frais"),
        max_digits=5,
        decimal_places=4,
        default="0.1000",
        help_text=_("0,1000 pour 10 %."),
    )
    advance_min = models.DecimalField(_("avance minimale"), **MONEY, default=50)
    advance_max = models.DecimalField(_("avance maximale"), **MONEY, default=5000)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("réglage du paiement en ligne")
        verbose_name_plural = _("réglages du paiement en ligne")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="cmi_settings_singleton"),
            models.CheckConstraint(
                condition=Q(fee_mode__in=["NONE", "FIXED", "PERCENT"]), name="cmi_settings_fee_mode"
            ),
            models.CheckConstraint(
                condition=Q(fee_fixed__gte=0) & Q(fee_percent__gte=0) & Q(fee_percent__lt=100),
                name="cmi_settings_fee_positive",
            ),
            models.CheckConstraint(condition=Q(fee_vat_rate__gte=0) & Q(fee_vat_rate__lt=1), name="cmi_settings_vat"),
            models.CheckConstraint(condition=Q(advance_max__gte=F("advance_min")), name="cmi_settings_advance_range"),
        ]

    def __str__(self) -> str:
        return str(_("Réglages du paiement en ligne"))


class NetworkPaymentImport(models.Model):
    """One file of payments collected by another network (Tasshilat, Wafacash, banks...), with
    its per-row report. Re-importing a file records nothing twice (``Payment.external_id``)."""

    file_name = models.CharField(_("fichier"), max_length=255)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, db_index=True)
    network = models.CharField(_("réseau par défaut"), max_length=40, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("importé le"))
    rows_total = models.PositiveIntegerField(_("lignes"), default=0)
    rows_created = models.PositiveIntegerField(_("paiements enregistrés"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("déjà enregistrés"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rejetées"), default=0)
    amount_created = models.DecimalField(_("montant enregistré"), **MONEY, default=0)
    report = models.JSONField(_("rapport"), default=list, blank=True)
    file = models.FileField(_("fichier importé"), upload_to="imports/payments/%Y/%m/", blank=True)
    # An import is archived, never deleted: its file, its report and its payments stay.
    archived_at = models.DateTimeField(_("archivé le"), null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("archivé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    archive_reason = models.CharField(_("motif de l'archivage"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("import de paiements d'un autre réseau")
        verbose_name_plural = _("imports de paiements (autres réseaux)")
        ordering = ["-created_at"]
        permissions = [("archive_networkpaymentimport", _("Peut archiver un import de paiements"))]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%d/%m/%Y %H:%M})"


class SettlementImport(models.Model):
    """One settlement file of the gateway (CMI « relevé des transactions »), matched with the
    orders; its lines say what agrees and what does not."""

    file_name = models.CharField(_("fichier"), max_length=255)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("importé le"))
    period_start = models.DateTimeField(_("première transaction"), null=True, blank=True)
    period_end = models.DateTimeField(_("dernière transaction"), null=True, blank=True)
    rows_total = models.PositiveIntegerField(_("lignes du relevé"), default=0)
    rows_matched = models.PositiveIntegerField(_("concordantes"), default=0)
    rows_mismatched = models.PositiveIntegerField(_("écarts"), default=0)
    rows_rejected = models.PositiveIntegerField(_("lignes illisibles"), default=0)
    report = models.JSONField(_("lignes illisibles"), default=list, blank=True)

    class Meta:
        verbose_name = _("rapprochement CMI")
        verbose_name_plural = _("rapprochements CMI (relevés)")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%d/%m/%Y %H:%M})"


class SettlementLine(models.Model):
    """A transaction of the settlement file (or an order paid here that the file lacks), the
    result of matching it, and how staff resolved it."""

    class GatewayStatus(models.TextChoices):
        ACCEPTED = "ACCEPTED", _("Acceptée (capturée)")
        REFUNDED = "REFUNDED", _("Remboursée")
        CANCELLED = "CANCELLED", _("Annulée")
        DECLINED = "DECLINED", _("Refusée")
        ABSENT = "ABSENT", _("Absente du relevé")

    class Check(models.TextChoices):
        MATCHED = "MATCHED", _("Concordant")
        NOT_RECORDED = "NOT_RECORDED", _("Payé au CMI, non enregistré ici")
        AMOUNT_DIFFERS = "AMOUNT_DIFFERS", _("Montant différent")
        DOUBLE_CHARGE = "DOUBLE_CHARGE", _("Transaction en double (ordre déjà payé)")
        REFUNDED_HERE_PAID = "REFUNDED_HERE_PAID", _("Enregistré ici, remboursé ou annulé au CMI")
        NOT_AT_GATEWAY = "NOT_AT_GATEWAY", _("Enregistré ici, absent du relevé CMI")
        UNKNOWN_ORDER = "UNKNOWN_ORDER", _("Commande inconnue")
        NO_MONEY = "NO_MONEY", _("Sans encaissement (refus ou annulation)")

    class Resolution(models.TextChoices):
        NONE = "", _("À traiter")
        APPLIED = "APPLIED", _("Paiement enregistré")
        REFUND_FLAGGED = "REFUND_FLAGGED", _("Signalé pour remboursement / annulation")

    settlement = models.ForeignKey(SettlementImport, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField(_("ligne"), null=True, blank=True)
    transaction_at = models.DateTimeField(_("date de la transaction"), null=True, blank=True)
    oid = models.CharField(_("oid"), max_length=64, blank=True)
    trans_id = models.CharField(_("TransId"), max_length=64, blank=True)
    auth_code = models.CharField(_("code d'autorisation"), max_length=16, blank=True)
    amount = models.DecimalField(_("montant au CMI"), **MONEY, null=True, blank=True)
    card_mask = models.CharField(_("carte"), max_length=32, blank=True)
    gateway_status = models.CharField(_("statut au CMI"), max_length=10, choices=GatewayStatus.choices)
    order = models.ForeignKey(
        PaymentOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="settlement_lines"
    )
    check_result = models.CharField(_("rapprochement"), max_length=20, choices=Check.choices)
    detail = models.CharField(_("détail"), max_length=255, blank=True)
    resolution = models.CharField(_("résolution"), max_length=16, choices=Resolution.choices, blank=True, default="")
    resolved_at = models.DateTimeField(_("résolu le"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.TextField(_("note de résolution"), blank=True)

    class Meta:
        verbose_name = _("ligne de rapprochement")
        verbose_name_plural = _("lignes de rapprochement")
        ordering = ["settlement", "line_no", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(gateway_status__in=["ACCEPTED", "REFUNDED", "CANCELLED", "DECLINED", "ABSENT"]),
                name="cmi_settlement_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    check_result__in=[
                        "MATCHED",
                        "NOT_RECORDED",
                        "AMOUNT_DIFFERS",
                        "DOUBLE_CHARGE",
                        "REFUNDED_HERE_PAID",
                        "NOT_AT_GATEWAY",
                        "UNKNOWN_ORDER",
                        "NO_MONEY",
                    ]
                ),
                name="cmi_settlement_check_valid",
            ),
            models.CheckConstraint(
                condition=Q(resolution__in=["", "APPLIED", "REFUND_FLAGGED"]), name="cmi_settlement_resolution_valid"
            ),
        ]
        indexes = [models.Index(fields=["check_result", "resolution"], name="cmi_settlement_open")]

    def __str__(self) -> str:
        return f"{self.trans_id or self.oid} — {self.get_check_result_display()}"

    @property
    def needs_action(self) -> bool:
        return self.check_result not in (self.Check.MATCHED, self.Check.NO_MONEY) and not self.resolution
