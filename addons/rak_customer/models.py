from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rak_customer.validators import (
    ELECTRICITY_CALIBER_REGEX,
    WATER_CALIBER_REGEX,
    InvalidCaliber,
    meter_caliber_normalize,
)


class Service(models.TextChoices):
    EAU = "EAU", _("Eau")
    ELECTRICITE = "ELECTRICITE", _("Électricité")
    ASSAINISSEMENT = "ASSAINISSEMENT", _("Assainissement")


class Agency(models.Model):
    name = models.CharField(_("nom"), max_length=120, unique=True)
    address = models.CharField(_("adresse"), max_length=255)
    city = models.CharField(_("ville"), max_length=80, default="Kénitra")
    hours = models.CharField(_("horaires"), max_length=255, blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("agence")
        verbose_name_plural = _("agences")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomerQuerySet(models.QuerySet):
    def search(self, term: str) -> CustomerQuerySet:
        """Code client, CIN, ICE, phone or name (the back-office search box)."""
        from rak_customer.selectors import customer_search_filter

        return self.filter(customer_search_filter(term)).distinct()


class Customer(models.Model):
    class Kind(models.TextChoices):
        PARTICULIER = "PARTICULIER", _("Particulier")
        PROFESSIONNEL = "PROFESSIONNEL", _("Professionnel")
        ENTREPRISE = "ENTREPRISE", _("Entreprise")

    class Status(models.TextChoices):
        PROSPECT = "PROSPECT", _("Prospect")
        CLIENT = "CLIENT", _("Client")

    class Civility(models.TextChoices):
        M = "M", _("M.")
        MME = "MME", _("Mme")

    class Language(models.TextChoices):
        # autonyms: each language named in itself, as the portal's language switch shows it
        FR = "fr", "Français"
        AR = "ar", "العربية"
        EN = "en", "English"

    code = models.CharField(_("code client"), max_length=12, unique=True)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.PARTICULIER)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.CLIENT)
    cin = models.CharField(_("CIN"), max_length=12, blank=True)
    ice = models.CharField(_("ICE"), max_length=15, blank=True)
    civility = models.CharField(_("civilité"), max_length=4, choices=Civility.choices, blank=True)
    first_name = models.CharField(_("prénom"), max_length=80, blank=True)
    last_name = models.CharField(_("nom"), max_length=80, blank=True)
    company_name = models.CharField(_("raison sociale"), max_length=160, blank=True)
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    agency = models.ForeignKey(Agency, verbose_name=_("agence"), null=True, blank=True, on_delete=models.PROTECT)
    sms_service_notices = models.BooleanField(
        _("recevoir par SMS les avis de coupure et de travaux"),
        default=True,
        db_default=True,  # the demo loader and imports COPY named columns and leave it out
        help_text=_(
            "Décoché : le client ne reçoit pas les SMS des avis de coupure (ils restent sur son tableau de bord)."
        ),
    )
    language = models.CharField(
        _("langue de communication"),
        max_length=2,
        choices=Language.choices,
        blank=True,  # never chosen: French, until the customer uses the portal in another language
        default="",
        db_default="",  # the demo loader and imports COPY named columns and leave it out
        help_text=_(
            "Langue des pages, SMS, e-mails et documents envoyés au client ; il la choisit sur le portail. "
            "Vide : français, jusqu'à ce qu'il se connecte dans une autre langue."
        ),
    )
    # « facture électronique » (issue 13): from this moment the customer receives no paper bill; the
    # print run and staff read it (rak_customer.efacture). Empty: paper bills.
    e_invoice_since = models.DateTimeField(
        _("facture électronique depuis le"),
        null=True,
        blank=True,
        help_text=_("Renseigné : le client a choisi la facture électronique et ne reçoit plus de facture papier."),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["created_at"])
    # set on an instance before save(), read by django-simple-history (its history row's author, date, reason)
    _history_user: Any
    _history_date: datetime
    _change_reason: str
    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["cin"], condition=~Q(cin=""), name="customer_cin_unique"),
            models.UniqueConstraint(fields=["ice"], condition=~Q(ice=""), name="customer_ice_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["PARTICULIER", "PROFESSIONNEL", "ENTREPRISE"]), name="customer_kind_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=["PROSPECT", "CLIENT"]), name="customer_status_valid"),
            models.CheckConstraint(condition=Q(language__in=["", "fr", "ar", "en"]), name="customer_language_valid"),
            models.CheckConstraint(condition=~Q(cin="") | ~Q(ice=""), name="customer_has_identity"),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="customer_name"),
            models.Index(fields=["company_name"], name="customer_company"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.display_name}"

    @property
    def display_name(self) -> str:
        if self.company_name:
            return self.company_name
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def identity(self) -> str:
        return self.ice or self.cin


