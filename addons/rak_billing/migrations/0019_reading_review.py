# Issue 11: a reading sent to verification by staff (« Envoyer le relevé en vérification » on a
# complaint): who asked, when and why; pending while review_requested_at is set.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rak_billing", "0018_provisions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalmeterreading",
            name="review_request_note",
            field=models.TextField(blank=True, db_default="", verbose_name="motif de la demande de vérification"),
        ),
        migrations.AddField(
            model_name="historicalmeterreading",
            name="review_requested_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="vérification demandée le"),
        ),
        migrations.AddField(
            model_name="historicalmeterreading",
            name="review_requested_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="vérification demandée par",
            ),
        ),
        migrations.AddField(
            model_name="meterreading",
            name="review_request_note",
            field=models.TextField(blank=True, db_default="", verbose_name="motif de la demande de vérification"),
        ),
        migrations.AddField(
            model_name="meterreading",
            name="review_requested_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="vérification demandée le"),
        ),
        migrations.AddField(
            model_name="meterreading",
            name="review_requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="vérification demandée par",
            ),
        ),
        migrations.AddIndex(
            model_name="meterreading",
            index=models.Index(
                condition=models.Q(("review_requested_at__isnull", False)),
                fields=["review_requested_at"],
                name="reading_review_requested",
            ),
        ),
    ]
