# Placeholder of issue 11 (pre-created so that parallel work chains without forks); filled by its owner.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("rak_customer", "0010_collective_meter")]

    operations = []
