"""Issue 10 — remboursement: this addon's schema changes for that work (a fixed place in the
chain so that parallel work does not fork the migration graph; empty when nothing was needed)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("rak_billing", "0014_vat_rate_online_fee")]

    operations = []
