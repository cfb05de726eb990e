"""Billing data: tariffs (versioned schedules), meter readings, bills and their lines, the
customer ledger (bills, payments, credits), billing runs.

Money: ``DecimalField(max_digits=14, decimal_places=2)``; unit prices keep 4 decimals.
Periods are half-open ``[period_start, period_end)``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rak_base.money import money_format
from rak_customer.models import Customer, Dossier, Meter, Service

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
PRICE: dict[str, Any] = {"max_digits": 12, "decimal_places": 4}
QUANTITY: dict[str, Any] = {"max_digits": 12, "decimal_places": 3}


# --- tariffs ------------------------------------------------------------------------------------


class TariffSchedule(models.Model):
    """A price list for one service and tariff category, valid on ``[valid_from, valid_to)``."""

    class Combination(models.TextChoices):
        PROGRESSIVE = "PROGRESSIVE", _("Progressive (chaque tranche à son prix)")
        SELECTIVE = "SELECTIVE", _("Sélective (toute la consommation au prix de la tranche atteinte)")
        SWITCH = "SWITCH", _("Progressive jusqu'au seuil, sélective au-delà")

    service = models.CharField(_("métier"), max_length=16, choices=Service.choices)
    category = models.CharField(_("catégorie tarifaire"), max_length=16, choices=Dossier.TariffCategory.choices)
    name = models.CharField(_("nom"), max_length=120)
    unit = models.CharField(_("unité"), max_length=8, default="kWh", help_text=_("kWh ou m³"))
    valid_from = models.DateField(_("valable à partir du"))
    valid_to = models.DateField(_("valable jusqu'au (exclu)"), null=True, blank=True)
    prices_include_tax = models.BooleanField(
        _("prix TTC"),
        default=False,
        help_text=_(
            "Cochez si les prix publiés sont TTC (l'électricité : prix TTC stables malgré la hausse de la TVA)."
        ),
    )
    combination = models.CharField(
        _("règle de combinaison"), max_length=12, choices=Combination.choices, default=Combination.PROGRESSIVE
    )
    switch_threshold = models.DecimalField(
        _("seuil de bascule (par mois)"),
        **QUANTITY,
        null=True,
        blank=True,
        help_text=_(
            "Règle « progressive puis sélective » : au-delà de ce volume mensuel, les tranches sélectives s'appliquent."
        ),
    )
    source = models.TextField(
        _("source"), blank=True, help_text=_("Texte officiel ou publication d'où viennent les prix.")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("barème tarifaire")
        verbose_name_plural = _("barèmes tarifaires")
        ordering = ["service", "category", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")), name="tariff_valid_range"
            ),
            models.CheckConstraint(
                condition=~Q(combination="SWITCH") | Q(switch_threshold__isnull=False), name="tariff_switch_threshold"
            ),
            models.UniqueConstraint(fields=["service", "category", "valid_from"], name="tariff_unique_start"),
        ]
        indexes = [models.Index(fields=["service", "category", "valid_from"], name="tariff_lookup")]

    def __str__(self) -> str:
        return f"{self.name} ({self.valid_from:%d/%m/%Y})"


class TariffTranche(models.Model):
    class Mode(models.TextChoices):
        PROGRESSIVE = "PROGRESSIVE", _("Progressive")
        SELECTIVE = "SELECTIVE", _("Sélective")

    schedule = models.ForeignKey(TariffSchedule, on_delete=models.CASCADE, related_name="tranches")
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    lower_bound = models.DecimalField(
        _("de (exclu)"), **QUANTITY, help_text=_("Volume mensuel au-delà duquel la tranche commence.")
    )
    upper_bound = models.DecimalField(
        _("à (inclus)"), **QUANTITY, null=True, blank=True, help_text=_("Vide : sans limite.")
    )
    unit_price = models.DecimalField(_("prix unitaire"), **PRICE)
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices, default=Mode.PROGRESSIVE)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("tranche")
        verbose_name_plural = _("tranches")
        ordering = ["schedule", "mode", "lower_bound"]
        constraints = [
            models.CheckConstraint(
                condition=Q(upper_bound__isnull=True) | Q(upper_bound__gt=F("lower_bound")), name="tranche_bounds"
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="tranche_price_positive"),
        ]

    def __str__(self) -> str:
        upper = self.upper_bound if self.upper_bound is not None else "∞"
        return f"{self.lower_bound}–{upper}: {self.unit_price}"


class TariffCharge(models.Model):
    """A fixed monthly charge (redevance, location/entretien compteur) or a per-unit levy
    (TPPAN on electricity, sanitation per m³ of water)."""

    class Kind(models.TextChoices):
        FIXED_MONTHLY = "FIXED_MONTHLY", _("Montant fixe mensuel")
        PER_UNIT = "PER_UNIT", _("Montant par unité consommée")

    schedule = models.ForeignKey(TariffSchedule, on_delete=models.CASCADE, related_name="charges")
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    label = models.CharField(_("libellé"), max_length=120)
    kind = models.CharField(_("type"), max_length=14, choices=Kind.choices)
    amount = models.DecimalField(_("montant"), **PRICE)
    taxable = models.BooleanField(_("soumis à la TVA"), default=True)
    vat_rate_override = models.DecimalField(
        _("taux de TVA propre"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Vide : le taux du métier. Ex. 0,1400 pour la TPPAN."),
    )
    lower_bound = models.DecimalField(
        _("de (exclu)"),
        **QUANTITY,
        null=True,
        blank=True,
        help_text=_("Montant par unité seulement : la taxe s'applique à la part de la consommation mensuelle au-delà."),
    )
    upper_bound = models.DecimalField(
        _("à (inclus)"),
        **QUANTITY,
        null=True,
        blank=True,
        help_text=_("Montant par unité seulement : vide = sans limite (ex. TPPAN 0,15 DH/kWh de 101 à 200 kWh)."),
    )
    exempt_up_to = models.DecimalField(
        _("exonéré jusqu'à (par mois)"),
        **QUANTITY,
        null=True,
        blank=True,
        help_text=_("Non facturé quand la consommation mensuelle ne dépasse pas ce volume (TPPAN : 50 kWh)."),
    )
    monthly_cap = models.DecimalField(
        _("plafond mensuel"),
        **PRICE,
        null=True,
        blank=True,
        help_text=_("Les lignes de même libellé coûtent au plus ce montant par mois (TPPAN : 100 DH)."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("redevance ou taxe")
        verbose_name_plural = _("redevances et taxes")
        ordering = ["schedule", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(upper_bound__isnull=True)
                | Q(lower_bound__isnull=True)
                | Q(upper_bound__gt=F("lower_bound")),
                name="charge_bounds",
            ),
            models.CheckConstraint(
                condition=Q(kind="PER_UNIT") | (Q(lower_bound__isnull=True) & Q(upper_bound__isnull=True)),
                name="charge_bounds_per_unit_only",
            ),
        ]

    def __str__(self) -> str:
        return self.label


#: the VAT line of invoices that are not consumption (fees, works, subscription): the normal rate
VAT_OTHER = "FRAIS"
#: the VAT line of the online-service fee of card payments (« Frais du service en ligne », seed 001: 10 %)
VAT_ONLINE_FEE = "FRAIS_EN_LIGNE"
VAT_SCOPES = [
    *Service.choices,
    (VAT_OTHER, _("Frais, travaux et abonnements (taux normal)")),
    (VAT_ONLINE_FEE, _("Frais du service en ligne (paiement par carte)")),
]


class VatRate(models.Model):
    """VAT rate per service (and optionally category), versioned by date. The scope ``FRAIS`` is
    the rate of the other invoices (fees, works, subscription fees, quotes)."""

    service = models.CharField(_("métier"), max_length=16, choices=VAT_SCOPES)
    category = models.CharField(
        _("catégorie tarifaire"),
        max_length=16,
        choices=Dossier.TariffCategory.choices,
        blank=True,
        help_text=_("Vide : toutes les catégories."),
    )
    valid_from = models.DateField(_("à partir du"))
    rate = models.DecimalField(_("taux"), max_digits=5, decimal_places=4, help_text=_("0,2000 pour 20 %"))
    source = models.CharField(_("source"), max_length=255, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("taux de TVA")
        verbose_name_plural = _("taux de TVA")
        ordering = ["service", "category", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["service", "category", "valid_from"], name="vat_unique_start"),
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lt=1), name="vat_rate_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_display()} {self.category or '*'} {self.rate:%} ({self.valid_from:%d/%m/%Y})"


# --- meter readings ----------------------------------------------------------------------------


class ReadingRound(models.Model):
    """A reading round (tournée): premises whose ``round_code`` is this code are read, and
    self-reading is open, from ``window_start_day`` for ``window_days`` days each month."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    window_start_day = models.PositiveSmallIntegerField(_("début de la relève (jour du mois)"), default=20)
    window_days = models.PositiveSmallIntegerField(_("durée de la relève (jours)"), default=7)

    class Meta:
        verbose_name = _("tournée de relève")
        verbose_name_plural = _("tournées de relève")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_start_day__gte=1) & Q(window_start_day__lte=28), name="round_start_day"
            ),
            models.CheckConstraint(condition=Q(window_days__gte=1) & Q(window_days__lte=20), name="round_window_days"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class ReadingImport(models.Model):
    """One imported file of agents' readings, with its per-row report."""

    file_name = models.CharField(_("fichier"), max_length=255)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("importé le"), auto_now_add=True)
    rows_total = models.PositiveIntegerField(_("lignes"), default=0)
    rows_created = models.PositiveIntegerField(_("créées"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("déjà présentes"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rejetées"), default=0)
    report = models.JSONField(_("rapport"), default=list, blank=True)
    file = models.FileField(_("fichier importé"), upload_to="imports/readings/%Y/%m/", blank=True)
    # An import is archived, never deleted: its file, its report and its readings' link stay.
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
        verbose_name = _("import de relevés")
        verbose_name_plural = _("imports de relevés")
        ordering = ["-created_at"]
        permissions = [("archive_readingimport", _("Peut archiver un import de relevés"))]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%d/%m/%Y %H:%M})"


class MeterReading(models.Model):
    class Source(models.TextChoices):
        AGENT = "AGENT", _("Releveur")
        SELF = "SELF", _("Auto-relève client")
        ESTIMATED = "ESTIMATED", _("Estimation")

    class Status(models.TextChoices):
        ACCEPTED = "ACCEPTED", _("Validé")
        HELD = "HELD", _("En attente de vérification (consommation anormale)")
        CONTESTED = "CONTESTED", _("Contesté par le client")
        REJECTED = "REJECTED", _("Rejeté")

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.PROTECT, related_name="readings")
    meter = models.ForeignKey(Meter, verbose_name=_("compteur"), on_delete=models.PROTECT, related_name="readings")
    reading_date = models.DateField(_("date de relève"))
    index = models.DecimalField(_("index"), **QUANTITY)
    previous_index = models.DecimalField(_("index précédent"), **QUANTITY, null=True, blank=True)
    consumption = models.DecimalField(_("consommation"), **QUANTITY, null=True, blank=True)
    source = models.CharField(_("origine"), max_length=10, choices=Source.choices)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    meter_replaced = models.BooleanField(_("compteur remplacé"), default=False)
    photo = models.FileField(_("photo de l'index"), upload_to="readings/%Y/%m/", blank=True)
    note = models.TextField(_("observation"), blank=True)
    contest_note = models.TextField(_("contestation du client"), blank=True)
    contest_photo = models.FileField(
        _("photo jointe à la contestation"), upload_to="readings/contest/%Y/%m/", blank=True
    )
    review_note = models.TextField(
        _("motif de la décision"), blank=True, help_text=_("Communiqué au client avec la décision.")
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("vérifié par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("vérifié le"), null=True, blank=True)
    # a verification asked by staff (a complaint about this reading, issue 11): pending while set,
    # cleared by the decision (``reading_review``); its history keeps who asked and why
    review_requested_at = models.DateTimeField(_("vérification demandée le"), null=True, blank=True)
    review_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("vérification demandée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # db_default: the readings' COPY imports (imports.py, demo.py) name their columns and leave it out
    review_request_note = models.TextField(_("motif de la demande de vérification"), blank=True, db_default="")
    external_key = models.CharField(
        _("clé d'import"),
        max_length=120,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Identifiant de la ligne importée : réimporter le même fichier ne crée rien."),
    )
    import_batch = models.ForeignKey(
        ReadingImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="readings"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("saisi le"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["created_at"])
    # set on an instance before save(), read by django-simple-history (its history row's author, reason)
    _history_user: Any
    _change_reason: str

    class Meta:
        verbose_name = _("relevé d'index")
        verbose_name_plural = _("relevés d'index")
        ordering = ["dossier", "-reading_date"]
        constraints = [
            models.CheckConstraint(condition=Q(source__in=["AGENT", "SELF", "ESTIMATED"]), name="reading_source_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["ACCEPTED", "HELD", "CONTESTED", "REJECTED"]), name="reading_status_valid"
            ),
            models.CheckConstraint(condition=Q(index__gte=0), name="reading_index_positive"),
            models.UniqueConstraint(
                fields=["dossier", "reading_date"], condition=~Q(status="REJECTED"), name="reading_one_per_day"
            ),
        ]
        indexes = [
            models.Index(fields=["dossier", "-reading_date"], name="reading_dossier_recent"),
            models.Index(fields=["status"], name="reading_held", condition=Q(status__in=["HELD", "CONTESTED"])),
            models.Index(
                fields=["review_requested_at"],
                name="reading_review_requested",
                condition=Q(review_requested_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier.number} {self.reading_date:%d/%m/%Y}: {self.index}"


# --- bills and ledger ----------------------------------------------------------------------------


class BillingRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", _("En attente")
        RUNNING = "RUNNING", _("En cours")
        DONE = "DONE", _("Terminée")
        FAILED = "FAILED", _("Échec")

    period_start = models.DateField(_("début de période"))
    period_end = models.DateField(_("fin de période (exclue)"))
    round_code = models.CharField(_("tournée"), max_length=10, blank=True, help_text=_("Vide : toutes les tournées."))
    issue_date = models.DateField(_("date d'émission"))
    due_date = models.DateField(_("date d'échéance"))
    status = models.CharField(_("statut"), max_length=8, choices=Status.choices, default=Status.PENDING)
    dossiers_total = models.PositiveIntegerField(_("dossiers à facturer"), default=0)
    bills_created = models.PositiveIntegerField(_("factures émises"), default=0)
    dossiers_skipped = models.PositiveIntegerField(_("dossiers ignorés"), default=0)
    unbillable = models.JSONField(
        _("dossiers non facturables"),
        default=dict,
        blank=True,
        help_text=_("Relevés à la création : dossiers sans barème, sans compteur ou au relevé en attente."),
    )
    last_dossier_id = models.BigIntegerField(
        _("dernier dossier traité"), default=0, help_text=_("Reprise après interruption.")
    )
    error = models.TextField(_("erreur"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    started_at = models.DateTimeField(_("démarrée le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("campagne de facturation")
        verbose_name_plural = _("campagnes de facturation")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["PENDING", "RUNNING", "DONE", "FAILED"]), name="billingrun_status_valid"
            ),
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="billingrun_period"),
        ]

    def __str__(self) -> str:
        return f"{self.period_start:%m/%Y} {self.round_code or 'toutes tournées'}"  # i18n: not for customers


class BillIdField(models.BigAutoField):
    """A bill id carries its month (``rak_billing.partitions``: the bill table is partitioned by
    month on its id). The database default gives the current month; a consumption bill takes its
    period's month, taken here when the ORM saves one without id (``save``, ``bulk_create``)."""

    def get_pk_value_on_save(self, instance):
        if getattr(instance, "kind", None) == "CONSUMPTION" and getattr(instance, "period_start", None) is not None:
            from django.db import router

            from rak_billing.partitions import consumption_bill_id

            return consumption_bill_id(instance.period_start, using=router.db_for_write(type(instance)))
        return super().get_pk_value_on_save(instance)


class Bill(models.Model):
    """Partitioned by month on its id (``rak_billing.partitions``): the unique constraints below
    are enforced per partition (one consumption bill per dossier and period: the period decides
    the partition) and by ``BillNumber`` (the number); the migration 0022 made them so."""

    class Kind(models.TextChoices):
        CONSUMPTION = "CONSUMPTION", _("Facture de consommation")
        ADVANCE = "ADVANCE", _("Facture d'avance sur consommation")
        CUT_FEE = "CUT_FEE", _("Frais de coupure")
        FRAUD = "FRAUD", _("Facture de fraude")
        SUBSCRIPTION = "SUBSCRIPTION", _("Frais d'abonnement")
        WORKS = "WORKS", _("Travaux / devis")
        CREDIT_NOTE = "CREDIT_NOTE", _("Avoir")
        ONLINE_FEE = "ONLINE_FEE", _("Frais du service en ligne")
        INSTALMENT = "INSTALMENT", _("Échéance d'un échéancier")

    # Indexes: a billing run inserts hundreds of thousands of bills, so no index is kept that
    # another one already covers (customer: bill_customer_recent; dossier: bill_dossier_recent;
    # number: the unique constraint, no LIKE index — searches are exact).
    id = BillIdField(primary_key=True, serialize=False, verbose_name="ID")
    number = models.CharField(_("n° facture"), max_length=20)
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.CONSUMPTION)
    customer = models.ForeignKey(
        Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="bills", db_index=False
    )
    dossier = models.ForeignKey(
        Dossier,
        verbose_name=_("dossier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bills",
        db_index=False,
    )
    period_start = models.DateField(_("début de période"), null=True, blank=True)
    period_end = models.DateField(_("fin de période (exclue)"), null=True, blank=True)
    reading = models.ForeignKey(MeterReading, null=True, blank=True, on_delete=models.PROTECT, related_name="bills")
    previous_index = models.DecimalField(_("ancien index"), **QUANTITY, null=True, blank=True)
    current_index = models.DecimalField(_("nouvel index"), **QUANTITY, null=True, blank=True)
    consumption = models.DecimalField(_("consommation"), **QUANTITY, default=Decimal("0"))
    estimated = models.BooleanField(_("estimée"), default=False)
    issue_date = models.DateField(_("date d'émission"))
    due_date = models.DateField(_("date d'échéance"))
    total_ht = models.DecimalField(_("total HT"), **MONEY)
    total_tva = models.DecimalField(_("TVA"), **MONEY)
    total_ttc = models.DecimalField(_("total TTC"), **MONEY)
    tranche_notice = models.CharField(_("avis de tranche"), max_length=255, blank=True)
    credited_bill = models.ForeignKey(
        "self",
        verbose_name=_("facture créditée"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        db_index=False,  # partial index below: almost every bill has none
    )
    run = models.ForeignKey(BillingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="bills")
    settled_at = models.DateTimeField(_("soldée le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("facture")
        verbose_name_plural = _("factures")
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="bill_number_unique"),
            models.UniqueConstraint(
                fields=["dossier", "period_start"], condition=Q(kind="CONSUMPTION"), name="bill_one_per_dossier_period"
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "CONSUMPTION",
                        "ADVANCE",
                        "CUT_FEE",
                        "FRAUD",
                        "SUBSCRIPTION",
                        "WORKS",
                        "CREDIT_NOTE",
                        "ONLINE_FEE",
                        "INSTALMENT",
                    ]
                ),
                name="bill_kind_valid",
            ),
            models.CheckConstraint(condition=Q(total_ttc__gte=0), name="bill_total_positive"),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True) | Q(period_end__gt=F("period_start")), name="bill_period"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-issue_date"], name="bill_customer_recent"),
            models.Index(fields=["dossier", "-period_start"], name="bill_dossier_recent"),
            models.Index(fields=["customer"], name="bill_customer_open", condition=Q(settled_at__isnull=True)),
            models.Index(fields=["credited_bill"], name="bill_credited", condition=Q(credited_bill__isnull=False)),
            # portal pages (rak_billing.selectors): last billed month, « Autres factures »
            models.Index(
                fields=["customer", "-period_start"], name="bill_customer_consumption", condition=Q(kind="CONSUMPTION")
            ),
            models.Index(
                fields=["customer", "-issue_date"], name="bill_customer_other", condition=~Q(kind="CONSUMPTION")
            ),
        ]

    def __str__(self) -> str:
        return self.number


class BillNumber(models.Model):
    """Every bill number in use, one row each. The bill table is partitioned by month and
    PostgreSQL cannot enforce a unique constraint across partitions on a column other than the
    partition key: the uniqueness of numbers (``bill_number_unique``) lives here, this table
    being filled and emptied by statement triggers on ``rak_billing_bill`` (migration 0022)."""

    number = models.CharField(_("n° facture"), max_length=20, primary_key=True)

    class Meta:
        verbose_name = _("numéro de facture attribué")
        verbose_name_plural = _("numéros de facture attribués")

    def __str__(self) -> str:
        return self.number


class BillLine(models.Model):
    class Kind(models.TextChoices):
        TRANCHE = "TRANCHE", _("Tranche de consommation")
        FIXED = "FIXED", _("Redevance fixe")
        LEVY = "LEVY", _("Taxe ou redevance au volume")
        OTHER = "OTHER", _("Autre")

    bill = models.ForeignKey(
        Bill, on_delete=models.CASCADE, related_name="lines", db_index=False
    )  # billline_unique_position (bill, position) is its index
    position = models.PositiveSmallIntegerField(_("ordre"))
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices)
    label = models.CharField(_("libellé"), max_length=160)
    quantity = models.DecimalField(_("quantité"), **QUANTITY)
    unit_price = models.DecimalField(_("prix unitaire"), **PRICE)
    amount_ht = models.DecimalField(_("montant HT"), **MONEY)
    vat_rate = models.DecimalField(_("taux TVA"), max_digits=5, decimal_places=4)
    amount_tva = models.DecimalField(_("TVA"), **MONEY)
    amount_ttc = models.DecimalField(_("montant TTC"), **MONEY)

    class Meta:
        verbose_name = _("ligne de facture")
        verbose_name_plural = _("lignes de facture")
        ordering = ["bill", "position"]
        constraints = [models.UniqueConstraint(fields=["bill", "position"], name="billline_unique_position")]

    def __str__(self) -> str:
        return self.label

    @property
    def unit_price_ht(self) -> Decimal:
        """The unit price without VAT (the bill's « Prix unitaire HT » column). ``unit_price`` is
        the tariff's published price: HT for most tariffs, TTC for a TTC-priced one (electricity),
        whose line has amount TTC = quantity × price (``engine._line``): its HT price is
        price / (1 + rate), to 4 decimals."""
        rate = self.vat_rate or Decimal("0")
        gross = (self.quantity * self.unit_price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if rate and gross == self.amount_ttc and gross != self.amount_ht:
            return (self.unit_price / (1 + rate)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        return self.unit_price


class Payment(models.Model):
    """Money received (agency counter, CMI card, direct debit, transfer). Idempotent on its
    external reference."""

    class Method(models.TextChoices):
        CASH = "CASH", _("Espèces en agence")
        CHEQUE = "CHEQUE", _("Chèque")
        CARD_CMI = "CARD_CMI", _("Carte bancaire (CMI)")
        DIRECT_DEBIT = "DIRECT_DEBIT", _("Prélèvement")
        TRANSFER = "TRANSFER", _("Virement")
        AGENT_NETWORK = "AGENT_NETWORK", _("Réseau d'agents (Tasshilat, Wafacash...)")

    customer = models.ForeignKey(Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("montant"), **MONEY)
    method = models.CharField(_("mode"), max_length=14, choices=Method.choices)
    paid_at = models.DateTimeField(_("payé le"))
    reference = models.CharField(_("référence"), max_length=64, blank=True)
    external_id = models.CharField(_("identifiant externe"), max_length=120, null=True, blank=True, unique=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(
        _("motif"), blank=True, help_text=_("Obligatoire quand le montant dépasse le solde dû par le client.")
    )
    created_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["-paid_at"]
        permissions = [("reverse_payment", _("Peut annuler un paiement (avec motif)"))]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]
        indexes = [models.Index(fields=["customer", "-paid_at"], name="payment_customer_recent")]

    def __str__(self) -> str:
        return f"{money_format(self.amount)} — {self.get_method_display()}"


class PaymentReversal(models.Model):
    """« Annulation d'un paiement » (a cheque returned unpaid, an entry on the wrong customer): who,
    when and why. Nothing is deleted: the reversal debits the ledger back (a REVERSAL entry), its
    negative allocations re-open the bills the payment had settled, and the receipt is revoked.
    One per payment (unique): a payment cannot be reversed twice."""

    payment = models.OneToOneField(
        Payment, verbose_name=_("paiement"), on_delete=models.PROTECT, related_name="reversal"
    )
    reason = models.TextField(_("motif"))
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("annulé par"), on_delete=models.PROTECT, related_name="+"
    )
    reversed_at = models.DateTimeField(_("annulé le"))
    created_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)

    class Meta:
        verbose_name = _("annulation de paiement")
        verbose_name_plural = _("annulations de paiements")
        ordering = ["-reversed_at"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="payment_reversal_reason")]

    def __str__(self) -> str:
        return f"{self.payment} — {self.reason[:60]}"


class PaymentAllocation(models.Model):
    """Which bill a payment (or a credit note) settles, and how much of it. A reversed payment's
    allocations stay; the reversal adds the same amounts negated (``reversal`` set)."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="allocations")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations")
    credit_note = models.ForeignKey(
        Bill, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_allocations"
    )
    amount = models.DecimalField(_("montant"), **MONEY)
    reversal = models.ForeignKey(
        PaymentReversal, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("affectation")
        verbose_name_plural = _("affectations")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0, reversal__isnull=True) | Q(amount__lt=0, reversal__isnull=False),
                name="allocation_amount_sign",
            ),
            models.CheckConstraint(
                condition=Q(payment__isnull=False, credit_note__isnull=True)
                | Q(payment__isnull=True, credit_note__isnull=False),
                name="allocation_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} → {self.bill_id}"


class Refund(models.Model):
    """Money paid back to a customer out of their credit (« Demande de remboursement »): after a
    termination (the deposit above the last bills), a quote advance, a double payment or an
    overpayment kept as credit. One REFUND ledger entry (a debit) each; the credit it pays out is
    taken from the customer's unused payments and credit notes (``RefundAllocation``), so it is
    never applied to a bill afterwards nor paid out twice. Never deleted: « Annuler le
    remboursement » adds a ``RefundCancellation`` (a reversing entry, with a reason)."""

    class Method(models.TextChoices):
        VIREMENT = "VIREMENT", _("Virement bancaire")
        CHEQUE = "CHEQUE", _("Chèque")
        ESPECES = "ESPECES", _("Espèces en agence")

    customer = models.ForeignKey(
        Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="refunds", db_index=False
    )  # refund_customer_recent (customer, -paid_at) is its index
    amount = models.DecimalField(_("montant"), **MONEY)
    method = models.CharField(_("mode de versement"), max_length=10, choices=Method.choices)
    rib = models.CharField(_("RIB du client"), max_length=24, blank=True, help_text=_("Virement : 24 chiffres."))
    bank_name = models.CharField(_("banque"), max_length=80, blank=True)
    reference = models.CharField(
        _("référence"),
        max_length=64,
        blank=True,
        help_text=_("N° de l'ordre de virement, du chèque ou du bon de caisse."),
    )
    external_id = models.CharField(
        _("identifiant externe"),
        max_length=120,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Le même identifiant enregistré deux fois ne paie qu'une fois."),
    )
    request_ref = models.CharField(_("n° de la demande"), max_length=40, blank=True)
    paid_at = models.DateTimeField(_("remboursé le"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("enregistré par"), on_delete=models.PROTECT, related_name="+"
    )
    receipt = models.ForeignKey(
        "rak_base.Document",
        verbose_name=_("reçu (PDF)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)

    class Meta:
        verbose_name = _("remboursement")
        verbose_name_plural = _("remboursements")
        ordering = ["-paid_at", "-id"]
        permissions = [("cancel_refund", _("Peut annuler un remboursement (avec motif)"))]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(method__in=["VIREMENT", "CHEQUE", "ESPECES"]), name="refund_method_valid"
            ),
            models.CheckConstraint(condition=~Q(method="VIREMENT") | Q(rib__regex=r"^[0-9]{24}$"), name="refund_rib"),
        ]
        indexes = [models.Index(fields=["customer", "-paid_at"], name="refund_customer_recent")]

    def __str__(self) -> str:
        return f"{money_format(self.amount)} — {self.get_method_display()}"


class RefundCancellation(models.Model):
    """« Annuler le remboursement » (a cheque never cashed, a transfer returned): who, when, why.
    The refund stays; a REFUND_CANCEL entry credits the amount back and the credit it had taken
    is the customer's again. Once per refund (unique)."""

    refund = models.OneToOneField(
        Refund, verbose_name=_("remboursement"), on_delete=models.PROTECT, related_name="cancellation"
    )
    reason = models.TextField(_("motif"))
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("annulé par"), on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("annulé le"))
    created_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)

    class Meta:
        verbose_name = _("annulation de remboursement")
        verbose_name_plural = _("annulations de remboursements")
        ordering = ["-cancelled_at"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="refund_cancellation_reason")]

    def __str__(self) -> str:
        return f"{self.refund} — {self.reason[:60]}"


