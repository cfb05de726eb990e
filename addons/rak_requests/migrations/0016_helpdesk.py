# Placeholder of issue 11 (pre-created so that parallel work chains without forks); filled by its owner.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("rak_requests", "0015_complaints_portal")]

    operations = []
