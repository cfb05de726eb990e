# Issue 11, the helpdesk's search box (rak_requests.admin_complaints.ComplaintAdmin.get_search_results):
# the beginning of the complainant's name (name__istartswith → UPPER(name::text) LIKE 'X%') and the
# code client typed on the public form. Expression indexes: raw SQL (the model's Meta is the core's).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("rak_requests", "0015_complaints_portal")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS complaint_name_prefix "
            "ON rak_requests_complaint (UPPER((name)::text) text_pattern_ops)",
            reverse_sql="DROP INDEX IF EXISTS complaint_name_prefix",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS complaint_code_given ON rak_requests_complaint (customer_code_given)",
            reverse_sql="DROP INDEX IF EXISTS complaint_code_given",
        ),
    ]
