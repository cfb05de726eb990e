"""Issue 10 — résiliation: this addon's schema changes for that work (a fixed place in the
chain so that parallel work does not fork the migration graph; empty when nothing was needed)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("rak_customer", "0008_direct_debit")]

    operations = []
