"""Direct debit (« Prélèvement bancaire »): mandates, the monthly orders sent to the banks and the
banks' reject files. Imported at the end of ``rak_billing.models`` (one module per concern; the
services are in ``rak_billing.direct_debit``).

- ``Mandate``: the customer's authorisation, signed by their bank, to debit one dossier's bills
  from one account (RIB). One ACTIVE mandate per dossier; a revoked one is kept (REVOKED, who,
  when, why), never deleted.
- ``DebitBatch``: one file sent to one bank (« Exporter les prélèvements du mois »), kept with
  its content.
- ``DebitOrder``: one bill debited once: its reference is the external id of the DIRECT_DEBIT
  payment recorded at export (so a second export never debits it twice: one SENT order per bill,
  a database constraint). A bank's reject turns it REJECTED and reverses that payment.
- ``DebitRejectImport``: a bank's reject file imported, kept with its per-line report, archived
  (never deleted).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rak_base.money import money_format

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class Mandate(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("Actif")
        REVOKED = "REVOKED", _("Révoqué")

    reference = models.CharField(_("référence du mandat"), max_length=20, unique=True)
    dossier = models.ForeignKey(
        "rak_customer.Dossier", verbose_name=_("dossier"), on_delete=models.PROTECT, related_name="mandates"
    )
    rib = models.CharField(_("RIB"), max_length=24)
    bank_code = models.CharField(_("code banque"), max_length=3)
    bank_name = models.CharField(_("banque"), max_length=80)
    signed_date = models.DateField(_("date de signature"))
    status = models.CharField(_("statut"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    request_reference = models.CharField(
        _("demande"), max_length=20, blank=True, help_text=_("N° de la demande de domiciliation bancaire.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créé le"))
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("révoqué par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoke_reason = models.CharField(_("motif de la révocation"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("mandat de prélèvement")
        verbose_name_plural = _("mandats de prélèvement")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["ACTIVE", "REVOKED"]), name="mandate_status_valid"),
            models.CheckConstraint(condition=Q(rib__regex=r"^[0-9]{24}$"), name="mandate_rib_24_digits"),
            models.UniqueConstraint(
                fields=["dossier"],
                condition=Q(status="ACTIVE"),
                name="mandate_one_active_per_dossier",
                violation_error_message=_("Ce dossier a déjà un mandat de prélèvement actif."),
            ),
        ]
        permissions = [("revoke_mandate", _("Peut révoquer un mandat de prélèvement (avec motif)"))]

    def __str__(self) -> str:
        return f"{self.reference} — {self.bank_name}"

    @property
    def rib_display(self) -> str:
        return f"{self.rib[:3]} {self.rib[3:6]} {self.rib[6:22]} {self.rib[22:]}"


class DebitBatch(models.Model):
    reference = models.CharField(_("référence du lot"), max_length=30, unique=True)
    period = models.DateField(_("mois"), help_text=_("Premier jour du mois des prélèvements."))
    bank_code = models.CharField(_("code banque"), max_length=3)
    bank_name = models.CharField(_("banque"), max_length=80)
    orders_count = models.PositiveIntegerField(_("ordres"), default=0)
    total_amount = models.DecimalField(_("montant total"), **MONEY, default=0)
    file = models.FileField(_("fichier"), upload_to="debits/exports/%Y/%m/", blank=True)
    file_name = models.CharField(_("nom du fichier"), max_length=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("exporté par"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("exporté le"))

    class Meta:
        verbose_name = _("fichier de prélèvements")
        verbose_name_plural = _("fichiers de prélèvements")
        ordering = ["-created_at", "bank_code"]
        permissions = [("export_debitbatch", _("Peut exporter les prélèvements du mois"))]

    def __str__(self) -> str:
        return f"{self.reference} — {self.bank_name}"


class DebitRejectImport(models.Model):
    file_name = models.CharField(_("fichier"), max_length=255)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, db_index=True)
    file = models.FileField(_("fichier importé"), upload_to="debits/rejects/%Y/%m/", blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("importé par"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("importé le"))
    rows_total = models.PositiveIntegerField(_("lignes"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rejets enregistrés"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("déjà enregistrés"), default=0)
    rows_errors = models.PositiveIntegerField(_("lignes en erreur"), default=0)
    report = models.JSONField(_("rapport"), default=list, blank=True)
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
        verbose_name = _("fichier de rejets de prélèvements")
        verbose_name_plural = _("fichiers de rejets de prélèvements")
        ordering = ["-created_at"]
        permissions = [("archive_debitrejectimport", _("Peut archiver un fichier de rejets de prélèvements"))]

    def __str__(self) -> str:
        return self.file_name


class DebitOrder(models.Model):
    class Status(models.TextChoices):
        SENT = "SENT", _("Envoyé à la banque")
        REJECTED = "REJECTED", _("Rejeté par la banque")

    reference = models.CharField(_("référence de l'ordre"), max_length=20, unique=True)
    batch = models.ForeignKey(DebitBatch, verbose_name=_("fichier"), on_delete=models.PROTECT, related_name="orders")
    bill = models.ForeignKey(
        "rak_billing.Bill", verbose_name=_("facture"), on_delete=models.PROTECT, related_name="debit_orders"
    )
    mandate = models.ForeignKey(Mandate, verbose_name=_("mandat"), on_delete=models.PROTECT, related_name="orders")
    amount = models.DecimalField(_("montant"), **MONEY)
    payment = models.OneToOneField(
        "rak_billing.Payment", verbose_name=_("paiement"), on_delete=models.PROTECT, related_name="debit_order"
    )
    status = models.CharField(_("statut"), max_length=8, choices=Status.choices, default=Status.SENT)
    reject_code = models.CharField(_("code de rejet"), max_length=10, blank=True)
    reject_reason = models.CharField(_("motif du rejet"), max_length=255, blank=True)
    rejected_at = models.DateTimeField(_("rejeté le"), null=True, blank=True)
    reject_import = models.ForeignKey(
        DebitRejectImport,
        verbose_name=_("fichier de rejets"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )

    class Meta:
        verbose_name = _("ordre de prélèvement")
        verbose_name_plural = _("ordres de prélèvement")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["SENT", "REJECTED"]), name="debitorder_status_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="debitorder_amount_positive"),
            # a bill is debited once: exporting twice never sends it twice (a rejected one may go again)
            models.UniqueConstraint(fields=["bill"], condition=Q(status="SENT"), name="debitorder_one_sent_per_bill"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {money_format(self.amount)}"
