# Issue 11, outage and works notices (H5): the reason given when a notice is cancelled.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("rak_requests", "0017_interventions")]

    operations = [
        migrations.AddField(
            model_name="historicaloutagenotice",
            name="cancel_reason",
            field=models.CharField(blank=True, max_length=255, verbose_name="motif de l'annulation"),
        ),
        migrations.AddField(
            model_name="outagenotice",
            name="cancel_reason",
            field=models.CharField(blank=True, max_length=255, verbose_name="motif de l'annulation"),
        ),
    ]
