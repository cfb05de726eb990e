"""Complaints (réclamations), field interventions and outage notices (issue 11).

A complaint is not a request type: it has no phases to accept, anybody may file one without an
account, and its life is a conversation (the thread) under a deadline that depends on its
category. Its states:

    NEW ──take/assign/reply──▶ IN_PROGRESS ◀──customer adds info── WAITING_CUSTOMER
     │                            │   ▲                                   ▲
     └──────────close─────────────┴──▶ CLOSED ──reopen (within N days)──┘ (back to IN_PROGRESS)

Every change happens in a service of ``rak_requests.complaints.services`` under a row lock and
writes a ``ComplaintEntry`` (the thread: customer messages, replies, internal notes, actions,
status changes). Categories are data (name, SLA in hours, urgent, « incident » kinds shown in
« Signaler une fuite ou une coupure »), edited by the superviseur in the back office.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rak_billing.models import Bill, MeterReading
from rak_customer.models import Agency, ContactMessage, Customer, Dossier, Premises, Service


class ComplaintCategory(models.Model):
    """« Facturation », « Fuite »…: the deadline (SLA) and how urgent it is are data."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("catégorie"), max_length=80)
    description = models.CharField(_("aide pour le client"), max_length=255, blank=True)
    sla_hours = models.PositiveIntegerField(
        _("délai de traitement (heures)"),
        help_text=_("Délai entre le dépôt (ou la réouverture) et la clôture attendue ; 72 = 3 jours."),
    )
    first_answer_hours = models.PositiveIntegerField(
        _("délai de première réponse (heures)"),
        default=24,
        help_text=_("Délai pour une première réponse au client (prise en charge par un agent)."),
    )
    is_urgent = models.BooleanField(
        _("urgente"), default=False, help_text=_("Traitée en priorité (fuite, coupure) : délai court, en tête de file.")
    )
    is_incident = models.BooleanField(
        _("incident sur le réseau"),
        default=False,
        help_text=_("Proposée dans « Signaler une fuite ou une coupure » (adresse, photo, localisation)."),
    )
    service = models.CharField(_("métier"), max_length=16, choices=Service.choices, blank=True)
    about_bill = models.BooleanField(
        _("porte sur une facture"), default=False, help_text=_("« Contester cette facture » ouvre cette catégorie.")
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("catégorie de réclamation")
        verbose_name_plural = _("catégories de réclamation")
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sla_hours__gt=0),
                name="complaintcategory_sla_positive",
                violation_error_message=_("Le délai de traitement doit être d'au moins une heure."),
            ),
            models.CheckConstraint(
                condition=Q(first_answer_hours__gt=0) & Q(first_answer_hours__lte=models.F("sla_hours")),
                name="complaintcategory_first_answer_within_sla",
                violation_error_message=_(
                    "Le délai de première réponse doit être positif et ne pas dépasser le délai de traitement."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Complaint(models.Model):
    class Status(models.TextChoices):
        NEW = "NEW", _("Reçue")
        IN_PROGRESS = "IN_PROGRESS", _("En cours de traitement")
        WAITING_CUSTOMER = "WAITING_CUSTOMER", _("En attente de votre réponse")
        CLOSED = "CLOSED", _("Clôturée")

    class Channel(models.TextChoices):
        WEB = "WEB", _("Agence en ligne")
        MOBILE = "MOBILE", _("Application mobile")
        AGENCY = "AGENCY", _("Agence (guichet)")
        PHONE = "PHONE", _("Téléphone (CRC)")
        CONTACT = "CONTACT", _("Formulaire « Contactez-nous »")

    class Source(models.TextChoices):
        FORM = "FORM", _("Envoyer une réclamation")
        INCIDENT = "INCIDENT", _("Signaler une fuite ou une coupure")
        BILL = "BILL", _("Contester une facture")

    number = models.CharField(_("n° de réclamation"), max_length=20, unique=True)
    category = models.ForeignKey(
        ComplaintCategory, verbose_name=_("catégorie"), on_delete=models.PROTECT, related_name="complaints"
    )
    status = models.CharField(_("statut"), max_length=20, choices=Status.choices, default=Status.NEW)
    channel = models.CharField(_("canal"), max_length=8, choices=Channel.choices, default=Channel.WEB)
    source = models.CharField(_("origine"), max_length=8, choices=Source.choices, default=Source.FORM)

    # who complains: a customer (logged in, or identified by the code client given), or anybody
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déposée par (compte)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    customer_code_given = models.CharField(_("code client indiqué"), max_length=20, blank=True)
    reference_given = models.CharField(_("n° de dossier ou de facture indiqué"), max_length=40, blank=True)
    name = models.CharField(_("nom et prénom"), max_length=120)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)

    # what it is about
    subject = models.CharField(_("objet"), max_length=160)
    message = models.TextField(_("message"), max_length=4000)
    dossier = models.ForeignKey(
        Dossier, verbose_name=_("dossier"), null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    bill = models.ForeignKey(
        Bill, verbose_name=_("facture"), null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    reading = models.ForeignKey(
        MeterReading,
        verbose_name=_("relevé"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    # where (incidents): the customer's premises or an address, the district, the browser's position
    premises = models.ForeignKey(
        Premises, verbose_name=_("local"), null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    district = models.CharField(_("quartier"), max_length=80, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    outage_notice = models.ForeignKey(
        "OutageNotice",
        verbose_name=_("avis de coupure"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints",
    )
    contact_message = models.OneToOneField(
        ContactMessage,
        verbose_name=_("message « Contactez-nous » d'origine"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaint",
    )

    # processing
    agency = models.ForeignKey(
        Agency, verbose_name=_("agence"), null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent en charge"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_complaints",
    )
    filed_at = models.DateTimeField(_("déposée le"))
    first_answer_due_at = models.DateTimeField(_("première réponse attendue avant"))
    due_at = models.DateTimeField(_("échéance"))
    first_answered_at = models.DateTimeField(_("première réponse le"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escaladée le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("clôturée le"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("clôturée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    result = models.TextField(_("résultat du traitement"), max_length=2000, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("réouvertures"), default=0)
    rating = models.PositiveSmallIntegerField(_("note du client"), null=True, blank=True)
    rating_comment = models.CharField(_("commentaire du client"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("notée le"), null=True, blank=True)
    updated_at = models.DateTimeField(_("dernière activité"))

    class Meta:
        verbose_name = _("réclamation")
        verbose_name_plural = _("réclamations")
        ordering = ["-filed_at"]
        permissions = [
            ("handle_complaint", _("Traiter les réclamations (répondre, clôturer)")),
            ("issue_complaint_credit_note", _("Émettre un avoir sur une réclamation de facturation")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["NEW", "IN_PROGRESS", "WAITING_CUSTOMER", "CLOSED"]),
                name="complaint_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["WEB", "MOBILE", "AGENCY", "PHONE", "CONTACT"]), name="complaint_channel_valid"
            ),
            models.CheckConstraint(condition=Q(source__in=["FORM", "INCIDENT", "BILL"]), name="complaint_source_valid"),
            models.CheckConstraint(
                condition=~Q(status="CLOSED") | (Q(closed_at__isnull=False) & ~Q(result="")),
                name="complaint_closed_has_result",
                violation_error_message=_("Une réclamation clôturée a un résultat de traitement."),
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="complaint_rating_range"
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (Q(latitude__gte=-90, latitude__lte=90) & Q(longitude__gte=-180, longitude__lte=180)),
                name="complaint_position_valid",
            ),
        ]
        indexes = [
            # the helpdesk queue: open ones by deadline, by status/category/assignee
            models.Index(fields=["due_at"], name="complaint_open_due", condition=~Q(status="CLOSED")),
            models.Index(fields=["status", "-filed_at"], name="complaint_status_recent"),
            models.Index(fields=["category", "-filed_at"], name="complaint_category_recent"),
            models.Index(fields=["assigned_to", "status"], name="complaint_assignee"),
            models.Index(fields=["agency", "status"], name="complaint_agency"),
            models.Index(fields=["district"], name="complaint_district"),
            models.Index(fields=["customer", "-filed_at"], name="complaint_customer_recent"),
            models.Index(fields=["phone", "-filed_at"], name="complaint_phone_recent"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


def complaint_upload_to(instance, filename: str) -> str:
    return f"complaints/{instance.at:%Y/%m}/{filename}"


class ComplaintEntry(models.Model):
    """One line of a complaint's thread. ``internal`` lines are never shown to the customer."""

    class Kind(models.TextChoices):
        FILED = "FILED", _("Réclamation déposée")
        CUSTOMER_MESSAGE = "CUSTOMER_MESSAGE", _("Message du client")
        REPLY = "REPLY", _("Réponse au client")
        INFO_REQUEST = "INFO_REQUEST", _("Demande d'information au client")
        NOTE = "NOTE", _("Note interne")
        ASSIGNED = "ASSIGNED", _("Affectation")
        ACTION = "ACTION", _("Action de traitement")
        ESCALATED = "ESCALATED", _("Escalade (délai dépassé)")
        CLOSED = "CLOSED", _("Clôture")
        REOPENED = "REOPENED", _("Réouverture")
        RATED = "RATED", _("Appréciation du client")

    class Actor(models.TextChoices):
        CUSTOMER = "CUSTOMER", _("Client")
        STAFF = "STAFF", _("Agent")
        SYSTEM = "SYSTEM", _("Système")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="entries")
    at = models.DateTimeField(_("le"))
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    actor_kind = models.CharField(_("par"), max_length=8, choices=Actor.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("texte"), max_length=4000, blank=True)
    internal = models.BooleanField(_("interne (invisible du client)"), default=False)
    channels = ArrayField(models.CharField(max_length=8), verbose_name=_("envoyée par"), default=list, blank=True)
    data = models.JSONField(default=dict, blank=True)
    file = models.FileField(_("pièce jointe"), upload_to=complaint_upload_to, blank=True)
    file_name = models.CharField(_("nom du fichier"), max_length=255, blank=True)
    file_type = models.CharField(_("type du fichier"), max_length=100, blank=True)
    file_size = models.PositiveIntegerField(_("taille du fichier"), null=True, blank=True)

    class Meta:
        verbose_name = _("échange")
        verbose_name_plural = _("échanges")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["complaint", "at"], name="complaintentry_thread")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "FILED",
                        "CUSTOMER_MESSAGE",
                        "REPLY",
                        "INFO_REQUEST",
                        "NOTE",
                        "ASSIGNED",
                        "ACTION",
                        "ESCALATED",
                        "CLOSED",
                        "REOPENED",
                        "RATED",
                    ]
                ),
                name="complaintentry_kind_valid",
            ),
            models.CheckConstraint(condition=~Q(kind="NOTE") | Q(internal=True), name="complaintentry_note_internal"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint.number} {self.get_kind_display()}"


class FieldIntervention(models.Model):
    """« Ordre d'intervention » for the technical team (a leak to repair, a meter to check, water
    to sample), issued from a complaint; its report is written back into the complaint's thread."""

    class Kind(models.TextChoices):
        LEAK_REPAIR = "LEAK_REPAIR", _("Réparation de fuite")
        METER_CHECK = "METER_CHECK", _("Vérification du compteur")
        WATER_SAMPLE = "WATER_SAMPLE", _("Prélèvement (qualité de l'eau)")
        SUPPLY_CHECK = "SUPPLY_CHECK", _("Contrôle de l'alimentation (coupure, pression, tension)")
        CONNECTION_WORKS = "CONNECTION_WORKS", _("Travaux sur le branchement")
        OTHER = "OTHER", _("Autre intervention")

    class Status(models.TextChoices):
        PENDING = "PENDING", _("À réaliser")
        DONE = "DONE", _("Réalisée")
        CANCELLED = "CANCELLED", _("Annulée")

    number = models.CharField(_("n° d'ordre"), max_length=20, unique=True)
    complaint = models.ForeignKey(
        Complaint, verbose_name=_("réclamation"), on_delete=models.PROTECT, related_name="interventions"
    )
    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices)
    service = models.CharField(_("métier"), max_length=16, choices=Service.choices, blank=True)
    address = models.CharField(_("adresse"), max_length=255)
    district = models.CharField(_("quartier"), max_length=80, blank=True)
    instructions = models.TextField(_("consignes"), max_length=2000)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("émis le"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("émis par"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    planned_for = models.DateField(_("prévue le"), null=True, blank=True)
    done_at = models.DateTimeField(_("réalisée le"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("réalisée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    report = models.TextField(_("compte rendu"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("ordre d'intervention")
        verbose_name_plural = _("ordres d'intervention")
        ordering = ["-created_at"]
        permissions = [("perform_intervention", _("Réaliser les ordres d'intervention (équipe technique)"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["PENDING", "DONE", "CANCELLED"]), name="intervention_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="DONE") | (Q(done_at__isnull=False) & ~Q(report="")),
                name="intervention_done_has_report",
                violation_error_message=_("Une intervention réalisée a un compte rendu."),
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="intervention_queue")]

    def __str__(self) -> str:
        return self.number


class OutageNotice(models.Model):
    """A planned or unplanned cut of water or electricity (or works), published by staff for some
    districts and/or reading rounds: shown on the home page and on the dashboard of the customers
    concerned, who get one SMS (unless they opted out)."""

    class Kind(models.TextChoices):
        PLANNED = "PLANNED", _("Coupure programmée")
        UNPLANNED = "UNPLANNED", _("Coupure imprévue")
        WORKS = "WORKS", _("Travaux")

    class Status(models.TextChoices):
        DRAFT = "DRAFT", _("Brouillon")
        PUBLISHED = "PUBLISHED", _("Publié")
        CANCELLED = "CANCELLED", _("Annulé")

    number = models.CharField(_("n° d'avis"), max_length=20, unique=True)
    kind = models.CharField(_("nature"), max_length=10, choices=Kind.choices)
    service = models.CharField(_("métier"), max_length=16, choices=Service.choices)
    districts = ArrayField(models.CharField(max_length=80), verbose_name=_("quartiers"), default=list, blank=True)
    round_codes = ArrayField(
        models.CharField(max_length=10), verbose_name=_("tournées de relève"), default=list, blank=True
    )
    starts_at = models.DateTimeField(_("début"))
    expected_end_at = models.DateTimeField(_("fin prévue"))
    ended_at = models.DateTimeField(_("rétablissement constaté le"), null=True, blank=True)
    reason = models.CharField(_("motif"), max_length=255)
    details = models.TextField(_("informations pour les clients"), max_length=2000, blank=True)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(_("créé le"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("créé par"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("publié le"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("publié par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("annulé le"), null=True, blank=True)
    cancel_reason = models.CharField(_("motif de l'annulation"), max_length=255, blank=True)  # H5, migration 0018
    recipients_count = models.PositiveIntegerField(_("clients concernés"), default=0)
    sms_count = models.PositiveIntegerField(_("SMS envoyés"), default=0)

    history = HistoricalRecords()
    # set on an instance before save(), read by django-simple-history (its history row's user and reason)
    _history_user: Any
    _change_reason: str

    class Meta:
        verbose_name = _("avis de coupure ou de travaux")
        verbose_name_plural = _("avis de coupure et de travaux")
        ordering = ["-starts_at"]
        permissions = [("publish_outagenotice", _("Publier les avis de coupure"))]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["PLANNED", "UNPLANNED", "WORKS"]), name="outage_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["DRAFT", "PUBLISHED", "CANCELLED"]), name="outage_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(expected_end_at__gt=models.F("starts_at")),
                name="outage_end_after_start",
                violation_error_message=_("La fin prévue doit être postérieure au début."),
            ),
            models.CheckConstraint(
                condition=Q(status="DRAFT") | ~Q(districts=[]) | ~Q(round_codes=[]),
                name="outage_has_area",
                violation_error_message=_("Indiquez au moins un quartier ou une tournée de relève."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expected_end_at"], name="outage_current"),
        ]

    def __str__(self) -> str:
        return f"{self.number} — {self.get_kind_display()} ({self.get_service_display()})"


class OutageNoticeRecipient(models.Model):
    """A customer concerned by a published notice: what the dashboard reads, and the proof that
    the notice's SMS went once (unique per notice and customer: publishing twice sends nothing)."""

    notice = models.ForeignKey(OutageNotice, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="outage_notices")
    sms_queued = models.BooleanField(_("SMS envoyé"), default=False)

    class Meta:
        verbose_name = _("client concerné")
        verbose_name_plural = _("clients concernés")
        constraints = [
            models.UniqueConstraint(fields=["notice", "customer"], name="outage_recipient_once"),
        ]
        indexes = [models.Index(fields=["customer"], name="outage_recipient_customer")]

    def __str__(self) -> str:
        return f"{self.notice.number} → {self.customer_id}"
