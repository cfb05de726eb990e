"""Requests (demandes) and their workflows.

Data owns names, order, deadlines and document lists (RequestType, Phase, RequiredDocument are
edited in the back office: the low-code part); code owns the transitions and their rules: the
engine (``rak_requests.engine``, ``services``, ``filing``) and one module per request type
(``rak_requests.kinds``: each phase's rule, the typed data, the checks and the effects of each
decision). A request moves only through services, under a row lock, and every step writes a
RequestEvent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rak_base.models import Document
from rak_billing.models import Bill
from rak_customer.models import Customer, Dossier, Meter, Premises, Service


class RequestType(models.Model):
    class Code(models.TextChoices):
        SUBSCRIPTION = "SUBSCRIPTION", _("Demande d'abonnement")
        CONNECTION = "CONNECTION", _("Demande de branchement")
        TERMINATION = "TERMINATION", _("Demande de résiliation")
        REFUND = "REFUND", _("Demande de remboursement")
        DIRECT_DEBIT = "DIRECT_DEBIT", _("Demande de domiciliation bancaire")
        ATTESTATION = "ATTESTATION", _("Demande d'attestation")
        COLLECTIVE_METER = "COLLECTIVE_METER", _("Tarification des compteurs collectifs")

    code = models.CharField(_("code"), max_length=20, choices=Code.choices, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    number_prefix = models.CharField(
        _("préfixe des numéros"), max_length=4, help_text=_("Ex. AB pour les abonnements.")
    )
    is_public = models.BooleanField(_("ouverte sans compte"), default=False)
    requires_otp = models.BooleanField(_("validation par code OTP"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("type de demande")
        verbose_name_plural = _("types de demande")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Phase(models.Model):
    """A phase of a request type. ``code`` is what the workflow code knows; the rest is data."""

    class Code(models.TextChoices):
        RECEVABILITE_ADMIN = "RECEVABILITE_ADMIN", _("Recevabilité administrative")
        RECEVABILITE_TECH = "RECEVABILITE_TECH", _("Recevabilité technique")
        SIGNATURE = "SIGNATURE", _("Signature du contrat")
        PAIEMENT = "PAIEMENT", _("Paiement des frais")
        POSE_COMPTEUR = "POSE_COMPTEUR", _("Pose du compteur")
        ETUDE = "ETUDE", _("Étude technique")
        DEVIS = "DEVIS", _("Devis")
        TRAVAUX = "TRAVAUX", _("Travaux")
        TRAITEMENT = "TRAITEMENT", _("Traitement")
        RELEVE_FINALE = "RELEVE_FINALE", _("Relève finale")
        CLOTURE = "CLOTURE", _("Clôture du compte")
        VERSEMENT = "VERSEMENT", _("Versement du remboursement")
        ENQUETE = "ENQUETE", _("Enquête technique")

    request_type = models.ForeignKey(RequestType, on_delete=models.CASCADE, related_name="phases")
    code = models.CharField(_("code"), max_length=20, choices=Code.choices)
    name = models.CharField(_("nom affiché"), max_length=120)
    position = models.PositiveSmallIntegerField(_("ordre"))
    sla_days = models.PositiveSmallIntegerField(_("délai (jours)"), default=5)
    customer_help = models.TextField(_("explication pour le client"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["request_type", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_type", "code"],
                name="phase_unique_code",
                violation_error_message=_("Deux phases d'un même type ne peuvent pas avoir le même code."),
            ),
            models.UniqueConstraint(
                fields=["request_type", "position"],
                name="phase_unique_position",
                violation_error_message=_("Deux phases d'un même type ne peuvent pas avoir le même ordre."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RequiredDocument(models.Model):
    request_type = models.ForeignKey(RequestType, on_delete=models.CASCADE, related_name="documents")
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("pièce"), max_length=160)
    required = models.BooleanField(_("obligatoire"), default=True)
    allowed_kinds = models.CharField(
        _("formats acceptés"), max_length=60, default="pdf,image,zip,rar", help_text=_("pdf, image, zip, rar")
    )
    max_bytes = models.PositiveIntegerField(_("taille maximale (octets)"), default=2 * 1024 * 1024)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pièce à joindre")
        verbose_name_plural = _("pièces à joindre")
        ordering = ["request_type", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_type", "code"],
                name="requireddocument_unique_code",
                violation_error_message=_("Deux pièces d'un même type de demande ne peuvent pas avoir le même code."),
            )
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        """« Formats acceptés » names only formats the upload check knows (rak_requests.uploads),
        stored as it reads them (« PDF , Image » -> « pdf,image »)."""
        from django.core.exceptions import ValidationError

        from rak_requests.uploads import UnknownFormat, allowed_kinds_check

        super().clean()
        try:
            self.allowed_kinds = allowed_kinds_check(self.allowed_kinds)
        except UnknownFormat as exc:
            raise ValidationError({"allowed_kinds": exc.message}) from exc


class ServiceRequest(models.Model):
    class Status(models.TextChoices):
        EN_COURS = "EN_COURS", _("En cours")
        COMPLEMENT_DEMANDE = "COMPLEMENT_DEMANDE", _("Complément demandé")
        REJETEE = "REJETEE", _("Rejetée")
        ACCEPTEE = "ACCEPTEE", _("Acceptée")
        ANNULEE = "ANNULEE", _("Annulée")

    class Action(models.TextChoices):
        NONE = "NONE", _("En cours : aucune action")
        ANSWER_COMPLEMENT = "ANSWER_COMPLEMENT", _("Répondre à la demande de complément")
        CALL = "CALL", _("Appeler le service client")
        SIGN = "SIGN", _("Signer le contrat")
        PAY = "PAY", _("Payer les frais")
        ACCEPT_QUOTE = "ACCEPT_QUOTE", _("Accepter le devis")
        READ_METER = "READ_METER", _("Communiquer l'index final de votre compteur")

    class Channel(models.TextChoices):
        WEB = "WEB", _("Agence en ligne")
        AGENCY = "AGENCY", _("Agence")

    number = models.CharField(_("n° de la demande"), max_length=20, unique=True)
    request_type = models.ForeignKey(
        RequestType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="requests"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="service_requests"
    )
    dossiers = models.ManyToManyField(Dossier, verbose_name=_("dossiers"), blank=True, related_name="service_requests")
    premises = models.ForeignKey(
        Premises, verbose_name=_("local"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    phase = models.ForeignKey(
        Phase, verbose_name=_("phase"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("statut"), max_length=20, choices=Status.choices, default=Status.EN_COURS)
    expected_action = models.CharField(
        _("action attendue du client"), max_length=20, choices=Action.choices, default=Action.NONE
    )
    data = models.JSONField(_("informations de la demande"), default=dict, blank=True)
    channel = models.CharField(_("canal"), max_length=8, choices=Channel.choices, default=Channel.WEB)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fee_bill = models.ForeignKey(
        Bill, verbose_name=_("facture des frais"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receipt = models.ForeignKey(
        Document, verbose_name=_("récépissé"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_at = models.DateTimeField(_("date de la demande"))
    phase_started_at = models.DateTimeField(_("début de la phase"), null=True, blank=True)
    phase_due_at = models.DateTimeField(_("échéance de la phase"), null=True, blank=True)
    processed_at = models.DateTimeField(_("date de traitement"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escaladée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("demande")
        verbose_name_plural = _("demandes")
        ordering = ["-filed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["EN_COURS", "COMPLEMENT_DEMANDE", "REJETEE", "ACCEPTEE", "ANNULEE"]),
                name="request_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    expected_action__in=[
                        "NONE",
                        "ANSWER_COMPLEMENT",
                        "CALL",
                        "SIGN",
                        "PAY",
                        "ACCEPT_QUOTE",
                        "READ_METER",
                    ]
                ),
                name="request_action_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-filed_at"], name="request_customer_recent"),
            models.Index(fields=["request_type", "phase", "status"], name="request_queue"),
            models.Index(
                fields=["phase_due_at"],
                name="request_open_due",
                condition=Q(status__in=["EN_COURS", "COMPLEMENT_DEMANDE"]),
            ),
        ]
        permissions = [
            # who decides a phase (accept, ask a complement, reject): the front desk the administrative
            # phases, the technical service the technical ones (``PhaseRule.technical`` of the type's module)
            ("act_administrative_phase", _("Peut traiter les phases administratives d'une demande")),
            ("act_technical_phase", _("Peut traiter les phases techniques d'une demande")),
        ]

    def __str__(self) -> str:
        return self.number


class RequestEvent(models.Model):
    """The history of a request: every transition, message, note and action."""

    class Kind(models.TextChoices):
        FILED = "FILED", _("Demande déposée")
        PHASE = "PHASE", _("Changement de phase")
        COMPLEMENT_ASKED = "COMPLEMENT_ASKED", _("Complément demandé")
        COMPLEMENT_ANSWERED = "COMPLEMENT_ANSWERED", _("Complément fourni")
        ACCEPTED = "ACCEPTED", _("Acceptée")
        REJECTED = "REJECTED", _("Rejetée")
        CANCELLED = "CANCELLED", _("Annulée par le client")
        NOTE = "NOTE", _("Note interne")
        ASSIGNED = "ASSIGNED", _("Affectée")
        ESCALATED = "ESCALATED", _("Délai dépassé : escaladée")
        CALL_REQUESTED = "CALL_REQUESTED", _("Appel demandé")
        IDENTITY_CHECKED = "IDENTITY_CHECKED", _("Identité vérifiée")
        CONTRACT_SIGNED = "CONTRACT_SIGNED", _("Contrat signé")
        QUOTE_ISSUED = "QUOTE_ISSUED", _("Devis émis")
        QUOTE_ACCEPTED = "QUOTE_ACCEPTED", _("Devis accepté")
        WORKS_INVOICED = "WORKS_INVOICED", _("Travaux facturés")
        WORKS_PAID = "WORKS_PAID", _("Travaux payés")
        FEES_INVOICED = "FEES_INVOICED", _("Frais facturés")
        FEES_PAID = "FEES_PAID", _("Frais payés")
        METER_INSTALLED = "METER_INSTALLED", _("Compteur posé")

    class Actor(models.TextChoices):
        CUSTOMER = "CUSTOMER", _("Client")
        STAFF = "STAFF", _("RAK")
        SYSTEM = "SYSTEM", _("Système")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("le"))
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    actor_kind = models.CharField(_("par"), max_length=8, choices=Actor.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.TextField(_("message"), blank=True)
    internal = models.BooleanField(_("interne (invisible du client)"), default=False)
    from_phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("historique")
        verbose_name_plural = _("historique")
        ordering = ["request", "at", "id"]
        indexes = [models.Index(fields=["request", "at"], name="requestevent_request_at")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.get_kind_display()}"


class Attachment(models.Model):
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="attachments")
    document_code = models.CharField(
        _("pièce"), max_length=40, help_text=_("Code de la pièce requise, ou « complement ».")
    )
    label = models.CharField(_("libellé"), max_length=160)
    file = models.FileField(_("fichier"), upload_to="requests/%Y/%m/")
    original_name = models.CharField(_("nom d'origine"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("taille"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("déposé le"))
    event = models.ForeignKey(
        RequestEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["request", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.label


class CallRequest(models.Model):
    """« Appeler » before signing: the agent calls back and records the identity check."""

    class Result(models.TextChoices):
        PENDING = "PENDING", _("À rappeler")
        CONFIRMED = "CONFIRMED", _("Identité confirmée")
        FAILED = "FAILED", _("Identité non confirmée")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="calls")
    requested_at = models.DateTimeField(_("demandé le"))
    result = models.CharField(_("résultat"), max_length=10, choices=Result.choices, default=Result.PENDING)
    checked_at = models.DateTimeField(_("vérifié le"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("demande d'appel")
        verbose_name_plural = _("demandes d'appel")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["result", "requested_at"], name="callrequest_queue")]

    def __str__(self) -> str:
        return f"{self.request.number} — {self.get_result_display()}"


class Contract(models.Model):
    """One contract per service of a subscription request, signed on a canvas."""

    class Status(models.TextChoices):
        DRAFT = "DRAFT", _("À signer")
        SIGNED = "SIGNED", _("Signé")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="contracts")
    service = models.CharField(_("métier"), max_length=16, choices=Service.choices)
    body_html = models.TextField(_("texte du contrat"))
    fees_amount = models.DecimalField(_("frais (DH TTC)"), max_digits=14, decimal_places=2)
    status = models.CharField(_("statut"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    generated_at = models.DateTimeField(_("généré le"))
    signed_at = models.DateTimeField(_("signé le"), null=True, blank=True)
    signer_ip = models.GenericIPAddressField(_("adresse IP du signataire"), null=True, blank=True)
    signature = models.FileField(_("signature"), upload_to="signatures/%Y/%m/", blank=True)
    document = models.ForeignKey(
        Document,
        verbose_name=_("PDF signé (registre)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("contrat")
        verbose_name_plural = _("contrats")
        constraints = [models.UniqueConstraint(fields=["request", "service"], name="contract_one_per_service")]

    def __str__(self) -> str:
        return f"{self.request.number} — {self.get_service_display()}"


class Quote(models.Model):
    """A quote (devis) for a connection request, seen in « Mes devis »."""

    class Status(models.TextChoices):
        EN_PREPARATION = "EN_PREPARATION", _("En préparation")
        VALIDE = "VALIDE", _("Valide")
        ACCEPTE = "ACCEPTE", _("Accepté")
        REFUSE = "REFUSE", _("Refusé")
        EXPIRE = "EXPIRE", _("Expiré")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="quotes")
    number = models.CharField(_("n° devis"), max_length=20, unique=True)
    lines = models.JSONField(_("lignes"), default=list)
    amount_ht = models.DecimalField(_("montant HT"), max_digits=14, decimal_places=2)
    amount_tva = models.DecimalField(_("TVA"), max_digits=14, decimal_places=2)
    amount_ttc = models.DecimalField(_("montant TTC"), max_digits=14, decimal_places=2)
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.EN_PREPARATION)
    valid_until = models.DateField(_("valable jusqu'au"), null=True, blank=True)
    issued_at = models.DateTimeField(_("émis le"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepté le"), null=True, blank=True)
    document = models.ForeignKey(
        Document, verbose_name=_("PDF (registre)"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("devis")
        verbose_name_plural = _("devis")
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.number


class InstallationOrder(models.Model):
    """« Pose du compteur »: an order for the technical team; recording the meter activates."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("À réaliser")
        DONE = "DONE", _("Réalisé")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="installations")
    service = models.CharField(_("métier"), max_length=16, choices=Service.choices)
    status = models.CharField(_("statut"), max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("créé le"))
    meter = models.ForeignKey(Meter, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dossier = models.ForeignKey(Dossier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    installed_at = models.DateTimeField(_("posé le"), null=True, blank=True)
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("ordre de pose")
        verbose_name_plural = _("ordres de pose")
        constraints = [models.UniqueConstraint(fields=["request", "service"], name="installation_one_per_service")]

    def __str__(self) -> str:
        return f"{self.request.number} — {self.get_service_display()}"


# complaints, field interventions and outage notices (issue 11): their own module, models of this app
from rak_requests.complaint_models import (  # noqa: E402, F401
    Complaint,
    ComplaintCategory,
    ComplaintEntry,
    FieldIntervention,
    OutageNotice,
    OutageNoticeRecipient,
)