class Contact(models.Model):
    class Kind(models.TextChoices):
        PHONE = "PHONE", _("Téléphone")
        EMAIL = "EMAIL", _("E-mail")

    customer = models.ForeignKey(Customer, verbose_name=_("client"), on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices)
    value = models.CharField(
        _("valeur"), max_length=254, help_text=_("Téléphone au format E.164 (+212...), e-mail en minuscules.")
    )
    is_sms = models.BooleanField(
        _("n° SMS"), default=False, help_text=_("Le numéro qui reçoit les SMS (un seul par client).")
    )
    is_primary_email = models.BooleanField(_("e-mail principal"), default=False)
    verified_at = models.DateTimeField(_("vérifié le"), null=True, blank=True)
    created_at = models.DateTimeField(_("ajouté le"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("coordonnée")
        verbose_name_plural = _("coordonnées")
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "value"], name="contact_unique_per_customer"),
            models.UniqueConstraint(fields=["customer"], condition=Q(is_sms=True), name="contact_one_sms_number"),
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_primary_email=True), name="contact_one_primary_email"
            ),
            models.CheckConstraint(condition=Q(kind__in=["PHONE", "EMAIL"]), name="contact_kind_valid"),
            models.CheckConstraint(condition=Q(is_sms=False) | Q(kind="PHONE"), name="contact_sms_is_phone"),
            models.CheckConstraint(
                condition=Q(is_primary_email=False) | Q(kind="EMAIL"), name="contact_primary_is_email"
            ),
            # a phone confirmed by OTP is a login identifier: it designates one customer only
            models.UniqueConstraint(
                fields=["value"],
                condition=Q(kind="PHONE", verified_at__isnull=False),
                name="contact_verified_phone_unique",
                violation_error_message=_("Ce numéro de téléphone est déjà vérifié pour un autre client."),
            ),
        ]
        indexes = [models.Index(fields=["kind", "value"], name="contact_lookup")]

    def __str__(self) -> str:
        return self.value

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class Premises(models.Model):
    """A local (the place served): what a dossier is attached to."""

    reference = models.CharField(_("référence du local"), max_length=20, unique=True)
    address = models.CharField(_("adresse"), max_length=255)
    district = models.CharField(_("quartier"), max_length=80, db_index=True)
    city = models.CharField(_("ville"), max_length=80, default="Kénitra")
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    round_code = models.CharField(
        _("tournée de relève"),
        max_length=10,
        blank=True,
        db_index=True,
        help_text=_("Code de la tournée (rak_billing.ReadingRound) qui relève ce local."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("local")
        verbose_name_plural = _("locaux")

    def __str__(self) -> str:
        return f"{self.address}, {self.district}, {self.city}"


class Meter(models.Model):
    number = models.CharField(_("n° compteur"), max_length=20, unique=True)
    service = models.CharField(_("métier"), max_length=16, choices=Service.choices)
    caliber = models.CharField(
        _("calibre"), max_length=20, help_text=_("Eau : diamètre (15 mm) ; électricité : ampérage (10 A).")
    )
    brand = models.CharField(_("marque"), max_length=40, blank=True)
    installed_date = models.DateField(_("date de pose"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("compteur")
        verbose_name_plural = _("compteurs")
        constraints = [
            models.CheckConstraint(condition=Q(service__in=["EAU", "ELECTRICITE"]), name="meter_service_valid"),
            # what validators.meter_caliber_normalize stores: a water diameter the utility installs,
            # an electricity amperage (and its phases) or a subscribed power in kVA
            models.CheckConstraint(
                condition=Q(service="EAU", caliber__regex=WATER_CALIBER_REGEX)
                | Q(service="ELECTRICITE", caliber__regex=ELECTRICITY_CALIBER_REGEX),
                name="meter_caliber_valid",
                violation_error_message=_("Calibre du compteur invalide pour ce métier."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_service_display()})"

    def save(self, *args, **kwargs) -> None:
        """Every path that writes a meter (back office, « Enregistrer la pose », imports) stores the
        normalised caliber; an invalid one raises ``InvalidCaliber`` with its French message (the
        database constraint ``meter_caliber_valid`` stays the last guard for bulk writes)."""
        if self.service in (Service.EAU, Service.ELECTRICITE):
            self.caliber = meter_caliber_normalize(service=self.service, raw=self.caliber)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """The caliber as typed, normalised (« 20 » -> « 20 mm »), or the French reason it is refused."""
        super().clean()
        if self.service in (Service.EAU, Service.ELECTRICITE):
            try:
                self.caliber = meter_caliber_normalize(service=self.service, raw=self.caliber)
            except InvalidCaliber as exc:
                raise ValidationError({"caliber": exc.message}) from exc


class Dossier(models.Model):
    """A subscription (contrat d'abonnement) of a customer for one service at one premises."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("Actif")
        SUSPENDED = "SUSPENDED", _("Suspendu")
        TERMINATED = "TERMINATED", _("Résilié")

    class TariffCategory(models.TextChoices):
        DOMESTIQUE = "DOMESTIQUE", _("Domestique")
        PROFESSIONNEL = "PROFESSIONNEL", _("Professionnel / commercial")
        INDUSTRIEL = "INDUSTRIEL", _("Industriel")
        ADMINISTRATION = "ADMINISTRATION", _("Administration")
        BORNE_FONTAINE = "BORNE_FONTAINE", _("Borne-fontaine")
        # « tarification des compteurs collectifs »: families sharing a collective water and
        # electricity meter (old medina, unstructured districts), granted on request (issue 10)
        COLLECTIF = "COLLECTIF", _("Compteur collectif")

    class BillingMode(models.TextChoices):
        NORMAL = "NORMAL", _("Normal")
        ADVANCE = "ADVANCE", _("Avance (carte congé)")
        DIRECT_DEBIT = "DIRECT_DEBIT", _("Prélèvement bancaire")

    number = models.CharField(_("n° dossier"), max_length=16, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("client"), on_delete=models.PROTECT, related_name="dossiers")
    service = models.CharField(_("métier"), max_length=16, choices=Service.choices)
    status = models.CharField(_("statut"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    tariff_category = models.CharField(
        _("catégorie tarifaire"), max_length=16, choices=TariffCategory.choices, default=TariffCategory.DOMESTIQUE
    )
    billing_mode = models.CharField(
        _("mode de facturation"), max_length=14, choices=BillingMode.choices, default=BillingMode.NORMAL
    )
    deposit_amount = models.DecimalField(
        _("dépôt de garantie (DH)"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    start_date = models.DateField(_("date de début"))
    end_date = models.DateField(_("date de fin"), null=True, blank=True)
    premises = models.ForeignKey(Premises, verbose_name=_("local"), on_delete=models.PROTECT, related_name="dossiers")
    meter = models.ForeignKey(
        Meter, verbose_name=_("compteur"), null=True, blank=True, on_delete=models.PROTECT, related_name="dossiers"
    )

    history = HistoricalRecords()
    # set on an instance before save(), read by django-simple-history (its history row's author, date, reason)
    _history_user: Any
    _history_date: datetime
    _change_reason: str

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["ACTIVE", "SUSPENDED", "TERMINATED"]), name="dossier_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(service__in=["EAU", "ELECTRICITE", "ASSAINISSEMENT"]), name="dossier_service_valid"
            ),
            models.CheckConstraint(
                condition=Q(billing_mode__in=["NORMAL", "ADVANCE", "DIRECT_DEBIT"]), name="dossier_billing_mode_valid"
            ),
            models.CheckConstraint(condition=Q(deposit_amount__gte=0), name="dossier_deposit_positive"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="dossier_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["customer", "service"], name="dossier_customer_service")]
        permissions = [
            # the service (métier) of a dossier decides what it is billed: facturation and superviseur only
            ("change_dossier_service", _("Peut modifier le métier d'un dossier")),
        ]

    def __str__(self) -> str:
        return f"{self.number} — {self.get_service_display()}"


class PortalAccount(models.Model):
    """The online-agency account of a customer (or prospect): links a User to a Customer."""

    class Origin(models.TextChoices):
        KNOWN_PHONE = "KNOWN_PHONE", _("Client, téléphone connu")
        NEW_PHONE = "NEW_PHONE", _("Client, nouveau téléphone vérifié par OTP")
        PROSPECT = "PROSPECT", _("Prospect")
        PASSWORD_RESET = "PASSWORD_RESET", _("Mot de passe oublié")
        STAFF = "STAFF", _("Créé par le personnel")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("utilisateur"), on_delete=models.CASCADE, related_name="portal_account"
    )
    customer = models.OneToOneField(
        Customer, verbose_name=_("client"), on_delete=models.CASCADE, related_name="portal_account"
    )
    origin = models.CharField(_("origine"), max_length=16, choices=Origin.choices)
    terms_accepted_at = models.DateTimeField(_("conditions acceptées le"), null=True, blank=True)
    data_processing_accepted_at = models.DateTimeField(_("accord loi 09-08 le"), null=True, blank=True)
    pending_password = models.CharField(
        _("mot de passe envoyé, pas encore utilisé"),
        max_length=128,
        blank=True,
        editable=False,
        help_text=_(
            "Empreinte du mot de passe envoyé par « Mot de passe oublié » : l'ancien reste valable "
            "jusqu'à la première connexion avec celui-ci."
        ),
    )
    pending_password_at = models.DateTimeField(_("mot de passe envoyé le"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("compte portail")
        verbose_name_plural = _("comptes portail")

    def __str__(self) -> str:
        return f"{self.customer.code}"


class ChangeRequest(models.Model):
    """A customer's request to change CIN/ICE or name, handled by staff."""

    class Field(models.TextChoices):
        IDENTITY = "IDENTITY", _("CIN / ICE")
        NAME = "NAME", _("Nom")

    class Status(models.TextChoices):
        PENDING = "PENDING", _("En attente")
        ACCEPTED = "ACCEPTED", _("Acceptée")
        REJECTED = "REJECTED", _("Refusée")

    customer = models.ForeignKey(
        Customer, verbose_name=_("client"), on_delete=models.CASCADE, related_name="change_requests"
    )
    field = models.CharField(_("information"), max_length=10, choices=Field.choices)
    current_value = models.CharField(_("valeur actuelle"), max_length=200)
    requested_value = models.CharField(_("valeur demandée"), max_length=200)
    reason = models.TextField(_("motif"), blank=True)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PENDING)
    staff_note = models.TextField(_("réponse du personnel"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("traitée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("demandée le"), auto_now_add=True)
    handled_at = models.DateTimeField(_("traitée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("demande de modification")
        verbose_name_plural = _("demandes de modification")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["PENDING", "ACCEPTED", "REJECTED"]), name="changerequest_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="changerequest_queue")]

    def __str__(self) -> str:
        return f"{self.customer.code} — {self.get_field_display()}"


class ContactMessage(models.Model):
    """A message sent through the home page's « Contactez-nous » form (or « Contacter la RAK »)."""

    class Status(models.TextChoices):
        NEW = "NEW", _("Nouveau")
        HANDLED = "HANDLED", _("Traité")

    name = models.CharField(_("nom"), max_length=120)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    subject = models.CharField(_("objet"), max_length=160)
    body = models.TextField(_("message"), max_length=4000)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_messages",
    )
    status = models.CharField(_("statut"), max_length=8, choices=Status.choices, default=Status.NEW)
    staff_note = models.TextField(_("suite donnée"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("traité par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("reçu le"), auto_now_add=True)
    handled_at = models.DateTimeField(_("traité le"), null=True, blank=True)

    class Meta:
        verbose_name = _("message « Contactez-nous »")
        verbose_name_plural = _("messages « Contactez-nous »")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="contactmessage_queue")]

    def __str__(self) -> str:
        return f"{self.name}: {self.subject}"


from rak_customer.device_models import Device  # noqa: E402, F401  (the mobile API's devices: rak_customer.devices)
from rak_customer.link_models import CustomerLink  # noqa: E402, F401  (several codes clients: rak_customer.links)
