# Placeholder of issue 11 (pre-created so that parallel work chains without forks); filled by its owner.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("rak_billing", "0018_provisions")]

    operations = []