class RefundAllocation(models.Model):
    """Which unused credit a refund paid out: a payment's remainder or a credit note's. A
    cancellation adds the same amounts negated (``cancellation`` set), giving the credit back."""

    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="allocations")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="refund_allocations"
    )
    credit_note = models.ForeignKey(
        Bill, null=True, blank=True, on_delete=models.PROTECT, related_name="refund_allocations"
    )
    amount = models.DecimalField(_("montant"), **MONEY)
    cancellation = models.ForeignKey(
        RefundCancellation, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("origine d'un remboursement")
        verbose_name_plural = _("origines des remboursements")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0, cancellation__isnull=True) | Q(amount__lt=0, cancellation__isnull=False),
                name="refund_allocation_sign",
            ),
            models.CheckConstraint(
                condition=Q(payment__isnull=False, credit_note__isnull=True)
                | Q(payment__isnull=True, credit_note__isnull=False),
                name="refund_allocation_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} ← {self.payment_id or self.credit_note_id}"


class LedgerEntry(models.Model):
    """Append-only customer account: a bill, a payment reversal or a refund is a debit (+), a
    payment, a credit note or a refund cancellation a credit (−). The balance is ``SUM(amount)``;
    nothing stores a running total."""

    class Kind(models.TextChoices):
        BILL = "BILL", _("Facture")
        PAYMENT = "PAYMENT", _("Paiement")
        CREDIT = "CREDIT", _("Avoir")
        REVERSAL = "REVERSAL", _("Annulation de paiement")
        REFUND = "REFUND", _("Remboursement")
        REFUND_CANCEL = "REFUND_CANCEL", _("Annulation de remboursement")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="ledger", db_index=False
    )  # ledger_customer_date (customer, entry_date) is its index
    dossier = models.ForeignKey(Dossier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    entry_date = models.DateField(_("date"))
    amount = models.DecimalField(_("montant"), **MONEY, help_text=_("Débit positif, crédit négatif."))
    bill = models.OneToOneField(Bill, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entry")
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entry"
    )
    reversal = models.OneToOneField(
        PaymentReversal, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entry"
    )
    refund = models.OneToOneField(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entry")
    refund_cancellation = models.OneToOneField(
        RefundCancellation, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entry"
    )
    label = models.CharField(_("libellé"), max_length=160)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("écriture du compte client")
        verbose_name_plural = _("compte client")
        ordering = ["customer", "entry_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["BILL", "PAYMENT", "CREDIT", "REVERSAL", "REFUND", "REFUND_CANCEL"]),
                name="ledger_kind_valid",
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=["BILL", "REVERSAL"]) & Q(amount__gte=0))
                | (Q(kind__in=["PAYMENT", "CREDIT"]) & Q(amount__lte=0))
                | (Q(kind="REFUND") & Q(amount__gt=0) & Q(refund__isnull=False))
                | (Q(kind="REFUND_CANCEL") & Q(amount__lt=0) & Q(refund_cancellation__isnull=False)),
                name="ledger_sign",
            ),
        ]
        indexes = [models.Index(fields=["customer", "entry_date"], name="ledger_customer_date")]

    def __str__(self) -> str:
        return f"{self.entry_date} {self.label}: {self.amount}"


