# Issue 11: « Modèles de messages » (rak_base.message_templates), staff-editable wording of SMS, e-mails and
# notifications, with its history.

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rak_base", "0006_message_event"),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalMessageTemplate",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                ("code", models.CharField(max_length=80, verbose_name="code")),
                (
                    "channel",
                    models.CharField(
                        choices=[("SMS", "SMS"), ("EMAIL", "E-mail"), ("BELL", "Notification")],
                        max_length=8,
                        verbose_name="canal",
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[("fr", "Français"), ("ar", "Arabe"), ("en", "Anglais")],
                        default="fr",
                        max_length=5,
                        verbose_name="langue",
                    ),
                ),
                (
                    "subject",
                    models.CharField(
                        blank=True,
                        help_text="Objet de l'e-mail ou titre de la notification.",
                        max_length=200,
                        verbose_name="objet",
                    ),
                ),
                ("body", models.TextField(verbose_name="texte")),
                (
                    "customized",
                    models.BooleanField(
                        default=False,
                        help_text="Faux : c'est le texte par défaut du logiciel qui est envoyé.",
                        verbose_name="modifié par le personnel",
                    ),
                ),
                ("updated_at", models.DateTimeField(blank=True, null=True, verbose_name="modifié le")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="modifié par",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical modèle de message",
                "verbose_name_plural": "historical modèles de messages",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="MessageTemplate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=80, verbose_name="code")),
                (
                    "channel",
                    models.CharField(
                        choices=[("SMS", "SMS"), ("EMAIL", "E-mail"), ("BELL", "Notification")],
                        max_length=8,
                        verbose_name="canal",
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[("fr", "Français"), ("ar", "Arabe"), ("en", "Anglais")],
                        default="fr",
                        max_length=5,
                        verbose_name="langue",
                    ),
                ),
                (
                    "subject",
                    models.CharField(
                        blank=True,
                        help_text="Objet de l'e-mail ou titre de la notification.",
                        max_length=200,
                        verbose_name="objet",
                    ),
                ),
                ("body", models.TextField(verbose_name="texte")),
                (
                    "customized",
                    models.BooleanField(
                        default=False,
                        help_text="Faux : c'est le texte par défaut du logiciel qui est envoyé.",
                        verbose_name="modifié par le personnel",
                    ),
                ),
                ("updated_at", models.DateTimeField(blank=True, null=True, verbose_name="modifié le")),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="modifié par",
                    ),
                ),
            ],
            options={
                "verbose_name": "modèle de message",
                "verbose_name_plural": "modèles de messages",
                "ordering": ["code", "channel", "language"],
                "constraints": [
                    models.UniqueConstraint(fields=("code", "channel", "language"), name="messagetemplate_unique"),
                    models.CheckConstraint(
                        condition=models.Q(("channel__in", ["SMS", "EMAIL", "BELL"])), name="messagetemplate_channel"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("language__in", ["fr", "ar", "en"])), name="messagetemplate_language"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("body", ""), _negated=True), name="messagetemplate_body_required"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("channel", "SMS"), _negated=True), ("subject", ""), _connector="OR"
                        ),
                        name="messagetemplate_sms_has_no_subject",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("channel", "EMAIL"), _negated=True),
                            models.Q(("subject", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="messagetemplate_email_has_subject",
                    ),
                ],
            },
        ),
    ]
