from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, cast

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rak_base.notification_kinds import Category
from rak_base.notification_kinds import Channel as NotificationChannel


class RakUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.STAFF)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """Staff and customers are both users, told apart by ``role``.

    A customer's username is their code client; their contact details live on the customer
    record (rak_customer) and are copied here only for what Django needs (e-mail)."""

    class Role(models.TextChoices):
        STAFF = "STAFF", _("Personnel")
        CUSTOMER = "CUSTOMER", _("Client")

    role = models.CharField(_("rôle"), max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    must_change_password = models.BooleanField(
        _("doit changer son mot de passe"),
        default=False,
        help_text=_("Vrai après un mot de passe généré : il doit être changé à la prochaine connexion."),
    )
    password_changed_at = models.DateTimeField(_("mot de passe changé le"), null=True, blank=True)

    objects: ClassVar[RakUserManager] = RakUserManager()

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        constraints = [
            models.CheckConstraint(condition=Q(role__in=["STAFF", "CUSTOMER"]), name="user_role_valid"),
            models.CheckConstraint(
                condition=Q(role="STAFF") | Q(is_staff=False, is_superuser=False),
                name="user_customer_never_staff",
                violation_error_message=_("Un compte client ne peut pas avoir accès au back office."),
            ),
        ]

    @property
    def is_customer(self) -> bool:
        return self.role == self.Role.CUSTOMER


class MessageQuerySet(models.QuerySet):
    def for_user(self, user) -> MessageQuerySet:
        """What the customer sees (the bell, the dashboard): never a copy held back by their
        preferences (SKIPPED: a record for staff only)."""
        return self.filter(user=user).exclude(status=Message.Status.SKIPPED)

    def unread(self) -> MessageQuerySet:
        return self.filter(read_at__isnull=True)

    def due(self, now) -> MessageQuerySet:
        return self.filter(status=Message.Status.QUEUED, next_attempt_at__lte=now)

    def bell_lines(self) -> MessageQuerySet:
        """One row per notice: a message without an event key, or the copy that stands for its event
        — the bell notification if there is one, else the e-mail, else the push, else the SMS (the
        channel names sort that way: BELL < EMAIL < PUSH < SMS), the first written on a tie; copies
        held back by the customer's preferences (SKIPPED) never stand for an event."""
        better_copy = (
            Message.objects.filter(user=OuterRef("user"), event=OuterRef("event"))
            .exclude(status=Message.Status.SKIPPED)
            .filter(Q(channel__lt=OuterRef("channel")) | Q(channel=OuterRef("channel"), pk__lt=OuterRef("pk")))
        )
        return self.filter(Q(event="") | ~Exists(better_copy))

    def unread_events_count(self) -> int:
        """Unread notices, the copies of one event counted once."""
        key = Coalesce(NullIf("event", Value("")), Cast("id", output_field=models.CharField()))
        return self.unread().aggregate(n=Count(key, distinct=True))["n"]


class Message(models.Model):
    """The outbox: every SMS, e-mail, bell and push notification, written in the transaction of the
    change that causes it and delivered after commit by the worker. A copy the customer turned off
    (``NotificationPreference``) is written SKIPPED, with no task: staff see what was not sent and
    why, the customer does not see it in the bell."""

    class Channel(models.TextChoices):
        SMS = "SMS", _("SMS")
        EMAIL = "EMAIL", _("E-mail")
        BELL = "BELL", _("Notification")
        PUSH = "PUSH", _("Push")

    class Status(models.TextChoices):
        QUEUED = "QUEUED", _("En attente")
        SENT = "SENT", _("Envoyé")
        FAILED = "FAILED", _("Échec")
        SKIPPED = "SKIPPED", _("Non envoyé (préférence du client)")

    REDACTED = "[contenu confidentiel masqué après envoi]"  # i18n: not for customers

    channel = models.CharField(_("canal"), max_length=8, choices=Channel.choices)
    user = models.ForeignKey(
        "rak_base.User",
        verbose_name=_("destinataire (compte)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    recipient = models.CharField(_("destinataire"), max_length=254, blank=True)
    kind = models.CharField(_("type"), max_length=40, default="info")
    event = models.CharField(
        _("événement"),
        max_length=32,
        blank=True,
        help_text=_("Les copies d'un même avis (SMS, e-mail, notification) partagent cette clé."),
    )
    subject = models.CharField(_("objet"), max_length=200, blank=True)
    body = models.TextField(_("contenu"))
    sensitive = models.BooleanField(
        _("confidentiel"),
        default=False,
        help_text=_("Code ou mot de passe : le contenu est masqué une fois le message envoyé."),
    )
    status = models.CharField(_("statut"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    provider_id = models.CharField(_("identifiant opérateur"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    read_at = models.DateTimeField(_("lu le"), null=True, blank=True)
    # what an SMS costs, counted when it is queued (rak_base.sms_length): Arabic is UCS-2, 70 characters
    # in one SMS and 67 per part, against 160 / 153 in GSM-7; kept after a code's body is masked
    sms_encoding = models.CharField(
        _("encodage SMS"), max_length=5, blank=True, default="", db_default="", help_text=_("GSM-7 ou UCS-2.")
    )
    sms_segments = models.PositiveSmallIntegerField(
        _("segments SMS"), default=0, db_default=0, help_text=_("Nombre de SMS facturés par l'opérateur.")
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("boîte d'envoi")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="message_user_recent"),
            models.Index(
                fields=["next_attempt_at"],
                name="message_queued_due",
                condition=Q(status="QUEUED"),
            ),
            models.Index(fields=["recipient", "-created_at"], name="message_recipient_recent"),
            # the outbox's « segments SMS par jour et par type » (cost of Arabic SMS): SMS rows only
            models.Index(fields=["created_at"], name="message_sms_created", condition=Q(channel="SMS")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["QUEUED", "SENT", "FAILED", "SKIPPED"]), name="message_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["SMS", "EMAIL", "BELL", "PUSH"]), name="message_channel_valid"
            ),
            # one push copy per notice and account (rak_base.outbox: the copies of an event share it)
            models.UniqueConstraint(
                fields=["user", "event"],
                condition=Q(channel="PUSH") & ~Q(event=""),
                name="message_one_push_per_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient or self.user_id}: {self.subject or self.body[:40]}"


class MessageAttachment(models.Model):
    """A file sent with an e-mail of the outbox (the monthly report's XLSX and PDF...). The bytes are
    kept in the database, written in the same transaction as their message (a rolled-back change
    leaves no orphan file, a retry sends them again), and deleted with it; a confidential message's
    attachments are deleted once it is sent, as its body is masked."""

    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments"
    )
    name = models.CharField(_("nom du fichier"), max_length=200)
    content_type = models.CharField(_("type de contenu"), max_length=120)
    content = models.BinaryField(_("contenu"))
    size = models.PositiveIntegerField(_("taille (octets)"))

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["message", "id"]
        constraints = [
            # 20 Mo: well under what mail servers accept once encoded (base64 adds a third)
            models.CheckConstraint(condition=Q(size__lte=20 * 1024 * 1024), name="messageattachment_size_cap"),
        ]

    def __str__(self) -> str:
        return self.name


class NotificationPreference(models.Model):
    """One choice of a customer (« Mes notifications »): a category of messages
    (``rak_base.notification_kinds``) on one channel, on or off. No row: on. The categories
    « toujours envoyé » have no rows (the services refuse them)."""

    Channel = NotificationChannel

    user = models.ForeignKey(
        "rak_base.User",
        verbose_name=_("compte"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    category = models.CharField(_("catégorie"), max_length=16, choices=Category.choices)
    channel = models.CharField(_("canal"), max_length=8, choices=Channel.choices)
    enabled = models.BooleanField(_("activé"), default=True)
    updated_at = models.DateTimeField(_("modifié le"))

    class Meta:
        verbose_name = _("préférence de notification")
        verbose_name_plural = _("préférences de notification")
        ordering = ["user", "category", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["user", "category", "channel"], name="notificationpreference_unique"),
            models.CheckConstraint(
                condition=Q(channel__in=["SMS", "EMAIL", "PUSH", "BELL"]), name="notificationpreference_channel"
            ),
        ]

    def __str__(self) -> str:
        state = _("activé") if self.enabled else _("désactivé")
        return f"{self.get_category_display()} × {self.get_channel_display()} : {state}"


class PushSubscription(models.Model):
    """A browser's Web Push subscription (``PushManager.subscribe``): where to post (``endpoint``,
    the browser vendor's push service) and the keys that encrypt for it (RFC 8291). Removed when
    the push service answers 404/410 (the browser dropped it) or the customer unsubscribes."""

    user = models.ForeignKey(
        "rak_base.User", verbose_name=_("compte"), on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(_("adresse du service push"), max_length=1000, unique=True)
    p256dh = models.CharField(_("clé publique (p256dh)"), max_length=100)
    auth = models.CharField(_("secret d'authentification"), max_length=40)
    user_agent = models.CharField(_("navigateur"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("abonné le"))
    last_success_at = models.DateTimeField(_("dernier envoi réussi"), null=True, blank=True)
    failures = models.PositiveSmallIntegerField(_("échecs consécutifs"), default=0)

    class Meta:
        verbose_name = _("abonnement push")
        verbose_name_plural = _("abonnements push")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} — {self.user_agent[:60] or self.endpoint[:60]}"


class OneTimeCode(models.Model):
    """A 6-digit code sent by SMS, stored as an HMAC, bound to a purpose and a phone."""

    class Purpose(models.TextChoices):
        ACCOUNT_CREATE = "ACCOUNT_CREATE", _("Création de compte")
        PHONE_CHANGE = "PHONE_CHANGE", _("Changement de téléphone")
        PHONE_CONFIRM = "PHONE_CONFIRM", _("Confirmation du téléphone")
        REQUEST = "REQUEST", _("Validation d'une demande")
        CUSTOMER_LINK = "CUSTOMER_LINK", _("Rattachement d'un code client")

    purpose = models.CharField(_("objet"), max_length=20, choices=Purpose.choices)
    phone = models.CharField(_("téléphone"), max_length=20)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("envoyé le"))
    expires_at = models.DateTimeField(_("expire le"))
    failed_attempts = models.PositiveSmallIntegerField(_("essais erronés"), default=0)
    used_at = models.DateTimeField(_("utilisé le"), null=True, blank=True)
    superseded = models.BooleanField(_("remplacé par un nouveau code"), default=False)

    class Meta:
        verbose_name = _("code OTP")
        verbose_name_plural = _("codes OTP")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["phone", "purpose", "-created_at"], name="otp_phone_purpose_recent")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} — {self.phone}"


class Sequence(models.Model):
    """Named counters (code client, bill numbers per year...). ``sequence_next`` takes a row
    lock, so numbers are unique and, inside a committed transaction, gap-free."""

    name = models.CharField(_("nom"), max_length=60, unique=True)
    next_value = models.BigIntegerField(_("prochaine valeur"), default=1)

    class Meta:
        verbose_name = _("séquence")
        verbose_name_plural = _("séquences")

    def __str__(self) -> str:
        return f"{self.name}: {self.next_value}"


class Document(models.Model):
    """Every document the agency generates (bill, receipt, attestation, contract...): its
    reference code (printed with a QR code) and SHA-256, so the public verification page can
    say whether a presented document is authentic."""

    class Kind(models.TextChoices):
        BILL = "BILL", _("Facture")
        RECEIPT = "RECEIPT", _("Reçu de paiement")
        ATTESTATION = "ATTESTATION", _("Attestation")
        CONTRACT = "CONTRACT", _("Contrat")
        REQUEST_RECEIPT = "REQUEST_RECEIPT", _("Récépissé de demande")
        QUOTE = "QUOTE", _("Devis")
        OTHER = "OTHER", _("Autre")

    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    reference = models.CharField(_("code de référence"), max_length=16, unique=True)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, db_index=True)
    title = models.CharField(_("intitulé"), max_length=200)
    owner = models.ForeignKey(
        "rak_base.User",
        verbose_name=_("propriétaire"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
    )
    owner_label = models.CharField(
        _("titulaire"), max_length=200, blank=True, help_text=_("Nom affiché à la vérification.")
    )
    subject_type = models.CharField(_("objet"), max_length=60, blank=True)
    subject_id = models.CharField(_("identifiant de l'objet"), max_length=40, blank=True)
    file = models.FileField(_("fichier"), upload_to="documents/%Y/%m/")
    size = models.PositiveIntegerField(_("taille"), default=0)
    created_at = models.DateTimeField(_("émis le"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("annulé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("document émis")
        verbose_name_plural = _("documents émis")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="document_subject")]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"


class ThrottleHit(models.Model):
    """One counted attempt (e.g. a document verification) for a throttling key such as
    ``verify:ip:203.0.113.7``; ``rak_base.throttle`` counts the recent ones. Shared by every web
    process, unlike a per-process cache."""

    key = models.CharField(_("clé"), max_length=120)
    created_at = models.DateTimeField(_("le"))

    class Meta:
        verbose_name = _("tentative comptée")
        verbose_name_plural = _("tentatives comptées")
        indexes = [models.Index(fields=["key", "created_at"], name="throttle_key_recent")]

    def __str__(self) -> str:
        return f"{self.key} {self.created_at:%d/%m/%Y %H:%M}"


class ScheduledJob(models.Model):
    """One periodic job of the scheduler (``rak_base.scheduler``): the code registers the job and
    its interval, this row records when it runs and how it went. A worker claims a due row under
    ``SELECT … FOR UPDATE SKIP LOCKED`` and moves ``next_run_at`` on before running it, so several
    workers never run the same job twice; ``lease_until`` keeps a second worker off a job that is
    still running."""

    class Outcome(models.TextChoices):
        OK = "OK", _("Réussie")
        ITEM_ERRORS = "ITEM_ERRORS", _("Réussie avec des erreurs")
        FAILED = "FAILED", _("Échec")

    name = models.CharField(_("identifiant"), max_length=80, unique=True)
    label = models.CharField(_("tâche"), max_length=200)
    interval = models.DurationField(_("intervalle"))
    enabled = models.BooleanField(_("active"), default=True)
    next_run_at = models.DateTimeField(_("prochaine exécution"))
    last_started_at = models.DateTimeField(_("dernier début"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("dernière fin"), null=True, blank=True)
    last_duration = models.DurationField(_("durée"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("dernier succès"), null=True, blank=True)
    last_outcome = models.CharField(_("résultat"), max_length=12, choices=Outcome.choices, blank=True)
    last_result = models.CharField(_("compte rendu"), max_length=255, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    running_since = models.DateTimeField(_("en cours depuis"), null=True, blank=True)
    running_on = models.CharField(_("exécutée par"), max_length=120, blank=True)
    lease_until = models.DateTimeField(_("réservée jusqu'au"), null=True, blank=True)
    late_alerted_at = models.DateTimeField(_("retard signalé le"), null=True, blank=True)
    enabled_changed_at = models.DateTimeField(_("activation modifiée le"), null=True, blank=True)
    enabled_changed_by = models.ForeignKey(
        "rak_base.User",
        verbose_name=_("activation modifiée par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("tâche planifiée")
        verbose_name_plural = _("tâches planifiées")
        ordering = ["label"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_outcome__in=["", "OK", "ITEM_ERRORS", "FAILED"]), name="scheduledjob_outcome_valid"
            ),
            models.CheckConstraint(condition=Q(interval__gt=timedelta(0)), name="scheduledjob_interval_positive"),
        ]

    def __str__(self) -> str:
        return self.label


class WorkerHeartbeat(models.Model):
    """One row per background process (``manage.py rak_worker``), written every few seconds by the
    process itself (``rak_base.heartbeat``): the readiness check (/health/ready) and the back
    office's « Workers » list tell a live worker from a dead one by ``beat_at``. A graceful stop
    sets ``stopped_at``; rows not heard from for a day are deleted by the next beating process."""

    class Role(models.TextChoices):
        WORKER = "WORKER", _("Worker (tâches de fond)")
        SCHEDULER = "SCHEDULER", _("Planificateur")
        BOTH = "BOTH", _("Worker et planificateur")

    name = models.CharField(_("processus"), max_length=160, unique=True)
    host = models.CharField(_("machine"), max_length=120)
    pid = models.PositiveIntegerField(_("PID"))
    role = models.CharField(_("rôle"), max_length=10, choices=Role.choices)
    started_at = models.DateTimeField(_("démarré le"))
    beat_at = models.DateTimeField(_("dernier signe de vie"))
    stopped_at = models.DateTimeField(_("arrêté le"), null=True, blank=True)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
        ordering = ["-beat_at"]
        indexes = [
            # /health/ready: the latest beat of a live process of each role (a few rows, one scan)
            models.Index(fields=["role", "-beat_at"], name="heartbeat_role_recent", condition=Q(stopped_at=None)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=["WORKER", "SCHEDULER", "BOTH"]), name="heartbeat_role_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class MessageTemplate(models.Model):
    """The wording of one message (``code``, e.g. ``complaint.filed``) on one channel in one language,
    as staff edited it in the back office. The codes, their placeholders and their default wording
    are registered in code (``rak_base.message_templates``); a row exists for every registered code
    in French (``message_templates_sync``, after each migrate and when the list is opened) and is
    used only once staff changed it (``customized``): until then the code's default is sent, so a
    default improved in code reaches customers without anyone editing anything."""

    class Language(models.TextChoices):
        FR = "fr", _("Français")
        AR = "ar", _("Arabe")
        EN = "en", _("Anglais")

    code = models.CharField(_("code"), max_length=80)
    channel = models.CharField(_("canal"), max_length=8, choices=Message.Channel.choices)
    language = models.CharField(_("langue"), max_length=5, choices=Language.choices, default=Language.FR)
    subject = models.CharField(
        _("objet"), max_length=200, blank=True, help_text=_("Objet de l'e-mail ou titre de la notification.")
    )
    body = models.TextField(_("texte"))
    customized = models.BooleanField(
        _("modifié par le personnel"),
        default=False,
        help_text=_("Faux : c'est le texte par défaut du logiciel qui est envoyé."),
    )
    updated_at = models.DateTimeField(_("modifié le"), null=True, blank=True)
    updated_by = models.ForeignKey(
        "rak_base.User",
        verbose_name=_("modifié par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords()
    # set on an instance before save(), read by django-simple-history (its history row's reason)
    _change_reason: str

    class Meta:
        verbose_name = _("modèle de message")
        verbose_name_plural = _("modèles de messages")
        ordering = ["code", "channel", "language"]
        constraints = [
            models.UniqueConstraint(fields=["code", "channel", "language"], name="messagetemplate_unique"),
            models.CheckConstraint(condition=Q(channel__in=["SMS", "EMAIL", "BELL"]), name="messagetemplate_channel"),
            models.CheckConstraint(condition=Q(language__in=["fr", "ar", "en"]), name="messagetemplate_language"),
            models.CheckConstraint(condition=~Q(body=""), name="messagetemplate_body_required"),
            models.CheckConstraint(
                condition=~Q(channel="SMS") | Q(subject=""), name="messagetemplate_sms_has_no_subject"
            ),
            models.CheckConstraint(
                condition=~Q(channel="EMAIL") | ~Q(subject=""), name="messagetemplate_email_has_subject"
            ),
        ]

    def __str__(self) -> str:
        from rak_base.message_templates import message_templates_registered

        spec = message_templates_registered().get(self.code)
        return f"{spec.label if spec else self.code} — {self.get_channel_display()} ({self.language})"

    def clean(self) -> None:
        """The wording's placeholders, required variables and SMS length (rak_base.message_templates)."""
        from django.core.exceptions import ValidationError

        from rak_base.message_templates import MessageTemplateInvalid, MessageTemplateUnknown, message_template_validate

        try:
            message_template_validate(code=self.code, channel=self.channel, subject=self.subject, body=self.body)
        except MessageTemplateUnknown as exc:
            raise ValidationError(exc.message) from exc
        except MessageTemplateInvalid as exc:
            errors: dict[str, list[str]] = {}
            problems = cast(list[tuple[str, str]], exc.params.get("problems", [("body", exc.message)]))
            for field, message in problems:
                errors.setdefault(field, []).append(message)
            raise ValidationError(errors) from exc