# --- termination (résiliation) -----------------------------------------------------------------------


class DossierClosing(models.Model):
    """The accounts of a terminated dossier (« résiliation »): its final reading, its final bill, the
    deposit set against its last bills (a credit note « Restitution du dépôt de garantie ») and the
    resulting balance. One per dossier (the deposit is never released twice); ``closed_at`` is empty
    while only the final reading is recorded. ``reference``: the termination request's number
    (rak_billing does not know requests)."""

    dossier = models.OneToOneField(Dossier, verbose_name=_("dossier"), on_delete=models.PROTECT, related_name="closing")
    customer = models.ForeignKey(
        Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="+", db_index=False
    )  # closing_customer_recent (customer, -closed_at) is its index
    reference = models.CharField(_("n° de la demande de résiliation"), max_length=20, blank=True)
    final_reading = models.ForeignKey(
        MeterReading,
        verbose_name=_("relevé final"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    final_bill = models.OneToOneField(
        Bill, verbose_name=_("facture de clôture"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deposit_note = models.OneToOneField(
        Bill,
        verbose_name=_("restitution du dépôt de garantie"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deposit_amount = models.DecimalField(_("dépôt de garantie"), **MONEY, default=Decimal("0.00"))
    dues_amount = models.DecimalField(
        _("factures du dossier restant dues"),
        **MONEY,
        default=Decimal("0.00"),
        help_text=_("Ce que les factures du dossier devaient encore, facture de clôture comprise, avant le dépôt."),
    )
    balance = models.DecimalField(
        _("solde de la résiliation"),
        **MONEY,
        default=Decimal("0.00"),
        help_text=_("Factures dues moins dépôt : positif, le client est débiteur ; négatif, créditeur."),
    )
    end_date = models.DateField(_("date de fin"), null=True, blank=True)
    closed_at = models.DateTimeField(_("clôturé le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("clôture de dossier")
        verbose_name_plural = _("clôtures de dossiers")
        ordering = ["-closed_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(deposit_amount__gte=0), name="closing_deposit_positive")]
        indexes = [models.Index(fields=["customer", "-closed_at"], name="closing_customer_recent")]

    def __str__(self) -> str:
        return f"{self.dossier_id} — {self.reference}"


# Direct debit (mandates, orders sent to the banks, reject files): one module of its own.
from rak_billing.direct_debit_models import DebitBatch, DebitOrder, DebitRejectImport, Mandate  # noqa: E402, F401
