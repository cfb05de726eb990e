# Issue 12: what each SMS costs, stored when it is queued (rak_base.outbox, rak_base.sms_length): its
# encoding (GSM-7 or UCS-2: Arabic) and its number of segments, shown in the back-office outbox. Database
# defaults, so that rows written by COPY or raw INSERT without these columns still load. Existing SMS
# rows are counted from their body (a code's body masked after sending counts as the mask). A partial
# index on the SMS rows' creation date serves the outbox's segments per day.
from django.db import migrations, models


def count_existing(apps, schema_editor):
    from rak_base.sms_length import sms_length

    Message = apps.get_model("rak_base", "Message")
    batch = []
    for message in Message.objects.filter(channel="SMS").only("pk", "body").iterator(chunk_size=2000):
        length = sms_length(message.body)
        message.sms_encoding, message.sms_segments = length.encoding, length.segments
        batch.append(message)
        if len(batch) >= 2000:
            Message.objects.bulk_update(batch, ["sms_encoding", "sms_segments"])
            batch = []
    if batch:
        Message.objects.bulk_update(batch, ["sms_encoding", "sms_segments"])


class Migration(migrations.Migration):
    dependencies = [("rak_base", "0007_message_templates")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="sms_encoding",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="GSM-7 ou UCS-2.",
                max_length=5,
                verbose_name="encodage SMS",
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="sms_segments",
            field=models.PositiveSmallIntegerField(
                db_default=0,
                default=0,
                help_text="Nombre de SMS facturés par l'opérateur.",
                verbose_name="segments SMS",
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("channel", "SMS")), fields=["created_at"], name="message_sms_created"
            ),
        ),
        migrations.RunPython(count_existing, migrations.RunPython.noop),
    ]
